//! Visits (拜访): geotagged check-ins at partners or on cold sweeps, with a server verdict.

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::common::calendar::Clock;
use crate::domain::common::create::Created;
use crate::domain::common::error::Validator;
use crate::domain::common::evidence::PhotoSignal;
use crate::domain::field::verification::{self, Reason, Signals, Thresholds, Verdict};
use crate::domain::kinds::project_kind::PointsAction;
use crate::domain::kinds::text_enum;
use crate::domain::org::org_units::OrgUnit;
use crate::domain::projects::points::{self, Credit, Source};
use crate::domain::{Actor, DomainError, ErrorCode, Role};
use crate::geo::LatLon;
use crate::geo::bbox::lat_band;
use crate::store::field::partners as partner_store;
use crate::store::field::photos as photo_store;
use crate::store::field::visits::{self as store, VisitFilter, VisitRow};
use crate::store::projects::project_metrics;
use crate::store::projects::projects as project_store;
use crate::store::{DbConn, Page, PageRequest, StoreError, enum_col, now_utc, sync, uuid_col};

text_enum!(VisitPurpose {
    Relationship => "relationship",
    AllianceNegotiation => "alliance_negotiation",
    EventPlanning => "event_planning",
    MarketSweep => "market_sweep",
    Service => "service",
    FollowUp => "follow_up",
    Other => "other",
});

