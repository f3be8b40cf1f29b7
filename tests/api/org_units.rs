use outreach::domain::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{assert_problem, json_ok, spawn_app};

fn square() -> Value {
    json!({"type": "Polygon", "coordinates": [[[113.0, 22.5], [113.1, 22.5], [113.1, 22.6], [113.0, 22.6], [113.0, 22.5]]]})
}

#[tokio::test]
async fn an_admin_builds_a_tree_with_territories() {
    let app = spawn_app().await;
    let admin = app.login_as(Role::Admin).await;
    let branch = json_ok(
        app.post_json(
            "/api/v1/org-units",
            Some(&admin.token),
            &json!({"name": "佛山分行", "kind": "branch", "territory": square()}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(branch["kind"], "branch");
    assert_eq!(branch["parent_id"], Value::Null);
    assert_eq!(branch["branch_id"], branch["id"]);
    assert_eq!(branch["territory"], square());
    assert_eq!(branch["version"], 1);
    let sub = json_ok(
        app.post_json(
            "/api/v1/org-units",
            Some(&admin.token),
            &json!({"name": "禅城支行", "kind": "sub_branch", "parent_id": branch["id"]}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(sub["branch_id"], branch["id"]);
    let fetched =
        json_ok(app.get(&format!("/api/v1/org-units/{}", sub["id"].as_str().unwrap()), Some(&admin.token)).await, 200)
            .await;
    assert_eq!(fetched, sub);
    let children = json_ok(
        app.get(&format!("/api/v1/org-units?parent_id={}", branch["id"].as_str().unwrap()), Some(&admin.token)).await,
        200,
    )
    .await;
    assert_eq!(children["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_tree_shape_is_enforced() {
    let app = spawn_app().await;
    let admin = app.login_as(Role::Admin).await;
    let t = &app.tree;
    let cases = [
        json!({"name": "X", "kind": "outlet", "parent_id": t.branch_a}),
        json!({"name": "X", "kind": "sub_branch", "parent_id": t.sub_a1}),
        json!({"name": "X", "kind": "sub_branch"}),
        json!({"name": "X", "kind": "branch", "parent_id": t.branch_a}),
        json!({"name": "   ", "kind": "branch"}),
    ];
    for body in cases {
        let problem = assert_problem(
            app.post_json("/api/v1/org-units", Some(&admin.token), &body).await,
            422,
            "validation_failed",
        )
        .await;
        assert!(problem["errors"].as_object().is_some_and(|e| !e.is_empty()), "{body}");
    }
}

#[tokio::test]
async fn invalid_territories_are_refused() {
    let app = spawn_app().await;
    let admin = app.login_as(Role::Admin).await;
    let bow_tie = json!({"type": "Polygon", "coordinates": [[[113.0, 22.5], [113.1, 22.6], [113.1, 22.5], [113.0, 22.6], [113.0, 22.5]]]});
    let open =
        json!({"type": "Polygon", "coordinates": [[[113.0, 22.5], [113.1, 22.5], [113.1, 22.6], [113.0, 22.6]]]});
    let off_earth =
        json!({"type": "Polygon", "coordinates": [[[200.0, 22.5], [201.0, 22.5], [201.0, 22.6], [200.0, 22.5]]]});
    for territory in [bow_tie, open, off_earth] {
        let body = json!({"name": "X", "kind": "branch", "territory": territory});
        let problem = assert_problem(
            app.post_json("/api/v1/org-units", Some(&admin.token), &body).await,
            422,
            "validation_failed",
        )
        .await;
        assert!(problem["errors"]["territory"].is_string(), "{problem}");
    }
}

#[tokio::test]
async fn who_may_create_what() {
    let app = spawn_app().await;
    let t = &app.tree;
    let branch_manager = app.login_as(Role::BranchManager).await;
    let sub_manager = app.login_as(Role::SubBranchManager).await;
    let account_manager = app.login_as(Role::AccountManager).await;
    let supervisor = app.login_as(Role::Supervisor).await;

    let new_branch = json!({"name": "X", "kind": "branch"});
    assert_problem(
        app.post_json("/api/v1/org-units", Some(&branch_manager.token), &new_branch).await,
        403,
        "role_not_allowed",
    )
    .await;
    let new_sub = json!({"name": "X", "kind": "sub_branch", "parent_id": t.branch_a});
    json_ok(app.post_json("/api/v1/org-units", Some(&branch_manager.token), &new_sub).await, 201).await;
    assert_problem(
        app.post_json("/api/v1/org-units", Some(&sub_manager.token), &new_sub).await,
        403,
        "role_not_allowed",
    )
    .await;
    let new_outlet = json!({"name": "X", "kind": "outlet", "parent_id": t.sub_a1});
    json_ok(app.post_json("/api/v1/org-units", Some(&sub_manager.token), &new_outlet).await, 201).await;
    for who in [&account_manager, &supervisor] {
        assert_problem(
            app.post_json("/api/v1/org-units", Some(&who.token), &new_outlet).await,
            403,
            "role_not_allowed",
        )
        .await;
    }
    // A sibling sub-branch and another branch are outside the caller's subtree: 404, not 403.
    let sibling = json!({"name": "X", "kind": "outlet", "parent_id": t.sub_a2});
    assert_problem(app.post_json("/api/v1/org-units", Some(&sub_manager.token), &sibling).await, 404, "not_found")
        .await;
    let foreign = json!({"name": "X", "kind": "sub_branch", "parent_id": t.branch_b});
    assert_problem(app.post_json("/api/v1/org-units", Some(&branch_manager.token), &foreign).await, 404, "not_found")
        .await;
    let foreign_outlet = json!({"name": "X", "kind": "outlet", "parent_id": t.sub_b1});
    assert_problem(
        app.post_json("/api/v1/org-units", Some(&branch_manager.token), &foreign_outlet).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn each_caller_sees_only_their_subtree() {
    let app = spawn_app().await;
    let t = &app.tree;
    let ids = |page: &Value| -> Vec<String> {
        let mut ids: Vec<String> =
            page["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
        ids.sort();
        ids
    };
    let sorted = |units: &[Uuid]| -> Vec<String> {
        let mut ids: Vec<String> = units.iter().map(ToString::to_string).collect();
        ids.sort();
        ids
    };
    let admin = app.login_as(Role::Admin).await;
    assert_eq!(ids(&json_ok(app.get("/api/v1/org-units", Some(&admin.token)).await, 200).await).len(), 9);
    let bm = app.login_as(Role::BranchManager).await;
    assert_eq!(
        ids(&json_ok(app.get("/api/v1/org-units", Some(&bm.token)).await, 200).await),
        sorted(&[t.branch_a, t.sub_a1, t.outlet_a1, t.outlet_a1b, t.sub_a2, t.outlet_a2])
    );
    let sm = app.login_as(Role::SubBranchManager).await;
    assert_eq!(
        ids(&json_ok(app.get("/api/v1/org-units", Some(&sm.token)).await, 200).await),
        sorted(&[t.sub_a1, t.outlet_a1, t.outlet_a1b])
    );
    let am = app.login_as(Role::AccountManager).await;
    assert_eq!(ids(&json_ok(app.get("/api/v1/org-units", Some(&am.token)).await, 200).await), sorted(&[t.outlet_a1]));

    // Outside the subtree reads as absent.
    for (who, unit) in [(&sm, t.sub_a2), (&sm, t.branch_a), (&bm, t.branch_b), (&am, t.outlet_a1b)] {
        assert_problem(app.get(&format!("/api/v1/org-units/{unit}"), Some(&who.token)).await, 404, "not_found").await;
    }
    assert_problem(
        app.get(&format!("/api/v1/org-units/{}", Uuid::new_v4()), Some(&admin.token)).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn a_client_id_makes_create_idempotent() {
    let app = spawn_app().await;
    let admin = app.login_as(Role::Admin).await;
    let id = Uuid::new_v4();
    let body = json!({"id": id, "name": "江海支行", "kind": "sub_branch", "parent_id": app.tree.branch_a});
    let first = json_ok(app.post_json("/api/v1/org-units", Some(&admin.token), &body).await, 201).await;
    assert_eq!(first["id"], id.to_string());
    let again = json_ok(app.post_json("/api/v1/org-units", Some(&admin.token), &body).await, 200).await;
    assert_eq!(again, first);
    let other = json!({"id": id, "name": "另一个", "kind": "sub_branch", "parent_id": app.tree.branch_a});
    assert_problem(app.post_json("/api/v1/org-units", Some(&admin.token), &other).await, 409, "id_conflict").await;
}
