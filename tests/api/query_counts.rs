//! No N+1: a list answers with as many SQL statements for eight rows as for two.
//!
//! The count is the database's own (`Db::statements`, every statement its connections ran, see
//! `store::statements`), read through `AppState` just before and just after one request; each
//! test has its app and database to itself and sends one request at a time, so the difference is
//! that request's statements. Each test makes two rows visible to one caller, counts the list,
//! makes six more, counts it again, and checks the list did grow and the count did not.
//!
//! Every GET whose answer grows with the data is here: the pages, the lists inside one record
//! (a project's team, a supervision's findings, a plan's reviews, a case's photos, an event's
//! evidence), the histories, the searches, the figures (progress, leaderboards, stars, the pool,
//! coverage, the morning report) and the exports (CSV, XLSX, the showcase PNG).

use std::io::Cursor;

use calamine::{Reader, Xlsx};
use chrono::{Duration, SecondsFormat, Utc};
use outreach::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{Login, TestApp, json_ok, spawn_app, unique_phone};
use crate::partners::CENTRE;
use crate::projects::day;

const SMALL: usize = 2;
const LARGE: usize = 8;

/// The statements one GET ran, and its answer as JSON: a JSON answer as it is, a CSV as the array
/// of its lines after the header, an XLSX as an object of its sheets' row counts (header
/// excluded), anything else (a PNG) as its length in bytes.
async fn statements(app: &TestApp, path: &str, token: &str) -> (u64, Value) {
    // Every counted request reads its caller's standing once (it is cached between requests).
    app.state.auth.standing.forget_everyone();
    let before = app.state.db.statements();
    let response = app.get(path, Some(token)).await;
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let bytes = response.bytes().await.unwrap();
    let count = app.state.db.statements() - before;
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&bytes));
    let body = if content_type.starts_with("application/json") {
        serde_json::from_slice(&bytes).unwrap()
    } else if content_type.starts_with("text/csv") {
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        Value::from(text.trim_start_matches('\u{feff}').lines().skip(1).collect::<Vec<_>>())
    } else if content_type.starts_with("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") {
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
        let mut sheets = serde_json::Map::new();
        for name in book.sheet_names() {
            let rows = book.worksheet_range(&name).unwrap().height().saturating_sub(1);
            sheets.insert(name, Value::from(rows));
        }
        Value::Object(sheets)
    } else {
        Value::from(bytes.len())
    };
    (count, body)
}

/// The length of the list in an answer: a page's `items`, a GeoJSON's `features`, or the sum of
/// a sync pull's created, updated and deleted rows of every kind.
fn rows(body: &Value) -> Option<usize> {
    if let Some(items) = body.get("items").and_then(Value::as_array) {
        return Some(items.len());
    }
    if let Some(features) = body.get("features").and_then(Value::as_array) {
        return Some(features.len());
    }
    let mut n = 0;
    if let Some(object) = body.get("changes").and_then(Value::as_object) {
        for value in object.values() {
            for part in ["created", "updated", "deleted"] {
                n += value.get(part).and_then(Value::as_array).map_or(0, Vec::len);
            }
        }
    }
    Some(n)
}

/// How long the list of an answer is. `None` where the answer cannot tell (the daily table, a
/// row per day of the period whatever the data; the showcase PNG): there the other paths counted
/// on the same data show it grew.
type Len = fn(&Value) -> Option<usize>;

/// The length of the array at a JSON pointer (`/metrics/0/members`).
fn array_at(body: &Value, pointer: &str) -> Option<usize> {
    Some(
        body.pointer(pointer)
            .and_then(Value::as_array)
            .unwrap_or_else(|| panic!("no array at {pointer}: {body}"))
            .len(),
    )
}

