//! No N+1: a list answers with as many SQL statements for eight rows as for two.
//!
//! The count is the database's own (`Db::statements`, every statement its connections ran, see
//! `store::statements`), read through `AppState` just before and just after one request; each
//! test has its app and database to itself and sends one request at a time, so the difference is
//! that request's statements. Each test makes two rows visible to one caller, counts the list,
//! makes six more, counts it again, and checks the list did grow and the count did not.

use chrono::{Duration, SecondsFormat, Utc};
use outreach::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{Login, TestApp, json_ok, spawn_app, unique_phone};
use crate::partners::CENTRE;
use crate::projects::day;

const SMALL: usize = 2;
const LARGE: usize = 8;

/// The statements one GET ran, and its answer.
async fn statements(app: &TestApp, path: &str, token: &str) -> (u64, Value) {
    let before = app.state.db.statements();
    let response = app.get(path, Some(token)).await;
    let body = json_ok(response, 200).await;
    (app.state.db.statements() - before, body)
}

/// The length of the list in an answer: a page's `items`, a GeoJSON's `features`, or the sum of
/// a sync pull's created, updated and deleted rows of every kind.
fn rows(body: &Value) -> usize {
    if let Some(items) = body.get("items").and_then(Value::as_array) {
        return items.len();
    }
    if let Some(features) = body.get("features").and_then(Value::as_array) {
        return features.len();
    }
    let mut n = 0;
    if let Some(object) = body.get("changes").and_then(Value::as_object) {
        for value in object.values() {
            for part in ["created", "updated", "deleted"] {
                n += value.get(part).and_then(Value::as_array).map_or(0, Vec::len);
            }
        }
    }
    n
}

/// Asserts the two counts of `path` are equal and the list grew between them.
fn assert_constant(path: &str, (small, small_body): (u64, Value), (large, large_body): (u64, Value)) {
    let (small_rows, large_rows) = (rows(&small_body), rows(&large_body));
    println!("{path}: {small} statements for {small_rows} rows, {large} for {large_rows}");
    assert!(large_rows > small_rows, "{path}: the list did not grow ({small_rows} rows, then {large_rows})");
    assert_eq!(
        large, small,
        "{path}: {small} statements for {small_rows} rows, {large} for {large_rows}: a query per row"
    );
}

