//! China's map datums. Phones report raw GPS (WGS-84), AMap/Tencent coordinates (GCJ-02, an
//! obfuscated offset of WGS-84 by up to ~700 m) or Baidu's (BD-09, a further offset of GCJ-02).
//! We store WGS-84 and convert at the edges.
//!
//! The forward GCJ-02 transform is the published one; there is no closed-form inverse, so the
//! inverse solves `forward(w) = g` by fixed-point iteration, which converges to well under a
//! millimetre in a few steps because the offset field is smooth.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use super::LatLon;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Datum {
    #[default]
    Wgs84,
    Gcj02,
    Bd09,
}

const KRASOVSKY_A: f64 = 6_378_245.0;
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;
const BD_X_PI: f64 = PI * 3000.0 / 180.0;

/// GCJ-02 applies only inside this box; outside it GCJ-02 is WGS-84.
pub fn out_of_china(p: LatLon) -> bool {
    !(72.004..=137.8347).contains(&p.lon) || !(0.8293..=55.8271).contains(&p.lat)
}

fn offset(x: f64, y: f64) -> (f64, f64) {
    let common = (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    let mut lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt() + common;
    lat += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    lat += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    let mut lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt() + common;
    lon += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    lon += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    (lat, lon)
}

pub fn wgs84_to_gcj02(p: LatLon) -> LatLon {
    if out_of_china(p) {
        return p;
    }
    let (dlat, dlon) = offset(p.lon - 105.0, p.lat - 35.0);
    let rad_lat = p.lat / 180.0 * PI;
    let magic = 1.0 - KRASOVSKY_EE * rad_lat.sin().powi(2);
    let sqrt_magic = magic.sqrt();
    let dlat = dlat * 180.0 / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI);
    let dlon = dlon * 180.0 / (KRASOVSKY_A / sqrt_magic * rad_lat.cos() * PI);
    LatLon { lat: p.lat + dlat, lon: p.lon + dlon }
}

pub fn gcj02_to_bd09(p: LatLon) -> LatLon {
    let (x, y) = (p.lon, p.lat);
    let z = (x * x + y * y).sqrt() + 0.00002 * (y * BD_X_PI).sin();
    let theta = y.atan2(x) + 0.000003 * (x * BD_X_PI).cos();
    LatLon { lat: z * theta.sin() + 0.006, lon: z * theta.cos() + 0.0065 }
}

/// Solves `forward(w) = target` for `w`, starting from the target itself.
fn invert(target: LatLon, forward: impl Fn(LatLon) -> LatLon) -> LatLon {
    let mut w = target;
    for _ in 0..30 {
        let f = forward(w);
        let (dlat, dlon) = (f.lat - target.lat, f.lon - target.lon);
        if dlat.abs() < 1e-12 && dlon.abs() < 1e-12 {
            break;
        }
        w = LatLon { lat: w.lat - dlat, lon: w.lon - dlon };
    }
    w
}

pub fn gcj02_to_wgs84(p: LatLon) -> LatLon {
    if out_of_china(p) { p } else { invert(p, wgs84_to_gcj02) }
}

pub fn bd09_to_gcj02(p: LatLon) -> LatLon {
    invert(p, gcj02_to_bd09)
}

impl Datum {
    /// A position given in this datum, as WGS-84.
    pub fn to_wgs84(self, p: LatLon) -> LatLon {
        match self {
            Datum::Wgs84 => p,
            Datum::Gcj02 => gcj02_to_wgs84(p),
            Datum::Bd09 => gcj02_to_wgs84(bd09_to_gcj02(p)),
        }
    }

