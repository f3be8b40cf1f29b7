use outreach::domain::Role;
use serde_json::{Value, json};

use crate::events::new_event;
use crate::helpers::{TestApp, assert_problem, json_ok, spawn_app, spawn_app_with};

async fn register(app: &TestApp, code: &str, phone: &str) -> reqwest::Response {
    app.post_json(
        &format!("/api/v1/public/events/{code}/registrations"),
        None,
        &json!({"name": "陈女士", "phone": phone, "consent": true}),
    )
    .await
}

#[tokio::test]
async fn an_attendee_registers_with_name_phone_and_consent() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let e = new_event(&app, &am.token, 2).await;
    let code = e["registration_code"].as_str().unwrap();
    let public = json_ok(app.get(format!("/api/v1/public/events/{code}"), None).await, 200).await;
    assert_eq!(
        (public["title"].as_str(), public["partner_name"].as_str(), public["spots_left"].as_i64()),
        (Some("亲子财商小课堂"), Some("江门一中"), Some(2))
    );
    assert!(public["consent_text"].as_str().unwrap().contains("手机号"));
    for staff_field in ["owner_id", "org_unit_id", "registration_code", "capacity", "id"] {
        assert!(public.get(staff_field).is_none(), "{staff_field} is staff data");
    }
    let organiser = &public["organiser"];
    assert!(!organiser["name"].as_str().unwrap().is_empty() && !organiser["branch_name"].as_str().unwrap().is_empty());
    let notice = public["privacy_notice"].as_str().unwrap();
    assert!(notice.contains("撤回") && notice.contains("删除") && notice.contains(organiser["name"].as_str().unwrap()));
    assert_eq!((public["status"].as_str(), public["waitlist_only"].as_bool()), (Some("planned"), Some(false)));
    let first = json_ok(register(&app, code, "+86 139 1234 5678").await, 201).await;
    assert_eq!(first["status"], "registered");
    let secret = first["ticket_secret"].as_str().unwrap();
    assert_eq!(secret.len(), 24);
    assert!(first["ticket_url"].as_str().unwrap().ends_with(&format!("/e/{code}/t/{secret}")));
    // The same phone again, spelled differently: no second place, and nothing of the ticket.
    let again = assert_problem(register(&app, code, "13912345678").await, 409, "already_registered").await;
    assert!(again.get("ticket_code").is_none() && !again.to_string().contains(first["ticket_code"].as_str().unwrap()));
    // The ticket page's API, by the secret.
    let ticket = json_ok(app.get(format!("/api/v1/public/events/{code}/tickets/{secret}"), None).await, 200).await;
    assert_eq!((&ticket["ticket_code"], &ticket["status"]), (&first["ticket_code"], &json!("registered")));
    let event =
        json_ok(app.get(format!("/api/v1/events/{}", e["id"].as_str().unwrap()), Some(&am.token)).await, 200).await;
    assert_eq!(event["registered_count"], 1);
}

#[tokio::test]
async fn bad_registrations_are_refused() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let e = new_event(&app, &am.token, 5).await;
    let code = e["registration_code"].as_str().unwrap();
    let path = format!("/api/v1/public/events/{code}/registrations");
    let no_consent = app.post_json(&path, None, &json!({"name": "李", "phone": "13912345678", "consent": false})).await;
    assert!(assert_problem(no_consent, 422, "validation_failed").await["errors"]["consent"].is_string());
    let bad_phone = app.post_json(&path, None, &json!({"name": "李", "phone": "12345", "consent": true})).await;
    assert!(assert_problem(bad_phone, 422, "validation_failed").await["errors"]["phone"].is_string());
    let missing = app.post_json(&path, None, &json!({"name": "李", "phone": "13912345678"})).await;
    assert_problem(missing, 422, "invalid_body").await;
    assert_problem(register(&app, "NOSUCHCODE", "13912345678").await, 404, "not_found").await;
    assert_problem(app.get("/api/v1/public/events/NOSUCHCODE", None).await, 404, "not_found").await;

    let event_path = format!("/api/v1/events/{}", e["id"].as_str().unwrap());
    json_ok(app.patch_json(&event_path, Some(&am.token), &json!({"registration_open": false})).await, 200).await;
    assert_problem(register(&app, code, "13912345679").await, 409, "registration_paused").await;
    json_ok(app.patch_json(&event_path, Some(&am.token), &json!({"status": "cancelled"})).await, 200).await;
    assert_problem(register(&app, code, "13912345679").await, 410, "registration_closed").await;
}

#[tokio::test]
async fn a_full_event_waitlists_and_a_cancellation_promotes() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let e = new_event(&app, &am.token, 2).await;
    let code = e["registration_code"].as_str().unwrap();
    let a = json_ok(register(&app, code, "13900000001").await, 201).await;
    json_ok(register(&app, code, "13900000002").await, 201).await;
    let c = json_ok(register(&app, code, "13900000003").await, 201).await;
    let d = json_ok(register(&app, code, "13900000004").await, 201).await;
    assert_eq!((c["status"].as_str(), c["waitlist_position"].as_i64()), (Some("waitlisted"), Some(1)));
    assert_eq!(d["waitlist_position"], 2);
    let ticket = |t: &Value| format!("/api/v1/public/events/{code}/tickets/{}", t["ticket_secret"].as_str().unwrap());
    // The door code cannot act: cancelling needs the secret.
    let by_code = format!("/api/v1/public/events/{code}/tickets/{}/cancel", a["ticket_code"].as_str().unwrap());
    assert_problem(app.post_json(&by_code, None, &json!({})).await, 404, "not_found").await;
    let cancelled = json_ok(app.post_json(&format!("{}/cancel", ticket(&a)), None, &json!({})).await, 200).await;
    assert_eq!(cancelled["status"], "cancelled");
    // The first in line moved up; the second is now first.
    assert_eq!(json_ok(app.get(ticket(&c), None).await, 200).await["status"], "registered");
    assert_eq!(json_ok(app.get(ticket(&d), None).await, 200).await["waitlist_position"], 1);
    let wrong = app
        .post_json(&format!("/api/v1/public/events/{code}/tickets/AAAAAAAAAAAAAAAAAAAAAAAA/cancel"), None, &json!({}))
        .await;
    assert_problem(wrong, 404, "not_found").await;
    // Registering again after cancelling takes a place at the back of the line.
    assert_eq!(json_ok(register(&app, code, "13900000001").await, 201).await["status"], "waitlisted");
}