text_enum!(VisitOutcome {
    Positive => "positive",
    Neutral => "neutral",
    Negative => "negative",
    NoContact => "no_contact",
});

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Visit {
    pub id: Uuid,
    #[serde(skip)]
    pub branch_id: String,
    pub org_unit_id: Uuid,
    #[serde(skip)]
    pub org_path: String,
    pub user_id: Uuid,
    pub partner_id: Option<Uuid>,
    pub visited_at: DateTime<Utc>,
    pub location: LatLon,
    pub accuracy_m: f64,
    pub purpose: VisitPurpose,
    pub notes: String,
    pub outcome: Option<VisitOutcome>,
    pub next_step: Option<String>,
    pub next_visit_at: Option<DateTime<Utc>>,
    pub mock_location: Option<bool>,
    pub location_age_s: Option<f64>,
    pub verified: bool,
    pub distance_m: Option<f64>,
    pub reasons: Vec<Reason>,
    /// The segment project the visit counts for.
    pub project_id: Option<Uuid>,
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

impl TryFrom<VisitRow> for Visit {
    type Error = StoreError;
    fn try_from(r: VisitRow) -> Result<Self, StoreError> {
        Ok(Visit {
            id: uuid_col(&r.id)?,
            org_unit_id: uuid_col(&r.org_unit_id)?,
            user_id: uuid_col(&r.user_id)?,
            partner_id: r.partner_id.as_deref().map(uuid_col).transpose()?,
            project_id: r.project_id.as_deref().map(uuid_col).transpose()?,
            visited_at: r.visited_at.and_utc(),
            location: LatLon { lat: r.lat, lon: r.lon },
            purpose: enum_col(&r.purpose)?,
            outcome: r.outcome.as_deref().map(enum_col).transpose()?,
            next_visit_at: r.next_visit_at.map(|t| t.and_utc()),
            reasons: serde_json::from_str(&r.reasons)
                .map_err(|e| StoreError::Corrupt(format!("reasons of {}: {e}", r.id)))?,
            branch_id: r.branch_id,
            org_path: r.org_path,
            accuracy_m: r.accuracy_m,
            notes: r.notes,
            next_step: r.next_step,
            mock_location: r.mock_location,
            location_age_s: r.location_age_s,
            verified: r.verified,
            distance_m: r.distance_m,
            create_digest: r.create_digest,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            deleted_at: r.deleted_at.map(|t| t.and_utc()),
            seq: r.seq,
            created_seq: r.created_seq,
        })
    }
}

impl Visit {
    fn to_row(&self) -> VisitRow {
        VisitRow {
            id: self.id.to_string(),
            branch_id: self.branch_id.clone(),
            org_unit_id: self.org_unit_id.to_string(),
            org_path: self.org_path.clone(),
            user_id: self.user_id.to_string(),
            partner_id: self.partner_id.map(|p| p.to_string()),
            visited_at: self.visited_at.naive_utc(),
            lat: self.location.lat,
            lon: self.location.lon,
            lat_band: lat_band(self.location.lat),
            accuracy_m: self.accuracy_m,
            purpose: self.purpose.as_str().to_owned(),
            notes: self.notes.clone(),
            outcome: self.outcome.map(|o| o.as_str().to_owned()),
            next_step: self.next_step.clone(),
            next_visit_at: self.next_visit_at.map(|t| t.naive_utc()),
            mock_location: self.mock_location,
            location_age_s: self.location_age_s,
            verified: self.verified,
            distance_m: self.distance_m,
            reasons: serde_json::to_string(&self.reasons).unwrap_or_else(|_| "[]".to_owned()),
            create_digest: self.create_digest.clone(),
            version: self.version,
            created_at: self.created_at.naive_utc(),
            updated_at: self.updated_at.naive_utc(),
            deleted_at: self.deleted_at.map(|t| t.naive_utc()),
            seq: self.seq,
            created_seq: self.created_seq,
            project_id: self.project_id.map(|p| p.to_string()),
        }
    }

    /// A verified, live visit linked to a project earns its visitor points; anything else holds none.
    fn credit(&self) -> Option<Credit> {
        match (self.project_id, self.verified && self.deleted_at.is_none()) {
            (Some(project_id), true) => {
                Some(Credit { project_id, user_id: self.user_id, occurred_at: self.visited_at })
            }
            _ => None,
        }
    }

    /// What the visit adds to its project's day counters: (project, visitor, verified).
    fn counted(&self) -> Option<(Uuid, Uuid, bool)> {
        self.project_id.filter(|_| self.deleted_at.is_none()).map(|p| (p, self.user_id, self.verified))
    }

    /// Settles the ledger and the project's day counters after a change from `before` (`None`
    /// for a new visit).
    fn settle_points(&self, conn: &mut DbConn, before: Option<&Visit>) -> Result<(), StoreError> {
        let id = self.id.to_string();
        let source = Source { kind: "visit", id: &id };
        points::settle(conn, PointsAction::VerifiedVisit, source, before.and_then(Visit::credit), self.credit())?;
        let (was, is) = (before.and_then(Visit::counted), self.counted());
        if was == is {
            return Ok(());
        }
        let clock = Clock::new(&project_store::branch_time_zone(conn, &self.branch_id)?);
        let day = clock.local_date(self.visited_at);
        if let Some((project, user, verified)) = was {
            let verified = -i32::from(verified);
            project_metrics::bump_visit_day(conn, &project.to_string(), &user.to_string(), day, -1, verified)?;
        }
        if let Some((project, user, verified)) = is {
            let verified = i32::from(verified);
            project_metrics::bump_visit_day(conn, &project.to_string(), &user.to_string(), day, 1, verified)?;
        }
        Ok(())
    }

    fn apply(&mut self, verdict: Verdict) {
        self.verified = verdict.verified;
        self.distance_m = verdict.distance_m;
        self.reasons = verdict.reasons;
    }
}

/// A visit as the phone reports it; the location is already WGS-84.
#[derive(Debug, Clone, Serialize)]
pub struct NewVisit {
    pub id: Option<Uuid>,
    pub partner_id: Option<Uuid>,
    pub location: LatLon,
    pub accuracy_m: f64,
    pub visited_at: DateTime<Utc>,
    pub purpose: VisitPurpose,
    pub notes: Option<String>,
    pub outcome: Option<VisitOutcome>,
    pub next_step: Option<String>,
    pub next_visit_at: Option<DateTime<Utc>>,
    pub mock_location: Option<bool>,
    pub location_age_s: Option<f64>,
    /// Left out of the idempotency digest when absent, so retries made before projects existed
    /// still match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<Uuid>,
}

/// What may change after the fact. Where and when a visit happened is evidence and stays.
#[derive(Debug, Clone, Default)]
pub struct VisitPatch {
    pub purpose: Option<VisitPurpose>,
    pub notes: Option<String>,
    pub outcome: Option<VisitOutcome>,
    pub next_step: Option<String>,
    pub next_visit_at: Option<DateTime<Utc>>,
    pub project_id: Option<Uuid>,
    pub version: Option<i64>,
}

fn may_write(actor: &Actor, visit_user: Uuid) -> Result<(), DomainError> {
    match actor.role {
        Role::Supervisor => {
            Err(DomainError::forbidden(ErrorCode::RoleNotAllowed, "supervisors do not record partner visits"))
        }
        Role::AccountManager if visit_user != actor.user_id => {
            Err(DomainError::forbidden(ErrorCode::NotOwner, "account managers change only their own visits"))
        }
        _ => Ok(()),
    }
}

/// Account managers see their own visits; everyone else their subtree.
fn visible(actor: &Actor, row: &VisitRow) -> bool {
    row.deleted_at.is_none()
        && actor.scope().contains(&row.org_path)
        && (actor.role != Role::AccountManager || row.user_id == actor.user_id.to_string())
}

fn signals(conn: &mut DbConn, visit: &Visit, photos: Vec<PhotoSignal>) -> Result<Signals, StoreError> {
    let partner = match visit.partner_id {
        Some(id) => partner_store::find(conn, &id.to_string())?
            .map(|p| (LatLon { lat: p.lat, lon: p.lon }, f64::from(p.geofence_m))),
        None => None,
    };
    let neighbour =
        store::nearest_in_time(conn, &visit.user_id.to_string(), visit.visited_at.naive_utc(), &visit.id.to_string())?
            .map(|(lat, lon, at)| (LatLon { lat, lon }, at.and_utc()));
    Ok(Signals {
        location: visit.location,
        accuracy_m: visit.accuracy_m,
        visited_at: visit.visited_at,
        recorded_at: visit.created_at,
        partner,
        mock_location: visit.mock_location,
        location_age_s: visit.location_age_s,
        neighbour,
        photos,
    })
}

/// A phone's position fix as reported: the point, its accuracy radius, its age.
pub(crate) fn checked_fix(v: &mut Validator, location: LatLon, accuracy_m: f64, location_age_s: Option<f64>) -> LatLon {
    let location = v.check("location", location.validated()).unwrap_or(location);
    if !(accuracy_m.is_finite() && (0.0..=100_000.0).contains(&accuracy_m)) {
        v.add("location.accuracy_m", "must be between 0 and 100000 metres");
    }
    if location_age_s.is_some_and(|a| !(a.is_finite() && a >= 0.0)) {
        v.add("location_age_s", "must be zero or more seconds");
    }
    location
}

fn optional_text(v: &mut Validator, field: &str, text: Option<&str>, max: usize) -> Option<String> {
    let text = text.map(str::trim).filter(|t| !t.is_empty())?;
    if text.chars().count() > max {
        v.add(field, format!("must be at most {max} characters"));
    }
    Some(text.to_owned())
}

pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    thresholds: &Thresholds,
    input: NewVisit,
) -> Result<Created<Visit>, DomainError> {
    if actor.role == Role::Supervisor {
        return Err(DomainError::forbidden(ErrorCode::RoleNotAllowed, "supervisors do not record partner visits"));
    }
    let mut v = Validator::default();
    let location = checked_fix(&mut v, input.location, input.accuracy_m, input.location_age_s);
    v.check("visited_at", crate::domain::common::text::sane_time(input.visited_at));
    if let Some(next) = input.next_visit_at {
        v.check("next_visit_at", crate::domain::common::text::sane_time(next));
    }
    let notes = optional_text(&mut v, "notes", input.notes.as_deref(), 2000).unwrap_or_default();
    let next_step = optional_text(&mut v, "next_step", input.next_step.as_deref(), 500);
    v.finish()?;
    let digest = crate::domain::common::create::create_digest(&input);
    crate::domain::common::create::retry_on_race(|| {
        conn.write_tx(|conn| {
            let id = input.id.unwrap_or_else(Uuid::now_v7);
            if let Some(existing) = store::find(conn, &id.to_string())? {
                let same = existing.create_digest == digest && visible(actor, &existing);
                return if same {
                    Ok(Created::Existing(Visit::try_from(existing)?))
                } else {
                    Err(DomainError::conflict(ErrorCode::IdConflict, "another visit already has this id"))
                };
            }
            let partner = input.partner_id.map(|p| crate::domain::field::partners::get(conn, actor, p)).transpose()?;
            let unit: OrgUnit = match (actor.org_unit_id, &partner) {
                (Some(unit), _) => crate::domain::org::org_units::get(conn, actor, unit)?,
                (None, Some(p)) => crate::domain::org::org_units::get(conn, actor, p.org_unit_id)?,
                (None, None) => {
                    return Err(DomainError::invalid(
                        "partner_id",
                        "an admin without an org unit records visits at a partner",
                    ));
                }
            };
            let project_id = crate::domain::projects::projects::project_for_visit(
                conn,
                &unit.branch_id.to_string(),
                actor.user_id,
                input.project_id,
                input.visited_at,
            )?;
            let now = now_utc();
            let seq = sync::next_seq(conn)?;
            let mut visit = Visit {
                id,
                branch_id: unit.branch_id.to_string(),
                org_unit_id: unit.id,
                org_path: unit.path,
                user_id: actor.user_id,
                partner_id: input.partner_id,
                project_id,
                visited_at: input.visited_at.trunc_subsecs(6),
                location,
                accuracy_m: input.accuracy_m,
                purpose: input.purpose,
                notes: notes.clone(),
                outcome: input.outcome,
                next_step: next_step.clone(),
                next_visit_at: input.next_visit_at.map(|t| t.trunc_subsecs(6)),
                mock_location: input.mock_location,
                location_age_s: input.location_age_s,
                verified: false,
                distance_m: None,
                reasons: Vec::new(),
                create_digest: digest.clone(),
                version: 1,
                created_at: now.and_utc(),
                updated_at: now.and_utc(),
                deleted_at: None,
                seq,
                created_seq: seq,
            };
            let verdict = verification::verify(&signals(conn, &visit, Vec::new())?, thresholds);
            visit.apply(verdict);
            store::insert(conn, &visit.to_row())?;
            visit.settle_points(conn, None)?;
            Ok(Created::New(visit))
        })
    })
}

