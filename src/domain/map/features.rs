//! `GET /map/features`: the points of a box, clustered on a screen grid for the zoom asked.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::MapIndex;
use super::index::{Layers, NONE, Pt};
use super::layer::Layer;
use super::scope::{Filters, Matcher};
use crate::domain::kinds::partner_kind::PartnerCategory;
use crate::domain::{Actor, DomainError};
use crate::geo::cluster::{Gather, Grid};
use crate::geo::mercator::unproject;
use crate::geo::{BBox, LatLon, WorldBox, WorldXY};
use crate::store::DbConn;

/// Clusters are cells of 64 screen pixels.
const CLUSTER_PX_LOG2: u32 = 6;
/// A box wider or taller than this many pixels at its zoom is not a screen: refused, so the
/// work of a request stays bounded.
pub const MAX_VIEW_PX: f64 = 16_384.0;
pub const MAX_ZOOM: u8 = 22;
const CATEGORIES: usize = PartnerCategory::ALL.len();

#[derive(Debug, Clone)]
pub struct FeatureQuery {
    pub bbox: BBox,
    pub zoom: u8,
    pub layers: Vec<Layer>,
    pub cluster: bool,
    pub limit: usize,
    pub org_unit_id: Option<Uuid>,
    pub filters: Filters,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PointFeature {
    pub layer: Layer,
    pub id: Uuid,
    pub position: LatLon,
    pub category: PartnerCategory,
    pub status: &'static str,
    pub owner_id: Uuid,
    pub partner_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    /// Created (partners, leads), visited, or starts (events).
    pub at: DateTime<Utc>,
    /// The partner's name, an event's title, the visited partner's name; none for leads.
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClusterFeature {
    pub layer: Layer,
    pub position: LatLon,
    pub count: u32,
    pub categories: Vec<(PartnerCategory, u32)>,
    /// The zoom at which the cluster comes apart; none when all its points are on one spot.
    pub split_zoom: Option<u8>,
    /// `[west, south, east, north]` of its points.
    pub extent: [f64; 4],
}

#[derive(Debug, Clone, PartialEq)]
pub enum Feature {
    Point(PointFeature),
    Cluster(ClusterFeature),
}

impl Feature {
    fn count(&self) -> u32 {
        match self {
            Feature::Point(_) => 1,
            Feature::Cluster(c) => c.count,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeatureSet {
    pub features: Vec<Feature>,
    /// Points per layer in the box that match, whether shown one by one, in clusters, or cut.
    pub totals: Vec<(Layer, u64)>,
    pub truncated: bool,
}

/// Checks that a box is something a screen shows at this zoom.
pub fn check_view(bbox: &BBox, zoom: u8) -> Result<WorldBox, DomainError> {
    if zoom > MAX_ZOOM {
        return Err(DomainError::invalid("zoom", format!("must be between 0 and {MAX_ZOOM}")));
    }
    let world = WorldBox::of(bbox);
    let px_per_unit = 256.0 * 2f64.powi(zoom as i32) / 4_294_967_296.0;
    let w = (world.max.x - world.min.x) as f64 * px_per_unit;
    let h = (world.max.y - world.min.y) as f64 * px_per_unit;
    if w > MAX_VIEW_PX || h > MAX_VIEW_PX {
        return Err(DomainError::invalid(
            "bbox",
            format!("spans {w:.0}×{h:.0} px at zoom {zoom}; at most {MAX_VIEW_PX} px a side: zoom out or narrow it"),
        ));
    }
    Ok(world)
}

pub fn features(
    conn: &mut DbConn,
    index: &MapIndex,
    actor: &Actor,
    q: &FeatureQuery,
) -> Result<FeatureSet, DomainError> {
    let world = check_view(&q.bbox, q.zoom)?;
    let within = match q.org_unit_id {
        Some(id) => Some(crate::domain::org::org_units::get(conn, actor, id)?.path),
        None => None,
    };
    let guard = index.current(conn)?;
    let Some(layers) = guard.as_ref() else { return Err(DomainError::NotFound("map")) };
    let matcher = Matcher::new(layers, actor, within.as_deref(), &q.filters);
    let mut features = Vec::new();
    let mut totals = Vec::new();
    let mut truncated = false;
    for &layer in &q.layers {
        let mut total = 0u64;
        if q.cluster {
            let mut gather: Gather<CATEGORIES, Pt> = Gather::over(Grid::new(q.zoom, CLUSTER_PX_LOG2), &world);
            layers.layer(layer).within(&world, |e| {
                let category = layers.category_of(&e.item);
                if matcher.matches(layer, &e.item, category) {
                    total += 1;
                    gather.add(e.at, category as usize, e.item);
                }
            });
            for c in gather.into_clusters() {
                features.push(if c.count == 1 {
                    Feature::Point(point(layers, layer, c.first_at, &c.first))
                } else {
                    Feature::Cluster(ClusterFeature {
                        layer,
                        position: c.center(),
                        count: c.count,
                        categories: PartnerCategory::ALL
                            .iter()
                            .zip(c.by_kind)
                            .filter(|(_, n)| *n > 0)
                            .map(|(k, n)| (*k, n))
                            .collect(),
                        split_zoom: Grid::new(q.zoom, CLUSTER_PX_LOG2).split_zoom(c.min, c.max),
                        extent: c.extent(),
                    })
                });
            }
        } else {
            let room = q.limit.saturating_sub(features.len());
            layers.layer(layer).within(&world, |e| {
                let category = layers.category_of(&e.item);
                if matcher.matches(layer, &e.item, category) {
                    total += 1;
                    if (total as usize) <= room {
                        features.push(Feature::Point(point(layers, layer, e.at, &e.item)));
                    }
                }
            });
        }
        totals.push((layer, total));
    }
    if features.len() > q.limit {
        // The biggest clusters carry the picture; single points go first when something must.
        features.sort_by_key(|f| std::cmp::Reverse(f.count()));
        features.truncate(q.limit);
        truncated = true;
    }
    let shown: u64 = features.iter().map(|f| u64::from(f.count())).sum();
    truncated |= shown < totals.iter().map(|(_, n)| n).sum::<u64>();
    Ok(FeatureSet { features, totals, truncated })
}

fn point(layers: &Layers, layer: Layer, at: WorldXY, p: &Pt) -> PointFeature {
    let partner = (p.partner != NONE).then(|| &layers.partner_slots[p.partner as usize]);
    let id = Uuid::from_bytes(p.id);
    let name = match layer {
        Layer::Partners | Layer::Visits => partner.map(|s| s.name.to_string()),
        Layer::Events => layers.event_titles.get(&id).map(|t| t.to_string()),
        Layer::Leads => None,
    };
    PointFeature {
        layer,
        id,
        position: unproject(at),
        category: PartnerCategory::ALL[layers.category_of(p) as usize],
        status: layer.status_name(p.status),
        owner_id: *layers.users.item(p.owner),
        partner_id: partner.filter(|_| layer != Layer::Partners).map(|s| s.id),
        project_id: (p.project != NONE).then(|| *layers.projects.item(p.project)),
        at: DateTime::from_timestamp(i64::from(p.at), 0).unwrap_or_default(),
        name,
    }
}
