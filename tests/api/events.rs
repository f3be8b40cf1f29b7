use chrono::{Duration, SecondsFormat, Utc};
use outreach::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, json_ok, spawn_app};
use crate::partners::{CENTRE, create as create_partner, partner_body};

fn at(days: i64) -> String {
    (Utc::now() + Duration::days(days)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An event starting in an hour: registration open, the door open for check-ins.
pub async fn new_event(app: &TestApp, token: &str, capacity: i64) -> Value {
    new_event_in(app, token, capacity, Duration::hours(1)).await
}

pub async fn new_event_in(app: &TestApp, token: &str, capacity: i64, starts_in: Duration) -> Value {
    let mut partner = partner_body("江门一中", CENTRE.0, CENTRE.1);
    partner["category"] = json!("school");
    let p = create_partner(app, token, &partner).await;
    let starts = Utc::now() + starts_in;
    let body = json!({
        "partner_id": p["id"], "title": "亲子财商小课堂", "theme": "parent_child",
        "starts_at": starts.to_rfc3339(), "ends_at": (starts + Duration::hours(2)).to_rfc3339(),
        "venue": "江门一中礼堂", "capacity": capacity
    });
    json_ok(app.post_json("/api/v1/events", Some(token), &body).await, 201).await
}

/// Time passes: the event started three hours ago and ended an hour ago (the door is still open
/// for late scans; follow-up and review may be done).
pub async fn hold(app: &TestApp, event_id: &str) {
    let now = Utc::now().naive_utc();
    let t = |h: i64| (now - Duration::hours(h)).format("%Y-%m-%d %H:%M:%S").to_string();
    let sql = format!(
        "UPDATE events SET starts_at = '{}', ends_at = '{}', registration_deadline = '{}' WHERE id = '{event_id}'",
        t(3),
        t(1),
        t(3)
    );
    app.state
        .db
        .run(move |c| {
            use diesel::RunQueryDsl;
            diesel::sql_query(sql).execute(c).map_err(outreach::store::StoreError::from)
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn an_event_starts_with_six_ordered_steps_and_a_public_code() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let e = new_event(&app, &am.token, 30).await;
    assert_eq!(
        (e["status"].as_str(), e["spots_left"].as_i64(), e["registration_open"].as_bool()),
        (Some("planned"), Some(30), Some(true))
    );
    let code = e["registration_code"].as_str().unwrap();
    assert!(code.len() >= 12, "unguessable code");
    assert!(e["registration_url"].as_str().unwrap().ends_with(&format!("/e/{code}")));
    assert_eq!(e["location"], json!({"lat": CENTRE.0, "lon": CENTRE.1}), "the partner's location by default");
    let steps =
        json_ok(app.get(format!("/api/v1/events/{}/steps", e["id"].as_str().unwrap()), Some(&am.token)).await, 200)
            .await;
    let names: Vec<&str> = steps["items"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(names, ["plan", "invite", "prepare", "host", "follow_up", "review"]);
    let dues: Vec<&str> = steps["items"].as_array().unwrap().iter().map(|s| s["due_at"].as_str().unwrap()).collect();
    assert!(dues.windows(2).all(|w| w[0] < w[1]), "due dates follow the steps: {dues:?}");
    assert!(steps["items"][0]["checklist"].as_array().unwrap().len() >= 2);
}

#[tokio::test]
async fn steps_complete_in_order_and_the_review_closes_the_event() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let e = new_event_in(&app, &am.token, 30, Duration::days(10)).await;
    let base = format!("/api/v1/events/{}/steps", e["id"].as_str().unwrap());
    let early = app.post_json(&format!("{base}/host/complete"), Some(&am.token), &json!({})).await;
    let problem = assert_problem(early, 409, "step_out_of_order").await;
    assert!(problem["detail"].as_str().unwrap().contains("plan"));
    let edited = app
        .patch_json(
            &format!("{base}/plan"),
            Some(&am.token),
            &json!({"checklist": [{"item": "定主题", "done": true}, {"item": "约场地", "done": true}]}),
        )
        .await;
    assert_eq!(json_ok(edited, 200).await["checklist"][1]["item"], "约场地");
    for step in ["plan", "invite", "prepare"] {
        json_ok(app.post_json(&format!("{base}/{step}/complete"), Some(&am.token), &json!({"notes": "ok"})).await, 200)
            .await;
    }
    // Issue 21, finding 7: the calendar, not a tap, says when an event was held and reviewed.
    let host = app.post_json(&format!("{base}/host/complete"), Some(&am.token), &json!({})).await;
    assert!(assert_problem(host, 409, "step_too_early").await["detail"].as_str().unwrap().contains("host"));
    hold(&app, e["id"].as_str().unwrap()).await;
    for step in ["host", "follow_up"] {
        let done = json_ok(
            app.post_json(&format!("{base}/{step}/complete"), Some(&am.token), &json!({"notes": "ok"})).await,
            200,
        )
        .await;
        assert_eq!(
            (done["completed"].as_bool(), done["completed_by"].as_str()),
            (Some(true), Some(am.id.to_string().as_str()))
        );
    }
    // Completing again changes nothing.
    let again = json_ok(
        app.post_json(&format!("{base}/plan/complete"), Some(&am.token), &json!({"notes": "changed?"})).await,
        200,
    )
    .await;
    assert_eq!(again["notes"], "ok");
    let review = json_ok(
        app.post_json(&format!("{base}/review/complete"), Some(&am.token), &json!({"notes": "到场踊跃"})).await,
        200,
    )
    .await;
    assert_eq!(review["figures"]["capacity"], 30);
    let event =
        json_ok(app.get(format!("/api/v1/events/{}", e["id"].as_str().unwrap()), Some(&am.token)).await, 200).await;
    assert_eq!((event["status"].as_str(), event["registration_open"].as_bool()), (Some("completed"), Some(false)));
    assert_problem(
        app.post_json(&format!("{base}/launch/complete"), Some(&am.token), &json!({})).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn events_follow_scope_and_ownership() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let e = new_event(&app, &am.token, 30).await;
    let path = format!("/api/v1/events/{}", e["id"].as_str().unwrap());
    let colleague = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let supervisor = app.login_as(Role::Supervisor).await;
    let foreign = app.login_at(Role::BranchManager, Some(app.tree.branch_b)).await;
    json_ok(app.get(&path, Some(&colleague.token)).await, 200).await;
    assert_problem(app.patch_json(&path, Some(&colleague.token), &json!({"title": "x"})).await, 403, "not_owner").await;
    assert_problem(
        app.post_json(&format!("{path}/steps/plan/complete"), Some(&supervisor.token), &json!({})).await,
        403,
        "role_not_allowed",
    )
    .await;
    assert_problem(app.get(&path, Some(&foreign.token)).await, 404, "not_found").await;
    assert_eq!(json_ok(app.get("/api/v1/events", Some(&foreign.token)).await, 200).await["items"], json!([]));
    let sm = app.login_as(Role::SubBranchManager).await;
    let cancelled = json_ok(app.patch_json(&path, Some(&sm.token), &json!({"status": "cancelled"})).await, 200).await;
    assert_eq!(
        (cancelled["status"].as_str(), cancelled["registration_open"].as_bool()),
        (Some("cancelled"), Some(false))
    );
    assert_problem(
        app.post_json(&format!("{path}/steps/plan/complete"), Some(&am.token), &json!({})).await,
        409,
        "event_cancelled",
    )
    .await;
}

#[tokio::test]
async fn bad_events_are_refused() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let p = create_partner(&app, &am.token, &partner_body("社区", CENTRE.0, CENTRE.1)).await;
    let good = json!({"partner_id": p["id"], "title": "反诈讲座", "theme": "anti_fraud", "starts_at": at(3), "ends_at": at(4), "venue": "居委会", "capacity": 50});
    let cases = [
        (json!({"ends_at": at(2)}), "ends_at"),
        (json!({"capacity": 0}), "capacity"),
        (json!({"title": ""}), "title"),
        (json!({"registration_deadline": at(9)}), "registration_deadline"),
        (json!({"starts_at": "1999-01-01T00:00:00Z"}), "starts_at"),
    ];
    for (change, field) in cases {
        let mut body = good.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let problem =
            assert_problem(app.post_json("/api/v1/events", Some(&am.token), &body).await, 422, "validation_failed")
                .await;
        assert!(problem["errors"][field].is_string(), "{field}: {problem}");
    }
    let mut bad_theme = good.clone();
    bad_theme["theme"] = json!("karaoke");
    assert_problem(app.post_json("/api/v1/events", Some(&am.token), &bad_theme).await, 422, "invalid_body").await;
    let e = json_ok(app.post_json("/api/v1/events", Some(&am.token), &good).await, 201).await;
    let path = format!("/api/v1/events/{}", e["id"].as_str().unwrap());
    let narrowed = json_ok(
        app.patch_json(&path, Some(&am.token), &json!({"capacity": 20, "registration_open": false})).await,
        200,
    )
    .await;
    assert_eq!((narrowed["capacity"].as_i64(), narrowed["registration_open"].as_bool()), (Some(20), Some(false)));
    let supervisor = app.login_as(Role::Supervisor).await;
    assert_problem(app.post_json("/api/v1/events", Some(&supervisor.token), &good).await, 403, "role_not_allowed")
        .await;
}

#[tokio::test]
async fn steps_keep_evidence_photos() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let e = new_event(&app, &am.token, 30).await;
    let id = e["id"].as_str().unwrap();
    let url = app.url(&format!("/api/v1/events/{id}/steps/prepare/evidence"));
    let jpeg = crate::photos::photo(120, 80, &crate::photos::Facts::default());
    let send = |bytes: Vec<u8>, token: String| {
        let (client, url) = (app.client.clone(), url.clone());
        async move {
            client.post(url).bearer_auth(token).header("content-type", "image/jpeg").body(bytes).send().await.unwrap()
        }
    };
    let step = json_ok(send(jpeg.clone(), am.token.clone()).await, 200).await;
    let evidence = step["evidence"].as_array().unwrap();
    assert_eq!((evidence.len(), evidence[0]["width"].as_u64()), (1, Some(120)));
    // The same photo twice is kept once.
    assert_eq!(json_ok(send(jpeg, am.token.clone()).await, 200).await["evidence"].as_array().unwrap().len(), 1);
    let image = app.get(evidence[0]["url"].as_str().unwrap(), Some(&am.token)).await;
    assert_eq!((image.status().as_u16(), image.headers()["content-type"].to_str().unwrap()), (200, "image/jpeg"));
    assert_eq!(app.get(evidence[0]["thumbnail_url"].as_str().unwrap(), Some(&am.token)).await.status(), 200);
    let listed = json_ok(app.get(format!("/api/v1/events/{id}/steps"), Some(&am.token)).await, 200).await;
    assert_eq!(listed["items"][2]["evidence"][0]["sha256"], evidence[0]["sha256"]);
    assert_problem(send(b"<html></html>".to_vec(), am.token.clone()).await, 415, "unsupported_media_type").await;
    let foreign = app.login_at(Role::BranchManager, Some(app.tree.branch_b)).await;
    assert_problem(app.get(evidence[0]["url"].as_str().unwrap(), Some(&foreign.token)).await, 404, "not_found").await;
    let colleague = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let jpeg = crate::photos::photo(10, 10, &crate::photos::Facts::default());
    assert_problem(send(jpeg, colleague.token.clone()).await, 403, "not_owner").await;
}
