//! Events: the event and its steps, check-in at the door, the public registration API, and leads
//! (in `domain::events` too).

pub mod checkins;
pub mod events;
pub mod leads;
pub mod public;
