//! Leads: creation and dedupe, the status pipeline, visibility and masking, assignment.

use outreach::domain::Role;
use reqwest::Response;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, assert_problem, json_ok, spawn_app};

pub const PHONE: &str = "13800138000";
const MASKED: &str = "138****8000";

pub fn lead_body(name: &str, phone: &str) -> Value {
    json!({"kind": "person", "name": name, "phone": phone, "source": "walk_in"})
}

pub async fn create_lead(app: &TestApp, token: &str, body: &Value) -> Value {
    json_ok(app.post_json("/api/v1/leads", Some(token), body).await, 201).await
}

pub fn lead_path(lead: &Value) -> String {
    format!("/api/v1/leads/{}", lead["id"].as_str().unwrap())
}

pub async fn delete(app: &TestApp, path: &str, token: &str) -> Response {
    app.client.delete(app.url(path)).bearer_auth(token).send().await.expect("request")
}

/// Sends each of `moves` in turn, each expected to succeed; returns the last state.
pub async fn walk(app: &TestApp, token: &str, lead: &Value, moves: &[Value]) -> Value {
    let mut last = lead.clone();
    for body in moves {
        last = json_ok(app.patch_json(&lead_path(lead), Some(token), body).await, 200).await;
        assert_eq!(last["status"], body["status"], "{last}");
    }
    last
}

fn ids(list: &Value) -> Vec<String> {
    list["items"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap().to_owned()).collect()
}

fn find<'a>(list: &'a Value, id: &Value) -> Option<&'a Value> {
    list["items"].as_array().unwrap().iter().find(|l| l["id"] == *id)
}

/// The status moves of a history, without the creation entry if there is one.
fn status_moves(history: &Value) -> Vec<(Value, Value)> {
    let mut moves: Vec<(Value, Value)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["kind"] == "status")
        .map(|h| (h["from"].clone(), h["to"].clone()))
        .collect();
    if moves.first().is_some_and(|(from, to)| from.is_null() && *to == "new") {
        moves.remove(0);
    }
    moves
}

fn pair(from: &str, to: &str) -> (Value, Value) {
    (json!(from), json!(to))
}

#[tokio::test]
async fn a_lead_is_created_with_its_fields_and_a_client_id_makes_it_idempotent() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let mut body = lead_body("李记烧腊", "+86 138 0013 8000");
    body["id"] = json!(Uuid::new_v4());
    body["kind"] = json!("micro_business");
    body["portrait_tags"] = json!(["个体户", "社区"]);
    body["needs"] = json!("经营周转");
    body["product_interest"] = json!(["经营贷"]);
    body["expected_amount"] = json!(50000.5);
    let lead = create_lead(&app, &am.token, &body).await;
    assert_eq!(lead["id"], body["id"]);
    assert_eq!(lead["kind"], "micro_business");
    assert_eq!(lead["name"], "李记烧腊");
    assert_eq!(lead["phone"], PHONE, "normalised to 11 digits");
    assert_eq!(lead["source"], "walk_in");
    assert_eq!(lead["segment"], "outreach", "the default segment");
    assert_eq!(lead["portrait_tags"], json!(["个体户", "社区"]));
    assert_eq!(lead["needs"], "经营周转");
    assert_eq!(lead["product_interest"], json!(["经营贷"]));
    assert!((lead["expected_amount"].as_f64().unwrap() - 50000.5).abs() < 1e-6, "{lead}");
    assert_eq!(lead["status"], "new");
    assert_eq!(lead["do_not_contact"], false);
    assert_eq!(
        (lead["converted_amount"].clone(), lead["converted_at"].clone(), lead["lost_reason"].clone()),
        (Value::Null, Value::Null, Value::Null)
    );
    assert_eq!(lead["owner_id"], am.id.to_string());
    assert_eq!(lead["org_unit_id"], app.tree.outlet_a1.to_string());
    assert_eq!(lead["project_id"], Value::Null);
    assert_eq!(lead["version"], 1);
    assert!(lead["created_at"].is_string() && lead["updated_at"].is_string(), "{lead}");

    let fetched = json_ok(app.get(lead_path(&lead), Some(&am.token)).await, 200).await;
    assert_eq!(fetched, lead);

    let again = json_ok(app.post_json("/api/v1/leads", Some(&am.token), &body).await, 200).await;
    assert_eq!((again["id"].clone(), again["created_at"].clone()), (lead["id"].clone(), lead["created_at"].clone()));
    body["name"] = json!("王记烧腊");
    assert_problem(app.post_json("/api/v1/leads", Some(&am.token), &body).await, 409, "id_conflict").await;
}

