//! Distances on the WGS-84 ellipsoid (Karney's geodesic algorithm, via `geo`).

use geo::{Distance, Geodesic};

use super::LatLon;

/// Metres along the ellipsoid between two positions; accurate to nanometres, symmetric.
pub fn distance_m(a: LatLon, b: LatLon) -> f64 {
    Geodesic.distance(a.to_point(), b.to_point())
}

/// Metres per degree of latitude is ~110.6–111.7 km; this is the smallest, so a band computed
/// with it never misses a point.
pub const MIN_METRES_PER_DEGREE_LAT: f64 = 110_574.0;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn known_distance_jiangmen_to_guangzhou() {
        // Jiangmen station to Guangzhou Tower: ~66 km.
        let d = distance_m(LatLon { lat: 22.5840, lon: 113.0810 }, LatLon { lat: 23.1066, lon: 113.3245 });
        assert!((62_000.0..66_000.0).contains(&d), "{d}");
    }

    #[test]
    fn one_degree_of_latitude_at_the_equator() {
        let d = distance_m(LatLon { lat: 0.0, lon: 0.0 }, LatLon { lat: 1.0, lon: 0.0 });
        assert!((d - 110_574.4).abs() < 1.0, "{d}");
    }

    fn point() -> impl Strategy<Value = LatLon> {
        (-80.0f64..80.0, -179.0f64..179.0).prop_map(|(lat, lon)| LatLon { lat, lon })
    }

    proptest! {
        #[test]
        fn symmetric_and_zero_on_itself(a in point(), b in point()) {
            prop_assert!((distance_m(a, b) - distance_m(b, a)).abs() < 1e-6);
            prop_assert!(distance_m(a, a) < 1e-6);
        }

        #[test]
        fn triangle_inequality(a in point(), b in point(), c in point()) {
            prop_assert!(distance_m(a, c) <= distance_m(a, b) + distance_m(b, c) + 1e-6);
        }
    }
}
