//! Offline sync: a change feed ordered by the server's change sequence, and batch push.
//! See `docs/SYNC.md` for the protocol as the phone sees it.

use std::collections::HashSet;

use uuid::Uuid;

use crate::domain::common::create::Created;
use crate::domain::field::partners::{self, NewPartner, Partner, PartnerPatch};
use crate::domain::field::photos::{self, Photo};
use crate::domain::field::verification::Thresholds;
use crate::domain::field::visits::{self, NewVisit, Visit, VisitPatch};
use crate::domain::supervision::findings::{self, Finding, FindingPatch, NewFinding};
use crate::domain::supervision::supervisions::{self, NewSupervision, Supervision, SupervisionPatch};
use crate::domain::{Actor, DomainError, ErrorCode, Role};
use crate::store::field::partners as partner_store;
use crate::store::field::photos as photo_store;
use crate::store::field::visits as visit_store;
use crate::store::supervision::supervisions as supervision_store;
use crate::store::{DbConn, StoreError, sync, uuid_col};

pub const MAX_PULL: usize = 1000;
pub const MAX_PUSH: usize = 500;

#[derive(Debug)]
pub struct TableChanges<T> {
    pub created: Vec<T>,
    pub updated: Vec<T>,
    pub deleted: Vec<Uuid>,
}

impl<T> Default for TableChanges<T> {
    fn default() -> Self {
        TableChanges { created: Vec::new(), updated: Vec::new(), deleted: Vec::new() }
    }
}

#[derive(Debug, Default)]
pub struct Pulled {
    pub partners: TableChanges<Partner>,
    pub visits: TableChanges<Visit>,
    pub visit_photos: TableChanges<Photo>,
    pub supervisions: TableChanges<Supervision>,
    pub supervision_findings: TableChanges<Finding>,
    /// The caller's day (their branch's time zone), which says which findings are overdue.
    pub today: chrono::NaiveDate,
    pub cursor: i64,
    pub has_more: bool,
}

enum Item {
    Partner(Partner),
    Visit(Visit),
    Photo(Photo),
    Supervision(Box<Supervision>),
    Finding(Box<Finding>),
    Gone(String, Uuid),
}

