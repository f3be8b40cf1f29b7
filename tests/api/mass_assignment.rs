//! Mass assignment: a client sets only the fields its request schema names, and the protected
//! ones among those (owner, org unit, role, status, version…) only when its role may.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, SecondsFormat, Utc};
use outreach::domain::Role;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{assert_problem, json_ok, spawn_app};
use crate::partners::{CENTRE, create as create_partner, partner_body};

/// Fields a client must not set unless the schema (and then the role) allows it.
const PROTECTED: &[&str] = &[
    "active",
    "checked_in_at",
    "created_at",
    "deleted_at",
    "distance_m",
    "id",
    "lead_id",
    "org_path",
    "org_unit_id",
    "owner_id",
    "points",
    "registered_count",
    "role",
    "seq",
    "status",
    "supervisor_id",
    "updated_at",
    "user_id",
    "verification",
    "verified",
    "version",
];

/// Where a protected field is part of a request on purpose, and what guards it.
const ALLOWED: &[(&str, &str, &[&str])] = &[
    // Client-made ids make offline creation idempotent; a reused id with other content is 409.
    ("post", "/api/v1/events", &["id"]),
    ("post", "/api/v1/org-units", &["id"]),
    ("post", "/api/v1/visits", &["id"]),
    ("post", "/api/v1/cases", &["id"]),
    ("patch", "/api/v1/cases/{id}", &["version"]),
    ("post", "/api/v1/coaching-plans/{id}/reviews", &["id"]),
    ("post", "/api/v1/coaching-plans/{id}/advance", &["version"]),
    // Plans are started by managers only (403), for a trainee in their scope (422).
    ("post", "/api/v1/coaching-plans", &["id"]),
    // A supervision is recorded by supervisors and managers (403 otherwise) at an outlet in
    // their scope (404); a finding's owner must be in the recorder's scope (422); only the
    // supervisor or a manager re-assigns it (403).
    ("post", "/api/v1/supervisions", &["id", "org_unit_id"]),
    ("patch", "/api/v1/supervisions/{id}", &["version"]),
    ("post", "/api/v1/supervisions/{id}/findings", &["id", "owner_id"]),
    ("patch", "/api/v1/findings/{id}", &["owner_id", "status", "version"]),
    // Managers assign owners inside their subtree; an account manager gets 403 `cannot_assign`.
    ("post", "/api/v1/leads", &["id", "owner_id"]),
    ("patch", "/api/v1/leads/{id}", &["owner_id", "status", "version"]),
    ("post", "/api/v1/partners", &["id", "org_unit_id", "owner_id", "status"]),
    ("patch", "/api/v1/partners/{id}", &["org_unit_id", "owner_id", "status", "version"]),
    // Status moves through validated transitions; version is the optimistic-concurrency check.
    ("patch", "/api/v1/events/{id}", &["status", "version"]),
    ("patch", "/api/v1/org-units/{id}", &["version"]),
    ("patch", "/api/v1/visits/{id}", &["version"]),
    ("patch", "/api/v1/projects/{id}", &["status", "version"]),
    // Projects are set up by managers only (403 for anyone else).
    ("post", "/api/v1/projects", &["id", "lead_id", "org_unit_id", "status", "supervisor_id"]),
    ("put", "/api/v1/projects/{id}/team", &["lead_id", "supervisor_id"]),
    // The team lead enters a member's figure; a member cannot score themselves (403).
    ("post", "/api/v1/projects/{id}/manual-metrics/{mid}/values", &["user_id"]),
    // Client-made ids make a retried payment idempotent. A payer other than the caller is
    // recorded by a manager only (403 `not_owner`), and must be on the team (422).
    ("post", "/api/v1/projects/{id}/pool/contributions", &["id", "user_id"]),
    ("post", "/api/v1/projects/{id}/pool/payouts", &["id"]),
    // Users are made and changed by managers within their rank (403 `role_escalation`,
    // `self_change_forbidden` otherwise).
    ("post", "/api/v1/users", &["org_unit_id", "role"]),
    ("patch", "/api/v1/users/{id}", &["active", "org_unit_id", "role", "version"]),
];

