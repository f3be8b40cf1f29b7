//! WatermelonDB's own sync protocol (`GET/POST /api/v1/sync`, `GET /api/v1/sync/schema`), at
//! the HTTP level: the shape `synchronize()` requires, pushes that converge, and bad input. The
//! real `synchronize()` runs against the server in `clients/react-native` (CI's kit lane).

use outreach::domain::Role;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, assert_problem, json_ok, spawn_app};
use crate::partners::{CENTRE, create as create_partner, partner_body};

async fn pull(app: &TestApp, token: &str, last: i64) -> Value {
    json_ok(app.get(format!("/api/v1/sync?last_pulled_at={last}&schema_version=1"), Some(token)).await, 200).await
}

pub async fn push(app: &TestApp, token: &str, changes: Value) -> Value {
    json_ok(app.post_json("/api/v1/sync", Some(token), &json!({"changes": changes})).await, 200).await
}

fn updated<'a>(pulled: &'a Value, table: &str) -> &'a Vec<Value> {
    pulled["changes"][table]["updated"].as_array().expect("an updated list")
}

fn find<'a>(pulled: &'a Value, table: &str, id: &str) -> Option<&'a Value> {
    updated(pulled, table).iter().find(|r| r["id"] == id)
}

/// A record as WatermelonDB pushes it: its raw columns, `_status` and `_changed`.
pub fn raw(record: &Value, status: &str, changed: &[&str]) -> Value {
    let mut row: Map<String, Value> = record.as_object().unwrap().clone();
    row.insert("_status".into(), json!(status));
    row.insert("_changed".into(), json!(changed.join(",")));
    Value::Object(row)
}

#[tokio::test]
async fn the_schema_is_public_and_watermelondb_shaped() {
    let app = spawn_app().await;
    let schema = json_ok(app.get("/api/v1/sync/schema", None).await, 200).await;
    assert_eq!(schema["version"], 2);
    // Version 2 took the work of the market offline: one migration creating its tables.
    let steps = schema["migrations"][0]["steps"].as_array().unwrap();
    assert_eq!(schema["migrations"][0]["toVersion"], 2);
    let created: Vec<&str> = steps.iter().map(|s| s["schema"]["name"].as_str().unwrap()).collect();
    assert_eq!(
        created,
        ["org_units", "colleagues", "projects", "leads", "events", "event_steps", "event_attendees"],
        "{steps:?}"
    );
    let v1 = json_ok(app.get("/api/v1/sync/schema?version=1", None).await, 200).await;
    assert_eq!((v1["version"].as_i64(), v1["migrations"].clone()), (Some(1), json!([])));
    assert!(v1["tables"].as_array().unwrap().iter().all(|t| t["name"] != "leads"));
    let tables: Vec<&str> = schema["tables"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    for table in ["partners", "visits", "visit_photos", "supervisions", "supervision_findings", "sync_rejections"] {
        assert!(tables.contains(&table), "{table} in {tables:?}");
    }
    for table in schema["tables"].as_array().unwrap() {
        let columns = table["columns"].as_array().unwrap();
        for column in columns {
            assert!(["string", "number", "boolean"].contains(&column["type"].as_str().unwrap()), "{column}");
            assert!(column["name"] != "id" && !column["name"].as_str().unwrap().starts_with('_'), "{column}");
        }
        // Times are epoch milliseconds (steps and attendees have none of their own).
        for time in ["created_at", "updated_at"] {
            if let Some(c) = columns.iter().find(|c| c["name"] == time) {
                assert_eq!((c["type"].as_str(), c["isOptional"].as_bool()), (Some("number"), Some(false)), "{table}");
            } else {
                assert!(
                    ["event_steps", "event_attendees"].contains(&table["name"].as_str().unwrap()),
                    "{time} in {table}"
                );
            }
        }
    }
    assert_problem(app.get("/api/v1/sync/schema?version=0", None).await, 422, "validation_failed").await;
    assert_problem(app.get("/api/v1/sync/schema?version=3", None).await, 422, "validation_failed").await;
}

#[tokio::test]
async fn a_pull_is_one_change_set_of_flat_records_with_a_numeric_timestamp() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let mut body = partner_body("老伙伴", CENTRE.0, CENTRE.1);
    body["pain_points"] = json!(["排队久", "停车难"]);
    let partner = create_partner(&app, &am.token, &body).await;
    let id = partner["id"].as_str().unwrap();

    let first = pull(&app, &am.token, 0).await;
    let timestamp = first["timestamp"].as_i64().expect("an integer timestamp");
    assert!(timestamp > 0);
    let tables = first["changes"].as_object().unwrap();
    assert!(tables.values().all(|t| t["created"] == json!([]) && t["deleted"] == json!([])), "{first}");
    let row = find(&first, "partners", id).expect("the partner");
    assert!(row.as_object().unwrap().values().all(|v| !v.is_object() && !v.is_array()), "flat: {row}");
    assert_eq!(row["lat"].as_f64(), partner["location"]["lat"].as_f64());
    assert_eq!(row["pain_points_json"], json!("[\"排队久\",\"停车难\"]"));
    assert!(row["created_at"].is_i64() && row["updated_at"].is_i64(), "epoch ms: {row}");
    assert!(row.get("_status").is_none() && row.get("_changed").is_none());

    // Nothing changed: an empty change set; the timestamp does not go back.
    let again = pull(&app, &am.token, timestamp).await;
    assert_eq!(updated(&again, "partners").len(), 0);
    assert!(again["timestamp"].as_i64().unwrap() >= timestamp);

    // In GCJ-02 (the datum Chinese phone maps use): the same numbers as the REST API's.
    let rest = json_ok(app.get(format!("/api/v1/partners/{id}?coord=gcj02"), Some(&am.token)).await, 200).await;
    let gcj = json_ok(app.get("/api/v1/sync?coord=gcj02", Some(&am.token)).await, 200).await;
    let row = find(&gcj, "partners", id).unwrap();
    assert_eq!(
        (row["lat"].as_f64(), row["lon"].as_f64()),
        (rest["location"]["lat"].as_f64(), rest["location"]["lon"].as_f64())
    );
}

