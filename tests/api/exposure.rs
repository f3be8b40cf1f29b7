//! The exposure scan: every answer of every test in the suite passes through [`scan`] (installed
//! by `spawn_app` as the server's response tap). A password hash, a token hash, a token outside
//! the session routes, a stack trace or SQL in any body, or a full phone number shown to a role
//! that must see it masked, fails the test that caused it when its app is dropped.

use std::sync::Mutex;

use base64::Engine;
use outreach::http::middleware::tap::Tapped;

static FOUND: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// What the scan found in answers to the app at `host` (`127.0.0.1:port`), taken.
pub fn take(host: &str) -> Vec<String> {
    let mut found = FOUND.lock().unwrap_or_else(|e| e.into_inner());
    let (mine, rest): (Vec<_>, Vec<_>) = found.drain(..).partition(|(h, _)| h == host);
    *found = rest;
    mine.into_iter().map(|(_, what)| what).collect()
}

/// Text that only a leak puts in an answer.
const NEVER: &[&str] = &[
    "$argon2",
    "password_hash",
    "token_hash",
    "jwt_secret",
    "panicked at",
    "stack backtrace",
    "RUST_BACKTRACE",
    ".rs:",
    "diesel",
    "DatabaseError",
    "SQLSTATE",
    "constraint failed",
    "violates",
    "syntax error",
    "no such table",
    "SELECT ",
    "INSERT INTO",
];

/// The role in an access token's claims (read, not verified: the server verified it).
fn role_of(authorization: Option<&str>) -> Option<(String, String)> {
    let token = authorization?.strip_prefix("Bearer ")?;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    Some((claims["role"].as_str()?.to_owned(), claims["sub"].as_str()?.to_owned()))
}

/// Mainland mobile numbers written out in full (masked ones hold `****`).
fn full_phones(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i + 11 <= bytes.len() {
        let window = &bytes[i..i + 11];
        // A phone stands alone; eleven digits inside an id, a digest or a cursor (`…c14454393580`)
        // are not one.
        let apart = |b: &u8| !b.is_ascii_alphanumeric() && !matches!(b, b'-' | b'_' | b'+' | b'/');
        let bounded = (i == 0 || apart(&bytes[i - 1])) && bytes.get(i + 11).is_none_or(apart);
        if bounded && window[0] == b'1' && (b'3'..=b'9').contains(&window[1]) && window.iter().all(u8::is_ascii_digit) {
            found.push(&text[i..i + 11]);
            i += 11;
        } else {
            i += 1;
        }
    }
    found
}

/// Removes every object whose `id` is `id`.
fn drop_record(json: &mut serde_json::Value, id: &str) {
    match json {
        serde_json::Value::Array(items) => {
            items.retain(|item| item["id"] != id);
            items.iter_mut().for_each(|item| drop_record(item, id));
        }
        serde_json::Value::Object(map) => map.values_mut().for_each(|value| drop_record(value, id)),
        _ => {}
    }
}

pub fn scan(answer: &Tapped) {
    let textual = ["json", "text", "csv", "html", "javascript"].iter().any(|t| answer.content_type.contains(t));
    if !textual {
        return;
    }
    let body = String::from_utf8_lossy(answer.body);
    // The spec and the map's script are code, not data; they may name anything.
    let code =
        answer.path.starts_with("/api-spec") || answer.path.starts_with("/docs") || answer.path.starts_with("/map");
    if code {
        return;
    }
    let mut found = Vec::new();
    for needle in NEVER {
        if body.contains(needle) {
            found.push(format!("holds `{needle}`"));
        }
    }
    let session_route = answer.path.starts_with("/api/v1/auth/");
    if !session_route && (body.contains("\"access_token\"") || body.contains("\"refresh_token\"")) {
        found.push("carries a token outside the session routes".to_owned());
    }
    // A supervisor sees every phone masked but their own (they own no leads or events); an
    // account manager sees colleagues' phones masked.
    if let Some((role, user)) = role_of(answer.authorization) {
        let people_route = answer.path.starts_with("/api/v1/users") || answer.path.starts_with("/api/v1/org-units");
        let own_record = answer.path == "/api/v1/me" || answer.path == format!("/api/v1/users/{user}");
        let masked_for_role = role == "supervisor" || (role == "account_manager" && people_route);
        if masked_for_role && !own_record && !answer.path.starts_with("/api/v1/auth/") {
            // The caller's own record, wherever it appears (a list of users), shows their phone.
            let others = match serde_json::from_str::<serde_json::Value>(&body) {
                Ok(mut json) => {
                    drop_record(&mut json, &user);
                    json.to_string()
                }
                Err(_) => body.to_string(),
            };
            let phones = full_phones(&others);
            if !phones.is_empty() {
                found.push(format!("shows a {role} full phone numbers {phones:?}"));
            }
        }
    }
    if !found.is_empty() {
        let mut all = FOUND.lock().unwrap_or_else(|e| e.into_inner());
        for what in found {
            let excerpt: String = body.chars().take(200).collect();
            all.push((
                answer.host.to_owned(),
                format!("{} {} → {}: {what}: {excerpt}", answer.method, answer.path, answer.status),
            ));
        }
    }
}

#[test]
fn full_phones_are_found_and_masked_ones_are_not() {
    assert_eq!(full_phones("{\"phone\":\"13812345678\"}"), ["13812345678"]);
    assert!(full_phones("138****5678 and 1381234567 and 213812345678 and 12812345678").is_empty());
    assert!(full_phones("\"01a227ef-6fdc-76a9-95a0-c14454393580\" a13812345678 -13812345678 13812345678f").is_empty());
    assert_eq!(full_phones("phone: 13812345678."), ["13812345678"]);
}
