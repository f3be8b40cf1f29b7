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

    proptest::proptest! {
        /// Whatever is typed into a phone field: a phone or a refusal, never a panic.
        #[test]
        fn any_text_is_a_phone_or_refused(text in "\\PC{0,40}") {
            let _ = Phone::parse(&text);
            let _ = mask(&text);
        }

        /// What parses is 11 digits, parses to itself again, and masks.
        #[test]
        fn a_parsed_phone_is_normal_and_stable(text in "[ +()0-9-]{0,20}") {
            if let Ok(phone) = Phone::parse(&text) {
                proptest::prop_assert_eq!(phone.as_str().len(), 11);
                proptest::prop_assert_eq!(Phone::parse(phone.as_str()), Ok(phone.clone()));
                proptest::prop_assert!(phone.masked().contains("****"));
            }
        }

        /// Every way people type one number is that number.
        #[test]
        fn every_way_of_typing_a_number_is_the_same_phone(
            digits in "1[3-9][0-9]{9}",
            prefix in proptest::sample::select(vec!["", "+86", "0086", "86", "+86 "]),
            sep in proptest::sample::select(vec!["", " ", "-"]),
        ) {
            let typed = format!("{prefix}{}{sep}{}{sep}{}", &digits[..3], &digits[3..7], &digits[7..]);
            proptest::prop_assert_eq!(Phone::parse(&typed).map(|p| p.as_str().to_owned()), Ok(digits));
        }
    }

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