pub fn get(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<Visit, DomainError> {
    let row =
        store::find(conn, &id.to_string())?.filter(|r| visible(actor, r)).ok_or(DomainError::NotFound("visit"))?;
    Ok(Visit::try_from(row)?)
}

#[derive(Debug, Default, Clone)]
pub struct VisitQuery {
    pub user_id: Option<Uuid>,
    pub partner_id: Option<Uuid>,
    pub org_unit_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub verified: Option<bool>,
    pub bbox: Option<crate::geo::BBox>,
}

pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    query: &VisitQuery,
    page: &PageRequest,
) -> Result<Page<Visit>, DomainError> {
    let own = (actor.role == Role::AccountManager).then_some(actor.user_id);
    if let (Some(me), Some(asked)) = (own, query.user_id)
        && me != asked
    {
        return Ok(Page { items: Vec::new(), next_cursor: None });
    }
    let filter = VisitFilter {
        path_prefix: actor.scope().path_prefix(),
        user_id: own.or(query.user_id).map(|u| u.to_string()),
        partner_id: query.partner_id.map(|u| u.to_string()),
        org_unit_id: query.org_unit_id.map(|u| u.to_string()),
        from: query.from.map(|t| t.naive_utc()),
        to: query.to.map(|t| t.naive_utc()),
        verified: query.verified,
        within: query.bbox.map(|b| crate::domain::field::partners::box_filter(&b)),
    };
    Ok(store::list(conn, &filter, page)?.try_map(Visit::try_from)?)
}