#[tokio::test]
async fn own_creates_come_back_as_updates_and_replays_change_nothing() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let t0 = pull(&app, &am.token, 0).await["timestamp"].as_i64().unwrap();
    let id = Uuid::new_v4().to_string();
    // A coordinate that serde_json without `float_roundtrip` reads one ULP off.
    let (lat, lon) = (22.578_653_119_873_047, 113.136_149_587_334_15);
    let created = json!({
        "id": id, "_status": "created", "_changed": "", "name": "  扫街发现的新店 ", "category": "other",
        "status": "", "lat": lat, "lon": lon, "address": "", "contact_name": null, "contact_phone": null,
        "audience_size": null, "audience_unit": null, "pain_points_json": "", "agreed_benefits_json": "",
        "visit_cadence_days": 0, "geofence_m": 0, "owner_id": "", "org_unit_id": "", "territory_unit_id": null,
        "version": 0, "created_at": 1_700_000_000_000_i64, "updated_at": 1_700_000_000_000_i64
    });
    let summary =
        push(&app, &am.token, json!({"partners": {"created": [created], "updated": [], "deleted": []}})).await;
    assert_eq!(summary, json!({"applied": 1, "unchanged": 0, "refused": 0}));
    let rest = json_ok(app.get(format!("/api/v1/partners/{id}"), Some(&am.token)).await, 200).await;
    assert_eq!(rest["name"], "扫街发现的新店");
    assert_eq!(
        (rest["location"]["lat"].as_f64(), rest["location"]["lon"].as_f64()),
        (Some(lat), Some(lon)),
        "same bits"
    );

    let t1 = pull(&app, &am.token, t0).await;
    let row = find(&t1, "partners", &id).expect("the phone's own create, as an update").clone();
    assert_eq!(t1["changes"]["partners"]["created"], json!([]));
    assert_eq!(row["name"], "扫街发现的新店", "the server's normalised copy");
    assert_eq!(row["owner_id"], json!(am.id.to_string()), "server-filled");

    // The answer was lost: the phone pushes the same create again (after the pull merged the
    // server's copy in), and an update whose columns equal the server's. Nothing changes.
    let mut merged = row.clone();
    merged["updated_at"] = json!(1_700_000_999_000_i64);
    let replay = push(
        &app,
        &am.token,
        json!({"partners": {"created": [raw(&merged, "created", &[])], "updated": [raw(&merged, "updated", &["name", "lat", "lon", "updated_at"])]}}),
    )
    .await;
    assert_eq!(replay, json!({"applied": 0, "unchanged": 2, "refused": 0}));
    let after = json_ok(app.get(format!("/api/v1/partners/{id}"), Some(&am.token)).await, 200).await;
    assert_eq!(after["version"], rest["version"], "not an edit (no version, so no audit entry, no move)");
    // The server's copy is sent again, so the phone drops its own `updated_at`.
    let t2 = pull(&app, &am.token, t1["timestamp"].as_i64().unwrap()).await;
    assert_eq!(find(&t2, "partners", &id).map(|r| &r["updated_at"]), Some(&row["updated_at"]));
}

