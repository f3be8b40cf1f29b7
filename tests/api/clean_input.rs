//! Issue 21's clean input: invisible and bidirectional-control characters never reach a list or an
//! export, a spreadsheet never runs a cell, and a NUL in any URL is a 404 on every route.

use outreach::domain::Role;
use serde_json::json;

use crate::events::new_event;
use crate::helpers::{TestApp, json_ok, spawn_app};
use crate::partners::{CENTRE, create as create_partner, partner_body};

async fn register(app: &TestApp, code: &str, name: &str, phone: &str) -> reqwest::Response {
    let body = json!({"name": name, "phone": phone, "consent": true});
    app.post_json(&format!("/api/v1/public/events/{code}/registrations"), None, &body).await
}

#[tokio::test]
async fn names_lose_invisible_and_bidi_characters_and_exports_run_no_formula() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let e = new_event(&app, &am.token, 10).await;
    let (id, code) = (e["id"].as_str().unwrap(), e["registration_code"].as_str().unwrap());
    // A right-to-left override and zero-width characters: a list would show another name.
    assert!(register(&app, code, "黄\u{202E}先生\u{200B}\u{2066}", "13944440001").await.status().is_success());
    assert!(
        register(&app, code, "=HYPERLINK(\"http://evil.example\",\"点我领奖\")", "13944440002")
            .await
            .status()
            .is_success()
    );
    assert!(register(&app, code, "@SUM(1+1)", "13944440003").await.status().is_success());
    let list = json_ok(app.get(format!("/api/v1/events/{id}/attendees"), Some(&am.token)).await, 200).await;
    let names: Vec<&str> = list["items"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"黄先生"), "{names:?}");

    let csv = app.get(format!("/api/v1/events/{id}/attendees.csv"), Some(&am.token)).await;
    let text = String::from_utf8(csv.bytes().await.unwrap()[3..].to_vec()).unwrap();
    assert!(text.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"点我领奖\"\")\""), "{text}");
    assert!(text.contains("'@SUM(1+1)"), "{text}");
    assert!(!text.lines().any(|l| l.starts_with('=') || l.starts_with('@') || l.starts_with("\"=")), "{text}");

    // Free text too, with its line breaks kept; emoji keep their joiners.
    let mut body = partner_body("\u{FEFF}北街\u{202D}超市👨\u{200D}👩\u{200D}👧", CENTRE.0, CENTRE.1);
    body["address"] = json!("北街1号\n二楼\u{200F}");
    let partner = create_partner(&app, &am.token, &body).await;
    assert_eq!(partner["name"], "北街超市👨\u{200D}👩\u{200D}👧");
    assert_eq!(partner["address"], "北街1号\n二楼");
}

#[tokio::test]
async fn a_nul_anywhere_in_a_url_is_a_404_never_a_500() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let e = new_event(&app, &am.token, 10).await;
    let code = e["registration_code"].as_str().unwrap();
    let post = app.client.post(app.url("/e/%00")).form(&[("name", "陈"), ("phone", "13912340000")]).send().await;
    assert_eq!(post.unwrap().status(), 404);
    for path in [
        "/e/%00".to_owned(),
        format!("/e/A%00{code}/t/AAAA/qr.png"),
        format!("/e/{code}/t/AAAA%00/qr.png"),
        format!("/e/{code}/t/AAAA%00"),
        format!("/e/{code}?x=%00"),
    ] {
        let response = app.get(&path, None).await;
        assert_eq!(response.status(), 404, "{path}");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{path}");
    }
    // Elsewhere, the problem document the spec promises (Schemathesis found the page there).
    for path in ["/map?bbox=%00", "/map/assets/x%00.js"] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(response.headers()["content-type"], "application/problem+json", "{path}");
    }
}
