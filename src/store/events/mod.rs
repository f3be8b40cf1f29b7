//! Rows of events and the people they reach: events with their steps, registrations, leads.

pub mod events;
pub mod leads;
pub mod registrations;
