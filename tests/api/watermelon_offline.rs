//! Schema version 2 of the phone's sync: leads, events with their steps and attendees, projects
//! and the directory offline; check-ins and duplicate leads through a push; a phone whose user
//! changed scope must start again.

use chrono::{Duration, SecondsFormat, Utc};
use outreach::domain::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, assert_problem, json_ok, spawn_app};
use crate::partners::{CENTRE, create as create_partner, partner_body};
use crate::watermelon_sync::{push, raw};

async fn pull(app: &TestApp, token: &str, last: i64) -> Value {
    json_ok(app.get(format!("/api/v1/sync?last_pulled_at={last}&schema_version=2"), Some(token)).await, 200).await
}

fn rows<'a>(pulled: &'a Value, table: &str) -> &'a Vec<Value> {
    pulled["changes"][table]["updated"].as_array().unwrap_or_else(|| panic!("{table} in {pulled}"))
}

fn row<'a>(pulled: &'a Value, table: &str, id: &str) -> &'a Value {
    rows(pulled, table).iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("{table} {id}"))
}

fn rejections(pulled: &Value) -> Vec<(String, String, Value)> {
    rows(pulled, "sync_rejections")
        .iter()
        .map(|r| {
            (
                r["record_id"].as_str().unwrap().to_owned(),
                r["code"].as_str().unwrap().to_owned(),
                r["existing_id"].clone(),
            )
        })
        .collect()
}

fn new_lead(id: &str, phone: &str) -> Value {
    json!({
        "id": id, "_status": "created", "_changed": "", "kind": "person", "name": " 菜场摊主李姐 ",
        "phone": phone, "source": "walk_in", "source_id": null, "partner_id": null, "project_id": null,
        "segment": "", "portrait_tags_json": r#"["个体户"]"#, "needs": "收款码", "product_interest_json": "",
        "expected_amount": 20000, "status": "new", "converted_amount": null, "converted_at": null,
        "lost_reason": null, "do_not_contact": false, "owner_id": "", "org_unit_id": "",
        "version": 0, "created_at": 0, "updated_at": 0
    })
}

#[tokio::test]
async fn leads_are_created_and_worked_offline_and_a_duplicate_phone_names_the_existing_lead() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let manager = app.login_as(Role::SubBranchManager).await;
    let t0 = pull(&app, &am.token, 0).await["timestamp"].as_i64().unwrap();
    let lead = Uuid::new_v4().to_string();
    let summary = push(&app, &am.token, json!({"leads": {"created": [new_lead(&lead, "13912345678")]}})).await;
    assert_eq!(summary, json!({"applied": 1, "unchanged": 0, "refused": 0}));
    let rest = json_ok(app.get(format!("/api/v1/leads/{lead}"), Some(&am.token)).await, 200).await;
    assert_eq!((rest["name"].as_str(), rest["expected_amount"].as_f64()), (Some("菜场摊主李姐"), Some(20000.0)));

    let pulled = pull(&app, &am.token, t0).await;
    let mine = row(&pulled, "leads", &lead).clone();
    assert_eq!((mine["phone"].as_str(), mine["status"].as_str()), (Some("13912345678"), Some("new")));
    assert_eq!(mine["owner_id"], json!(am.id.to_string()));

    // Worked in the market: contacted, then a whole-record push of the same row changes nothing.
    let t1 = pulled["timestamp"].as_i64().unwrap();
    let mut contacted = mine.clone();
    contacted["status"] = json!("contacted");
    let moved = push(&app, &am.token, json!({"leads": {"updated": [raw(&contacted, "updated", &["status"])]}})).await;
    assert_eq!(moved["applied"], 1);
    let again =
        push(&app, &am.token, json!({"leads": {"updated": [raw(&contacted, "updated", &["status", "name"])]}})).await;
    assert_eq!(again, json!({"applied": 0, "unchanged": 1, "refused": 0}));
    assert_eq!(row(&pull(&app, &am.token, t1).await, "leads", &lead)["status"], "contacted");

    // The manager meets the same person and records them again, offline: refused, and the
    // reason names the lead that exists (the manager may read it).
    let tm = pull(&app, &manager.token, 0).await["timestamp"].as_i64().unwrap();
    let twin = Uuid::new_v4().to_string();
    let refused = push(&app, &manager.token, json!({"leads": {"created": [new_lead(&twin, "13912345678")]}})).await;
    assert_eq!(refused["refused"], 1);
    let back = pull(&app, &manager.token, tm).await;
    assert_eq!(rejections(&back), [(twin.clone(), "duplicate_lead".to_owned(), json!(lead))]);
    assert!(back["changes"]["leads"]["deleted"].as_array().unwrap().contains(&json!(twin)), "the refused create");
    // The account manager's own phone holds their leads only, masked for nobody.
    let other = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    assert!(rows(&pull(&app, &other.token, 0).await, "leads").iter().all(|l| l["id"] != lead));
}

