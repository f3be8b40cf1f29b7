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
