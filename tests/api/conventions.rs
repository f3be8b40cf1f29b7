//! The HTTP conventions every route shares: problem+json for bad bodies, limits, pagination.

use outreach::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, json_ok, spawn_app, spawn_app_with};

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    let admin = app.login_as(Role::Admin).await;
    let response =
        app.post_raw("/api/v1/org-units", Some(&admin.token), "application/json", b"{\"name\": ".to_vec()).await;
    assert_problem(response, 400, "malformed_json").await;
    let response = app.post_raw("/api/v1/auth/login", None, "application/json", b"not json".to_vec()).await;
    assert_problem(response, 400, "malformed_json").await;
}

#[tokio::test]
async fn wrong_types_unknown_fields_and_unknown_enums_name_the_field() {
    let app = spawn_app().await;
    let admin = app.login_as(Role::Admin).await;
    let cases = [
        (json!({"name": 42, "kind": "branch"}), "name"),
        (json!({"name": "X", "kind": "galaxy"}), "kind"),
        (json!({"name": "X", "kind": "branch", "owner": "me"}), "owner"),
        (json!({"name": "X", "kind": "branch", "parent_id": "not-a-uuid"}), "parent_id"),
        (
            json!({"name": "X", "kind": "branch", "territory": {"type": "Point", "coordinates": [1, 2]}}),
            "territory.type",
        ),
        (json!("just a string"), ""),
        (json!(42), ""),
    ];
    for (body, field) in cases {
        let response = app.post_json("/api/v1/org-units", Some(&admin.token), &body).await;
        let problem = assert_problem(response, 422, "invalid_body").await;
        assert!(problem["errors"].get(field).is_some(), "{body} → {problem}");
    }
    let missing = app.post_json("/api/v1/org-units", Some(&admin.token), &json!({"kind": "branch"})).await;
    let problem = assert_problem(missing, 422, "invalid_body").await;
    assert!(problem["detail"].as_str().unwrap().contains("name"), "{problem}");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = spawn_app().await;
    let response = app.post_raw("/api/v1/auth/login", None, "text/plain", b"phone=1".to_vec()).await;
    assert_problem(response, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let app = spawn_app_with(|env| {
        env.insert("OUTREACH_JSON_LIMIT_BYTES".into(), "4096".into());
    })
    .await;
    let admin = app.login_as(Role::Admin).await;
    let big = json!({"name": "x".repeat(5000), "kind": "branch"});
    assert_problem(app.post_json("/api/v1/org-units", Some(&admin.token), &big).await, 413, "payload_too_large").await;
    // The same without a Content-Length (chunked) is caught while reading.
    let stream = futures_util::stream::iter((0..10).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1000])));
    let response = app
        .client
        .post(app.url("/api/v1/org-units"))
        .bearer_auth(&admin.token)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_problem(response, 413, "payload_too_large").await;
}

#[tokio::test]
async fn the_default_body_limit_is_one_mebibyte() {
    let app = spawn_app().await;
    let big = json!({"phone": "13800000000", "password": "x".repeat(1024 * 1024)});
    assert_problem(app.post_json("/api/v1/auth/login", None, &big).await, 413, "payload_too_large").await;
}

#[tokio::test]
async fn bad_query_parameters_are_422() {
    let app = spawn_app().await;
    let admin = app.login_as(Role::Admin).await;
    for (query, code) in [
        ("limit=0", "validation_failed"),
        ("limit=501", "validation_failed"),
        ("limit=ten", "invalid_query"),
        ("cursor=bogus", "validation_failed"),
        ("kind=planet", "invalid_query"),
    ] {
        let response = app.get(&format!("/api/v1/org-units?{query}"), Some(&admin.token)).await;
        assert_problem(response, 422, code).await;
    }
}

#[tokio::test]
async fn a_malformed_id_in_the_path_is_404() {
    let app = spawn_app().await;
    let admin = app.login_as(Role::Admin).await;
    assert_problem(app.get("/api/v1/org-units/not-a-uuid", Some(&admin.token)).await, 404, "not_found").await;
}

#[tokio::test]
async fn pagination_walks_every_item_once() {
    let app = spawn_app().await;
    let admin = app.login_as(Role::Admin).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/org-units?limit=4&cursor={c}"),
            None => "/api/v1/org-units?limit=4".to_owned(),
        };
        let page: Value = json_ok(app.get(&path, Some(&admin.token)).await, 200).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 4);
        seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    // The fixture tree has nine units.
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (9, 9));
}

/// PostgreSQL cannot store U+0000 in text (Schemathesis found a 500 there); it is refused at the
/// edge on both databases.
#[tokio::test]
async fn a_nul_character_is_refused_wherever_it_comes_in() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let event = crate::events::new_event(&app, &am.token, 10).await;
    let id = event["id"].as_str().unwrap();
    let batch = br#"{"items": [{"ticket_code": "AB\u0000CD"}]}"#.to_vec();
    let path = format!("/api/v1/events/{id}/checkins/batch");
    let response = app.post_raw(&path, Some(&am.token), "application/json", batch).await;
    let problem = assert_problem(response, 422, "invalid_body").await;
    assert!(problem["detail"].as_str().unwrap().contains("NUL"), "{problem}");
    let escaped_backslash = br#"{"items": [{"ticket_code": "AB\\u0000CD"}]}"#.to_vec();
    let response = app.post_raw(&path, Some(&am.token), "application/json", escaped_backslash).await;
    assert_eq!(response.status(), 200, "a backslash followed by u0000 is just text");
    assert_problem(app.get("/api/v1/partners?q=%00", Some(&am.token)).await, 422, "invalid_query").await;
    assert_problem(app.get("/api/v1/public/events/AB%00CD", None).await, 404, "not_found").await;
    assert_problem(app.get(format!("/api/v1/events/{id}%00"), Some(&am.token)).await, 404, "not_found").await;
}