#[tokio::test]
async fn status_moves_follow_the_pipeline_and_are_recorded_oldest_first() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let sm = app.login_as(Role::SubBranchManager).await;
    let lead = create_lead(&app, &am.token, &lead_body("陈女士", PHONE)).await;
    let path = lead_path(&lead);

    let jump = app.patch_json(&path, Some(&am.token), &json!({"status": "converted", "converted_amount": 1000})).await;
    assert_problem(jump, 409, "invalid_transition").await;
    walk(&app, &am.token, &lead, &[json!({"status": "contacted"}), json!({"status": "qualified"})]).await;
    let no_amount = app.patch_json(&path, Some(&am.token), &json!({"status": "converted"})).await;
    let problem = assert_problem(no_amount, 422, "validation_failed").await;
    assert!(problem["errors"]["converted_amount"].is_string(), "{problem}");
    let converted = json_ok(
        app.patch_json(&path, Some(&am.token), &json!({"status": "converted", "converted_amount": 30000})).await,
        200,
    )
    .await;
    assert_eq!(converted["status"], "converted");
    assert!((converted["converted_amount"].as_f64().unwrap() - 30000.0).abs() < 1e-6, "{converted}");
    assert!(converted["converted_at"].is_string(), "converted_at defaults to now: {converted}");

    // A conversion recorded in error is reverted by a manager only.
    let by_am = app.patch_json(&path, Some(&am.token), &json!({"status": "qualified"})).await;
    assert_problem(by_am, 403, "role_not_allowed").await;
    let reverted = json_ok(app.patch_json(&path, Some(&sm.token), &json!({"status": "qualified"})).await, 200).await;
    assert_eq!(reverted["status"], "qualified");

    let history = json_ok(app.get(format!("{path}/history"), Some(&sm.token)).await, 200).await;
    assert_eq!(
        status_moves(&history),
        [
            pair("new", "contacted"),
            pair("contacted", "qualified"),
            pair("qualified", "converted"),
            pair("converted", "qualified")
        ]
    );
    let owner_history = json_ok(app.get(format!("{path}/history"), Some(&am.token)).await, 200).await;
    assert_eq!(status_moves(&owner_history).len(), 4);
}

