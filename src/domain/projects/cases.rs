//! Best-practice cases (优秀案例): what an outlet did with a segment and a kind of partner, and
//! what came of it in figures. Anyone writes one; a manager over it publishes it to the whole
//! branch; readers mark the ones that helped them, which ranks the library.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::common::create::Created;
use crate::domain::common::error::Validator;
use crate::domain::common::evidence::{Evidence, EvidenceHolder};
use crate::domain::common::text::{bounded_text, name};
use crate::domain::kinds::lead_kind::Segment;
use crate::domain::kinds::partner_kind::PartnerCategory;
use crate::domain::kinds::text_enum;
use crate::domain::{Actor, DomainError, ErrorCode, Role};
use crate::store::org::org_units as unit_store;
use crate::store::org::users as user_store;
use crate::store::projects::cases::{self as store, CaseFilter, CaseRow};
use crate::store::{DbConn, Page, PageRequest, StoreError, enum_col, json_col, now_utc, uuid_col};

text_enum!(CaseStatus {
    Draft => "draft",
    Published => "published",
});

/// A result in figures: "新增客户 32 户".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Figure {
    pub label: String,
    pub value: f64,
    /// "户", "万元", "%"…; may be empty.
    #[serde(default)]
    pub unit: String,
}

pub const MAX_FIGURES: usize = 12;
pub const MAX_PHOTOS: usize = 12;

#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub id: Uuid,
    pub branch_id: String,
    pub org_unit_id: Uuid,
    pub org_path: String,
    pub author_id: Uuid,
    pub title: String,
    pub segment: Segment,
    pub partner_category: Option<PartnerCategory>,
    pub what_done: String,
    pub results: String,
    pub figures: Vec<Figure>,
    pub project_id: Option<Uuid>,
    pub photos: Vec<Evidence>,
    pub status: CaseStatus,
    pub published_by: Option<Uuid>,
    pub published_at: Option<DateTime<Utc>>,
    pub useful_count: i64,
    /// Filled per reader: whether they marked it useful; the author's and unit's names; whether
    /// the author's and unit's records are theirs to open (a case read branch-wide names its
    /// author, but does not hand out ids of people and units outside the reader's subtree).
    pub useful_by_me: bool,
    pub author_name: String,
    pub unit_name: String,
    pub reader_sees_author: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    create_digest: String,
    deleted_at: Option<DateTime<Utc>>,
}

impl TryFrom<CaseRow> for Case {
    type Error = StoreError;
    fn try_from(r: CaseRow) -> Result<Self, StoreError> {
        Ok(Case {
            id: uuid_col(&r.id)?,
            org_unit_id: uuid_col(&r.org_unit_id)?,
            author_id: uuid_col(&r.author_id)?,
            segment: enum_col(&r.segment)?,
            partner_category: r.partner_category.as_deref().map(enum_col).transpose()?,
            figures: json_col(&r.figures, "case figures")?,
            project_id: r.project_id.as_deref().map(uuid_col).transpose()?,
            photos: json_col(&r.photos, "case photos")?,
            status: enum_col(&r.status)?,
            published_by: r.published_by.as_deref().map(uuid_col).transpose()?,
            published_at: r.published_at.map(|t| t.and_utc()),
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            deleted_at: r.deleted_at.map(|t| t.and_utc()),
            branch_id: r.branch_id,
            org_path: r.org_path,
            title: r.title,
            what_done: r.what_done,
            results: r.results,
            useful_count: r.useful_count,
            useful_by_me: false,
            author_name: String::new(),
            unit_name: String::new(),
            reader_sees_author: false,
            version: r.version,
            create_digest: r.create_digest,
        })
    }
}

