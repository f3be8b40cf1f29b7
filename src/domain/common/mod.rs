//! The shared vocabulary of the domain: who acts ([`actor`]), how a refusal is said ([`error`]),
//! validated values ([`phone`], [`password`], [`text`]) and local days ([`calendar`]). Imports
//! nothing from the capability folders.

pub mod actor;
pub mod calendar;
pub mod error;
pub mod password;
pub mod phone;
pub mod text;
