use outreach::domain::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{PASSWORD, assert_problem, json_ok, spawn_app, unique_phone};

fn new_user(role: &str, unit: Option<Uuid>) -> Value {
    json!({"phone": unique_phone(), "name": "新同事", "password": "long enough password", "role": role, "org_unit_id": unit})
}

#[tokio::test]
async fn a_manager_creates_a_user_who_can_log_in() {
    let app = spawn_app().await;
    let manager = app.login_as(Role::SubBranchManager).await;
    let body = new_user("account_manager", Some(app.tree.outlet_a1));
    let created = json_ok(app.post_json("/api/v1/users", Some(&manager.token), &body).await, 201).await;
    assert_eq!(created["role"], "account_manager");
    assert_eq!(created["org_unit_id"], app.tree.outlet_a1.to_string());
    assert_eq!(created["active"], true);
    assert!(created.get("password").is_none() && created.get("password_hash").is_none());
    json_ok(app.login(body["phone"].as_str().unwrap(), "long enough password").await, 200).await;
    let fetched = json_ok(
        app.get(&format!("/api/v1/users/{}", created["id"].as_str().unwrap()), Some(&manager.token)).await,
        200,
    )
    .await;
    assert_eq!(fetched, created);
}

#[tokio::test]
async fn nobody_grants_a_role_above_their_own() {
    let app = spawn_app().await;
    let t = &app.tree;
    let sm = app.login_as(Role::SubBranchManager).await;
    let bm = app.login_as(Role::BranchManager).await;
    let cases = [
        (&sm, new_user("branch_manager", Some(t.branch_a))),
        (&sm, new_user("admin", None)),
        (&bm, new_user("admin", None)),
    ];
    for (who, body) in cases {
        assert_problem(app.post_json("/api/v1/users", Some(&who.token), &body).await, 403, "role_escalation").await;
    }
    // Promoting an existing user counts too.
    let worker = app.login_at(Role::AccountManager, Some(t.outlet_a1)).await;
    let promote = json!({"role": "branch_manager", "org_unit_id": t.branch_a});
    assert_problem(
        app.patch_json(&format!("/api/v1/users/{}", worker.id), Some(&sm.token), &promote).await,
        403,
        "role_escalation",
    )
    .await;
}

#[tokio::test]
async fn account_managers_and_supervisors_create_no_users() {
    let app = spawn_app().await;
    for role in [Role::AccountManager, Role::Supervisor] {
        let who = app.login_as(role).await;
        let body = new_user("account_manager", Some(app.tree.outlet_a1));
        assert_problem(app.post_json("/api/v1/users", Some(&who.token), &body).await, 403, "role_not_allowed").await;
    }
}

#[tokio::test]
async fn users_are_placed_only_inside_the_subtree_and_where_the_role_fits() {
    let app = spawn_app().await;
    let t = &app.tree;
    let sm = app.login_as(Role::SubBranchManager).await;
    let bm = app.login_as(Role::BranchManager).await;
    for (who, unit) in [(&sm, t.outlet_a2), (&bm, t.outlet_b1)] {
        let body = new_user("account_manager", Some(unit));
        assert_problem(app.post_json("/api/v1/users", Some(&who.token), &body).await, 404, "not_found").await;
    }
    let misplaced = new_user("sub_branch_manager", Some(t.outlet_a1));
    let problem =
        assert_problem(app.post_json("/api/v1/users", Some(&bm.token), &misplaced).await, 422, "validation_failed")
            .await;
    assert!(problem["errors"]["org_unit_id"].is_string());
    let homeless = new_user("account_manager", None);
    assert_problem(app.post_json("/api/v1/users", Some(&bm.token), &homeless).await, 422, "validation_failed").await;
}

#[tokio::test]
async fn new_user_fields_are_validated_together() {
    let app = spawn_app().await;
    let bm = app.login_as(Role::BranchManager).await;
    let body = json!({"phone": "555-1234", "name": "", "password": "short", "role": "account_manager", "org_unit_id": app.tree.outlet_a1});
    let problem =
        assert_problem(app.post_json("/api/v1/users", Some(&bm.token), &body).await, 422, "validation_failed").await;
    for field in ["phone", "name", "password"] {
        assert!(problem["errors"][field].is_string(), "{field}: {problem}");
    }
    let unknown_role = json!({"phone": unique_phone(), "name": "x", "password": PASSWORD, "role": "root", "org_unit_id": app.tree.outlet_a1});
    assert_problem(app.post_json("/api/v1/users", Some(&bm.token), &unknown_role).await, 422, "invalid_body").await;
}

#[tokio::test]
async fn a_phone_belongs_to_one_user() {
    let app = spawn_app().await;
    let bm = app.login_as(Role::BranchManager).await;
    let body = new_user("account_manager", Some(app.tree.outlet_a1));
    json_ok(app.post_json("/api/v1/users", Some(&bm.token), &body).await, 201).await;
    assert_problem(app.post_json("/api/v1/users", Some(&bm.token), &body).await, 409, "phone_taken").await;
}

