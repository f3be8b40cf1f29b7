//! Progress and pace: per metric and member, what counts against the target and whether the
//! accumulation keeps up with the linear share of the period.

use std::collections::HashMap;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::domain::common::calendar::days_between;
use crate::domain::kinds::project_kind::Metric;
use crate::domain::projects::projects::{self, Project};
use crate::domain::{Actor, DomainError};
use crate::store::org::users as user_store;
use crate::store::projects::project_metrics::{self as metrics, Window};
use crate::store::projects::projects as project_store;
use crate::store::{DbConn, StoreError};

/// Actual against target on a day of the period.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub target: Option<f64>,
    pub actual: f64,
    pub expected: Option<f64>,
    /// Expected minus actual: positive means behind pace.
    pub gap: Option<f64>,
    /// What each remaining day must add to reach the target; `None` when no day remains.
    pub needed_daily: Option<f64>,
    /// Actual over target.
    pub completion: Option<f64>,
    pub on_track: Option<bool>,
}

/// Sums of yuan to the fen, without float noise.
fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The days of the period: all of them, the ones up to the date, the ones left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Days {
    pub total: i64,
    pub elapsed: i64,
    pub remaining: i64,
}

impl Days {
    pub fn of(starts_on: NaiveDate, ends_on: NaiveDate, date: NaiveDate) -> Days {
        let total = days_between(starts_on, ends_on).max(1);
        let elapsed = days_between(starts_on, date).clamp(0, total);
        Days { total, elapsed, remaining: total - elapsed }
    }

    pub fn figures(self, target: Option<f64>, actual: f64) -> Figures {
        let actual = round(actual);
        let Some(target) = target else {
            return Figures {
                target: None,
                actual,
                expected: None,
                gap: None,
                needed_daily: None,
                completion: None,
                on_track: None,
            };
        };
        // Unrounded: a third of a target is a third; the workbook rounds for display.
        let expected = target * self.elapsed as f64 / self.total as f64;
        let needed_daily = (self.remaining > 0).then(|| (target - actual).max(0.0) / self.remaining as f64);
        Figures {
            target: Some(target),
            actual,
            expected: Some(expected),
            gap: Some(expected - actual),
            needed_daily,
            completion: (target > 0.0).then(|| actual / target),
            on_track: Some(actual + 1e-9 >= expected),
        }
    }
}

#[derive(Debug, Clone)]
pub struct MemberFigures {
    pub user_id: Uuid,
    pub name: String,
    pub figures: Figures,
}

#[derive(Debug, Clone)]
pub struct MetricProgress {
    /// `None` for a manual metric.
    pub metric: Option<Metric>,
    pub manual_metric_id: Option<Uuid>,
    pub name: String,
    pub unit: Option<String>,
    pub figures: Figures,
    pub members: Vec<MemberFigures>,
}

#[derive(Debug, Clone)]
pub struct Progress {
    pub project: Project,
    pub date: NaiveDate,
    pub days: Days,
    pub metrics: Vec<MetricProgress>,
}

/// Per metric: each user's count, and the total over everybody.
#[derive(Debug, Default, Clone)]
pub struct Actuals {
    by_metric: HashMap<Metric, (f64, HashMap<String, f64>)>,
}

impl Actuals {
    fn add(&mut self, metric: Metric, user: &str, value: f64) {
        let entry = self.by_metric.entry(metric).or_default();
        entry.0 += value;
        *entry.1.entry(user.to_owned()).or_default() += value;
    }

    pub fn total(&self, metric: Metric) -> f64 {
        self.by_metric.get(&metric).map_or(0.0, |e| e.0)
    }

    pub fn of(&self, metric: Metric, user: &str) -> f64 {
        self.by_metric.get(&metric).and_then(|e| e.1.get(user)).copied().unwrap_or(0.0)
    }
}

/// Everything the project counts from its first local day to `last` (the UTC window `w`), by
/// metric and user, in a handful of aggregate queries.
pub fn actuals(conn: &mut DbConn, project: &Project, last: NaiveDate, w: Window) -> Result<Actuals, StoreError> {
    let mut a = Actuals::default();
    let project_id = &project.id.to_string();
    for (user, all, verified) in metrics::visits(conn, project_id, project.starts_on, last)? {
        a.add(Metric::Visits, &user, all as f64);
        a.add(Metric::VerifiedVisits, &user, verified as f64);
    }
    let events = metrics::project_events(conn, project_id)?;
    for e in events.iter().filter(|e| e.held && e.starts_at >= w.0 && e.starts_at < w.1) {
        a.add(Metric::EventsHeld, &e.owner_id, 1.0);
    }
    let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    let owner = |event: &str| events.iter().find(|e| e.id == event).map(|e| e.owner_id.clone()).unwrap_or_default();
    if !ids.is_empty() {
        for (event, n) in metrics::registrations(conn, &ids, w)? {
            a.add(Metric::Registrations, &owner(&event), n as f64);
        }
        for (event, n) in metrics::checkins(conn, &ids, w)? {
            a.add(Metric::Checkins, &owner(&event), n as f64);
        }
    }
    for (user, n) in metrics::new_leads(conn, project_id, w)? {
        a.add(Metric::NewLeads, &user, n as f64);
    }
    for (user, segment, n, fen) in metrics::conversions(conn, project_id, w)? {
        a.add(Metric::Conversions, &user, n as f64);
        a.add(Metric::ConvertedAmount, &user, fen as f64 / 100.0);
        if segment != "existing" {
            a.add(Metric::NewCustomers, &user, n as f64);
        }
    }
    Ok(a)
}

