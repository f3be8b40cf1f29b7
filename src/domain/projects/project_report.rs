//! The standard monitoring tables of a project (过程监控表): progress, members, daily accumulation,
//! leaderboard with stars, milestones — one workbook, or one CSV per table.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use uuid::Uuid;

use crate::domain::common::calendar;
use crate::domain::kinds::project_kind::{Metric, Period, PointsAction};
use crate::domain::org::audit::{self, Action};
use crate::domain::projects::leaderboard;
use crate::domain::projects::progress::{self, Figures, Progress};
use crate::domain::{Actor, DomainError};
use crate::export::Table;
use crate::store::DbConn;
use crate::store::projects::project_metrics;

/// A named table of the report.
pub type NamedTable = (&'static str, Table);

/// Table names in workbook order; each is also `report/{name}.csv`.
pub const TABLES: [&str; 5] = ["progress", "members", "daily", "leaderboard", "milestones"];

pub fn sheet_name(table: &str) -> &'static str {
    match table {
        "progress" => "Progress",
        "members" => "Members",
        "daily" => "Daily",
        "leaderboard" => "Leaderboard",
        _ => "Milestones",
    }
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { format!("{x:.2}") }
}

fn opt(x: Option<f64>) -> String {
    x.map(number).unwrap_or_default()
}

fn flag(x: Option<bool>) -> String {
    match x {
        Some(true) => "是".to_owned(),
        Some(false) => "否".to_owned(),
        None => String::new(),
    }
}

fn figures_cells(f: &Figures) -> Vec<String> {
    vec![opt(f.target), number(f.actual), opt(f.expected), opt(f.gap), opt(f.needed_daily), flag(f.on_track)]
}

