//! Work in the field: alliance partners and finding them by place, visits with their photos, and
//! the rules that judge whether a visit is believable.

pub mod partner_search;
pub mod partners;
pub mod photos;
pub mod verification;
pub mod visits;