/// The window that counts on `date`: from the first day of the period to the date or the period's
/// end, whichever is first; `None` before the period starts.
pub fn counting_window(project: &Project, date: NaiveDate) -> Option<Window> {
    let last = date.min(project.ends_on);
    (last >= project.starts_on).then(|| project.clock().window(project.starts_on, last))
}

/// Each id with its user's name, in the order given.
pub fn member_names(conn: &mut DbConn, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>, StoreError> {
    let texts: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    let found = user_store::names(conn, &texts)?;
    Ok(ids
        .iter()
        .zip(&texts)
        .map(|(id, text)| (*id, found.iter().find(|(u, _)| u == text).map(|(_, n)| n.clone()).unwrap_or_default()))
        .collect())
}

pub fn progress(conn: &mut DbConn, actor: &Actor, id: Uuid, date: Option<NaiveDate>) -> Result<Progress, DomainError> {
    let project = projects::get(conn, actor, id)?;
    let date = date.unwrap_or_else(|| project.clock().today());
    let days = Days::of(project.starts_on, project.ends_on, date);
    let window = counting_window(&project, date);
    let actuals = match window {
        Some(w) => actuals(conn, &project, date.min(project.ends_on), w)?,
        None => Actuals::default(),
    };
    let members = member_names(conn, &project.member_ids)?;
    let mut out = Vec::new();
    for metric in Metric::ORDER {
        let target = project.target(metric);
        out.push(MetricProgress {
            metric: Some(metric),
            manual_metric_id: None,
            name: metric.as_str().to_owned(),
            unit: None,
            figures: days.figures(target.map(|t| t.total), actuals.total(metric)),
            members: members
                .iter()
                .map(|(user, name)| MemberFigures {
                    user_id: *user,
                    name: name.clone(),
                    figures: days.figures(
                        target.and_then(|t| t.split.get(user).copied()),
                        actuals.of(metric, &user.to_string()),
                    ),
                })
                .collect(),
        });
    }
    let values = match window {
        Some(_) => project_store::manual_values(conn, &id.to_string(), project.starts_on, date.min(project.ends_on))?,
        None => Vec::new(),
    };
    for m in &project.manual_metrics {
        let mine: Vec<_> = values.iter().filter(|v| v.metric_id == m.id.to_string()).collect();
        let total: f64 = mine.iter().map(|v| v.value).sum();
        out.push(MetricProgress {
            metric: None,
            manual_metric_id: Some(m.id),
            name: m.name.clone(),
            unit: Some(m.unit.clone()),
            figures: days.figures(m.total, total),
            members: members
                .iter()
                .map(|(user, name)| {
                    let user_text = user.to_string();
                    let actual: f64 =
                        mine.iter().filter(|v| v.user_id.as_deref() == Some(user_text.as_str())).map(|v| v.value).sum();
                    MemberFigures {
                        user_id: *user,
                        name: name.clone(),
                        figures: days.figures(m.split.get(user).copied(), actual),
                    }
                })
                .collect(),
        });
    }
    Ok(Progress { project, date, days, metrics: out })
}

/// Rebuilds a project's visit day counters from its visits (after a bulk load, or as a repair).
pub fn rebuild_visit_days(conn: &mut DbConn, project: &Project) -> Result<(), StoreError> {
    let clock = project.clock();
    let id = project.id.to_string();
    let mut days: HashMap<(String, NaiveDate), (i32, i32)> = HashMap::new();
    for (user, at, verified) in metrics::project_visits(conn, &id)? {
        let slot = days.entry((user, clock.local_date(at.and_utc()))).or_default();
        slot.0 += 1;
        slot.1 += i32::from(verified);
    }
    let rows: Vec<_> = days.into_iter().map(|((user, day), (n, v))| (user, day, n, v)).collect();
    metrics::replace_visit_days(conn, &id, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, day).unwrap_or_default()
    }

    #[test]
    fn pace_is_the_linear_share_of_the_period() {
        let days = Days::of(d(1), d(30), d(10));
        assert_eq!(days, Days { total: 30, elapsed: 10, remaining: 20 });
        let f = days.figures(Some(30.0), 4.0);
        assert_eq!(f.expected, Some(10.0));
        assert_eq!(f.gap, Some(6.0));
        assert!(f.needed_daily.is_some_and(|n| (n - 1.3).abs() < 1e-12));
        assert_eq!(f.on_track, Some(false));
        assert_eq!(days.figures(Some(30.0), 10.0).on_track, Some(true));
    }

    #[test]
    fn before_and_after_the_period() {
        assert_eq!(Days::of(d(10), d(19), d(1)), Days { total: 10, elapsed: 0, remaining: 10 });
        let after = Days::of(d(1), d(10), d(30));
        assert_eq!(after, Days { total: 10, elapsed: 10, remaining: 0 });
        assert_eq!(after.figures(Some(5.0), 1.0).needed_daily, None);
        assert_eq!(after.figures(None, 1.0).on_track, None);
    }
}
