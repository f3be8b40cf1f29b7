//! Distances on the WGS-84 ellipsoid (Karney's geodesic algorithm, via `geo`).

use geo::{Distance, Geodesic};

use super::LatLon;

/// Metres along the ellipsoid between two positions; accurate to nanometres, symmetric.
pub fn distance_m(a: LatLon, b: LatLon) -> f64 {
    Geodesic.distance(a.to_point(), b.to_point())
}

/// Metres between two nearby positions on the ellipsoid's local tangent plane: the meridian and
/// prime-vertical radii of curvature at their mean latitude. Within 0.1 % of [`distance_m`] up to
/// 50 km apart away from the poles, and about forty times cheaper: for ruling out candidates
/// before the exact distance is computed, never as the answer.
pub fn local_distance_m(a: LatLon, b: LatLon) -> f64 {
    const A: f64 = 6_378_137.0;
    const E2: f64 = 6.694_379_990_14e-3;
    let mean = ((a.lat + b.lat) / 2.0).to_radians();
    let (sin, cos) = mean.sin_cos();
    let w = 1.0 - E2 * sin * sin;
    let meridian = A * (1.0 - E2) / (w * w.sqrt());
    let prime_vertical = A / w.sqrt();
    let mut dlon = b.lon - a.lon;
    if dlon > 180.0 {
        dlon -= 360.0;
    } else if dlon < -180.0 {
        dlon += 360.0;
    }
    let north = meridian * (b.lat - a.lat).to_radians();
    let east = prime_vertical * cos * dlon.to_radians();
    north.hypot(east)
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
        fn the_local_distance_is_within_a_tenth_of_a_percent_up_to_50_km(
            lat in -70.0f64..70.0, lon in -179.0f64..179.0, bearing in 0.0f64..360.0, metres in 1.0f64..50_000.0
        ) {
            let a = LatLon { lat, lon };
            let (s, c) = bearing.to_radians().sin_cos();
            let b = LatLon {
                lat: lat + metres * c / 111_000.0,
                lon: lon + metres * s / (111_000.0 * lat.to_radians().cos()),
            };
            let exact = distance_m(a, b);
            let local = local_distance_m(a, b);
            prop_assert!((local - exact).abs() <= exact * 1e-3 + 1e-6, "{local} vs {exact}");
        }

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
