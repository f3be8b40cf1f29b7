//! Demo supervision and sharing: the projects' award pools with payments in and prizes paid to past
//! stars, a small library of best-practice cases, a supervisor's coaching plan in its second phase,
//! and the supervisor's visits to outlets with their findings.

use chrono::Duration;

use crate::bootstrap::describe;
use crate::demo_projects::DemoProject;
use crate::domain::Actor;
use crate::domain::DomainError;
use crate::domain::award_pool::{self, NewContribution, NewPayout};
use crate::domain::calendar::Clock;
use crate::domain::cases::{self, Figure, NewCase};
use crate::domain::lead_kind::Segment;
use crate::domain::org_units::Created;
use crate::domain::partner_kind::PartnerCategory;
use crate::domain::project_kind::Period;
use crate::domain::users::User;
use crate::http::state::AppState;

/// Payments in from each member and the manager, then prizes to the stars of the last few days
/// and of last week. Returns the entries made.
pub async fn pools(state: &AppState, manager: &User, projects: &[DemoProject]) -> anyhow::Result<usize> {
    let today = Clock::new(crate::domain::calendar::DEFAULT_TIME_ZONE).today();
    let mut made = 0;
    for project in projects {
        let mut payments: Vec<(Actor, f64, &str)> =
            project.members.iter().map(|m| (m.as_actor(), 100.0, "本月众筹")).collect();
        payments.push((manager.as_actor(), 500.0, "行领导加码"));
        for (actor, amount, note) in payments {
            let input = NewContribution { id: None, amount, user_id: None, note: Some(note.to_owned()) };
            let id = project.id;
            state.db.run(move |conn| award_pool::contribute(conn, &actor, id, input)).await.map_err(describe)?;
            made += 1;
        }
        let prizes = [(Period::Day, 1, 50.0), (Period::Day, 2, 50.0), (Period::Day, 3, 50.0), (Period::Week, 7, 200.0)];
        for (period, days_ago, amount) in prizes {
            let note = if period == Period::Week { "周之星奖金" } else { "日之星奖金" };
            let input = NewPayout {
                id: None,
                period,
                date: today - Duration::days(days_ago),
                amount,
                note: Some(note.to_owned()),
            };
            let (actor, id) = (manager.as_actor(), project.id);
            // A day nobody scored has no star to pay: skipped, as a manager would.
            match state.db.run(move |conn| award_pool::pay_star(conn, &actor, id, input)).await {
                Ok(_) => made += 1,
                Err(DomainError::Conflict { .. }) => {}
                Err(other) => return Err(describe(other)),
            }
        }
    }
    Ok(made)
}

struct DemoCase {
    author: usize,
    title: &'static str,
    segment: Segment,
    category: Option<PartnerCategory>,
    what_done: &'static str,
    results: &'static str,
    figures: &'static [(&'static str, f64, &'static str)],
    published: bool,
    useful: usize,
}

const CASES: [DemoCase; 4] = [
    DemoCase {
        author: 0,
        title: "海鲜批发市场：早市收款码批量开通",
        segment: Segment::Outreach,
        category: Some(PartnerCategory::SeafoodWholesale),
        what_done: "联合市场管理处，凌晨四点到早市摊位现场开通收款码；每开一户送防水码牌，当天教会摊主对账；一周后回访，把日结现金流引导到结算账户。",
        results: "三周覆盖市场七成摊位，摊主资金开始留存，两户申请了经营贷。",
        figures: &[("新开商户", 46.0, "户"), ("日均沉淀", 38.5, "万元"), ("经营贷意向", 2.0, "户")],
        published: true,
        useful: 4,
    },
    DemoCase {
        author: 1,
        title: "社区亲子财商课带动宝妈开户",
        segment: Segment::Outreach,
        category: Some(PartnerCategory::Community),
        what_done: "和物业在周六上午办亲子财商课，孩子做存钱罐、家长听教育金规划；现场扫码报名，课后三天内电话回访。",
        results: "两场课签到 58 人，转化开户和定投。",
        figures: &[("签到", 58.0, "人"), ("新开户", 17.0, "户"), ("定投", 9.0, "笔")],
        published: true,
        useful: 3,
    },
    DemoCase {
        author: 2,
        title: "小微贷款客户贷后回访做财务健康诊断",
        segment: Segment::Existing,
        category: None,
        what_done: "贷后回访不只催收提醒，带一份财务健康诊断表，帮老板梳理流水；顺势推荐代发工资和结算账户。",
        results: "回访客户的资金归行明显提升。",
        figures: &[("回访客户", 64.0, "户"), ("代发签约", 6.0, "户"), ("AUM增量", 210.0, "万元")],
        published: true,
        useful: 2,
    },
    DemoCase {
        author: 3,
        title: "超市收银台旁的反诈宣传角（草稿）",
        segment: Segment::Traffic,
        category: Some(PartnerCategory::Supermarket),
        what_done: "周末在联盟超市收银台旁摆反诈宣传角，顾客答题送鸡蛋。",
        results: "还在统计。",
        figures: &[],
        published: false,
        useful: 0,
    },
];

