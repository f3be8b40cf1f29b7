//! Supervision (督导): a supervisor's geotagged visit to an outlet, scored on the method's
//! standard checklist with notes and evidence photos, and its review (复盘: what worked, what to
//! change). Verified like a visit, against the outlet's door. The findings it leaves are in
//! [`super::findings`].

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::common::create::Created;
use crate::domain::common::error::Validator;
use crate::domain::common::evidence::{Evidence, EvidenceHolder};
use crate::domain::common::text::bounded_text;
use crate::domain::field::verification::{self, Reason, Signals, Thresholds};
use crate::domain::kinds::text_enum;
use crate::domain::org::org_units::OrgUnitKind;
use crate::domain::{Actor, DomainError, ErrorCode, Role};
use crate::geo::LatLon;
use crate::store::supervision::supervisions::{self as store, FindingRow, SupervisionFilter, SupervisionRow};
use crate::store::{DbConn, Page, PageRequest, StoreError, json_col, now_utc, sync, uuid_col};

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

/// Supervisions (and findings, see [`super::findings`]) are the subtree's: managers and supervisors over the outlet, and the
/// outlet's own staff, who are the ones the feedback is for.
fn in_scope(actor: &Actor, path: &str, deleted: bool) -> bool {
    !deleted && actor.scope().contains(path)
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
pub(super) fn may_keep(actor: &Actor, s: &Supervision) -> Result<(), DomainError> {
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
            let (finding_id, path, version) = (uuid_col(&row.id)?, row.org_path.clone(), row.version);
            let dropped = FindingRow {
                deleted_at: gone.deleted_at.map(|t| t.naive_utc()),
                version: version + 1,
                updated_at: gone.updated_at.naive_utc(),
                seq: gone.seq,
                ..row
            };
            store::replace_finding(conn, &dropped, version)?;
            sync::tombstone(conn, gone.seq, "supervision_findings", finding_id, &path, None)?;
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
    let mut verdict = verification::verify(&signals, thresholds);
    if door.is_none() {
        // Nothing to measure the distance to: a supervision "at" an outlet could be anywhere.
        verdict.reasons.insert(0, Reason::NoReferenceLocation);
        verdict.verified = false;
    }
    s.verified = verdict.verified;
    s.distance_m = verdict.distance_m;
    s.reasons = verdict.reasons;
    Ok(())
}

/// Edits an org unit; when its door moves (or is set for the first time), every live
/// supervision of it is judged again against the new door, in the same transaction.
pub fn update_unit(
    conn: &mut DbConn,
    actor: &Actor,
    thresholds: &Thresholds,
    id: Uuid,
    patch: crate::domain::org::org_units::OrgUnitPatch,
) -> Result<crate::domain::org::org_units::OrgUnit, DomainError> {
    conn.write_tx(|conn| {
        let before = crate::domain::org::org_units::get(conn, actor, id)?;
        let unit = crate::domain::org::org_units::update(conn, actor, id, patch)?;
        if unit.location != before.location {
            rejudge_at(conn, thresholds, id)?;
        }
        Ok(unit)
    })
}

fn rejudge_at(conn: &mut DbConn, thresholds: &Thresholds, unit_id: Uuid) -> Result<(), DomainError> {
    let filter = SupervisionFilter { org_unit_id: Some(unit_id.to_string()), ..SupervisionFilter::default() };
    let mut page = PageRequest { after: None, limit: 500 };
    loop {
        let rows = store::list(conn, &filter, &page)?;
        for row in rows.items {
            let current = Supervision::try_from(row)?;
            let mut next = current.clone();
            judge(conn, &mut next, thresholds)?;
            if (next.verified, &next.reasons) != (current.verified, &current.reasons)
                || next.distance_m != current.distance_m
            {
                save(conn, &current, &mut next)?;
            }
        }
        match rows.next_cursor.as_deref().and_then(PageRequest::decode_cursor) {
            Some(after) => page.after = Some(after),
            None => return Ok(()),
        }
    }
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

/// A supervision's evidence: photos go on its scored checklist items, added by whoever keeps the
/// supervision and seen by whoever may see it.
pub struct SupervisionPhotos;

impl EvidenceHolder for SupervisionPhotos {
    type Slot = SupervisionItem;
    const PHOTO: &'static str = "photo";

    fn check_can_attach(conn: &mut DbConn, actor: &Actor, id: Uuid, item: SupervisionItem) -> Result<(), DomainError> {
        check_can_attach(conn, actor, id, item)
    }

    fn photos(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<Vec<Evidence>, DomainError> {
        Ok(get(conn, actor, id)?.checklist.into_iter().flat_map(|e| e.photos).collect())
    }
}