impl Case {
    fn to_row(&self) -> CaseRow {
        CaseRow {
            id: self.id.to_string(),
            branch_id: self.branch_id.clone(),
            org_unit_id: self.org_unit_id.to_string(),
            org_path: self.org_path.clone(),
            author_id: self.author_id.to_string(),
            title: self.title.clone(),
            segment: self.segment.as_str().to_owned(),
            partner_category: self.partner_category.map(|c| c.as_str().to_owned()),
            what_done: self.what_done.clone(),
            results: self.results.clone(),
            figures: serde_json::to_string(&self.figures).unwrap_or_else(|_| "[]".to_owned()),
            project_id: self.project_id.map(|p| p.to_string()),
            photos: serde_json::to_string(&self.photos).unwrap_or_else(|_| "[]".to_owned()),
            status: self.status.as_str().to_owned(),
            published_by: self.published_by.map(|p| p.to_string()),
            published_at: self.published_at.map(|t| t.naive_utc()),
            useful_count: self.useful_count,
            create_digest: self.create_digest.clone(),
            version: self.version,
            created_at: self.created_at.naive_utc(),
            updated_at: self.updated_at.naive_utc(),
            deleted_at: self.deleted_at.map(|t| t.naive_utc()),
        }
    }

    fn bump(&mut self) {
        self.version += 1;
        self.updated_at = now_utc().and_utc();
    }
}

/// A published case is the whole branch's; a draft is its author's and the managers' and
/// supervisors' over it.
fn visible(actor: &Actor, row: &CaseRow) -> bool {
    if row.deleted_at.is_some() {
        return false;
    }
    if actor.role == Role::Admin {
        return true;
    }
    if row.status == CaseStatus::Published.as_str() {
        return actor.branch_id() == Some(row.branch_id.as_str());
    }
    row.author_id == actor.user_id.to_string()
        || (actor.role != Role::AccountManager && actor.scope().contains(&row.org_path))
}

/// Managers over the case publish it, withdraw it, and edit it at any time.
fn manages(actor: &Actor, case: &Case) -> bool {
    actor.role.manages_people() && actor.scope().contains(&case.org_path)
}

/// The author edits their draft; once published, the text is the managers' to change.
fn may_edit(actor: &Actor, case: &Case) -> Result<(), DomainError> {
    if manages(actor, case) {
        return Ok(());
    }
    if case.author_id != actor.user_id {
        return Err(DomainError::forbidden(ErrorCode::NotOwner, "only the author or a manager over it changes a case"));
    }
    if case.status == CaseStatus::Published {
        return Err(DomainError::conflict(
            ErrorCode::CasePublished,
            "a published case is changed by a manager; ask one to withdraw it",
        ));
    }
    Ok(())
}

fn may_publish(actor: &Actor, case: &Case) -> Result<(), DomainError> {
    if manages(actor, case) {
        Ok(())
    } else {
        Err(DomainError::forbidden(ErrorCode::RoleNotAllowed, "a manager over the case publishes it"))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct NewCase {
    pub id: Option<Uuid>,
    pub title: String,
    pub segment: Segment,
    pub partner_category: Option<PartnerCategory>,
    pub what_done: String,
    pub results: String,
    pub figures: Vec<Figure>,
    pub project_id: Option<Uuid>,
}

#[derive(Debug, Clone, Default)]
pub struct CasePatch {
    pub title: Option<String>,
    pub segment: Option<Segment>,
    pub partner_category: Option<PartnerCategory>,
    pub what_done: Option<String>,
    pub results: Option<String>,
    pub figures: Option<Vec<Figure>>,
    pub project_id: Option<Uuid>,
    pub version: Option<i64>,
}

fn long_text(v: &mut Validator, field: &str, text: &str) -> String {
    let text = bounded_text(v, field, text, 5000);
    if text.is_empty() {
        v.add(field, "must not be empty");
    }
    text
}

fn checked_figures(v: &mut Validator, figures: &[Figure]) -> Vec<Figure> {
    if figures.len() > MAX_FIGURES {
        v.add("figures", format!("at most {MAX_FIGURES} figures"));
    }
    figures
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let label = v.check(&format!("figures[{i}].label"), name(&f.label, 40)).unwrap_or_default();
            if !(f.value.is_finite() && f.value.abs() <= 1e12) {
                v.add(&format!("figures[{i}].value"), "must be a number up to 1e12");
            }
            let unit = bounded_text(v, &format!("figures[{i}].unit"), &f.unit, 10);
            Figure { label, value: f.value, unit }
        })
        .collect()
}

