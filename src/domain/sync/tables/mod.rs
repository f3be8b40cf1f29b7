//! One declaration per synced table (`entity::Table`): its columns, scope and writers.
//! [`TABLES`] is the list the pull, the push and the published schema go through, in the order a
//! push applies them (a record before those that name it).

mod findings;
mod partners;
mod photos;
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
];

pub fn by_name(name: &str) -> Option<&'static dyn Synced> {
    TABLES.iter().copied().find(|t| t.name() == name)
}