#[tokio::test]
async fn an_update_applies_only_the_changed_columns_and_the_later_push_wins_a_column() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let manager = app.login_as(Role::SubBranchManager).await;
    let partner = create_partner(&app, &am.token, &partner_body("老伙伴", CENTRE.0, CENTRE.1)).await;
    let id = partner["id"].as_str().unwrap().to_owned();
    let phone_a = find(&pull(&app, &am.token, 0).await, "partners", &id).unwrap().clone();
    let phone_m = find(&pull(&app, &manager.token, 0).await, "partners", &id).unwrap().clone();

    let mut a = phone_a.clone();
    a["address"] = json!("A改的地址");
    a["name"] = json!("A改的名字");
    let mut m = phone_m.clone();
    m["contact_name"] = json!("经理填的联系人");
    m["name"] = json!("经理改的名字");
    push(&app, &am.token, json!({"partners": {"updated": [raw(&a, "updated", &["address", "name", "updated_at"])]}}))
        .await;
    push(
        &app,
        &manager.token,
        json!({"partners": {"updated": [raw(&m, "updated", &["contact_name", "name", "updated_at"])]}}),
    )
    .await;
    let rest = json_ok(app.get(format!("/api/v1/partners/{id}"), Some(&am.token)).await, 200).await;
    assert_eq!(rest["address"], "A改的地址", "different columns merge");
    assert_eq!(rest["contact_name"], "经理填的联系人");
    assert_eq!(rest["name"], "经理改的名字", "the same column: the later push wins");

    // A whole stale record with one changed column changes that column only.
    let mut stale = phone_a.clone();
    stale["geofence_m"] = json!(150);
    push(&app, &am.token, json!({"partners": {"updated": [raw(&stale, "updated", &["geofence_m"])]}})).await;
    let rest = json_ok(app.get(format!("/api/v1/partners/{id}"), Some(&am.token)).await, 200).await;
    assert_eq!((rest["geofence_m"].as_i64(), rest["name"].as_str()), (Some(150), Some("经理改的名字")));
}

