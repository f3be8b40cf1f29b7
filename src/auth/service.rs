//! Login, refresh and logout: the flows that tie the hasher, the tokens and the store together.

use std::net::IpAddr;
use std::time::Duration;

use chrono::TimeDelta;
use secrecy::SecretString;

use super::refresh::{self, Rotation};
use super::{AuthError, LoginThrottle, PasswordHasher, TokenKeys};
use crate::domain::Phone;
use crate::domain::org::users::User;
use crate::store::org::users;
use crate::store::{Db, now_utc};

/// What a successful login or refresh hands the client.
#[derive(Debug)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: Duration,
    pub user: User,
}

#[derive(Clone)]
pub struct AuthService {
    pub db: Db,
    pub hasher: PasswordHasher,
    pub tokens: TokenKeys,
    pub throttle: LoginThrottle,
    pub refresh_lifetime: TimeDelta,
    /// Whether a token's holder still stands where it says (checked on every request).
    pub standing: super::Standing,
}

impl AuthService {
    pub async fn login(
        &self,
        phone: &str,
        password: SecretString,
        client: Option<IpAddr>,
    ) -> Result<Session, AuthError> {
        let phone = Phone::parse(phone)
            .map_err(|e| AuthError::Validation([("phone".to_owned(), e.to_string())].into_iter().collect()))?;
        self.throttle.attempt(phone.as_str(), client).map_err(|retry_after| {
            tracing::warn!(phone = %phone.masked(), ?client, "login throttled");
            AuthError::RateLimited { retry_after }
        })?;
        let key = phone.as_str().to_owned();
        let row = self.db.run(move |conn| users::find_by_phone(conn, &key)).await?;
        let stored = row.as_ref().map(|r| r.password_hash.clone());
        let matches = self.hasher.verify(password, stored).await?;
        let Some(row) = row.filter(|r| matches && r.active) else {
            tracing::info!(phone = %phone.masked(), "login refused");
            return Err(AuthError::InvalidCredentials);
        };
        let user = User::try_from(row)?;
        let lifetime = self.refresh_lifetime;
        let user_id = user.id.to_string();
        let refresh_token = self.db.run(move |conn| refresh::start(conn, &user_id, now_utc(), lifetime)).await?;
        tracing::info!(user = %user.id, "logged in");
        self.session(user, refresh_token)
    }

    pub async fn refresh(&self, presented: String) -> Result<Session, AuthError> {
        let rotation =
            self.db.run(move |conn| conn.write_tx(|conn| refresh::rotate(conn, &presented, now_utc()))).await?;
        match rotation {
            Rotation::Rotated { user, token } => self.session(User::try_from(*user)?, token),
            Rotation::Rejected => Err(AuthError::InvalidRefreshToken),
        }
    }

    pub async fn logout(&self, presented: String) -> Result<(), AuthError> {
        Ok(self.db.run(move |conn| refresh::revoke(conn, &presented, now_utc())).await?)
    }

    /// Checks a user's current password (for changing it); the same cost as a login.
    pub async fn verify_password_of(&self, user_id: uuid::Uuid, password: SecretString) -> Result<bool, AuthError> {
        let id = user_id.to_string();
        let row = self.db.run(move |conn| users::find(conn, &id)).await?;
        self.hasher.verify(password, row.map(|r| r.password_hash)).await
    }

    fn session(&self, user: User, refresh_token: String) -> Result<Session, AuthError> {
        let access_token =
            self.tokens.issue(&user.as_actor()).map_err(|e| AuthError::Internal(format!("cannot sign token: {e}")))?;
        Ok(Session { access_token, refresh_token, expires_in: self.tokens.ttl(), user })
    }
}
