//! Non-financial community events (非金活动) run with a partner.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use rand::Rng;
use serde::Serialize;
use uuid::Uuid;

use crate::domain::common::create::Created;
use crate::domain::common::error::Validator;
use crate::domain::events::step_plan;
use crate::domain::kinds::event_kind::{EventStatus, EventTheme};
use crate::domain::{Actor, DomainError, ErrorCode, Role};
use crate::geo::LatLon;
use crate::geo::bbox::lat_band;
use crate::store::events::events::{self as store, EventFilter, EventRow};
use crate::store::{DbConn, Page, PageRequest, StoreError, enum_col, now_utc, sync, uuid_col};

/// Days attendees' personal data is kept after an event unless they became leads.
pub const DEFAULT_RETENTION_DAYS: i32 = 180;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub id: Uuid,
    #[serde(skip)]
    pub branch_id: String,
    pub org_unit_id: Uuid,
    #[serde(skip)]
    pub org_path: String,
    pub owner_id: Uuid,
    pub partner_id: Uuid,
    pub project_id: Option<Uuid>,
    pub title: String,
    pub theme: EventTheme,
    pub description: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub venue: String,
    pub location: LatLon,
    pub capacity: i32,
    pub registration_deadline: DateTime<Utc>,
    pub registration_code: String,
    pub registration_open: bool,
    pub status: EventStatus,
    pub registered_count: i32,
    pub retention_days: i32,
    #[serde(skip)]
    create_digest: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub deleted_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    pub seq: i64,
    #[serde(skip)]
    pub created_seq: i64,
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;
    fn try_from(r: EventRow) -> Result<Self, StoreError> {
        Ok(Event {
            id: uuid_col(&r.id)?,
            org_unit_id: uuid_col(&r.org_unit_id)?,
            owner_id: uuid_col(&r.owner_id)?,
            partner_id: uuid_col(&r.partner_id)?,
            project_id: r.project_id.as_deref().map(uuid_col).transpose()?,
            theme: enum_col(&r.theme)?,
            status: enum_col(&r.status)?,
            location: LatLon { lat: r.lat, lon: r.lon },
            starts_at: r.starts_at.and_utc(),
            ends_at: r.ends_at.and_utc(),
            registration_deadline: r.registration_deadline.and_utc(),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            deleted_at: r.deleted_at.map(|t| t.and_utc()),
            branch_id: r.branch_id,
            org_path: r.org_path,
            title: r.title,
            description: r.description,
            venue: r.venue,
            capacity: r.capacity,
            registration_code: r.registration_code,
            registration_open: r.registration_open,
            registered_count: r.registered_count,
            retention_days: r.retention_days,
            create_digest: r.create_digest,
            version: r.version,
            seq: r.seq,
            created_seq: r.created_seq,
        })
    }
}

impl Event {
    fn to_row(&self) -> EventRow {
        EventRow {
            id: self.id.to_string(),
            branch_id: self.branch_id.clone(),
            org_unit_id: self.org_unit_id.to_string(),
            org_path: self.org_path.clone(),
            owner_id: self.owner_id.to_string(),
            partner_id: self.partner_id.to_string(),
            project_id: self.project_id.map(|p| p.to_string()),
            title: self.title.clone(),
            theme: self.theme.as_str().to_owned(),
            description: self.description.clone(),
            starts_at: self.starts_at.naive_utc(),
            ends_at: self.ends_at.naive_utc(),
            venue: self.venue.clone(),
            lat: self.location.lat,
            lon: self.location.lon,
            lat_band: lat_band(self.location.lat),
            capacity: self.capacity,
            registration_deadline: self.registration_deadline.naive_utc(),
            registration_code: self.registration_code.clone(),
            registration_open: self.registration_open,
            status: self.status.as_str().to_owned(),
            registered_count: self.registered_count,
            retention_days: self.retention_days,
            create_digest: self.create_digest.clone(),
            version: self.version,
            created_at: self.created_at.naive_utc(),
            updated_at: self.updated_at.naive_utc(),
            deleted_at: self.deleted_at.map(|t| t.naive_utc()),
            seq: self.seq,
            created_seq: self.created_seq,
        }
    }
}

/// 60 random bits in Crockford base32 without look-alike letters: unguessable, easy to type.
fn registration_code() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::rng();
    (0..14).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct NewEvent {
    pub id: Option<Uuid>,
    pub partner_id: Uuid,
    pub project_id: Option<Uuid>,
    pub title: String,
    pub theme: EventTheme,
    pub description: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub venue: String,
    /// WGS-84; the partner's location when absent.
    pub location: Option<LatLon>,
    pub capacity: i32,
    /// Default: the event's start.
    pub registration_deadline: Option<DateTime<Utc>>,
    pub retention_days: Option<i32>,
}

