//! The demo's two running segment projects and a month of their activity: an outreach project on
//! wholesale-market stall owners across the branch, and an existing-customer project on micro-loan
//! clients in 蓬江支行. Visits and events seeded after this link to them on their own (members of
//! one running project); leads are spread over the month with their status moves and points.

use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use crate::bootstrap::describe;
use crate::domain::calendar::Clock;
use crate::domain::lead_kind::Segment;
use crate::domain::org_units::Created;
use crate::domain::project_kind::{Metric, PointsAction};
use crate::domain::projects::{
    self, ManualMetricInput, MilestoneInput, MilestonePatch, NewProject, RuleInput, TargetInput,
};
use crate::domain::users::User;
use crate::domain::{Actor, leads};
use crate::http::state::AppState;
use crate::store::leads::{self as lead_store, LeadHistoryRow, LeadRow};

/// Days the projects have been running.
const RUNNING_DAYS: i64 = 30;

pub struct DemoProject {
    pub id: Uuid,
    pub members: Vec<User>,
    pub segment: Segment,
}

fn even_split(members: &[User], total: f64) -> std::collections::BTreeMap<Uuid, f64> {
    let share = (total / members.len().max(1) as f64).floor();
    members.iter().map(|m| (m.id, share)).collect()
}

fn targets(members: &[User], list: &[(Metric, f64)]) -> Vec<TargetInput> {
    list.iter()
        .map(|(metric, total)| TargetInput { metric: *metric, total: *total, split: even_split(members, *total) })
        .collect()
}

fn rules() -> Vec<RuleInput> {
    vec![
        RuleInput { action: PointsAction::VerifiedVisit, points: 2, daily_cap: Some(20) },
        RuleInput { action: PointsAction::EventStepCompleted, points: 5, daily_cap: None },
        RuleInput { action: PointsAction::Checkin, points: 1, daily_cap: Some(50) },
        RuleInput { action: PointsAction::NewLead, points: 3, daily_cap: Some(30) },
        RuleInput { action: PointsAction::Conversion, points: 20, daily_cap: None },
    ]
}

/// Creates the two projects; returns them with their teams.
pub async fn create(
    state: &AppState,
    branch_manager: &User,
    sub_branch_manager: &User,
    supervisor: &User,
    wholesale_team: Vec<User>,
    loan_team: Vec<User>,
) -> anyhow::Result<Vec<DemoProject>> {
    let today = Clock::new(crate::domain::calendar::DEFAULT_TIME_ZONE).today();
    let starts_on = today - Duration::days(RUNNING_DAYS);
    let ends_on = today + Duration::days(60);
    let milestone =
        |title: &str, day: i64| MilestoneInput { title: title.to_owned(), due_on: starts_on + Duration::days(day) };
    let plans = [
        (
            branch_manager.as_actor(),
            NewProject {
                id: None,
                name: "批发市场摊主外拓".to_owned(),
                segment: Segment::Outreach,
                portrait_tags: Some(vec!["批发市场摊主".to_owned(), "个体工商户".to_owned(), "日结现金流".to_owned()]),
                product_package: Some(vec!["收款码".to_owned(), "经营贷".to_owned(), "商户卡".to_owned()]),
                service_package: Some(vec!["上门开户".to_owned(), "对账培训".to_owned(), "市场推介会".to_owned()]),
                starts_on,
                ends_on,
                status: None,
                org_unit_id: branch_manager.org_unit_id,
                lead_id: wholesale_team[0].id,
                supervisor_id: Some(supervisor.id),
                member_ids: Some(wholesale_team.iter().map(|u| u.id).collect()),
                targets: Some(targets(
                    &wholesale_team,
                    &[
                        (Metric::NewCustomers, 120.0),
                        (Metric::Conversions, 120.0),
                        (Metric::ConvertedAmount, 1_200_000.0),
                        (Metric::Visits, 1800.0),
                        (Metric::VerifiedVisits, 1500.0),
                        (Metric::EventsHeld, 8.0),
                        (Metric::Registrations, 300.0),
                        (Metric::Checkins, 200.0),
                        (Metric::NewLeads, 400.0),
                    ],
                )),
                points_rules: Some(rules()),
                milestones: Some(vec![
                    milestone("完成市场摊位摸排", 7),
                    milestone("首场市场推介会", 21),
                    milestone("中期复盘", 45),
                    milestone("收官总结", 90),
                ]),
            },
        ),
        (
            sub_branch_manager.as_actor(),
            NewProject {
                id: None,
                name: "小微贷款存量客户经营".to_owned(),
                segment: Segment::Existing,
                portrait_tags: Some(vec!["小微贷款客户".to_owned(), "存量".to_owned(), "资金沉淀低".to_owned()]),
                product_package: Some(vec!["结算账户".to_owned(), "理财".to_owned(), "代发工资".to_owned()]),
                service_package: Some(vec!["贷后回访".to_owned(), "财务健康诊断".to_owned()]),
                starts_on,
                ends_on,
                status: None,
                org_unit_id: sub_branch_manager.org_unit_id,
                lead_id: loan_team[0].id,
                supervisor_id: Some(supervisor.id),
                member_ids: Some(loan_team.iter().map(|u| u.id).collect()),
                targets: Some(targets(
                    &loan_team,
                    &[
                        (Metric::Conversions, 60.0),
                        (Metric::ConvertedAmount, 600_000.0),
                        (Metric::Visits, 900.0),
                        (Metric::VerifiedVisits, 750.0),
                        (Metric::NewLeads, 150.0),
                    ],
                )),
                points_rules: Some(rules()),
                milestones: Some(vec![
                    milestone("存量客户名单分层", 5),
                    milestone("贷后回访完成一半", 30),
                    milestone("经营复盘", 60),
                ]),
            },
        ),
    ];
    let mut out = Vec::new();
    for ((actor, input), team) in plans.into_iter().zip([wholesale_team, loan_team]) {
        let segment = input.segment;
        let who = actor.clone();
        let project = match state.db.run(move |conn| projects::create(conn, &who, input)).await.map_err(describe)? {
            Created::New(p) | Created::Existing(p) => p,
        };
        // The early milestones are done.
        for m in project.milestones.iter().filter(|m| m.due_on < today) {
            let (who, project_id, milestone_id) = (actor.clone(), project.id, m.id);
            let patch = MilestonePatch { done: Some(true), ..Default::default() };
            state
                .db
                .run(move |conn| projects::update_milestone(conn, &who, project_id, milestone_id, patch))
                .await
                .map_err(describe)?;
        }
        if segment == Segment::Existing {
            manual_aum(state, &actor, project.id, &team, starts_on, today).await?;
        }
        out.push(DemoProject { id: project.id, members: team, segment });
    }
    Ok(out)
}

