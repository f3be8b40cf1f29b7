//! Segment projects: creation with team, targets, points rules and milestones; who sees them;
//! replacing the team and targets; milestones and manual metrics.

use chrono::{Duration, NaiveDate, Utc};
use outreach::domain::Role;
use reqwest::Response;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Login, TestApp, assert_problem, json_ok, spawn_app};

/// Today in the branch's time zone (Asia/Shanghai, UTC+8, no daylight saving).
pub fn local_today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

pub fn day(offset: i64) -> String {
    (local_today() + Duration::days(offset)).to_string()
}

pub async fn put_json(app: &TestApp, path: &str, token: &str, body: &Value) -> Response {
    app.client.put(app.url(path)).bearer_auth(token).json(body).send().await.expect("request")
}

pub async fn create_project(app: &TestApp, token: &str, body: &Value) -> Value {
    json_ok(app.post_json("/api/v1/projects", Some(token), body).await, 201).await
}

pub fn project_path(project: &Value) -> String {
    format!("/api/v1/projects/{}", project["id"].as_str().unwrap())
}

/// Asserts an error answer of this status in problem+json, whatever its code.
pub async fn assert_problem_status(response: Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(actual, status, "unexpected response: {body}");
    assert_eq!(content_type, "application/problem+json", "{body}");
    assert!(body["code"].is_string(), "{body}");
    body
}

/// A project of the sub-branch A1 run by `lead` with `member`, over `starts`..=`ends` days from today.
pub fn project_body(lead: Uuid, member: Uuid, starts: i64, ends: i64) -> Value {
    json!({
        "name": "宝妈客群攻坚", "segment": "outreach", "portrait_tags": ["宝妈", "社区"],
        "product_package": ["定期存款", "少儿保险"], "service_package": ["亲子财商课"],
        "starts_on": day(starts), "ends_on": day(ends),
        "lead_id": lead, "member_ids": [lead, member],
        "targets": [
            {"metric": "visits", "total": 20, "split": {lead.to_string(): 10, member.to_string(): 10}},
            {"metric": "new_leads", "total": 6}
        ],
        "points_rules": [{"action": "verified_visit", "points": 10, "daily_cap": 20}],
        "milestones": [{"title": "完成社区摸排", "due_on": day(starts + 7)}]
    })
}

fn sorted(ids: &Value) -> Vec<String> {
    let mut v: Vec<String> = ids.as_array().unwrap().iter().map(|i| i.as_str().unwrap().to_owned()).collect();
    v.sort();
    v
}

fn users(ids: &[Uuid]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    v.sort();
    v
}

fn target<'a>(project: &'a Value, metric: &str) -> &'a Value {
    project["targets"].as_array().unwrap().iter().find(|t| t["metric"] == metric).unwrap_or(&Value::Null)
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The milestone an answer describes: the milestone itself, or the project holding it.
fn milestone(answer: &Value, title: &str) -> Value {
    match answer.get("milestones") {
        Some(list) => list.as_array().unwrap().iter().find(|m| m["title"] == title).cloned().unwrap_or(Value::Null),
        None => answer.clone(),
    }
}

struct Team {
    sm: Login,
    am1: Login,
    am2: Login,
}

async fn team(app: &TestApp) -> Team {
    Team {
        sm: app.login_as(Role::SubBranchManager).await,
        am1: app.login_as(Role::AccountManager).await,
        am2: app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await,
    }
}