pub fn create(conn: &mut DbConn, actor: &Actor, input: NewCase) -> Result<Created<Case>, DomainError> {
    let mut v = Validator::default();
    let title = v.check("title", name(&input.title, 100)).unwrap_or_default();
    let what_done = long_text(&mut v, "what_done", &input.what_done);
    let results = long_text(&mut v, "results", &input.results);
    let figures = checked_figures(&mut v, &input.figures);
    v.finish()?;
    let Some(unit_id) = actor.org_unit_id else {
        return Err(DomainError::forbidden(
            ErrorCode::RoleNotAllowed,
            "a case is written from an org unit; yours has none",
        ));
    };
    let digest = crate::domain::common::create::create_digest(&input);
    crate::domain::common::create::retry_on_race(|| {
        conn.write_tx(|conn| {
            let id = input.id.unwrap_or_else(Uuid::now_v7);
            if let Some(existing) = store::find(conn, &id.to_string())? {
                return if existing.create_digest == digest && visible(actor, &existing) {
                    Ok(Created::Existing(for_one_reader(conn, actor, Case::try_from(existing)?)?))
                } else {
                    Err(DomainError::conflict(ErrorCode::IdConflict, "another case already has this id"))
                };
            }
            let unit = crate::domain::org::org_units::get(conn, actor, unit_id)?;
            if let Some(project) = input.project_id {
                crate::domain::projects::projects::check_reference(conn, actor, project, &unit.branch_id.to_string())?;
            }
            let now = now_utc().and_utc().trunc_subsecs(6);
            let case = Case {
                id,
                branch_id: unit.branch_id.to_string(),
                org_unit_id: unit.id,
                org_path: unit.path,
                author_id: actor.user_id,
                title: title.clone(),
                segment: input.segment,
                partner_category: input.partner_category,
                what_done: what_done.clone(),
                results: results.clone(),
                figures: figures.clone(),
                project_id: input.project_id,
                photos: Vec::new(),
                status: CaseStatus::Draft,
                published_by: None,
                published_at: None,
                useful_count: 0,
                useful_by_me: false,
                author_name: String::new(),
                unit_name: String::new(),
                reader_sees_author: false,
                version: 1,
                created_at: now,
                updated_at: now,
                create_digest: digest.clone(),
                deleted_at: None,
            };
            store::insert(conn, &case.to_row())?;
            Ok(Created::New(for_one_reader(conn, actor, case)?))
        })
    })
}

/// Fills in what depends on the reader (see `Case::useful_by_me`), for a page in three queries.
fn for_reader(conn: &mut DbConn, actor: &Actor, mut cases: Vec<Case>) -> Result<Vec<Case>, StoreError> {
    let ids: Vec<String> = cases.iter().map(|c| c.id.to_string()).collect();
    let mine = store::voted(conn, &ids, &actor.user_id.to_string())?;
    let authors: Vec<String> = cases.iter().map(|c| c.author_id.to_string()).collect();
    let author_names = user_store::names(conn, &authors)?;
    let units: Vec<String> = cases.iter().map(|c| c.org_unit_id.to_string()).collect();
    let unit_names = unit_store::names(conn, &units)?;
    let name_of = |names: &[(String, String)], id: String| {
        names.iter().find(|(i, _)| *i == id).map(|(_, n)| n.clone()).unwrap_or_default()
    };
    for case in &mut cases {
        case.useful_by_me = mine.contains(&case.id.to_string());
        case.author_name = name_of(&author_names, case.author_id.to_string());
        case.unit_name = name_of(&unit_names, case.org_unit_id.to_string());
        case.reader_sees_author = actor.scope().contains(&case.org_path) || case.author_id == actor.user_id;
    }
    Ok(cases)
}

