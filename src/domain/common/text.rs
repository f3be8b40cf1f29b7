/// Characters that change how text shows without being seen: bidirectional controls (which make
/// `张三\u{202E}gpj.exe` read as another name in a list or a spreadsheet), zero-width and other
/// invisible characters, fillers and tags. Zero-width joiners and variation selectors stay: emoji
/// are made of them.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180E}'
            | '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// Text as people see it: invisible and bidirectional-control characters dropped, and control
/// characters too, but line breaks and tabs in free text.
pub fn visible(input: &str, free_text: bool) -> String {
    input.chars().filter(|&c| !invisible(c) && !(c.is_control() && !(free_text && matches!(c, '\n' | '\t')))).collect()
}

/// A display name: invisible characters dropped, trimmed, not empty, at most `max` characters.
pub fn name(input: &str, max: usize) -> Result<String, String> {
    if input.chars().any(|c| c.is_control() && !invisible(c)) {
        return Err("must not contain control characters".to_owned());
    }
    let cleaned = visible(input, false);
    let trimmed = cleaned.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if trimmed.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    Ok(trimmed.to_owned())
}

/// A public contact number as a bank prints it: a landline (`0750-3201234`), a mobile or a
/// service line (`95588`), with `+`, `-`, spaces and brackets; empty clears it.
pub fn contact_phone(input: &str) -> Result<String, String> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    let digits = trimmed.chars().filter(char::is_ascii_digit).count();
    let allowed = trimmed.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'));
    if !allowed || !(5..=20).contains(&digits) || trimmed.len() > 30 {
        return Err("must be a phone number: 5 to 20 digits, with + - ( ) and spaces".to_owned());
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
    let cleaned = visible(text, true);
    let trimmed = cleaned.trim();
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
    let cleaned: Vec<String> =
        items.iter().map(|s| visible(s, false).trim().to_owned()).filter(|s| !s.is_empty()).collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_and_bidi_characters_are_dropped_and_cjk_and_emoji_kept() -> Result<(), String> {
        assert_eq!(name("张\u{202E}三\u{200B}\u{2066}", 20)?, "张三");
        assert_eq!(name("\u{FEFF} 李四 \u{200F}", 20)?, "李四");
        // A family emoji is four people joined by ZWJ; a red heart carries a variation selector.
        let emoji = "王五👨\u{200D}👩\u{200D}👧\u{200D}👦❤\u{FE0F}";
        assert_eq!(name(emoji, 20)?, emoji);
        assert!(name("\u{200B}\u{202E}", 20).is_err(), "nothing visible is empty");
        assert!(name("张三\u{0007}", 20).is_err(), "a control character is refused in a name");
        assert_eq!(visible("第一行\n第二行\t\u{202D}尾", true), "第一行\n第二行\t尾");
        assert_eq!(visible("a\u{E0041}\u{E0042}b", false), "ab", "tag characters hide text");
        Ok(())
    }
}