async fn post(app: &TestApp, path: &str, token: &str, body: &Value) -> Value {
    json_ok(app.post_json(path, Some(token), body).await, 201).await
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

fn minutes_ago(minutes: i64) -> String {
    (Utc::now() - Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn partner(app: &TestApp, token: &str) -> String {
    let body = json!({"name": "联盟超市", "category": "supermarket", "location": {"lat": CENTRE.0, "lon": CENTRE.1}});
    id(&post(app, "/api/v1/partners", token, &body).await)
}

async fn visit(app: &TestApp, token: &str) -> String {
    let body = json!({
        "location": {"lat": CENTRE.0, "lon": CENTRE.1, "accuracy_m": 10}, "visited_at": minutes_ago(30),
        "purpose": "relationship"
    });
    id(&post(app, "/api/v1/visits", token, &body).await)
}

/// Counts `path` with [`SMALL`] rows made by `make`, then with [`LARGE`].
macro_rules! check {
    ($app:expr, $path:expr, $token:expr, |$i:ident| $make:expr) => {{
        for $i in 0..SMALL {
            $make;
        }
        let small = statements($app, $path, $token).await;
        for $i in SMALL..LARGE {
            $make;
        }
        let large = statements($app, $path, $token).await;
        assert_constant($path, small, large);
    }};
}

#[tokio::test]
async fn partners_and_visits() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    check!(&app, "/api/v1/partners", &am.token, |_i| partner(&app, &am.token).await);
    check!(&app, "/api/v1/visits", &am.token, |_i| visit(&app, &am.token).await);
}

#[tokio::test]
async fn leads() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    check!(&app, "/api/v1/leads", &am.token, |_i| {
        let body = json!({"kind": "person", "name": "李先生", "phone": unique_phone(), "source": "walk_in"});
        post(&app, "/api/v1/leads", &am.token, &body).await
    });
}

#[tokio::test]
async fn events_and_attendees() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let event_body = |partner: &str| {
        json!({
            "partner_id": partner, "title": "反诈讲座", "theme": "anti_fraud", "venue": "社区活动室", "capacity": 50,
            "starts_at": (Utc::now() + Duration::days(3)).to_rfc3339(),
            "ends_at": (Utc::now() + Duration::days(3) + Duration::hours(2)).to_rfc3339(),
        })
    };
    let host = partner(&app, &am.token).await;
    check!(&app, "/api/v1/events", &am.token, |_i| post(&app, "/api/v1/events", &am.token, &event_body(&host)).await);

    let event = post(&app, "/api/v1/events", &am.token, &event_body(&host)).await;
    let code = event["registration_code"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/events/{}/attendees", id(&event));
    check!(&app, &path, &am.token, |_i| {
        let registration = json!({"name": "王阿姨", "phone": unique_phone(), "consent": true});
        let at = format!("/api/v1/public/events/{code}/registrations");
        json_ok(app.post_json(&at, None, &registration).await, 201).await
    });
}

async fn project(app: &TestApp, admin: &Login, member: &Login) -> Value {
    let body = json!({
        "name": "宝妈客群攻坚", "segment": "outreach", "starts_on": day(-3), "ends_on": day(30),
        "org_unit_id": app.tree.outlet_a1, "lead_id": member.id, "member_ids": [member.id],
        "targets": [{"metric": "visits", "total": 20}],
        "points_rules": [{"action": "verified_visit", "points": 2}],
        "milestones": [{"title": "完成社区摸排", "due_on": day(7)}]
    });
    let project = post(app, "/api/v1/projects", &admin.token, &body).await;
    let metric = json!({"name": "AUM增量", "unit": "万元", "total": 500});
    post(app, &format!("/api/v1/projects/{}/manual-metrics", id(&project)), &admin.token, &metric).await;
    project
}

#[tokio::test]
async fn projects() {
    let app = spawn_app().await;
    let admin = app.login_as(Role::Admin).await;
    let am = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    check!(&app, "/api/v1/projects", &admin.token, |_i| project(&app, &admin, &am).await);
    // A team member's list filters by membership: the same count again.
    let am_path = "/api/v1/projects";
    let (small, _) = statements(&app, am_path, &am.token).await;
    project(&app, &admin, &am).await;
    let (large, _) = statements(&app, am_path, &am.token).await;
    assert_eq!(large, small, "{am_path} as a member: {small} statements, then {large} with one project more");
}

#[tokio::test]
async fn cases() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    check!(&app, "/api/v1/cases", &am.token, |_i| {
        let body =
            json!({"title": "社区亲子课", "segment": "outreach", "what_done": "办了三场", "results": "新增客户"});
        post(&app, "/api/v1/cases", &am.token, &body).await
    });
}

async fn supervision(app: &TestApp, admin: &Login) -> String {
    let body = json!({
        "org_unit_id": app.tree.outlet_a1, "visited_at": minutes_ago(30),
        "location": {"lat": CENTRE.0, "lon": CENTRE.1, "accuracy_m": 10},
        "checklist": [{"item": "retail_situation", "score": 3}]
    });
    id(&post(app, "/api/v1/supervisions", &admin.token, &body).await)
}