pub fn update(conn: &mut DbConn, actor: &Actor, id: Uuid, patch: VisitPatch) -> Result<Visit, DomainError> {
    let mut v = Validator::default();
    let notes = patch.notes.as_deref().map(|n| optional_text(&mut v, "notes", Some(n), 2000).unwrap_or_default());
    let next_step = patch.next_step.as_deref().map(|n| optional_text(&mut v, "next_step", Some(n), 500));
    if let Some(next) = patch.next_visit_at {
        v.check("next_visit_at", crate::domain::common::text::sane_time(next));
    }
    v.finish()?;
    conn.write_tx(|conn| {
        let current = get(conn, actor, id)?;
        may_write(actor, current.user_id)?;
        if patch.version.is_some_and(|v| v != current.version) {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the visit changed since you read it"));
        }
        let mut next = current.clone();
        next.purpose = patch.purpose.unwrap_or(next.purpose);
        next.notes = notes.clone().unwrap_or(next.notes);
        next.outcome = patch.outcome.or(next.outcome);
        next.next_step = next_step.clone().unwrap_or(next.next_step);
        next.next_visit_at = patch.next_visit_at.map(|t| t.trunc_subsecs(6)).or(next.next_visit_at);
        if let Some(project) = patch.project_id.filter(|p| Some(*p) != current.project_id) {
            next.project_id = crate::domain::projects::projects::project_for_visit(
                conn,
                &current.branch_id,
                current.user_id,
                Some(project),
                current.visited_at,
            )?;
        }
        if next == current {
            return Ok(current);
        }
        bump(conn, &mut next)?;
        if !store::replace(conn, &next.to_row(), current.version)? {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the visit changed since you read it"));
        }
        next.settle_points(conn, Some(&current))?;
        Ok(next)
    })
}

