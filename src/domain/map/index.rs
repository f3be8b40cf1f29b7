//! The map's in-memory index: every partner, visit, event and lead of every branch as a compact
//! point, in tile buckets. It answers box queries in memory and stays exact by catching up, before
//! each answer, on everything written since the last change number it saw — so several replicas
//! on one database each see every write, theirs or another's, at once.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Mutex, RwLock, RwLockReadGuard};

use chrono::NaiveDateTime;
use uuid::Uuid;

use super::layer::{Layer, Vocabulary};
use crate::domain::DomainError;
use crate::domain::kinds::event_kind::EventStatus;
use crate::domain::kinds::lead_kind::LeadStatus;
use crate::domain::kinds::partner_kind::{PartnerCategory, PartnerStatus};
use crate::geo::mercator::project;
use crate::geo::{LatLon, PointIndex, WorldXY};
use crate::store::map::{self as store, EventPoint, LeadPoint, PartnerPoint, Place, Slice, VisitPoint};
use crate::store::{DbConn, StoreError, sync};

/// "None" in an interned reference.
pub const NONE: u32 = u32::MAX;

/// One record on the map: 44 bytes plus its position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pt {
    pub id: [u8; 16],
    /// Seconds since 1970 of the layer's moment: created (partners, leads), visited, starts.
    pub at: u32,
    /// Seconds since 1970 a lead converted; 0 otherwise.
    pub done_at: u32,
    pub unit: u32,
    pub owner: u32,
    pub project: u32,
    pub partner: u32,
    /// Index in the layer's status vocabulary ([`Layer::statuses`]).
    pub status: u8,
}

/// What the map knows of a partner beyond its point: visits, events and leads take their
/// category from it, and the coverage list shows its name and cadence.
#[derive(Debug, Clone)]
pub struct PartnerSlot {
    pub id: Uuid,
    pub category: u8,
    pub name: Box<str>,
    pub cadence_days: i32,
    pub live: bool,
}

#[derive(Debug)]
pub struct Interner<T> {
    map: HashMap<T, u32>,
    items: Vec<T>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner { map: HashMap::new(), items: Vec::new() }
    }
}

impl<T: Hash + Eq + Clone> Interner<T> {
    pub fn intern(&mut self, value: &T) -> u32 {
        if let Some(i) = self.map.get(value) {
            return *i;
        }
        let i = self.items.len() as u32;
        self.items.push(value.clone());
        self.map.insert(value.clone(), i);
        i
    }

    pub fn get(&self, value: &T) -> Option<u32> {
        self.map.get(value).copied()
    }

    pub fn item(&self, i: u32) -> &T {
        &self.items[i as usize]
    }

    pub fn items(&self) -> &[T] {
        &self.items
    }
}

/// Whether a record may already have a point in the index. One created after the watermark, or
/// met during the first load, has none: no old point to look for and remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Indexed {
    Never,
    Maybe,
}

impl Indexed {
    fn since(created_seq: i64, watermark: i64) -> Indexed {
        if created_seq > watermark { Indexed::Never } else { Indexed::Maybe }
    }
}

#[derive(Debug, Default)]
pub struct Layers {
    pub partners: PointIndex<Pt>,
    pub visits: PointIndex<Pt>,
    pub events: PointIndex<Pt>,
    pub leads: PointIndex<Pt>,
    pub units: Interner<String>,
    pub users: Interner<Uuid>,
    pub projects: Interner<Uuid>,
    pub partner_ids: Interner<Uuid>,
    pub partner_slots: Vec<PartnerSlot>,
    /// The category of each partner slot, apart from the slots: the hot loop reads only this
    /// (100 KB for 100k partners, which stays in cache).
    pub partner_categories: Vec<u8>,
    pub event_titles: HashMap<Uuid, Box<str>>,
    /// Every change up to this number is in.
    pub watermark: i64,
}

impl Layers {
    pub fn layer(&self, layer: Layer) -> &PointIndex<Pt> {
        match layer {
            Layer::Partners => &self.partners,
            Layer::Visits => &self.visits,
            Layer::Events => &self.events,
            Layer::Leads => &self.leads,
        }
    }

    fn layer_mut(&mut self, layer: Layer) -> &mut PointIndex<Pt> {
        match layer {
            Layer::Partners => &mut self.partners,
            Layer::Visits => &mut self.visits,
            Layer::Events => &mut self.events,
            Layer::Leads => &mut self.leads,
        }
    }

    /// The category a point is drawn with: its partner's (a visit away from any partner is `other`).
    pub fn category_of(&self, p: &Pt) -> u8 {
        if p.partner == NONE { OTHER } else { self.partner_categories[p.partner as usize] }
    }

