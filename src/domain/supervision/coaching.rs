//! Coaching plans (督导员培养计划): a supervisor-in-training, their coach (an account of the
//! bank or an external coach by name), the phase they are in with its dates, and the reviews
//! written in each phase. A plan moves to its next phase only when the current one has its
//! reviews (`coaching_phase`); the managers' view lists trainees by phase and lateness.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::common::calendar::Clock;
use crate::domain::common::create::Created;
use crate::domain::common::error::Validator;
use crate::domain::common::text::{bounded_text, name};
use crate::domain::supervision::coaching_phase::{self, Blocker, Phase, PhaseStanding};
use crate::domain::{Actor, DomainError, ErrorCode, Role};
use crate::store::org::users as user_store;
use crate::store::projects::projects as project_store;
use crate::store::supervision::coaching::{self as store, PlanFilter, PlanRow, ReviewRow};
use crate::store::{DbConn, Page, PageRequest, StoreError, enum_col, now_utc, uuid_col};

#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub id: Uuid,
    pub phase: Phase,
    pub reviewed_on: NaiveDate,
    pub author_id: Uuid,
    pub summary: String,
    pub went_well: String,
    pub to_improve: String,
    pub created_at: DateTime<Utc>,
    create_digest: String,
}

impl TryFrom<ReviewRow> for Review {
    type Error = StoreError;
    fn try_from(r: ReviewRow) -> Result<Self, StoreError> {
        Ok(Review {
            id: uuid_col(&r.id)?,
            phase: enum_col(&r.phase)?,
            reviewed_on: r.reviewed_on,
            author_id: uuid_col(&r.author_id)?,
            summary: r.summary,
            went_well: r.went_well,
            to_improve: r.to_improve,
            created_at: r.created_at.and_utc(),
            create_digest: r.create_digest,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub id: Uuid,
    pub org_unit_id: Uuid,
    pub org_path: String,
    pub branch_id: String,
    pub trainee_id: Uuid,
    pub trainee_name: String,
    pub coach_id: Option<Uuid>,
    pub coach_name: String,
    pub phase: Phase,
    pub observe_started_on: NaiveDate,
    pub practice_started_on: Option<NaiveDate>,
    pub lead_started_on: Option<NaiveDate>,
    pub completed_on: Option<NaiveDate>,
    pub notes: String,
    pub created_by: Uuid,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub reviews: Vec<Review>,
    /// Where the running phase stands today; `None` once completed.
    pub standing: Option<PhaseStanding>,
    create_digest: String,
}

impl Plan {
    fn phase_started_on(&self) -> Option<NaiveDate> {
        match self.phase {
            Phase::Observe => Some(self.observe_started_on),
            Phase::Practice => self.practice_started_on,
            Phase::Lead => self.lead_started_on,
            Phase::Completed => None,
        }
    }

    fn to_row(&self) -> PlanRow {
        PlanRow {
            id: self.id.to_string(),
            branch_id: self.branch_id.clone(),
            org_unit_id: self.org_unit_id.to_string(),
            org_path: self.org_path.clone(),
            trainee_id: self.trainee_id.to_string(),
            coach_id: self.coach_id.map(|c| c.to_string()),
            coach_name: self.coach_name.clone(),
            phase: self.phase.as_str().to_owned(),
            observe_started_on: self.observe_started_on,
            practice_started_on: self.practice_started_on,
            lead_started_on: self.lead_started_on,
            completed_on: self.completed_on,
            notes: self.notes.clone(),
            created_by: self.created_by.to_string(),
            create_digest: self.create_digest.clone(),
            version: self.version,
            created_at: self.created_at.naive_utc(),
            updated_at: self.updated_at.naive_utc(),
        }
    }
}

/// Builds plans with their reviews, trainee names and today's standing, for a page in three queries.
fn assemble(conn: &mut DbConn, rows: Vec<PlanRow>) -> Result<Vec<Plan>, StoreError> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut reviews = store::reviews_of_many(conn, &ids)?;
    let trainees: Vec<String> = rows.iter().map(|r| r.trainee_id.clone()).collect();
    let names = user_store::names(conn, &trainees)?;
    // A page's plans share a branch or two: one time-zone read per branch, not per plan.
    let mut days: Vec<(String, NaiveDate)> = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let today = match days.iter().find(|(b, _)| *b == r.branch_id) {
            Some((_, day)) => *day,
            None => {
                let day = Clock::new(&project_store::branch_time_zone(conn, &r.branch_id)?).today();
                days.push((r.branch_id.clone(), day));
                day
            }
        };
        let (mine, rest): (Vec<ReviewRow>, Vec<ReviewRow>) = reviews.into_iter().partition(|v| v.plan_id == r.id);
        reviews = rest;
        let mut plan = Plan {
            id: uuid_col(&r.id)?,
            org_unit_id: uuid_col(&r.org_unit_id)?,
            trainee_id: uuid_col(&r.trainee_id)?,
            trainee_name: names.iter().find(|(id, _)| *id == r.trainee_id).map(|(_, n)| n.clone()).unwrap_or_default(),
            coach_id: r.coach_id.as_deref().map(uuid_col).transpose()?,
            phase: enum_col(&r.phase)?,
            created_by: uuid_col(&r.created_by)?,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
            reviews: mine.into_iter().map(Review::try_from).collect::<Result<_, _>>()?,
            standing: None,
            org_path: r.org_path,
            branch_id: r.branch_id,
            coach_name: r.coach_name,
            observe_started_on: r.observe_started_on,
            practice_started_on: r.practice_started_on,
            lead_started_on: r.lead_started_on,
            completed_on: r.completed_on,
            notes: r.notes,
            version: r.version,
            create_digest: r.create_digest,
        };
        if let Some(started) = plan.phase_started_on() {
            let days: Vec<NaiveDate> =
                plan.reviews.iter().filter(|v| v.phase == plan.phase).map(|v| v.reviewed_on).collect();
            plan.standing = Some(coaching_phase::standing(plan.phase, started, today, &days));
        }
        out.push(plan);
    }
    Ok(out)
}

fn one(conn: &mut DbConn, row: PlanRow) -> Result<Plan, StoreError> {
    assemble(conn, vec![row])?.pop().ok_or_else(|| StoreError::Corrupt("a plan went missing while read".to_owned()))
}

/// The trainee and the coach see their plan; managers and supervisors the plans of their subtree.
fn visible(actor: &Actor, row: &PlanRow) -> bool {
    let me = actor.user_id.to_string();
    row.trainee_id == me
        || row.coach_id.as_deref() == Some(me.as_str())
        || (actor.role != Role::AccountManager && actor.scope().contains(&row.org_path))
}

fn manages(actor: &Actor, plan: &Plan) -> bool {
    actor.role.manages_people() && actor.scope().contains(&plan.org_path)
}

fn is_coach(actor: &Actor, plan: &Plan) -> bool {
    plan.coach_id == Some(actor.user_id)
}

#[derive(Debug, Clone, Serialize)]
pub struct NewPlan {
    pub id: Option<Uuid>,
    pub trainee_id: Uuid,
    pub coach_id: Option<Uuid>,
    pub coach_name: Option<String>,
    /// The first day of observation; default today.
    pub started_on: Option<NaiveDate>,
    pub notes: Option<String>,
}

fn sane_day(v: &mut Validator, field: &str, day: NaiveDate, today: NaiveDate) {
    let span = (day - today).num_days();
    if !(-366..=366).contains(&span) {
        v.add(field, "must be within a year of today");
    }
}

pub fn create(conn: &mut DbConn, actor: &Actor, input: NewPlan) -> Result<Created<Plan>, DomainError> {
    if !actor.role.manages_people() {
        return Err(DomainError::forbidden(ErrorCode::RoleNotAllowed, "managers set up coaching plans"));
    }
    let mut v = Validator::default();
    let coach_name = input.coach_name.as_deref().map(|n| v.check("coach_name", name(n, 50)).unwrap_or_default());
    if input.coach_id.is_none() && coach_name.is_none() {
        v.add("coach_name", "name the coach (or give coach_id for a coach with an account)");
    }
    let notes = bounded_text(&mut v, "notes", input.notes.as_deref().unwrap_or_default(), 2000);
    v.finish()?;
    let digest = crate::domain::common::create::create_digest(&input);
    crate::domain::common::create::retry_on_race(|| {
        conn.write_tx(|conn| {
            let id = input.id.unwrap_or_else(Uuid::now_v7);
            if let Some(existing) = store::find(conn, &id.to_string())? {
                return if existing.create_digest == digest && visible(actor, &existing) {
                    Ok(Created::Existing(one(conn, existing)?))
                } else {
                    Err(DomainError::conflict(ErrorCode::IdConflict, "another coaching plan already has this id"))
                };
            }
            let trainee = user_store::find(conn, &input.trainee_id.to_string())?
                .filter(|u| actor.scope().contains(&u.org_path) && u.active)
                .ok_or_else(|| DomainError::invalid("trainee_id", "no such active user in your scope"))?;
            let unit_id = trainee
                .org_unit_id
                .clone()
                .ok_or_else(|| DomainError::invalid("trainee_id", "the trainee belongs to no org unit"))?;
            let unit = crate::domain::org::org_units::get(conn, actor, uuid_col(&unit_id)?)?;
            let coach = match input.coach_id {
                Some(coach_id) => {
                    let coach = user_store::find(conn, &coach_id.to_string())?
                        .filter(|u| u.active && u.org_path.starts_with(&format!("/{}/", unit.branch_id)))
                        .ok_or_else(|| DomainError::invalid("coach_id", "no such active user in the branch"))?;
                    if coach.id == trainee.id {
                        return Err(DomainError::invalid("coach_id", "a trainee does not coach themselves"));
                    }
                    Some(coach)
                }
                None => None,
            };
            if store::has_running_plan(conn, &trainee.id)? {
                return Err(DomainError::conflict(
                    ErrorCode::PlanExists,
                    "this trainee already has a coaching plan running",
                ));
            }
            let today = Clock::new(&project_store::branch_time_zone(conn, &unit.branch_id.to_string())?).today();
            let started_on = input.started_on.unwrap_or(today);
            let mut v = Validator::default();
            sane_day(&mut v, "started_on", started_on, today);
            v.finish()?;
            let now = now_utc();
            let row = PlanRow {
                id: id.to_string(),
                branch_id: unit.branch_id.to_string(),
                org_unit_id: unit.id.to_string(),
                org_path: unit.path.clone(),
                trainee_id: trainee.id.clone(),
                coach_id: coach.as_ref().map(|c| c.id.clone()),
                coach_name: coach_name.clone().or_else(|| coach.as_ref().map(|c| c.name.clone())).unwrap_or_default(),
                phase: Phase::Observe.as_str().to_owned(),
                observe_started_on: started_on,
                practice_started_on: None,
                lead_started_on: None,
                completed_on: None,
                notes: notes.clone(),
                created_by: actor.user_id.to_string(),
                create_digest: digest.clone(),
                version: 1,
                created_at: now,
                updated_at: now,
            };
            store::insert(conn, &row)?;
            Ok(Created::New(one(conn, row)?))
        })
    })
}

pub fn get(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<Plan, DomainError> {
    let row = store::find(conn, &id.to_string())?
        .filter(|r| visible(actor, r))
        .ok_or(DomainError::NotFound("coaching plan"))?;
    Ok(one(conn, row)?)
}

#[derive(Debug, Default, Clone)]
pub struct PlanQuery {
    pub phase: Option<Phase>,
    pub trainee_id: Option<Uuid>,
}

fn filter_for(actor: &Actor, query: &PlanQuery) -> PlanFilter {
    PlanFilter {
        path_prefix: (actor.role != Role::AccountManager).then(|| actor.scope().path_prefix()).flatten(),
        all: actor.role == Role::Admin,
        me: actor.user_id.to_string(),
        phase: query.phase.map(|p| p.as_str().to_owned()),
        trainee_id: query.trainee_id.map(|t| t.to_string()),
    }
}

pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    query: &PlanQuery,
    page: &PageRequest,
) -> Result<Page<Plan>, DomainError> {
    let rows = store::list(conn, &filter_for(actor, query), page)?;
    Ok(Page { items: assemble(conn, rows.items)?, next_cursor: rows.next_cursor })
}

/// The most plans the managers' view holds: a branch trains a handful of supervisors at a time.
pub const OVERVIEW_LIMIT: i64 = 1000;

/// The managers' view: every plan in scope, by phase (observe, practice, lead, completed), the
/// latest first within a phase (most days late, then fewest reviews covered).
pub fn overview(conn: &mut DbConn, actor: &Actor) -> Result<Vec<(Phase, Vec<Plan>)>, DomainError> {
    if !(actor.role.manages_people() || actor.role == Role::Supervisor) {
        return Err(DomainError::forbidden(
            ErrorCode::RoleNotAllowed,
            "the trainees' overview is for managers and supervisors",
        ));
    }
    let rows = store::list(
        conn,
        &filter_for(actor, &PlanQuery::default()),
        &PageRequest { limit: OVERVIEW_LIMIT, after: None },
    )?;
    let plans = assemble(conn, rows.items)?;
    Ok(Phase::ALL
        .iter()
        .map(|phase| {
            let mut these: Vec<Plan> = plans.iter().filter(|p| p.phase == *phase).cloned().collect();
            these.sort_by_key(|p| {
                let s = p.standing.as_ref();
                (
                    std::cmp::Reverse(s.map_or(0, |s| s.late_days)),
                    s.map_or(0, |s| s.covered as i64 - s.required as i64),
                    p.id,
                )
            });
            (*phase, these)
        })
        .collect())
}

#[derive(Debug, Clone, Serialize)]
pub struct NewReview {
    pub id: Option<Uuid>,
    /// Default today.
    pub reviewed_on: Option<NaiveDate>,
    pub summary: String,
    pub went_well: Option<String>,
    pub to_improve: Option<String>,
}

/// A review of the running phase, by the trainee, the coach or a manager over the plan.
pub fn add_review(conn: &mut DbConn, actor: &Actor, id: Uuid, input: NewReview) -> Result<Created<Plan>, DomainError> {
    let mut v = Validator::default();
    let summary = bounded_text(&mut v, "summary", &input.summary, 2000);
    if summary.is_empty() {
        v.add("summary", "must not be empty");
    }
    let went_well = bounded_text(&mut v, "went_well", input.went_well.as_deref().unwrap_or_default(), 2000);
    let to_improve = bounded_text(&mut v, "to_improve", input.to_improve.as_deref().unwrap_or_default(), 2000);
    v.finish()?;
    let digest = crate::domain::common::create::create_digest(&(id, &input));
    crate::domain::common::create::retry_on_race(|| {
        conn.write_tx(|conn| {
            let plan = get(conn, actor, id)?;
            let review_id = input.id.unwrap_or_else(Uuid::now_v7);
            if let Some(existing) = store::find_review(conn, &review_id.to_string())? {
                return if existing.create_digest == digest {
                    Ok(Created::Existing(plan))
                } else {
                    Err(DomainError::conflict(ErrorCode::IdConflict, "another review already has this id"))
                };
            }
            if !(plan.trainee_id == actor.user_id || is_coach(actor, &plan) || manages(actor, &plan)) {
                return Err(DomainError::forbidden(
                    ErrorCode::RoleNotAllowed,
                    "the trainee, the coach and managers review a plan",
                ));
            }
            let Some(started) = plan.phase_started_on() else {
                return Err(DomainError::conflict(ErrorCode::PlanCompleted, "the plan is completed"));
            };
            let today = Clock::new(&project_store::branch_time_zone(conn, &plan.branch_id)?).today();
            let reviewed_on = input.reviewed_on.unwrap_or(today);
            if reviewed_on < started || reviewed_on > today {
                return Err(DomainError::invalid(
                    "reviewed_on",
                    format!("must be a day of the running phase, {started} to {today}"),
                ));
            }
            let row = ReviewRow {
                id: review_id.to_string(),
                plan_id: plan.id.to_string(),
                phase: plan.phase.as_str().to_owned(),
                reviewed_on,
                author_id: actor.user_id.to_string(),
                summary: summary.clone(),
                went_well: went_well.clone(),
                to_improve: to_improve.clone(),
                create_digest: digest.clone(),
                created_at: now_utc(),
            };
            store::insert_review(conn, &row)?;
            Ok(Created::New(get(conn, actor, id)?))
        })
    })
}

/// Moves the plan to its next phase from today, when the running phase has its reviews (and,
/// for observation, its 21 days). A manager over the plan or its coach decides.
pub fn advance(conn: &mut DbConn, actor: &Actor, id: Uuid, version: Option<i64>) -> Result<Plan, DomainError> {
    conn.write_tx(|conn| {
        let plan = get(conn, actor, id)?;
        if !(manages(actor, &plan) || is_coach(actor, &plan)) {
            return Err(DomainError::forbidden(
                ErrorCode::RoleNotAllowed,
                "a manager over the plan or its coach moves it on",
            ));
        }
        if version.is_some_and(|v| v != plan.version) {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the plan changed since you read it"));
        }
        let (Some(next), Some(standing)) = (plan.phase.next(), plan.standing.as_ref()) else {
            return Err(DomainError::conflict(ErrorCode::PlanCompleted, "the plan is completed"));
        };
        match &standing.blocker {
            Some(Blocker::NotFinished { from }) => {
                return Err(DomainError::conflict(
                    ErrorCode::PhaseNotFinished,
                    format!("observation lasts {} days; practice may begin on {from}", coaching_phase::PHASE_DAYS),
                ));
            }
            Some(Blocker::ReviewsMissing(missing)) => {
                let list: Vec<String> = missing
                    .iter()
                    .map(|(from, to)| if from == to { from.to_string() } else { format!("{from}–{to}") })
                    .collect();
                return Err(DomainError::conflict(
                    ErrorCode::ReviewsMissing,
                    format!("the {} phase has no review for {}", plan.phase.as_str(), list.join(", ")),
                ));
            }
            None => {}
        }
        let today = Clock::new(&project_store::branch_time_zone(conn, &plan.branch_id)?).today();
        let mut moved = plan.clone();
        moved.phase = next;
        match next {
            Phase::Practice => moved.practice_started_on = Some(today),
            Phase::Lead => moved.lead_started_on = Some(today),
            Phase::Completed => moved.completed_on = Some(today),
            Phase::Observe => {}
        }
        moved.version += 1;
        moved.updated_at = now_utc().and_utc();
        if !store::replace(conn, &moved.to_row(), plan.version)? {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the plan changed since you read it"));
        }
        get(conn, actor, id)
    })
}