/// Everything in the caller's scope changed after `after` (all of it when `after` is `None`),
/// at most about `limit` changes, oldest first. A page never splits one change number.
pub fn pull(conn: &mut DbConn, actor: &Actor, after: Option<i64>, limit: usize) -> Result<Pulled, DomainError> {
    let full_sync = after.is_none();
    let after = after.unwrap_or(-1);
    let limit = limit.clamp(1, MAX_PULL);
    let fetch = limit + 1;
    let fetch_sql = i64::try_from(fetch).unwrap_or(i64::MAX);
    // Every change numbered up to the horizon has committed, and every later one will be numbered
    // above it (`sync::horizon`). Reading only up to it gives all sources one consistent cut,
    // whatever commits while the queries run.
    let horizon = sync::horizon(conn)?;
    let scope = actor.scope().path_prefix();
    let own = (actor.role == Role::AccountManager).then(|| actor.user_id.to_string());

    // Each source returns at most `fetch` rows; where one is cut short, nothing past its last
    // row is known to be complete, so the page ends there.
    let mut bound = horizon;
    let mut complete_to = |rows: usize, last: Option<i64>| {
        if rows >= fetch
            && let Some(last) = last
        {
            bound = bound.min(last);
        }
    };
    let partner_rows = partner_store::changed_since(conn, scope.as_deref(), after, horizon, fetch_sql)?;
    complete_to(partner_rows.len(), partner_rows.last().map(|r| r.seq));
    let visit_rows = visit_store::changed_since(conn, scope.as_deref(), own.as_deref(), after, horizon, fetch_sql)?;
    complete_to(visit_rows.len(), visit_rows.last().map(|r| r.seq));
    let photo_rows = photo_store::changed_since(conn, scope.as_deref(), own.as_deref(), after, horizon, fetch_sql)?;
    complete_to(photo_rows.len(), photo_rows.last().map(|r| r.seq));
    let supervision_rows = supervision_store::changed_since(conn, scope.as_deref(), after, horizon, fetch_sql)?;
    complete_to(supervision_rows.len(), supervision_rows.last().map(|r| r.seq));
    let finding_rows = supervision_store::findings_changed_since(conn, scope.as_deref(), after, horizon, fetch_sql)?;
    complete_to(finding_rows.len(), finding_rows.last().map(|r| r.seq));
    // A first sync has nothing to delete.
    let tombstones = if full_sync {
        Vec::new()
    } else {
        sync::tombstones_since(conn, &sync::LEGACY_SYNCED, scope.as_deref(), own.as_deref(), after, horizon, fetch_sql)?
    };
    complete_to(tombstones.len(), tombstones.last().map(|t| t.seq));

    let mut items: Vec<(i64, bool, Item)> = Vec::new();
    for row in partner_rows.into_iter().filter(|r| r.seq <= bound) {
        let p = Partner::try_from(row)?;
        items.push((p.seq, p.created_seq > after, Item::Partner(p)));
    }
    for row in visit_rows.into_iter().filter(|r| r.seq <= bound) {
        let v = Visit::try_from(row)?;
        items.push((v.seq, v.created_seq > after, Item::Visit(v)));
    }
    for row in photo_rows.into_iter().filter(|r| r.seq <= bound) {
        let p = Photo::try_from(row)?;
        items.push((p.seq, p.created_seq > after, Item::Photo(p)));
    }
    for row in supervision_rows.into_iter().filter(|r| r.seq <= bound) {
        let s = Supervision::try_from(row)?;
        items.push((s.seq, s.created_seq > after, Item::Supervision(Box::new(s))));
    }
    for row in finding_rows.into_iter().filter(|r| r.seq <= bound) {
        let f = Finding::try_from(row)?;
        items.push((f.seq, f.created_seq > after, Item::Finding(Box::new(f))));
    }
    let tombstones: Vec<_> = tombstones.into_iter().filter(|t| t.seq <= bound).collect();
    // A record that left one subtree for another the caller also sees is an update, not a delete.
    // Only a record not deleted can be one (found for all the tombstones at once), and of those
    // the ones the caller still reads: one query per kind, whatever their number.
    let live = sync::live_records(conn, &tombstones)?;
    let seen = still_visible(conn, actor, &live)?;
    for t in tombstones {
        let id = uuid_col(&t.record_id)?;
        if seen.contains(&(t.entity.clone(), t.record_id.clone())) {
            continue;
        }
        items.push((t.seq, false, Item::Gone(t.entity, id)));
    }
    items.sort_by_key(|(seq, _, _)| *seq);
    let total = items.len();
    let mut cut = total.min(limit);
    if cut > 0 && cut < total {
        let last = items[cut - 1].0;
        while cut < total && items[cut].0 == last {
            cut += 1;
        }
    }
    let (cursor, has_more) = if cut < total { (items[cut - 1].0, true) } else { (bound.max(after), bound < horizon) };
    items.truncate(cut);
    let zone = match actor.branch_id() {
        Some(branch) => crate::store::projects::projects::branch_time_zone(conn, branch)?,
        None => crate::domain::common::calendar::DEFAULT_TIME_ZONE.to_owned(),
    };
    let today = crate::domain::common::calendar::Clock::new(&zone).today();
    let mut pulled = Pulled { cursor, has_more, today, ..Pulled::default() };
    for (_, created, item) in items {
        match item {
            Item::Partner(p) => {
                if created {
                    pulled.partners.created.push(p)
                } else {
                    pulled.partners.updated.push(p)
                }
            }
            Item::Visit(v) => {
                if created {
                    pulled.visits.created.push(v)
                } else {
                    pulled.visits.updated.push(v)
                }
            }
            Item::Photo(p) => {
                if created {
                    pulled.visit_photos.created.push(p)
                } else {
                    pulled.visit_photos.updated.push(p)
                }
            }
            Item::Supervision(s) => {
                if created {
                    pulled.supervisions.created.push(*s)
                } else {
                    pulled.supervisions.updated.push(*s)
                }
            }
            Item::Finding(f) => {
                if created {
                    pulled.supervision_findings.created.push(*f)
                } else {
                    pulled.supervision_findings.updated.push(*f)
                }
            }
            Item::Gone(entity, id) => match entity.as_str() {
                "partners" => pulled.partners.deleted.push(id),
                "visits" => pulled.visits.deleted.push(id),
                "supervisions" => pulled.supervisions.deleted.push(id),
                "supervision_findings" => pulled.supervision_findings.deleted.push(id),
                _ => pulled.visit_photos.deleted.push(id),
            },
        }
    }
    Ok(pulled)
}

