//! A validated WGS-84 (or other datum) position.

use serde::{Deserialize, Serialize};

/// Latitude and longitude in degrees; finite and in range by construction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LatLon {
    #[schema(example = 22.5787, minimum = -90, maximum = 90)]
    pub lat: f64,
    #[schema(example = 113.0815, minimum = -180, maximum = 180)]
    pub lon: f64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LatLonError {
    #[error("latitude must be a finite number between -90 and 90")]
    Latitude,
    #[error("longitude must be a finite number between -180 and 180")]
    Longitude,
}

impl LatLon {
    pub fn new(lat: f64, lon: f64) -> Result<LatLon, LatLonError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(LatLonError::Latitude);
        }
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(LatLonError::Longitude);
        }
        Ok(LatLon { lat, lon })
    }

    /// Checks a value that came in through serde, which does not run `new`.
    pub fn validated(self) -> Result<LatLon, LatLonError> {
        LatLon::new(self.lat, self.lon)
    }

    pub fn to_point(self) -> geo::Point<f64> {
        geo::Point::new(self.lon, self.lat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_out_of_range_and_non_finite() {
        assert_eq!(LatLon::new(91.0, 0.0), Err(LatLonError::Latitude));
        assert_eq!(LatLon::new(f64::NAN, 0.0), Err(LatLonError::Latitude));
        assert_eq!(LatLon::new(0.0, 180.5), Err(LatLonError::Longitude));
        assert_eq!(LatLon::new(0.0, f64::INFINITY), Err(LatLonError::Longitude));
        assert!(LatLon::new(-90.0, -180.0).is_ok());
    }

    proptest::proptest! {
        /// Any pair of floats, NaN and infinities included: a position on Earth or a refusal.
        #[test]
        fn any_pair_is_a_position_or_refused(lat in proptest::num::f64::ANY, lon in proptest::num::f64::ANY) {
            if let Ok(p) = LatLon::new(lat, lon) {
                proptest::prop_assert!(p.lat.abs() <= 90.0 && p.lon.abs() <= 180.0);
            }
        }
    }
}
