use secrecy::{ExposeSecret, SecretString};

/// A new password that meets the policy: 10 to 256 characters, no composition rules
/// (NIST SP 800-63B: length helps, forced symbol mixes do not).
pub struct NewPassword(SecretString);

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 256;

impl NewPassword {
    pub fn parse(input: String) -> Result<NewPassword, String> {
        let len = input.chars().count();
        if len < MIN_LEN {
            return Err(format!("must be at least {MIN_LEN} characters"));
        }
        if len > MAX_LEN {
            return Err(format!("must be at most {MAX_LEN} characters"));
        }
        Ok(NewPassword(SecretString::from(input)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn into_secret(self) -> SecretString {
        self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(…)")
    }
}
