//! Outreach: the backend for bank account managers' field outreach.
//!
//! Layers, each calling only the one below: [`http`] → [`domain`] → [`store`];
//! [`auth`] serves `http`, and [`geo`] is a pure library.

pub mod auth;
pub mod backup;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod demo;
pub mod demo_events;
pub mod demo_partners;
pub mod demo_projects;
pub mod demo_sharing;
pub mod demo_visits;
pub mod domain;
pub mod geo;
pub mod http;
pub mod media;
pub mod seed;
pub mod startup;
pub mod store;
pub mod tables;
pub mod telemetry;
pub mod workers;
