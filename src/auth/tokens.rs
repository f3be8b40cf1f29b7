//! Short-lived access tokens: HS256 JWTs carrying who the caller is and where they sit.
//!
//! The algorithm is pinned (a token claiming `none` or RS256 is rejected before its signature is
//! looked at), and `iss`, `aud`, `exp`, `nbf` and our own `typ` are all required.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{Actor, Role};

const ISSUER: &str = "outreach";
const AUDIENCE: &str = "outreach-api";
const ACCESS: &str = "access";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: Uuid,
    iat: i64,
    nbf: i64,
    exp: i64,
    jti: Uuid,
    typ: String,
    role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    org: Option<Uuid>,
    /// The org path, so scope checks need no database round trip.
    path: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is not valid")]
    Invalid,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl TokenKeys {
    pub fn new(secret: &[u8], ttl: Duration) -> Result<TokenKeys, jsonwebtoken::errors::Error> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        Ok(TokenKeys {
            encoding: EncodingKey::from_secret(secret)?,
            decoding: DecodingKey::from_secret(secret)?,
            validation,
            ttl,
        })
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(&self, actor: &Actor) -> Result<String, jsonwebtoken::errors::Error> {
        let now = chrono::Utc::now().timestamp();
        let ttl = i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX);
        let claims = Claims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: actor.user_id,
            iat: now,
            nbf: now,
            exp: now.saturating_add(ttl),
            jti: Uuid::new_v4(),
            typ: ACCESS.to_owned(),
            role: actor.role,
            org: actor.org_unit_id,
            path: actor.org_path.clone(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    pub fn verify(&self, token: &str) -> Result<Actor, TokenError> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
            _ => TokenError::Invalid,
        })?;
        let claims = data.claims;
        if claims.typ != ACCESS {
            return Err(TokenError::Invalid);
        }
        Ok(Actor { user_id: claims.sub, role: claims.role, org_unit_id: claims.org, org_path: claims.path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor() -> Actor {
        Actor { user_id: Uuid::new_v4(), role: Role::AccountManager, org_unit_id: None, org_path: "/a/".to_owned() }
    }

    #[test]
    fn a_token_round_trips() -> Result<(), jsonwebtoken::errors::Error> {
        let keys = TokenKeys::new(&[7u8; 32], Duration::from_secs(900))?;
        let actor = actor();
        assert_eq!(keys.verify(&keys.issue(&actor)?), Ok(actor));
        Ok(())
    }

    #[test]
    fn another_secret_is_rejected() -> Result<(), jsonwebtoken::errors::Error> {
        let mine = TokenKeys::new(&[7u8; 32], Duration::from_secs(900))?;
        let theirs = TokenKeys::new(&[8u8; 32], Duration::from_secs(900))?;
        assert_eq!(mine.verify(&theirs.issue(&actor())?), Err(TokenError::Invalid));
        Ok(())
    }
}