#[tokio::test]
async fn a_manager_creates_a_project_with_its_team_targets_rules_and_milestones() {
    let app = spawn_app().await;
    let Team { sm, am1, am2 } = team(&app).await;
    let mut body = project_body(am1.id, am2.id, -3, 26);
    body["member_ids"] = json!([am2.id]);
    let p = create_project(&app, &sm.token, &body).await;
    assert!(Uuid::parse_str(p["id"].as_str().unwrap()).is_ok(), "{p}");
    assert_eq!(p["name"], "宝妈客群攻坚");
    assert_eq!(p["segment"], "outreach");
    assert_eq!(p["portrait_tags"], json!(["宝妈", "社区"]));
    assert_eq!(p["product_package"], json!(["定期存款", "少儿保险"]));
    assert_eq!(p["service_package"], json!(["亲子财商课"]));
    assert_eq!((p["starts_on"].as_str(), p["ends_on"].as_str()), (Some(day(-3).as_str()), Some(day(26).as_str())));
    assert_eq!(p["time_zone"], "Asia/Shanghai");
    assert_eq!(p["org_unit_id"], app.tree.sub_a1.to_string(), "the creator's unit by default");
    assert!(["planned", "active"].contains(&p["status"].as_str().unwrap()), "{p}");
    assert_eq!(p["lead_id"], am1.id.to_string());
    assert_eq!(p["supervisor_id"], Value::Null);
    assert_eq!(sorted(&p["member_ids"]), users(&[am1.id, am2.id]), "the lead is a member");
    let visits = target(&p, "visits");
    assert_eq!(num(&visits["total"]), 20.0, "{p}");
    assert_eq!(num(&visits["split"][am1.id.to_string()]), 10.0);
    assert_eq!(num(&visits["split"][am2.id.to_string()]), 10.0);
    let leads = target(&p, "new_leads");
    assert_eq!(num(&leads["total"]), 6.0, "{p}");
    assert!(leads["split"].is_null() || leads["split"] == json!({}), "{p}");
    assert_eq!(p["targets"].as_array().unwrap().len(), 2);
    assert_eq!(p["points_rules"], json!([{"action": "verified_visit", "points": 10, "daily_cap": 20}]));
    assert_eq!(p["manual_metrics"], json!([]));
    let milestones = p["milestones"].as_array().unwrap();
    assert_eq!(milestones.len(), 1);
    let m = &milestones[0];
    assert!(m["id"].is_string(), "{m}");
    assert_eq!((m["title"].as_str(), m["due_on"].as_str()), (Some("完成社区摸排"), Some(day(4).as_str())));
    assert_eq!((m["done"].clone(), m["done_at"].clone()), (json!(false), Value::Null));
    assert_eq!(p["version"], 1);

    let fetched = json_ok(app.get(project_path(&p), Some(&sm.token)).await, 200).await;
    assert_eq!(fetched, p);
}

#[tokio::test]
async fn bad_projects_are_refused() {
    let app = spawn_app().await;
    let t = &app.tree;
    let Team { sm, am1, am2 } = team(&app).await;
    let bm = app.login_as(Role::BranchManager).await;
    let body = project_body(am1.id, am2.id, 0, 29);
    assert_problem(app.post_json("/api/v1/projects", Some(&am1.token), &body).await, 403, "role_not_allowed").await;

    let mut backwards = body.clone();
    backwards["starts_on"] = json!(day(10));
    backwards["ends_on"] = json!(day(9));
    assert_problem(app.post_json("/api/v1/projects", Some(&sm.token), &backwards).await, 422, "validation_failed")
        .await;

    let mut unknown_metric = body.clone();
    unknown_metric["targets"] = json!([{"metric": "handshakes", "total": 5}]);
    assert_problem_status(app.post_json("/api/v1/projects", Some(&sm.token), &unknown_metric).await, 422).await;

    let mut oversplit = body.clone();
    oversplit["targets"] =
        json!([{"metric": "visits", "total": 20, "split": {am1.id.to_string(): 15, am2.id.to_string(): 10}}]);
    let problem =
        assert_problem(app.post_json("/api/v1/projects", Some(&sm.token), &oversplit).await, 422, "validation_failed")
            .await;
    let keys: Vec<&String> = problem["errors"].as_object().unwrap().keys().collect();
    assert!(keys.iter().any(|k| k.starts_with("targets")), "{problem}");

    // A user of another branch does not exist here.
    let (foreigner, _) = app.user(Role::AccountManager, Some(t.outlet_b1)).await;
    let mut foreign = body.clone();
    foreign["member_ids"] = json!([am1.id, am2.id, foreigner]);
    assert_problem(app.post_json("/api/v1/projects", Some(&sm.token), &foreign).await, 404, "not_found").await;
    // One the manager sees, but outside the project's unit, may not be on its team.
    let (elsewhere, _) = app.user(Role::AccountManager, Some(t.outlet_a2)).await;
    let mut outside = body.clone();
    outside["org_unit_id"] = json!(t.sub_a1);
    outside["member_ids"] = json!([am1.id, am2.id, elsewhere]);
    assert_problem(app.post_json("/api/v1/projects", Some(&bm.token), &outside).await, 422, "validation_failed").await;
    assert!(app.post_json("/api/v1/projects", Some(&sm.token), &outside).await.status().is_client_error());

    let listed = json_ok(app.get("/api/v1/projects", Some(&bm.token)).await, 200).await;
    assert_eq!(listed["items"], json!([]), "nothing was created");
}

