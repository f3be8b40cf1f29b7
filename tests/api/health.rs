use serde_json::json;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn healthz_and_readyz_answer_ok() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz"] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.json::<serde_json::Value>().await.unwrap(), json!({"status": "ok"}));
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let a = app.get("/healthz", None).await;
    let b = app.get("/healthz", None).await;
    let id = |r: &reqwest::Response| r.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert!(id(&a).is_some());
    assert_ne!(id(&a), id(&b));
}

#[tokio::test]
async fn unknown_routes_are_problem_json_404() {
    let app = spawn_app().await;
    assert_problem(app.get("/api/v1/nothing-here", None).await, 404, "not_found").await;
    assert_problem(app.get("/nope", None).await, 404, "not_found").await;
}

#[tokio::test]
async fn the_spec_and_the_docs_are_served() {
    let app = spawn_app().await;
    let spec: serde_json::Value = app.get("/api-spec/openapi.json", None).await.json().await.unwrap();
    assert_eq!(spec["info"]["title"], "Outreach API");
    assert!(spec["paths"]["/api/v1/users"].is_object());
    let docs = app.get("/docs/", None).await;
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"), "Swagger UI page");
}