/// Whether the two counts of `path` are equal and, where `len` can tell, the list grew between
/// them: `Err` says how not.
fn constant_by(
    path: &str,
    len: Len,
    (small, small_body): (u64, Value),
    (large, large_body): (u64, Value),
) -> Result<(), String> {
    let (small_rows, large_rows) = (len(&small_body), len(&large_body));
    let shown = |rows: Option<usize>| rows.map_or("?".to_owned(), |n| n.to_string());
    let (small_rows_shown, large_rows_shown) = (shown(small_rows), shown(large_rows));
    println!("{path}: {small} statements for {small_rows_shown} rows, {large} for {large_rows_shown}");
    if let (Some(small_rows), Some(large_rows)) = (small_rows, large_rows)
        && large_rows <= small_rows
    {
        return Err(format!("{path}: the list did not grow ({small_rows} rows, then {large_rows})"));
    }
    if large != small {
        return Err(format!(
            "{path}: {small} statements for {small_rows_shown} rows, {large} for {large_rows_shown}: a query per row"
        ));
    }
    Ok(())
}

/// Asserts the two counts of `path` are equal and the list (see [`rows`]) grew between them.
fn assert_constant(path: &str, small: (u64, Value), large: (u64, Value)) {
    if let Err(e) = constant_by(path, rows, small, large) {
        panic!("{e}");
    }
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
    ($app:expr, $path:expr, $token:expr, |$i:ident| $make:expr) => {
        check_each!($app, $token, [($path, rows)], |$i| $make)
    };
}

/// Counts each path (with the [`Len`] that reads its answer) with [`SMALL`] rows made by `make`,
/// then each again with [`LARGE`]: several reads of the same data, made once. Fails naming every
/// path whose count changed, not only the first.
macro_rules! check_each {
    ($app:expr, $token:expr, [$(($path:expr, $len:expr)),+ $(,)?], |$i:ident| $make:expr) => {{
        for $i in 0..SMALL {
            $make;
        }
        let small = vec![$(statements($app, &$path, $token).await),+];
        for $i in SMALL..LARGE {
            $make;
        }
        let mut small = small.into_iter();
        let mut failed: Vec<String> = Vec::new();
        $(
            let large = statements($app, &$path, $token).await;
            failed.extend(constant_by(&$path, $len, small.next().unwrap(), large).err());
        )+
        assert!(failed.is_empty(), "{}", failed.join("\n"));
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

async fn patch(app: &TestApp, path: &str, token: &str, body: &Value) -> Value {
    json_ok(app.patch_json(path, Some(token), body).await, 200).await
}

async fn delete(app: &TestApp, path: &str, token: &str) {
    let response = app.client.delete(app.url(path)).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 204, "DELETE {path}");
}

/// Posts an image and expects `status`.
async fn post_jpeg(app: &TestApp, path: &str, token: &str, seed: usize, status: u16) -> Value {
    let bytes = crate::photos::photo(64 + seed as u32, 48, &Default::default());
    let response = app.post_raw(path, Some(token), "image/jpeg", bytes).await;
    json_ok(response, status).await
}

fn square(lat: f64, lon: f64, half: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half], [lon - half, lat - half]]]})
}

/// Nearby partners and the territory report, over the same partners: outlet A1 draws its territory
/// 20 km north, so each partner at the centre lies outside the territory governing its owner.
#[tokio::test]
async fn nearby_and_outside_territory() {
    let app = spawn_app().await;
    let admin = app.login_as(Role::Admin).await;
    let am = app.login_as(Role::AccountManager).await;
    let territory = json!({"territory": square(CENTRE.0 + 0.2, CENTRE.1, 0.01)});
    patch(&app, &format!("/api/v1/org-units/{}", app.tree.outlet_a1), &admin.token, &territory).await;
    let nearby = format!("/api/v1/partners/nearby?lat={}&lon={}&radius_m=5000&limit=100", CENTRE.0, CENTRE.1);
    check_each!(
        &app,
        &am.token,
        [(nearby, |b| array_at(b, "/items")), ("/api/v1/partners/outside-territory", |b| array_at(b, "/items"))],
        |_i| partner(&app, &am.token).await
    );
}

