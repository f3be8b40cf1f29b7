use chrono::{Duration, SecondsFormat, Utc};
use outreach::domain::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, assert_problem, json_ok, spawn_app};
use crate::partners::{CENTRE, create as create_partner, partner_body};

fn ago(minutes: i64) -> String {
    (Utc::now() - Duration::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn visit_body(partner: Option<&str>, lat: f64, lon: f64, accuracy: f64, at: &str) -> Value {
    json!({"partner_id": partner, "location": {"lat": lat, "lon": lon, "accuracy_m": accuracy}, "visited_at": at, "purpose": "relationship", "notes": "见了店长"})
}

async fn visit(app: &TestApp, token: &str, body: &Value) -> Value {
    json_ok(app.post_json("/api/v1/visits", Some(token), body).await, 201).await
}

fn reasons(v: &Value) -> Vec<&str> {
    v["verification"]["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_check_in_at_the_partner_is_verified() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let p = create_partner(&app, &am.token, &partner_body("华润万家", CENTRE.0, CENTRE.1)).await;
    let pid = p["id"].as_str().unwrap();
    let v = visit(&app, &am.token, &visit_body(Some(pid), CENTRE.0 + 0.0003, CENTRE.1, 12.0, &ago(5))).await;
    assert_eq!((v["verified"].clone(), v["verification"]["verified"].clone()), (json!(true), json!(true)), "{v}");
    assert!((v["distance_m"].as_f64().unwrap() - 33.2).abs() < 1.0, "{v}");
    assert_eq!(reasons(&v), Vec::<&str>::new());
    assert_eq!(v["user_id"], am.id.to_string());
    assert_eq!(v["org_unit_id"], app.tree.outlet_a1.to_string());
    assert_eq!(v["location"]["accuracy_m"], 12.0);
    let fetched =
        json_ok(app.get(format!("/api/v1/visits/{}", v["id"].as_str().unwrap()), Some(&am.token)).await, 200).await;
    assert_eq!(fetched, v);
}

#[tokio::test]
async fn every_doubtful_signal_is_named() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let p = create_partner(&app, &am.token, &partner_body("社区", CENTRE.0, CENTRE.1)).await;
    let pid = p["id"].as_str().unwrap();

    let far_and_vague =
        visit(&app, &am.token, &visit_body(Some(pid), CENTRE.0 + 0.01, CENTRE.1, 500.0, &ago(600))).await;
    assert_eq!(reasons(&far_and_vague), ["outside_geofence", "poor_accuracy"]);
    assert_eq!(far_and_vague["verified"], false);

    let future = (Utc::now() + Duration::hours(2)).to_rfc3339();
    assert_eq!(
        reasons(&visit(&app, &am.token, &visit_body(Some(pid), CENTRE.0, CENTRE.1, 10.0, &future)).await),
        ["future_timestamp"]
    );

    let mut mocked = visit_body(Some(pid), CENTRE.0, CENTRE.1, 10.0, &ago(300));
    mocked["mock_location"] = json!(true);
    mocked["location_age_s"] = json!(3600);
    assert_eq!(reasons(&visit(&app, &am.token, &mocked).await), ["stale_location", "mock_location"]);
}

#[tokio::test]
async fn a_jump_across_the_province_is_implausible() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    visit(&app, &am.token, &visit_body(None, CENTRE.0, CENTRE.1, 10.0, &ago(30))).await;
    // Guangzhou, 66 km away, five minutes later.
    let jump = visit(&app, &am.token, &visit_body(None, 23.1291, 113.2644, 10.0, &ago(25))).await;
    assert_eq!(reasons(&jump), ["implausible_speed"]);
    // Another user's visits are no reference for this one.
    let other = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    assert_eq!(
        reasons(&visit(&app, &other.token, &visit_body(None, 23.1291, 113.2644, 10.0, &ago(25))).await),
        Vec::<&str>::new()
    );
}

#[tokio::test]
async fn a_cold_sweep_has_no_geofence_but_is_still_checked() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let mut sweep = visit_body(None, CENTRE.0 + 0.2, CENTRE.1, 8.0, &ago(10));
    sweep["purpose"] = json!("market_sweep");
    let v = visit(&app, &am.token, &sweep).await;
    assert_eq!(
        (v["verified"].clone(), v["distance_m"].clone(), v["partner_id"].clone()),
        (json!(true), Value::Null, Value::Null)
    );
    let vague = visit(&app, &am.token, &visit_body(None, CENTRE.0 + 0.2, CENTRE.1, 300.0, &ago(9))).await;
    assert_eq!(reasons(&vague), ["poor_accuracy"]);
}