fn request_schemas() -> Vec<(String, String, BTreeSet<String>)> {
    let spec: Value = serde_json::to_value(outreach::http::openapi()).unwrap();
    let components = spec["components"]["schemas"].clone();
    fn properties(schema: &Value, components: &Value, out: &mut BTreeSet<String>) {
        if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
            return properties(&components[name], components, out);
        }
        if let Some(props) = schema["properties"].as_object() {
            out.extend(props.keys().cloned());
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            for sub in schema[key].as_array().into_iter().flatten() {
                properties(sub, components, out);
            }
        }
    }
    let mut found = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(schema) = op["requestBody"]["content"]["application/json"]["schema"].as_object() else { continue };
            let mut props = BTreeSet::new();
            properties(&Value::Object(schema.clone()), &components, &mut props);
            found.push((method.clone(), path.clone(), props));
        }
    }
    found
}

#[test]
fn protected_fields_appear_in_request_schemas_only_where_reviewed() {
    let allowed: BTreeMap<(&str, &str), BTreeSet<&str>> =
        ALLOWED.iter().map(|(m, p, fields)| ((*m, *p), fields.iter().copied().collect())).collect();
    let mut unreviewed = Vec::new();
    for (method, path, props) in request_schemas() {
        let protected: BTreeSet<&str> = props.iter().map(String::as_str).filter(|f| PROTECTED.contains(f)).collect();
        let reviewed = allowed.get(&(method.as_str(), path.as_str())).cloned().unwrap_or_default();
        if protected != reviewed {
            unreviewed.push(format!("{method} {path}: sets {protected:?}, reviewed {reviewed:?}"));
        }
    }
    assert!(unreviewed.is_empty(), "request schemas and the reviewed list disagree:\n{}", unreviewed.join("\n"));
}

#[tokio::test]
async fn a_protected_field_outside_the_schema_is_refused_by_name() {
    let app = spawn_app().await;
    let admin = app.login_as(Role::Admin).await;
    let mut checked = 0;
    for (method, path, props) in request_schemas() {
        let concrete = path
            .replace("{id}", &Uuid::new_v4().to_string())
            .replace("{mid}", &Uuid::new_v4().to_string())
            .replace("{step}", "plan")
            .replace("{code}", "NOSUCHCODE0000");
        for field in PROTECTED.iter().filter(|f| !props.contains(**f)) {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = app
                .client
                .request(method.clone(), app.url(&concrete))
                .bearer_auth(&admin.token)
                .json(&json!({*field: true}))
                .send()
                .await
                .unwrap();
            let problem = assert_problem(response, 422, "invalid_body").await;
            let named = problem["errors"].get(*field).is_some() || problem["detail"].as_str().unwrap().contains(field);
            assert!(named, "{method} {path} with `{field}`: {problem}");
            checked += 1;
        }
    }
    assert!(checked > 500, "{checked}");
}