fn headers(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn progress_table(p: &Progress) -> Table {
    Table {
        headers: headers(&[
            "指标 Metric",
            "目标 Target",
            "完成 Actual",
            "进度目标 Expected",
            "差距 Gap",
            "每日需完成 Needed per day",
            "达标 On track",
            "名称 Name",
        ]),
        rows: p
            .metrics
            .iter()
            .map(|m| {
                let mut row = vec![m.name.clone()];
                row.extend(figures_cells(&m.figures));
                row.push(m.metric.map_or_else(|| m.name.clone(), |x| x.label().to_owned()));
                row
            })
            .collect(),
        numeric: vec![1, 2, 3, 4, 5],
    }
}

fn members_table(p: &Progress) -> Table {
    let mut rows = Vec::new();
    for m in &p.metrics {
        for member in &m.members {
            let mut row = vec![member.name.clone(), member.user_id.to_string(), m.name.clone()];
            row.extend(figures_cells(&member.figures));
            rows.push(row);
        }
    }
    Table {
        headers: headers(&[
            "成员 Member",
            "成员编号 Member id",
            "指标 Metric",
            "目标 Target",
            "完成 Actual",
            "进度目标 Expected",
            "差距 Gap",
            "每日需完成 Needed per day",
            "达标 On track",
        ]),
        rows,
        numeric: vec![3, 4, 5, 6, 7],
    }
}

/// One row per day of the period up to the date: each metric's day count, running total and the
/// running total the pace asks for.
fn daily_table(conn: &mut DbConn, p: &Progress) -> Result<Table, DomainError> {
    let project = &p.project;
    let metrics: Vec<Metric> = {
        let with_target: Vec<Metric> = Metric::ORDER.into_iter().filter(|m| project.target(*m).is_some()).collect();
        if with_target.is_empty() { Metric::ORDER.to_vec() } else { with_target }
    };
    let mut header = vec!["日期 Date".to_owned()];
    for m in &metrics {
        header.push(format!("{} 当日 day", m.as_str()));
        header.push(format!("{} 累计 total", m.as_str()));
        header.push(format!("{} 进度目标 expected", m.as_str()));
    }
    let mut rows = Vec::new();
    if let Some(window) = progress::counting_window(project, p.date) {
        let clock = project.clock();
        let mut per_day: HashMap<(NaiveDate, &str), f64> = HashMap::new();
        for (metric, _, at, amount) in project_metrics::timeline(conn, &project.id.to_string(), window)? {
            *per_day.entry((clock.local_date(at.and_utc()), metric)).or_default() += amount;
        }
        let mut running: Vec<f64> = vec![0.0; metrics.len()];
        let mut day = project.starts_on;
        let last = p.date.min(project.ends_on);
        while day <= last {
            let days = progress::Days::of(project.starts_on, project.ends_on, day);
            let mut row = vec![day.to_string()];
            for (i, m) in metrics.iter().enumerate() {
                let today = per_day.get(&(day, m.as_str())).copied().unwrap_or(0.0);
                running[i] += today;
                let f = days.figures(project.target(*m).map(|t| t.total), running[i]);
                row.extend([number(today), number(f.actual), opt(f.expected)]);
            }
            rows.push(row);
            day = match day.checked_add_days(Days::new(1)) {
                Some(next) => next,
                None => break,
            };
        }
    }
    let numeric = (1..header.len()).collect();
    Ok(Table { headers: header, rows, numeric })
}

fn leaderboard_table(conn: &mut DbConn, p: &Progress) -> Result<Table, DomainError> {
    let project = &p.project;
    let to = p.date.min(project.ends_on).max(project.starts_on);
    let standings = leaderboard::standings(conn, project, project.starts_on, to)?;
    let mut header = headers(&["名次 Rank", "成员 Member", "积分 Points"]);
    header.extend(PointsAction::ALL.iter().map(|a| a.as_str().to_owned()));
    let mut rows: Vec<Vec<String>> = standings
        .iter()
        .map(|s| {
            let mut row = vec![s.rank.to_string(), s.name.clone(), s.points.to_string()];
            row.extend(PointsAction::ALL.iter().map(|a| s.breakdown.get(a).copied().unwrap_or(0).to_string()));
            row
        })
        .collect();
    for (period, label) in [
        (Period::Day, "日冠 Star of the day"),
        (Period::Week, "周冠 Star of the week"),
        (Period::Month, "月冠 Star of the month"),
    ] {
        // The project is loaded already: rank its standings directly rather than through `board`.
        let (from, to) = calendar::period_bounds(period, p.date);
        let ranked = leaderboard::standings(conn, project, from, to)?;
        let star = leaderboard::star_of(&ranked);
        let (name, points) = star.map_or((String::new(), String::new()), |s| (s.name.clone(), s.points.to_string()));
        let mut row = vec![label.to_owned(), name, points];
        row.resize(header.len(), String::new());
        rows.push(row);
    }
    let numeric = (2..header.len()).collect();
    Ok(Table { headers: header, rows, numeric })
}

fn milestones_table(p: &Progress) -> Table {
    Table {
        headers: headers(&["事项 Milestone", "截止 Due", "完成 Done", "完成时间 Done at", "逾期 Overdue"]),
        rows: p
            .project
            .milestones
            .iter()
            .map(|m| {
                let overdue = m.done_at.is_none() && m.due_on < p.date;
                vec![
                    m.title.clone(),
                    m.due_on.to_string(),
                    flag(Some(m.done_at.is_some())),
                    m.done_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    flag(Some(overdue)),
                ]
            })
            .collect(),
        numeric: Vec::new(),
    }
}

/// The named tables (all when `only` is `None`) for the project on `date`; every export is audited.
pub fn tables(
    conn: &mut DbConn,
    actor: &Actor,
    id: Uuid,
    date: Option<NaiveDate>,
    only: Option<&str>,
    format: &str,
) -> Result<(Progress, Vec<NamedTable>), DomainError> {
    let p = progress::progress(conn, actor, id, date)?;
    let mut out = Vec::new();
    for name in TABLES.into_iter().filter(|t| only.is_none_or(|o| o == *t)) {
        let table = match name {
            "progress" => progress_table(&p),
            "members" => members_table(&p),
            "daily" => daily_table(conn, &p)?,
            "leaderboard" => leaderboard_table(conn, &p)?,
            _ => milestones_table(&p),
        };
        out.push((name, table));
    }
    let detail = serde_json::json!({ "export": format, "tables": out.iter().map(|(n, _)| *n).collect::<Vec<_>>(), "date": p.date });
    audit::record(conn, actor, "project", id, &p.project.org_path, Action::Export, detail)?;
    Ok((p, out))
}
