use chrono::{Duration, SecondsFormat, Utc};
use outreach::domain::Role;
use serde_json::{Value, json};

use crate::events::new_event;
use crate::helpers::{TestApp, assert_problem, json_ok, spawn_app};

async fn ticket(app: &TestApp, code: &str, phone: &str) -> Value {
    let body = json!({"name": "黄先生", "phone": phone, "consent": true});
    let response = app.post_json(&format!("/api/v1/public/events/{code}/registrations"), None, &body).await;
    assert!(response.status().is_success());
    response.json().await.unwrap()
}

async fn check_in(app: &TestApp, token: &str, event: &str, ticket: &str) -> reqwest::Response {
    app.post_json(&format!("/api/v1/events/{event}/checkins"), Some(token), &json!({"ticket_code": ticket})).await
}

#[tokio::test]
async fn the_qr_code_decodes_to_the_registration_link() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let e = new_event(&app, &am.token, 10).await;
    let response =
        app.get(format!("/api/v1/events/{}/qr.png?size=300", e["id"].as_str().unwrap()), Some(&am.token)).await;
    assert_eq!(response.headers()["content-type"], "image/png");
    let png = image::load_from_memory(&response.bytes().await.unwrap()).unwrap().to_luma8();
    assert!(png.width() >= 300);
    let mut prepared = rqrr::PreparedImage::prepare(png);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, e["registration_url"].as_str().unwrap());
    let bad = app.get(format!("/api/v1/events/{}/qr.png?size=5", e["id"].as_str().unwrap()), Some(&am.token)).await;
    assert_problem(bad, 422, "validation_failed").await;
}

#[tokio::test]
async fn check_in_is_idempotent_and_turns_attendees_into_leads() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let e = new_event(&app, &am.token, 1).await;
    let (id, code) = (e["id"].as_str().unwrap(), e["registration_code"].as_str().unwrap());
    let t = ticket(&app, code, "13911112222").await;
    let waiting = ticket(&app, code, "13911113333").await;
    assert_eq!(waiting["status"], "waitlisted");

    let first = json_ok(check_in(&app, &am.token, id, t["ticket_code"].as_str().unwrap()).await, 200).await;
    assert_eq!((first["already_checked_in"].as_bool(), first["phone"].as_str()), (Some(false), Some("13911112222")));
    let lead = first["lead_id"].as_str().unwrap().to_owned();
    let second = json_ok(check_in(&app, &am.token, id, t["ticket_code"].as_str().unwrap()).await, 200).await;
    assert_eq!(
        (second["already_checked_in"].as_bool(), second["checked_in_at"].clone()),
        (Some(true), first["checked_in_at"].clone())
    );
    assert_problem(check_in(&app, &am.token, id, waiting["ticket_code"].as_str().unwrap()).await, 409, "waitlisted")
        .await;
    assert_problem(check_in(&app, &am.token, id, "NOSUCHTICKET").await, 404, "not_found").await;

    // The same person at another event of the branch is linked to the same lead.
    let other = new_event(&app, &am.token, 5).await;
    let t2 = ticket(&app, other["registration_code"].as_str().unwrap(), "13911112222").await;
    assert_problem(check_in(&app, &am.token, id, t2["ticket_code"].as_str().unwrap()).await, 404, "not_found").await;
    let linked = json_ok(
        check_in(&app, &am.token, other["id"].as_str().unwrap(), t2["ticket_code"].as_str().unwrap()).await,
        200,
    )
    .await;
    assert_eq!(linked["lead_id"], lead.as_str());

    // Attendees: masked for a colleague, full for the owner.
    let colleague = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let seen = json_ok(app.get(format!("/api/v1/events/{id}/attendees"), Some(&colleague.token)).await, 200).await;
    let phones: Vec<&str> = seen["items"].as_array().unwrap().iter().map(|a| a["phone"].as_str().unwrap()).collect();
    assert_eq!(phones, ["139****2222", "139****3333"]);
    let mine = json_ok(app.get(format!("/api/v1/events/{id}/attendees"), Some(&am.token)).await, 200).await;
    assert_eq!(mine["items"][0]["phone"], "13911112222");
    assert_eq!(
        (mine["items"][0]["checked_in"].as_bool(), mine["items"][1]["checked_in"].as_bool()),
        (Some(true), Some(false))
    );

    // The review step counts what happened, conversions included (the lead pipeline sets the
    // status; here a fixture does).
    let converted = lead.clone();
    app.state
        .db
        .run(move |c| {
            use diesel::RunQueryDsl;
            diesel::sql_query(format!(
                "UPDATE leads SET status = 'converted', conversion_confirmed_at = CURRENT_TIMESTAMP WHERE id = '{converted}'"
            ))
            .execute(c)
            .map_err(outreach::store::StoreError::from)
        })
        .await
        .unwrap();
    crate::events::hold(&app, id).await;
    for step in ["plan", "invite", "prepare", "host", "follow_up", "review"] {
        let done = json_ok(
            app.post_json(&format!("/api/v1/events/{id}/steps/{step}/complete"), Some(&am.token), &json!({})).await,
            200,
        )
        .await;
        if step == "review" {
            assert_eq!(
                done["figures"],
                json!({"capacity": 1, "registered": 1, "checked_in": 1, "leads": 1, "conversions": 1})
            );
        }
    }
}