    /// A WGS-84 position, expressed in this datum.
    pub fn from_wgs84(self, p: LatLon) -> LatLon {
        match self {
            Datum::Wgs84 => p,
            Datum::Gcj02 => wgs84_to_gcj02(p),
            Datum::Bd09 => gcj02_to_bd09(wgs84_to_gcj02(p)),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::geo::distance_m;

    fn ll(lat: f64, lon: f64) -> LatLon {
        LatLon { lat, lon }
    }

    // Reference pairs published with the widely used eviltransform and coordtransform libraries.
    const WGS_GCJ: [(f64, f64, f64, f64); 4] = [
        (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215), // Shanghai
        (22.543847, 113.912316, 22.540796131694766, 113.9171764808363), // Shenzhen
        (39.911954, 116.377817, 39.91334545536069, 116.38404722455657), // Beijing
        (39.915, 116.404, 39.91640428150164, 116.41024449916938),       // Tiananmen
    ];

    #[test]
    fn forward_gcj02_matches_reference_points() {
        for (wlat, wlon, glat, glon) in WGS_GCJ {
            let g = wgs84_to_gcj02(ll(wlat, wlon));
            assert!((g.lat - glat).abs() < 1e-9 && (g.lon - glon).abs() < 1e-9, "{g:?} vs {glat},{glon}");
        }
    }

    #[test]
    fn inverse_gcj02_recovers_reference_points_to_a_centimetre() {
        for (wlat, wlon, glat, glon) in WGS_GCJ {
            let w = gcj02_to_wgs84(ll(glat, glon));
            assert!(distance_m(w, ll(wlat, wlon)) < 0.01, "{w:?}");
        }
    }

    #[test]
    fn bd09_matches_a_reference_point() {
        // coordtransform: gcj (39.915, 116.404) → bd (39.92133699351021, 116.41036949371029)
        let b = gcj02_to_bd09(ll(39.915, 116.404));
        assert!((b.lat - 39.92133699351021).abs() < 1e-12 && (b.lon - 116.41036949371029).abs() < 1e-12, "{b:?}");
        let g = bd09_to_gcj02(b);
        assert!(distance_m(g, ll(39.915, 116.404)) < 0.001, "{g:?}");
    }

    #[test]
    fn outside_china_gcj02_is_wgs84() {
        let london = ll(51.5072, -0.1276);
        assert_eq!(wgs84_to_gcj02(london), london);
        assert_eq!(gcj02_to_wgs84(london), london);
    }

    #[test]
    fn the_offset_in_jiangmen_is_hundreds_of_metres() {
        let p = ll(22.5787, 113.0815);
        let d = distance_m(p, Datum::Gcj02.from_wgs84(p));
        assert!((200.0..800.0).contains(&d), "{d}");
        let b = distance_m(p, Datum::Bd09.from_wgs84(p));
        assert!(b > d, "BD-09 is further off than GCJ-02: {b} vs {d}");
    }

    proptest! {
        /// Any coordinate a client may send, in any datum, converts to a valid WGS-84 position
        /// and back without a panic, a NaN or a point off the Earth.
        #[test]
        fn any_valid_position_converts_to_a_valid_one(lat in -90.0f64..=90.0, lon in -180.0f64..=180.0) {
            let p = ll(lat, lon);
            for datum in [Datum::Wgs84, Datum::Gcj02, Datum::Bd09] {
                for q in [datum.to_wgs84(p), datum.from_wgs84(p)] {
                    prop_assert!(q.lat.is_finite() && q.lon.is_finite(), "{datum:?}: {p:?} → {q:?}");
                    prop_assert!(q.lat.abs() <= 90.0 + 1e-6 && q.lon.abs() <= 180.0 + 1e-6, "{datum:?}: {p:?} → {q:?}");
                }
            }
        }

        #[test]
        fn round_trips_are_exact_inside_china(lat in 18.0f64..53.0, lon in 74.0f64..134.0) {
            let p = ll(lat, lon);
            for datum in [Datum::Gcj02, Datum::Bd09] {
                let back = datum.to_wgs84(datum.from_wgs84(p));
                prop_assert!(distance_m(back, p) < 0.01, "{datum:?}: {p:?} → {back:?}");
                let there = datum.from_wgs84(datum.to_wgs84(p));
                prop_assert!(distance_m(there, p) < 0.01, "{datum:?} inverse first: {p:?} → {there:?}");
            }
        }
    }
}