/// A partner's moves along the pipeline and a lead's: each move one entry of its history.
#[tokio::test]
async fn partner_and_lead_histories() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let shop = partner(&app, &am.token).await;
    let path = format!("/api/v1/partners/{shop}/history");
    let moves = ["contacted", "negotiating", "signed", "active", "paused", "active", "paused", "active"];
    check!(&app, &path, &am.token, |i| {
        let body = json!({"status": moves[i], "status_note": format!("第{i}步")});
        patch(&app, &format!("/api/v1/partners/{shop}"), &am.token, &body).await
    });

    let body = json!({"kind": "person", "name": "李先生", "phone": unique_phone(), "source": "walk_in"});
    let lead = id(&post(&app, "/api/v1/leads", &am.token, &body).await);
    let path = format!("/api/v1/leads/{lead}/history");
    check!(&app, &path, &am.token, |i| {
        let body = if i % 2 == 0 {
            json!({"status": "contacted"})
        } else {
            json!({"status": "lost", "lost_reason": "没兴趣"})
        };
        patch(&app, &format!("/api/v1/leads/{lead}"), &am.token, &body).await
    });
}

/// An event's attendee exports, and its steps with their evidence photos.
#[tokio::test]
async fn attendee_exports_and_event_steps() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let host = partner(&app, &am.token).await;
    let body = json!({
        "partner_id": host, "title": "反诈讲座", "theme": "anti_fraud", "venue": "社区活动室", "capacity": 50,
        "starts_at": (Utc::now() + Duration::days(3)).to_rfc3339(),
        "ends_at": (Utc::now() + Duration::days(3) + Duration::hours(2)).to_rfc3339(),
    });
    let event = post(&app, "/api/v1/events", &am.token, &body).await;
    let (event_id, code) = (id(&event), event["registration_code"].as_str().unwrap().to_owned());
    let evidence = |b: &Value| -> Option<usize> {
        Some(b["items"].as_array().unwrap().iter().map(|s| s["evidence"].as_array().unwrap().len()).sum())
    };
    check_each!(
        &app,
        &am.token,
        [
            (format!("/api/v1/events/{event_id}/attendees.csv"), |b| array_at(b, "")),
            (format!("/api/v1/events/{event_id}/attendees.xlsx"), |b| b["参加者"].as_u64().map(|n| n as usize)),
            (format!("/api/v1/events/{event_id}/steps"), evidence),
        ],
        |i| {
            let registration = json!({"name": "王阿姨", "phone": unique_phone(), "consent": true});
            let at = format!("/api/v1/public/events/{code}/registrations");
            json_ok(app.post_json(&at, None, &registration).await, 201).await;
            post_jpeg(&app, &format!("/api/v1/events/{event_id}/steps/prepare/evidence"), &am.token, i, 200).await
        }
    );
}

/// Noon (UTC+8) `days` days before today.
fn noon_days_ago(days: usize) -> String {
    format!("{}T12:00:00+08:00", day(-(days as i64)))
}

