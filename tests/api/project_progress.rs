//! The figures of a project: progress against pace, the points ledger with its reversals, the
//! leaderboard and stars, the monitoring workbook and the morning-meeting report.

use calamine::{Data, Reader, Xlsx};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use outreach::domain::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Login, TestApp, assert_problem, json_ok, spawn_app};
use crate::leads::{create_lead, delete, lead_body, walk};
use crate::partners::{CENTRE, create as create_partner, partner_body};
use crate::projects::{assert_problem_status, create_project, day, local_today, project_path};

const EPS: f64 = 1e-6;

/// Noon local time `offset` days from today, as RFC 3339 with the +08:00 offset.
fn local_noon(offset: i64) -> String {
    format!("{}T12:00:00+08:00", day(offset))
}

/// A moment earlier today (local): halfway between local midnight and now.
fn earlier_today() -> String {
    let midnight = local_today().and_hms_opt(0, 0, 0).unwrap().and_utc() - Duration::hours(8);
    let now = Utc::now();
    (midnight + (now - midnight) / 2).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn visit(partner: &Value, lat: f64, at: &str, project: Option<&str>) -> Value {
    json!({
        "partner_id": partner["id"], "location": {"lat": lat, "lon": CENTRE.1, "accuracy_m": 15.0},
        "visited_at": at, "purpose": "relationship", "notes": "见了店长", "project_id": project
    })
}

async fn make_visit(app: &TestApp, token: &str, body: &Value, verified: bool) -> Value {
    let v = json_ok(app.post_json("/api/v1/visits", Some(token), body).await, 201).await;
    assert_eq!(v["verified"], verified, "{v}");
    v
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(v: &Value, expected: f64, what: &str) {
    assert!((num(v) - expected).abs() < EPS, "{what}: {v} ≠ {expected}");
}

/// Within a hundredth: for thirds, whose exactness `expected_figures_are_not_rounded` checks.
fn about(v: &Value, expected: f64, what: &str) {
    assert!((num(v) - expected).abs() < 0.006, "{what}: {v} ≠ {expected}");
}

fn metric<'a>(progress: &'a Value, name: &str) -> &'a Value {
    progress["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == name)
        .unwrap_or_else(|| panic!("no metric {name}: {progress}"))
}

fn member(row: &Value, user: Uuid) -> &Value {
    row["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == user.to_string())
        .unwrap_or_else(|| panic!("no member {user}: {row}"))
}

fn report_row(report: &Value, user: Uuid) -> &Value {
    report["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user_id"] == user.to_string())
        .unwrap_or_else(|| panic!("no row {user}: {report}"))
}

fn entry(list: &Value, user: Uuid) -> Option<&Value> {
    list["items"].as_array().unwrap().iter().find(|i| i["user_id"] == user.to_string())
}

/// The branch, its sub-branch manager and two account managers of outlet A1, a project over
/// today−9 ..= today+20, and what they did:
///
/// - am1: verified visits today (planning the next for tomorrow 10:00), 2 and 5 days ago, an
///   unverified one (5 km off) 4 days ago, all linked; two linked leads, one converted (30 000);
/// - am2: one verified visit two days before the project started.
pub struct Fixture {
    pub sm: Login,
    pub am1: Login,
    pub am2: Login,
    pub project: Value,
    pub path: String,
    /// am1's verified visits: today, today−2, today−5.
    verified: Vec<Value>,
    converted: Value,
    /// am1's other lead, left new.
    plain: Value,
}

fn project_body(am1: Uuid, am2: Uuid) -> Value {
    json!({
        "name": "商户客群提升", "segment": "outreach", "portrait_tags": ["个体户"],
        "product_package": ["收款码", "经营贷"], "service_package": ["上门服务"],
        "starts_on": day(-9), "ends_on": day(20), "lead_id": am1, "member_ids": [am1, am2],
        "targets": [
            {"metric": "visits", "total": 30, "split": {am1.to_string(): 15, am2.to_string(): 15}},
            {"metric": "verified_visits", "total": 20},
            {"metric": "new_leads", "total": 10},
            {"metric": "conversions", "total": 4},
            {"metric": "converted_amount", "total": 100000}
        ],
        "points_rules": [
            {"action": "verified_visit", "points": 10},
            {"action": "new_lead", "points": 5},
            {"action": "conversion", "points": 50}
        ]
    })
}

async fn activate(app: &TestApp, token: &str, project: Value) -> Value {
    if project["status"] == "active" {
        return project;
    }
    let body = json!({"status": "active", "version": project["version"]});
    let active = json_ok(app.patch_json(&project_path(&project), Some(token), &body).await, 200).await;
    assert_eq!(active["status"], "active");
    active
}

pub async fn fixture(app: &TestApp) -> Fixture {
    let sm = app.login_as(Role::SubBranchManager).await;
    let am1 = app.login_as(Role::AccountManager).await;
    let am2 = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let project = create_project(app, &sm.token, &project_body(am1.id, am2.id)).await;
    let project = activate(app, &sm.token, project).await;
    let path = project_path(&project);
    let pid = project["id"].as_str().unwrap().to_owned();
    let pid = Some(pid.as_str());

    let shop = create_partner(app, &am1.token, &partner_body("陈记杂货", CENTRE.0, CENTRE.1)).await;
    let mut today = visit(&shop, CENTRE.0, &earlier_today(), pid);
    today["next_visit_at"] = json!(format!("{}T10:00:00+08:00", day(1)));
    today["next_step"] = json!("带收款码资料");
    let mut verified = vec![make_visit(app, &am1.token, &today, true).await];
    for offset in [-2, -5] {
        verified.push(make_visit(app, &am1.token, &visit(&shop, CENTRE.0, &local_noon(offset), pid), true).await);
    }
    // 5 km north of the shop: outside its geofence.
    make_visit(app, &am1.token, &visit(&shop, CENTRE.0 + 0.045, &local_noon(-4), pid), false).await;

    let other = create_partner(app, &am2.token, &partner_body("李记粮油", CENTRE.0, CENTRE.1)).await;
    let before = visit(&other, CENTRE.0, &local_noon(-11), pid);
    let response = app.post_json("/api/v1/visits", Some(&am2.token), &before).await;
    if response.status() == 422 {
        // Linking outside the period is refused: record it unlinked; it must not count either.
        make_visit(app, &am2.token, &visit(&other, CENTRE.0, &local_noon(-11), None), true).await;
    } else {
        assert_eq!(json_ok(response, 201).await["verified"], true);
    }

    let mut lead = lead_body("王老板", "13800138001");
    lead["project_id"] = json!(project["id"]);
    let plain = create_lead(app, &am1.token, &lead).await;
    lead["name"] = json!("刘老板");
    lead["phone"] = json!("13800138002");
    let second = create_lead(app, &am1.token, &lead).await;
    let converted = walk(
        app,
        &am1.token,
        &second,
        &[
            json!({"status": "contacted"}),
            json!({"status": "qualified"}),
            json!({"status": "converted", "converted_amount": 30000}),
        ],
    )
    .await;
    Fixture { sm, am1, am2, project, path, verified, converted, plain }
}

async fn progress(app: &TestApp, fx: &Fixture, date: &str) -> Value {
    json_ok(app.get(format!("{}/progress?date={date}", fx.path), Some(&fx.sm.token)).await, 200).await
}

/// Points am1 earned from the fixture within `from..=to` (local dates), taking each action on
/// the day it happened: visits on their `visited_at`, leads and the conversion today.
fn am1_points_between(from: NaiveDate, to: NaiveDate, visit_days: &[i64]) -> (i64, i64) {
    let today = local_today();
    let inside = |d: NaiveDate| from <= d && d <= to;
    let visits = visit_days.iter().filter(|o| inside(today + Duration::days(**o))).count() as i64 * 10;
    let rest = if inside(today) { 2 * 5 + 50 } else { 0 };
    (visits + rest, visits)
}

#[tokio::test]
async fn progress_counts_what_is_linked_inside_the_period_against_a_linear_pace() {
    let app = crate::helpers::spawn_history_app().await;
    let fx = fixture(&app).await;
    let p = progress(&app, &fx, &day(0)).await;
    assert_eq!(p["project_id"], fx.project["id"]);
    assert_eq!(p["date"], day(0));
    assert_eq!((p["starts_on"].as_str(), p["ends_on"].as_str()), (Some(day(-9).as_str()), Some(day(20).as_str())));
    assert_eq!(p["time_zone"], "Asia/Shanghai");
    assert_eq!(
        (p["days_total"].as_i64(), p["days_elapsed"].as_i64(), p["days_remaining"].as_i64()),
        (Some(30), Some(10), Some(20))
    );
    let standard: Vec<&str> = p["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["metric"] != "manual")
        .map(|m| m["metric"].as_str().unwrap())
        .collect();
    for name in [
        "visits",
        "verified_visits",
        "events_held",
        "registrations",
        "checkins",
        "new_leads",
        "conversions",
        "new_customers",
        "converted_amount",
    ] {
        assert!(standard.contains(&name), "{name} missing: {standard:?}");
    }

    let visits = metric(&p, "visits");
    close(&visits["target"], 30.0, "visits target");
    close(&visits["actual"], 4.0, "visits actual: am1's four linked visits; am2's before the start is not counted");
    close(&visits["expected"], 10.0, "visits expected");
    close(&visits["gap"], 6.0, "visits gap");
    close(&visits["needed_daily"], 1.3, "visits needed daily");
    assert_eq!(visits["on_track"], false);
    let am1 = member(visits, fx.am1.id);
    close(&am1["target"], 15.0, "am1 target");
    close(&am1["actual"], 4.0, "am1 actual");
    close(&am1["expected"], 5.0, "am1 expected");
    close(&am1["gap"], 1.0, "am1 gap");
    close(&am1["needed_daily"], 0.55, "am1 needed daily");
    assert_eq!(am1["on_track"], false);
    let am2 = member(visits, fx.am2.id);
    close(&am2["target"], 15.0, "am2 target");
    close(&am2["actual"], 0.0, "am2 actual");
    close(&am2["expected"], 5.0, "am2 expected");
    close(&am2["needed_daily"], 0.75, "am2 needed daily");

    let verified = metric(&p, "verified_visits");
    close(&verified["target"], 20.0, "verified target");
    close(&verified["actual"], 3.0, "verified actual");
    about(&verified["expected"], 20.0 / 3.0, "verified expected");
    about(&verified["gap"], 20.0 / 3.0 - 3.0, "verified gap");
    close(&verified["needed_daily"], 0.85, "verified needed daily");
    close(&member(verified, fx.am1.id)["actual"], 3.0, "am1 verified");

    let leads = metric(&p, "new_leads");
    close(&leads["actual"], 2.0, "new leads");
    about(&leads["expected"], 10.0 / 3.0, "new leads expected");
    close(&member(leads, fx.am1.id)["actual"], 2.0, "am1 new leads");
    close(&member(leads, fx.am2.id)["actual"], 0.0, "am2 new leads");
    let conversions = metric(&p, "conversions");
    close(&conversions["actual"], 1.0, "conversions");
    close(&conversions["needed_daily"], 3.0 / 20.0, "conversions needed daily");
    close(&metric(&p, "new_customers")["actual"], 1.0, "new customers: the lead is not of the existing segment");
    let amount = metric(&p, "converted_amount");
    close(&amount["actual"], 30000.0, "converted amount");
    about(&amount["expected"], 100000.0 / 3.0, "converted amount expected");
    close(&amount["needed_daily"], 3500.0, "converted amount needed daily");
    assert_eq!(amount["on_track"], false);

    let events = metric(&p, "events_held");
    close(&events["actual"], 0.0, "events held");
    for field in ["target", "expected", "gap", "needed_daily", "on_track"] {
        assert_eq!(events[field], Value::Null, "events_held {field} without a target");
    }

    // Three days ago: only what happened by then (the visits 4 and 5 days ago).
    let earlier = progress(&app, &fx, &day(-3)).await;
    assert_eq!((earlier["days_elapsed"].as_i64(), earlier["days_remaining"].as_i64()), (Some(7), Some(23)));
    close(&metric(&earlier, "visits")["actual"], 2.0, "visits by today−3");
    close(&metric(&earlier, "visits")["expected"], 7.0, "expected by today−3");
    close(&metric(&earlier, "verified_visits")["actual"], 1.0, "verified by today−3");
    close(&metric(&earlier, "new_leads")["actual"], 0.0, "no lead yet by today−3");
    // After the end: the whole period, no day left.
    let after = progress(&app, &fx, &day(25)).await;
    assert_eq!((after["days_elapsed"].as_i64(), after["days_remaining"].as_i64()), (Some(30), Some(0)));
    let visits = metric(&after, "visits");
    close(&visits["actual"], 4.0, "visits at the end");
    close(&visits["expected"], 30.0, "expected at the end");
    assert_eq!(visits["needed_daily"], Value::Null, "no day remains");
    // Before the start: nothing elapsed.
    let before = progress(&app, &fx, &day(-12)).await;
    assert_eq!((before["days_elapsed"].as_i64(), before["days_remaining"].as_i64()), (Some(0), Some(30)));
    close(&metric(&before, "visits")["actual"], 0.0, "visits before the start");

    // Members see it too; others do not.
    json_ok(app.get(format!("{}/progress", fx.path), Some(&fx.am2.token)).await, 200).await;
    let outsider = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    assert_problem_status(app.get(format!("{}/progress", fx.path), Some(&outsider.token)).await, 404).await;
}

#[tokio::test]
async fn expected_figures_are_not_rounded() {
    let app = spawn_app().await;
    let sm = app.login_as(Role::SubBranchManager).await;
    let am1 = app.login_as(Role::AccountManager).await;
    let am2 = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let mut body = project_body(am1.id, am2.id);
    body["targets"] = json!([
        {"metric": "verified_visits", "total": 20, "split": {am1.id.to_string(): 7}},
        {"metric": "converted_amount", "total": 100000}
    ]);
    let project = activate(&app, &sm.token, create_project(&app, &sm.token, &body).await).await;
    let p =
        json_ok(app.get(format!("{}/progress?date={}", project_path(&project), day(0)), Some(&sm.token)).await, 200)
            .await;
    // expected = target × days_elapsed / days_total, with 10 of 30 days elapsed.
    let verified = metric(&p, "verified_visits");
    close(&verified["expected"], 20.0 / 3.0, "verified expected");
    close(&verified["gap"], 20.0 / 3.0, "verified gap");
    close(&member(verified, am1.id)["expected"], 7.0 / 3.0, "am1 verified expected");
    close(&metric(&p, "converted_amount")["expected"], 100000.0 / 3.0, "converted amount expected");
}

#[tokio::test]
async fn an_invalidated_source_is_reversed_in_the_ledger() {
    let app = crate::helpers::spawn_history_app().await;
    let fx = fixture(&app).await;
    let ledger_path = format!("{}/points?user_id={}", fx.path, fx.am1.id);
    let ledger = json_ok(app.get(&ledger_path, Some(&fx.sm.token)).await, 200).await;
    let items = ledger["items"].as_array().unwrap();
    let sum = |items: &[Value]| items.iter().map(|e| e["points"].as_i64().unwrap()).sum::<i64>();
    assert_eq!(sum(items), 3 * 10 + 2 * 5 + 50, "{ledger}");
    let mut actions: Vec<(&str, i64)> =
        items.iter().map(|e| (e["action"].as_str().unwrap(), e["points"].as_i64().unwrap())).collect();
    actions.sort();
    assert_eq!(
        actions,
        [
            ("conversion", 50),
            ("new_lead", 5),
            ("new_lead", 5),
            ("verified_visit", 10),
            ("verified_visit", 10),
            ("verified_visit", 10)
        ]
    );
    assert!(items.iter().all(|e| e["user_id"] == fx.am1.id.to_string() && e["reverses_id"].is_null()), "{ledger}");
    let conversion = items.iter().find(|e| e["action"] == "conversion").unwrap();
    assert_eq!(conversion["source_id"], fx.converted["id"]);

    let month = |date: String| format!("{}/leaderboard?period=month&date={date}", fx.path);
    let board = json_ok(app.get(month(day(0)), Some(&fx.sm.token)).await, 200).await;
    let before = entry(&board, fx.am1.id).expect("am1 on the board")["points"].as_i64().unwrap();

    // The visit made today is deleted: its points are taken back.
    let gone = &fx.verified[0];
    let response = delete(&app, &format!("/api/v1/visits/{}", gone["id"].as_str().unwrap()), &fx.am1.token).await;
    assert_eq!(response.status(), 204);
    let ledger = json_ok(app.get(&ledger_path, Some(&fx.sm.token)).await, 200).await;
    let items = ledger["items"].as_array().unwrap();
    assert_eq!(items.len(), 7, "append-only: the original stays, a reversal is added: {ledger}");
    assert_eq!(sum(items), 3 * 10 + 2 * 5 + 50 - 10);
    let reversal = items.iter().find(|e| e["points"].as_i64() == Some(-10)).unwrap_or_else(|| panic!("{ledger}"));
    let original = items
        .iter()
        .find(|e| e["id"] == reversal["reverses_id"])
        .unwrap_or_else(|| panic!("the reversal points at an entry: {ledger}"));
    assert_eq!((original["points"].as_i64(), original["action"].as_str()), (Some(10), Some("verified_visit")));
    assert_eq!(original["source_id"], gone["id"]);
    assert_eq!(
        (reversal["action"].clone(), reversal["source_id"].clone()),
        (original["action"].clone(), gone["id"].clone())
    );

    let board = json_ok(app.get(month(day(0)), Some(&fx.sm.token)).await, 200).await;
    assert_eq!(entry(&board, fx.am1.id).unwrap()["points"].as_i64().unwrap(), before - 10, "{board}");
    let p = progress(&app, &fx, &day(0)).await;
    close(&metric(&p, "verified_visits")["actual"], 2.0, "verified after the deletion");
    close(&metric(&p, "visits")["actual"], 3.0, "visits after the deletion");

    // The member reads their ledger; someone off the team does not.
    json_ok(app.get(&ledger_path, Some(&fx.am1.token)).await, 200).await;

    // A conversion reverted by a manager, a deleted lead: reversed; converted again: earned again.
    let lead_path = |lead: &Value| format!("/api/v1/leads/{}", lead["id"].as_str().unwrap());
    let reverted = app.patch_json(&lead_path(&fx.converted), Some(&fx.sm.token), &json!({"status": "qualified"})).await;
    json_ok(reverted, 200).await;
    assert_eq!(delete(&app, &lead_path(&fx.plain), &fx.am1.token).await.status(), 204);
    let ledger = json_ok(app.get(&ledger_path, Some(&fx.sm.token)).await, 200).await;
    let items = ledger["items"].as_array().unwrap();
    assert_eq!(sum(items), 3 * 10 + 2 * 5 + 50 - 10 - 50 - 5, "{ledger}");
    for (action, points) in [("conversion", -50), ("new_lead", -5)] {
        let reversal = items
            .iter()
            .find(|e| e["action"] == action && e["points"].as_i64() == Some(points))
            .unwrap_or_else(|| panic!("no {action} reversal: {ledger}"));
        let original = items.iter().find(|e| e["id"] == reversal["reverses_id"]).expect("its original");
        assert_eq!(original["points"].as_i64(), Some(-points));
    }
    let p = progress(&app, &fx, &day(0)).await;
    close(&metric(&p, "conversions")["actual"], 0.0, "conversions after the revert");
    close(&metric(&p, "new_leads")["actual"], 1.0, "new leads after the deletion");
    let again = json!({"status": "converted", "converted_amount": 20000});
    json_ok(app.patch_json(&lead_path(&fx.converted), Some(&fx.am1.token), &again).await, 200).await;
    let ledger = json_ok(app.get(&ledger_path, Some(&fx.sm.token)).await, 200).await;
    assert_eq!(sum(ledger["items"].as_array().unwrap()), 3 * 10 + 2 * 5 + 50 - 10 - 50 - 5 + 50, "{ledger}");
    let p = progress(&app, &fx, &day(0)).await;
    close(&metric(&p, "converted_amount")["actual"], 20000.0, "the new conversion's amount");
    let outsider = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    assert_problem_status(app.get(&ledger_path, Some(&outsider.token)).await, 404).await;
}

#[tokio::test]
async fn the_leaderboard_ranks_the_team_by_points_and_names_the_star() {
    let app = crate::helpers::spawn_history_app().await;
    let fx = fixture(&app).await;
    let today = local_today();
    let visit_days = [0, -2, -5];
    let board = |period: &str, date: String| format!("{}/leaderboard?period={period}&date={date}", fx.path);

    let month_start = today.with_day(1).unwrap();
    let month_end = (month_start + Duration::days(32)).with_day(1).unwrap() - Duration::days(1);
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    for (period, from, to) in
        [("month", month_start, month_end), ("week", monday, monday + Duration::days(6)), ("day", today, today)]
    {
        let b = json_ok(app.get(board(period, day(0)), Some(&fx.sm.token)).await, 200).await;
        assert_eq!(
            (b["project_id"].clone(), b["period"].as_str(), b["date"].as_str()),
            (fx.project["id"].clone(), Some(period), Some(day(0).as_str()))
        );
        assert!(b["from"].as_str().unwrap().starts_with(&from.to_string()), "{period} from: {b}");
        assert!(b["to"].as_str().unwrap().starts_with(&to.to_string()), "{period} to: {b}");
        let items = b["items"].as_array().unwrap();
        assert_eq!(items.len(), 2, "every team member: {b}");
        let ranks: Vec<i64> = items.iter().map(|i| i["rank"].as_i64().unwrap()).collect();
        assert_eq!(ranks, [1, 2]);
        let (points, visit_points) = am1_points_between(from, to, &visit_days);
        let first = &items[0];
        assert_eq!(first["user_id"], fx.am1.id.to_string(), "{period}: {b}");
        assert_eq!(first["points"].as_i64(), Some(points), "{period}: {b}");
        let breakdown = &first["breakdown"];
        assert_eq!(breakdown["verified_visit"].as_i64().unwrap_or(0), visit_points, "{period}: {b}");
        assert_eq!((breakdown["new_lead"].as_i64(), breakdown["conversion"].as_i64()), (Some(10), Some(50)), "{b}");
        assert_eq!(items[1]["user_id"], fx.am2.id.to_string());
        assert_eq!(
            (b["star"]["user_id"].clone(), b["star"]["points"].as_i64()),
            (first["user_id"].clone(), Some(points))
        );
    }
    // A day of the period on which nobody earned anything has no star.
    let quiet = json_ok(app.get(board("day", day(-1)), Some(&fx.sm.token)).await, 200).await;
    assert_eq!(quiet["star"], Value::Null, "{quiet}");
    assert!(quiet["items"].as_array().unwrap().iter().all(|i| i["points"] == 0), "{quiet}");
    for bad in [board("year", day(0)), format!("{}/leaderboard?period=day&date=yesterday", fx.path)] {
        assert_problem_status(app.get(&bad, Some(&fx.sm.token)).await, 422).await;
    }
}

#[tokio::test]
async fn a_tie_goes_to_whoever_reached_the_total_first() {
    let app = spawn_app().await;
    let sm = app.login_as(Role::SubBranchManager).await;
    let am1 = app.login_as(Role::AccountManager).await;
    let am2 = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let mut body = project_body(am1.id, am2.id);
    body["targets"] = json!([{"metric": "new_leads", "total": 10}]);
    body["points_rules"] = json!([{"action": "new_lead", "points": 5}]);
    let project = activate(&app, &sm.token, create_project(&app, &sm.token, &body).await).await;
    let path = project_path(&project);
    // The one with the greater id earns first, so the user id alone would rank them the other way.
    let (early, late) = if am1.id > am2.id { (&am1, &am2) } else { (&am2, &am1) };
    for (who, phone) in [(early, "13800138011"), (late, "13800138012")] {
        let mut lead = lead_body("客户", phone);
        lead["project_id"] = json!(project["id"]);
        create_lead(&app, &who.token, &lead).await;
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }
    for period in ["day", "week", "month"] {
        let b =
            json_ok(app.get(format!("{path}/leaderboard?period={period}&date={}", day(0)), Some(&sm.token)).await, 200)
                .await;
        let rows: Vec<(i64, String, i64)> = b["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (i["rank"].as_i64().unwrap(), i["user_id"].as_str().unwrap().to_owned(), i["points"].as_i64().unwrap())
            })
            .collect();
        assert_eq!(rows, [(1, early.id.to_string(), 5), (2, late.id.to_string(), 5)], "{period}: {b}");
        assert_eq!(b["star"]["user_id"], early.id.to_string(), "{b}");
    }
    // Asked again, the same order.
    let again =
        json_ok(app.get(format!("{path}/leaderboard?period=day&date={}", day(0)), Some(&sm.token)).await, 200).await;
    assert_eq!(again["items"][0]["user_id"], early.id.to_string());
}

#[tokio::test]
async fn a_daily_cap_limits_what_one_member_earns_from_an_action_in_a_day() {
    let app = spawn_app().await;
    let sm = app.login_as(Role::SubBranchManager).await;
    let am1 = app.login_as(Role::AccountManager).await;
    let am2 = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let mut body = project_body(am1.id, am2.id);
    body["points_rules"] = json!([{"action": "verified_visit", "points": 10, "daily_cap": 15}]);
    let project = activate(&app, &sm.token, create_project(&app, &sm.token, &body).await).await;
    let pid = project["id"].as_str().unwrap();
    let shop = create_partner(&app, &am1.token, &partner_body("陈记杂货", CENTRE.0, CENTRE.1)).await;
    for hour in [9, 10, 11] {
        let at = format!("{}T{hour:02}:00:00+08:00", day(-1));
        make_visit(&app, &am1.token, &visit(&shop, CENTRE.0, &at, Some(pid)), true).await;
    }
    let ledger =
        json_ok(app.get(format!("{}/points?user_id={}", project_path(&project), am1.id), Some(&sm.token)).await, 200)
            .await;
    let mut points: Vec<i64> =
        ledger["items"].as_array().unwrap().iter().map(|e| e["points"].as_i64().unwrap()).collect();
    points.sort();
    assert_eq!(points, [5, 10], "10, then what the cap leaves, then nothing: {ledger}");
}

#[tokio::test]
async fn stars_name_the_best_of_each_period_newest_first() {
    let app = crate::helpers::spawn_history_app().await;
    let fx = fixture(&app).await;
    let stars = json_ok(app.get(format!("{}/stars?period=day", fx.path), Some(&fx.sm.token)).await, 200).await;
    assert_eq!(stars["period"], "day");
    let items = stars["items"].as_array().unwrap();
    assert!(!items.is_empty(), "{stars}");
    for star in items {
        assert!(star["user_id"].is_string() && star["from"].is_string() && star["to"].is_string(), "{star}");
        assert!(star["points"].as_i64().unwrap() > 0, "{star}");
    }
    assert_eq!(items[0]["user_id"], fx.am1.id.to_string(), "{stars}");
    assert!(items[0]["from"].as_str().unwrap().starts_with(&day(0)), "newest first: {stars}");
    let froms: Vec<&str> = items.iter().map(|s| s["from"].as_str().unwrap()).collect();
    assert!(froms.windows(2).all(|w| w[0] > w[1]), "{froms:?}");
    assert!(froms.iter().all(|f| *f >= day(-9).as_str()), "only days of the project: {froms:?}");
    for period in ["week", "month"] {
        let s = json_ok(app.get(format!("{}/stars?period={period}", fx.path), Some(&fx.sm.token)).await, 200).await;
        assert_eq!(s["items"][0]["user_id"], fx.am1.id.to_string(), "{period}: {s}");
    }
    assert_problem_status(app.get(format!("{}/stars?period=year", fx.path), Some(&fx.sm.token)).await, 422).await;
}

fn cell_number(cell: &Data) -> Option<f64> {
    match cell {
        Data::Int(i) => Some(*i as f64),
        Data::Float(f) => Some(*f),
        Data::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[tokio::test]
async fn the_monitoring_workbook_and_its_csv_tables() {
    let app = crate::helpers::spawn_history_app().await;
    let fx = fixture(&app).await;
    let p = progress(&app, &fx, &day(0)).await;
    let actual = num(&metric(&p, "visits")["actual"]);

    let response = app.get(format!("{}/report.xlsx?date={}", fx.path, day(0)), Some(&fx.sm.token)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let bytes = response.bytes().await.unwrap().to_vec();
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(wb.sheet_names(), ["Progress", "Members", "Daily", "Leaderboard", "Milestones"]);
    let sheet = wb.worksheet_range("Progress").unwrap();
    assert_eq!(sheet.start(), Some((0, 0)), "the header row is row 1");
    let header: Vec<String> = sheet.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    assert!(header.len() >= 3, "{header:?}");
    let row = sheet
        .rows()
        .find(|r| matches!(r.first(), Some(Data::String(s)) if s == "visits"))
        .unwrap_or_else(|| panic!("no visits row in Progress"));
    assert_eq!(cell_number(&row[1]), Some(30.0), "Target: {row:?}");
    assert_eq!(cell_number(&row[2]), Some(actual), "Actual: {row:?}");
    for name in ["Members", "Daily", "Leaderboard", "Milestones"] {
        let sheet = wb.worksheet_range(name).unwrap();
        assert!(sheet.rows().next().is_some_and(|r| !r.is_empty()), "{name} has a header row");
    }
    let daily = wb.worksheet_range("Daily").unwrap();
    assert!(daily.height() >= 11, "a header and the ten days of the period so far: {}", daily.height());

    let csv = app.get(format!("{}/report/progress.csv?date={}", fx.path, day(0)), Some(&fx.sm.token)).await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let body = csv.bytes().await.unwrap();
    assert!(body.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 BOM");
    assert!(String::from_utf8(body[3..].to_vec()).unwrap().contains("visits"));
    assert_problem_status(app.get(format!("{}/report/gossip.csv", fx.path), Some(&fx.sm.token)).await, 404).await;
    let outsider = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    assert_problem_status(app.get(format!("{}/report.xlsx", fx.path), Some(&outsider.token)).await, 404).await;
    for table in ["members", "daily", "leaderboard", "milestones"] {
        for query in [format!("?date={}", day(0)), String::new()] {
            let r = app.get(format!("{}/report/{table}.csv{query}", fx.path), Some(&fx.sm.token)).await;
            let status = r.status();
            let body = r.bytes().await.unwrap();
            assert_eq!(status, 200, "{table}.csv{query}: {}", String::from_utf8_lossy(&body));
            assert!(body.starts_with(&[0xEF, 0xBB, 0xBF]), "{table}: UTF-8 BOM");
        }
    }
}

#[tokio::test]
async fn the_morning_report_shows_yesterday_and_todays_plan() {
    let app = crate::helpers::spawn_history_app().await;
    let fx = fixture(&app).await;
    let report =
        json_ok(app.get(format!("/api/v1/reports/daily?date={}", day(1)), Some(&fx.sm.token)).await, 200).await;
    assert_eq!(
        (report["date"].as_str(), report["reported_day"].as_str()),
        (Some(day(1).as_str()), Some(day(0).as_str()))
    );
    assert_eq!(report["org_unit_id"], app.tree.sub_a1.to_string());
    let row = |user: Uuid| report_row(&report, user);
    let am1 = row(fx.am1.id);
    assert_eq!(am1["org_unit_id"], app.tree.outlet_a1.to_string());
    for (field, expected) in
        [("visits", 1.0), ("verified_visits", 1.0), ("events_held", 0.0), ("new_leads", 2.0), ("conversions", 1.0)]
    {
        close(&am1[field], expected, field);
    }
    close(&am1["converted_amount"], 30000.0, "converted amount");
    close(&am1["points"], 10.0 + 2.0 * 5.0 + 50.0, "points earned that day");
    let planned = am1["planned_visits"].as_array().unwrap();
    assert_eq!(planned.len(), 1, "{am1}");
    let plan = &planned[0];
    assert_eq!(plan["visit_id"], fx.verified[0]["id"]);
    assert_eq!(plan["partner_id"], fx.verified[0]["partner_id"]);
    assert_eq!(plan["partner_name"], "陈记杂货");
    assert_eq!(plan["next_step"], "带收款码资料");
    assert!(plan["next_visit_at"].is_string(), "{plan}");
    let am2 = row(fx.am2.id);
    close(&am2["visits"], 0.0, "am2 did not visit that day");
    assert_eq!(am2["planned_visits"], json!([]));
    row(fx.sm.id);

    // The day before: am1's plan is not for then, and nothing happened the day before that.
    let today = json_ok(app.get(format!("/api/v1/reports/daily?date={}", day(0)), Some(&fx.sm.token)).await, 200).await;
    let am1_today =
        today["members"].as_array().unwrap().iter().find(|m| m["user_id"] == fx.am1.id.to_string()).unwrap();
    close(&am1_today["visits"], 0.0, "no visit on today−1");
    assert_eq!(am1_today["planned_visits"], json!([]));

    // An account manager sees only their own row.
    let own = json_ok(app.get(format!("/api/v1/reports/daily?date={}", day(1)), Some(&fx.am1.token)).await, 200).await;
    let users: Vec<&Value> = own["members"].as_array().unwrap().iter().map(|m| &m["user_id"]).collect();
    assert_eq!(users, [&json!(fx.am1.id.to_string())]);
}

#[tokio::test]
async fn event_work_counts_for_the_project_and_earns_points() {
    let app = spawn_app().await;
    let sm = app.login_as(Role::SubBranchManager).await;
    let am1 = app.login_as(Role::AccountManager).await;
    let am2 = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let mut body = project_body(am1.id, am2.id);
    body["targets"] = json!([
        {"metric": "events_held", "total": 3},
        {"metric": "registrations", "total": 30},
        {"metric": "checkins", "total": 20},
        {"metric": "new_leads", "total": 10}
    ]);
    body["points_rules"] = json!([
        {"action": "event_step_completed", "points": 5},
        {"action": "checkin", "points": 1},
        {"action": "new_lead", "points": 2}
    ]);
    let project = activate(&app, &sm.token, create_project(&app, &sm.token, &body).await).await;
    let school = create_partner(&app, &am1.token, &partner_body("江门一中", CENTRE.0, CENTRE.1)).await;
    let starts_at = (Utc::now() - Duration::hours(1)).to_rfc3339();
    let event = json!({
        "partner_id": school["id"], "project_id": project["id"], "title": "亲子财商小课堂", "theme": "parent_child",
        "starts_at": starts_at, "ends_at": (Utc::now() + Duration::hours(2)).to_rfc3339(),
        "venue": "礼堂", "capacity": 10, "registration_deadline": (Utc::now() + Duration::hours(1)).to_rfc3339()
    });
    let event = json_ok(app.post_json("/api/v1/events", Some(&am1.token), &event).await, 201).await;
    assert_eq!(event["project_id"], project["id"]);
    let code = event["registration_code"].as_str().unwrap();
    let mut tickets = Vec::new();
    for k in 0..3 {
        let reg = json!({"name": format!("家长{k}"), "phone": format!("1390013900{k}"), "consent": true});
        let t =
            json_ok(app.post_json(&format!("/api/v1/public/events/{code}/registrations"), None, &reg).await, 201).await;
        tickets.push(t["ticket_code"].as_str().unwrap().to_owned());
    }
    let event_path = format!("/api/v1/events/{}", event["id"].as_str().unwrap());
    for ticket in &tickets[..2] {
        json_ok(
            app.post_json(&format!("{event_path}/checkins"), Some(&am1.token), &json!({"ticket_code": ticket})).await,
            200,
        )
        .await;
    }
    // The sub-branch manager lends a hand with the plan: it counts, but a manager off the team earns nothing.
    json_ok(app.post_json(&format!("{event_path}/steps/plan/complete"), Some(&sm.token), &json!({})).await, 200).await;
    for step in ["invite", "prepare", "host"] {
        json_ok(app.post_json(&format!("{event_path}/steps/{step}/complete"), Some(&am1.token), &json!({})).await, 200)
            .await;
    }

    let p =
        json_ok(app.get(format!("{}/progress?date={}", project_path(&project), day(0)), Some(&sm.token)).await, 200)
            .await;
    for (name, actual) in [("events_held", 1.0), ("registrations", 3.0), ("checkins", 2.0), ("new_leads", 2.0)] {
        close(&metric(&p, name)["actual"], actual, name);
        close(&member(metric(&p, name), am1.id)["actual"], actual, name);
    }
    // Three steps, two check-ins, two leads made by the check-ins: 3×5 + 2×1 + 2×2.
    let board = json_ok(
        app.get(format!("{}/leaderboard?period=day&date={}", project_path(&project), day(0)), Some(&sm.token)).await,
        200,
    )
    .await;
    let mine = entry(&board, am1.id).unwrap();
    assert_eq!(mine["points"], 21, "{board}");
    assert_eq!(mine["breakdown"], json!({"event_step_completed": 15, "checkin": 2, "new_lead": 4}));
    assert!(entry(&board, sm.id).is_none(), "only the team ranks: {board}");
    // Editing a completed step's checklist earns nothing more.
    let checklist = json!({"checklist": [{"item": "场地确认", "done": true}]});
    json_ok(app.patch_json(&format!("{event_path}/steps/plan"), Some(&am1.token), &checklist).await, 200).await;
    let again = json_ok(
        app.get(format!("{}/leaderboard?period=day&date={}", project_path(&project), day(0)), Some(&sm.token)).await,
        200,
    )
    .await;
    assert_eq!(entry(&again, am1.id).unwrap()["points"], 21);
    // An event can only be linked to a project its owner can see.
    let stray = json!({
        "partner_id": school["id"], "project_id": Uuid::new_v4(), "title": "反诈讲座", "theme": "anti_fraud",
        "starts_at": (Utc::now() + Duration::days(3)).to_rfc3339(),
        "ends_at": (Utc::now() + Duration::days(3) + Duration::hours(2)).to_rfc3339(), "venue": "礼堂", "capacity": 10
    });
    crate::helpers::assert_problem(app.post_json("/api/v1/events", Some(&am1.token), &stray).await, 404, "not_found")
        .await;
}

#[tokio::test]
async fn a_visit_that_turns_unverified_gives_its_points_back_and_earns_them_again_when_cleared() {
    use crate::photos::{Facts, local_time, photo, upload, visit_at_partner};
    // The visit is stamped ten minutes ago: just after midnight in Beijing that is still yesterday.
    let visit_day =
        (chrono::Utc::now() - chrono::Duration::minutes(10) + chrono::Duration::hours(8)).date_naive().to_string();
    let app = spawn_app().await;
    let sm = app.login_as(Role::SubBranchManager).await;
    let am1 = app.login_as(Role::AccountManager).await;
    let am2 = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let project = activate(&app, &sm.token, create_project(&app, &sm.token, &project_body(am1.id, am2.id)).await).await;
    // No project_id sent: am1 is on exactly one running project, so the visit counts for it.
    let v = visit_at_partner(&app, &am1.token).await;
    assert_eq!((v["verified"].clone(), v["project_id"].clone()), (json!(true), project["id"].clone()), "{v}");
    let vid = v["id"].as_str().unwrap();
    let ledger = format!("{}/points?user_id={}", project_path(&project), am1.id);
    let points =
        |l: &Value| l["items"].as_array().unwrap().iter().map(|e| e["points"].as_i64().unwrap()).collect::<Vec<_>>();
    assert_eq!(points(&json_ok(app.get(&ledger, Some(&sm.token)).await, 200).await), [10]);

    let far = Facts { gps: Some((CENTRE.0 + 0.05, CENTRE.1)), taken: Some(local_time(60 * 30)), ..Facts::default() };
    let uploaded = json_ok(upload(&app, &am1.token, vid, photo(32, 32, &far), "image/jpeg").await, 201).await;
    assert_eq!(uploaded["visit_verification"]["verified"], false);
    let after = json_ok(app.get(&ledger, Some(&sm.token)).await, 200).await;
    assert_eq!(points(&after), [10, -10], "{after}");
    assert_eq!(after["items"][1]["reverses_id"], after["items"][0]["id"]);
    assert_eq!(after["items"][1]["source_id"], vid);
    let p =
        json_ok(app.get(format!("{}/progress?date={}", project_path(&project), day(0)), Some(&sm.token)).await, 200)
            .await;
    close(&metric(&p, "visits")["actual"], 1.0, "the visit still counts as a visit");
    close(&metric(&p, "verified_visits")["actual"], 0.0, "but no longer as a verified one");

    let gone =
        app.client.delete(app.url(uploaded["url"].as_str().unwrap())).bearer_auth(&am1.token).send().await.unwrap();
    assert_eq!(gone.status(), 204);
    assert_eq!(points(&json_ok(app.get(&ledger, Some(&sm.token)).await, 200).await), [10, -10, 10]);
    let board = json_ok(
        app.get(format!("{}/leaderboard?period=day&date={}", project_path(&project), visit_day), Some(&sm.token)).await,
        200,
    )
    .await;
    assert_eq!(entry(&board, am1.id).unwrap()["points"], 10, "{board}");
    // A project the visitor is not on cannot be named.
    let other = json!({"project_id": Uuid::new_v4()});
    crate::helpers::assert_problem(
        app.patch_json(&format!("/api/v1/visits/{vid}"), Some(&am1.token), &other).await,
        422,
        "validation_failed",
    )
    .await;
}

/// Issue 21, finding 8: a made-up walk-in lead was converted to ¥1,000,000 in seconds for 23
/// points. A conversion at or above the confirmation amount names its product and waits for a
/// manager who does not own the lead; until then it neither counts nor earns.
#[tokio::test]
async fn a_large_conversion_counts_and_earns_only_once_a_manager_confirms() {
    let app = crate::helpers::spawn_history_app().await;
    let fx = fixture(&app).await;
    let conversions =
        |ledger: &Value| ledger["items"].as_array().unwrap().iter().filter(|e| e["action"] == "conversion").count();
    let ledger_path = format!("{}/points?user_id={}", fx.path, fx.am1.id);
    let before = conversions(&json_ok(app.get(&ledger_path, Some(&fx.sm.token)).await, 200).await);
    let lead_path = format!("/api/v1/leads/{}", fx.plain["id"].as_str().unwrap());
    walk(&app, &fx.am1.token, &fx.plain, &[json!({"status": "contacted"}), json!({"status": "qualified"})]).await;
    let big = json!({"status": "converted", "converted_amount": 1_000_000});
    let problem =
        assert_problem(app.patch_json(&lead_path, Some(&fx.am1.token), &big).await, 422, "validation_failed").await;
    assert!(problem["errors"]["conversion_product"].is_string(), "{problem}");
    let big = json!({"status": "converted", "converted_amount": 1_000_000, "conversion_product": "大额存单", "conversion_reference": "CD-2026-0001"});
    let pending = json_ok(app.patch_json(&lead_path, Some(&fx.am1.token), &big).await, 200).await;
    assert_eq!((pending["status"].as_str(), pending["conversion_pending"].as_bool()), (Some("converted"), Some(true)));
    let ledger = json_ok(app.get(&ledger_path, Some(&fx.sm.token)).await, 200).await;
    assert_eq!(conversions(&ledger), before, "a waiting conversion earns nothing: {ledger}");

    // The owner cannot confirm their own; a manager above them can.
    let review = format!("{lead_path}/conversion-review");
    let own = app.post_json(&review, Some(&fx.am1.token), &json!({"confirm": true})).await;
    assert_problem(own, 403, "role_not_allowed").await;
    let confirmed = json_ok(app.post_json(&review, Some(&fx.sm.token), &json!({"confirm": true})).await, 200).await;
    assert_eq!(
        (confirmed["conversion_pending"].as_bool(), confirmed["conversion_confirmed_by"].as_str()),
        (Some(false), Some(fx.sm.id.to_string().as_str()))
    );
    let ledger = json_ok(app.get(&ledger_path, Some(&fx.sm.token)).await, 200).await;
    assert_eq!(conversions(&ledger), before + 1, "confirmed, it earns: {ledger}");
    assert_problem(
        app.post_json(&review, Some(&fx.sm.token), &json!({"confirm": true})).await,
        409,
        "invalid_transition",
    )
    .await;

    // A rejection needs a reason and sends the lead back to qualified.
    let mut another = lead_body("赵老板", "13800138009");
    another["project_id"] = json!(fx.project["id"]);
    let another = create_lead(&app, &fx.am1.token, &another).await;
    walk(&app, &fx.am1.token, &another, &[json!({"status": "contacted"}), json!({"status": "qualified"})]).await;
    let path = format!("/api/v1/leads/{}", another["id"].as_str().unwrap());
    json_ok(app.patch_json(&path, Some(&fx.am1.token), &big).await, 200).await;
    let review = format!("{path}/conversion-review");
    assert_problem(
        app.post_json(&review, Some(&fx.sm.token), &json!({"confirm": false})).await,
        422,
        "validation_failed",
    )
    .await;
    let rejected = json_ok(
        app.post_json(&review, Some(&fx.sm.token), &json!({"confirm": false, "reason": "查无此笔存单"})).await,
        200,
    )
    .await;
    assert_eq!((rejected["status"].as_str(), rejected["converted_amount"].clone()), (Some("qualified"), Value::Null));
    // Below the amount, a conversion stands at once (the fixture's ¥30,000 earned already).
    assert_eq!(fx.converted["conversion_pending"], false);
}

/// Issue 21, finding 9: the stars named a different star than the leaderboard (each broke ties
/// its own way), and a reversal after a payout changed the paid period's ranking.
#[tokio::test]
async fn the_paid_star_stays_first_and_every_list_breaks_ties_alike() {
    let app = crate::helpers::spawn_history_app().await;
    let fx = fixture(&app).await;
    let pid = fx.project["id"].as_str().unwrap().to_owned();
    let shop = create_partner(&app, &fx.am2.token, &partner_body("周记五金", CENTRE.0, CENTRE.1)).await;
    let at = |offset: i64, hour: u32| format!("{}T{hour:02}:00:00+08:00", day(offset));
    let first_of = |board: &Value| board["items"][0]["user_id"].as_str().unwrap().to_owned();
    let star_of_day = |stars: &Value, date: &str| {
        stars["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["from"] == date)
            .map(|s| s["user_id"].as_str().unwrap().to_owned())
    };

    // Five days ago am1 earned 10 at noon. am2 earns 10 at 09:00 and 10 at 15:00, and the 15:00
    // visit is deleted: a tie at 10, which am2 reached first (their last standing award is 09:00).
    make_visit(&app, &fx.am2.token, &visit(&shop, CENTRE.0, &at(-5, 9), Some(&pid)), true).await;
    let later = make_visit(&app, &fx.am2.token, &visit(&shop, CENTRE.0, &at(-5, 15), Some(&pid)), true).await;
    let deleted = app.client.delete(app.url(&format!("/api/v1/visits/{}", later["id"].as_str().unwrap())));
    assert!(deleted.bearer_auth(&fx.am2.token).send().await.unwrap().status().is_success());
    let board =
        json_ok(app.get(format!("{}/leaderboard?period=day&date={}", fx.path, day(-5)), Some(&fx.sm.token)).await, 200)
            .await;
    let stars = json_ok(app.get(format!("{}/stars?period=day", fx.path), Some(&fx.sm.token)).await, 200).await;
    assert_eq!(first_of(&board), fx.am2.id.to_string(), "{board}");
    assert_eq!(star_of_day(&stars, &day(-5)), Some(first_of(&board)), "the stars agree with the leaderboard: {stars}");

    // Two days ago am1 was the star (10); their prize is paid.
    let pay = json!({"amount": 100});
    json_ok(app.post_json(&format!("{}/pool/contributions", fx.path), Some(&fx.sm.token), &pay).await, 201).await;
    let prize = json!({"period": "day", "date": day(-2), "amount": 50});
    let paid =
        json_ok(app.post_json(&format!("{}/pool/payouts", fx.path), Some(&fx.sm.token), &prize).await, 201).await;
    assert_eq!(paid["user_id"], fx.am1.id.to_string());
    // Then am2 records two visits of that day, and am1's visit of that day is deleted: the paid
    // day is frozen, so all of it lands today, as adjustments.
    for hour in [9, 10] {
        make_visit(&app, &fx.am2.token, &visit(&shop, CENTRE.0, &at(-2, hour), Some(&pid)), true).await;
    }
    let am1_visit = fx.verified[1]["id"].as_str().unwrap();
    let deleted = app.client.delete(app.url(&format!("/api/v1/visits/{am1_visit}"))).bearer_auth(&fx.am1.token);
    assert!(deleted.send().await.unwrap().status().is_success());
    let board =
        json_ok(app.get(format!("{}/leaderboard?period=day&date={}", fx.path, day(-2)), Some(&fx.sm.token)).await, 200)
            .await;
    assert_eq!(
        (first_of(&board), board["items"][0]["points"].as_i64()),
        (fx.am1.id.to_string(), Some(10)),
        "the paid day's ranking stands: {board}"
    );
    let stars = json_ok(app.get(format!("{}/stars?period=day", fx.path), Some(&fx.sm.token)).await, 200).await;
    assert_eq!(star_of_day(&stars, &day(-2)), Some(fx.am1.id.to_string()), "{stars}");
    let today =
        json_ok(app.get(format!("{}/leaderboard?period=day&date={}", fx.path, day(0)), Some(&fx.sm.token)).await, 200)
            .await;
    let am2_today = today["items"].as_array().unwrap().iter().find(|i| i["user_id"] == fx.am2.id.to_string()).unwrap();
    assert_eq!(am2_today["points"], 20, "am2's late visits count today: {today}");
    let am1_today = today["items"].as_array().unwrap().iter().find(|i| i["user_id"] == fx.am1.id.to_string()).unwrap();
    // am1 today: a visit (10), two new leads (10), a conversion (50), and the reversal (−10).
    assert_eq!(am1_today["points"], 60, "the reversal lands today: {today}");
}