/// AUM growth (AUM增量, 万元) entered weekly per member.
async fn manual_aum(
    state: &AppState,
    actor: &Actor,
    project_id: Uuid,
    team: &[User],
    starts_on: NaiveDate,
    today: NaiveDate,
) -> anyhow::Result<()> {
    let input = ManualMetricInput {
        name: "AUM增量".to_owned(),
        unit: Some("万元".to_owned()),
        total: Some(3000.0),
        split: even_split(team, 3000.0),
    };
    let who = actor.clone();
    let metric =
        state.db.run(move |conn| projects::add_manual_metric(conn, &who, project_id, input)).await.map_err(describe)?;
    let mut rng = StdRng::seed_from_u64(77);
    let mut day = starts_on + Duration::days(6);
    while day < today {
        for member in team {
            let (who, user, value) = (actor.clone(), member.id, f64::from(rng.random_range(40..160u32)));
            state
                .db
                .run(move |conn| projects::add_manual_value(conn, &who, project_id, metric.id, Some(user), day, value))
                .await
                .map_err(describe)?;
        }
        day += Duration::days(7);
    }
    Ok(())
}

const NAMES: [&str; 12] = ["陈", "李", "黄", "梁", "吴", "张", "刘", "周", "何", "林", "郑", "谢"];
const STALL_NEEDS: [&str; 4] = ["收款对账麻烦", "旺季进货缺流动资金", "想给员工代发工资", "零钱兑换"];

