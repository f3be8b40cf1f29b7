//! The contract: the committed spec is what the code generates, and every route outside the
//! public list refuses a caller without a token.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;

use crate::helpers::spawn_app;

const SPEC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/api-spec/openapi.json");

#[test]
fn the_committed_spec_matches_the_code() {
    let generated = outreach::http::openapi_json();
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(SPEC_PATH, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(SPEC_PATH).unwrap_or_default();
    assert!(
        committed == generated,
        "api-spec/openapi.json is out of date with the code.\n\
         Regenerate it with `cargo run -- openapi > api-spec/openapi.json` \
         (or `UPDATE_OPENAPI=1 cargo test --test api contract`) and review the diff."
    );
}

/// Every type that becomes a schema of the spec, by the name it gets there: the types deriving
/// `ToSchema` and the closed vocabularies of `text_enum!`.
fn schema_types() -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let file = path.display().to_string();
            let mut derives_schema = false;
            for line in text.lines().map(str::trim) {
                if line.starts_with("#[derive(") {
                    derives_schema = line.contains("ToSchema");
                } else if let Some(rest) = line.strip_prefix("text_enum!(") {
                    out.push((rest.split([' ', '{']).next().unwrap_or_default().to_owned(), file.clone()));
                } else if derives_schema
                    && let Some(rest) = line.strip_prefix("pub struct ").or(line.strip_prefix("pub enum "))
                {
                    out.push((rest.split([' ', '{', '<', '(']).next().unwrap_or_default().to_owned(), file.clone()));
                    derives_schema = false;
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out
}

/// The spec names a schema after its type, and a second type of the same name silently takes
/// the first one's place: the supervision checklist's items once replaced the event steps'
/// checklist, and responses broke their schema (Schemathesis found it).
#[test]
fn no_two_schema_types_share_a_name() {
    let types = schema_types();
    assert!(types.len() > 100, "found only {} schema types: the scan is broken", types.len());
    let mut seen: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
    let mut clashes = Vec::new();
    for (name, file) in &types {
        if let Some(first) = seen.insert(name, file) {
            clashes.push(format!("{name}: {first} and {file}"));
        }
    }
    assert!(clashes.is_empty(), "schema names used twice:\n{}", clashes.join("\n"));
}

fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            ops.push((method.clone(), path.clone(), op.clone()));
        }
    }
    ops
}

#[test]
fn only_the_public_list_is_documented_without_security() {
    let spec: Value = serde_json::to_value(outreach::http::openapi()).unwrap();
    let public: BTreeSet<(String, String)> =
        outreach::http::PUBLIC_OPERATIONS.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
    let mut undocumented_public = BTreeSet::new();
    for (method, path, op) in operations(&spec) {
        let secured = op["security"].as_array().is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
        let is_public = public.contains(&(method.clone(), path.clone()));
        assert!(secured != is_public, "{method} {path}: secured={secured}, in public list={is_public}");
        if is_public {
            undocumented_public.insert((method, path));
        }
    }
    assert_eq!(undocumented_public, public, "every public operation exists");
}

#[tokio::test]
async fn every_guarded_route_refuses_a_caller_without_a_token() {
    let app = spawn_app().await;
    let spec: Value = serde_json::to_value(outreach::http::openapi()).unwrap();
    let public: BTreeSet<(String, String)> =
        outreach::http::PUBLIC_OPERATIONS.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
    let mut checked = 0;
    for (method, path, _) in operations(&spec) {
        if public.contains(&(method.clone(), path.clone())) {
            continue;
        }
        let concrete = path.replace("{id}", &uuid::Uuid::new_v4().to_string());
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let response = app
            .client
            .request(method.clone(), app.url(&concrete))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{method} {path} answered without a token");
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} guarded operations found");
}