#[tokio::test]
async fn refused_changes_are_acknowledged_then_corrected_with_their_reason() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let partner = create_partner(&app, &am.token, &partner_body("老伙伴", CENTRE.0, CENTRE.1)).await;
    let id = partner["id"].as_str().unwrap().to_owned();
    let first = pull(&app, &am.token, 0).await;
    let t0 = first["timestamp"].as_i64().unwrap();
    let row = find(&first, "partners", &id).unwrap().clone();

    let mut bad = row.clone();
    bad["status"] = json!("signed"); // prospect → signed skips the steps between
    let visit = Uuid::new_v4().to_string();
    let refused_visit = json!({"id": visit, "partner_id": id, "visited_at": 1_700_000_000_000_i64, "lat": 91.0, "lon": 113.0,
        "accuracy_m": 5, "purpose": "relationship", "notes": "", "mock_location": null, "location_age_s": null,
        "outcome": null, "next_step": null, "next_visit_at": null, "project_id": null});
    let wrong_type = json!({"id": Uuid::new_v4(), "name": 42, "category": "other", "lat": CENTRE.0, "lon": CENTRE.1});
    let summary = push(
        &app,
        &am.token,
        json!({
            "partners": {"created": [raw(&wrong_type, "created", &[])], "updated": [raw(&bad, "updated", &["status"])], "deleted": [Uuid::new_v4(), "not-a-uuid"]},
            "visits": {"created": [raw(&refused_visit, "created", &[])]},
            "supervision_findings": {"deleted": [Uuid::new_v4()]},
        }),
    )
    .await;
    assert_eq!(summary["refused"], 3, "{summary}");
    assert_eq!(summary["applied"], 3, "deletes of unknown ids succeed silently: {summary}");

    let next = pull(&app, &am.token, t0).await;
    assert_eq!(find(&next, "partners", &id).map(|r| &r["status"]), Some(&row["status"]), "the server's copy");
    assert!(next["changes"]["visits"]["deleted"].as_array().unwrap().contains(&json!(visit)), "refused create dropped");
    let reasons = updated(&next, "sync_rejections");
    let codes: Vec<(&str, &str)> =
        reasons.iter().map(|r| (r["table_name"].as_str().unwrap(), r["code"].as_str().unwrap())).collect();
    assert!(codes.contains(&("partners", "invalid_transition")), "{codes:?}");
    assert!(codes.contains(&("visits", "validation_failed")), "{codes:?}");
    assert!(codes.contains(&("partners", "validation_failed")), "{codes:?}");
    assert!(reasons.iter().all(|r| !r["message"].as_str().unwrap().is_empty()));

    // The app dismisses a reason by deleting it; a colleague cannot see or dismiss it.
    let dismissed = reasons[0]["id"].as_str().unwrap().to_owned();
    let colleague = app.login_as(Role::AccountManager).await;
    assert_eq!(updated(&pull(&app, &colleague.token, 0).await, "sync_rejections").len(), 0);
    push(&app, &colleague.token, json!({"sync_rejections": {"deleted": [dismissed]}})).await;
    let t1 = next["timestamp"].as_i64().unwrap();
    assert_eq!(updated(&pull(&app, &am.token, 0).await, "sync_rejections").len(), 3);
    push(&app, &am.token, json!({"sync_rejections": {"deleted": [dismissed]}})).await;
    let later = pull(&app, &am.token, t1).await;
    assert_eq!(later["changes"]["sync_rejections"]["deleted"], json!([dismissed]));
}

#[tokio::test]
async fn bad_requests_are_problems_never_500s() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let token = Some(am.token.as_str());
    for query in [
        "last_pulled_at=abc",
        "schema_version=0",
        "schema_version=99",
        "migration=%7Bnope",
        "migration=%7B%22from%22%3A1%2C%22tables%22%3A%5B%22nope%22%5D%7D",
    ] {
        assert_problem(app.get(format!("/api/v1/sync?{query}"), token).await, 422, "validation_failed").await;
    }
    assert_problem(app.get("/api/v1/sync?last_pulled_at=999999999999", token).await, 409, "resync_required").await;
    assert_problem(app.get("/api/v1/sync", None).await, 401, "missing_token").await;
    assert_problem(
        app.post_json("/api/v1/sync", token, &json!({"changes": {"nope": {}}})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_problem(
        app.post_json("/api/v1/sync", token, &json!({"changes": {"partners": {"created": [1]}}})).await,
        422,
        "invalid_body",
    )
    .await;
    assert_problem(
        app.post_json("/api/v1/sync", token, &json!({"changes": {"partners": {"renamed": []}}})).await,
        422,
        "invalid_body",
    )
    .await;
    assert_problem(app.post_raw("/api/v1/sync", token, "application/json", b"{".to_vec()).await, 400, "malformed_json")
        .await;
    let many: Vec<Value> = (0..10_001).map(|_| json!(Uuid::new_v4())).collect();
    assert_problem(
        app.post_json("/api/v1/sync", token, &json!({"changes": {"visits": {"deleted": many}}})).await,
        422,
        "validation_failed",
    )
    .await;
}

#[tokio::test]
async fn answers_are_gzipped_for_clients_that_accept_it() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    for i in 0..30 {
        create_partner(&app, &am.token, &partner_body(&format!("伙伴{i}"), CENTRE.0 + f64::from(i) * 1e-4, CENTRE.1))
            .await;
    }
    let response = app
        .client
        .get(app.url("/api/v1/sync"))
        .bearer_auth(&am.token)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some("gzip"));
    let zipped = response.bytes().await.unwrap().len();
    let plain = app.get("/api/v1/sync", Some(&am.token)).await.bytes().await.unwrap().len();
    assert!(zipped * 5 <= plain, "gzip {zipped} bytes vs {plain} plain");
}