/// Of these live records (as `(entity, id)`), the ones the caller reads. Partners and findings
/// move between subtrees (a new owner or unit) and are read in one query per kind; visits,
/// supervisions and photos leave a tombstone only when deleted, so are never live here, and
/// would be read one by one.
fn still_visible(
    conn: &mut DbConn,
    actor: &Actor,
    live: &HashSet<(String, String)>,
) -> Result<HashSet<(String, String)>, StoreError> {
    let of =
        |entity: &str| -> Vec<String> { live.iter().filter(|(e, _)| e == entity).map(|(_, id)| id.clone()).collect() };
    let mut seen = HashSet::new();
    let (partner_ids, finding_ids) = (of("partners"), of("supervision_findings"));
    if !partner_ids.is_empty() {
        seen.extend(
            partners::readable_ids(conn, actor, &partner_ids)?.into_iter().map(|id| ("partners".to_owned(), id)),
        );
    }
    if !finding_ids.is_empty() {
        seen.extend(
            findings::readable_finding_ids(conn, actor, &finding_ids)?
                .into_iter()
                .map(|id| ("supervision_findings".to_owned(), id)),
        );
    }
    for (entity, id) in live.iter().filter(|(e, _)| e != "partners" && e != "supervision_findings") {
        let uuid = uuid_col(id)?;
        let result = match entity.as_str() {
            "visits" => visits::get(conn, actor, uuid).map(|_| ()),
            "supervisions" => supervisions::get(conn, actor, uuid).map(|_| ()),
            _ => photos::get(conn, actor, uuid).map(|_| ()),
        };
        match result {
            Ok(()) => {
                seen.insert((entity.clone(), id.clone()));
            }
            Err(DomainError::Store(e)) => return Err(e),
            Err(_) => {}
        }
    }
    Ok(seen)
}

/// One record of a push batch, already parsed.
pub enum Op {
    CreatePartner(Box<NewPartner>),
    UpdatePartner(Uuid, Box<PartnerPatch>),
    DeletePartner(Uuid),
    CreateVisit(Box<NewVisit>),
    UpdateVisit(Uuid, VisitPatch),
    DeleteVisit(Uuid),
    DeletePhoto(Uuid),
    CreateSupervision(Box<NewSupervision>),
    UpdateSupervision(Uuid, SupervisionPatch),
    DeleteSupervision(Uuid),
    /// A finding of the supervision named.
    CreateFinding(Uuid, Box<NewFinding>),
    UpdateFinding(Uuid, FindingPatch),
}

pub enum Record {
    Partner(Box<Partner>),
    Visit(Box<Visit>),
    Supervision(Box<Supervision>),
    /// With the branch's day, which says whether it is overdue.
    Finding(Box<Finding>, chrono::NaiveDate),
}

pub enum Outcome {
    Created(Record),
    Updated(Record),
    Unchanged(Option<Record>),
    Deleted,
    /// The server's copy, which the client must reconcile with.
    Conflict(Record),
    Rejected(DomainError),
}