#[derive(Debug, Clone, Default)]
pub struct EventPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub venue: Option<String>,
    pub capacity: Option<i32>,
    pub registration_deadline: Option<DateTime<Utc>>,
    pub registration_open: Option<bool>,
    pub status: Option<EventStatus>,
    pub version: Option<i64>,
}

fn check_times(v: &mut Validator, starts: DateTime<Utc>, ends: DateTime<Utc>, deadline: DateTime<Utc>) {
    v.check("starts_at", crate::domain::common::text::sane_time(starts));
    v.check("ends_at", crate::domain::common::text::sane_time(ends));
    if ends <= starts {
        v.add("ends_at", "must be after starts_at");
    }
    if ends - starts > Duration::days(14) {
        v.add("ends_at", "an event lasts at most 14 days");
    }
    if deadline > ends {
        v.add("registration_deadline", "must not be after the event ends");
    }
}

fn check_capacity(v: &mut Validator, capacity: i32) {
    if !(1..=100_000).contains(&capacity) {
        v.add("capacity", "must be between 1 and 100000");
    }
}

/// Supervisors read; account managers change their own events; managers their subtree.
pub fn may_write(actor: &Actor, owner_id: Uuid) -> Result<(), DomainError> {
    match actor.role {
        Role::Supervisor => Err(DomainError::forbidden(ErrorCode::RoleNotAllowed, "supervisors do not run events")),
        Role::AccountManager if owner_id != actor.user_id => {
            Err(DomainError::forbidden(ErrorCode::NotOwner, "account managers change only their own events"))
        }
        _ => Ok(()),
    }
}

pub fn create(conn: &mut DbConn, actor: &Actor, input: NewEvent) -> Result<Created<Event>, DomainError> {
    if actor.role == Role::Supervisor {
        return Err(DomainError::forbidden(ErrorCode::RoleNotAllowed, "supervisors do not run events"));
    }
    let mut v = Validator::default();
    let title = v.check("title", crate::domain::common::text::name(&input.title, 100)).unwrap_or_default();
    let venue = v.check("venue", crate::domain::common::text::name(&input.venue, 200)).unwrap_or_default();
    let description = input.description.as_deref().unwrap_or("").trim().to_owned();
    if description.chars().count() > 2000 {
        v.add("description", "must be at most 2000 characters");
    }
    let deadline = input.registration_deadline.unwrap_or(input.starts_at);
    check_times(&mut v, input.starts_at, input.ends_at, deadline);
    check_capacity(&mut v, input.capacity);
    if let Some(l) = input.location {
        v.check("location", l.validated());
    }
    if input.retention_days.is_some_and(|d| !(1..=3650).contains(&d)) {
        v.add("retention_days", "must be between 1 and 3650");
    }
    v.finish()?;
    let digest: String = crate::domain::common::create::create_digest(&input);
    crate::domain::common::create::retry_on_race(|| {
        conn.write_tx(|conn| {
            let id = input.id.unwrap_or_else(Uuid::now_v7);
            if let Some(existing) = store::find(conn, &id.to_string())? {
                let existing = Event::try_from(existing)?;
                let visible = existing.deleted_at.is_none() && actor.scope().contains(&existing.org_path);
                return if visible && existing.create_digest == digest {
                    Ok(Created::Existing(existing))
                } else {
                    Err(DomainError::conflict(ErrorCode::IdConflict, "another event already has this id"))
                };
            }
            let partner = crate::domain::field::partners::get(conn, actor, input.partner_id)?;
            if let Some(project) = input.project_id {
                crate::domain::projects::projects::check_link(conn, actor, project, &partner.branch_id)?;
            }
            let now = now_utc();
            let seq = sync::next_seq(conn)?;
            let event = Event {
                id,
                branch_id: partner.branch_id.clone(),
                org_unit_id: partner.org_unit_id,
                org_path: partner.org_path.clone(),
                owner_id: actor.user_id,
                partner_id: partner.id,
                project_id: input.project_id,
                title: title.clone(),
                theme: input.theme,
                description: description.clone(),
                starts_at: input.starts_at.trunc_subsecs(6),
                ends_at: input.ends_at.trunc_subsecs(6),
                venue: venue.clone(),
                location: input.location.unwrap_or(partner.location),
                capacity: input.capacity,
                registration_deadline: deadline.trunc_subsecs(6),
                registration_code: registration_code(),
                registration_open: true,
                status: EventStatus::Planned,
                registered_count: 0,
                retention_days: input.retention_days.unwrap_or(DEFAULT_RETENTION_DAYS),
                create_digest: digest.clone(),
                version: 1,
                created_at: now.and_utc(),
                updated_at: now.and_utc(),
                deleted_at: None,
                seq,
                created_seq: seq,
            };
            store::insert(conn, &event.to_row(), &step_plan::defaults(event.id, event.starts_at, event.ends_at))?;
            crate::domain::org::audit::record(
                conn,
                actor,
                "event",
                id,
                &event.org_path,
                crate::domain::org::audit::Action::Create,
                serde_json::to_value(&event).unwrap_or_default(),
            )?;
            Ok(Created::New(event))
        })
    })
}