#[tokio::test]
async fn a_project_is_seen_by_its_team_and_the_managers_above_it() {
    let app = spawn_app().await;
    let Team { sm, am1, am2 } = team(&app).await;
    let outsider = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let supervisor = app.login_as(Role::Supervisor).await;
    let other_supervisor = app.login_as(Role::Supervisor).await;
    let bm = app.login_as(Role::BranchManager).await;
    let other_branch = app.login_at(Role::BranchManager, Some(app.tree.branch_b)).await;
    let mut body = project_body(am1.id, am2.id, 0, 29);
    body["org_unit_id"] = json!(app.tree.sub_a1);
    body["supervisor_id"] = json!(supervisor.id);
    let p = create_project(&app, &bm.token, &body).await;
    assert_eq!(p["org_unit_id"], app.tree.sub_a1.to_string());
    assert_eq!(p["supervisor_id"], supervisor.id.to_string(), "a supervisor may sit above the unit");
    let path = project_path(&p);
    let listed_ids =
        |list: &Value| -> Vec<Value> { list["items"].as_array().unwrap().iter().map(|i| i["id"].clone()).collect() };

    for (who, token) in [
        ("member", &am2.token),
        ("lead", &am1.token),
        ("supervisor", &supervisor.token),
        ("sub-branch manager", &sm.token),
        ("branch manager", &bm.token),
    ] {
        let list = json_ok(app.get("/api/v1/projects", Some(token)).await, 200).await;
        assert_eq!(listed_ids(&list), [p["id"].clone()], "{who}");
        assert_eq!(json_ok(app.get(&path, Some(token)).await, 200).await["id"], p["id"], "{who}");
    }
    for (who, token) in [("outsider", &outsider.token), ("supervisor off the team", &other_supervisor.token)] {
        let list = json_ok(app.get("/api/v1/projects", Some(token)).await, 200).await;
        assert_eq!(list["items"], json!([]), "{who}");
        assert_problem(app.get(&path, Some(token)).await, 404, "not_found").await;
    }
    assert_problem(app.get(&path, Some(&other_branch.token)).await, 404, "not_found").await;
    assert_problem(app.patch_json(&path, Some(&other_branch.token), &json!({"name": "x"})).await, 404, "not_found")
        .await;
    // A member reads but does not run the project.
    assert_eq!(app.patch_json(&path, Some(&am2.token), &json!({"name": "x"})).await.status(), 403);
}