    fn partner_slot(&mut self, id: &str) -> Result<u32, StoreError> {
        let uuid = crate::store::uuid_col(id)?;
        let i = self.partner_ids.intern(&uuid);
        if i as usize == self.partner_slots.len() {
            self.partner_slots.push(PartnerSlot {
                id: uuid,
                category: OTHER,
                name: "".into(),
                cadence_days: 30,
                live: false,
            });
            self.partner_categories.push(OTHER);
        }
        Ok(i)
    }

    fn optional_partner(&mut self, id: Option<&str>) -> Result<u32, StoreError> {
        id.map_or(Ok(NONE), |id| self.partner_slot(id))
    }

    fn user(&mut self, id: &str) -> Result<u32, StoreError> {
        Ok(self.users.intern(&crate::store::uuid_col(id)?))
    }

    fn project(&mut self, id: Option<&str>) -> Result<u32, StoreError> {
        id.map_or(Ok(NONE), |id| Ok(self.projects.intern(&crate::store::uuid_col(id)?)))
    }

    /// Puts the point of a record in place of its old one, if it may have one.
    fn put(&mut self, layer: Layer, at: WorldXY, point: Option<Pt>, id: [u8; 16], indexed: Indexed) {
        let index = self.layer_mut(layer);
        if indexed == Indexed::Maybe {
            index.remove(Some(at), |p| p.id == id);
        }
        if let Some(point) = point {
            index.insert(at, point);
        }
    }

    fn apply_partner(&mut self, row: PartnerPoint, indexed: Indexed) -> Result<(), StoreError> {
        let slot = self.partner_slot(&row.id)?;
        let category = category_index(&row.category);
        let id = *self.partner_slots[slot as usize].id.as_bytes();
        let live = row.deleted_at.is_none();
        let s = &mut self.partner_slots[slot as usize];
        s.category = category;
        self.partner_categories[slot as usize] = category;
        s.name = row.name.into();
        s.cadence_days = row.visit_cadence_days;
        s.live = live;
        let at = position(row.lat, row.lon);
        let point = Pt {
            id,
            at: seconds(row.created_at),
            done_at: 0,
            unit: self.units.intern(&row.org_path),
            owner: self.user(&row.owner_id)?,
            project: NONE,
            partner: slot,
            status: status_index::<PartnerStatus>(&row.status),
        };
        self.put(Layer::Partners, at, live.then_some(point), id, indexed);
        Ok(())
    }

    fn apply_visit(&mut self, row: VisitPoint, indexed: Indexed) -> Result<(), StoreError> {
        let id = *crate::store::uuid_col(&row.id)?.as_bytes();
        let point = Pt {
            id,
            at: seconds(row.visited_at),
            done_at: 0,
            unit: self.units.intern(&row.org_path),
            owner: self.user(&row.user_id)?,
            project: self.project(row.project_id.as_deref())?,
            partner: self.optional_partner(row.partner_id.as_deref())?,
            status: u8::from(row.verified),
        };
        self.put(Layer::Visits, position(row.lat, row.lon), row.deleted_at.is_none().then_some(point), id, indexed);
        Ok(())
    }

    fn apply_event(&mut self, row: EventPoint, indexed: Indexed) -> Result<(), StoreError> {
        let uuid = crate::store::uuid_col(&row.id)?;
        let point = Pt {
            id: *uuid.as_bytes(),
            at: seconds(row.starts_at),
            done_at: 0,
            unit: self.units.intern(&row.org_path),
            owner: self.user(&row.owner_id)?,
            project: self.project(row.project_id.as_deref())?,
            partner: self.partner_slot(&row.partner_id)?,
            status: status_index::<EventStatus>(&row.status),
        };
        let live = row.deleted_at.is_none();
        if live {
            self.event_titles.insert(uuid, row.title.into());
        } else {
            self.event_titles.remove(&uuid);
        }
        self.put(Layer::Events, position(row.lat, row.lon), live.then_some(point), *uuid.as_bytes(), indexed);
        Ok(())
    }