#[tokio::test]
async fn a_registration_reveals_nothing_to_whoever_knows_a_phone() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let e = new_event(&app, &am.token, 5).await;
    let code = e["registration_code"].as_str().unwrap();
    let path = format!("/api/v1/public/events/{code}/registrations");
    let body =
        |request_id: &str| json!({"name": "陈女士", "phone": "13912345678", "consent": true, "request_id": request_id});
    let first = json_ok(app.post_json(&path, None, &body("retry-key-0123456789")).await, 201).await;
    // The same submission again (its answer lost on a weak signal): the same ticket back.
    let retry = json_ok(app.post_json(&path, None, &body("retry-key-0123456789")).await, 200).await;
    assert_eq!((&retry["ticket_secret"], &retry["ticket_code"]), (&first["ticket_secret"], &first["ticket_code"]));
    // Someone else who knows the phone: refused, with nothing of the ticket.
    let other =
        assert_problem(app.post_json(&path, None, &body("another-key-0123456789")).await, 409, "already_registered")
            .await;
    assert!(!other.to_string().contains(first["ticket_code"].as_str().unwrap()));
    assert_problem(app.post_json(&path, None, &body("short")).await, 422, "validation_failed").await;
    // A withdrawal needs the secret too; a phone and the door code erase nobody.
    let old_route = format!("/api/v1/public/events/{code}/withdraw");
    let by_phone =
        app.post_json(&old_route, None, &json!({"phone": "13912345678", "ticket_code": first["ticket_code"]})).await;
    assert_eq!(by_phone.status(), 404);
    // After registration closes, a registered phone and an unknown one get the same answer.
    let event_path = format!("/api/v1/events/{}", e["id"].as_str().unwrap());
    json_ok(app.patch_json(&event_path, Some(&am.token), &json!({"registration_open": false})).await, 200).await;
    let known =
        assert_problem(app.post_json(&path, None, &body("another-key-0123456789")).await, 409, "registration_paused")
            .await;
    let unknown = assert_problem(register(&app, code, "13912349999").await, 409, "registration_paused").await;
    assert_eq!(known["detail"], unknown["detail"]);
    json_ok(app.patch_json(&event_path, Some(&am.token), &json!({"status": "cancelled"})).await, 200).await;
    let known =
        assert_problem(app.post_json(&path, None, &body("another-key-0123456789")).await, 410, "registration_closed")
            .await;
    let unknown = assert_problem(register(&app, code, "13912349999").await, 410, "registration_closed").await;
    assert_eq!(known["detail"], unknown["detail"]);
    let public = json_ok(app.get(format!("/api/v1/public/events/{code}"), None).await, 200).await;
    assert_eq!(public["status"], "cancelled");
}

#[tokio::test]
async fn capacity_holds_under_a_burst_of_concurrent_registrations() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let e = new_event(&app, &am.token, 20).await;
    let code = e["registration_code"].as_str().unwrap().to_owned();
    let url = app.url(&format!("/api/v1/public/events/{code}/registrations"));
    let tasks: Vec<_> = (0..60)
        .map(|n| {
            let client = app.client.clone();
            let url = url.clone();
            tokio::spawn(async move {
                let body = json!({"name": format!("访客{n}"), "phone": format!("1370000{n:04}"), "consent": true});
                let response = client.post(&url).json(&body).send().await.unwrap();
                assert_eq!(response.status(), 201);
                response.json::<Value>().await.unwrap()["status"].as_str().unwrap().to_owned()
            })
        })
        .collect();
    let mut registered = 0;
    for task in tasks {
        if task.await.unwrap() == "registered" {
            registered += 1;
        }
    }
    assert_eq!(registered, 20, "exactly the capacity, no more");
    let event =
        json_ok(app.get(format!("/api/v1/events/{}", e["id"].as_str().unwrap()), Some(&am.token)).await, 200).await;
    assert_eq!((event["registered_count"].as_i64(), event["spots_left"].as_i64()), (Some(20), Some(0)));
}

#[tokio::test]
async fn public_registration_is_rate_limited_per_address() {
    let app = spawn_app_with(|env| {
        env.insert("OUTREACH_REGISTER_IP_BURST".into(), "3".into());
        env.insert("OUTREACH_REGISTER_IP_PER_MINUTE".into(), "1".into());
    })
    .await;
    let am = app.login_as(Role::AccountManager).await;
    let e = new_event(&app, &am.token, 50).await;
    let code = e["registration_code"].as_str().unwrap();
    for n in 0..3 {
        assert_eq!(register(&app, code, &format!("1390000000{n}")).await.status(), 201);
    }
    let throttled = register(&app, code, "13900000009").await;
    assert!(throttled.headers().get("retry-after").is_some());
    assert_problem(throttled, 429, "rate_limited").await;
}
