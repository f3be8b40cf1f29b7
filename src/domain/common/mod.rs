//! The shared vocabulary of the domain: who acts ([`actor`]), how a refusal is said ([`error`]),
//! validated values ([`phone`], [`password`], [`text`]), local days ([`calendar`]), creates a
//! phone may repeat ([`create`]) and photos kept as evidence ([`evidence`]). Imports nothing from
//! the rest of the domain but [`super::kinds`].

pub mod actor;
pub mod calendar;
pub mod create;
pub mod error;
pub mod evidence;
pub mod password;
pub mod phone;
pub mod text;