#[tokio::test]
async fn a_lost_lead_needs_a_reason_and_may_be_reopened() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let lead = create_lead(&app, &am.token, &lead_body("周先生", PHONE)).await;
    let path = lead_path(&lead);
    let problem = assert_problem(
        app.patch_json(&path, Some(&am.token), &json!({"status": "lost"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(problem["errors"]["lost_reason"].is_string(), "{problem}");
    let lost = json_ok(
        app.patch_json(&path, Some(&am.token), &json!({"status": "lost", "lost_reason": "已在他行办理"})).await,
        200,
    )
    .await;
    assert_eq!((lost["status"].as_str(), lost["lost_reason"].as_str()), (Some("lost"), Some("已在他行办理")));
    for body in [
        json!({"status": "qualified"}),
        json!({"status": "new"}),
        json!({"status": "converted", "converted_amount": 10}),
    ] {
        assert_problem(app.patch_json(&path, Some(&am.token), &body).await, 409, "invalid_transition").await;
    }
    let reopened = json_ok(app.patch_json(&path, Some(&am.token), &json!({"status": "contacted"})).await, 200).await;
    assert_eq!(reopened["status"], "contacted");
    let history = json_ok(app.get(format!("{path}/history"), Some(&am.token)).await, 200).await;
    assert_eq!(status_moves(&history), [pair("new", "lost"), pair("lost", "contacted")]);
}

#[tokio::test]
async fn one_lead_per_phone_in_a_branch() {
    let app = spawn_app().await;
    let t = &app.tree;
    let am = app.login_as(Role::AccountManager).await;
    let colleague = app.login_at(Role::AccountManager, Some(t.outlet_a1)).await;
    let sm = app.login_as(Role::SubBranchManager).await;
    let sm_a2 = app.login_at(Role::SubBranchManager, Some(t.sub_a2)).await;
    let other_branch = app.login_at(Role::BranchManager, Some(t.branch_b)).await;
    let first = create_lead(&app, &am.token, &lead_body("黄女士", PHONE)).await;

    for phone in [PHONE, "+86 138 0013 8000", "138 0013 8000", "+8613800138000"] {
        let again = app.post_json("/api/v1/leads", Some(&am.token), &lead_body("黄女士", phone)).await;
        let problem = assert_problem(again, 409, "duplicate_lead").await;
        assert_eq!(problem["existing_id"], first["id"], "{phone}: {problem}");
    }
    let by_manager = app.post_json("/api/v1/leads", Some(&sm.token), &lead_body("黄女士", PHONE)).await;
    assert_eq!(assert_problem(by_manager, 409, "duplicate_lead").await["existing_id"], first["id"]);
    // Those who cannot see the lead learn only that it exists.
    for blind in [&colleague, &sm_a2] {
        let problem = assert_problem(
            app.post_json("/api/v1/leads", Some(&blind.token), &lead_body("黄女士", "+86 138 0013 8000")).await,
            409,
            "duplicate_lead",
        )
        .await;
        assert!(problem.get("existing_id").is_none_or(Value::is_null), "{problem}");
    }
    // Another branch keeps its own leads.
    let theirs = create_lead(&app, &other_branch.token, &lead_body("黄女士", PHONE)).await;
    assert_ne!(theirs["id"], first["id"]);
    assert_eq!(theirs["phone"], PHONE);
    let listed = json_ok(app.get("/api/v1/leads", Some(&sm.token)).await, 200).await;
    assert_eq!(ids(&listed), [first["id"].as_str().unwrap()]);
}

#[tokio::test]
async fn phones_are_masked_for_all_but_the_owner_and_managers() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let colleague = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let sm = app.login_as(Role::SubBranchManager).await;
    let bm = app.login_as(Role::BranchManager).await;
    let supervisor = app.login_as(Role::Supervisor).await;
    let lead = create_lead(&app, &am.token, &lead_body("吴先生", PHONE)).await;
    let path = lead_path(&lead);
    for (who, token) in [("owner", &am.token), ("sub-branch manager", &sm.token), ("branch manager", &bm.token)] {
        assert_eq!(json_ok(app.get(&path, Some(token)).await, 200).await["phone"], PHONE, "{who}");
        let list = json_ok(app.get("/api/v1/leads", Some(token)).await, 200).await;
        assert_eq!(find(&list, &lead["id"]).expect(who)["phone"], PHONE, "{who}");
    }
    assert_eq!(json_ok(app.get(&path, Some(&supervisor.token)).await, 200).await["phone"], MASKED);
    let list = json_ok(app.get("/api/v1/leads", Some(&supervisor.token)).await, 200).await;
    assert_eq!(find(&list, &lead["id"]).expect("supervisor reads the subtree")["phone"], MASKED);
    // A supervisor reads but does not change.
    assert!(app.patch_json(&path, Some(&supervisor.token), &json!({"name": "x"})).await.status().is_client_error());

    // A colleague who does not own it does not see it at all.
    assert_problem(app.get(&path, Some(&colleague.token)).await, 404, "not_found").await;
    assert_problem(app.patch_json(&path, Some(&colleague.token), &json!({"name": "x"})).await, 404, "not_found").await;
    let theirs = json_ok(app.get("/api/v1/leads", Some(&colleague.token)).await, 200).await;
    assert!(find(&theirs, &lead["id"]).is_none(), "{theirs}");
    let filtered =
        json_ok(app.get(format!("/api/v1/leads?owner_id={}", am.id), Some(&colleague.token)).await, 200).await;
    assert_eq!(filtered["items"], json!([]));
}

#[tokio::test]
async fn do_not_contact_leads_leave_the_lists_and_hide_their_phone() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let sm = app.login_as(Role::SubBranchManager).await;
    let supervisor = app.login_as(Role::Supervisor).await;
    let keep = create_lead(&app, &am.token, &lead_body("赵先生", "13900139000")).await;
    let lead = create_lead(&app, &am.token, &lead_body("钱女士", PHONE)).await;
    let path = lead_path(&lead);
    let patched = json_ok(app.patch_json(&path, Some(&am.token), &json!({"do_not_contact": true})).await, 200).await;
    assert_eq!(patched["do_not_contact"], true);

    for token in [&am.token, &sm.token] {
        let list = json_ok(app.get("/api/v1/leads", Some(token)).await, 200).await;
        assert_eq!(ids(&list), [keep["id"].as_str().unwrap()]);
    }
    let owners = json_ok(app.get("/api/v1/leads?include_do_not_contact=true", Some(&am.token)).await, 200).await;
    assert_eq!(find(&owners, &lead["id"]).expect("asked for")["phone"], MASKED);
    assert_eq!(find(&owners, &keep["id"]).expect("the other lead")["phone"], "13900139000");
    assert_eq!(json_ok(app.get(&path, Some(&am.token)).await, 200).await["phone"], MASKED, "masked even for its owner");
    assert_eq!(json_ok(app.get(&path, Some(&supervisor.token)).await, 200).await["phone"], MASKED);
    assert_eq!(json_ok(app.get(&path, Some(&sm.token)).await, 200).await["phone"], PHONE, "but not for managers");
    let managers = json_ok(app.get("/api/v1/leads?include_do_not_contact=true", Some(&sm.token)).await, 200).await;
    assert_eq!(find(&managers, &lead["id"]).expect("asked for")["phone"], PHONE);

    // Only a manager lifts the request, and the history keeps both moves.
    let lift = json!({"do_not_contact": false});
    assert_problem(app.patch_json(&path, Some(&am.token), &lift).await, 403, "role_not_allowed").await;
    json_ok(app.patch_json(&path, Some(&sm.token), &lift).await, 200).await;
    let history = json_ok(app.get(format!("{path}/history"), Some(&sm.token)).await, 200).await;
    let flags: Vec<(&str, &str)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["kind"] == "do_not_contact")
        .map(|h| (h["from"].as_str().unwrap(), h["to"].as_str().unwrap()))
        .collect();
    assert_eq!(flags, [("false", "true"), ("true", "false")]);
}