fn bump(conn: &mut DbConn, visit: &mut Visit) -> Result<(), StoreError> {
    visit.version += 1;
    visit.updated_at = now_utc().and_utc();
    visit.seq = sync::next_seq(conn)?;
    Ok(())
}

pub fn delete(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<(), DomainError> {
    conn.write_tx(|conn| {
        let current = get(conn, actor, id)?;
        may_write(actor, current.user_id)?;
        let mut gone = current.clone();
        bump(conn, &mut gone)?;
        gone.deleted_at = Some(gone.updated_at);
        sync::tombstone(conn, gone.seq, "visits", id, &current.org_path, Some(current.user_id))?;
        // Its photos go with it, for phones as well.
        for photo in photo_store::of_visit(conn, &id.to_string())? {
            photo_store::mark_deleted(conn, &photo.id, gone.updated_at.naive_utc(), gone.seq)?;
            sync::tombstone(
                conn,
                gone.seq,
                "visit_photos",
                uuid_col(&photo.id)?,
                &photo.org_path,
                Some(current.user_id),
            )?;
        }
        if !store::replace(conn, &gone.to_row(), current.version)? {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the visit changed meanwhile"));
        }
        gone.settle_points(conn, Some(&current))?;
        Ok(())
    })
}

/// Recomputes a visit's verdict with its photos' EXIF signals (after a photo arrives or goes).
pub fn reverify(
    conn: &mut DbConn,
    thresholds: &Thresholds,
    id: Uuid,
    photos: Vec<PhotoSignal>,
) -> Result<Visit, DomainError> {
    let row = store::find(conn, &id.to_string())?.ok_or(DomainError::NotFound("visit"))?;
    let current = Visit::try_from(row)?;
    let mut next = current.clone();
    next.apply(verification::verify(&signals(conn, &current, photos)?, thresholds));
    if next == current {
        return Ok(current);
    }
    bump(conn, &mut next)?;
    if !store::replace(conn, &next.to_row(), current.version)? {
        return Err(DomainError::conflict(ErrorCode::VersionConflict, "the visit changed meanwhile"));
    }
    next.settle_points(conn, Some(&current))?;
    Ok(next)
}