#[tokio::test]
async fn team_and_targets_are_replaced_and_a_stale_version_is_refused() {
    let app = spawn_app().await;
    let Team { sm, am1, am2 } = team(&app).await;
    let am3 = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1b)).await;
    let p = create_project(&app, &sm.token, &project_body(am1.id, am2.id, 0, 29)).await;
    let path = project_path(&p);

    let team = json_ok(
        put_json(&app, &format!("{path}/team"), &sm.token, &json!({"lead_id": am1.id, "member_ids": [am1.id, am3.id]}))
            .await,
        200,
    )
    .await;
    let fetched = json_ok(app.get(&path, Some(&sm.token)).await, 200).await;
    for answer in [&team, &fetched] {
        assert_eq!(sorted(&answer["member_ids"]), users(&[am1.id, am3.id]), "{answer}");
    }
    assert_problem(app.get(&path, Some(&am2.token)).await, 404, "not_found").await;
    json_ok(app.get(&path, Some(&am3.token)).await, 200).await;

    let targets = json!({"targets": [
        {"metric": "verified_visits", "total": 12, "split": {am1.id.to_string(): 6, am3.id.to_string(): 6}},
        {"metric": "converted_amount", "total": 500000}
    ]});
    json_ok(put_json(&app, &format!("{path}/targets"), &sm.token, &targets).await, 200).await;
    let fetched = json_ok(app.get(&path, Some(&sm.token)).await, 200).await;
    let metrics: Vec<&str> =
        fetched["targets"].as_array().unwrap().iter().map(|t| t["metric"].as_str().unwrap()).collect();
    assert_eq!(metrics.len(), 2, "{fetched}");
    assert!(metrics.contains(&"verified_visits") && metrics.contains(&"converted_amount"), "{fetched}");
    assert_eq!(num(&target(&fetched, "verified_visits")["split"][am3.id.to_string()]), 6.0);
    assert_eq!(num(&target(&fetched, "converted_amount")["total"]), 500000.0);
    let oversplit = json!({"targets": [{"metric": "visits", "total": 5, "split": {am1.id.to_string(): 6}}]});
    assert_problem(put_json(&app, &format!("{path}/targets"), &sm.token, &oversplit).await, 422, "validation_failed")
        .await;
    assert_eq!(put_json(&app, &format!("{path}/targets"), &am1.token, &targets).await.status(), 403);

    let version = fetched["version"].as_i64().unwrap();
    let renamed = json_ok(
        app.patch_json(&path, Some(&sm.token), &json!({"name": "宝妈客群二期", "version": version})).await,
        200,
    )
    .await;
    assert_eq!((renamed["name"].as_str(), renamed["version"].as_i64()), (Some("宝妈客群二期"), Some(version + 1)));
    let stale = app.patch_json(&path, Some(&sm.token), &json!({"name": "x", "version": version})).await;
    assert_problem(stale, 409, "version_conflict").await;

    if renamed["status"] != "active" {
        let active = app.patch_json(&path, Some(&sm.token), &json!({"status": "active"})).await;
        assert_eq!(json_ok(active, 200).await["status"], "active");
    }
    let done = json_ok(app.patch_json(&path, Some(&sm.token), &json!({"status": "completed"})).await, 200).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(json_ok(app.get(&path, Some(&am1.token)).await, 200).await["status"], "completed");
    let unknown = app.patch_json(&path, Some(&sm.token), &json!({"status": "paused"})).await;
    assert_problem_status(unknown, 422).await;
}

#[tokio::test]
async fn the_team_lead_keeps_the_milestones() {
    let app = spawn_app().await;
    let Team { sm, am1, am2 } = team(&app).await;
    let p = create_project(&app, &sm.token, &project_body(am1.id, am2.id, 0, 29)).await;
    let path = project_path(&p);
    let added = json_ok(
        app.post_json(
            &format!("{path}/milestones"),
            Some(&am1.token),
            &json!({"title": "首场活动", "due_on": day(10)}),
        )
        .await,
        201,
    )
    .await;
    let m = milestone(&added, "首场活动");
    assert_eq!(
        (m["title"].as_str(), m["due_on"].as_str(), m["done"].as_bool()),
        (Some("首场活动"), Some(day(10).as_str()), Some(false))
    );
    let mid = m["id"].as_str().unwrap();
    let fetched = json_ok(app.get(&path, Some(&sm.token)).await, 200).await;
    assert_eq!(fetched["milestones"].as_array().unwrap().len(), 2, "{fetched}");

    let by_member = app.patch_json(&format!("{path}/milestones/{mid}"), Some(&am2.token), &json!({"done": true})).await;
    assert_eq!(by_member.status(), 403, "only the lead and managers keep the schedule");
    let done = json_ok(
        app.patch_json(&format!("{path}/milestones/{mid}"), Some(&am1.token), &json!({"done": true})).await,
        200,
    )
    .await;
    let m = milestone(&done, "首场活动");
    assert_eq!(m["done"], true, "{done}");
    assert!(m["done_at"].is_string(), "{done}");
    assert_eq!(m["done_by"], am1.id.to_string());
    let fetched = json_ok(app.get(&path, Some(&am2.token)).await, 200).await;
    assert_eq!(milestone(&fetched, "首场活动")["done"], true);
    let missing =
        app.patch_json(&format!("{path}/milestones/{}", Uuid::new_v4()), Some(&sm.token), &json!({"done": true})).await;
    assert_problem(missing, 404, "not_found").await;
    let bad =
        app.post_json(&format!("{path}/milestones"), Some(&sm.token), &json!({"title": "", "due_on": day(3)})).await;
    assert_problem(bad, 422, "validation_failed").await;
}