fn partner_patch_is_applied(p: &Partner, patch: &PartnerPatch) -> bool {
    let same_text = |new: &Option<String>, old: &str| new.as_deref().is_none_or(|n| n.trim() == old);
    let same_opt = |new: &Option<String>, old: &Option<String>| {
        new.as_deref().is_none_or(|n| n.trim() == old.as_deref().unwrap_or(""))
    };
    same_text(&patch.name, &p.name)
        && patch.category.is_none_or(|c| c == p.category)
        && patch.status.is_none_or(|s| s == p.status)
        && patch.location.is_none_or(|l| l == p.location)
        && same_text(&patch.address, &p.address)
        && same_opt(&patch.contact_name, &p.contact_name)
        && patch.contact_phone.as_deref().is_none_or(|n| {
            crate::domain::Phone::parse(n).ok().map(|ph| ph.as_str().to_owned()) == p.contact_phone
                || (n.trim().is_empty() && p.contact_phone.is_none())
        })
        && patch.audience_size.is_none_or(|a| Some(a) == p.audience_size)
        && patch.audience_unit.is_none_or(|a| Some(a) == p.audience_unit)
        && patch.visit_cadence_days.is_none_or(|c| c == p.visit_cadence_days)
        && patch.geofence_m.is_none_or(|g| g == p.geofence_m)
        && patch.owner_id.is_none_or(|o| o == p.owner_id)
        && patch.org_unit_id.is_none_or(|u| u == p.org_unit_id)
        && patch.pain_points.as_ref().is_none_or(|l| {
            l.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).eq(p.pain_points.iter().map(String::as_str))
        })
        && patch.agreed_benefits.as_ref().is_none_or(|l| {
            l.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).eq(p.agreed_benefits.iter().map(String::as_str))
        })
}

fn supervision_patch_is_applied(s: &Supervision, patch: &SupervisionPatch) -> bool {
    patch.review_worked.as_deref().is_none_or(|t| t.trim() == s.review_worked)
        && patch.review_change.as_deref().is_none_or(|t| t.trim() == s.review_change)
        && patch.project_id.is_none_or(|p| Some(p) == s.project_id)
        && patch.checklist.as_ref().is_none_or(|items| {
            items.len() == s.checklist.len()
                && items.iter().zip(&s.checklist).all(|(i, e)| {
                    i.item == e.item
                        && i.score == i64::from(e.score)
                        && i.notes.as_deref().unwrap_or_default().trim() == e.notes
                })
        })
}

fn finding_patch_is_applied(f: &Finding, patch: &FindingPatch) -> bool {
    patch.status.is_none_or(|s| s == f.status)
        && patch.done_note.as_deref().is_none_or(|n| Some(n.trim()) == f.done_note.as_deref())
        && patch.title.as_deref().is_none_or(|t| t.trim() == f.title)
        && patch.detail.as_deref().is_none_or(|t| t.trim() == f.detail)
        && patch.owner_id.is_none_or(|o| o == f.owner_id)
        && patch.due_on.is_none_or(|d| d == f.due_on)
}

fn visit_patch_is_applied(v: &Visit, patch: &VisitPatch) -> bool {
    patch.purpose.is_none_or(|p| p == v.purpose)
        && patch.notes.as_deref().is_none_or(|n| n.trim() == v.notes)
        && patch.outcome.is_none_or(|o| Some(o) == v.outcome)
        && patch.next_step.as_deref().is_none_or(|n| Some(n.trim()) == v.next_step.as_deref())
        && patch.next_visit_at.is_none_or(|t| Some(t) == v.next_visit_at)
}

/// Applies one pushed record in its own transaction, so one bad record never loses the others.
/// Infrastructure failures are errors of the whole request (the client retries), never a
/// per-record rejection the client might discard.
pub fn apply(conn: &mut DbConn, actor: &Actor, thresholds: &Thresholds, op: Op) -> Result<Outcome, StoreError> {
    let outcome = apply_op(conn, actor, thresholds, op)?;
    match outcome {
        Outcome::Rejected(DomainError::Store(e)) => Err(e),
        other => Ok(other),
    }
}