#[tokio::test]
async fn scans_made_offline_check_in_as_a_batch() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    // An event under way: it started an hour ago.
    let p = crate::partners::create(&app, &am.token, &crate::partners::partner_body("菜市场", 22.58, 113.08)).await;
    let body = json!({
        "partner_id": p["id"], "title": "市场日推广", "theme": "market_promotion", "venue": "市场广场", "capacity": 10,
        "starts_at": (Utc::now() - Duration::hours(1)).to_rfc3339(), "ends_at": (Utc::now() + Duration::hours(2)).to_rfc3339(),
        "registration_deadline": (Utc::now() + Duration::hours(1)).to_rfc3339()
    });
    let e = json_ok(app.post_json("/api/v1/events", Some(&am.token), &body).await, 201).await;
    let (id, code) = (e["id"].as_str().unwrap(), e["registration_code"].as_str().unwrap());
    let a = ticket(&app, code, "13922220001").await;
    let b = ticket(&app, code, "13922220002").await;
    let scanned = (Utc::now() - Duration::minutes(20)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let batch = json!({"items": [
        {"ticket_code": a["ticket_code"], "scanned_at": scanned},
        {"ticket_code": "BOGUS"},
        {"ticket_code": b["ticket_code"]},
        {"ticket_code": a["ticket_code"]},
        {"ticket_code": b["ticket_code"], "scanned_at": "2001-01-01T00:00:00Z"}
    ]});
    let results =
        json_ok(app.post_json(&format!("/api/v1/events/{id}/checkins/batch"), Some(&am.token), &batch).await, 200)
            .await;
    let r = results["results"].as_array().unwrap();
    assert_eq!(
        r[0]["result"]["checked_in_at"].as_str().unwrap().get(..16),
        scanned.get(..16),
        "the scan's own time is kept"
    );
    assert_eq!(r[1]["problem"]["code"], "not_found");
    assert_eq!(r[2]["result"]["already_checked_in"], false);
    assert_eq!(r[3]["result"]["already_checked_in"], true);
    assert_eq!(r[4]["result"]["already_checked_in"], true, "already in: the implausible time does not matter");
    let foreign = app.login_at(Role::BranchManager, Some(app.tree.branch_b)).await;
    assert_problem(
        app.post_json(&format!("/api/v1/events/{id}/checkins/batch"), Some(&foreign.token), &batch).await,
        404,
        "not_found",
    )
    .await;
}

/// Issue 21, finding 7: a check-in 18 days before the event was accepted, with its lead and points.
#[tokio::test]
async fn check_ins_happen_only_around_the_event() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let e = crate::events::new_event_in(&app, &am.token, 10, Duration::days(18)).await;
    let (id, code) = (e["id"].as_str().unwrap(), e["registration_code"].as_str().unwrap());
    let t = ticket(&app, code, "13955550001").await;
    let early = check_in(&app, &am.token, id, t["ticket_code"].as_str().unwrap()).await;
    assert!(
        assert_problem(early, 409, "outside_checkin_window").await["detail"].as_str().unwrap().contains("open from")
    );
    let attendees = json_ok(app.get(format!("/api/v1/events/{id}/attendees"), Some(&am.token)).await, 200).await;
    assert_eq!(
        (attendees["items"][0]["checked_in"].as_bool(), &attendees["items"][0]["lead_id"]),
        (Some(false), &Value::Null)
    );

    // At an event under way, an offline scan dated days before it is refused too.
    let soon = new_event(&app, &am.token, 10).await;
    let (id, code) = (soon["id"].as_str().unwrap(), soon["registration_code"].as_str().unwrap());
    let t = ticket(&app, code, "13955550002").await;
    let days_ago = (Utc::now() - Duration::days(3)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let batch = json!({"items": [{"ticket_code": t["ticket_code"], "scanned_at": days_ago}, {"ticket_code": t["ticket_code"]}]});
    let results =
        json_ok(app.post_json(&format!("/api/v1/events/{id}/checkins/batch"), Some(&am.token), &batch).await, 200)
            .await;
    assert_eq!(results["results"][0]["problem"]["code"], "outside_checkin_window", "{results}");
    assert_eq!(results["results"][1]["result"]["already_checked_in"], false, "now, at the door: in");
}

#[tokio::test]
async fn attendee_exports_mask_by_role_and_are_audited() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let e = new_event(&app, &am.token, 10).await;
    let (id, code) = (e["id"].as_str().unwrap(), e["registration_code"].as_str().unwrap());
    ticket(&app, code, "13944440001").await;
    let mine = app.get(format!("/api/v1/events/{id}/attendees.csv"), Some(&am.token)).await;
    assert_eq!(mine.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(mine.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let text = String::from_utf8(mine.bytes().await.unwrap()[3..].to_vec()).unwrap();
    assert!(text.starts_with("姓名,手机号,状态") && text.contains("黄先生,13944440001,已报名"), "{text}");
    let colleague = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let theirs =
        app.get(format!("/api/v1/events/{id}/attendees.csv"), Some(&colleague.token)).await.text().await.unwrap();
    assert!(theirs.contains("139****0001") && !theirs.contains("13944440001"));
    let xlsx = app.get(format!("/api/v1/events/{id}/attendees.xlsx"), Some(&am.token)).await;
    assert_eq!(xlsx.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert_eq!(&xlsx.bytes().await.unwrap()[..2], b"PK");
    let foreign = app.login_at(Role::BranchManager, Some(app.tree.branch_b)).await;
    assert_problem(app.get(format!("/api/v1/events/{id}/attendees.csv"), Some(&foreign.token)).await, 404, "not_found")
        .await;
    let sm = app.login_as(Role::SubBranchManager).await;
    let audit =
        json_ok(app.get(format!("/api/v1/audit?entity=event&entity_id={id}"), Some(&sm.token)).await, 200).await;
    let exports: Vec<&Value> = audit["items"].as_array().unwrap().iter().filter(|a| a["action"] == "export").collect();
    assert_eq!(exports.len(), 3);
    assert_eq!(exports[0]["changes"], json!({"export": "attendees", "format": "csv", "rows": 1}));
}
