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

#[tokio::test]
async fn a_check_in_and_the_attendee_list_never_name_a_lead_the_caller_cannot_open() {
    let app = spawn_app().await;
    let here = app.login_as(Role::AccountManager).await;
    let there = app.login_at(Role::AccountManager, Some(app.tree.outlet_a2)).await;
    // The person is already a lead of an account manager of another sub-branch.
    let lead = crate::leads::create_lead(&app, &there.token, &crate::leads::lead_body("黄先生", "13911117777")).await;
    let e = crate::events::new_event(&app, &here.token, 5).await;
    let (id, code) = (e["id"].as_str().unwrap(), e["registration_code"].as_str().unwrap());
    let body = json!({"name": "黄先生", "phone": "13911117777", "consent": true});
    let ticket =
        json_ok(app.post_json(&format!("/api/v1/public/events/{code}/registrations"), None, &body).await, 201).await;
    let scan = json!({"ticket_code": ticket["ticket_code"]});
    let checked =
        json_ok(app.post_json(&format!("/api/v1/events/{id}/checkins"), Some(&here.token), &scan).await, 200).await;
    assert!(checked["lead_id"].is_null(), "finding 14: {checked}");
    let lead_id = lead["id"].as_str().unwrap();
    assert_problem(app.get(format!("/api/v1/leads/{lead_id}"), Some(&here.token)).await, 404, "not_found").await;
    let list = json_ok(app.get(format!("/api/v1/events/{id}/attendees"), Some(&here.token)).await, 200).await;
    assert!(!list.to_string().contains(lead_id), "{list}");
    // The lead's own account manager's manager, who may open it, is told.
    let bm = app.login_as(Role::BranchManager).await;
    let list = json_ok(app.get(format!("/api/v1/events/{id}/attendees"), Some(&bm.token)).await, 200).await;
    assert_eq!(list["items"][0]["lead_id"], lead_id);
}

#[tokio::test]
async fn cases_filtered_by_a_hidden_author_answer_as_for_an_unknown_one() {
    let app = spawn_app().await;
    let author = app.login_at(Role::AccountManager, Some(app.tree.outlet_a2)).await;
    let sm = app.login_at(Role::SubBranchManager, Some(app.tree.sub_a2)).await;
    let reader = app.login_as(Role::AccountManager).await;
    let body = json!({
        "title": "社区亲子课", "segment": "outreach", "partner_category": null,
        "what_done": "联合小区物业在周末办亲子财商课。", "results": "新增一批客户。", "figures": []
    });
    let case = json_ok(app.post_json("/api/v1/cases", Some(&author.token), &body).await, 201).await;
    let publish = format!("/api/v1/cases/{}/publish", case["id"].as_str().unwrap());
    json_ok(app.post_json(&publish, Some(&sm.token), &json!({})).await, 200).await;
    // The published case reaches the whole branch, its author hidden from this reader...
    let all = json_ok(app.get("/api/v1/cases", Some(&reader.token)).await, 200).await;
    assert!(all.to_string().contains(case["id"].as_str().unwrap()));
    // ...so filtering by the author's id must not tie that id to it (finding 14).
    let by = json_ok(app.get(format!("/api/v1/cases?author_id={}", author.id), Some(&reader.token)).await, 200).await;
    assert_eq!(by["items"], json!([]));
    let seen = json_ok(app.get(format!("/api/v1/cases?author_id={}", author.id), Some(&sm.token)).await, 200).await;
    assert_eq!(seen["items"].as_array().unwrap().len(), 1, "the author's manager may filter by them");
}

#[tokio::test]
async fn a_disabled_or_moved_user_s_token_stops_working_on_the_next_request() {
    let app = spawn_app().await;
    let bm = app.login_as(Role::BranchManager).await;
    let sm = app.login_as(Role::SubBranchManager).await;
    assert_eq!(app.get("/api/v1/me", Some(&sm.token)).await.status(), 200);
    json_ok(app.patch_json(&format!("/api/v1/users/{}", sm.id), Some(&bm.token), &json!({"active": false})).await, 200)
        .await;
    // Finding 11: the token (valid for 15 minutes more) created a new manager.
    let body = json!({
        "phone": crate::helpers::unique_phone(), "name": "后门经理", "password": "long enough password",
        "role": "sub_branch_manager", "org_unit_id": app.tree.sub_a1
    });
    assert_problem(app.post_json("/api/v1/users", Some(&sm.token), &body).await, 401, "invalid_token").await;
    assert_problem(app.get("/api/v1/me", Some(&sm.token)).await, 401, "invalid_token").await;
    // A move to another unit ends the old token too; the new one works.
    let am = app.login_as(Role::AccountManager).await;
    let path = format!("/api/v1/users/{}", am.id);
    json_ok(app.patch_json(&path, Some(&bm.token), &json!({"org_unit_id": app.tree.outlet_a2})).await, 200).await;
    assert_problem(app.get("/api/v1/partners", Some(&am.token)).await, 401, "invalid_token").await;
    let session: serde_json::Value = app.login(&am.phone, crate::helpers::PASSWORD).await.json().await.unwrap();
    let token = session["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/partners", Some(token)).await.status(), 200);
}

