//! Pure geometry: no HTTP, no SQL. Coordinates here are WGS-84 longitude/latitude degrees.

pub mod territory;

pub use territory::{Territory, TerritoryError};
