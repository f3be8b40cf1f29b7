//! The points ledger: verified actions earn points by their project's rules; an invalidated source
//! gets a reversing entry. Nothing is ever edited, so a balance is simply the sum of entries.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::common::calendar::Clock;
use crate::domain::kinds::project_kind::{Period, PointsAction, ProjectStatus};
use crate::domain::{Actor, DomainError};
use crate::store::projects::points::{self as store, EntryRow};
use crate::store::projects::projects as project_store;
use crate::store::{DbConn, Page, PageRequest, StoreError, now_utc};

/// Who should hold the points of one source now, if anybody.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Credit {
    pub project_id: Uuid,
    pub user_id: Uuid,
    pub occurred_at: DateTime<Utc>,
}

/// A source of points: a visit, a lead, a registration, an event step.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub kind: &'static str,
    pub id: &'a str,
}

/// Brings the ledger in line with a change of a source: reverses what it holds for another
/// project (or for nothing), and awards it when the change makes it earn — it became valid, or
/// moved to another project. `before` is the credit the source was due before the change: an
/// unrelated edit of a source that earned nothing (no rule then, capped, project not yet active)
/// does not earn after the fact, so rules apply from when they are set. A source that stays
/// credited to the same project keeps its entry even if the record changed hands.
pub fn settle(
    conn: &mut DbConn,
    action: PointsAction,
    source: Source<'_>,
    before: Option<Credit>,
    want: Option<Credit>,
) -> Result<(), StoreError> {
    let entries = store::for_source(conn, source.id, action.as_str())?;
    let mut held_for_wanted = false;
    // Net points per (project, user), and the entry a reversal refers to.
    let mut nets: Vec<(String, String, i64, EntryRow)> = Vec::new();
    for entry in entries {
        match nets.iter_mut().find(|(p, u, _, _)| *p == entry.project_id && *u == entry.user_id) {
            Some(net) => {
                net.2 += i64::from(entry.points);
                if entry.points > 0 {
                    net.3 = entry;
                }
            }
            None => nets.push((entry.project_id.clone(), entry.user_id.clone(), i64::from(entry.points), entry)),
        }
    }
    let now = now_utc();
    for (project_id, user_id, net, last) in nets {
        if net == 0 {
            continue;
        }
        if want.is_some_and(|w| w.project_id.to_string() == project_id) {
            held_for_wanted = true;
            continue;
        }
        let occurred_at = landing(conn, &project_id, None, last.occurred_at)?;
        store::insert(
            conn,
            &EntryRow {
                id: Uuid::now_v7().to_string(),
                project_id,
                user_id,
                action: action.as_str().to_owned(),
                source_type: source.kind.to_owned(),
                source_id: source.id.to_owned(),
                points: i32::try_from(-net).unwrap_or(0),
                occurred_at,
                reverses_id: Some(last.id),
                created_at: now,
            },
        )?;
    }
    let newly_due = want.is_some_and(|w| before.is_none_or(|b| b.project_id != w.project_id));
    match want {
        Some(credit) if newly_due && !held_for_wanted => award(conn, action, source, credit),
        _ => Ok(()),
    }
}

/// When an entry counts: when it happened, unless a prize was already paid for a day, week or
/// month holding that moment. A paid period is frozen — the entry lands now, in the current
/// period, as an adjustment — so the star who was paid stays the first of that period's ranking.
fn landing(
    conn: &mut DbConn,
    project_id: &str,
    clock: Option<&Clock>,
    at: chrono::NaiveDateTime,
) -> Result<chrono::NaiveDateTime, StoreError> {
    let clock = match clock {
        Some(c) => *c,
        None => match project_store::find(conn, project_id)? {
            Some(project) => Clock::new(&project_store::branch_time_zone(conn, &project.branch_id)?),
            None => return Ok(at),
        },
    };
    let day = clock.local_date(at.and_utc());
    let periods: Vec<(&str, chrono::NaiveDate)> = [Period::Day, Period::Week, Period::Month]
        .into_iter()
        .map(|p| (p.as_str(), crate::domain::common::calendar::period_bounds(p, day).0))
        .collect();
    if crate::store::projects::award_pool::any_paid(conn, project_id, &periods)? {
        // Past the period's end (a payout waits for it), so never inside a paid period.
        return Ok(now_utc().max(at));
    }
    Ok(at)
}

fn award(conn: &mut DbConn, action: PointsAction, source: Source<'_>, credit: Credit) -> Result<(), StoreError> {
    let project_id = credit.project_id.to_string();
    let Some(project) = project_store::find(conn, &project_id)? else {
        return Ok(());
    };
    if project.status != ProjectStatus::Active.as_str() {
        return Ok(());
    }
    let clock = Clock::new(&project_store::branch_time_zone(conn, &project.branch_id)?);
    let day = clock.local_date(credit.occurred_at);
    if day < project.starts_on || day > project.ends_on {
        return Ok(());
    }
    let Some(rule) = project_store::rules(conn, &project_id)?.into_iter().find(|r| r.action == action.as_str()) else {
        return Ok(());
    };
    let user_id = credit.user_id.to_string();
    // Points are the team's: a manager's or an outsider's work counts in the figures, not the ranking.
    if !project_store::is_member(conn, &project_id, &user_id)? {
        return Ok(());
    }
    let mut points = i64::from(rule.points);
    if let Some(cap) = rule.daily_cap {
        let (from, to) = clock.window(day, day);
        let earned = store::earned(conn, &project_id, &user_id, action.as_str(), from, to)?;
        points = points.min(i64::from(cap) - earned);
    }
    if points <= 0 {
        return Ok(());
    }
    let occurred_at = landing(conn, &project_id, Some(&clock), credit.occurred_at.naive_utc())?;
    store::insert(
        conn,
        &EntryRow {
            id: Uuid::now_v7().to_string(),
            project_id,
            user_id,
            action: action.as_str().to_owned(),
            source_type: source.kind.to_owned(),
            source_id: source.id.to_owned(),
            points: i32::try_from(points).unwrap_or(0),
            occurred_at,
            reverses_id: None,
            created_at: now_utc(),
        },
    )
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub id: Uuid,
    pub user_id: Uuid,
    pub action: PointsAction,
    pub source_type: String,
    pub source_id: String,
    pub points: i32,
    pub occurred_at: DateTime<Utc>,
    pub reverses_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// The ledger of a project the caller can see, optionally of one member.
pub fn ledger(
    conn: &mut DbConn,
    actor: &Actor,
    project_id: Uuid,
    user_id: Option<Uuid>,
    page: &PageRequest,
) -> Result<Page<Entry>, DomainError> {
    crate::domain::projects::projects::get_row(conn, actor, project_id)?;
    let user = user_id.map(|u| u.to_string());
    Ok(store::list(conn, &project_id.to_string(), user.as_deref(), page)?.try_map(
        |r| -> Result<Entry, StoreError> {
            Ok(Entry {
                id: crate::store::uuid_col(&r.id)?,
                user_id: crate::store::uuid_col(&r.user_id)?,
                action: crate::store::enum_col(&r.action)?,
                source_type: r.source_type,
                source_id: r.source_id,
                points: r.points,
                occurred_at: r.occurred_at.and_utc(),
                reverses_id: r.reverses_id.as_deref().map(crate::store::uuid_col).transpose()?,
                created_at: r.created_at.and_utc(),
            })
        },
    )?)
}
