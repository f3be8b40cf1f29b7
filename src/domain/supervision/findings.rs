//! A supervision's findings (整改项): each with an owner who must act on it by a day, open →
//! done, seen by the outlet's subtree and by its owner and author wherever they sit.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::common::calendar::Clock;
use crate::domain::common::create::Created;
use crate::domain::common::error::Validator;
use crate::domain::common::text::{bounded_text, name};
use crate::domain::kinds::text_enum;
use crate::domain::supervision::supervisions::{Supervision, get, may_keep};
use crate::domain::{Actor, DomainError, ErrorCode};
use crate::store::org::users as user_store;
use crate::store::projects::projects as project_store;
use crate::store::supervision::supervisions::{self as store, FindingFilter, FindingRow};
use crate::store::{DbConn, Page, PageRequest, StoreError, enum_col, now_utc, sync, uuid_col};

text_enum!(FindingStatus {
    Open => "open",
    Done => "done",
});

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

fn visible_finding(actor: &Actor, row: &FindingRow) -> bool {
    row.deleted_at.is_none()
        && (actor.scope().contains(&row.org_path)
            || row.owner_id == actor.user_id.to_string()
            || row.created_by == actor.user_id.to_string())
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
