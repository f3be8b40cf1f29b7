//! Rows of field work: partners (with the position filters the other queries reuse), visits,
//! visit photos.

pub mod partners;
pub mod photos;
pub mod visits;
