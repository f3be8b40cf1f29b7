//! Outreach: the backend for bank account managers' field outreach.
//!
//! Layers, each calling only the ones below (docs/ARCHITECTURE.md has the whole rule):
//! [`app`] → [`http`] → [`domain`] → [`store`]; [`context`] holds what the server and the commands
//! share, [`auth`] serves `http`, and [`geo`], [`media`], [`export`] and [`workers`] are libraries
//! that know nothing of the rest.

pub mod app;
pub mod auth;
pub mod backup;
pub mod context;
pub mod domain;
pub mod export;
pub mod fixtures;
pub mod geo;
pub mod http;
pub mod media;
pub mod store;
pub mod workers;
