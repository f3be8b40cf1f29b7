//! Issue 21's insiders: what a member of staff can do to another must follow rank.

use outreach::domain::Role;
use serde_json::json;

use crate::helpers::{assert_problem, json_ok, spawn_app};

#[tokio::test]
async fn only_a_higher_role_resets_another_user_s_password_and_each_reset_is_audited() {
    let app = spawn_app().await;
    let sm = app.login_as(Role::SubBranchManager).await;
    let peer = app.login_as(Role::SubBranchManager).await;
    let am = app.login_as(Role::AccountManager).await;
    let reset = json!({"password": "a brand new password"});
    // A peer of the same rank: refused (finding 12: reset, log in as them, lock them out).
    let path = format!("/api/v1/users/{}", peer.id);
    assert_problem(app.patch_json(&path, Some(&sm.token), &reset).await, 403, "role_escalation").await;
    assert_eq!(app.login(&peer.phone, crate::helpers::PASSWORD).await.status(), 200, "the peer's password stands");
    // Below: allowed, and the log says who did it (never the password).
    let path = format!("/api/v1/users/{}", am.id);
    json_ok(app.patch_json(&path, Some(&sm.token), &reset).await, 200).await;
    assert_eq!(app.login(&am.phone, "a brand new password").await.status(), 200);
    let bm = app.login_as(Role::BranchManager).await;
    let audit =
        json_ok(app.get(format!("/api/v1/audit?entity=user&entity_id={}", am.id), Some(&bm.token)).await, 200).await;
    let entry = audit["items"].as_array().unwrap().iter().find(|e| e["changes"]["password"] == "changed").unwrap();
    assert_eq!(entry["actor_id"], json!(sm.id));
    assert!(!entry.to_string().contains("a brand new password"));
    // A peer may still rename a peer (only the password is a takeover).
    let path = format!("/api/v1/users/{}", peer.id);
    json_ok(app.patch_json(&path, Some(&sm.token), &json!({"name": "改名"})).await, 200).await;
}