#[tokio::test]
async fn lists_stay_in_scope_and_mask_phones_for_non_managers() {
    let app = spawn_app().await;
    let t = &app.tree;
    let (colleague, colleague_phone) = app.user(Role::AccountManager, Some(t.outlet_a1)).await;
    let (foreigner, _) = app.user(Role::AccountManager, Some(t.outlet_b1)).await;
    let (neighbour, _) = app.user(Role::AccountManager, Some(t.outlet_a2)).await;
    let am = app.login_as(Role::AccountManager).await;
    let page = json_ok(app.get("/api/v1/users", Some(&am.token)).await, 200).await;
    let items = page["items"].as_array().unwrap();
    let ids: Vec<&str> = items.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&colleague.to_string().as_str()));
    assert!(!ids.contains(&foreigner.to_string().as_str()) && !ids.contains(&neighbour.to_string().as_str()));
    let colleague_row = items.iter().find(|u| u["id"] == colleague.to_string()).unwrap();
    let masked = format!("{}****{}", &colleague_phone[..3], &colleague_phone[7..]);
    assert_eq!(colleague_row["phone"], masked);
    let me = items.iter().find(|u| u["id"] == am.id.to_string()).unwrap();
    assert_eq!(me["phone"], am.phone, "your own number is shown in full");

    let sm = app.login_as(Role::SubBranchManager).await;
    let seen = json_ok(app.get(&format!("/api/v1/users/{colleague}"), Some(&sm.token)).await, 200).await;
    assert_eq!(seen["phone"], colleague_phone, "managers see full numbers");
    for id in [foreigner, neighbour] {
        assert_problem(app.get(&format!("/api/v1/users/{id}"), Some(&sm.token)).await, 404, "not_found").await;
    }
    let filtered = json_ok(
        app.get(&format!("/api/v1/users?org_unit_id={}&role=account_manager", t.outlet_a1), Some(&sm.token)).await,
        200,
    )
    .await;
    assert!(filtered["items"].as_array().unwrap().iter().all(|u| u["org_unit_id"] == t.outlet_a1.to_string()));
}

#[tokio::test]
async fn users_change_their_own_name_and_password_but_not_their_role() {
    let app = spawn_app().await;
    let me = app.login_as(Role::AccountManager).await;
    let path = format!("/api/v1/users/{}", me.id);
    let renamed = json_ok(app.patch_json(&path, Some(&me.token), &json!({"name": "张三"})).await, 200).await;
    assert_eq!((renamed["name"].as_str(), renamed["version"].as_i64()), (Some("张三"), Some(2)));
    for body in [json!({"role": "admin"}), json!({"active": false}), json!({"org_unit_id": app.tree.outlet_a1b})] {
        assert_problem(app.patch_json(&path, Some(&me.token), &body).await, 403, "self_change_forbidden").await;
    }
    let without_current = app.patch_json(&path, Some(&me.token), &json!({"password": "a brand new password"})).await;
    assert_problem(without_current, 422, "validation_failed").await;
    let wrong_current = app
        .patch_json(
            &path,
            Some(&me.token),
            &json!({"password": "a brand new password", "current_password": "nope nope nope"}),
        )
        .await;
    assert_problem(wrong_current, 403, "wrong_current_password").await;
    let changed = app
        .patch_json(&path, Some(&me.token), &json!({"password": "a brand new password", "current_password": PASSWORD}))
        .await;
    json_ok(changed, 200).await;
    // The old password and the old sessions are gone; the new password works.
    assert_problem(app.login(&me.phone, PASSWORD).await, 401, "invalid_credentials").await;
    let refresh = app.post_json("/api/v1/auth/refresh", None, &json!({"refresh_token": me.refresh})).await;
    assert_problem(refresh, 401, "invalid_refresh_token").await;
    json_ok(app.login(&me.phone, "a brand new password").await, 200).await;
}

#[tokio::test]
async fn managers_move_and_reset_users_in_their_subtree() {
    let app = spawn_app().await;
    let t = &app.tree;
    let sm = app.login_as(Role::SubBranchManager).await;
    let worker = app.login_at(Role::AccountManager, Some(t.outlet_a1)).await;
    let path = format!("/api/v1/users/{}", worker.id);
    let moved =
        json_ok(app.patch_json(&path, Some(&sm.token), &json!({"org_unit_id": t.outlet_a1b, "version": 1})).await, 200)
            .await;
    assert_eq!(moved["org_unit_id"], t.outlet_a1b.to_string());
    // A stale version is refused rather than silently overwriting.
    assert_problem(
        app.patch_json(&path, Some(&sm.token), &json!({"name": "x", "version": 1})).await,
        409,
        "version_conflict",
    )
    .await;
    // Out of the manager's subtree: not found.
    assert_problem(
        app.patch_json(&path, Some(&sm.token), &json!({"org_unit_id": t.outlet_a2})).await,
        404,
        "not_found",
    )
    .await;
    let reset = app.patch_json(&path, Some(&sm.token), &json!({"password": "reset by my manager"})).await;
    json_ok(reset, 200).await;
    json_ok(app.login(&worker.phone, "reset by my manager").await, 200).await;
    // Someone else's sub-branch manager cannot touch this user.
    let other = app.login_at(Role::SubBranchManager, Some(t.sub_a2)).await;
    assert_problem(app.patch_json(&path, Some(&other.token), &json!({"name": "x"})).await, 404, "not_found").await;
    // A sub-branch manager cannot edit their own branch manager.
    let bm = app.login_as(Role::BranchManager).await;
    assert_problem(
        app.patch_json(&format!("/api/v1/users/{}", bm.id), Some(&sm.token), &json!({"name": "x"})).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn an_account_manager_edits_nobody_else() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let (colleague, _) = app.user(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let response = app.patch_json(&format!("/api/v1/users/{colleague}"), Some(&am.token), &json!({"name": "x"})).await;
    assert_problem(response, 403, "role_not_allowed").await;
}
