//! Which points of the index a caller may see and asked for: the same scope rules as the lists
//! (a subtree; an account manager's own visits and leads), then the filters.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::index::{Layers, NONE, Pt};
use super::layer::{Layer, VisitState, Vocabulary};
use crate::domain::kinds::event_kind::EventStatus;
use crate::domain::kinds::lead_kind::LeadStatus;
use crate::domain::kinds::partner_kind::{PartnerCategory, PartnerStatus};
use crate::domain::{Actor, Role};

#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// The moment window, applied to visits (visited), events (starts) and leads (created).
    /// Partners are the places themselves: neither the window nor `project_id` narrows them.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub categories: Option<Vec<PartnerCategory>>,
    pub partner_status: Option<Vec<PartnerStatus>>,
    pub visit_status: Option<Vec<VisitState>>,
    pub event_status: Option<Vec<EventStatus>>,
    pub lead_status: Option<Vec<LeadStatus>>,
    pub owner_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
}

/// A compiled test of one point, built once per request.
pub struct Matcher {
    unit_ok: Vec<bool>,
    /// An account manager sees only their own visits and leads.
    own: Option<u32>,
    from: u32,
    to: u32,
    categories: u16,
    statuses: [u16; 4],
    owner: Option<u32>,
    project: Option<u32>,
}

fn mask<V: Vocabulary>(values: &Option<Vec<V>>) -> u16 {
    values.as_ref().map_or(u16::MAX, |vs| vs.iter().fold(0, |m, v| m | 1 << v.position()))
}

fn seconds(t: Option<DateTime<Utc>>, default: u32) -> u32 {
    t.map_or(default, |t| t.timestamp().clamp(0, u32::MAX as i64) as u32)
}

impl Vocabulary for PartnerCategory {
    fn all() -> &'static [Self] {
        PartnerCategory::ALL
    }
    fn text(self) -> &'static str {
        self.as_str()
    }
}

impl Matcher {
    /// `within` narrows the caller's scope to a subtree they may see (its path).
    pub fn new(layers: &Layers, actor: &Actor, within: Option<&str>, f: &Filters) -> Matcher {
        let scope = actor.scope();
        let unit_ok = layers
            .units
            .items()
            .iter()
            .map(|path| scope.contains(path) && within.is_none_or(|w| path.starts_with(w)))
            .collect();
        let user = |id: Uuid| layers.users.get(&id).unwrap_or(NONE);
        Matcher {
            unit_ok,
            own: (actor.role == Role::AccountManager).then(|| user(actor.user_id)),
            from: seconds(f.from, 0),
            to: seconds(f.to, u32::MAX),
            categories: mask(&f.categories),
            statuses: [mask(&f.partner_status), mask(&f.visit_status), mask(&f.event_status), mask(&f.lead_status)],
            owner: f.owner_id.map(user),
            project: f.project_id.map(|p| layers.projects.get(&p).unwrap_or(NONE)),
        }
    }

    /// In scope: the subtree, and for account managers their own visits and leads.
    pub fn visible(&self, layer: Layer, p: &Pt) -> bool {
        self.unit_ok.get(p.unit as usize).copied().unwrap_or(false)
            && (self.own.is_none_or(|me| p.owner == me) || matches!(layer, Layer::Partners | Layer::Events))
    }

    /// Visible, and what the filters ask for. `category` is the point's category index.
    pub fn matches(&self, layer: Layer, p: &Pt, category: u8) -> bool {
        let slot = layer as usize;
        self.visible(layer, p)
            && self.categories & (1 << category) != 0
            && self.statuses[slot] & (1 << p.status) != 0
            && self.owner.is_none_or(|o| p.owner == o)
            // Partners stand on the map whatever the window or project: they are the places.
            && (layer == Layer::Partners
                || ((self.from..=self.to).contains(&p.at) && self.project.is_none_or(|pr| p.project == pr && pr != NONE)))
    }
}
