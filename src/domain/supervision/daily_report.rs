//! The morning-meeting report (晨会): yesterday's work per person, and today's planned visits.

use chrono::{DateTime, Days, NaiveDate, Utc};
use uuid::Uuid;

use crate::domain::common::calendar::Clock;
use crate::domain::{Actor, DomainError, Role};
use crate::store::projects::points;
use crate::store::projects::projects::branch_time_zone;
use crate::store::supervision::daily_report as store;
use crate::store::{DbConn, StoreError, uuid_col};

#[derive(Debug, Clone)]
pub struct PlannedVisit {
    pub visit_id: Uuid,
    pub partner_id: Option<Uuid>,
    pub partner_name: Option<String>,
    pub next_visit_at: Option<DateTime<Utc>>,
    pub next_step: Option<String>,
}

#[derive(Debug, Clone)]
pub struct MemberDay {
    pub user_id: Uuid,
    pub name: String,
    pub org_unit_id: Option<Uuid>,
    pub visits: i64,
    pub verified_visits: i64,
    pub events_held: i64,
    pub new_leads: i64,
    pub conversions: i64,
    pub converted_amount_fen: i64,
    pub points: i64,
    pub planned_visits: Vec<PlannedVisit>,
}

#[derive(Debug, Clone)]
pub struct DailyReport {
    pub date: NaiveDate,
    pub reported_day: NaiveDate,
    pub org_unit_id: Option<Uuid>,
    pub members: Vec<MemberDay>,
    /// Supervision findings of the unit still open past their due day (an account manager: their
    /// own), the oldest due first.
    pub overdue_findings: Vec<crate::domain::supervision::findings::Finding>,
}

fn count(rows: &[(String, i64)], user: &str) -> i64 {
    rows.iter().find(|(u, _)| u == user).map_or(0, |(_, n)| *n)
}

pub fn daily(
    conn: &mut DbConn,
    actor: &Actor,
    date: Option<NaiveDate>,
    org_unit_id: Option<Uuid>,
) -> Result<DailyReport, DomainError> {
    let unit = match org_unit_id.or(actor.org_unit_id) {
        Some(id) => Some(crate::domain::org::org_units::get(conn, actor, id)?),
        None => None,
    };
    let (path, branch) = match &unit {
        Some(u) => (u.path.clone(), Some(u.branch_id.to_string())),
        None => (actor.org_path.clone(), None),
    };
    let clock = Clock::new(&match branch {
        Some(b) => branch_time_zone(conn, &b)?,
        None => crate::domain::common::calendar::DEFAULT_TIME_ZONE.to_owned(),
    });
    let date = date.unwrap_or_else(|| clock.today());
    let reported_day = date.checked_sub_days(Days::new(1)).unwrap_or(date);
    let mut people = store::people(conn, &path)?;
    // Field staff see their own line; supervisors and managers the whole unit's.
    if actor.role == Role::AccountManager {
        people.retain(|(id, ..)| *id == actor.user_id.to_string());
    }
    let ids: Vec<String> = people.iter().map(|p| p.0.clone()).collect();
    let yesterday = clock.window(reported_day, reported_day);
    let today = clock.window(date, date);
    let visits = store::visits(conn, &ids, yesterday)?;
    let events = store::events_held(conn, &ids, yesterday)?;
    let leads = store::new_leads(conn, &ids, yesterday)?;
    let conversions = store::conversions(conn, &ids, yesterday)?;
    let earned = points::per_user_between(conn, &ids, yesterday.0, yesterday.1)?;
    let planned = store::planned(conn, &ids, today)?;
    let members = people
        .into_iter()
        .map(|(id, name, unit)| -> Result<MemberDay, StoreError> {
            let (v, verified) = visits.iter().find(|(u, ..)| *u == id).map_or((0, 0), |(_, n, v)| (*n, *v));
            let (conv, fen) = conversions.iter().find(|(u, ..)| *u == id).map_or((0, 0), |(_, n, f)| (*n, *f));
            Ok(MemberDay {
                user_id: uuid_col(&id)?,
                name,
                org_unit_id: unit.as_deref().map(uuid_col).transpose()?,
                visits: v,
                verified_visits: verified,
                events_held: count(&events, &id),
                new_leads: count(&leads, &id),
                conversions: conv,
                converted_amount_fen: fen,
                points: count(&earned, &id),
                planned_visits: planned
                    .iter()
                    .filter(|p| p.user_id == id)
                    .map(|p| -> Result<PlannedVisit, StoreError> {
                        Ok(PlannedVisit {
                            visit_id: uuid_col(&p.visit_id)?,
                            partner_id: p.partner_id.as_deref().map(uuid_col).transpose()?,
                            partner_name: p.partner_name.clone(),
                            next_visit_at: p.next_visit_at.map(|t| t.and_utc()),
                            next_step: p.next_step.clone(),
                        })
                    })
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect::<Result<_, _>>()?;
    let mut overdue_findings = crate::domain::supervision::findings::overdue_under(conn, &path, date)?;
    if actor.role == Role::AccountManager {
        overdue_findings.retain(|f| f.owner_id == actor.user_id);
    }
    Ok(DailyReport { date, reported_day, org_unit_id: unit.map(|u| u.id), members, overdue_findings })
}
