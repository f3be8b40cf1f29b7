//! `GET /map/coverage`: who is overdue for a visit, how each territory is doing, where visits are.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::MapIndex;
use super::index::NONE;
use super::layer::Layer;
use super::scope::{Filters, Matcher};
use crate::domain::kinds::event_kind::EventStatus;
use crate::domain::kinds::lead_kind::LeadStatus;
use crate::domain::kinds::partner_kind::{PartnerCategory, PartnerStatus};
use crate::domain::map::layer::Vocabulary;
use crate::domain::org::org_units::OrgUnit;
use crate::domain::{Actor, DomainError};
use crate::geo::cluster::{Gather, Grid};
use crate::geo::mercator::unproject;
use crate::geo::{BBox, LatLon};
use crate::store::DbConn;

pub const DEFAULT_WINDOW_DAYS: u32 = 30;
pub const MAX_DAYS: u32 = 366;
/// Heat cells are 32 screen pixels.
const HEAT_PX_LOG2: u32 = 5;
const MAX_HEAT_CELLS: usize = 20_000;

#[derive(Debug, Clone)]
pub struct CoverageQuery {
    /// Overdue means "no verified visit in this many days" instead of "past its cadence"; the
    /// figures and the heat count this many days back (default 30).
    pub days: Option<u32>,
    pub org_unit_id: Option<Uuid>,
    /// The heat grid of a box at a zoom.
    pub heat: Option<(BBox, u8)>,
    pub limit: usize,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Overdue {
    pub partner_id: Uuid,
    pub name: String,
    pub category: PartnerCategory,
    pub status: &'static str,
    pub position: LatLon,
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

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Figures {
    pub partners: u64,
    /// Partners whose alliance is signed or active.
    pub active_alliances: u64,
    pub overdue_partners: u64,
    pub visits: u64,
    pub verified_visits: u64,
    pub events: u64,
    pub leads: u64,
    pub conversions: u64,
}

impl Figures {
    pub fn verified_share(&self) -> Option<f64> {
        (self.visits > 0).then(|| self.verified_visits as f64 / self.visits as f64)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TerritoryFigures {
    /// A unit under the one asked about; the asked unit itself for what sits directly on it.
    pub org_unit_id: Uuid,
    pub name: String,
    pub figures: Figures,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HeatCell {
    /// `[west, south, east, north]`.
    pub bounds: [f64; 4],
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Heat {
    pub zoom: u8,
    pub cell_px: u32,
    pub cells: Vec<HeatCell>,
    pub truncated: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    pub window_from: DateTime<Utc>,
    pub window_to: DateTime<Utc>,
    pub overdue_total: u64,
    pub overdue: Vec<Overdue>,
    pub totals: Figures,
    pub territories: Vec<TerritoryFigures>,
    pub heat: Option<Heat>,
}

pub fn coverage(
    conn: &mut DbConn,
    index: &MapIndex,
    actor: &Actor,
    q: &CoverageQuery,
) -> Result<Coverage, DomainError> {
    if let Some(d) = q.days
        && !(1..=MAX_DAYS).contains(&d)
    {
        return Err(DomainError::invalid("days", format!("must be between 1 and {MAX_DAYS}")));
    }
    let heat_view = match q.heat {
        Some((bbox, zoom)) => Some((super::features::check_view(&bbox, zoom)?, zoom)),
        None => None,
    };
    let base = match q.org_unit_id {
        Some(id) => Some(crate::domain::org::org_units::get(conn, actor, id)?),
        None => match actor.org_unit_id {
            Some(id) => Some(crate::domain::org::org_units::get(conn, actor, id)?),
            None => None,
        },
    };
    let children: Vec<OrgUnit> =
        crate::store::org::org_units::children(conn, base.as_ref().map(|b| b.id.to_string()).as_deref())?
            .into_iter()
            .map(OrgUnit::try_from)
            .collect::<Result<_, _>>()?;
    let window_days = q.days.unwrap_or(DEFAULT_WINDOW_DAYS);
    let window_from = q.now - Duration::days(i64::from(window_days));
    let filters = Filters { from: Some(window_from), to: Some(q.now), ..Filters::default() };

    let guard = index.current(conn)?;
    let Some(layers) = guard.as_ref() else { return Err(DomainError::NotFound("map")) };
    let within = base.as_ref().map(|b| b.path.as_str());
    let in_scope = Matcher::new(layers, actor, within, &Filters::default());
    let in_window = Matcher::new(layers, actor, within, &filters);

    // Which row each unit's records count in: the child whose subtree holds it, else the base.
    let rows_of_units: Vec<Option<usize>> = layers
        .units
        .items()
        .iter()
        .map(|path| children.iter().position(|c| path.starts_with(&c.path)).or(base.as_ref().map(|_| children.len())))
        .collect();
    let mut rows = vec![Figures::default(); children.len() + 1];
    let mut totals = Figures::default();
    let mut count = |unit: u32, add: &dyn Fn(&mut Figures)| {
        add(&mut totals);
        if let Some(Some(r)) = rows_of_units.get(unit as usize) {
            add(&mut rows[*r]);
        }
    };

    // The last visit and last verified visit of every partner, by anyone: a colleague's visit
    // covers the partner too.
    let (mut last_any, mut last_verified) =
        (vec![0u32; layers.partner_slots.len()], vec![0u32; layers.partner_slots.len()]);
    let mut heat = heat_view.map(|(view, zoom)| Gather::<1, ()>::over(Grid::new(zoom, HEAT_PX_LOG2), &view));
    for e in layers.visits.iter() {
        let p = &e.item;
        if p.partner != NONE {
            let i = p.partner as usize;
            last_any[i] = last_any[i].max(p.at);
            if p.status == 1 {
                last_verified[i] = last_verified[i].max(p.at);
            }
        }
        if in_window.matches(Layer::Visits, p, layers.category_of(p)) {
            count(p.unit, &|f| {
                f.visits += 1;
                f.verified_visits += u64::from(p.status == 1);
            });
            if let (Some(g), Some((view, _))) = (heat.as_mut(), heat_view.as_ref())
                && view.contains(e.at)
            {
                g.add(e.at, 0, ());
            }
        }
    }

    let now = q.now.timestamp().clamp(0, u32::MAX as i64) as u32;
    let terminated = PartnerStatus::Terminated.position();
    let alliance = [PartnerStatus::Signed.position(), PartnerStatus::Active.position()];
    let mut overdue = Vec::new();
    for e in layers.partners.iter() {
        let p = &e.item;
        if !in_scope.visible(Layer::Partners, p) {
            continue;
        }
        let slot = &layers.partner_slots[p.partner as usize];
        let allowed = q.days.unwrap_or(slot.cadence_days.max(1) as u32);
        let reference = last_verified[p.partner as usize].max(p.at);
        let days_since = now.saturating_sub(reference) / 86_400;
        let late = p.status != terminated && now.saturating_sub(reference) > allowed * 86_400;
        count(p.unit, &|f| {
            f.partners += 1;
            f.active_alliances += u64::from(alliance.contains(&p.status));
            f.overdue_partners += u64::from(late);
        });
        if late {
            let at = |s: u32| (s > 0).then(|| DateTime::from_timestamp(i64::from(s), 0).unwrap_or_default());
            overdue.push(Overdue {
                partner_id: slot.id,
                name: slot.name.to_string(),
                category: PartnerCategory::ALL[slot.category as usize],
                status: Layer::Partners.status_name(p.status),
                position: unproject(e.at),
                owner_id: *layers.users.item(p.owner),
                owner_name: String::new(),
                cadence_days: slot.cadence_days,
                allowed_days: allowed,
                last_visit_at: at(last_any[p.partner as usize]),
                last_verified_visit_at: at(last_verified[p.partner as usize]),
                days_since,
                overdue_days: days_since.saturating_sub(allowed),
            });
        }
    }
    let cancelled = EventStatus::Cancelled.position();
    for e in layers.events.iter() {
        let p = &e.item;
        if p.status != cancelled && in_window.matches(Layer::Events, p, layers.category_of(p)) {
            count(p.unit, &|f| f.events += 1);
        }
    }
    let converted = LeadStatus::Converted.position();
    let window = (window_from.timestamp().max(0) as u32)..=now;
    for e in layers.leads.iter() {
        let p = &e.item;
        if !in_scope.visible(Layer::Leads, p) {
            continue;
        }
        let new = window.contains(&p.at);
        let conversion = p.status == converted && window.contains(&p.done_at);
        count(p.unit, &|f| {
            f.leads += u64::from(new);
            f.conversions += u64::from(conversion);
        });
    }

    overdue.sort_by(|a, b| b.overdue_days.cmp(&a.overdue_days).then_with(|| a.name.cmp(&b.name)));
    let overdue_total = overdue.len() as u64;
    overdue.truncate(q.limit);
    let mut territories: Vec<TerritoryFigures> = children
        .iter()
        .zip(&rows)
        .map(|(c, f)| TerritoryFigures { org_unit_id: c.id, name: c.name.clone(), figures: f.clone() })
        .collect();
    if let Some(b) = &base
        && rows[children.len()] != Figures::default()
    {
        territories.push(TerritoryFigures {
            org_unit_id: b.id,
            name: b.name.clone(),
            figures: rows[children.len()].clone(),
        });
    }
    let heat = heat.zip(heat_view).map(|(g, (_, zoom))| {
        let grid = g.grid;
        let cells = g.into_clusters();
        let truncated = cells.len() > MAX_HEAT_CELLS;
        Heat {
            zoom,
            cell_px: 1 << HEAT_PX_LOG2,
            cells: cells
                .into_iter()
                .take(MAX_HEAT_CELLS)
                .map(|c| HeatCell { bounds: grid.cell_bounds(c.cell), count: c.count })
                .collect(),
            truncated,
        }
    });
    drop(guard);
    let owners: Vec<String> = overdue.iter().map(|o| o.owner_id.to_string()).collect();
    let names: std::collections::HashMap<String, String> =
        crate::store::org::users::names(conn, &owners)?.into_iter().collect();
    for o in &mut overdue {
        o.owner_name = names.get(&o.owner_id.to_string()).cloned().unwrap_or_default();
    }
    Ok(Coverage { window_from, window_to: q.now, overdue_total, overdue, totals, territories, heat })
}
