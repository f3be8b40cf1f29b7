//! Bounding boxes and the latitude bands used as an index-friendly prefilter.

use super::LatLon;
use super::distance::MIN_METRES_PER_DEGREE_LAT;

/// `minLon,minLat,maxLon,maxLat` as in GeoJSON and every web map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    pub min: LatLon,
    pub max: LatLon,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BBoxError {
    #[error("expected four numbers: minLon,minLat,maxLon,maxLat")]
    Shape,
    #[error("{0}")]
    Corner(#[from] super::LatLonError),
    #[error("min must not exceed max")]
    Inverted,
}

/// Rows store `lat_band = floor(lat × 100)`: 0.01° (~1.1 km) bands. An index on
/// `(lat_band, lon)` turns a box query into one short index range per band on any SQL database.
pub const BANDS_PER_DEGREE: f64 = 100.0;

pub fn lat_band(lat: f64) -> i64 {
    (lat * BANDS_PER_DEGREE).floor() as i64
}

impl BBox {
    pub fn parse(text: &str) -> Result<BBox, BBoxError> {
        let numbers: Vec<f64> =
            text.split(',').map(|s| s.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|_| BBoxError::Shape)?;
        let [min_lon, min_lat, max_lon, max_lat] = numbers[..] else {
            return Err(BBoxError::Shape);
        };
        let min = LatLon::new(min_lat, min_lon)?;
        let max = LatLon::new(max_lat, max_lon)?;
        if min.lat > max.lat || min.lon > max.lon {
            return Err(BBoxError::Inverted);
        }
        Ok(BBox { min, max })
    }

    /// A box that surely contains the circle of `radius_m` around `center`.
    pub fn around(center: LatLon, radius_m: f64) -> BBox {
        let dlat = radius_m / MIN_METRES_PER_DEGREE_LAT;
        let cos = (center.lat.abs() + dlat).min(89.9).to_radians().cos();
        let dlon = (radius_m / (MIN_METRES_PER_DEGREE_LAT * cos)).min(180.0);
        BBox {
            min: LatLon { lat: (center.lat - dlat).max(-90.0), lon: (center.lon - dlon).max(-180.0) },
            max: LatLon { lat: (center.lat + dlat).min(90.0), lon: (center.lon + dlon).min(180.0) },
        }
    }

    pub fn contains(&self, p: LatLon) -> bool {
        (self.min.lat..=self.max.lat).contains(&p.lat) && (self.min.lon..=self.max.lon).contains(&p.lon)
    }

    /// The latitude bands the box touches.
    pub fn bands(&self) -> Vec<i64> {
        (lat_band(self.min.lat)..=lat_band(self.max.lat)).collect()
    }

    /// The same area given in another datum, as WGS-84 (corners converted; the offset field is
    /// smooth enough that the error is far below a metre over a city).
    pub fn to_wgs84(self, datum: super::Datum) -> BBox {
        BBox { min: datum.to_wgs84(self.min), max: datum.to_wgs84(self.max) }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::geo::distance_m;

    #[test]
    fn parses_and_validates() {
        let b = BBox::parse("113.0,22.5,113.2,22.7").map(|b| (b.min.lon, b.max.lat));
        assert_eq!(b, Ok((113.0, 22.7)));
        assert_eq!(BBox::parse("113.2,22.5,113.0,22.7"), Err(BBoxError::Inverted));
        assert_eq!(BBox::parse("1,2,3"), Err(BBoxError::Shape));
        assert_eq!(BBox::parse("a,b,c,d"), Err(BBoxError::Shape));
        assert!(matches!(BBox::parse("0,-91,1,1"), Err(BBoxError::Corner(_))));
        assert!(matches!(BBox::parse("NaN,0,1,1"), Err(BBoxError::Corner(_))));
    }

    proptest! {
        /// Any query string: a box or a refusal, never a panic; a box is ordered and on Earth.
        #[test]
        fn any_text_is_a_box_or_refused(text in "\\PC{0,60}") {
            if let Ok(b) = BBox::parse(&text) {
                prop_assert!(b.min.lat <= b.max.lat && b.min.lon <= b.max.lon);
                prop_assert!(b.min.validated().is_ok() && b.max.validated().is_ok());
            }
        }

        #[test]
        fn any_four_numbers_are_a_box_or_refused(a in any::<f64>(), b in any::<f64>(), c in any::<f64>(), d in any::<f64>()) {
            let _ = BBox::parse(&format!("{a},{b},{c},{d}"));
        }

        #[test]
        fn the_box_around_a_circle_holds_every_point_of_it(
            lat in -60.0f64..60.0, lon in -170.0f64..170.0, radius in 1.0f64..50_000.0,
            bearing in 0.0f64..360.0, fraction in 0.0f64..1.0,
        ) {
            use geo::{Destination, Geodesic, Point};
            let center = LatLon { lat, lon };
            let p = Geodesic.destination(Point::new(lon, lat), bearing, radius * fraction);
            let p = LatLon { lat: p.y(), lon: p.x() };
            prop_assert!(distance_m(center, p) <= radius + 1e-6);
            let bbox = BBox::around(center, radius);
            prop_assert!(bbox.contains(p), "{p:?} outside {bbox:?}");
            prop_assert!(bbox.bands().contains(&lat_band(p.lat)));
        }
    }
}