#[tokio::test]
async fn a_do_not_contact_phone_stays_masked_on_the_attendee_list_of_any_event() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let sm = app.login_as(Role::SubBranchManager).await;
    let mut body = lead_body("钱女士", PHONE);
    body["do_not_contact"] = json!(true);
    create_lead(&app, &am.token, &body).await;
    // Another account manager's event: the person registers but is not checked in (no lead link).
    let colleague = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let event = crate::events::new_event(&app, &colleague.token, 20).await;
    let code = event["registration_code"].as_str().unwrap();
    let reg = json!({"name": "钱女士", "phone": PHONE, "consent": true});
    json_ok(app.post_json(&format!("/api/v1/public/events/{code}/registrations"), None, &reg).await, 201).await;
    let list = format!("/api/v1/events/{}/attendees", event["id"].as_str().unwrap());
    let seen = json_ok(app.get(&list, Some(&colleague.token)).await, 200).await;
    assert_eq!(seen["items"][0]["phone"], MASKED, "{seen}");
    let csv = app.get(format!("{list}.csv"), Some(&colleague.token)).await.text().await.unwrap();
    assert!(csv.contains(MASKED) && !csv.contains(PHONE), "{csv}");
    let managers = json_ok(app.get(&list, Some(&sm.token)).await, 200).await;
    assert_eq!(managers["items"][0]["phone"], PHONE);
}

#[tokio::test]
async fn a_conversion_is_not_dated_before_the_lead_existed() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let lead = create_lead(&app, &am.token, &lead_body("孙老板", PHONE)).await;
    let lead = walk(&app, &am.token, &lead, &[json!({"status": "contacted"}), json!({"status": "qualified"})]).await;
    let early = json!({"status": "converted", "converted_amount": 100, "converted_at": "2020-01-01T00:00:00Z"});
    let problem =
        assert_problem(app.patch_json(&lead_path(&lead), Some(&am.token), &early).await, 422, "validation_failed")
            .await;
    assert!(problem["errors"]["converted_at"].is_string(), "{problem}");
}