#[tokio::test]
async fn a_manual_metric_takes_dated_values() {
    let app = spawn_app().await;
    let Team { sm, am1, am2 } = team(&app).await;
    let p = create_project(&app, &sm.token, &project_body(am1.id, am2.id, -5, 24)).await;
    let path = project_path(&p);
    let metric = json_ok(
        app.post_json(
            &format!("{path}/manual-metrics"),
            Some(&sm.token),
            &json!({"name": "AUM增量", "unit": "万元", "total": 500}),
        )
        .await,
        201,
    )
    .await;
    let mid = metric["id"].as_str().expect("the metric's id").to_owned();
    let value = json!({"on_date": day(0), "value": 120.5, "user_id": am1.id});
    json_ok(app.post_json(&format!("{path}/manual-metrics/{mid}/values"), Some(&am1.token), &value).await, 201).await;
    // A member who is not the team lead does not score themselves.
    let own = json!({"on_date": day(0), "value": 1e6, "user_id": am2.id});
    let refused = app.post_json(&format!("{path}/manual-metrics/{mid}/values"), Some(&am2.token), &own).await;
    assert_problem(refused, 403, "role_not_allowed").await;
    // Outside the window so far: not counted today.
    let later = json!({"on_date": day(3), "value": 1000, "user_id": am1.id});
    let later = app.post_json(&format!("{path}/manual-metrics/{mid}/values"), Some(&sm.token), &later).await;
    assert!(later.status().is_success() || later.status() == 422, "{}", later.status());

    let fetched = json_ok(app.get(&path, Some(&sm.token)).await, 200).await;
    let listed = &fetched["manual_metrics"];
    assert_eq!(listed.as_array().unwrap().len(), 1, "{fetched}");
    assert_eq!((listed[0]["id"].as_str(), listed[0]["name"].as_str()), (Some(mid.as_str()), Some("AUM增量")));
    assert_eq!((listed[0]["unit"].as_str(), num(&listed[0]["total"])), (Some("万元"), 500.0));

    let progress = json_ok(app.get(format!("{path}/progress?date={}", day(0)), Some(&sm.token)).await, 200).await;
    let manual = progress["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["manual_metric_id"] == mid.as_str())
        .unwrap_or_else(|| panic!("manual metric missing: {progress}"));
    assert_eq!((manual["metric"].as_str(), manual["name"].as_str()), (Some("manual"), Some("AUM增量")));
    assert_eq!(num(&manual["target"]), 500.0);
    assert!((num(&manual["actual"]) - 120.5).abs() < 1e-6, "{manual}");
    let am1_row = manual["members"].as_array().unwrap().iter().find(|m| m["user_id"] == am1.id.to_string());
    assert!((num(&am1_row.expect("am1's row")["actual"]) - 120.5).abs() < 1e-6, "{manual}");

    let outsider = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let value = json!({"on_date": day(0), "value": 1, "user_id": outsider.id});
    let refused = app.post_json(&format!("{path}/manual-metrics/{mid}/values"), Some(&outsider.token), &value).await;
    assert_problem(refused, 404, "not_found").await;
}

#[tokio::test]
async fn a_sub_branch_manager_may_name_the_branch_supervisor() {
    let app = spawn_app().await;
    let Team { sm, am1, am2 } = team(&app).await;
    let supervisor = app.login_as(Role::Supervisor).await;
    let mut body = project_body(am1.id, am2.id, 0, 29);
    body["supervisor_id"] = json!(supervisor.id);
    // The supervisor sits above the sub-branch; the contract allows that for the supervisor.
    let p = create_project(&app, &sm.token, &body).await;
    assert_eq!(p["supervisor_id"], supervisor.id.to_string());
    assert_eq!(json_ok(app.get(project_path(&p), Some(&supervisor.token)).await, 200).await["id"], p["id"]);
}

#[tokio::test]
async fn a_supervisor_is_a_supervisor_or_a_manager_at_or_above_the_unit() {
    let app = spawn_app().await;
    let Team { sm, am1, am2 } = team(&app).await;
    let colleague = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let elsewhere = app.login_at(Role::Supervisor, Some(app.tree.sub_a2)).await;
    let mut body = project_body(am1.id, am2.id, -5, 24);
    body["supervisor_id"] = json!(colleague.id);
    let refused =
        assert_problem(app.post_json("/api/v1/projects", Some(&sm.token), &body).await, 422, "validation_failed").await;
    assert!(refused["errors"]["supervisor_id"].is_string(), "{refused}");
    body["supervisor_id"] = json!(elsewhere.id);
    assert_problem(app.post_json("/api/v1/projects", Some(&sm.token), &body).await, 404, "not_found").await;
}