/// The demo library: cases by account managers, published by the branch manager, marked useful
/// by colleagues. Returns the cases made.
pub async fn cases(state: &AppState, manager: &User, writers: &[User]) -> anyhow::Result<usize> {
    let mut made = 0;
    for demo in &CASES {
        let Some(author) = writers.get(demo.author % writers.len().max(1)) else { continue };
        let input = NewCase {
            id: None,
            title: demo.title.to_owned(),
            segment: demo.segment,
            partner_category: demo.category,
            what_done: demo.what_done.to_owned(),
            results: demo.results.to_owned(),
            figures: demo
                .figures
                .iter()
                .map(|(l, v, u)| Figure { label: (*l).to_owned(), value: *v, unit: (*u).to_owned() })
                .collect(),
            project_id: None,
        };
        let actor = author.as_actor();
        let case = match state.db.run(move |conn| cases::create(conn, &actor, input)).await.map_err(describe)? {
            Created::New(c) | Created::Existing(c) => c,
        };
        made += 1;
        if !demo.published {
            continue;
        }
        let (actor, id) = (manager.as_actor(), case.id);
        state.db.run(move |conn| cases::publish(conn, &actor, id)).await.map_err(describe)?;
        for reader in writers.iter().filter(|w| w.id != author.id).take(demo.useful) {
            let (actor, id) = (reader.as_actor(), case.id);
            state.db.run(move |conn| cases::mark_useful(conn, &actor, id, true)).await.map_err(describe)?;
        }
    }
    Ok(made)
}

/// The supervision team's trainee: the demo supervisor, coached by an external coach, through
/// observation (three weekly reviews) and six days into practice, with a daily review each day
/// but today's. Returns the reviews written.
pub async fn coaching(state: &AppState, manager: &User, trainee: &User) -> anyhow::Result<usize> {
    use crate::domain::coaching::{self, NewPlan, NewReview};
    use crate::store::coaching as plan_store;

    let today = Clock::new(crate::domain::calendar::DEFAULT_TIME_ZONE).today();
    let input = NewPlan {
        id: None,
        trainee_id: trainee.id,
        coach_id: None,
        coach_name: Some("外部教练 周老师".to_owned()),
        started_on: Some(today - Duration::days(27)),
        notes: Some("第一期督导员培养：先跟岗观察，再带教实践，最后独立负责城区网点".to_owned()),
    };
    let actor = manager.as_actor();
    let plan = match state.db.run(move |conn| coaching::create(conn, &actor, input)).await.map_err(describe)? {
        Created::New(p) | Created::Existing(p) => p,
    };
    let notes = [
        ("跟教练走访外海网点，看晨会和摊位摸排", "教练示范了如何用客群地图找空白摊位", "记录还不够细，要按客群分层记"),
        ("观察礼乐网点的社区活动筹备", "活动六步法的节奏清楚了", "邀约环节的话术要自己练"),
        ("第三周跟岗复盘", "能独立看懂进度表和落后项", "准备进入带教实践"),
        ("带教第一天：我主持晨会", "节奏把控可以", "点评要更具体"),
        ("走访会城网点，检查客群项目落地", "发现两项问题并当场反馈", "整改要约定日期"),
        ("带领网点做活动复盘", "大家愿意讲问题", "数据准备要提前"),
        ("检查批发市场项目的摊主名单", "名单分层清楚", "回访记录不全"),
        ("陪同客户经理走访海鲜市场", "现场示范收款码开通", "时间安排太紧"),
        ("周复盘：一周督导小结", "问题清单有跟进", "下周重点是存量客户"),
    ];
    let mut written = 0;
    let mut write = |plan_id, day: i64, (summary, well, improve): (&str, &str, &str)| {
        let input = NewReview {
            id: None,
            reviewed_on: Some(today + Duration::days(day)),
            summary: summary.to_owned(),
            went_well: Some(well.to_owned()),
            to_improve: Some(improve.to_owned()),
        };
        let actor = manager.as_actor();
        written += 1;
        async move { state.db.run(move |conn| coaching::add_review(conn, &actor, plan_id, input)).await.map_err(describe) }
    };
    for (day, note) in [-26, -19, -12].into_iter().zip(notes) {
        write(plan.id, day, note).await?;
    }
    // Observation ended six days ago: the plan moved to practice then (the seed sets the date the
    // manager would have moved it on).
    let id = plan.id.to_string();
    state
        .db
        .run(move |conn| {
            let Some(mut row) = plan_store::find(conn, &id)? else { return Ok(()) };
            let version = row.version;
            row.phase = crate::domain::coaching_phase::Phase::Practice.as_str().to_owned();
            row.practice_started_on = Some(today - Duration::days(6));
            row.version += 1;
            plan_store::replace(conn, &row, version).map(|_| ())
        })
        .await?;
    for (day, note) in (-6..0).zip(notes.into_iter().skip(3)) {
        write(plan.id, day, note).await?;
    }
    Ok(written)
}

