//! Supervision (督导): a supervisor's geotagged visit to an outlet, scored on the method's
//! standard checklist with notes and evidence photos, the findings it leaves (each with an owner
//! and a due date, open → done) and its review (复盘: what worked, what to change). Verified like
//! a visit, against the outlet's door.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::common::calendar::Clock;
use crate::domain::common::create::Created;
use crate::domain::common::error::Validator;
use crate::domain::common::evidence::Evidence;
use crate::domain::common::text::{bounded_text, name};
use crate::domain::field::verification::{self, Reason, Signals, Thresholds};
use crate::domain::kinds::text_enum;
use crate::domain::org::org_units::OrgUnitKind;
use crate::domain::{Actor, DomainError, ErrorCode, Role};
use crate::geo::LatLon;
use crate::store::org::users as user_store;
use crate::store::projects::projects as project_store;
use crate::store::supervision::supervisions::{
    self as store, FindingFilter, FindingRow, SupervisionFilter, SupervisionRow,
};
use crate::store::{DbConn, Page, PageRequest, StoreError, enum_col, json_col, now_utc, sync, uuid_col};

text_enum!(SupervisionItem {
    RetailSituation => "retail_situation",
    SegmentMap => "segment_map",
    SegmentProjects => "segment_projects",
    KeySegmentRules => "key_segment_rules",
});

impl SupervisionItem {
    /// The method's wording, for reports.
    pub fn label(self) -> &'static str {
        match self {
            SupervisionItem::RetailSituation => "网点零售现状与问题",
            SupervisionItem::SegmentMap => "客群地图与存量客户画像",
            SupervisionItem::SegmentProjects => "客群项目运行情况",
            SupervisionItem::KeySegmentRules => "重点客群管理制度",
        }
    }
}

text_enum!(FindingStatus {
    Open => "open",
    Done => "done",
});

/// How near the outlet's door a supervision counts as there.
pub const OUTLET_GEOFENCE_M: f64 = 300.0;
/// Evidence photos per checklist item.
pub const MAX_ITEM_PHOTOS: usize = 9;

/// One item of the checklist as scored on the visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistEntry {
    pub item: SupervisionItem,
    /// 1 (poor) to 5 (exemplary).
    pub score: u8,
    pub notes: String,
    #[serde(default)]
    pub photos: Vec<Evidence>,
}

/// An item as a client sends it (photos are uploaded apart).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChecklistInput {
    pub item: SupervisionItem,
    pub score: i64,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Supervision {
    pub id: Uuid,
    pub branch_id: String,
    pub org_unit_id: Uuid,
    pub org_path: String,
    pub supervisor_id: Uuid,
    pub project_id: Option<Uuid>,
    pub visited_at: DateTime<Utc>,
    pub location: LatLon,
    pub accuracy_m: f64,
    pub mock_location: Option<bool>,
    pub location_age_s: Option<f64>,
    pub verified: bool,
    pub distance_m: Option<f64>,
    pub reasons: Vec<Reason>,
    pub checklist: Vec<ChecklistEntry>,
    pub review_worked: String,
    pub review_change: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub seq: i64,
    pub created_seq: i64,
    create_digest: String,
}

impl TryFrom<SupervisionRow> for Supervision {
    type Error = StoreError;
    fn try_from(r: SupervisionRow) -> Result<Self, StoreError> {
        Ok(Supervision {
            id: uuid_col(&r.id)?,
            org_unit_id: uuid_col(&r.org_unit_id)?,
            supervisor_id: uuid_col(&r.supervisor_id)?,
            project_id: r.project_id.as_deref().map(uuid_col).transpose()?,
            visited_at: r.visited_at.and_utc(),
            location: LatLon { lat: r.lat, lon: r.lon },
            reasons: json_col(&r.reasons, "supervision reasons")?,
            checklist: json_col(&r.checklist, "supervision checklist")?,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            deleted_at: r.deleted_at.map(|t| t.and_utc()),
            branch_id: r.branch_id,
            org_path: r.org_path,
            accuracy_m: r.accuracy_m,
            mock_location: r.mock_location,
            location_age_s: r.location_age_s,
            verified: r.verified,
            distance_m: r.distance_m,
            review_worked: r.review_worked,
            review_change: r.review_change,
            version: r.version,
            seq: r.seq,
            created_seq: r.created_seq,
            create_digest: r.create_digest,
        })
    }
}

