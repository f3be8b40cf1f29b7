//! `/api/v1/map`: the outreach map (客群地图) — clustered GeoJSON features and coverage.

use std::collections::BTreeMap;
use std::str::FromStr;

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::context::state::AppState;
use crate::domain::kinds::partner_kind::PartnerCategory;
use crate::domain::map::coverage::{self, Coverage, CoverageQuery, Figures};
use crate::domain::map::features::{self, Feature, FeatureQuery};
use crate::domain::map::scope::Filters;
use crate::domain::map::{Layer, VisitState};
use crate::geo::{Datum, LatLon};
use crate::http::common::extract::{Caller, CoordParam, time_filters};
use crate::http::common::problem::{ApiError, Problem};

pub const DEFAULT_FEATURE_LIMIT: u32 = 2_000;
pub const MAX_FEATURE_LIMIT: u32 = 10_000;

/// A comma-separated list of a closed vocabulary; an unknown word is a 422 naming it.
fn list<T: FromStr>(field: &str, text: Option<&str>) -> Result<Option<Vec<T>>, ApiError> {
    let Some(text) = text else { return Ok(None) };
    text.split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(|w| T::from_str(w).map_err(|_| ApiError::field(field, format!("unknown value `{w}`"))))
        .collect::<Result<Vec<T>, ApiError>>()
        .map(Some)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeatureParams {
    /// `minLon,minLat,maxLon,maxLat` in the datum of `coord`; at most 16384 px a side at `zoom`.
    pub bbox: String,
    /// The map's zoom, 0–22: clusters are 64-pixel cells at this zoom.
    pub zoom: u8,
    /// Comma-separated, from `partners,visits,events,leads` (default: all four).
    pub layers: Option<String>,
    /// `false` answers every point one by one (up to `limit`); default `true`.
    pub cluster: Option<bool>,
    /// Visits from (visited), events from (starts), leads from (created). Partners are not narrowed.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Comma-separated partner categories; visits, events and leads take their partner's.
    pub category: Option<String>,
    /// Comma-separated partner statuses.
    pub partner_status: Option<String>,
    /// Comma-separated: `verified`, `unverified`.
    pub visit_status: Option<String>,
    /// Comma-separated event statuses.
    pub event_status: Option<String>,
    /// Comma-separated lead statuses.
    pub lead_status: Option<String>,
    /// Partners and events owned by, visits made by, leads owned by this user.
    pub owner_id: Option<Uuid>,
    /// Visits, events and leads of this project (partners are not narrowed).
    pub project_id: Option<Uuid>,
    /// Only this unit's subtree (within yours).
    pub org_unit_id: Option<Uuid>,
    /// Most features in the answer, 1–10000 (default 2000); beyond it `truncated` is true.
    pub limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PointGeometry {
    #[schema(example = "Point")]
    pub r#type: &'static str,
    /// `[lon, lat]` in the datum of `coord`.
    pub coordinates: [f64; 2],
}

/// One point, or a cluster (`cluster: true`) of several.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FeatureProperties {
    pub layer: Layer,
    pub cluster: bool,
    /// Clusters: how many points.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point_count: Option<u32>,
    /// Clusters: points per category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<BTreeMap<String, u32>>,
    /// Clusters: the zoom at which it comes apart; absent when its points are on one spot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub split_zoom: Option<u8>,
    /// Clusters: `[west, south, east, north]` of its points.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extent: Option<[f64; 4]>,
    /// Points: the record (partner, visit, event or lead).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    /// Points: the partner category (of the partner visited, hosting, or the lead came from).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<PartnerCategory>,
    /// Points: the status in the layer's own vocabulary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<Uuid>,
    /// Points: created (partners, leads), visited, starts (events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    /// Points: the partner's name, the event's title, the visited partner; never for leads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FeatureBody {
    #[schema(example = "Feature")]
    pub r#type: &'static str,
    pub geometry: PointGeometry,
    pub properties: FeatureProperties,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FeatureCollectionBody {
    #[schema(example = "FeatureCollection")]
    pub r#type: &'static str,
    pub features: Vec<FeatureBody>,
    /// Matching points per layer asked for, counted in full even when `truncated`.
    pub totals: BTreeMap<String, u64>,
    /// More matched than the features can show: zoom in, filter, or raise `limit`.
    pub truncated: bool,
    pub zoom: u8,
    pub coord: Datum,
}

fn out(coord: &CoordParam, p: LatLon) -> [f64; 2] {
    let p = coord.outgoing(p);
    [p.lon, p.lat]
}

fn out_box(coord: &CoordParam, [w, s, e, n]: [f64; 4]) -> [f64; 4] {
    let [w, s] = out(coord, LatLon { lat: s, lon: w });
    let [e, n] = out(coord, LatLon { lat: n, lon: e });
    [w, s, e, n]
}

impl FeatureBody {
    fn render(f: Feature, coord: &CoordParam) -> FeatureBody {
        let (position, properties) = match f {
            Feature::Point(p) => (
                p.position,
                FeatureProperties {
                    layer: p.layer,
                    cluster: false,
                    point_count: None,
                    categories: None,
                    split_zoom: None,
                    extent: None,
                    id: Some(p.id),
                    category: Some(p.category),
                    status: Some(p.status),
                    owner_id: Some(p.owner_id),
                    partner_id: p.partner_id,
                    project_id: p.project_id,
                    at: Some(p.at),
                    name: p.name,
                },
            ),
            Feature::Cluster(c) => (
                c.position,
                FeatureProperties {
                    layer: c.layer,
                    cluster: true,
                    point_count: Some(c.count),
                    categories: Some(c.categories.into_iter().map(|(k, n)| (k.as_str().to_owned(), n)).collect()),
                    split_zoom: c.split_zoom,
                    extent: Some(out_box(coord, c.extent)),
                    id: None,
                    category: None,
                    status: None,
                    owner_id: None,
                    partner_id: None,
                    project_id: None,
                    at: None,
                    name: None,
                },
            ),
        };
        FeatureBody {
            r#type: "Feature",
            geometry: PointGeometry { r#type: "Point", coordinates: out(coord, position) },
            properties,
        }
    }
}

/// The caller's partners, visits, events and leads in a box as GeoJSON, clustered on a 64-pixel
/// grid at the zoom asked. Counts never include anything outside the caller's scope.
#[utoipa::path(tag = "map", security(("bearer" = [])), params(FeatureParams, CoordParam), responses(
    (status = 200, body = FeatureCollectionBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/map/features")]
pub async fn map_features(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    params: web::Query<FeatureParams>,
    coord: web::Query<CoordParam>,
) -> Result<HttpResponse, ApiError> {
    let p = params.into_inner();
    let bbox = coord.bbox(Some(&p.bbox))?.ok_or_else(|| ApiError::field("bbox", "required"))?;
    time_filters(&[("from", p.from), ("to", p.to)])?;
    let limit = p.limit.unwrap_or(DEFAULT_FEATURE_LIMIT);
    if !(1..=MAX_FEATURE_LIMIT).contains(&limit) {
        return Err(ApiError::field("limit", format!("must be between 1 and {MAX_FEATURE_LIMIT}")));
    }
    let layers = list::<Layer>("layers", p.layers.as_deref())?.unwrap_or_else(|| Layer::ALL.to_vec());
    let mut unique = Vec::new();
    for l in layers {
        if !unique.contains(&l) {
            unique.push(l);
        }
    }
    let query = FeatureQuery {
        bbox,
        zoom: p.zoom,
        layers: unique,
        cluster: p.cluster.unwrap_or(true),
        limit: limit as usize,
        org_unit_id: p.org_unit_id,
        filters: Filters {
            from: p.from,
            to: p.to,
            categories: list("category", p.category.as_deref())?,
            partner_status: list("partner_status", p.partner_status.as_deref())?,
            visit_status: list::<VisitState>("visit_status", p.visit_status.as_deref())?,
            event_status: list("event_status", p.event_status.as_deref())?,
            lead_status: list("lead_status", p.lead_status.as_deref())?,
            owner_id: p.owner_id,
            project_id: p.project_id,
        },
    };
    let map = state.map.clone();
    let set = state.db.run(move |conn| features::features(conn, &map, &actor, &query)).await?;
    Ok(HttpResponse::Ok().json(FeatureCollectionBody {
        r#type: "FeatureCollection",
        features: set.features.into_iter().map(|f| FeatureBody::render(f, &coord)).collect(),
        totals: set.totals.into_iter().map(|(l, n)| (l.as_str().to_owned(), n)).collect(),
        truncated: set.truncated,
        zoom: p.zoom,
        coord: coord.datum(),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CoverageParams {
    /// 1–366: overdue means no verified visit in this many days (instead of past the partner's
    /// visit cadence); figures and heat count this many days back (default 30).
    pub days: Option<u32>,
    /// Figures per unit right under this one (default: your own unit).
    pub org_unit_id: Option<Uuid>,
    /// With `zoom`: the visit heat grid of this box (`minLon,minLat,maxLon,maxLat`, datum of `coord`).
    pub bbox: Option<String>,
    pub zoom: Option<u8>,
    /// Most overdue partners listed, 1–2000 (default 200); `overdue_total` counts them all.
    pub limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OverdueBody {
    pub partner_id: Uuid,
    pub name: String,
    pub category: PartnerCategory,
    pub status: &'static str,
    /// In the datum of `coord`.
    pub lat: f64,
    pub lon: f64,
    pub owner_id: Uuid,
    pub owner_name: String,
    pub cadence_days: i32,
    /// The days allowed without a verified visit: the cadence, or `days` when asked.
    pub allowed_days: u32,
    pub last_visit_at: Option<DateTime<Utc>>,
    pub last_verified_visit_at: Option<DateTime<Utc>>,
    /// Whole days since the last verified visit (since the partner was added, if never).
    pub days_since: u32,
    pub overdue_days: u32,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FiguresBody {
    pub partners: u64,
    /// Signed or active alliances.
    pub active_alliances: u64,
    pub overdue_partners: u64,
    /// In the window.
    pub visits: u64,
    pub verified_visits: u64,
    /// Verified visits / visits; null without visits.
    pub verified_share: Option<f64>,
    /// Not cancelled, starting in the window.
    pub events: u64,
    /// Created in the window.
    pub leads: u64,
    /// Converted in the window.
    pub conversions: u64,
}

impl From<Figures> for FiguresBody {
    fn from(f: Figures) -> FiguresBody {
        FiguresBody {
            verified_share: f.verified_share(),
            partners: f.partners,
            active_alliances: f.active_alliances,
            overdue_partners: f.overdue_partners,
            visits: f.visits,
            verified_visits: f.verified_visits,
            events: f.events,
            leads: f.leads,
            conversions: f.conversions,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TerritoryBody {
    pub org_unit_id: Uuid,
    pub name: String,
    #[serde(flatten)]
    pub figures: FiguresBody,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HeatCellBody {
    /// `[west, south, east, north]` in the datum of `coord`.
    pub bounds: [f64; 4],
    pub count: u32,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct HeatBody {
    pub zoom: u8,
    pub cell_px: u32,
    pub cells: Vec<HeatCellBody>,
    pub truncated: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CoverageBody {
    pub window_from: DateTime<Utc>,
    pub window_to: DateTime<Utc>,
    /// Most overdue first.
    pub overdue: Vec<OverdueBody>,
    pub overdue_total: u64,
    pub totals: FiguresBody,
    /// One row per unit under the one asked about, and one for the unit itself when records
    /// sit directly on it.
    pub territories: Vec<TerritoryBody>,
    /// With `bbox` and `zoom`: visits in the window per 32-pixel cell.
    pub heat: Option<HeatBody>,
    pub coord: Datum,
}

/// Partners overdue for a visit, figures per territory or outlet, and a visit heat grid.
#[utoipa::path(tag = "map", security(("bearer" = [])), params(CoverageParams, CoordParam), responses(
    (status = 200, body = CoverageBody),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json"),
))]
#[get("/map/coverage")]
pub async fn map_coverage(
    Caller(actor): Caller,
    state: web::Data<AppState>,
    params: web::Query<CoverageParams>,
    coord: web::Query<CoordParam>,
) -> Result<HttpResponse, ApiError> {
    let p = params.into_inner();
    let heat = match (coord.bbox(p.bbox.as_deref())?, p.zoom) {
        (Some(b), Some(z)) => Some((b, z)),
        (None, None) => None,
        (Some(_), None) => return Err(ApiError::field("zoom", "required with bbox")),
        (None, Some(_)) => return Err(ApiError::field("bbox", "required with zoom")),
    };
    let limit = p.limit.unwrap_or(200);
    if !(1..=2000).contains(&limit) {
        return Err(ApiError::field("limit", "must be between 1 and 2000"));
    }
    let query =
        CoverageQuery { days: p.days, org_unit_id: p.org_unit_id, heat, limit: limit as usize, now: Utc::now() };
    let map = state.map.clone();
    let c: Coverage = state.db.run(move |conn| coverage::coverage(conn, &map, &actor, &query)).await?;
    Ok(HttpResponse::Ok().json(CoverageBody {
        window_from: c.window_from,
        window_to: c.window_to,
        overdue: c
            .overdue
            .into_iter()
            .map(|o| {
                let [lon, lat] = out(&coord, o.position);
                OverdueBody {
                    partner_id: o.partner_id,
                    name: o.name,
                    category: o.category,
                    status: o.status,
                    lat,
                    lon,
                    owner_id: o.owner_id,
                    owner_name: o.owner_name,
                    cadence_days: o.cadence_days,
                    allowed_days: o.allowed_days,
                    last_visit_at: o.last_visit_at,
                    last_verified_visit_at: o.last_verified_visit_at,
                    days_since: o.days_since,
                    overdue_days: o.overdue_days,
                }
            })
            .collect(),
        overdue_total: c.overdue_total,
        totals: c.totals.into(),
        territories: c
            .territories
            .into_iter()
            .map(|t| TerritoryBody { org_unit_id: t.org_unit_id, name: t.name, figures: t.figures.into() })
            .collect(),
        heat: c.heat.map(|h| HeatBody {
            zoom: h.zoom,
            cell_px: h.cell_px,
            cells: h
                .cells
                .into_iter()
                .map(|c| HeatCellBody { bounds: out_box(&coord, c.bounds), count: c.count })
                .collect(),
            truncated: h.truncated,
        }),
        coord: coord.datum(),
    }))
}
