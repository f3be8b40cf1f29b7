//! Field work: partners (with nearby search), visits, visit photos, and the evidence-photo
//! sub-resource the events, cases and supervisions share.

pub mod evidence;
pub mod partners;
pub mod photos;
pub mod visits;
