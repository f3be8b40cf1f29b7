//! Web Mercator world coordinates as 32-bit integers: the plane every web map draws on, so
//! screen-sized grid cells at a zoom are bit shifts, and a point costs eight bytes.

use super::LatLon;

/// Web Mercator is undefined at the poles; maps cut the world square here.
pub const MAX_LAT: f64 = 85.051_128_779_806_59;
const SIDE: f64 = 4_294_967_296.0;

/// `x` grows east, `y` grows south; `(0, 0)` is the north-west corner of the world square.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct WorldXY {
    pub x: u32,
    pub y: u32,
}

/// An axis-aligned box in world coordinates, bounds included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorldBox {
    pub min: WorldXY,
    pub max: WorldXY,
}

fn to_u32(f: f64) -> u32 {
    (f * SIDE).floor().clamp(0.0, SIDE - 1.0) as u32
}

pub fn project(p: LatLon) -> WorldXY {
    let x = (p.lon + 180.0) / 360.0;
    let sin = p.lat.clamp(-MAX_LAT, MAX_LAT).to_radians().sin();
    let y = 0.5 - ((1.0 + sin) / (1.0 - sin)).ln() / (4.0 * std::f64::consts::PI);
    WorldXY { x: to_u32(x), y: to_u32(y) }
}

/// The position of a world coordinate; `(x + 0.5, y + 0.5)` — the middle of its unit square.
pub fn unproject(w: WorldXY) -> LatLon {
    unproject_f(w.x as f64 + 0.5, w.y as f64 + 0.5)
}

pub fn unproject_f(x: f64, y: f64) -> LatLon {
    let lon = x / SIDE * 360.0 - 180.0;
    let n = std::f64::consts::PI * (1.0 - 2.0 * y / SIDE);
    LatLon { lat: n.sinh().atan().to_degrees(), lon }
}

impl WorldBox {
    /// The world box of a geographic box (north maps to the smaller `y`).
    pub fn of(b: &super::BBox) -> WorldBox {
        let sw = project(b.min);
        let ne = project(b.max);
        WorldBox { min: WorldXY { x: sw.x, y: ne.y }, max: WorldXY { x: ne.x, y: sw.y } }
    }

    pub fn contains(&self, p: WorldXY) -> bool {
        (self.min.x..=self.max.x).contains(&p.x) && (self.min.y..=self.max.y).contains(&p.y)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn known_points() {
        assert_eq!(project(LatLon { lat: 0.0, lon: 0.0 }), WorldXY { x: 1 << 31, y: 1 << 31 });
        assert_eq!(project(LatLon { lat: 89.0, lon: -180.0 }), WorldXY { x: 0, y: 0 });
        let jiangmen = LatLon { lat: 22.5787, lon: 113.0815 };
        let back = unproject(project(jiangmen));
        assert!((back.lat - jiangmen.lat).abs() < 1e-7 && (back.lon - jiangmen.lon).abs() < 1e-7);
    }

    proptest! {
        #[test]
        fn round_trips_within_a_centimetre(lat in -85.0f64..85.0, lon in -180.0f64..179.999) {
            let p = LatLon { lat, lon };
            let q = unproject(project(p));
            prop_assert!(crate::geo::distance_m(p, q) < 0.01, "{p:?} -> {q:?}");
        }

        #[test]
        fn a_box_holds_what_the_bbox_holds(
            lat in -60.0f64..60.0, lon in -170.0f64..170.0, w in 0.0f64..2.0, h in 0.0f64..2.0,
            fx in 0.0f64..=1.0, fy in 0.0f64..=1.0,
        ) {
            let b = crate::geo::BBox { min: LatLon { lat, lon }, max: LatLon { lat: lat + h, lon: lon + w } };
            let p = LatLon { lat: lat + h * fy, lon: lon + w * fx };
            prop_assert!(WorldBox::of(&b).contains(project(p)));
        }
    }
}