#[tokio::test]
async fn managers_assign_leads_inside_their_subtree() {
    let app = spawn_app().await;
    let t = &app.tree;
    let am = app.login_as(Role::AccountManager).await;
    let neighbour = app.login_at(Role::AccountManager, Some(t.outlet_a1b)).await;
    let (far_away, _) = app.user(Role::AccountManager, Some(t.outlet_a2)).await;
    let sm = app.login_as(Role::SubBranchManager).await;

    let mut assigned = lead_body("孙女士", "13900139001");
    assigned["owner_id"] = json!(neighbour.id);
    assert_problem(app.post_json("/api/v1/leads", Some(&am.token), &assigned).await, 403, "cannot_assign").await;

    let lead = create_lead(&app, &am.token, &lead_body("孙女士", PHONE)).await;
    let path = lead_path(&lead);
    let moved = json_ok(app.patch_json(&path, Some(&sm.token), &json!({"owner_id": neighbour.id})).await, 200).await;
    assert_eq!(moved["owner_id"], neighbour.id.to_string());
    assert_eq!(moved["org_unit_id"], t.outlet_a1b.to_string(), "the org unit follows the owner");
    let history = json_ok(app.get(format!("{path}/history"), Some(&sm.token)).await, 200).await;
    let owner_moves: Vec<&Value> =
        history["items"].as_array().unwrap().iter().filter(|h| h["kind"] == "owner").collect();
    assert_eq!(owner_moves.len(), 1, "{history}");
    assert_eq!(owner_moves[0]["to"], neighbour.id.to_string(), "{history}");

    // The new owner has it (phone in full); the old one no longer sees it.
    assert_eq!(json_ok(app.get(&path, Some(&neighbour.token)).await, 200).await["phone"], PHONE);
    assert_problem(app.get(&path, Some(&am.token)).await, 404, "not_found").await;

    // Outside the manager's subtree the user does not exist for them.
    assert_problem(app.patch_json(&path, Some(&sm.token), &json!({"owner_id": far_away})).await, 404, "not_found")
        .await;
    // An account manager may not hand a lead over.
    assert_problem(
        app.patch_json(&path, Some(&neighbour.token), &json!({"owner_id": am.id})).await,
        403,
        "cannot_assign",
    )
    .await;
    let unchanged = json_ok(app.get(&path, Some(&sm.token)).await, 200).await;
    assert_eq!(unchanged["owner_id"], neighbour.id.to_string());
}

#[tokio::test]
async fn other_branches_and_bad_input_are_refused() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let bm = app.login_as(Role::BranchManager).await;
    let other_branch = app.login_at(Role::BranchManager, Some(app.tree.branch_b)).await;
    let foreign = create_lead(&app, &other_branch.token, &lead_body("外行", "13900139002")).await;
    for token in [&am.token, &bm.token] {
        assert_problem(app.get(lead_path(&foreign), Some(token)).await, 404, "not_found").await;
        assert_problem(
            app.patch_json(&lead_path(&foreign), Some(token), &json!({"name": "x"})).await,
            404,
            "not_found",
        )
        .await;
        let list = json_ok(app.get("/api/v1/leads", Some(token)).await, 200).await;
        assert!(find(&list, &foreign["id"]).is_none());
    }

    let malformed = app.post_raw("/api/v1/leads", Some(&am.token), "application/json", b"{\"name\": ".to_vec()).await;
    assert_problem(malformed, 400, "malformed_json").await;
    let lead = create_lead(&app, &am.token, &lead_body("郑先生", PHONE)).await;
    let unknown = app.patch_json(&lead_path(&lead), Some(&am.token), &json!({"status": "married"})).await;
    let problem = assert_problem(unknown, 422, "invalid_body").await;
    assert!(problem["errors"].get("status").is_some(), "{problem}");
    let bad_phone = app.post_json("/api/v1/leads", Some(&am.token), &lead_body("X", "12345")).await;
    assert!(assert_problem(bad_phone, 422, "validation_failed").await["errors"]["phone"].is_string());
    let mut negative = lead_body("X", "13900139003");
    negative["expected_amount"] = json!(-1);
    let problem =
        assert_problem(app.post_json("/api/v1/leads", Some(&am.token), &negative).await, 422, "validation_failed")
            .await;
    assert!(problem["errors"]["expected_amount"].is_string(), "{problem}");
    let negative_patch = app.patch_json(&lead_path(&lead), Some(&am.token), &json!({"expected_amount": -0.01})).await;
    assert_problem(negative_patch, 422, "validation_failed").await;
    let unchanged = json_ok(app.get(lead_path(&lead), Some(&am.token)).await, 200).await;
    assert_eq!((unchanged["status"].as_str(), unchanged["version"].as_i64()), (Some("new"), Some(1)));
}

#[tokio::test]
async fn the_owner_erases_a_lead() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let colleague = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let lead = create_lead(&app, &am.token, &lead_body("冯女士", PHONE)).await;
    let path = lead_path(&lead);
    walk(&app, &am.token, &lead, &[json!({"status": "contacted"})]).await;
    assert_problem(delete(&app, &path, &colleague.token).await, 404, "not_found").await;
    assert_eq!(delete(&app, &path, &am.token).await.status(), 204);
    assert_problem(app.get(&path, Some(&am.token)).await, 404, "not_found").await;
    assert_problem(app.get(format!("{path}/history"), Some(&am.token)).await, 404, "not_found").await;
    assert_eq!(json_ok(app.get("/api/v1/leads", Some(&am.token)).await, 200).await["items"], json!([]));
    // The phone is free again.
    create_lead(&app, &am.token, &lead_body("冯女士", PHONE)).await;
}