    /// A lead is drawn where its source took place: the visit, the event's venue, or the partner.
    /// One the person asked not to be contacted is left off the map.
    fn apply_lead(&mut self, row: LeadPoint, place: Option<&Place>, indexed: Indexed) -> Result<(), StoreError> {
        let id = *crate::store::uuid_col(&row.id)?.as_bytes();
        let partner_id = row.partner_id.as_deref().or(place.and_then(|p| p.partner_id.as_deref()));
        let point = Pt {
            id,
            at: seconds(row.created_at),
            done_at: row.converted_at.map_or(0, seconds),
            unit: self.units.intern(&row.org_path),
            owner: self.user(&row.owner_id)?,
            project: self.project(row.project_id.as_deref())?,
            partner: self.optional_partner(partner_id)?,
            status: status_index::<LeadStatus>(&row.status),
        };
        let at = place.map(|p| position(p.lat, p.lon));
        match at.filter(|_| !row.do_not_contact) {
            Some(at) => self.put(Layer::Leads, at, Some(point), id, indexed),
            None if indexed == Indexed::Maybe => self.put(Layer::Leads, WorldXY::default(), None, id, Indexed::Maybe),
            None => {}
        }
        Ok(())
    }

    /// Leads of a batch with where each is drawn: the source visit or event, else the partner
    /// (whose place is read from the database too, so a lead lands where its partner stands).
    fn apply_leads(
        &mut self,
        conn: &mut DbConn,
        rows: Vec<LeadPoint>,
        indexed: impl Fn(&LeadPoint) -> Indexed,
    ) -> Result<(), StoreError> {
        let of = |source: &str| -> Vec<String> {
            rows.iter().filter(|r| r.source == source).filter_map(|r| r.source_id.clone()).collect()
        };
        let mut places: HashMap<String, Place> = HashMap::new();
        places.extend(store::visit_places(conn, &of("visit"))?.into_iter().map(|p| (p.id.clone(), p)));
        places.extend(store::event_places(conn, &of("event"))?.into_iter().map(|p| (p.id.clone(), p)));
        let partners: Vec<String> = rows
            .iter()
            .filter(|r| !r.source_id.as_ref().is_some_and(|s| places.contains_key(s)))
            .filter_map(|r| {
                r.partner_id.clone().or_else(|| (r.source == "partner").then(|| r.source_id.clone()).flatten())
            })
            .collect();
        places.extend(store::partner_places(conn, &partners)?.into_iter().map(|p| (p.id.clone(), p)));
        for row in rows {
            let indexed = indexed(&row);
            let place = row
                .source_id
                .as_ref()
                .and_then(|s| places.get(s))
                .or_else(|| row.partner_id.as_ref().and_then(|p| places.get(p)))
                .cloned();
            self.apply_lead(row, place.as_ref(), indexed)?;
        }
        Ok(())
    }

    /// Drops records deleted outright, in one pass over the layer.
    fn forget(&mut self, layer: Layer, ids: HashSet<[u8; 16]>) {
        if !ids.is_empty() {
            self.layer_mut(layer).retain(|e| !ids.contains(&e.item.id));
        }
    }
}

const PAGE: i64 = 20_000;
const OTHER: u8 = (PartnerCategory::ALL.len() - 1) as u8;

pub fn category_index(text: &str) -> u8 {
    PartnerCategory::ALL.iter().position(|c| c.as_str() == text).map_or(OTHER, |i| i as u8)
}

fn status_index<S: Vocabulary>(text: &str) -> u8 {
    S::index(text)
}

fn seconds(t: NaiveDateTime) -> u32 {
    t.and_utc().timestamp().clamp(0, u32::MAX as i64) as u32
}

fn position(lat: f64, lon: f64) -> WorldXY {
    project(LatLon { lat, lon })
}

/// The index with its refresh discipline: one catch-up at a time, readers never wait on the
/// database.
#[derive(Debug, Default)]
pub struct MapIndex {
    layers: RwLock<Option<Layers>>,
    refresh: Mutex<()>,
}

impl MapIndex {
    /// Whether the first load has finished. Callers with a database fallback use it until then
    /// rather than wait for the load (seconds at bank scale).
    pub fn is_loaded(&self) -> bool {
        self.layers.read().unwrap_or_else(|e| e.into_inner()).is_some()
    }

