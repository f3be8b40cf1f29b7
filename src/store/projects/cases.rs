//! Best-practice cases and the readers who found them useful.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::store::field::partners::{like_pattern, lower};
use crate::store::schema::{practice_case_votes as votes, practice_cases as cases};
use crate::store::{DbConn, Page, PageRequest, StoreError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = cases)]
pub struct CaseRow {
    pub id: String,
    pub branch_id: String,
    pub org_unit_id: String,
    pub org_path: String,
    pub author_id: String,
    pub title: String,
    pub segment: String,
    pub partner_category: Option<String>,
    pub what_done: String,
    pub results: String,
    pub figures: String,
    pub project_id: Option<String>,
    pub photos: String,
    pub status: String,
    pub published_by: Option<String>,
    pub published_at: Option<NaiveDateTime>,
    pub useful_count: i64,
    pub create_digest: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

/// What a reader may list: the published cases of their branch, and the drafts they may see.
#[derive(Debug, Default, Clone)]
pub struct CaseFilter {
    /// `None` for an admin: every branch.
    pub branch_id: Option<String>,
    /// Drafts under this path are visible (a manager's or supervisor's subtree).
    pub drafts_under: Option<String>,
    /// Drafts by this author are visible (their own).
    pub drafts_by: Option<String>,
    /// Every draft is visible (an admin).
    pub all_drafts: bool,
    pub status: Option<String>,
    pub segment: Option<String>,
    pub partner_category: Option<String>,
    pub project_id: Option<String>,
    pub author_id: Option<String>,
    pub q: Option<String>,
}

pub fn insert(conn: &mut DbConn, row: &CaseRow) -> Result<(), StoreError> {
    on_backend!(conn, |c| diesel::insert_into(cases::table).values(row).execute(c))?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<CaseRow>, StoreError> {
    Ok(cases::table.find(id).select(CaseRow::as_select()).first(conn).optional()?)
}

/// Writes every changeable column if the row still has `expected_version`.
pub fn replace(conn: &mut DbConn, row: &CaseRow, expected_version: i64) -> Result<bool, StoreError> {
    let n = diesel::update(cases::table.filter(cases::id.eq(&row.id)).filter(cases::version.eq(expected_version)))
        .set((
            cases::title.eq(&row.title),
            cases::segment.eq(&row.segment),
            cases::partner_category.eq(&row.partner_category),
            cases::what_done.eq(&row.what_done),
            cases::results.eq(&row.results),
            cases::figures.eq(&row.figures),
            cases::project_id.eq(&row.project_id),
            cases::photos.eq(&row.photos),
            cases::status.eq(&row.status),
            cases::published_by.eq(&row.published_by),
            cases::published_at.eq(row.published_at),
            cases::useful_count.eq(row.useful_count),
            cases::version.eq(row.version),
            cases::updated_at.eq(row.updated_at),
            cases::deleted_at.eq(row.deleted_at),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Newest first (ids are UUIDv7 when the server makes them).
pub fn list(conn: &mut DbConn, filter: &CaseFilter, page: &PageRequest) -> Result<Page<CaseRow>, StoreError> {
    let mut query = cases::table.select(CaseRow::as_select()).filter(cases::deleted_at.is_null()).into_boxed();
    if let Some(branch) = &filter.branch_id {
        query = query.filter(cases::branch_id.eq(branch.clone()));
    }
    if !filter.all_drafts {
        let published = cases::status.eq("published");
        query = match (&filter.drafts_under, &filter.drafts_by) {
            (Some(path), _) => query.filter(published.or(cases::org_path.like(format!("{path}%")))),
            (None, Some(author)) => query.filter(published.or(cases::author_id.eq(author.clone()))),
            (None, None) => query.filter(published),
        };
    }
    if let Some(v) = &filter.status {
        query = query.filter(cases::status.eq(v.clone()));
    }
    if let Some(v) = &filter.segment {
        query = query.filter(cases::segment.eq(v.clone()));
    }
    if let Some(v) = &filter.partner_category {
        query = query.filter(cases::partner_category.eq(v.clone()));
    }
    if let Some(v) = &filter.project_id {
        query = query.filter(cases::project_id.eq(v.clone()));
    }
    if let Some(v) = &filter.author_id {
        query = query.filter(cases::author_id.eq(v.clone()));
    }
    if let Some(q) = &filter.q {
        let pattern = like_pattern(q);
        query = query.filter(
            lower(cases::title)
                .like(pattern.clone())
                .escape('\\')
                .or(lower(cases::what_done).like(pattern.clone()).escape('\\'))
                .or(lower(cases::results).like(pattern).escape('\\')),
        );
    }
    if let Some(before) = &page.after {
        query = query.filter(cases::id.lt(before.clone()));
    }
    let rows = query.order(cases::id.desc()).limit(page.limit + 1).load(conn)?;
    Ok(page.page(rows, |r| &r.id))
}

/// Records a reader's vote; `false` when they had voted already.
pub fn add_vote(conn: &mut DbConn, case_id: &str, user_id: &str, at: NaiveDateTime) -> Result<bool, StoreError> {
    let exists = votes::table.find((case_id, user_id)).count().get_result::<i64>(conn)? > 0;
    if exists {
        return Ok(false);
    }
    let row = (votes::case_id.eq(case_id), votes::user_id.eq(user_id), votes::created_at.eq(at));
    on_backend!(conn, |c| diesel::insert_into(votes::table).values(row).execute(c))?;
    Ok(true)
}

/// Moves a case's useful count by `delta`, in place.
pub fn count_useful(conn: &mut DbConn, case_id: &str, delta: i64) -> Result<(), StoreError> {
    diesel::update(cases::table.find(case_id))
        .set(cases::useful_count.eq(cases::useful_count + delta))
        .execute(conn)?;
    Ok(())
}

/// Takes a reader's vote back; `false` when there was none.
pub fn remove_vote(conn: &mut DbConn, case_id: &str, user_id: &str) -> Result<bool, StoreError> {
    Ok(diesel::delete(votes::table.find((case_id, user_id))).execute(conn)? == 1)
}

/// Which of these cases the reader marked useful.
pub fn voted(conn: &mut DbConn, case_ids: &[String], user_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(votes::table
        .filter(votes::user_id.eq(user_id))
        .filter(votes::case_id.eq_any(case_ids))
        .select(votes::case_id)
        .load(conn)?)
}
