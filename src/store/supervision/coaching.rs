//! Coaching plans of supervisors-in-training and the reviews written in each phase.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::store::schema::{coaching_plans as plans, coaching_reviews as reviews};
use crate::store::{DbConn, Page, PageRequest, StoreError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = plans)]
pub struct PlanRow {
    pub id: String,
    pub branch_id: String,
    pub org_unit_id: String,
    pub org_path: String,
    pub trainee_id: String,
    pub coach_id: Option<String>,
    pub coach_name: String,
    pub phase: String,
    pub observe_started_on: NaiveDate,
    pub practice_started_on: Option<NaiveDate>,
    pub lead_started_on: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    pub notes: String,
    pub created_by: String,
    pub create_digest: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = reviews)]
pub struct ReviewRow {
    pub id: String,
    pub plan_id: String,
    pub phase: String,
    pub reviewed_on: NaiveDate,
    pub author_id: String,
    pub summary: String,
    pub went_well: String,
    pub to_improve: String,
    pub create_digest: String,
    pub created_at: NaiveDateTime,
}

/// Who may list which plans: a subtree, or (also) the plans one trains in or coaches.
#[derive(Debug, Default, Clone)]
pub struct PlanFilter {
    /// Every plan under this path; `None` with `all` false: only the caller's own.
    pub path_prefix: Option<String>,
    pub all: bool,
    /// The caller: their plans as trainee or coach are always listed.
    pub me: String,
    pub phase: Option<String>,
    pub trainee_id: Option<String>,
}

pub fn insert(conn: &mut DbConn, row: &PlanRow) -> Result<(), StoreError> {
    on_backend!(conn, |c| diesel::insert_into(plans::table).values(row).execute(c))?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<PlanRow>, StoreError> {
    Ok(plans::table.find(id).select(PlanRow::as_select()).first(conn).optional()?)
}

/// The phase and its dates, if the row still has `expected_version`.
pub fn replace(conn: &mut DbConn, row: &PlanRow, expected_version: i64) -> Result<bool, StoreError> {
    let n = diesel::update(plans::table.filter(plans::id.eq(&row.id)).filter(plans::version.eq(expected_version)))
        .set((
            plans::phase.eq(&row.phase),
            plans::practice_started_on.eq(row.practice_started_on),
            plans::lead_started_on.eq(row.lead_started_on),
            plans::completed_on.eq(row.completed_on),
            plans::coach_id.eq(&row.coach_id),
            plans::coach_name.eq(&row.coach_name),
            plans::notes.eq(&row.notes),
            plans::version.eq(row.version),
            plans::updated_at.eq(row.updated_at),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Plans the filter lets through, by id after the page's cursor; at most `limit + 1` rows.
pub fn list(conn: &mut DbConn, filter: &PlanFilter, page: &PageRequest) -> Result<Page<PlanRow>, StoreError> {
    let mut query = plans::table.select(PlanRow::as_select()).into_boxed();
    if !filter.all {
        let mine = plans::trainee_id.eq(filter.me.clone()).or(plans::coach_id.eq(filter.me.clone()));
        query = match &filter.path_prefix {
            Some(prefix) => query.filter(mine.or(plans::org_path.like(format!("{prefix}%")))),
            None => query.filter(mine),
        };
    }
    if let Some(phase) = &filter.phase {
        query = query.filter(plans::phase.eq(phase.clone()));
    }
    if let Some(trainee) = &filter.trainee_id {
        query = query.filter(plans::trainee_id.eq(trainee.clone()));
    }
    if let Some(after) = &page.after {
        query = query.filter(plans::id.gt(after.clone()));
    }
    let rows = query.order(plans::id.asc()).limit(page.limit + 1).load(conn)?;
    Ok(page.page(rows, |r| &r.id))
}

/// Whether the trainee has a plan not yet completed.
pub fn has_running_plan(conn: &mut DbConn, trainee_id: &str) -> Result<bool, StoreError> {
    let running: i64 = plans::table
        .filter(plans::trainee_id.eq(trainee_id))
        .filter(plans::phase.ne("completed"))
        .count()
        .get_result(conn)?;
    Ok(running > 0)
}

pub fn insert_review(conn: &mut DbConn, row: &ReviewRow) -> Result<(), StoreError> {
    on_backend!(conn, |c| diesel::insert_into(reviews::table).values(row).execute(c))?;
    Ok(())
}

pub fn find_review(conn: &mut DbConn, id: &str) -> Result<Option<ReviewRow>, StoreError> {
    Ok(reviews::table.find(id).select(ReviewRow::as_select()).first(conn).optional()?)
}

/// A plan's reviews, in the order of their days.
pub fn reviews_of(conn: &mut DbConn, plan_id: &str) -> Result<Vec<ReviewRow>, StoreError> {
    Ok(reviews::table
        .filter(reviews::plan_id.eq(plan_id))
        .order((reviews::reviewed_on.asc(), reviews::id.asc()))
        .select(ReviewRow::as_select())
        .load(conn)?)
}

/// The reviews of several plans at once (for a page of plans).
pub fn reviews_of_many(conn: &mut DbConn, plan_ids: &[String]) -> Result<Vec<ReviewRow>, StoreError> {
    Ok(reviews::table
        .filter(reviews::plan_id.eq_any(plan_ids))
        .order((reviews::reviewed_on.asc(), reviews::id.asc()))
        .select(ReviewRow::as_select())
        .load(conn)?)
}
