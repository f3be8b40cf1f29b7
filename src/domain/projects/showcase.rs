//! The daily showcase (业绩晒单): what the card posted to the team's chat group says about a
//! project's day — totals against pace, the stars of the day, week and month, the top five.
//! The figures come from progress and the leaderboard; drawing is `media::card`'s job.

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use crate::domain::common::calendar::{days_between, period_bounds};
use crate::domain::kinds::project_kind::Period;
use crate::domain::projects::leaderboard::{standings, star_of};
use crate::domain::projects::progress::{self, MetricProgress};
use crate::domain::{Actor, DomainError};
use crate::media::card::{Ranked, Showcase, Star, Total};
use crate::store::DbConn;
use crate::store::org::org_units as unit_store;

/// The card holds six totals.
const MAX_TOTALS: usize = 6;

const WEEKDAYS: [&str; 7] = ["一", "二", "三", "四", "五", "六", "日"];

fn same_metric(a: &MetricProgress, b: &MetricProgress) -> bool {
    a.metric == b.metric && a.manual_metric_id == b.manual_metric_id
}

fn label_and_unit(m: &MetricProgress) -> (String, String) {
    match m.metric {
        Some(metric) => {
            // The workbook's label carries its unit in brackets ("转化金额(元)"); the card shows
            // the unit beside the figure instead.
            let label = metric.label().split('(').next().unwrap_or_default().to_owned();
            (label, metric.unit().to_owned())
        }
        None => (m.name.clone(), m.unit.clone().unwrap_or_default()),
    }
}

/// Where the project stands on `date` (default today in the branch's time zone).
fn day_line(date: NaiveDate, starts_on: NaiveDate, ends_on: NaiveDate) -> String {
    let weekday = WEEKDAYS[date.weekday().num_days_from_monday() as usize];
    let when = format!("{}年{}月{}日 周{weekday}", date.year(), date.month(), date.day());
    let total = days_between(starts_on, ends_on);
    if date < starts_on {
        format!("{when} · 距开始还有 {} 天", (starts_on - date).num_days())
    } else if date > ends_on {
        format!("{when} · 项目已结束（共{total}天）")
    } else {
        format!("{when} · 第{}天 / 共{total}天", days_between(starts_on, date))
    }
}

pub fn showcase(conn: &mut DbConn, actor: &Actor, id: Uuid, date: Option<NaiveDate>) -> Result<Showcase, DomainError> {
    let today = progress::progress(conn, actor, id, date)?;
    let date = today.date;
    let project = &today.project;
    let yesterday = match date.pred_opt() {
        Some(day) if day >= project.starts_on => Some(progress::progress(conn, actor, id, Some(day))?),
        _ => None,
    };
    let totals = today
        .metrics
        .iter()
        .filter_map(|m| {
            let target = m.figures.target?;
            let before = yesterday
                .as_ref()
                .and_then(|y| y.metrics.iter().find(|b| same_metric(b, m)))
                .map_or(0.0, |b| b.figures.actual);
            let (label, unit) = label_and_unit(m);
            Some(Total {
                label,
                today: m.figures.actual - before,
                cumulative: m.figures.actual,
                target,
                pace: m.figures.expected.unwrap_or_default(),
                unit,
            })
        })
        .take(MAX_TOTALS)
        .collect();
    let mut stars = Vec::new();
    for (period, title) in [(Period::Day, "日之星"), (Period::Week, "周之星"), (Period::Month, "月之星")] {
        let (from, to) = period_bounds(period, date);
        let board = standings(conn, project, from, to.min(date))?;
        if let Some(star) = star_of(&board) {
            stars.push(Star { period: title.to_owned(), name: star.name.clone(), points: star.points as f64 });
        }
    }
    let so_far = standings(conn, project, project.starts_on, date.min(project.ends_on))?;
    let top = so_far
        .iter()
        .filter(|s| s.points > 0)
        .take(5)
        .map(|s| Ranked {
            rank: u32::try_from(s.rank).unwrap_or(u32::MAX),
            name: s.name.clone(),
            points: s.points as f64,
        })
        .collect();
    let unit = unit_store::find(conn, &project.org_unit_id.to_string())?.map(|u| u.name).unwrap_or_default();
    Ok(Showcase {
        title: project.name.clone(),
        subtitle: day_line(date, project.starts_on, project.ends_on),
        totals,
        stars,
        top,
        footer: format!("{unit} · Outreach 客群业绩"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn the_day_line_says_where_the_project_stands() {
        let (starts, ends) = (d(2026, 11, 18), d(2027, 1, 17));
        assert_eq!(day_line(d(2026, 11, 29), starts, ends), "2026年11月29日 周日 · 第12天 / 共61天");
        assert_eq!(day_line(d(2026, 11, 16), starts, ends), "2026年11月16日 周一 · 距开始还有 2 天");
        assert_eq!(day_line(d(2027, 1, 18), starts, ends), "2027年1月18日 周一 · 项目已结束（共61天）");
    }
}