fn apply_op(conn: &mut DbConn, actor: &Actor, thresholds: &Thresholds, op: Op) -> Result<Outcome, StoreError> {
    let outcome = match op {
        Op::CreatePartner(input) => {
            let id = input.id;
            match partners::create(conn, actor, *input) {
                Ok(c) => match c {
                    Created::New(p) => Outcome::Created(Record::Partner(Box::new(p))),
                    Created::Existing(p) => Outcome::Unchanged(Some(Record::Partner(Box::new(p)))),
                },
                Err(DomainError::Conflict { code: ErrorCode::IdConflict, .. }) if id.is_some() => {
                    match id.map(|id| partners::get(conn, actor, id)) {
                        Some(Ok(p)) => Outcome::Conflict(Record::Partner(Box::new(p))),
                        _ => Outcome::Rejected(DomainError::conflict(
                            ErrorCode::IdConflict,
                            "this id belongs to another record",
                        )),
                    }
                }
                Err(e) => Outcome::Rejected(e),
            }
        }
        Op::UpdatePartner(id, patch) => match partners::update(conn, actor, id, (*patch).clone()) {
            Ok(p) => Outcome::Updated(Record::Partner(Box::new(p))),
            Err(DomainError::Conflict { code: ErrorCode::VersionConflict, .. }) => match partners::get(conn, actor, id)
            {
                Ok(p) if partner_patch_is_applied(&p, &patch) => Outcome::Unchanged(Some(Record::Partner(Box::new(p)))),
                Ok(p) => Outcome::Conflict(Record::Partner(Box::new(p))),
                Err(e) => Outcome::Rejected(e),
            },
            Err(e) => Outcome::Rejected(e),
        },
        Op::DeletePartner(id) => {
            deleted(partners::delete(conn, actor, id), || tombstoned(conn, actor, "partners", id))?
        }
        Op::CreateVisit(input) => {
            let id = input.id;
            match visits::create(conn, actor, thresholds, *input) {
                Ok(Created::New(v)) => Outcome::Created(Record::Visit(Box::new(v))),
                Ok(Created::Existing(v)) => Outcome::Unchanged(Some(Record::Visit(Box::new(v)))),
                Err(DomainError::Conflict { code: ErrorCode::IdConflict, .. }) if id.is_some() => {
                    match id.map(|id| visits::get(conn, actor, id)) {
                        Some(Ok(v)) => Outcome::Conflict(Record::Visit(Box::new(v))),
                        _ => Outcome::Rejected(DomainError::conflict(
                            ErrorCode::IdConflict,
                            "this id belongs to another record",
                        )),
                    }
                }
                Err(e) => Outcome::Rejected(e),
            }
        }
        Op::UpdateVisit(id, patch) => match visits::update(conn, actor, id, patch.clone()) {
            Ok(v) => Outcome::Updated(Record::Visit(Box::new(v))),
            Err(DomainError::Conflict { code: ErrorCode::VersionConflict, .. }) => match visits::get(conn, actor, id) {
                Ok(v) if visit_patch_is_applied(&v, &patch) => Outcome::Unchanged(Some(Record::Visit(Box::new(v)))),
                Ok(v) => Outcome::Conflict(Record::Visit(Box::new(v))),
                Err(e) => Outcome::Rejected(e),
            },
            Err(e) => Outcome::Rejected(e),
        },
        Op::DeleteVisit(id) => deleted(visits::delete(conn, actor, id), || tombstoned(conn, actor, "visits", id))?,
        Op::CreateSupervision(input) => {
            let id = input.id;
            match supervisions::create(conn, actor, thresholds, *input) {
                Ok(Created::New(s)) => Outcome::Created(Record::Supervision(Box::new(s))),
                Ok(Created::Existing(s)) => Outcome::Unchanged(Some(Record::Supervision(Box::new(s)))),
                Err(DomainError::Conflict { code: ErrorCode::IdConflict, .. }) if id.is_some() => {
                    match id.map(|id| supervisions::get(conn, actor, id)) {
                        Some(Ok(s)) => Outcome::Conflict(Record::Supervision(Box::new(s))),
                        _ => Outcome::Rejected(DomainError::conflict(
                            ErrorCode::IdConflict,
                            "this id belongs to another record",
                        )),
                    }
                }
                Err(e) => Outcome::Rejected(e),
            }
        }
        Op::UpdateSupervision(id, patch) => match supervisions::update(conn, actor, thresholds, id, patch.clone()) {
            Ok(s) => Outcome::Updated(Record::Supervision(Box::new(s))),
            Err(DomainError::Conflict { code: ErrorCode::VersionConflict, .. }) => {
                match supervisions::get(conn, actor, id) {
                    Ok(s) if supervision_patch_is_applied(&s, &patch) => {
                        Outcome::Unchanged(Some(Record::Supervision(Box::new(s))))
                    }
                    Ok(s) => Outcome::Conflict(Record::Supervision(Box::new(s))),
                    Err(e) => Outcome::Rejected(e),
                }
            }
            Err(e) => Outcome::Rejected(e),
        },
        Op::DeleteSupervision(id) => {
            deleted(supervisions::delete(conn, actor, id), || tombstoned(conn, actor, "supervisions", id))?
        }
        Op::CreateFinding(supervision_id, input) => {
            let id = input.id;
            match findings::add_finding(conn, actor, supervision_id, *input) {
                Ok((Created::New(f), today)) => Outcome::Created(Record::Finding(Box::new(f), today)),
                Ok((Created::Existing(f), today)) => Outcome::Unchanged(Some(Record::Finding(Box::new(f), today))),
                Err(DomainError::Conflict { code: ErrorCode::IdConflict, .. }) if id.is_some() => {
                    match id.map(|id| findings::get_finding(conn, actor, id)) {
                        Some(Ok((f, today))) => Outcome::Conflict(Record::Finding(Box::new(f), today)),
                        _ => Outcome::Rejected(DomainError::conflict(
                            ErrorCode::IdConflict,
                            "this id belongs to another record",
                        )),
                    }
                }
                Err(e) => Outcome::Rejected(e),
            }
        }
        Op::UpdateFinding(id, patch) => match findings::update_finding(conn, actor, id, patch.clone()) {
            Ok((f, today)) => Outcome::Updated(Record::Finding(Box::new(f), today)),
            Err(DomainError::Conflict { code: ErrorCode::VersionConflict, .. }) => {
                match findings::get_finding(conn, actor, id) {
                    Ok((f, today)) if finding_patch_is_applied(&f, &patch) => {
                        Outcome::Unchanged(Some(Record::Finding(Box::new(f), today)))
                    }
                    Ok((f, today)) => Outcome::Conflict(Record::Finding(Box::new(f), today)),
                    Err(e) => Outcome::Rejected(e),
                }
            }
            Err(e) => Outcome::Rejected(e),
        },
        Op::DeletePhoto(id) => {
            deleted(photos::delete(conn, actor, thresholds, id), || tombstoned(conn, actor, "visit_photos", id))?
        }
    };
    Ok(outcome)
}

