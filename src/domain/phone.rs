use std::fmt;

/// A mainland China mobile number, normalised to its 11 digits (`13812345678`).
///
/// Accepts the ways people type one: spaces, dashes, and a `+86` / `0086` / `86` prefix.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a mainland mobile number (11 digits starting 13–19)")]
pub struct InvalidPhone;

impl Phone {
    pub fn parse(input: &str) -> Result<Phone, InvalidPhone> {
        let compact: String = input.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
        let digits = compact
            .strip_prefix("+86")
            .or_else(|| compact.strip_prefix("0086"))
            .or_else(|| if compact.len() == 13 { compact.strip_prefix("86") } else { None })
            .unwrap_or(&compact);
        let valid = digits.len() == 11
            && digits.bytes().all(|b| b.is_ascii_digit())
            && digits.as_bytes()[0] == b'1'
            && (b'3'..=b'9').contains(&digits.as_bytes()[1]);
        if valid { Ok(Phone(digits.to_owned())) } else { Err(InvalidPhone) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****5678`: what anyone but the owner and managers sees, and all that logs ever see.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// Masks a stored phone; tolerant of anything, so it can never fail while rendering.
pub fn mask(phone: &str) -> String {
    if phone.len() == 11 && phone.is_ascii() {
        format!("{}****{}", &phone[..3], &phone[7..])
    } else {
        "****".to_owned()
    }
}

// Debug shows the masked form so a phone in a `tracing` field or a panic message stays private.
impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_common_spellings() {
        for input in
            ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "008613812345678", "8613812345678"]
        {
            assert_eq!(Phone::parse(input).map(|p| p.0), Ok("13812345678".to_owned()), "{input}");
        }
    }

    #[test]
    fn rejects_non_mobiles() {
        for input in
            ["", "12812345678", "1381234567", "138123456789", "0757-1234567", "1381234567a", "１３８１２３４５６７８"]
        {
            assert_eq!(Phone::parse(input), Err(InvalidPhone), "{input}");
        }
    }

    #[test]
    fn masks_the_middle_four() {
        let phone = Phone::parse("13812345678").map(|p| p.masked());
        assert_eq!(phone, Ok("138****5678".to_owned()));
        assert_eq!(format!("{:?}", Phone::parse("13812345678")), "Ok(Phone(138****5678))");
    }
}
