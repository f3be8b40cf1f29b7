//! Opaque refresh tokens: random, stored only as a SHA-256 hash, rotated on every use.
//!
//! A login starts a *family*. Each refresh spends the presented token and issues its successor in
//! the same family, with the family's original absolute expiry. Presenting a spent token means it
//! was copied: the whole family is revoked, so neither the thief nor the victim can continue.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDateTime, TimeDelta};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::store::org::refresh_tokens::{self as store, RefreshTokenRow};
use crate::store::org::users::{self, UserRow};
use crate::store::{DbConn, StoreError};

pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn insert_member(
    conn: &mut DbConn,
    family_id: &str,
    user_id: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<String, StoreError> {
    let token = generate();
    store::insert(
        conn,
        &RefreshTokenRow {
            id: Uuid::now_v7().to_string(),
            family_id: family_id.to_owned(),
            user_id: user_id.to_owned(),
            token_hash: hash(&token),
            issued_at: now,
            expires_at,
            spent_at: None,
            revoked_at: None,
        },
    )?;
    Ok(token)
}

/// Starts a login's family and returns its first token.
pub fn start(conn: &mut DbConn, user_id: &str, now: NaiveDateTime, lifetime: TimeDelta) -> Result<String, StoreError> {
    let family = Uuid::now_v7().to_string();
    insert_member(conn, &family, user_id, now, now + lifetime)
}

pub enum Rotation {
    Rotated { user: Box<UserRow>, token: String },
    Rejected,
}

/// Spends `presented` and issues its successor; revokes the family on replay.
/// Runs inside the caller's write transaction, whose commit must happen even on `Rejected`.
pub fn rotate(conn: &mut DbConn, presented: &str, now: NaiveDateTime) -> Result<Rotation, StoreError> {
    let Some(row) = store::find_by_hash(conn, &hash(presented))? else {
        return Ok(Rotation::Rejected);
    };
    if row.revoked_at.is_some() || row.expires_at <= now {
        return Ok(Rotation::Rejected);
    }
    let user = users::find(conn, &row.user_id)?.filter(|u| u.active);
    let spent_now = row.spent_at.is_none() && store::spend(conn, &row.id, now)?;
    match user {
        Some(user) if spent_now => {
            let token = insert_member(conn, &row.family_id, &row.user_id, now, row.expires_at)?;
            Ok(Rotation::Rotated { user: Box::new(user), token })
        }
        _ => {
            let revoked = store::revoke_family(conn, &row.family_id, now)?;
            tracing::warn!(family = %row.family_id, revoked, "refresh token replayed or account disabled; login revoked");
            Ok(Rotation::Rejected)
        }
    }
}

/// Ends the login the token belongs to; unknown tokens are ignored (logout is idempotent).
pub fn revoke(conn: &mut DbConn, presented: &str, now: NaiveDateTime) -> Result<(), StoreError> {
    if let Some(row) = store::find_by_hash(conn, &hash(presented))? {
        store::revoke_family(conn, &row.family_id, now)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hash_stably() {
        let a = generate();
        assert_eq!(a.len(), 43);
        assert_ne!(a, generate());
        assert_eq!(hash(&a), hash(&a));
        assert_eq!(hash(&a).len(), 64);
    }
}