/// A phone pushes back the records it pulled, server-managed fields and all: those are read
/// past, never stored. What it may not assign is refused per record.
#[tokio::test]
async fn a_phone_cannot_push_what_the_server_decides() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let colleague = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let at = (Utc::now() - Duration::hours(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
    // Accuracy 500 m can never be verified, whatever the phone claims.
    let visit = json!({
        "id": Uuid::new_v4(), "location": {"lat": CENTRE.0, "lon": CENTRE.1, "accuracy_m": 500}, "visited_at": at,
        "purpose": "market_sweep", "verified": true, "verification": {"verified": true, "reasons": []},
        "user_id": colleague.id, "org_unit_id": app.tree.outlet_b1, "org_path": "/", "points": 100,
        "created_at": "2020-01-01T00:00:00Z", "version": 42
    });
    let partner = json!({
        "id": Uuid::new_v4(), "name": "新店", "category": "other", "location": {"lat": CENTRE.0, "lon": CENTRE.1},
        "created_at": "2020-01-01T00:00:00Z", "org_path": "/", "version": 42, "deleted_at": "2020-01-01T00:00:00Z"
    });
    let foreign_owner = json!({"id": Uuid::new_v4(), "name": "替同事建的店", "category": "other", "location": {"lat": CENTRE.0, "lon": CENTRE.1}, "owner_id": colleague.id});
    let push = json!({"changes": {"partners": {"created": [partner, foreign_owner]}, "visits": {"created": [visit]}}});
    let result = json_ok(app.post_json("/api/v1/sync/push", Some(&am.token), &push).await, 200).await;
    let results = result["results"].as_array().unwrap();
    let stored_partner = &results[0]["record"];
    assert_eq!(results[0]["status"], "created", "{result}");
    assert_eq!((&stored_partner["version"], &stored_partner["owner_id"]), (&json!(1), &json!(am.id)));
    assert!(stored_partner["created_at"].as_str().unwrap().starts_with(&Utc::now().format("%Y").to_string()));
    assert_eq!(results[1]["status"], "rejected", "{result}");
    assert_eq!(results[1]["problem"]["code"], "cannot_assign");
    let stored_visit = &results[2]["record"];
    assert_eq!(results[2]["status"], "created", "{result}");
    assert_eq!(stored_visit["verified"], false, "the server judges verification: {stored_visit}");
    assert_eq!((&stored_visit["user_id"], &stored_visit["version"]), (&json!(am.id), &json!(1)));
    assert_eq!(stored_visit["org_unit_id"], json!(app.tree.outlet_a1));
    let listed = json_ok(app.get("/api/v1/partners", Some(&am.token)).await, 200).await;
    assert!(listed.to_string().contains(results[0]["id"].as_str().unwrap()), "a pushed deleted_at deletes nothing");
}

#[tokio::test]
async fn protected_fields_in_the_schema_are_set_only_by_roles_that_may() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let colleague = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let partner = create_partner(&app, &am.token, &partner_body("我的店", CENTRE.0, CENTRE.1)).await;
    let path = format!("/api/v1/partners/{}", partner["id"].as_str().unwrap());
    for change in [json!({"owner_id": colleague.id}), json!({"org_unit_id": app.tree.outlet_a1b})] {
        assert_problem(app.patch_json(&path, Some(&am.token), &change).await, 403, "cannot_assign").await;
    }
    let stored = json_ok(app.get(&path, Some(&am.token)).await, 200).await;
    assert_eq!((&stored["owner_id"], &stored["version"]), (&partner["owner_id"], &partner["version"]), "unchanged");

    let lead =
        json!({"kind": "person", "name": "周先生", "phone": crate::helpers::unique_phone(), "source": "walk_in"});
    let lead = json_ok(app.post_json("/api/v1/leads", Some(&am.token), &lead).await, 201).await;
    let lead_path = format!("/api/v1/leads/{}", lead["id"].as_str().unwrap());
    assert_problem(
        app.patch_json(&lead_path, Some(&am.token), &json!({"owner_id": colleague.id})).await,
        403,
        "cannot_assign",
    )
    .await;

    let me = format!("/api/v1/users/{}", am.id);
    for change in
        [json!({"role": "branch_manager"}), json!({"org_unit_id": app.tree.outlet_a2}), json!({"active": false})]
    {
        let response = app.patch_json(&me, Some(&am.token), &change).await;
        assert_eq!(response.status(), 403, "{change}");
    }
    let stored = json_ok(app.get(&me, Some(&am.token)).await, 200).await;
    assert_eq!((stored["role"].as_str(), stored["active"].as_bool()), (Some("account_manager"), Some(true)));

    // A stale or invented version is a conflict, never a way to set the counter.
    let stale = app.patch_json(&path, Some(&am.token), &json!({"address": "新地址", "version": 999})).await;
    assert_problem(stale, 409, "version_conflict").await;
}