impl Supervision {
    fn to_row(&self) -> SupervisionRow {
        SupervisionRow {
            id: self.id.to_string(),
            branch_id: self.branch_id.clone(),
            org_unit_id: self.org_unit_id.to_string(),
            org_path: self.org_path.clone(),
            supervisor_id: self.supervisor_id.to_string(),
            project_id: self.project_id.map(|p| p.to_string()),
            visited_at: self.visited_at.naive_utc(),
            lat: self.location.lat,
            lon: self.location.lon,
            accuracy_m: self.accuracy_m,
            mock_location: self.mock_location,
            location_age_s: self.location_age_s,
            verified: self.verified,
            distance_m: self.distance_m,
            reasons: serde_json::to_string(&self.reasons).unwrap_or_else(|_| "[]".to_owned()),
            checklist: serde_json::to_string(&self.checklist).unwrap_or_else(|_| "[]".to_owned()),
            review_worked: self.review_worked.clone(),
            review_change: self.review_change.clone(),
            create_digest: self.create_digest.clone(),
            version: self.version,
            created_at: self.created_at.naive_utc(),
            updated_at: self.updated_at.naive_utc(),
            deleted_at: self.deleted_at.map(|t| t.naive_utc()),
            seq: self.seq,
            created_seq: self.created_seq,
        }
    }

    fn bump(&mut self, conn: &mut DbConn) -> Result<(), StoreError> {
        self.version += 1;
        self.updated_at = now_utc().and_utc();
        self.seq = sync::next_seq(conn)?;
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub id: Uuid,
    pub supervision_id: Uuid,
    pub branch_id: String,
    /// The owner's unit: the finding shows in that unit's morning report.
    pub org_unit_id: Uuid,
    pub org_path: String,
    pub owner_id: Uuid,
    pub title: String,
    pub detail: String,
    pub due_on: NaiveDate,
    pub status: FindingStatus,
    pub done_at: Option<DateTime<Utc>>,
    pub done_by: Option<Uuid>,
    pub done_note: Option<String>,
    pub created_by: Uuid,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub seq: i64,
    pub created_seq: i64,
    create_digest: String,
}

impl TryFrom<FindingRow> for Finding {
    type Error = StoreError;
    fn try_from(r: FindingRow) -> Result<Self, StoreError> {
        Ok(Finding {
            id: uuid_col(&r.id)?,
            supervision_id: uuid_col(&r.supervision_id)?,
            org_unit_id: uuid_col(&r.org_unit_id)?,
            owner_id: uuid_col(&r.owner_id)?,
            status: enum_col(&r.status)?,
            done_at: r.done_at.map(|t| t.and_utc()),
            done_by: r.done_by.as_deref().map(uuid_col).transpose()?,
            created_by: uuid_col(&r.created_by)?,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            deleted_at: r.deleted_at.map(|t| t.and_utc()),
            branch_id: r.branch_id,
            org_path: r.org_path,
            title: r.title,
            detail: r.detail,
            due_on: r.due_on,
            done_note: r.done_note,
            version: r.version,
            seq: r.seq,
            created_seq: r.created_seq,
            create_digest: r.create_digest,
        })
    }
}

impl Finding {
    fn to_row(&self) -> FindingRow {
        FindingRow {
            id: self.id.to_string(),
            supervision_id: self.supervision_id.to_string(),
            branch_id: self.branch_id.clone(),
            org_unit_id: self.org_unit_id.to_string(),
            org_path: self.org_path.clone(),
            owner_id: self.owner_id.to_string(),
            title: self.title.clone(),
            detail: self.detail.clone(),
            due_on: self.due_on,
            status: self.status.as_str().to_owned(),
            done_at: self.done_at.map(|t| t.naive_utc()),
            done_by: self.done_by.map(|u| u.to_string()),
            done_note: self.done_note.clone(),
            created_by: self.created_by.to_string(),
            create_digest: self.create_digest.clone(),
            version: self.version,
            created_at: self.created_at.naive_utc(),
            updated_at: self.updated_at.naive_utc(),
            deleted_at: self.deleted_at.map(|t| t.naive_utc()),
            seq: self.seq,
            created_seq: self.created_seq,
        }
    }

