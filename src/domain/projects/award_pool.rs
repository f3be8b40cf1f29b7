//! A project's award pool (众筹池): members and managers pay in, and the star of a closed day,
//! week or month is paid a prize from it. The ledger is append-only and never negative: an entry
//! records the balance after it, and a payout larger than the balance is refused.

use chrono::{NaiveDate, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::domain::common::calendar::period_bounds;
use crate::domain::common::create::Created;
use crate::domain::common::error::Validator;
use crate::domain::common::text::{amount_fen, bounded_text};
use crate::domain::kinds::project_kind::Period;
use crate::domain::kinds::text_enum;
use crate::domain::projects::leaderboard::{standings, star_of};
use crate::domain::projects::projects::{self, Project};
use crate::domain::{Actor, DomainError, ErrorCode};
use crate::store::projects::award_pool::{self as store, PoolEntryRow};
use crate::store::projects::projects as project_store;
use crate::store::{DbConn, StoreError, enum_col, now_utc, uuid_col};

text_enum!(PoolEntryKind {
    Contribution => "contribution",
    Payout => "payout",
});

/// The most one entry may move: a prize pool of a team, not a treasury.
const MAX_ENTRY_FEN: i64 = 100_000_000;

#[derive(Debug, Clone, PartialEq)]
pub struct PoolEntry {
    pub id: Uuid,
    pub project_id: Uuid,
    pub position: i64,
    pub kind: PoolEntryKind,
    pub amount_fen: i64,
    pub balance_fen: i64,
    /// Who paid in, or the star paid out to.
    pub user_id: Uuid,
    pub period: Option<Period>,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub note: String,
    pub recorded_by: Uuid,
    pub created_at: chrono::DateTime<Utc>,
    create_digest: String,
}

impl TryFrom<PoolEntryRow> for PoolEntry {
    type Error = StoreError;
    fn try_from(r: PoolEntryRow) -> Result<Self, StoreError> {
        let period: Option<Period> = r.period.as_deref().map(enum_col).transpose()?;
        let period_to = period.zip(r.period_from).map(|(p, from)| period_bounds(p, from).1);
        Ok(PoolEntry {
            id: uuid_col(&r.id)?,
            project_id: uuid_col(&r.project_id)?,
            position: r.position,
            kind: enum_col(&r.kind)?,
            amount_fen: r.amount_fen,
            balance_fen: r.balance_fen,
            user_id: uuid_col(&r.user_id)?,
            period,
            period_from: r.period_from,
            period_to,
            note: r.note,
            recorded_by: uuid_col(&r.recorded_by)?,
            created_at: r.created_at.and_utc(),
            create_digest: r.create_digest,
        })
    }
}

/// The pool's figures and a page of its entries, newest first.
#[derive(Debug, Clone)]
pub struct Pool {
    pub project_id: Uuid,
    pub balance_fen: i64,
    pub contributed_fen: i64,
    pub paid_out_fen: i64,
    pub entries: Vec<PoolEntry>,
    /// Pass as `before` for the next page; `None` at the first entry.
    pub next_before: Option<i64>,
}

/// A payment into the pool. `user_id` is who paid: the caller, or (recorded by a manager) a
/// member who handed it over.
#[derive(Debug, Clone, Serialize)]
pub struct NewContribution {
    pub id: Option<Uuid>,
    pub amount: f64,
    pub user_id: Option<Uuid>,
    pub note: Option<String>,
}

/// A prize to the star of a closed period.
#[derive(Debug, Clone, Serialize)]
pub struct NewPayout {
    pub id: Option<Uuid>,
    pub period: Period,
    /// Any day of the period.
    pub date: NaiveDate,
    pub amount: f64,
    pub note: Option<String>,
}

pub fn pool(
    conn: &mut DbConn,
    actor: &Actor,
    project_id: Uuid,
    before: Option<i64>,
    limit: i64,
) -> Result<Pool, DomainError> {
    projects::get_row(conn, actor, project_id)?;
    let id = project_id.to_string();
    let (contributed_fen, paid_out_fen) = store::sums(conn, &id)?;
    let balance_fen = store::last(conn, &id)?.map_or(0, |e| e.balance_fen);
    let entries: Vec<PoolEntry> =
        store::page(conn, &id, before, limit)?.into_iter().map(PoolEntry::try_from).collect::<Result<_, _>>()?;
    let next_before = entries.last().map(|e| e.position).filter(|p| *p > 1 && entries.len() as i64 == limit);
    Ok(Pool { project_id, balance_fen, contributed_fen, paid_out_fen, entries, next_before })
}

fn checked_amount(v: &mut Validator, amount: f64) -> i64 {
    let fen = amount_fen(v, "amount", amount);
    if amount.is_finite() && !(1..=MAX_ENTRY_FEN).contains(&fen) {
        v.add("amount", "must be between 0.01 and 1000000 yuan");
    }
    fen
}

pub fn contribute(
    conn: &mut DbConn,
    actor: &Actor,
    project_id: Uuid,
    input: NewContribution,
) -> Result<Created<PoolEntry>, DomainError> {
    let mut v = Validator::default();
    let amount_fen = checked_amount(&mut v, input.amount);
    let note = bounded_text(&mut v, "note", input.note.as_deref().unwrap_or_default(), 200);
    v.finish()?;
    let digest = crate::domain::common::create::create_digest(&(project_id, PoolEntryKind::Contribution, &input));
    append(conn, actor, project_id, input.id, &digest, |conn| {
        let row = projects::get_row(conn, actor, project_id)?;
        let manages = projects::may_manage(actor, &row).is_ok();
        let on_team = project_store::is_member(conn, &row.id, &actor.user_id.to_string())?;
        if !manages && !on_team {
            return Err(DomainError::forbidden(
                ErrorCode::RoleNotAllowed,
                "the team and its managers pay into the pool",
            ));
        }
        let payer = input.user_id.unwrap_or(actor.user_id);
        if payer != actor.user_id {
            if !manages {
                return Err(DomainError::forbidden(
                    ErrorCode::NotOwner,
                    "only a manager records a payment made by someone else",
                ));
            }
            if !project_store::is_member(conn, &row.id, &payer.to_string())? {
                return Err(DomainError::invalid("user_id", "must be a member of the project's team"));
            }
        }
        Ok(Draft { kind: PoolEntryKind::Contribution, amount_fen, user_id: payer, period: None, note: note.clone() })
    })
}

pub fn pay_star(
    conn: &mut DbConn,
    actor: &Actor,
    project_id: Uuid,
    input: NewPayout,
) -> Result<Created<PoolEntry>, DomainError> {
    let mut v = Validator::default();
    let amount_fen = checked_amount(&mut v, input.amount);
    let note = bounded_text(&mut v, "note", input.note.as_deref().unwrap_or_default(), 200);
    v.finish()?;
    let digest = crate::domain::common::create::create_digest(&(project_id, PoolEntryKind::Payout, &input));
    append(conn, actor, project_id, input.id, &digest, |conn| {
        let row = projects::get_row(conn, actor, project_id)?;
        projects::may_manage(actor, &row)?;
        let project = Project::try_from(project_store::parts(conn, row)?)?;
        let (from, to) = period_bounds(input.period, input.date);
        if to >= project.clock().today() {
            return Err(DomainError::conflict(ErrorCode::PeriodNotOver, "a star is paid once their period has ended"));
        }
        if let Some(paid) = store::payout_of(conn, &project_id.to_string(), input.period.as_str(), from)? {
            let detail = format!("the star of this {} was paid already (entry {})", input.period.as_str(), paid.id);
            return Err(DomainError::conflict(ErrorCode::AlreadyPaid, detail));
        }
        let board = standings(conn, &project, from, to)?;
        let star = star_of(&board)
            .ok_or_else(|| DomainError::conflict(ErrorCode::NoStar, "nobody earned points in this period"))?;
        Ok(Draft {
            kind: PoolEntryKind::Payout,
            amount_fen,
            user_id: star.user_id,
            period: Some((input.period, from)),
            note: note.clone(),
        })
    })
}

/// An entry before its place in the chain is known.
struct Draft {
    kind: PoolEntryKind,
    amount_fen: i64,
    user_id: Uuid,
    period: Option<(Period, NaiveDate)>,
    note: String,
}

/// How often an append is retried after losing a race for its place in the chain.
const APPEND_ATTEMPTS: usize = 8;

/// Appends the entry `decide` makes at the end of the project's chain; idempotent by id. Appends
/// queue on the project's row; should two still race for one place, they collide on the unique
/// position and the loser starts over from the new end.
fn append(
    conn: &mut DbConn,
    actor: &Actor,
    project_id: Uuid,
    id: Option<Uuid>,
    digest: &str,
    decide: impl Fn(&mut DbConn) -> Result<Draft, DomainError>,
) -> Result<Created<PoolEntry>, DomainError> {
    let id = id.unwrap_or_else(Uuid::now_v7);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = conn.write_tx(|conn| {
            // First: the checks below then see the pool as the append will find it.
            store::lock_project(conn, &project_id.to_string())?;
            if let Some(existing) = store::find(conn, &id.to_string())? {
                return if existing.create_digest == digest && existing.project_id == project_id.to_string() {
                    projects::get_row(conn, actor, project_id)?;
                    Ok(Created::Existing(PoolEntry::try_from(existing)?))
                } else {
                    Err(DomainError::conflict(ErrorCode::IdConflict, "another pool entry already has this id"))
                };
            }
            let draft = decide(conn)?;
            let last = store::last(conn, &project_id.to_string())?;
            let (position, balance) = last.map_or((1, 0), |e| (e.position + 1, e.balance_fen));
            let balance_fen = match draft.kind {
                PoolEntryKind::Contribution => balance + draft.amount_fen,
                PoolEntryKind::Payout if draft.amount_fen > balance => {
                    let detail = format!("the pool holds {:.2} yuan", crate::domain::common::text::yuan(balance));
                    return Err(DomainError::conflict(ErrorCode::InsufficientPool, detail));
                }
                PoolEntryKind::Payout => balance - draft.amount_fen,
            };
            let row = PoolEntryRow {
                id: id.to_string(),
                project_id: project_id.to_string(),
                position,
                kind: draft.kind.as_str().to_owned(),
                amount_fen: draft.amount_fen,
                balance_fen,
                user_id: draft.user_id.to_string(),
                period: draft.period.map(|(p, _)| p.as_str().to_owned()),
                period_from: draft.period.map(|(_, from)| from),
                note: draft.note,
                recorded_by: actor.user_id.to_string(),
                create_digest: digest.to_owned(),
                created_at: now_utc(),
            };
            store::insert(conn, &row)?;
            Ok(Created::New(PoolEntry::try_from(row)?))
        });
        match result {
            Err(DomainError::Store(StoreError::UniqueViolation(_))) if attempt < APPEND_ATTEMPTS => continue,
            other => return other,
        }
    }
}