async fn event_starting_soon(app: &TestApp, token: &str) -> Value {
    let p = create_partner(app, token, &partner_body("北街社区", CENTRE.0, CENTRE.1)).await;
    let at = |h: i64| (Utc::now() + Duration::hours(h)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let body = json!({
        "partner_id": p["id"], "title": "防诈骗讲座", "theme": "anti_fraud", "starts_at": at(1), "ends_at": at(3),
        "venue": "社区活动室", "capacity": 1
    });
    json_ok(app.post_json("/api/v1/events", Some(token), &body).await, 201).await
}

async fn register(app: &TestApp, code: &str, phone: &str) -> Value {
    let body = json!({"name": "黄先生", "phone": phone, "consent": true});
    json_ok(app.post_json(&format!("/api/v1/public/events/{code}/registrations"), None, &body).await, 201).await
}

#[tokio::test]
async fn events_steps_and_attendees_go_offline_and_check_ins_are_idempotent_by_ticket() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let manager = app.login_as(Role::SubBranchManager).await;
    let e = event_starting_soon(&app, &am.token).await;
    let (event, code) = (e["id"].as_str().unwrap(), e["registration_code"].as_str().unwrap());
    let ticket = register(&app, code, "13911112222").await;
    let waiting = register(&app, code, "13911113333").await;

    let first = pull(&app, &am.token, 0).await;
    assert_eq!(row(&first, "events", event)["title"], "防诈骗讲座");
    let steps: Vec<&Value> = rows(&first, "event_steps").iter().filter(|s| s["event_id"] == event).collect();
    assert_eq!(steps.len(), 6);
    let attendees: Vec<&Value> = rows(&first, "event_attendees").iter().filter(|a| a["event_id"] == event).collect();
    assert_eq!(attendees.len(), 2);
    let attendee = attendees.iter().find(|a| a["ticket_code"] == ticket["ticket_code"]).unwrap();
    assert_eq!(attendee["phone"], "13911112222", "in full to the event's owner");
    let t1 = first["timestamp"].as_i64().unwrap();

    // At the door without signal: the scan sets checked_in_at; the waitlisted one is refused.
    let scanned = Utc::now().timestamp_millis() - 60_000;
    let mut checked = (*attendee).clone();
    checked["checked_in_at"] = json!(scanned);
    let mut queued = attendees.iter().find(|a| a["ticket_code"] == waiting["ticket_code"]).unwrap().to_owned().clone();
    queued["checked_in_at"] = json!(scanned);
    let summary = push(
        &app,
        &am.token,
        json!({"event_attendees": {"updated": [raw(&checked, "updated", &["checked_in_at"]), raw(&queued, "updated", &["checked_in_at"])]}}),
    )
    .await;
    assert_eq!(summary, json!({"applied": 1, "unchanged": 0, "refused": 1}));
    let list = json_ok(app.get(format!("/api/v1/events/{event}/attendees"), Some(&am.token)).await, 200).await;
    let done = list["items"].as_array().unwrap().iter().find(|a| a["ticket_code"] == ticket["ticket_code"]).unwrap();
    assert!(done["checked_in_at"].is_string() && done["lead_id"].is_string(), "{done}");

    // The manager's phone scanned the same ticket later: nothing changes, the first time stays.
    let tm = pull(&app, &manager.token, 0).await["timestamp"].as_i64().unwrap();
    let mut late = checked.clone();
    late["checked_in_at"] = json!(scanned + 30_000);
    let twice = push(
        &app,
        &manager.token,
        json!({"event_attendees": {"updated": [raw(&late, "updated", &["checked_in_at"])]}}),
    )
    .await;
    assert_eq!(twice, json!({"applied": 0, "unchanged": 1, "refused": 0}));
    let resent = pull(&app, &manager.token, tm).await;
    assert_eq!(row(&resent, "event_attendees", checked["id"].as_str().unwrap())["checked_in_at"], json!(scanned));
    assert_eq!(row(&resent, "event_attendees", checked["id"].as_str().unwrap())["phone"], "13911112222");

    // Steps: a checklist ticked and the first step completed offline; a later one out of order.
    let step = |name: &str| (*steps.iter().find(|s| s["step"] == name).unwrap()).clone();
    let mut plan = step("plan");
    plan["checklist_json"] = json!("[{\"item\":\"确定主题\",\"done\":true}]");
    plan["completed"] = json!(true);
    plan["notes"] = json!("与社区主任确认");
    let mut host = step("host");
    host["completed"] = json!(true);
    let worked = push(
        &app,
        &am.token,
        json!({"event_steps": {"updated": [raw(&plan, "updated", &["checklist_json", "completed", "notes"]), raw(&host, "updated", &["completed"])]}}),
    )
    .await;
    assert_eq!(worked, json!({"applied": 1, "unchanged": 0, "refused": 1}));
    let after = pull(&app, &am.token, t1).await;
    let plan_now = row(&after, "event_steps", plan["id"].as_str().unwrap());
    assert_eq!((plan_now["completed"].as_bool(), plan_now["notes"].as_str()), (Some(true), Some("与社区主任确认")));
    assert!(plan_now["completed_at"].is_i64());
    assert_eq!(row(&after, "event_steps", host["id"].as_str().unwrap())["completed"], false, "the server copy");
    let mut codes: Vec<String> = rejections(&after).into_iter().map(|(_, c, _)| c).collect();
    codes.sort();
    assert_eq!(codes, ["step_out_of_order", "waitlisted"]);
    assert!(rows(&after, "event_attendees").iter().any(|a| a["id"] == checked["id"]), "its check-in came back");

    // Events are read-only on the phone.
    let mut renamed = row(&first, "events", event).clone();
    renamed["title"] = json!("改名");
    let refused = push(&app, &am.token, json!({"events": {"updated": [raw(&renamed, "updated", &["title"])]}})).await;
    assert_eq!(refused["refused"], 1);
}