/// The supervision team at work: the demo supervisor's visits to three outlets over the last
/// days, each at the outlet's door and scored on the whole checklist with a review, and their
/// findings for the outlets' account managers — one overdue (it shows in that outlet's morning
/// report), one done, one still due. Returns the supervisions made.
pub async fn supervisions(state: &AppState, supervisor: &User, staff: &[(User, String)]) -> anyhow::Result<usize> {
    use crate::domain::supervisions::{
        self as supervision, ChecklistInput, FindingPatch, FindingStatus, NewFinding, NewSupervision, SupervisionItem,
    };
    use crate::store::org_units as unit_store;

    let today = Clock::new(crate::domain::calendar::DEFAULT_TIME_ZONE).today();
    let visits = [
        (
            "外海网点",
            5,
            [3, 2, 4, 3],
            "网点厅堂零售氛围好，但客群地图两周没更新",
            "下次先看客群地图数据再进网点",
            ("客群地图两周未更新", "补录市场摊主名单并标注已开户", -2),
        ),
        (
            "礼乐网点",
            3,
            [4, 4, 3, 4],
            "社区活动六步执行到位，复盘有数据",
            "活动后的线索跟进要落到人",
            ("活动线索未分配", "把上周亲子课的 21 条线索分配到客户经理", 2),
        ),
        (
            "会城网点",
            1,
            [2, 3, 2, 2],
            "重点客群管理制度还停留在纸面",
            "制度要和晨会结合，天天过",
            ("重点客群管理制度未上墙", "把小微客户分层维护制度贴到晨会室，晨会逐条过", 4),
        ),
    ];
    let notes = [
        "厅堂动线清晰，理财经理在岗，存量客户到访登记齐全",
        "客群地图已建，标注了联盟商户和空白区域",
        "两个客群项目在跑，进度表每日更新",
        "重点客群分层维护，有责任人",
    ];
    let mut made = 0;
    let thresholds = crate::domain::verification::Thresholds::default();
    for (outlet_name, days_ago, scores, worked, change, (title, detail, due)) in visits {
        let Some((owner, unit_id)) =
            staff.iter().find(|(_, unit)| unit == outlet_name).map(|(u, _)| (u.clone(), u.org_unit_id))
        else {
            continue;
        };
        let Some(unit_id) = unit_id else { continue };
        let door = state
            .db
            .run(move |conn| unit_store::find(conn, &unit_id.to_string()))
            .await?
            .and_then(|u| u.lat.zip(u.lon))
            .map(|(lat, lon)| crate::geo::LatLon { lat, lon });
        let Some(door) = door else { continue };
        let visited_at = (today - Duration::days(days_ago))
            .and_hms_opt(2, 30, 0)
            .map(|t| t.and_utc())
            .unwrap_or_else(chrono::Utc::now);
        let checklist = SupervisionItem::ALL
            .iter()
            .zip(scores)
            .zip(notes)
            .map(|((item, score), note)| ChecklistInput { item: *item, score, notes: Some(note.to_owned()) })
            .collect();
        let input = NewSupervision {
            id: None,
            org_unit_id: unit_id,
            project_id: None,
            location: crate::geo::LatLon { lat: door.lat + 0.0002, lon: door.lon + 0.0001 },
            accuracy_m: 15.0,
            visited_at,
            mock_location: Some(false),
            location_age_s: Some(8.0),
            checklist,
            review_worked: Some(worked.to_owned()),
            review_change: Some(change.to_owned()),
        };
        let actor = supervisor.as_actor();
        let created =
            state.db.run(move |conn| supervision::create(conn, &actor, &thresholds, input)).await.map_err(describe)?;
        let (Created::New(s) | Created::Existing(s)) = created;
        made += 1;
        let finding = NewFinding {
            id: None,
            title: title.to_owned(),
            detail: Some(detail.to_owned()),
            owner_id: owner.id,
            due_on: today + Duration::days(due),
        };
        let (actor, id) = (supervisor.as_actor(), s.id);
        let (created, _) =
            state.db.run(move |conn| supervision::add_finding(conn, &actor, id, finding)).await.map_err(describe)?;
        let (Created::New(f) | Created::Existing(f)) = created;
        if outlet_name == "礼乐网点" {
            // Done already: the owner assigned the leads the next morning.
            let patch = FindingPatch {
                status: Some(FindingStatus::Done),
                done_note: Some("21 条线索已分配，本周内首访".to_owned()),
                ..FindingPatch::default()
            };
            let actor = owner.as_actor();
            state.db.run(move |conn| supervision::update_finding(conn, &actor, f.id, patch)).await.map_err(describe)?;
        }
    }
    Ok(made)
}
