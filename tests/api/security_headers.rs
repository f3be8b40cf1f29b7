//! Headers every answer carries for browsers, and the cross-origin allowlist (none by default).

use outreach::domain::Role;
use reqwest::{Method, Response};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with};

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

fn assert_hardened(response: &Response, referrer_policy: &str) {
    assert_eq!(header(response, "x-content-type-options"), Some("nosniff"), "{}", response.url());
    assert_eq!(header(response, "x-frame-options"), Some("DENY"));
    assert_eq!(header(response, "referrer-policy"), Some(referrer_policy));
}

#[tokio::test]
async fn every_answer_is_hardened_and_authenticated_json_is_not_stored() {
    let app = spawn_app().await;
    let manager = app.login_as(Role::AccountManager).await;
    for (path, token) in [
        ("/api/v1/me", Some(manager.token.as_str())),
        ("/api/v1/partners", Some(manager.token.as_str())),
        ("/api/v1/partners", None),
        ("/api/v1/no-such-route", None),
        ("/healthz", None),
    ] {
        let response = app.get(path, token).await;
        assert_hardened(&response, "no-referrer");
        assert_eq!(header(&response, "cache-control"), Some("no-store"), "{path}");
        assert_eq!(header(&response, "strict-transport-security"), None, "no HSTS over plain http");
    }
    // What may be cached says so itself, and keeps it; so does the map page's referrer policy,
    // which tells tile servers (OpenStreetMap's policy requires it) which site asks.
    let page = app.get("/map", None).await;
    assert_hardened(&page, "strict-origin-when-cross-origin");
    assert_eq!(header(&page, "cache-control"), Some("no-cache"));
}

#[tokio::test]
async fn no_origin_is_allowed_by_default() {
    let app = spawn_app().await;
    let manager = app.login_as(Role::AccountManager).await;
    let response = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&manager.token)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "a browser, not the server, enforces CORS");
    assert_eq!(header(&response, "access-control-allow-origin"), None);
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/api/v1/partners"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&preflight, "access-control-allow-origin"), None);
    assert_hardened(&preflight, "no-referrer");
    assert_problem(preflight, 404, "not_found").await;
}

#[tokio::test]
async fn a_configured_origin_may_call_and_others_may_not() {
    let app = spawn_app_with(|env| {
        env.insert("OUTREACH_CORS_ORIGINS".into(), "https://crm.bank.cn".into());
        env.insert("OUTREACH_PUBLIC_URL".into(), "https://outreach.bank.cn".into());
    })
    .await;
    let preflight = |origin: &'static str, method: &'static str| {
        app.client
            .request(Method::OPTIONS, app.url("/api/v1/partners"))
            .header("origin", origin)
            .header("access-control-request-method", method)
            .header("access-control-request-headers", "authorization, content-type")
            .send()
    };
    let allowed = preflight("https://crm.bank.cn", "PATCH").await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(header(&allowed, "access-control-allow-origin"), Some("https://crm.bank.cn"));
    assert!(header(&allowed, "access-control-allow-methods").is_some_and(|m| m.contains("PATCH")));
    assert!(header(&allowed, "access-control-allow-headers").is_some_and(|h| h.contains("authorization")));
    assert_hardened(&allowed, "no-referrer");

    let refused = preflight("https://evil.example", "POST").await.unwrap();
    assert_eq!(header(&refused, "access-control-allow-origin"), None);
    assert_problem(refused, 400, "cors_not_allowed").await;
    let bad_method = preflight("https://crm.bank.cn", "TRACE").await.unwrap();
    assert_problem(bad_method, 400, "cors_not_allowed").await;

    let manager = app.login_as(Role::AccountManager).await;
    let call = |origin: &'static str| {
        app.client.get(app.url("/api/v1/me")).bearer_auth(&manager.token).header("origin", origin).send()
    };
    let from_crm = call("https://crm.bank.cn").await.unwrap();
    assert_eq!(header(&from_crm, "access-control-allow-origin"), Some("https://crm.bank.cn"));
    assert!(header(&from_crm, "access-control-expose-headers").is_some_and(|h| h.contains("x-request-id")));
    assert_eq!(header(&from_crm, "strict-transport-security"), Some("max-age=31536000; includeSubDomains"));
    let from_elsewhere = call("https://evil.example").await.unwrap();
    assert_eq!(from_elsewhere.status(), 200);
    assert_eq!(header(&from_elsewhere, "access-control-allow-origin"), None);
}
