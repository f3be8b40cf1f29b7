//! Attendees' personal data: withdrawal at once, erasure after retention.

use diesel::RunQueryDsl;
use outreach::domain::Role;
use serde_json::{Value, json};

use crate::events::new_event;
use crate::helpers::{TestApp, assert_problem, json_ok, spawn_app};

async fn register(app: &TestApp, code: &str, phone: &str) -> Value {
    json_ok(
        app.post_json(
            &format!("/api/v1/public/events/{code}/registrations"),
            None,
            &json!({"name": "周女士", "phone": phone, "consent": true}),
        )
        .await,
        201,
    )
    .await
}

#[tokio::test]
async fn an_attendee_withdraws_and_is_erased_at_once() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let e = new_event(&app, &am.token, 1).await;
    let (id, code) = (e["id"].as_str().unwrap(), e["registration_code"].as_str().unwrap());
    let first = register(&app, code, "13933330001").await;
    let second = register(&app, code, "13933330002").await;
    assert_eq!(second["status"], "waitlisted");
    let withdraw = |t: &str| format!("/api/v1/public/events/{code}/tickets/{t}/withdraw");
    // The door code a colleague reads in the attendee list cannot withdraw anyone.
    let wrong = app.post_json(&withdraw(first["ticket_code"].as_str().unwrap()), None, &json!({})).await;
    assert_problem(wrong, 404, "not_found").await;
    let done = app.post_json(&withdraw(first["ticket_secret"].as_str().unwrap()), None, &json!({})).await;
    assert_eq!(done.status(), 204);
    // The ticket stops working once withdrawn.
    let again = app.post_json(&withdraw(first["ticket_secret"].as_str().unwrap()), None, &json!({})).await;
    assert_problem(again, 404, "not_found").await;
    let list = json_ok(app.get(format!("/api/v1/events/{id}/attendees"), Some(&am.token)).await, 200).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(
        (items[0]["name"].clone(), items[0]["phone"].clone(), items[0]["status"].as_str()),
        (Value::Null, Value::Null, Some("cancelled"))
    );
    assert_eq!(items[1]["status"], "registered", "the waitlisted attendee took the place");
    assert!(!list.to_string().contains("13933330001"));
}

#[tokio::test]
async fn a_withdrawal_after_check_in_removes_the_untouched_lead() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let e = new_event(&app, &am.token, 5).await;
    let (id, code) = (e["id"].as_str().unwrap(), e["registration_code"].as_str().unwrap());
    let t = register(&app, code, "13933330003").await;
    let checked = json_ok(
        app.post_json(
            &format!("/api/v1/events/{id}/checkins"),
            Some(&am.token),
            &json!({"ticket_code": t["ticket_code"]}),
        )
        .await,
        200,
    )
    .await;
    let lead = checked["lead_id"].as_str().unwrap().to_owned();
    let done = app
        .post_json(
            &format!("/api/v1/public/events/{code}/tickets/{}/withdraw", t["ticket_secret"].as_str().unwrap()),
            None,
            &json!({}),
        )
        .await;
    assert_eq!(done.status(), 204);
    let gone = app.state.db.run(move |c| outreach::store::events::leads::find(c, &lead)).await.unwrap();
    assert!(gone.is_none(), "the lead made from this registration alone is gone too");
}

#[tokio::test]
async fn attendees_who_did_not_become_leads_are_erased_after_retention() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let e = new_event(&app, &am.token, 5).await;
    let (id, code) = (e["id"].as_str().unwrap().to_owned(), e["registration_code"].as_str().unwrap());
    let kept = register(&app, code, "13933330004").await;
    register(&app, code, "13933330005").await;
    json_ok(
        app.post_json(
            &format!("/api/v1/events/{id}/checkins"),
            Some(&am.token),
            &json!({"ticket_code": kept["ticket_code"]}),
        )
        .await,
        200,
    )
    .await;
    // Nothing is due yet.
    assert_eq!(outreach::app::startup::purge(&app.state).await.unwrap(), 0);
    // Time passes: the event ended 200 days ago (retention is 180).
    let event_id = id.clone();
    app.state
        .db
        .run(move |c| {
            let sql = format!("UPDATE events SET ends_at = '2020-01-01 12:00:00', starts_at = '2020-01-01 10:00:00' WHERE id = '{event_id}'");
            diesel::sql_query(sql).execute(c).map_err(outreach::store::StoreError::from)
        })
        .await
        .unwrap();
    assert_eq!(outreach::app::startup::purge(&app.state).await.unwrap(), 1);
    let list = json_ok(app.get(format!("/api/v1/events/{id}/attendees"), Some(&am.token)).await, 200).await;
    let phones: Vec<Value> = list["items"].as_array().unwrap().iter().map(|a| a["phone"].clone()).collect();
    assert_eq!(phones, [json!("13933330004"), Value::Null], "the lead's data stays, the rest is erased");
    assert_eq!(outreach::app::startup::purge(&app.state).await.unwrap(), 0, "idempotent");
}
