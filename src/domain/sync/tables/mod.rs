//! One declaration per synced table (`entity::Table`): its columns, scope and writers.
//! [`TABLES`] is the list the pull, the push and the published schema go through, in the order a
//! push applies them (a record before those that name it).

mod attendees;
mod directory;
mod event_steps;
mod events;
mod findings;
mod leads;
mod partners;
mod photos;
mod projects;
pub mod rejections;
mod supervisions;
mod visits;

use super::declare::entity::Synced;

pub static TABLES: &[&dyn Synced] = &[
    &partners::PARTNERS,
    &visits::VISITS,
    &photos::VISIT_PHOTOS,
    &supervisions::SUPERVISIONS,
    &findings::FINDINGS,
    &rejections::REJECTIONS,
    // Schema version 2.
    &directory::ORG_UNITS,
    &directory::COLLEAGUES,
    &projects::PROJECTS,
    &leads::LEADS,
    &events::EVENTS,
    &event_steps::EVENT_STEPS,
    &attendees::EVENT_ATTENDEES,
];

pub fn by_name(name: &str) -> Option<&'static dyn Synced> {
    TABLES.iter().copied().find(|t| t.name() == name)
}