/// Finding 13: behind a proxy every request came from the proxy, so the per-address budget was
/// one for the whole city, and a guesser anywhere locked the owner out everywhere.
#[tokio::test]
async fn a_guesser_behind_the_proxy_is_throttled_by_address_not_the_proxy() {
    async fn login_from(app: &crate::helpers::TestApp, from: &str, phone: &str, password: &str) -> u16 {
        let body = json!({"phone": phone, "password": password});
        let request = app.client.post(app.url("/api/v1/auth/login")).header("x-forwarded-for", from).json(&body);
        request.send().await.unwrap().status().as_u16()
    }
    let limits = |env: &mut std::collections::HashMap<String, String>| {
        env.insert("OUTREACH_LOGIN_ACCOUNT_BURST".into(), "3".into());
        env.insert("OUTREACH_LOGIN_ACCOUNT_PER_MINUTE".into(), "1".into());
    };
    let app = crate::helpers::spawn_app_with(|env| {
        limits(env);
        env.insert("OUTREACH_TRUSTED_PROXIES".into(), "127.0.0.1/32, ::1".into());
    })
    .await;
    let (_, phone) = app.user(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    // A client's own first hop is not believed: the proxy's last one is.
    for _ in 0..3 {
        assert_eq!(login_from(&app, "198.51.100.7, 203.0.113.9", &phone, "wrong password!").await, 401);
    }
    assert_eq!(login_from(&app, "198.51.100.7, 203.0.113.9", &phone, "wrong password!").await, 429);
    // The owner, at another address, is not locked out.
    assert_eq!(login_from(&app, "198.51.100.7", &phone, crate::helpers::PASSWORD).await, 200);

    // Without a trusted proxy the header is anyone's to write, and is not believed.
    let app = crate::helpers::spawn_app_with(limits).await;
    let (_, phone) = app.user(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    for n in 0..3 {
        assert_eq!(login_from(&app, &format!("203.0.113.{n}"), &phone, "wrong password!").await, 401);
    }
    assert_eq!(login_from(&app, "203.0.113.99", &phone, "wrong password!").await, 429);
}

/// Issue 21, finding 14: reading attendees' and leads' full phones in bulk left no trace; only
/// file exports were audited.
#[tokio::test]
async fn reading_full_phones_in_bulk_is_audited_like_an_export() {
    let app = crate::helpers::spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let sm = app.login_as(Role::SubBranchManager).await;
    let e = crate::events::new_event(&app, &am.token, 5).await;
    let (id, code) = (e["id"].as_str().unwrap(), e["registration_code"].as_str().unwrap());
    let body = json!({"name": "孙女士", "phone": "13966660001", "consent": true});
    json_ok(app.post_json(&format!("/api/v1/public/events/{code}/registrations"), None, &body).await, 201).await;
    crate::leads::create_lead(&app, &am.token, &crate::leads::lead_body("钱先生", "13966660002")).await;
    let reads = |audit: &serde_json::Value| -> Vec<serde_json::Value> {
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["action"] == "read")
            .map(|a| a["changes"].clone())
            .collect()
    };
    let event_audit = format!("/api/v1/audit?entity=event&entity_id={id}");
    // The owner reading their own: their working list, no entry.
    json_ok(app.get(format!("/api/v1/events/{id}/attendees"), Some(&am.token)).await, 200).await;
    json_ok(app.get("/api/v1/leads", Some(&am.token)).await, 200).await;
    assert!(reads(&json_ok(app.get(&event_audit, Some(&sm.token)).await, 200).await).is_empty());
    // A manager reading a team member's, phones in full: audited, with how many.
    let list = json_ok(app.get(format!("/api/v1/events/{id}/attendees"), Some(&sm.token)).await, 200).await;
    assert_eq!(list["items"][0]["phone"], "13966660001");
    let audit = json_ok(app.get(&event_audit, Some(&sm.token)).await, 200).await;
    assert_eq!(reads(&audit), vec![json!({"read": "attendees", "rows": 1, "full_phones": 1})], "{audit}");
    json_ok(app.get("/api/v1/leads", Some(&sm.token)).await, 200).await;
    let audit =
        json_ok(app.get(format!("/api/v1/audit?entity=lead_list&entity_id={}", sm.id), Some(&sm.token)).await, 200)
            .await;
    assert_eq!(reads(&audit), vec![json!({"read": "leads", "rows": 1, "full_phones": 1})], "{audit}");
}