/// A delete of something already deleted is a replay: unchanged, not an error.
fn deleted(
    result: Result<(), DomainError>,
    already: impl FnOnce() -> Result<bool, StoreError>,
) -> Result<Outcome, StoreError> {
    Ok(match result {
        Ok(()) => Outcome::Deleted,
        Err(DomainError::NotFound(what)) => {
            if already()? {
                Outcome::Unchanged(None)
            } else {
                Outcome::Rejected(DomainError::NotFound(what))
            }
        }
        Err(DomainError::Store(e)) => return Err(e),
        Err(e) => Outcome::Rejected(e),
    })
}

/// Whether the record was deleted where the caller could see it (elsewhere it does not exist).
fn tombstoned(conn: &mut DbConn, actor: &Actor, entity: &str, id: Uuid) -> Result<bool, StoreError> {
    let key = id.to_string();
    let own_only = actor.role == Role::AccountManager;
    let me = actor.user_id.to_string();
    let gone = |deleted: bool, path: &str| deleted && actor.scope().contains(path);
    Ok(match entity {
        "partners" => partner_store::find(conn, &key)?.is_some_and(|r| gone(r.deleted_at.is_some(), &r.org_path)),
        "visits" => visit_store::find(conn, &key)?
            .is_some_and(|r| gone(r.deleted_at.is_some(), &r.org_path) && (!own_only || r.user_id == me)),
        "supervisions" => {
            supervision_store::find(conn, &key)?.is_some_and(|r| gone(r.deleted_at.is_some(), &r.org_path))
        }
        _ => match photo_store::find(conn, &key)? {
            Some(r) if gone(r.deleted_at.is_some(), &r.org_path) => {
                !own_only || visit_store::find(conn, &r.visit_id)?.is_some_and(|v| v.user_id == me)
            }
            _ => false,
        },
    })
}