#[tokio::test]
async fn a_gcj02_check_in_is_judged_in_wgs84() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let p = create_partner(&app, &am.token, &partner_body("高德用户的店", CENTRE.0, CENTRE.1)).await;
    let pid = p["id"].as_str().unwrap();
    let gcj = json_ok(app.get(format!("/api/v1/partners/{pid}?coord=gcj02"), Some(&am.token)).await, 200).await;
    let (lat, lon) = (gcj["location"]["lat"].as_f64().unwrap(), gcj["location"]["lon"].as_f64().unwrap());
    let v = json_ok(
        app.post_json("/api/v1/visits?coord=gcj02", Some(&am.token), &visit_body(Some(pid), lat, lon, 10.0, &ago(3)))
            .await,
        201,
    )
    .await;
    assert!(v["distance_m"].as_f64().unwrap() < 1.0, "{v}");
    assert_eq!(v["verified"], true);
    assert!((v["location"]["lat"].as_f64().unwrap() - lat).abs() < 1e-8, "returned in the datum sent");
    // The same coordinates taken as WGS-84 are hundreds of metres off.
    let naive = visit(&app, &am.token, &visit_body(Some(pid), lat, lon, 10.0, &ago(2))).await;
    assert_eq!(reasons(&naive), ["outside_geofence"]);
}

#[tokio::test]
async fn client_ids_make_visits_idempotent() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let mut body = visit_body(None, CENTRE.0, CENTRE.1, 10.0, &ago(10));
    body["id"] = json!(Uuid::new_v4());
    let first = visit(&app, &am.token, &body).await;
    let again = json_ok(app.post_json("/api/v1/visits", Some(&am.token), &body).await, 200).await;
    assert_eq!(again, first);
    body["notes"] = json!("different");
    assert_problem(app.post_json("/api/v1/visits", Some(&am.token), &body).await, 409, "id_conflict").await;
}

#[tokio::test]
async fn visits_are_private_to_their_author_and_their_managers() {
    let app = spawn_app().await;
    let t = &app.tree;
    let am = app.login_as(Role::AccountManager).await;
    let colleague = app.login_at(Role::AccountManager, Some(t.outlet_a1)).await;
    let sm = app.login_as(Role::SubBranchManager).await;
    let supervisor = app.login_as(Role::Supervisor).await;
    let foreign = app.login_at(Role::BranchManager, Some(t.branch_b)).await;
    let v = visit(&app, &am.token, &visit_body(None, CENTRE.0, CENTRE.1, 10.0, &ago(10))).await;
    let path = format!("/api/v1/visits/{}", v["id"].as_str().unwrap());
    assert_problem(app.get(&path, Some(&colleague.token)).await, 404, "not_found").await;
    assert_problem(app.get(&path, Some(&foreign.token)).await, 404, "not_found").await;
    json_ok(app.get(&path, Some(&sm.token)).await, 200).await;
    json_ok(app.get(&path, Some(&supervisor.token)).await, 200).await;
    assert_eq!(json_ok(app.get("/api/v1/visits", Some(&colleague.token)).await, 200).await["items"], json!([]));
    let theirs = json_ok(app.get(format!("/api/v1/visits?user_id={}", am.id), Some(&colleague.token)).await, 200).await;
    assert_eq!(theirs["items"], json!([]));
    assert_eq!(
        json_ok(app.get("/api/v1/visits", Some(&sm.token)).await, 200).await["items"].as_array().unwrap().len(),
        1
    );
    assert_problem(
        app.post_json("/api/v1/visits", Some(&supervisor.token), &visit_body(None, CENTRE.0, CENTRE.1, 10.0, &ago(1)))
            .await,
        403,
        "role_not_allowed",
    )
    .await;
    // Visiting another branch's partner: that partner does not exist for you.
    let foreign_partner = create_partner(&app, &foreign.token, &{
        let mut b = partner_body("别人的", CENTRE.0, CENTRE.1);
        b["org_unit_id"] = json!(t.outlet_b1);
        b
    })
    .await;
    let body = visit_body(foreign_partner["id"].as_str(), CENTRE.0, CENTRE.1, 10.0, &ago(1));
    assert_problem(app.post_json("/api/v1/visits", Some(&am.token), &body).await, 404, "not_found").await;
}