/// A project's figures as its team grows: each new member joins the team, pays into the pool and
/// makes a verified visit on a day of their own (points, so a ranking and a star of that day),
/// and the project gets a manual metric and a milestone more.
#[tokio::test]
async fn project_figures_and_reports() {
    let app = crate::helpers::spawn_history_app().await;
    let admin = app.login_as(Role::Admin).await;
    let lead = app.login_as(Role::AccountManager).await;
    let body = json!({
        "name": "商户客群提升", "segment": "outreach", "starts_on": day(-9), "ends_on": day(20),
        "org_unit_id": app.tree.outlet_a1, "lead_id": lead.id, "member_ids": [lead.id],
        "targets": [{"metric": "visits", "total": 30}, {"metric": "verified_visits", "total": 20}],
        "points_rules": [{"action": "verified_visit", "points": 10}]
    });
    let project = post(&app, "/api/v1/projects", &admin.token, &body).await;
    let active = json!({"status": "active", "version": project["version"]});
    let p = format!("/api/v1/projects/{}", id(&project));
    assert_eq!(patch(&app, &p, &admin.token, &active).await["status"], "active");
    let mut team = vec![lead.id];
    let members = |b: &Value| array_at(b, "/member_ids");
    let ranked = |b: &Value| array_at(b, "/items");
    let sheet = |b: &Value| b["Members"].as_u64().map(|n| n as usize);
    let lines = |b: &Value| array_at(b, "");
    let unknown = |_: &Value| -> Option<usize> { None };
    check_each!(
        &app,
        &admin.token,
        [
            (p.clone(), members),
            (format!("{p}/progress"), |b| array_at(b, "/metrics/0/members")),
            (format!("{p}/leaderboard?period=day"), ranked),
            (format!("{p}/leaderboard?period=week"), ranked),
            (format!("{p}/leaderboard?period=month"), ranked),
            (format!("{p}/stars?period=day"), ranked),
            (format!("{p}/points"), ranked),
            (format!("{p}/pool"), |b| array_at(b, "/entries")),
            (format!("{p}/report.xlsx"), sheet),
            (format!("{p}/report/progress.csv"), lines),
            (format!("{p}/report/members.csv"), lines),
            (format!("{p}/report/daily.csv"), unknown),
            (format!("{p}/report/leaderboard.csv"), lines),
            (format!("{p}/report/milestones.csv"), lines),
            (format!("{p}/showcase.png"), unknown),
            (format!("/api/v1/reports/daily?org_unit_id={}", app.tree.outlet_a1), |b| array_at(b, "/members")),
        ],
        |i| {
            let member = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
            team.push(member.id);
            let body = json!({"lead_id": lead.id, "member_ids": team});
            let response = crate::projects::put_json(&app, &format!("{p}/team"), &admin.token, &body).await;
            json_ok(response, 200).await;
            let shop = partner(&app, &member.token).await;
            let body = json!({
                "partner_id": shop, "location": {"lat": CENTRE.0, "lon": CENTRE.1, "accuracy_m": 10},
                "visited_at": noon_days_ago(i + 1), "purpose": "relationship", "project_id": project["id"]
            });
            assert_eq!(post(&app, "/api/v1/visits", &member.token, &body).await["verified"], true);
            let body = json!({"amount": 10, "user_id": member.id});
            post(&app, &format!("{p}/pool/contributions"), &admin.token, &body).await;
            let body = json!({"name": format!("AUM增量{i}"), "unit": "万元", "total": 500});
            post(&app, &format!("{p}/manual-metrics"), &admin.token, &body).await;
            let body = json!({"title": format!("走访第{i}个社区"), "due_on": day(i as i64 + 1)});
            post(&app, &format!("{p}/milestones"), &admin.token, &body).await
        }
    );
}

/// Coverage: each partner added 100 days ago and never visited is overdue, and listed with its
/// owner's name.
#[tokio::test]
async fn coverage() {
    let app = spawn_app().await;
    let manager = app.login_as(Role::SubBranchManager).await;
    let am = app.login_as(Role::AccountManager).await;
    let overdue = |b: &Value| array_at(b, "/overdue");
    check_each!(
        &app,
        &manager.token,
        [
            ("/api/v1/map/coverage", overdue),
            ("/api/v1/map/coverage?bbox=112.9,22.4,113.3,22.8&zoom=14&days=7", overdue),
        ],
        |_i| {
            let (shop, at) = (partner(&app, &am.token).await, (Utc::now() - Duration::days(100)).naive_utc());
            app.state
                .db
                .run(move |conn| {
                    conn.write_tx(|c| {
                        let seq = outreach::store::sync::next_seq(c)?;
                        outreach::store::field::partners::backdate(c, &shop, at, seq)
                    })
                })
                .await
                .unwrap()
        }
    );
}

/// The map's other layers: visits at partners, events and the leads they bring.
#[tokio::test]
async fn map_features_of_every_layer() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let path =
        "/api/v1/map/features?bbox=113.0765,22.5737,113.0865,22.5837&zoom=19&layers=visits,events,leads&cluster=false";
    check!(&app, path, &am.token, |_i| {
        let shop = partner(&app, &am.token).await;
        let body = json!({
            "partner_id": shop, "location": {"lat": CENTRE.0, "lon": CENTRE.1, "accuracy_m": 10},
            "visited_at": minutes_ago(30), "purpose": "relationship"
        });
        post(&app, "/api/v1/visits", &am.token, &body).await;
        let body = json!({
            "partner_id": shop, "title": "反诈讲座", "theme": "anti_fraud", "venue": "社区活动室", "capacity": 50,
            "starts_at": (Utc::now() + Duration::days(3)).to_rfc3339(),
            "ends_at": (Utc::now() + Duration::days(3) + Duration::hours(2)).to_rfc3339(),
        });
        post(&app, "/api/v1/events", &am.token, &body).await;
        let body = json!({"kind": "person", "name": "李先生", "phone": unique_phone(), "source": "walk_in", "partner_id": shop});
        post(&app, "/api/v1/leads", &am.token, &body).await
    });
}