    /// Open past its due day.
    pub fn overdue_on(&self, today: NaiveDate) -> bool {
        self.status == FindingStatus::Open && self.due_on < today
    }
}

/// Supervisions and findings are the subtree's: managers and supervisors over the outlet, and the
/// outlet's own staff, who are the ones the feedback is for.
fn in_scope(actor: &Actor, path: &str, deleted: bool) -> bool {
    !deleted && actor.scope().contains(path)
}

fn visible_finding(actor: &Actor, row: &FindingRow) -> bool {
    row.deleted_at.is_none()
        && (actor.scope().contains(&row.org_path)
            || row.owner_id == actor.user_id.to_string()
            || row.created_by == actor.user_id.to_string())
}

/// Supervisors and managers supervise; account managers are supervised.
fn may_supervise(actor: &Actor) -> Result<(), DomainError> {
    if actor.role == Role::Supervisor || actor.role.manages_people() {
        Ok(())
    } else {
        Err(DomainError::forbidden(ErrorCode::RoleNotAllowed, "supervisors and managers record supervisions"))
    }
}

/// The author, or a manager over the outlet, keeps a supervision and its findings.
fn may_keep(actor: &Actor, s: &Supervision) -> Result<(), DomainError> {
    if s.supervisor_id == actor.user_id || (actor.role.manages_people() && actor.scope().contains(&s.org_path)) {
        Ok(())
    } else {
        Err(DomainError::forbidden(
            ErrorCode::NotOwner,
            "only its supervisor or a manager over the outlet changes a supervision",
        ))
    }
}

fn checklist(v: &mut Validator, items: &[ChecklistInput], keep: &[ChecklistEntry]) -> Vec<ChecklistEntry> {
    let mut out: Vec<ChecklistEntry> = Vec::new();
    for (i, input) in items.iter().enumerate() {
        if out.iter().any(|e| e.item == input.item) {
            v.add(&format!("checklist[{i}].item"), "each item at most once");
            continue;
        }
        if !(1..=5).contains(&input.score) {
            v.add(&format!("checklist[{i}].score"), "must be 1 to 5");
        }
        let notes = bounded_text(v, &format!("checklist[{i}].notes"), input.notes.as_deref().unwrap_or_default(), 2000);
        // A rescored item keeps the photos already taken for it.
        let photos = keep.iter().find(|e| e.item == input.item).map(|e| e.photos.clone()).unwrap_or_default();
        out.push(ChecklistEntry { item: input.item, score: input.score.clamp(1, 5) as u8, notes, photos });
    }
    out
}

#[derive(Debug, Clone, Serialize)]
pub struct NewSupervision {
    pub id: Option<Uuid>,
    /// The outlet supervised.
    pub org_unit_id: Uuid,
    pub project_id: Option<Uuid>,
    pub location: LatLon,
    pub accuracy_m: f64,
    pub visited_at: DateTime<Utc>,
    pub mock_location: Option<bool>,
    pub location_age_s: Option<f64>,
    pub checklist: Vec<ChecklistInput>,
    pub review_worked: Option<String>,
    pub review_change: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct SupervisionPatch {
    /// Replaces the checklist (items keep their photos).
    pub checklist: Option<Vec<ChecklistInput>>,
    pub review_worked: Option<String>,
    pub review_change: Option<String>,
    pub project_id: Option<Uuid>,
    pub version: Option<i64>,
}

pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    thresholds: &Thresholds,
    input: NewSupervision,
) -> Result<Created<Supervision>, DomainError> {
    may_supervise(actor)?;
    let mut v = Validator::default();
    let location =
        crate::domain::field::visits::checked_fix(&mut v, input.location, input.accuracy_m, input.location_age_s);
    v.check("visited_at", crate::domain::common::text::sane_time(input.visited_at));
    let items = checklist(&mut v, &input.checklist, &[]);
    let review_worked = bounded_text(&mut v, "review_worked", input.review_worked.as_deref().unwrap_or_default(), 4000);
    let review_change = bounded_text(&mut v, "review_change", input.review_change.as_deref().unwrap_or_default(), 4000);
    v.finish()?;
    let digest = crate::domain::common::create::create_digest(&input);
    crate::domain::common::create::retry_on_race(|| {
        conn.write_tx(|conn| {
            let id = input.id.unwrap_or_else(Uuid::now_v7);
            if let Some(existing) = store::find(conn, &id.to_string())? {
                return if existing.create_digest == digest
                    && in_scope(actor, &existing.org_path, existing.deleted_at.is_some())
                {
                    Ok(Created::Existing(Supervision::try_from(existing)?))
                } else {
                    Err(DomainError::conflict(ErrorCode::IdConflict, "another supervision already has this id"))
                };
            }
            let outlet = crate::domain::org::org_units::get(conn, actor, input.org_unit_id)?;
            if outlet.kind != OrgUnitKind::Outlet {
                return Err(DomainError::invalid("org_unit_id", "must be an outlet"));
            }
            if let Some(project) = input.project_id {
                crate::domain::projects::projects::check_reference(
                    conn,
                    actor,
                    project,
                    &outlet.branch_id.to_string(),
                )?;
            }
            let now = now_utc().and_utc();
            let seq = sync::next_seq(conn)?;
            let mut supervision = Supervision {
                id,
                branch_id: outlet.branch_id.to_string(),
                org_unit_id: outlet.id,
                org_path: outlet.path.clone(),
                supervisor_id: actor.user_id,
                project_id: input.project_id,
                visited_at: input.visited_at.trunc_subsecs(6),
                location,
                accuracy_m: input.accuracy_m,
                mock_location: input.mock_location,
                location_age_s: input.location_age_s,
                verified: false,
                distance_m: None,
                reasons: Vec::new(),
                checklist: items.clone(),
                review_worked: review_worked.clone(),
                review_change: review_change.clone(),
                version: 1,
                created_at: now,
                updated_at: now,
                deleted_at: None,
                seq,
                created_seq: seq,
                create_digest: digest.clone(),
            };
            judge(conn, &mut supervision, thresholds)?;
            store::insert(conn, &supervision.to_row())?;
            Ok(Created::New(supervision))
        })
    })
}

pub fn get(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<Supervision, DomainError> {
    let row = store::find(conn, &id.to_string())?
        .filter(|r| in_scope(actor, &r.org_path, r.deleted_at.is_some()))
        .ok_or(DomainError::NotFound("supervision"))?;
    Ok(Supervision::try_from(row)?)
}

/// A supervision with its findings, and the day it is in the outlet's branch.
pub fn get_with_findings(
    conn: &mut DbConn,
    actor: &Actor,
    id: Uuid,
) -> Result<(Supervision, Vec<Finding>, NaiveDate), DomainError> {
    let supervision = get(conn, actor, id)?;
    let findings = store::findings_of(conn, &id.to_string())?
        .into_iter()
        .filter(|f| visible_finding(actor, f))
        .map(Finding::try_from)
        .collect::<Result<_, _>>()?;
    let today = Clock::new(&project_store::branch_time_zone(conn, &supervision.branch_id)?).today();
    Ok((supervision, findings, today))
}

#[derive(Debug, Default, Clone)]
pub struct SupervisionQuery {
    pub org_unit_id: Option<Uuid>,
    pub supervisor_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    query: &SupervisionQuery,
    page: &PageRequest,
) -> Result<Page<Supervision>, DomainError> {
    let filter = SupervisionFilter {
        path_prefix: actor.scope().path_prefix(),
        org_unit_id: query.org_unit_id.map(|u| u.to_string()),
        supervisor_id: query.supervisor_id.map(|u| u.to_string()),
        project_id: query.project_id.map(|u| u.to_string()),
        from: query.from.map(|t| t.naive_utc()),
        to: query.to.map(|t| t.naive_utc()),
    };
    Ok(store::list(conn, &filter, page)?.try_map(Supervision::try_from)?)
}

fn save(conn: &mut DbConn, current: &Supervision, next: &mut Supervision) -> Result<(), DomainError> {
    next.bump(conn)?;
    if !store::replace(conn, &next.to_row(), current.version)? {
        return Err(DomainError::conflict(ErrorCode::VersionConflict, "the supervision changed since you read it"));
    }
    Ok(())
}

pub fn update(
    conn: &mut DbConn,
    actor: &Actor,
    thresholds: &Thresholds,
    id: Uuid,
    patch: SupervisionPatch,
) -> Result<Supervision, DomainError> {
    let mut v = Validator::default();
    let review_worked = patch.review_worked.as_deref().map(|t| bounded_text(&mut v, "review_worked", t, 4000));
    let review_change = patch.review_change.as_deref().map(|t| bounded_text(&mut v, "review_change", t, 4000));
    v.finish()?;
    conn.write_tx(|conn| {
        let current = get(conn, actor, id)?;
        may_keep(actor, &current)?;
        if patch.version.is_some_and(|v| v != current.version) {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the supervision changed since you read it"));
        }
        let mut next = current.clone();
        if let Some(items) = &patch.checklist {
            let mut v = Validator::default();
            next.checklist = checklist(&mut v, items, &current.checklist);
            v.finish()?;
            // An item left out takes its photos along: judge again on the photos that remain.
            judge(conn, &mut next, thresholds)?;
        }
        if let Some(project) = patch.project_id.filter(|p| Some(*p) != current.project_id) {
            crate::domain::projects::projects::check_reference(conn, actor, project, &current.branch_id)?;
            next.project_id = Some(project);
        }
        next.review_worked = review_worked.clone().unwrap_or(next.review_worked);
        next.review_change = review_change.clone().unwrap_or(next.review_change);
        if next == current {
            return Ok(current);
        }
        save(conn, &current, &mut next)?;
        Ok(next)
    })
}

pub fn delete(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<(), DomainError> {
    conn.write_tx(|conn| {
        let current = get(conn, actor, id)?;
        may_keep(actor, &current)?;
        let mut gone = current.clone();
        gone.deleted_at = Some(now_utc().and_utc());
        save(conn, &current, &mut gone)?;
        sync::tombstone(conn, gone.seq, "supervisions", id, &current.org_path, None)?;
        // Its findings go with it, for phones as well.
        for row in store::findings_of(conn, &id.to_string())? {
            let finding = Finding::try_from(row)?;
            let mut dropped = finding.clone();
            dropped.deleted_at = gone.deleted_at;
            dropped.version += 1;
            dropped.updated_at = gone.updated_at;
            dropped.seq = gone.seq;
            store::replace_finding(conn, &dropped.to_row(), finding.version)?;
            sync::tombstone(conn, gone.seq, "supervision_findings", finding.id, &finding.org_path, None)?;
        }
        Ok(())
    })
}

/// Checks the caller may add a photo to an item, before the upload is read.
pub fn check_can_attach(conn: &mut DbConn, actor: &Actor, id: Uuid, item: SupervisionItem) -> Result<(), DomainError> {
    attachable(actor, &get(conn, actor, id)?, item)
}

fn attachable(actor: &Actor, supervision: &Supervision, item: SupervisionItem) -> Result<(), DomainError> {
    may_keep(actor, supervision)?;
    if !supervision.checklist.iter().any(|e| e.item == item) {
        return Err(DomainError::invalid("item", "score the item on the checklist before adding its photos"));
    }
    Ok(())
}

/// Judges a supervision like a visit: the fix, its accuracy and age, the distance to the outlet's
/// door, and what its evidence photos' EXIF says of where and when they were taken.
fn judge(conn: &mut DbConn, s: &mut Supervision, thresholds: &Thresholds) -> Result<(), StoreError> {
    let door = crate::store::org::org_units::find(conn, &s.org_unit_id.to_string())?
        .and_then(|u| u.lat.zip(u.lon))
        .map(|(lat, lon)| LatLon { lat, lon });
    let photos = s.checklist.iter().flat_map(|e| &e.photos).filter_map(|p| p.exif).collect();
    let signals = Signals {
        location: s.location,
        accuracy_m: s.accuracy_m,
        visited_at: s.visited_at,
        recorded_at: s.created_at,
        partner: door.map(|d| (d, OUTLET_GEOFENCE_M)),
        mock_location: s.mock_location,
        location_age_s: s.location_age_s,
        neighbour: None,
        photos,
    };
    let verdict = verification::verify(&signals, thresholds);
    s.verified = verdict.verified;
    s.distance_m = verdict.distance_m;
    s.reasons = verdict.reasons;
    Ok(())
}

/// Adds an evidence photo to a scored item, and judges the supervision again with its EXIF.
pub fn attach_photo(
    conn: &mut DbConn,
    actor: &Actor,
    thresholds: &Thresholds,
    id: Uuid,
    item: SupervisionItem,
    photo: Evidence,
) -> Result<Supervision, DomainError> {
    conn.write_tx(|conn| {
        let current = get(conn, actor, id)?;
        attachable(actor, &current, item)?;
        let mut next = current.clone();
        let Some(entry) = next.checklist.iter_mut().find(|e| e.item == item) else {
            return Err(DomainError::invalid("item", "not on the checklist"));
        };
        if entry.photos.iter().any(|p| p.sha256 == photo.sha256) {
            return Ok(current);
        }
        if entry.photos.len() >= MAX_ITEM_PHOTOS {
            return Err(DomainError::conflict(
                ErrorCode::TooManyPhotos,
                format!("an item keeps at most {MAX_ITEM_PHOTOS} photos"),
            ));
        }
        entry.photos.push(photo.clone());
        judge(conn, &mut next, thresholds)?;
        save(conn, &current, &mut next)?;
        Ok(next)
    })
}

/// The stored blob (image or thumbnail) of an evidence photo of a supervision the caller may see.
pub fn photo_blob(
    conn: &mut DbConn,
    actor: &Actor,
    id: Uuid,
    sha256: &str,
    thumbnail: bool,
) -> Result<String, DomainError> {
    get(conn, actor, id)?
        .checklist
        .into_iter()
        .flat_map(|e| e.photos)
        .find(|p| p.sha256 == sha256)
        .map(|p| if thumbnail { p.thumb_sha256 } else { p.sha256 })
        .ok_or(DomainError::NotFound("photo"))
}

#[derive(Debug, Clone, Serialize)]
pub struct NewFinding {
    pub id: Option<Uuid>,
    pub title: String,
    pub detail: Option<String>,
    pub owner_id: Uuid,
    pub due_on: NaiveDate,
}

/// A finding of a supervision, owned by someone who must act on it by a day; with the branch's
/// day, which says whether it is overdue.
pub fn add_finding(
    conn: &mut DbConn,
    actor: &Actor,
    supervision_id: Uuid,
    input: NewFinding,
) -> Result<(Created<Finding>, NaiveDate), DomainError> {
    let mut v = Validator::default();
    let title = v.check("title", name(&input.title, 100)).unwrap_or_default();
    let detail = bounded_text(&mut v, "detail", input.detail.as_deref().unwrap_or_default(), 2000);
    v.finish()?;
    let digest = crate::domain::common::create::create_digest(&(supervision_id, &input));
    crate::domain::common::create::retry_on_race(|| {
        conn.write_tx(|conn| {
            let supervision = get(conn, actor, supervision_id)?;
            let today = Clock::new(&project_store::branch_time_zone(conn, &supervision.branch_id)?).today();
            let id = input.id.unwrap_or_else(Uuid::now_v7);
            if let Some(existing) = store::find_finding(conn, &id.to_string())? {
                return if existing.create_digest == digest && visible_finding(actor, &existing) {
                    Ok((Created::Existing(Finding::try_from(existing)?), today))
                } else {
                    Err(DomainError::conflict(ErrorCode::IdConflict, "another finding already has this id"))
                };
            }
            may_keep(actor, &supervision)?;
            let owner = owner_in_reach(conn, actor, &supervision, input.owner_id)?;
            check_due(today, input.due_on)?;
            let now = now_utc().and_utc();
            let seq = sync::next_seq(conn)?;
            let finding = Finding {
                id,
                supervision_id,
                branch_id: supervision.branch_id.clone(),
                org_unit_id: owner.0,
                org_path: owner.1,
                owner_id: input.owner_id,
                title: title.clone(),
                detail: detail.clone(),
                due_on: input.due_on,
                status: FindingStatus::Open,
                done_at: None,
                done_by: None,
                done_note: None,
                created_by: actor.user_id,
                version: 1,
                created_at: now,
                updated_at: now,
                deleted_at: None,
                seq,
                created_seq: seq,
                create_digest: digest.clone(),
            };
            store::insert_finding(conn, &finding.to_row())?;
            Ok((Created::New(finding), today))
        })
    })
}

/// The owner of a finding: an active user of the supervision's branch in the caller's scope;
/// returns their unit and its path.
fn owner_in_reach(
    conn: &mut DbConn,
    actor: &Actor,
    supervision: &Supervision,
    owner_id: Uuid,
) -> Result<(Uuid, String), DomainError> {
    let owner = user_store::find(conn, &owner_id.to_string())?
        .filter(|u| u.active && actor.scope().contains(&u.org_path))
        .filter(|u| u.org_path.starts_with(&format!("/{}/", supervision.branch_id)))
        .ok_or_else(|| DomainError::invalid("owner_id", "no such active user of the branch in your scope"))?;
    let unit = owner.org_unit_id.as_deref().map(uuid_col).transpose()?;
    let unit = unit.ok_or_else(|| DomainError::invalid("owner_id", "the owner belongs to no org unit"))?;
    Ok((unit, owner.org_path))
}

fn check_due(today: NaiveDate, due_on: NaiveDate) -> Result<(), DomainError> {
    let span = (due_on - today).num_days();
    if !(-30..=366).contains(&span) {
        return Err(DomainError::invalid("due_on", "must be within a year from today"));
    }
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct FindingPatch {
    pub status: Option<FindingStatus>,
    pub done_note: Option<String>,
    pub title: Option<String>,
    pub detail: Option<String>,
    pub owner_id: Option<Uuid>,
    pub due_on: Option<NaiveDate>,
    pub version: Option<i64>,
}

pub fn get_finding(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<(Finding, NaiveDate), DomainError> {
    let row = store::find_finding(conn, &id.to_string())?
        .filter(|r| visible_finding(actor, r))
        .ok_or(DomainError::NotFound("finding"))?;
    let today = Clock::new(&project_store::branch_time_zone(conn, &row.branch_id)?).today();
    Ok((Finding::try_from(row)?, today))
}

/// Of these finding ids, the ones [`get_finding`] answers to the caller, in one query whatever their
/// number.
pub fn readable_finding_ids(conn: &mut DbConn, actor: &Actor, ids: &[String]) -> Result<HashSet<String>, StoreError> {
    Ok(store::find_findings(conn, ids)?.into_iter().filter(|r| visible_finding(actor, r)).map(|r| r.id).collect())
}

/// The owner closes (or reopens) their finding with a note; the supervisor and the managers over
/// the outlet may also change what it says, who owns it and when it is due.
pub fn update_finding(
    conn: &mut DbConn,
    actor: &Actor,
    id: Uuid,
    patch: FindingPatch,
) -> Result<(Finding, NaiveDate), DomainError> {
    let mut v = Validator::default();
    let title = patch.title.as_deref().map(|t| v.check("title", name(t, 100)).unwrap_or_default());
    let detail = patch.detail.as_deref().map(|t| bounded_text(&mut v, "detail", t, 2000));
    let note = patch.done_note.as_deref().map(|t| bounded_text(&mut v, "done_note", t, 2000));
    v.finish()?;
    conn.write_tx(|conn| {
        let (current, today) = get_finding(conn, actor, id)?;
        let supervision = store::find(conn, &current.supervision_id.to_string())?
            .map(Supervision::try_from)
            .transpose()?
            .ok_or(DomainError::NotFound("supervision"))?;
        let keeper = may_keep(actor, &supervision).is_ok();
        let owner = current.owner_id == actor.user_id;
        if !keeper && !owner {
            return Err(DomainError::forbidden(
                ErrorCode::NotOwner,
                "the finding's owner, its supervisor or a manager changes it",
            ));
        }
        let edits_more = title.is_some() || detail.is_some() || patch.owner_id.is_some() || patch.due_on.is_some();
        if edits_more && !keeper {
            return Err(DomainError::forbidden(
                ErrorCode::NotOwner,
                "the owner closes a finding; the supervisor sets what it says",
            ));
        }
        if patch.version.is_some_and(|v| v != current.version) {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the finding changed since you read it"));
        }
        let mut next = current.clone();
        match (current.status, patch.status) {
            (FindingStatus::Open, Some(FindingStatus::Done)) => {
                next.status = FindingStatus::Done;
                next.done_at = Some(now_utc().and_utc().trunc_subsecs(6));
                next.done_by = Some(actor.user_id);
            }
            (FindingStatus::Done, Some(FindingStatus::Open)) => {
                if !keeper {
                    return Err(DomainError::forbidden(
                        ErrorCode::NotOwner,
                        "the supervisor or a manager reopens a finding",
                    ));
                }
                next.status = FindingStatus::Open;
                next.done_at = None;
                next.done_by = None;
            }
            _ => {}
        }
        if let Some(note) = note.clone() {
            next.done_note = Some(note);
        }
        next.title = title.clone().unwrap_or(next.title);
        next.detail = detail.clone().unwrap_or(next.detail);
        if let Some(due) = patch.due_on {
            check_due(today, due)?;
            next.due_on = due;
        }
        if let Some(owner_id) = patch.owner_id.filter(|o| *o != current.owner_id) {
            let (unit, path) = owner_in_reach(conn, actor, &supervision, owner_id)?;
            next.owner_id = owner_id;
            next.org_unit_id = unit;
            next.org_path = path;
        }
        if next == current {
            return Ok((current, today));
        }
        next.version += 1;
        next.updated_at = now_utc().and_utc();
        next.seq = sync::next_seq(conn)?;
        if !store::replace_finding(conn, &next.to_row(), current.version)? {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the finding changed since you read it"));
        }
        if next.org_path != current.org_path {
            // It left the old owner's unit: phones there drop it.
            sync::tombstone(conn, next.seq, "supervision_findings", id, &current.org_path, None)?;
        }
        Ok((next, today))
    })
}

#[derive(Debug, Default, Clone)]
pub struct FindingQuery {
    pub supervision_id: Option<Uuid>,
    pub owner_id: Option<Uuid>,
    pub org_unit_id: Option<Uuid>,
    pub status: Option<FindingStatus>,
    pub overdue: Option<bool>,
}

pub fn list_findings(
    conn: &mut DbConn,
    actor: &Actor,
    query: &FindingQuery,
    page: &PageRequest,
) -> Result<(Page<Finding>, NaiveDate), DomainError> {
    let branch = actor.branch_id().map(str::to_owned);
    let today = Clock::new(&match branch {
        Some(b) => project_store::branch_time_zone(conn, &b)?,
        None => crate::domain::common::calendar::DEFAULT_TIME_ZONE.to_owned(),
    })
    .today();
    let filter = FindingFilter {
        path_prefix: actor.scope().path_prefix(),
        supervision_id: query.supervision_id.map(|u| u.to_string()),
        owner_id: query.owner_id.map(|u| u.to_string()),
        org_unit_id: query.org_unit_id.map(|u| u.to_string()),
        status: query.status.map(|s| s.as_str().to_owned()),
        overdue_on: query.overdue.filter(|o| *o).map(|_| today),
    };
    let page = store::list_findings(conn, &filter, page)?.try_map(Finding::try_from)?;
    Ok((page, today))
}

/// Open findings past due of the units under a path, for the morning report (oldest due first).
pub fn overdue_under(conn: &mut DbConn, path: &str, today: NaiveDate) -> Result<Vec<Finding>, StoreError> {
    store::overdue_under(conn, path, today, 200)?.into_iter().map(Finding::try_from).collect()
}
