//! An org unit's territory: a GeoJSON Polygon or MultiPolygon, checked to be a real area.

use geo::{Contains, Coord, LineString, MultiPolygon, Polygon, Validation};

use super::LatLon;
use serde::{Deserialize, Serialize};

/// A GeoJSON position: `[lon, lat]` (an altitude, if sent, is ignored).
pub type Position = Vec<f64>;

/// The geometry object of GeoJSON (RFC 7946) restricted to areas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum Territory {
    /// Rings of `[lon, lat]` positions; the first ring is the outer boundary, others are holes.
    Polygon {
        coordinates: Vec<Vec<Position>>,
    },
    MultiPolygon {
        coordinates: Vec<Vec<Vec<Position>>>,
    },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TerritoryError {
    #[error("a position needs [lon, lat]")]
    ShortPosition,
    #[error("longitude {0} is outside -180..180")]
    Longitude(f64),
    #[error("latitude {0} is outside -90..90")]
    Latitude(f64),
    #[error("a ring needs at least 4 positions")]
    ShortRing,
    #[error("a ring must end where it starts")]
    OpenRing,
    #[error("a polygon needs an outer ring")]
    Empty,
    #[error("the polygon is not a valid area: {0}")]
    Invalid(String),
}

impl Territory {
    /// Checks structure, ranges and topology (no self-intersection, holes inside, …).
    pub fn validate(&self) -> Result<(), TerritoryError> {
        let polygons = match self {
            Territory::Polygon { coordinates } => vec![polygon(coordinates)?],
            Territory::MultiPolygon { coordinates } => {
                if coordinates.is_empty() {
                    return Err(TerritoryError::Empty);
                }
                coordinates.iter().map(|p| polygon(p)).collect::<Result<_, _>>()?
            }
        };
        let multi = MultiPolygon::new(polygons);
        match multi.validation_errors().first() {
            None => Ok(()),
            Some(problem) => Err(TerritoryError::Invalid(problem.to_string())),
        }
    }

    /// The area as a `geo` geometry, for containment tests.
    pub fn to_geo(&self) -> Result<MultiPolygon<f64>, TerritoryError> {
        match self {
            Territory::Polygon { coordinates } => Ok(MultiPolygon::new(vec![polygon(coordinates)?])),
            Territory::MultiPolygon { coordinates } => {
                Ok(MultiPolygon::new(coordinates.iter().map(|p| polygon(p)).collect::<Result<_, _>>()?))
            }
        }
    }
}

/// A territory ready for point-in-polygon tests.
#[derive(Debug, Clone)]
pub struct Area(MultiPolygon<f64>);

impl Area {
    pub fn new(territory: &Territory) -> Result<Area, TerritoryError> {
        territory.to_geo().map(Area)
    }

    /// Inside or on the boundary.
    pub fn contains(&self, p: LatLon) -> bool {
        use geo::Intersects;
        let point = p.to_point();
        self.0.contains(&point) || self.0.intersects(&point)
    }
}

fn polygon(rings: &[Vec<Position>]) -> Result<Polygon<f64>, TerritoryError> {
    let mut rings = rings.iter().map(|r| ring(r));
    let exterior = rings.next().ok_or(TerritoryError::Empty)??;
    let interiors = rings.collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon::new(exterior, interiors))
}

fn ring(positions: &[Position]) -> Result<LineString<f64>, TerritoryError> {
    if positions.len() < 4 {
        return Err(TerritoryError::ShortRing);
    }
    let coords = positions.iter().map(|p| coord(p)).collect::<Result<Vec<_>, _>>()?;
    if coords.first() != coords.last() {
        return Err(TerritoryError::OpenRing);
    }
    Ok(LineString::new(coords))
}

fn coord(position: &[f64]) -> Result<Coord<f64>, TerritoryError> {
    let (&lon, &lat) = match position {
        [lon, lat, ..] => (lon, lat),
        _ => return Err(TerritoryError::ShortPosition),
    };
    if !(-180.0..=180.0).contains(&lon) {
        return Err(TerritoryError::Longitude(lon));
    }
    if !(-90.0..=90.0).contains(&lat) {
        return Err(TerritoryError::Latitude(lat));
    }
    Ok(Coord { x: lon, y: lat })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(size: f64) -> Vec<Position> {
        vec![
            vec![113.0, 22.5],
            vec![113.0 + size, 22.5],
            vec![113.0 + size, 22.5 + size],
            vec![113.0, 22.5 + size],
            vec![113.0, 22.5],
        ]
    }

    #[test]
    fn a_square_is_valid() {
        assert_eq!(Territory::Polygon { coordinates: vec![square(0.1)] }.validate(), Ok(()));
    }

    #[test]
    fn an_open_ring_is_rejected() {
        let mut ring = square(0.1);
        ring.pop();
        ring.push(vec![113.05, 22.5]);
        assert_eq!(Territory::Polygon { coordinates: vec![ring] }.validate(), Err(TerritoryError::OpenRing));
    }

    #[test]
    fn a_bow_tie_is_rejected() {
        let bow_tie =
            vec![vec![113.0, 22.5], vec![113.1, 22.6], vec![113.1, 22.5], vec![113.0, 22.6], vec![113.0, 22.5]];
        let err = Territory::Polygon { coordinates: vec![bow_tie] }.validate();
        assert!(matches!(err, Err(TerritoryError::Invalid(_))), "{err:?}");
    }

    #[test]
    fn out_of_range_latitude_is_rejected() {
        let ring = vec![vec![113.0, 95.0], vec![113.1, 95.0], vec![113.1, 95.1], vec![113.0, 95.0]];
        assert_eq!(Territory::Polygon { coordinates: vec![ring] }.validate(), Err(TerritoryError::Latitude(95.0)));
    }

    /// Even-odd ray casting: the textbook reference to check `Area::contains` against.
    fn brute_force_inside(rings: &[Vec<Position>], lat: f64, lon: f64) -> bool {
        let mut inside = false;
        for ring in rings {
            for edge in ring.windows(2) {
                let (x1, y1, x2, y2) = (edge[0][0], edge[0][1], edge[1][0], edge[1][1]);
                if (y1 > lat) != (y2 > lat) && lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1 {
                    inside = !inside;
                }
            }
        }
        inside
    }

    proptest::proptest! {
        #[test]
        fn point_in_polygon_agrees_with_ray_casting(lat in 22.4f64..22.8, lon in 112.9f64..113.3) {
            // A concave "C" shape with a hole: the cases where naive tests go wrong.
            let outer = vec![vec![113.0, 22.5], vec![113.2, 22.5], vec![113.2, 22.55], vec![113.05, 22.55],
                             vec![113.05, 22.65], vec![113.2, 22.65], vec![113.2, 22.7], vec![113.0, 22.7], vec![113.0, 22.5]];
            let hole = vec![vec![113.01, 22.6], vec![113.03, 22.6], vec![113.03, 22.62], vec![113.01, 22.62], vec![113.01, 22.6]];
            let rings = vec![outer, hole];
            let area = Area::new(&Territory::Polygon { coordinates: rings.clone() }).map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            proptest::prop_assert_eq!(area.contains(LatLon { lat, lon }), brute_force_inside(&rings, lat, lon));
        }
    }

    #[test]
    fn empty_multipolygon_is_rejected() {
        assert_eq!(Territory::MultiPolygon { coordinates: vec![] }.validate(), Err(TerritoryError::Empty));
    }
}