fn for_one_reader(conn: &mut DbConn, actor: &Actor, case: Case) -> Result<Case, StoreError> {
    let mut one = for_reader(conn, actor, vec![case])?;
    one.pop().ok_or_else(|| StoreError::Corrupt("a case went missing while read".to_owned()))
}

fn get_visible(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<Case, DomainError> {
    let row = store::find(conn, &id.to_string())?.filter(|r| visible(actor, r)).ok_or(DomainError::NotFound("case"))?;
    Ok(Case::try_from(row)?)
}

pub fn get(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<Case, DomainError> {
    let case = get_visible(conn, actor, id)?;
    Ok(for_one_reader(conn, actor, case)?)
}

#[derive(Debug, Default, Clone)]
pub struct CaseQuery {
    pub status: Option<CaseStatus>,
    pub segment: Option<Segment>,
    pub partner_category: Option<PartnerCategory>,
    pub project_id: Option<Uuid>,
    pub author_id: Option<Uuid>,
    pub q: Option<String>,
}

pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    query: &CaseQuery,
    page: &PageRequest,
) -> Result<Page<Case>, DomainError> {
    // Filtering by someone the caller may not see would map their hidden id to their cases
    // (whose authors the caller is otherwise not told): nothing, as for an unknown id.
    if let Some(author) = query.author_id.filter(|a| *a != actor.user_id) {
        let seen = user_store::find(conn, &author.to_string())?.is_some_and(|u| actor.scope().contains(&u.org_path));
        if !seen {
            return Ok(Page { items: Vec::new(), next_cursor: None });
        }
    }
    let admin = actor.role == Role::Admin;
    let filter = CaseFilter {
        branch_id: if admin { None } else { Some(actor.branch_id().unwrap_or_default().to_owned()) },
        drafts_under: (!admin && actor.role != Role::AccountManager).then(|| actor.org_path.clone()),
        drafts_by: Some(actor.user_id.to_string()),
        all_drafts: admin,
        status: query.status.map(|s| s.as_str().to_owned()),
        segment: query.segment.map(|s| s.as_str().to_owned()),
        partner_category: query.partner_category.map(|c| c.as_str().to_owned()),
        project_id: query.project_id.map(|p| p.to_string()),
        author_id: query.author_id.map(|a| a.to_string()),
        q: query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned),
    };
    let page = store::list(conn, &filter, page)?.try_map(Case::try_from)?;
    Ok(Page { items: for_reader(conn, actor, page.items)?, next_cursor: page.next_cursor })
}

/// Runs a change on a case the caller may see, with the optimistic version check.
fn change(
    conn: &mut DbConn,
    actor: &Actor,
    id: Uuid,
    version: Option<i64>,
    edit: impl FnOnce(&mut DbConn, &Case, &mut Case) -> Result<(), DomainError>,
) -> Result<Case, DomainError> {
    conn.write_tx(|conn| {
        let current = get_visible(conn, actor, id)?;
        if version.is_some_and(|v| v != current.version) {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the case changed since you read it"));
        }
        let mut next = current.clone();
        edit(conn, &current, &mut next)?;
        if next == current {
            return Ok(for_one_reader(conn, actor, current)?);
        }
        next.bump();
        if !store::replace(conn, &next.to_row(), current.version)? {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the case changed since you read it"));
        }
        Ok(for_one_reader(conn, actor, next)?)
    })
}

pub fn update(conn: &mut DbConn, actor: &Actor, id: Uuid, patch: CasePatch) -> Result<Case, DomainError> {
    let mut v = Validator::default();
    let title = patch.title.as_deref().map(|t| v.check("title", name(t, 100)).unwrap_or_default());
    let what_done = patch.what_done.as_deref().map(|t| long_text(&mut v, "what_done", t));
    let results = patch.results.as_deref().map(|t| long_text(&mut v, "results", t));
    let figures = patch.figures.as_deref().map(|f| checked_figures(&mut v, f));
    v.finish()?;
    change(conn, actor, id, patch.version, |conn, current, next| {
        may_edit(actor, current)?;
        if let Some(project) = patch.project_id.filter(|p| Some(*p) != current.project_id) {
            crate::domain::projects::projects::check_reference(conn, actor, project, &current.branch_id)?;
            next.project_id = Some(project);
        }
        next.title = title.unwrap_or_else(|| next.title.clone());
        next.segment = patch.segment.unwrap_or(next.segment);
        next.partner_category = patch.partner_category.or(next.partner_category);
        next.what_done = what_done.unwrap_or_else(|| next.what_done.clone());
        next.results = results.unwrap_or_else(|| next.results.clone());
        next.figures = figures.unwrap_or_else(|| next.figures.clone());
        Ok(())
    })
}