#[tokio::test]
async fn the_directory_is_the_branch_s_names_and_roles() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let far = app.login_at(Role::AccountManager, Some(app.tree.outlet_b1)).await;
    let pulled = pull(&app, &am.token, 0).await;
    let units: Vec<&str> = rows(&pulled, "org_units").iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert!(
        units.contains(&app.tree.branch_a.to_string().as_str())
            && units.contains(&app.tree.outlet_a2.to_string().as_str())
    );
    assert!(!units.contains(&app.tree.branch_b.to_string().as_str()), "another branch's units");
    let me = row(&pulled, "colleagues", &am.id.to_string());
    assert_eq!((me["role"].as_str(), me["org_unit_id"].clone()), (Some("account_manager"), json!(app.tree.outlet_a1)));
    assert!(me.get("phone").is_none(), "no phones in the directory: {me}");
    assert!(rows(&pulled, "colleagues").iter().all(|u| u["id"] != json!(far.id.to_string())));
    // Read-only.
    let mut renamed = me.clone();
    renamed["name"] = json!("改名");
    let refused =
        push(&app, &am.token, json!({"colleagues": {"updated": [raw(&renamed, "updated", &["name"])]}})).await;
    assert_eq!(refused["refused"], 1);
}

#[tokio::test]
async fn a_user_moved_to_another_unit_or_role_must_start_again() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let admin = app.login_as(Role::Admin).await;
    let t = pull(&app, &am.token, 0).await["timestamp"].as_i64().unwrap();
    assert!(pull(&app, &am.token, t).await["timestamp"].as_i64().unwrap() >= t, "an ordinary pull");
    let path = format!("/api/v1/users/{}", am.id);
    json_ok(app.patch_json(&path, Some(&admin.token), &json!({"org_unit_id": app.tree.outlet_a2})).await, 200).await;
    // Their old token is refused at once (it names the old unit); signed in again, the phone's
    // timestamp is another scope's.
    let old = app.get(format!("/api/v1/sync?last_pulled_at={t}&schema_version=2"), Some(&am.token)).await;
    assert_problem(old, 401, "invalid_token").await;
    let session: serde_json::Value = app.login(&am.phone, crate::helpers::PASSWORD).await.json().await.unwrap();
    let token = session["access_token"].as_str().unwrap();
    let stale = app.get(format!("/api/v1/sync?last_pulled_at={t}&schema_version=2"), Some(token)).await;
    assert_problem(stale, 409, "resync_required").await;
    // A renamed colleague is no move.
    let other = app.login_as(Role::AccountManager).await;
    let t2 = pull(&app, &other.token, 0).await["timestamp"].as_i64().unwrap();
    let path = format!("/api/v1/users/{}", other.id);
    json_ok(app.patch_json(&path, Some(&admin.token), &json!({"name": "改名的客户经理"})).await, 200).await;
    let renamed = pull(&app, &other.token, t2).await;
    assert_eq!(row(&renamed, "colleagues", &other.id.to_string())["name"], "改名的客户经理");
}
