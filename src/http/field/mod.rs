//! Field work: partners (with nearby search), visits, visit photos.

pub mod partners;
pub mod photos;
pub mod visits;