#[tokio::test]
async fn supervisions_findings_and_coaching_plans() {
    let app = spawn_app().await;
    let admin = app.login_as(Role::Admin).await;
    check!(&app, "/api/v1/supervisions", &admin.token, |_i| supervision(&app, &admin).await);

    let (owner, _) = app.user(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let visit = supervision(&app, &admin).await;
    check!(&app, "/api/v1/findings", &admin.token, |_i| {
        let finding = json!({"title": "晨会流程", "owner_id": owner, "due_on": day(2)});
        post(&app, &format!("/api/v1/supervisions/{visit}/findings"), &admin.token, &finding).await
    });

    check!(&app, "/api/v1/coaching-plans", &admin.token, |_i| {
        let (trainee, _) = app.user(Role::AccountManager, Some(app.tree.outlet_a1)).await;
        let body = json!({"trainee_id": trainee, "coach_name": "外部教练"});
        post(&app, "/api/v1/coaching-plans", &admin.token, &body).await
    });
}

#[tokio::test]
async fn users_and_org_units() {
    let app = spawn_app().await;
    let admin = app.login_as(Role::Admin).await;
    check!(&app, "/api/v1/users", &admin.token, |_i| app.user(Role::AccountManager, Some(app.tree.outlet_a1)).await);
    check!(&app, "/api/v1/org-units", &admin.token, |i| {
        let body = json!({"name": format!("Outlet {i}"), "kind": "outlet", "parent_id": app.tree.sub_a1});
        post(&app, "/api/v1/org-units", &admin.token, &body).await
    });
}

#[tokio::test]
async fn map_features() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let path = "/api/v1/map/features?bbox=113.0765,22.5737,113.0865,22.5837&zoom=19&layers=partners&cluster=false";
    check!(&app, path, &am.token, |_i| partner(&app, &am.token).await);
}

/// A sync pull from a cursor: created and updated partners and visits, and deleted ones
/// (tombstones, each checked for whether the caller still sees the record elsewhere).
#[tokio::test]
async fn sync_pull() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let cursor = |body: &Value| body["cursor"].as_str().unwrap().to_owned();
    let (_, first) = statements(&app, "/api/v1/sync/pull", &am.token).await;
    let mut at = cursor(&first);
    let mut counts = Vec::new();
    for n in [SMALL, LARGE] {
        for _ in 0..n {
            let kept = partner(&app, &am.token).await;
            let body = json!({"address": "改过的地址"});
            json_ok(app.patch_json(&format!("/api/v1/partners/{kept}"), Some(&am.token), &body).await, 200).await;
            visit(&app, &am.token).await;
            let gone = partner(&app, &am.token).await;
            let response = app.client.delete(app.url(&format!("/api/v1/partners/{gone}"))).bearer_auth(&am.token);
            assert_eq!(response.send().await.unwrap().status().as_u16(), 204);
            let gone = visit(&app, &am.token).await;
            let response = app.client.delete(app.url(&format!("/api/v1/visits/{gone}"))).bearer_auth(&am.token);
            assert_eq!(response.send().await.unwrap().status().as_u16(), 204);
        }
        let path = format!("/api/v1/sync/pull?cursor={at}");
        let (count, body) = statements(&app, &path, &am.token).await;
        assert_eq!(body["has_more"], json!(false), "{body}");
        assert_eq!(body["changes"]["partners"]["deleted"].as_array().map(Vec::len), Some(n), "{body}");
        at = cursor(&body);
        counts.push((count, body));
    }
    let large = counts.pop().unwrap();
    let small = counts.pop().unwrap();
    assert_constant("/api/v1/sync/pull?cursor=…", small, large);
}

#[tokio::test]
async fn audit_log_and_visit_photos() {
    let app = spawn_app().await;
    let admin = app.login_as(Role::Admin).await;
    let am = app.login_as(Role::AccountManager).await;
    check!(&app, "/api/v1/audit", &admin.token, |_i| partner(&app, &am.token).await);

    let visit = visit(&app, &am.token).await;
    let path = format!("/api/v1/visits/{visit}/photos");
    check!(&app, &path, &am.token, |i| {
        let bytes = crate::photos::photo(64 + i as u32, 48, &Default::default());
        json_ok(crate::photos::upload(&app, &am.token, &visit, bytes, "image/jpeg").await, 201).await
    });
}