pub fn get(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<Event, DomainError> {
    let row = store::find(conn, &id.to_string())?
        .filter(|r| r.deleted_at.is_none() && actor.scope().contains(&r.org_path))
        .ok_or(DomainError::NotFound("event"))?;
    Ok(Event::try_from(row)?)
}

#[derive(Debug, Default, Clone)]
pub struct EventQuery {
    pub owner_id: Option<Uuid>,
    pub partner_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub status: Option<EventStatus>,
}

pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    query: &EventQuery,
    page: &PageRequest,
) -> Result<Page<Event>, DomainError> {
    let filter = EventFilter {
        path_prefix: actor.scope().path_prefix(),
        owner_id: query.owner_id.map(|u| u.to_string()),
        partner_id: query.partner_id.map(|u| u.to_string()),
        from: query.from.map(|t| t.naive_utc()),
        to: query.to.map(|t| t.naive_utc()),
        status: query.status.map(|s| s.as_str().to_owned()),
    };
    Ok(store::list(conn, &filter, page)?.try_map(Event::try_from)?)
}

pub fn update(conn: &mut DbConn, actor: &Actor, id: Uuid, patch: EventPatch) -> Result<Event, DomainError> {
    conn.write_tx(|conn| {
        let current = get(conn, actor, id)?;
        may_write(actor, current.owner_id)?;
        if patch.version.is_some_and(|v| v != current.version) {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the event changed since you read it"));
        }
        let mut v = Validator::default();
        let mut next = current.clone();
        if let Some(t) = &patch.title {
            next.title = v.check("title", crate::domain::common::text::name(t, 100)).unwrap_or_default();
        }
        if let Some(t) = &patch.venue {
            next.venue = v.check("venue", crate::domain::common::text::name(t, 200)).unwrap_or_default();
        }
        if let Some(d) = &patch.description {
            next.description = d.trim().to_owned();
        }
        if let Some(c) = patch.capacity {
            check_capacity(&mut v, c);
            if c < current.registered_count {
                v.add("capacity", format!("{} people are already registered", current.registered_count));
            }
            next.capacity = c;
        }
        next.registration_deadline =
            patch.registration_deadline.map(|t| t.trunc_subsecs(6)).unwrap_or(next.registration_deadline);
        next.registration_open = patch.registration_open.unwrap_or(next.registration_open);
        check_times(&mut v, next.starts_at, next.ends_at, next.registration_deadline);
        if let Some(status) = patch.status.filter(|s| *s != current.status) {
            if status != EventStatus::Cancelled || current.status != EventStatus::Planned {
                return Err(DomainError::conflict(
                    ErrorCode::InvalidTransition,
                    "a planned event can be cancelled; completion comes from its review step",
                ));
            }
            next.status = status;
            next.registration_open = false;
        }
        v.finish()?;
        if next == current {
            return Ok(current);
        }
        next.version += 1;
        next.updated_at = now_utc().and_utc();
        next.seq = sync::next_seq(conn)?;
        if !store::replace(conn, &next.to_row(), current.version)? {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the event changed since you read it"));
        }
        let changes = crate::domain::org::audit::diff(
            &serde_json::to_value(&current).unwrap_or_default(),
            &serde_json::to_value(&next).unwrap_or_default(),
        );
        crate::domain::org::audit::record(
            conn,
            actor,
            "event",
            id,
            &next.org_path,
            crate::domain::org::audit::Action::Update,
            changes,
        )?;
        Ok(next)
    })
}

/// Marks the event completed (its review step is done); part of the caller's transaction.
pub(crate) fn complete(conn: &mut DbConn, event: &Event) -> Result<(), StoreError> {
    let mut next = event.clone();
    next.status = EventStatus::Completed;
    next.registration_open = false;
    next.version += 1;
    next.updated_at = now_utc().and_utc();
    next.seq = sync::next_seq(conn)?;
    store::replace(conn, &next.to_row(), event.version)?;
    Ok(())
}