#[tokio::test]
async fn notes_change_but_place_and_time_do_not() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let v = visit(&app, &am.token, &visit_body(None, CENTRE.0, CENTRE.1, 10.0, &ago(10))).await;
    let path = format!("/api/v1/visits/{}", v["id"].as_str().unwrap());
    let next = (Utc::now() + Duration::days(7)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let changed = json_ok(
        app.patch_json(
            &path,
            Some(&am.token),
            &json!({"outcome": "positive", "next_step": "下周办活动", "next_visit_at": next, "version": 1}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!((changed["outcome"].as_str(), changed["version"].as_i64()), (Some("positive"), Some(2)));
    assert_problem(
        app.patch_json(&path, Some(&am.token), &json!({"notes": "x", "version": 1})).await,
        409,
        "version_conflict",
    )
    .await;
    let moved =
        app.patch_json(&path, Some(&am.token), &json!({"location": {"lat": 0, "lon": 0, "accuracy_m": 1}})).await;
    assert_problem(moved, 422, "invalid_body").await;
    let colleague = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    assert_problem(app.patch_json(&path, Some(&colleague.token), &json!({"notes": "x"})).await, 404, "not_found").await;
    let gone = app.client.delete(app.url(&path)).bearer_auth(&am.token).send().await.unwrap();
    assert_eq!(gone.status(), 204);
    assert_problem(app.get(&path, Some(&am.token)).await, 404, "not_found").await;
}

#[tokio::test]
async fn visit_filters_and_bad_input() {
    let app = crate::helpers::spawn_history_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let p = create_partner(&app, &am.token, &partner_body("店", CENTRE.0, CENTRE.1)).await;
    let pid = p["id"].as_str().unwrap();
    visit(&app, &am.token, &visit_body(Some(pid), CENTRE.0, CENTRE.1, 10.0, &ago(60 * 24 * 3))).await;
    visit(&app, &am.token, &visit_body(Some(pid), CENTRE.0 + 0.05, CENTRE.1, 10.0, &ago(60))).await;
    visit(&app, &am.token, &visit_body(None, CENTRE.0, CENTRE.1, 10.0, &ago(30))).await;
    let count = |v: Value| v["items"].as_array().unwrap().len();
    let get = |q: String| app.get(format!("/api/v1/visits?{q}"), Some(&am.token));
    assert_eq!(count(json_ok(get(format!("partner_id={pid}")).await, 200).await), 2);
    assert_eq!(count(json_ok(get("verified=false".to_owned()).await, 200).await), 1);
    let since = (Utc::now() - Duration::days(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
    assert_eq!(count(json_ok(get(format!("from={since}")).await, 200).await), 2);
    assert_eq!(count(json_ok(get(format!("to={since}")).await, 200).await), 1);
    assert_eq!(count(json_ok(get("bbox=113.0,22.6,113.2,22.7".to_owned()).await, 200).await), 1);
    for q in ["verified=maybe", "from=yesterday", "bbox=1,1,0,0", "from=2999-01-01T00:00:00Z"] {
        assert_eq!(get(q.to_owned()).await.status(), 422, "{q}");
    }
    for (body, code) in [
        (visit_body(None, 91.0, 113.0, 10.0, &ago(1)), "validation_failed"),
        (visit_body(None, 22.0, 113.0, -5.0, &ago(1)), "validation_failed"),
        (visit_body(None, 22.0, 113.0, 10.0, "yesterday"), "invalid_body"),
        (visit_body(None, 22.0, 113.0, 10.0, "1999-12-31T23:00:00Z"), "validation_failed"),
        (visit_body(None, 22.0, 113.0, 10.0, "+20000-01-01T00:00:00Z"), "validation_failed"),
        (
            json!({"location": {"lat": 22.0, "lon": 113.0, "accuracy_m": 5}, "visited_at": ago(1), "purpose": "gossip"}),
            "invalid_body",
        ),
        (json!({"location": {"lat": 22.0, "lon": 113.0}, "visited_at": ago(1), "purpose": "other"}), "invalid_body"),
    ] {
        assert_problem(app.post_json("/api/v1/visits", Some(&am.token), &body).await, 422, code).await;
    }
}

/// Issue 21, finding 6: a visit posted 20 days back at a partner's stored coordinates with a
/// perfect fix was verified and credited, and made someone the star of a day already paid.
#[tokio::test]
async fn a_visit_typed_in_long_after_is_a_late_entry() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let p = create_partner(&app, &am.token, &partner_body("永辉超市", CENTRE.0, CENTRE.1)).await;
    let pid = p["id"].as_str().unwrap();
    let late = visit(&app, &am.token, &visit_body(Some(pid), CENTRE.0, CENTRE.1, 5.0, &ago(20 * 24 * 60))).await;
    assert_eq!((late["verified"].as_bool(), reasons(&late)), (Some(false), vec!["late_entry"]), "{late}");
    // Two days offline in a market with no signal, then synced: still in time (72 h).
    let offline = visit(&app, &am.token, &visit_body(Some(pid), CENTRE.0, CENTRE.1, 5.0, &ago(48 * 60))).await;
    assert_eq!((offline["verified"].as_bool(), reasons(&offline)), (Some(true), vec![]), "{offline}");
}
