//! The shared vocabulary of the domain: who acts ([`actor`]), how a refusal is said ([`error`], with its code from [`error_code`]),
//! validated values ([`phone`], [`password`], [`text`]), who reads a phone in full
//! ([`phone_privacy`]), local days ([`calendar`]), creates a
//! phone may repeat ([`create`]) and photos kept as evidence ([`evidence`]). Imports nothing from
//! the rest of the domain but [`super::kinds`].

pub mod actor;
pub mod calendar;
pub mod create;
pub mod error;
pub mod error_code;
pub mod evidence;
pub mod password;
pub mod phone;
pub mod phone_privacy;
pub mod text;