/// One supervision's findings, and the morning report of the day they are overdue.
#[tokio::test]
async fn supervision_findings_and_the_morning_report() {
    let app = spawn_app().await;
    let admin = app.login_as(Role::Admin).await;
    let (owner, _) = app.user(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let visit = supervision(&app, &admin).await;
    let report = format!("/api/v1/reports/daily?org_unit_id={}&date={}", app.tree.outlet_a1, day(5));
    check_each!(
        &app,
        &admin.token,
        [
            (format!("/api/v1/supervisions/{visit}"), |b| array_at(b, "/findings")),
            (report, |b| array_at(b, "/overdue_findings")),
        ],
        |i| {
            let finding = json!({"title": format!("晨会流程{i}"), "owner_id": owner, "due_on": day(2)});
            post(&app, &format!("/api/v1/supervisions/{visit}/findings"), &admin.token, &finding).await
        }
    );
}

/// A coaching plan's reviews, and the managers' overview of every plan.
#[tokio::test]
async fn coaching_plan_reviews_and_overview() {
    let app = spawn_app().await;
    let admin = app.login_as(Role::Admin).await;
    let (trainee, _) = app.user(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let plan = id(&post(
        &app,
        "/api/v1/coaching-plans",
        &admin.token,
        &json!({"trainee_id": trainee, "coach_name": "外部教练"}),
    )
    .await);
    let path = format!("/api/v1/coaching-plans/{plan}");
    check_each!(&app, &admin.token, [(path, |b| array_at(b, "/reviews"))], |i| {
        post(
            &app,
            &format!("/api/v1/coaching-plans/{plan}/reviews"),
            &admin.token,
            &json!({"summary": format!("跟岗复盘{i}")}),
        )
        .await
    });

    let plans = |b: &Value| -> Option<usize> {
        Some(b["phases"].as_array().unwrap().iter().map(|p| p["plans"].as_array().unwrap().len()).sum())
    };
    check_each!(&app, &admin.token, [("/api/v1/coaching-plans/overview", plans)], |_i| {
        let (trainee, _) = app.user(Role::AccountManager, Some(app.tree.outlet_a1)).await;
        post(&app, "/api/v1/coaching-plans", &admin.token, &json!({"trainee_id": trainee, "coach_name": "外部教练"}))
            .await
    });
}

/// A case's photos.
#[tokio::test]
async fn case_photos() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let body = json!({"title": "社区亲子课", "segment": "outreach", "what_done": "办了三场", "results": "新增客户"});
    let case = id(&post(&app, "/api/v1/cases", &am.token, &body).await);
    check_each!(&app, &am.token, [(format!("/api/v1/cases/{case}"), |b| array_at(b, "/photos"))], |i| {
        post_jpeg(&app, &format!("/api/v1/cases/{case}/photos"), &am.token, i, 201).await
    });
}

/// A sync pull of supervision work and visit photos: created, updated and deleted supervisions,
/// findings and photos.
#[tokio::test]
async fn sync_pull_of_supervisions_findings_and_photos() {
    let app = spawn_app().await;
    let admin = app.login_as(Role::Admin).await;
    let am = app.login_as(Role::AccountManager).await;
    let (_, first) = statements(&app, "/api/v1/sync/pull", &admin.token).await;
    let mut at = first["cursor"].as_str().unwrap().to_owned();
    let mut counts = Vec::new();
    for n in [SMALL, LARGE] {
        for i in 0..n {
            let kept = supervision(&app, &admin).await;
            let finding = json!({"title": "晨会流程", "owner_id": am.id, "due_on": day(2)});
            let finding = post(&app, &format!("/api/v1/supervisions/{kept}/findings"), &admin.token, &finding).await;
            patch(&app, &format!("/api/v1/findings/{}", id(&finding)), &am.token, &json!({"done_note": "处理中"}))
                .await;
            let gone = supervision(&app, &admin).await;
            delete(&app, &format!("/api/v1/supervisions/{gone}"), &admin.token).await;
            let shot = visit(&app, &am.token).await;
            post_jpeg(&app, &format!("/api/v1/visits/{shot}/photos"), &am.token, i, 201).await;
            let gone = post_jpeg(&app, &format!("/api/v1/visits/{shot}/photos"), &am.token, 100 + i, 201).await;
            delete(&app, &format!("/api/v1/photos/{}", id(&gone)), &am.token).await;
        }
        let path = format!("/api/v1/sync/pull?cursor={at}");
        let (count, body) = statements(&app, &path, &admin.token).await;
        assert_eq!(body["has_more"], json!(false), "{body}");
        for (table, deleted) in [("supervisions", n), ("visit_photos", n)] {
            assert_eq!(body["changes"][table]["deleted"].as_array().map(Vec::len), Some(deleted), "{table}: {body}");
        }
        at = body["cursor"].as_str().unwrap().to_owned();
        counts.push((count, body));
    }
    let large = counts.pop().unwrap();
    let small = counts.pop().unwrap();
    assert_constant("/api/v1/sync/pull?cursor=… (supervisions, findings, photos)", small, large);
}

/// A sync pull after partners and supervision findings moved from one outlet to another, both in
/// the caller's scope: each left a tombstone in its old outlet, and the caller, who still sees it,
/// gets it as an update and not as a deletion.
#[tokio::test]
async fn sync_pull_after_records_moved_within_the_scope() {
    let app = spawn_app().await;
    let admin = app.login_as(Role::Admin).await;
    let manager = app.login_as(Role::SubBranchManager).await;
    let am = app.login_as(Role::AccountManager).await;
    let (colleague, _) = app.user(Role::AccountManager, Some(app.tree.outlet_a1b)).await;
    let visit = supervision(&app, &admin).await;
    let (_, first) = statements(&app, "/api/v1/sync/pull", &manager.token).await;
    let mut at = first["cursor"].as_str().unwrap().to_owned();
    let mut counts = Vec::new();
    for n in [SMALL, LARGE] {
        for _ in 0..n {
            let shop = partner(&app, &am.token).await;
            let body = json!({"owner_id": colleague, "org_unit_id": app.tree.outlet_a1b});
            let moved = patch(&app, &format!("/api/v1/partners/{shop}"), &manager.token, &body).await;
            assert_eq!(moved["org_unit_id"], app.tree.outlet_a1b.to_string(), "{moved}");
            let finding = json!({"title": "晨会流程", "owner_id": am.id, "due_on": day(2)});
            let finding = post(&app, &format!("/api/v1/supervisions/{visit}/findings"), &admin.token, &finding).await;
            let path = format!("/api/v1/findings/{}", id(&finding));
            patch(&app, &path, &admin.token, &json!({"owner_id": colleague})).await;
        }
        let path = format!("/api/v1/sync/pull?cursor={at}");
        let (count, body) = statements(&app, &path, &manager.token).await;
        assert_eq!(body["has_more"], json!(false), "{body}");
        for table in ["partners", "supervision_findings"] {
            assert_eq!(body["changes"][table]["deleted"], json!([]), "{table} moved, not gone: {body}");
            assert_eq!(body["changes"][table]["created"].as_array().map(Vec::len), Some(n), "{table}: {body}");
        }
        at = body["cursor"].as_str().unwrap().to_owned();
        counts.push((count, body));
    }
    let large = counts.pop().unwrap();
    let small = counts.pop().unwrap();
    assert_constant("/api/v1/sync/pull?cursor=… (moved partners and findings)", small, large);
}