/// About one to three leads per member per working day over the month, each moved along as
/// far as its age allows; returns how many were made.
/// Each lead comes from one of the member's own partners, so leads show on the map where they
/// were found.
pub async fn leads(
    state: &AppState,
    projects: &[DemoProject],
    portfolios: &[(crate::domain::Actor, Vec<crate::domain::partners::Partner>)],
) -> anyhow::Result<usize> {
    let mut rng = StdRng::seed_from_u64(31);
    let china = chrono::FixedOffset::east_opt(8 * 3600).ok_or_else(|| anyhow::anyhow!("offset"))?;
    let today = Clock::new(crate::domain::calendar::DEFAULT_TIME_ZONE).today();
    let mut made = 0;
    let mut serial = 0u64;
    for project in projects {
        for member in &project.members {
            let Some(unit) = member.org_unit_id else { continue };
            let portfolio: &[crate::domain::partners::Partner] =
                portfolios.iter().find(|(a, _)| a.user_id == member.id).map_or(&[], |(_, p)| p.as_slice());
            let mut rows = Vec::new();
            let mut history = Vec::new();
            for back in (0..RUNNING_DAYS).rev() {
                let day = today - Duration::days(back);
                for _ in 0..rng.random_range(1..4) {
                    serial += 1;
                    let minute = rng.random_range(9 * 60..18 * 60);
                    let time = NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).unwrap_or_default();
                    let Some(created) = china.from_local_datetime(&day.and_time(time)).single() else { continue };
                    let created = created.with_timezone(&Utc).min(Utc::now()).naive_utc();
                    // Older leads are further along: contacted, qualified, some converted, a few lost.
                    let age = back as f64 / RUNNING_DAYS as f64;
                    let roll: f64 = rng.random();
                    let status = if roll < 0.08 {
                        "lost"
                    } else if roll < 0.08 + 0.35 * age {
                        "converted"
                    } else if roll < 0.5 + 0.2 * age {
                        "qualified"
                    } else if roll < 0.85 {
                        "contacted"
                    } else {
                        "new"
                    };
                    let converted_at = (status == "converted")
                        .then(|| (created + Duration::days(rng.random_range(1..6))).min(Utc::now().naive_utc()));
                    let id = Uuid::now_v7().to_string();
                    let source = ["walk_in", "referral", "partner"][rng.random_range(0..3)];
                    let partner_id =
                        (!portfolio.is_empty()).then(|| portfolio[rng.random_range(0..portfolio.len())].id.to_string());
                    let name = format!(
                        "{}{}",
                        NAMES[rng.random_range(0..NAMES.len())],
                        ["老板", "姐", "哥", "女士"][rng.random_range(0..4)]
                    );
                    rows.push(LeadRow {
                        id: id.clone(),
                        branch_id: member
                            .org_path
                            .trim_start_matches('/')
                            .split('/')
                            .next()
                            .unwrap_or_default()
                            .to_owned(),
                        org_unit_id: unit.to_string(),
                        org_path: member.org_path.clone(),
                        owner_id: member.id.to_string(),
                        project_id: Some(project.id.to_string()),
                        name,
                        phone: format!("158{:08}", serial),
                        source: source.to_owned(),
                        source_id: (source == "partner").then(|| partner_id.clone()).flatten(),
                        status: status.to_owned(),
                        version: 1,
                        created_at: created,
                        updated_at: converted_at.unwrap_or(created),
                        kind: if rng.random_bool(0.7) { "micro_business" } else { "person" }.to_owned(),
                        partner_id,
                        segment: project.segment.as_str().to_owned(),
                        portrait_tags: r#"["摊主"]"#.to_owned(),
                        needs: STALL_NEEDS[rng.random_range(0..STALL_NEEDS.len())].to_owned(),
                        product_interest: r#"["收款码"]"#.to_owned(),
                        expected_amount_fen: Some(i64::from(rng.random_range(1..50u32)) * 100_000),
                        converted_amount_fen: converted_at.map(|_| i64::from(rng.random_range(2..30u32)) * 100_000),
                        converted_at,
                        lost_reason: (status == "lost").then(|| "已有他行合作".to_owned()),
                        do_not_contact: rng.random_bool(0.02),
                        create_digest: String::new(),
                    });
                    for (step, to) in ["new", "contacted", "qualified", status].iter().enumerate() {
                        let done = match status {
                            "new" => step == 0,
                            "contacted" => step <= 1,
                            "qualified" => step <= 2,
                            "lost" => step == 0 || step == 3,
                            _ => true,
                        };
                        if !done || (step == 3 && ["new", "contacted", "qualified"].contains(&status)) {
                            continue;
                        }
                        history.push(LeadHistoryRow {
                            id: Uuid::now_v7().to_string(),
                            lead_id: id.clone(),
                            kind: "status".to_owned(),
                            from_value: None,
                            to_value: (*to).to_owned(),
                            note: None,
                            changed_by: member.id.to_string(),
                            changed_at: if step == 3 { converted_at.unwrap_or(created) } else { created },
                        });
                    }
                }
            }
            made += rows.len();
            state
                .db
                .run(move |conn| {
                    conn.write_tx(|conn| {
                        lead_store::insert_many(conn, &rows)?;
                        for h in &history {
                            lead_store::insert_history(conn, h)?;
                        }
                        // Points as if each lead had gone through the API.
                        for row in &rows {
                            leads::resettle(conn, &row.id)?;
                        }
                        Ok::<_, crate::store::StoreError>(())
                    })
                })
                .await?;
        }
    }
    Ok(made)
}
