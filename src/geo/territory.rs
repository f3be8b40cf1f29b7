//! An org unit's territory: a GeoJSON Polygon or MultiPolygon, checked to be a real area.

use geo::{Coord, LineString, MultiPolygon, Polygon, Validation};
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

    #[test]
    fn empty_multipolygon_is_rejected() {
        assert_eq!(Territory::MultiPolygon { coordinates: vec![] }.validate(), Err(TerritoryError::Empty));
    }
}
