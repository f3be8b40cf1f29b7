//! Pure geometry: no HTTP, no SQL. Positions are stored in WGS-84; [`datum`] converts at the edges.

pub mod bbox;
pub mod cluster;
pub mod datum;
pub mod distance;
pub mod latlon;
pub mod mercator;
pub mod point_index;
pub mod territory;

pub use bbox::{BBox, BBoxError};
pub use datum::Datum;
pub use distance::distance_m;
pub use latlon::{LatLon, LatLonError};
pub use mercator::{WorldBox, WorldXY};
pub use point_index::PointIndex;
pub use territory::{Area, Territory, TerritoryError};
