//! The outreach map (客群地图): features of a box clustered by zoom, coverage and heat, answered
//! from an in-memory index that catches up with the database before every answer.

pub mod coverage;
pub mod features;
pub mod index;
pub mod layer;
pub mod scope;

pub use index::MapIndex;
pub use layer::{Layer, VisitState};
