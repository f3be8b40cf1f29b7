//! The closed vocabularies stored as text that several capabilities share: roles, partner, lead
//! and project kinds. Imports nothing from the capability folders.

pub mod lead_kind;
pub mod partner_kind;
pub mod project_kind;
pub mod role;