    /// Brings the index up to the database's newest change and hands it out for reading.
    pub fn current(&self, conn: &mut DbConn) -> Result<RwLockReadGuard<'_, Option<Layers>>, DomainError> {
        let watermark =
            |index: &MapIndex| index.layers.read().unwrap_or_else(|e| e.into_inner()).as_ref().map(|l| l.watermark);
        let (head, news) = match watermark(self) {
            Some(w) => store::horizon_and_news(conn, w)?,
            None => (sync::horizon(conn)?, true),
        };
        if !news && watermark(self).is_some_and(|w| w < head) {
            // The horizon moved with others' work only: nothing to read, just move the mark.
            let mut guard = self.layers.write().unwrap_or_else(|e| e.into_inner());
            if let Some(layers) = guard.as_mut() {
                layers.watermark = layers.watermark.max(head);
            }
        }
        // Every change at or below `head` has committed, and every other is numbered above it
        // (`sync::horizon`; on PostgreSQL a change shows once every older transaction has ended,
        // milliseconds). An index that has
        // reached it is fresh, and readers of a quiet database never queue on the refresh lock
        // (64 nearby searches at once waited on each other's round trip for `head` under it).
        if watermark(self).is_none_or(|w| w < head) {
            let _one_at_a_time = self.refresh.lock().unwrap_or_else(|e| e.into_inner());
            // Another reader may have caught up while this one waited.
            match watermark(self) {
                None => {
                    let loaded = load(conn, head)?;
                    *self.layers.write().unwrap_or_else(|e| e.into_inner()) = Some(loaded);
                }
                Some(w) if w < head => {
                    let changes = Changes::read(conn, w, head)?;
                    let mut guard = self.layers.write().unwrap_or_else(|e| e.into_inner());
                    if let Some(layers) = guard.as_mut() {
                        changes.apply(conn, layers, w)?;
                        layers.watermark = head;
                    }
                }
                Some(_) => {}
            }
        }
        Ok(self.layers.read().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Reads every record as of change `head`, read first. A row written meanwhile has a change
/// number above `head`: it is skipped here and arrives with the first catch-up — never lost,
/// never twice.
fn load(conn: &mut DbConn, head: i64) -> Result<Layers, StoreError> {
    let mut layers = Layers { watermark: head, ..Layers::default() };
    let mut from = String::new();
    loop {
        let rows = store::partners(conn, Slice::Page { from: &from, size: PAGE })?;
        let Some(last) = rows.last() else { break };
        from = last.id.clone();
        for row in rows.into_iter().filter(|r| r.seq <= head) {
            layers.apply_partner(row, Indexed::Never)?;
        }
    }
    from.clear();
    loop {
        let rows = store::visits(conn, Slice::Page { from: &from, size: PAGE })?;
        let Some(last) = rows.last() else { break };
        from = last.id.clone();
        for row in rows.into_iter().filter(|r| r.seq <= head) {
            layers.apply_visit(row, Indexed::Never)?;
        }
    }
    from.clear();
    loop {
        let rows = store::events(conn, Slice::Page { from: &from, size: PAGE })?;
        let Some(last) = rows.last() else { break };
        from = last.id.clone();
        for row in rows.into_iter().filter(|r| r.seq <= head) {
            layers.apply_event(row, Indexed::Never)?;
        }
    }
    from.clear();
    loop {
        let rows = store::leads(conn, Slice::Page { from: &from, size: PAGE })?;
        let Some(last) = rows.last() else { break };
        from = last.id.clone();
        let rows: Vec<LeadPoint> = rows.into_iter().filter(|r| r.seq <= head).collect();
        layers.apply_leads(conn, rows, |_| Indexed::Never)?;
    }
    for index in [&mut layers.partners, &mut layers.visits, &mut layers.events, &mut layers.leads] {
        index.optimize();
    }
    Ok(layers)
}

/// What changed in `(after, head]`, read before the index is locked for writing.
struct Changes {
    partners: Vec<PartnerPoint>,
    visits: Vec<VisitPoint>,
    events: Vec<EventPoint>,
    leads: Vec<LeadPoint>,
    erased_leads: Vec<String>,
}

impl Changes {
    fn read(conn: &mut DbConn, after: i64, upto: i64) -> Result<Changes, StoreError> {
        let slice = || Slice::Changed { after, upto };
        Ok(Changes {
            partners: store::partners(conn, slice())?,
            visits: store::visits(conn, slice())?,
            events: store::events(conn, slice())?,
            leads: store::leads(conn, slice())?,
            erased_leads: store::erased_leads(conn, after, upto)?,
        })
    }

    fn apply(self, conn: &mut DbConn, layers: &mut Layers, watermark: i64) -> Result<(), StoreError> {
        for row in self.partners {
            let indexed = Indexed::since(row.created_seq, watermark);
            layers.apply_partner(row, indexed)?;
        }
        for row in self.visits {
            let indexed = Indexed::since(row.created_seq, watermark);
            layers.apply_visit(row, indexed)?;
        }
        for row in self.events {
            let indexed = Indexed::since(row.created_seq, watermark);
            layers.apply_event(row, indexed)?;
        }
        layers.apply_leads(conn, self.leads, |r| Indexed::since(r.created_seq, watermark))?;
        let erased: HashSet<[u8; 16]> = self
            .erased_leads
            .iter()
            .map(|id| crate::store::uuid_col(id).map(|u| *u.as_bytes()))
            .collect::<Result<_, _>>()?;
        layers.forget(Layer::Leads, erased);
        Ok(())
    }
}