pub fn publish(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<Case, DomainError> {
    change(conn, actor, id, None, |_, current, next| {
        may_publish(actor, current)?;
        if current.status != CaseStatus::Published {
            next.status = CaseStatus::Published;
            next.published_by = Some(actor.user_id);
            next.published_at = Some(now_utc().and_utc().trunc_subsecs(6));
        }
        Ok(())
    })
}

/// Back to draft, for its author to rework; its useful marks stay.
pub fn withdraw(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<Case, DomainError> {
    change(conn, actor, id, None, |_, current, next| {
        may_publish(actor, current)?;
        next.status = CaseStatus::Draft;
        next.published_by = None;
        next.published_at = None;
        Ok(())
    })
}

/// A reader's "useful" on a published case: given, or taken back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Useful {
    Mark,
    Unmark,
}

/// Marks (or unmarks) a published case useful for the caller; idempotent. The count moves by an
/// atomic increment, not a new version: a click must not conflict with another reader's, nor
/// with the author's edit.
pub fn mark_useful(conn: &mut DbConn, actor: &Actor, id: Uuid, useful: Useful) -> Result<Case, DomainError> {
    conn.write_tx(|conn| {
        let current = get_visible(conn, actor, id)?;
        if current.status != CaseStatus::Published {
            return Err(DomainError::conflict(ErrorCode::NotPublished, "only a published case is marked useful"));
        }
        let (case_id, me) = (current.id.to_string(), actor.user_id.to_string());
        let (changed, by) = match useful {
            Useful::Mark => (store::add_vote(conn, &case_id, &me, now_utc())?, 1),
            Useful::Unmark => (store::remove_vote(conn, &case_id, &me)?, -1),
        };
        if changed {
            store::count_useful(conn, &case_id, by)?;
        }
        get(conn, actor, id)
    })
}

pub fn delete(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<(), DomainError> {
    change(conn, actor, id, None, |_, current, next| {
        may_edit(actor, current)?;
        next.deleted_at = Some(now_utc().and_utc().trunc_subsecs(6));
        Ok(())
    })
    .map(|_| ())
}

/// Checks the caller may add a photo, before the upload is read.
pub fn check_can_attach(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<(), DomainError> {
    let case = get_visible(conn, actor, id)?;
    may_edit(actor, &case)
}

pub fn attach_photo(conn: &mut DbConn, actor: &Actor, id: Uuid, photo: Evidence) -> Result<Case, DomainError> {
    change(conn, actor, id, None, |_, current, next| {
        may_edit(actor, current)?;
        if current.photos.iter().any(|p| p.sha256 == photo.sha256) {
            return Ok(());
        }
        if current.photos.len() >= MAX_PHOTOS {
            return Err(DomainError::conflict(
                ErrorCode::TooManyPhotos,
                format!("a case keeps at most {MAX_PHOTOS} photos"),
            ));
        }
        next.photos.push(photo);
        Ok(())
    })
}

/// A case's photos: added by whoever may edit the case, seen by whoever may see it.
pub struct CasePhotos;

impl EvidenceHolder for CasePhotos {
    type Slot = ();
    const PHOTO: &'static str = "photo";

    fn check_can_attach(conn: &mut DbConn, actor: &Actor, id: Uuid, _: ()) -> Result<(), DomainError> {
        check_can_attach(conn, actor, id)
    }

    fn photos(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<Vec<Evidence>, DomainError> {
        Ok(get_visible(conn, actor, id)?.photos)
    }
}
