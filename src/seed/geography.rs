//! Where a seeded branch stands: Jiangmen, its town centres and the spread of places around them.

use rand::Rng;
use rand::rngs::StdRng;

/// The city: where partners are spread (lon 112.95–113.25, lat 22.40–22.70).
pub const CITY: (f64, f64, f64, f64) = (112.95, 22.40, 113.25, 22.70);

/// Town centres: name, latitude, longitude, spread (degrees, one standard deviation), share of
/// places. The rest (18 %) are spread evenly over the city, as villages and roadside shops are.
pub const TOWNS: [(&str, f64, f64, f64, f64); 6] = [
    ("蓬江", 22.590, 113.080, 0.012, 0.28),
    ("江海", 22.560, 113.115, 0.012, 0.18),
    ("新会", 22.522, 113.035, 0.012, 0.20),
    ("杜阮", 22.615, 113.005, 0.008, 0.06),
    ("外海", 22.540, 113.150, 0.008, 0.05),
    ("棠下", 22.655, 113.070, 0.008, 0.05),
];

/// The city centre and the densest town centre, for the map views of a benchmark.
pub fn city_centre() -> [f64; 2] {
    [(CITY.1 + CITY.3) / 2.0, (CITY.0 + CITY.2) / 2.0]
}

pub fn densest_town() -> [f64; 2] {
    [TOWNS[0].1, TOWNS[0].2]
}

/// One standard normal draw (Box–Muller).
fn normal(rng: &mut StdRng) -> f64 {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    let v: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

fn in_city(lat: f64, lon: f64) -> (f64, f64) {
    (lat.clamp(CITY.1, CITY.3), lon.clamp(CITY.0, CITY.2))
}

/// A place in the city: around a town centre, or anywhere.
pub fn somewhere(rng: &mut StdRng) -> (f64, f64) {
    let mut pick = rng.random_range(0.0..1.0);
    for (_, lat, lon, sigma, share) in TOWNS {
        if pick < share {
            let dlat = normal(rng) * sigma;
            let dlon = normal(rng) * sigma / lat.to_radians().cos();
            return in_city(lat + dlat, lon + dlon);
        }
        pick -= share;
    }
    (rng.random_range(CITY.1..CITY.3), rng.random_range(CITY.0..CITY.2))
}

/// A spot within `radius_m` metres of a place.
pub fn near(rng: &mut StdRng, lat: f64, lon: f64, radius_m: f64) -> (f64, f64) {
    let r = radius_m * rng.random_range(0.0f64..1.0).sqrt();
    let angle = rng.random_range(0.0..std::f64::consts::TAU);
    let dlat = r * angle.sin() / 111_320.0;
    let dlon = r * angle.cos() / (111_320.0 * lat.to_radians().cos());
    (lat + dlat, lon + dlon)
}

/// An item of `table` with probability proportional to its weight.
pub fn weighted<T: Copy>(rng: &mut StdRng, table: &[(T, u32)]) -> T {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut pick = rng.random_range(0..total.max(1));
    for &(item, weight) in table {
        if pick < weight {
            return item;
        }
        pick -= weight;
    }
    table[table.len() - 1].0
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn places_stay_in_the_city_and_near_means_near() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..10_000 {
            let (lat, lon) = somewhere(&mut rng);
            assert!((CITY.1..=CITY.3).contains(&lat) && (CITY.0..=CITY.2).contains(&lon));
            let (nlat, nlon) = near(&mut rng, lat, lon, 50.0);
            let d =
                crate::geo::distance_m(crate::geo::LatLon { lat, lon }, crate::geo::LatLon { lat: nlat, lon: nlon });
            assert!(d <= 50.5, "{d} m");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_places() {
        let draw = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..100).map(|_| somewhere(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
    }
}
