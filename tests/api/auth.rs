use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use outreach::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{JWT_SECRET, PASSWORD, assert_problem, json_ok, spawn_app, spawn_app_with};

#[tokio::test]
async fn login_returns_a_bearer_pair_and_the_user() {
    let app = spawn_app().await;
    let (id, phone) = app.user(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    // People type numbers with spaces and +86; the login accepts them.
    let spaced = format!("+86 {} {} {}", &phone[..3], &phone[3..7], &phone[7..]);
    let body = json_ok(app.login(&spaced, PASSWORD).await, 200).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["id"], id.to_string());
    assert_eq!(body["user"]["phone"], phone);
    assert_eq!(body["user"]["role"], "account_manager");
    assert!(body.get("password_hash").is_none() && body["user"].get("password_hash").is_none());
    let token = body["access_token"].as_str().unwrap();
    let me = json_ok(app.get("/api/v1/me", Some(token)).await, 200).await;
    assert_eq!(me["id"], id.to_string());
}

#[tokio::test]
async fn unknown_phone_and_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    let (_, phone) = app.user(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let wrong = assert_problem(app.login(&phone, "not the password").await, 401, "invalid_credentials").await;
    let unknown = assert_problem(app.login("13312345678", PASSWORD).await, 401, "invalid_credentials").await;
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn a_malformed_phone_is_a_validation_error() {
    let app = spawn_app().await;
    let body = assert_problem(app.login("12345", PASSWORD).await, 422, "validation_failed").await;
    assert!(body["errors"]["phone"].is_string());
}

#[tokio::test]
async fn a_deactivated_user_cannot_log_in_or_refresh() {
    let app = spawn_app().await;
    let manager = app.login_as(Role::SubBranchManager).await;
    let worker = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let path = format!("/api/v1/users/{}", worker.id);
    json_ok(app.patch_json(&path, Some(&manager.token), &json!({"active": false})).await, 200).await;
    assert_problem(app.login(&worker.phone, PASSWORD).await, 401, "invalid_credentials").await;
    let refresh = app.post_json("/api/v1/auth/refresh", None, &json!({"refresh_token": worker.refresh})).await;
    assert_problem(refresh, 401, "invalid_refresh_token").await;
}

#[tokio::test]
async fn refresh_rotates_and_a_replayed_token_revokes_the_login() {
    let app = spawn_app().await;
    let user = app.login_as(Role::AccountManager).await;
    let first =
        json_ok(app.post_json("/api/v1/auth/refresh", None, &json!({"refresh_token": user.refresh})).await, 200).await;
    let second_refresh = first["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, user.refresh);
    assert_eq!(first["user"]["id"], user.id.to_string());
    // The new access token works.
    json_ok(app.get("/api/v1/me", first["access_token"].as_str()).await, 200).await;

    // Replaying the spent token fails, and takes the successor down with it.
    let replay = app.post_json("/api/v1/auth/refresh", None, &json!({"refresh_token": user.refresh})).await;
    assert_problem(replay, 401, "invalid_refresh_token").await;
    let successor = app.post_json("/api/v1/auth/refresh", None, &json!({"refresh_token": second_refresh})).await;
    assert_problem(successor, 401, "invalid_refresh_token").await;
}

#[tokio::test]
async fn another_login_survives_a_replay_on_the_first() {
    let app = spawn_app().await;
    let user = app.login_as(Role::AccountManager).await;
    let other: Value = app.login(&user.phone, PASSWORD).await.json().await.unwrap();
    app.post_json("/api/v1/auth/refresh", None, &json!({"refresh_token": user.refresh})).await;
    app.post_json("/api/v1/auth/refresh", None, &json!({"refresh_token": user.refresh})).await;
    let other_refresh = other["refresh_token"].as_str().unwrap();
    json_ok(app.post_json("/api/v1/auth/refresh", None, &json!({"refresh_token": other_refresh})).await, 200).await;
}

#[tokio::test]
async fn logout_revokes_the_refresh_token_and_is_idempotent() {
    let app = spawn_app().await;
    let user = app.login_as(Role::AccountManager).await;
    let out = app.post_json("/api/v1/auth/logout", None, &json!({"refresh_token": user.refresh})).await;
    assert_eq!(out.status(), 204);
    let again = app.post_json("/api/v1/auth/logout", None, &json!({"refresh_token": user.refresh})).await;
    assert_eq!(again.status(), 204);
    let refresh = app.post_json("/api/v1/auth/refresh", None, &json!({"refresh_token": user.refresh})).await;
    assert_problem(refresh, 401, "invalid_refresh_token").await;
}

#[tokio::test]
async fn unknown_refresh_tokens_are_rejected() {
    let app = spawn_app().await;
    let refresh = app.post_json("/api/v1/auth/refresh", None, &json!({"refresh_token": "made-up"})).await;
    assert_problem(refresh, 401, "invalid_refresh_token").await;
}

fn claims(user: &str, exp_offset: i64, aud: &str, typ: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "iss": "outreach", "aud": aud, "sub": user, "iat": now, "nbf": now - 5, "exp": now + exp_offset,
        "jti": uuid::Uuid::new_v4(), "typ": typ, "role": "admin", "path": "/"
    })
}

