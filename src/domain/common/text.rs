/// A display name: trimmed, not empty, at most `max` characters.
pub fn name(input: &str, max: usize) -> Result<String, String> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if trimmed.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(trimmed.to_owned())
}

/// Times the product deals in: years 2000 to 2100. Anything else is a typo or an attack, and
/// PostgreSQL and SQLite would not agree on how to store it.
pub fn sane_time(t: chrono::DateTime<chrono::Utc>) -> Result<chrono::DateTime<chrono::Utc>, String> {
    use chrono::Datelike;
    if (2000..=2100).contains(&t.year()) { Ok(t) } else { Err("must be between the years 2000 and 2100".to_owned()) }
}

use crate::domain::common::error::Validator;

/// Trimmed text of at most `max` characters.
pub fn bounded_text(v: &mut Validator, field: &str, text: &str, max: usize) -> String {
    let trimmed = text.trim();
    if trimmed.chars().count() > max {
        v.add(field, format!("must be at most {max} characters"));
    }
    trimmed.to_owned()
}

/// Up to 20 trimmed, non-empty entries of at most 200 characters.
pub fn text_list(v: &mut Validator, field: &str, items: &[String]) -> Vec<String> {
    if items.len() > 20 {
        v.add(field, "at most 20 entries");
    }
    let cleaned: Vec<String> = items.iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
    if cleaned.iter().any(|s| s.chars().count() > 200) {
        v.add(field, "each entry at most 200 characters");
    }
    cleaned
}

/// A sum of money in yuan as clients send it, kept exactly in fen: 0 to 10 billion yuan.
pub fn amount_fen(v: &mut Validator, field: &str, yuan: f64) -> i64 {
    if !(yuan.is_finite() && (0.0..=1e10).contains(&yuan)) {
        v.add(field, "must be an amount in yuan between 0 and 10000000000");
        return 0;
    }
    (yuan * 100.0).round() as i64
}

/// Fen back to yuan for responses.
pub fn yuan(fen: i64) -> f64 {
    fen as f64 / 100.0
}

/// A JSON list of texts as a column holds it.
pub fn list_col(text: &str) -> Result<Vec<String>, crate::store::StoreError> {
    serde_json::from_str(text).map_err(|e| crate::store::StoreError::Corrupt(format!("text list `{text}`: {e}")))
}

pub fn list_text(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}
