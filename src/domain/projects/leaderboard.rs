//! The leaderboard of a day, week or month and its star, from the points ledger.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use uuid::Uuid;

use crate::domain::common::calendar::{Clock, period_bounds};
use crate::domain::kinds::project_kind::{Period, PointsAction};
use crate::domain::projects::progress::member_names;
use crate::domain::projects::projects::{self, Project};
use crate::domain::{Actor, DomainError};
use crate::store::projects::points as ledger;
use crate::store::{DbConn, StoreError, enum_col, uuid_col};

#[derive(Debug, Clone)]
pub struct Standing {
    pub rank: usize,
    pub user_id: Uuid,
    pub name: String,
    pub points: i64,
    pub breakdown: BTreeMap<PointsAction, i64>,
    /// When their last entry that still stands happened: who got to their total first ranks first.
    last_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone)]
pub struct Board {
    pub project: Project,
    pub period: Period,
    pub date: NaiveDate,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub items: Vec<Standing>,
}

impl Board {
    /// The first of the ranking, when they earned anything.
    pub fn star(&self) -> Option<&Standing> {
        star_of(&self.items)
    }
}

/// The first of a ranking, when they earned anything.
pub fn star_of(ranked: &[Standing]) -> Option<&Standing> {
    ranked.first().filter(|s| s.points > 0)
}

/// Points desc, then the earlier last entry, then the user id: total and stable.
fn rank(items: &mut [Standing]) {
    items.sort_by(|a, b| {
        b.points
            .cmp(&a.points)
            .then_with(|| match (a.last_at, b.last_at) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| a.user_id.cmp(&b.user_id))
    });
    for (i, s) in items.iter_mut().enumerate() {
        s.rank = i + 1;
    }
}

/// The team with nothing earned yet, in the order `rank` completes.
fn team(names: &[(Uuid, String)]) -> Vec<Standing> {
    names
        .iter()
        .map(|(user_id, name)| Standing {
            rank: 0,
            user_id: *user_id,
            name: name.clone(),
            points: 0,
            breakdown: BTreeMap::new(),
            last_at: None,
        })
        .collect()
}

/// Adds one member's entries of an action to the standings: their points, and when their latest
/// standing award happened (`reached`), which breaks ties.
fn add(items: &mut [Standing], user: Uuid, action: PointsAction, points: i64, reached: Option<NaiveDateTime>) {
    if let Some(s) = items.iter_mut().find(|s| s.user_id == user) {
        s.points += points;
        *s.breakdown.entry(action).or_default() += points;
        s.last_at = s.last_at.max(reached);
    }
}

/// The standings of a project between two local days (both counted).
pub fn standings(
    conn: &mut DbConn,
    project: &Project,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Standing>, StoreError> {
    let (start, end) = project.clock().window(from, to);
    let totals = ledger::totals(conn, &project.id.to_string(), start, end)?;
    // The ranking is the team's: someone who left the team keeps their entries, not their place.
    let mut items = team(&member_names(conn, &project.member_ids)?);
    for (user, action, points, reached) in totals {
        add(&mut items, uuid_col(&user)?, enum_col(&action)?, points, reached);
    }
    rank(&mut items);
    Ok(items)
}

pub fn board(
    conn: &mut DbConn,
    actor: &Actor,
    id: Uuid,
    period: Period,
    date: Option<NaiveDate>,
) -> Result<Board, DomainError> {
    let project = projects::get(conn, actor, id)?;
    let date = date.unwrap_or_else(|| project.clock().today());
    let (from, to) = period_bounds(period, date);
    let items = standings(conn, &project, from, to)?;
    Ok(Board { project, period, date, from, to, items })
}

#[derive(Debug, Clone)]
pub struct Star {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub user_id: Uuid,
    pub name: String,
    pub points: i64,
}

/// The star of every day, week or month of the project up to today (or its end), newest first.
pub fn stars(conn: &mut DbConn, actor: &Actor, id: Uuid, period: Period) -> Result<Vec<Star>, DomainError> {
    let project = projects::get(conn, actor, id)?;
    let clock: Clock = project.clock();
    let last = clock.today().min(project.ends_on);
    if last < project.starts_on {
        return Ok(Vec::new());
    }
    let (start, end) = clock.window(project.starts_on, last);
    let id_text = id.to_string();
    let reversed = ledger::reversed_ids(conn, &id_text)?;
    let names = member_names(conn, &project.member_ids)?;
    // Each period's standings, built and ranked exactly as the leaderboard's (`add`, `rank`):
    // the star of a period is the first of its leaderboard, and the one its prize is paid to.
    let mut periods: BTreeMap<NaiveDate, Vec<Standing>> = BTreeMap::new();
    for (entry_id, user, action, points, at) in ledger::entries_between(conn, &id_text, start, end)? {
        let (from, _) = period_bounds(period, clock.local_date(at.and_utc()));
        let items = periods.entry(from).or_insert_with(|| team(&names));
        let reached = (points > 0 && !reversed.contains(&entry_id)).then_some(at);
        add(items, uuid_col(&user)?, enum_col(&action)?, i64::from(points), reached);
    }
    let mut out = Vec::new();
    for (from, mut items) in periods.into_iter().rev() {
        rank(&mut items);
        if let Some(star) = star_of(&items) {
            let (_, to) = period_bounds(period, from);
            out.push(Star { from, to, user_id: star.user_id, name: star.name.clone(), points: star.points });
        }
    }
    Ok(out)
}