fn sign(claims: &Value, secret: &str) -> String {
    encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret.as_bytes()).unwrap()).unwrap()
}

#[tokio::test]
async fn forged_expired_and_unsigned_tokens_are_refused() {
    let app = spawn_app().await;
    let user = app.login_as(Role::AccountManager).await;
    let id = user.id.to_string();

    let forged = sign(&claims(&id, 600, "outreach-api", "access"), "another-secret-another-secret-another-secret");
    assert_problem(app.get("/api/v1/me", Some(&forged)).await, 401, "invalid_token").await;

    let expired = sign(&claims(&id, -3600, "outreach-api", "access"), JWT_SECRET);
    assert_problem(app.get("/api/v1/me", Some(&expired)).await, 401, "token_expired").await;

    let wrong_audience = sign(&claims(&id, 600, "someone-else", "access"), JWT_SECRET);
    assert_problem(app.get("/api/v1/me", Some(&wrong_audience)).await, 401, "invalid_token").await;

    let wrong_type = sign(&claims(&id, 600, "outreach-api", "refresh"), JWT_SECRET);
    assert_problem(app.get("/api/v1/me", Some(&wrong_type)).await, 401, "invalid_token").await;

    // alg:none with admin claims: the classic escalation.
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims(&id, 600, "outreach-api", "access").to_string());
    let unsigned = format!("{header}.{payload}.");
    assert_problem(app.get("/api/v1/me", Some(&unsigned)).await, 401, "invalid_token").await;

    assert_problem(app.get("/api/v1/me", Some("garbage")).await, 401, "invalid_token").await;
    let basic =
        app.client.get(app.url("/api/v1/me")).header("authorization", "Basic dXNlcjpwYXNz").send().await.unwrap();
    let body = assert_problem(basic, 401, "invalid_token").await;
    assert!(body["detail"].as_str().unwrap().contains("Bearer"));
    let missing = app.get("/api/v1/me", None).await;
    assert_eq!(missing.headers().get("www-authenticate").unwrap(), "Bearer");
    assert_problem(missing, 401, "missing_token").await;
}

#[tokio::test]
async fn logins_are_throttled_per_account_with_retry_after() {
    let app = spawn_app_with(|env| {
        env.insert("OUTREACH_LOGIN_ACCOUNT_BURST".into(), "3".into());
        env.insert("OUTREACH_LOGIN_ACCOUNT_PER_MINUTE".into(), "1".into());
    })
    .await;
    let (_, phone) = app.user(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    for _ in 0..3 {
        assert_problem(app.login(&phone, "wrong password!").await, 401, "invalid_credentials").await;
    }
    // Even the right password waits now: the budget is per account, not per failure.
    let throttled = app.login(&phone, PASSWORD).await;
    let retry_after: u64 = throttled.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_problem(throttled, 429, "rate_limited").await;
    // Another account is unaffected.
    let (_, other) = app.user(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    json_ok(app.login(&other, PASSWORD).await, 200).await;
}

#[tokio::test]
async fn logins_are_throttled_per_address() {
    let app = spawn_app_with(|env| {
        env.insert("OUTREACH_LOGIN_IP_BURST".into(), "4".into());
        env.insert("OUTREACH_LOGIN_IP_PER_MINUTE".into(), "1".into());
    })
    .await;
    for n in 0..4 {
        let phone = format!("1331234560{n}");
        assert_problem(app.login(&phone, PASSWORD).await, 401, "invalid_credentials").await;
    }
    assert_problem(app.login("13312345699", PASSWORD).await, 429, "rate_limited").await;
}

#[tokio::test]
async fn the_default_address_budget_lets_a_whole_office_log_in_at_once() {
    let app = spawn_app().await;
    // 210 different accounts from one address in a burst (a 200-staff office and then some).
    let mut refused = 0;
    for n in 0..210 {
        let response = app.login(&format!("1350000{n:04}"), PASSWORD).await;
        if response.status() == 429 {
            refused += 1;
        }
    }
    assert_eq!(refused, 0);
}
