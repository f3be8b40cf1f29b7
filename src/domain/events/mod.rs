//! Community events and the people they reach: the event and its six steps, public registration,
//! check-in at the door, and leads — which a check-in creates and which name their event, so they
//! live here rather than under `projects`.

pub mod checkins;
pub mod event_steps;
pub mod events;
pub mod leads;
pub mod registrations;
pub mod step_plan;
