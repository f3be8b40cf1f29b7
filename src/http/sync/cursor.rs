//! The sync cursor: a position in the change feed, valid only for the scope that made it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::domain::{Actor, ErrorCode};
use crate::http::common::problem::ApiError;

/// The caller's scope, as a short digest: a cursor is only valid for the scope that made it.
fn scope_tag(actor: &Actor) -> String {
    let text = format!("{}|{}|{}", actor.user_id, actor.role.as_str(), actor.org_path);
    Sha256::digest(text.as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

pub(super) fn encode_cursor(seq: i64, actor: &Actor) -> String {
    URL_SAFE_NO_PAD.encode(format!("s2:{seq}:{}", scope_tag(actor)))
}

/// The change number in a cursor. A cursor made before the caller's role or org unit changed
/// cannot be continued: the phone holds another scope's records and must start over.
pub(super) fn decode_cursor(cursor: &str, actor: &Actor) -> Result<i64, ApiError> {
    let text = URL_SAFE_NO_PAD.decode(cursor).ok().and_then(|b| String::from_utf8(b).ok());
    let parts = text.as_deref().and_then(|t| t.strip_prefix("s2:")).and_then(|t| t.split_once(':'));
    let (seq, tag) = parts
        .and_then(|(n, tag)| n.parse::<i64>().ok().map(|n| (n, tag)))
        .ok_or_else(|| ApiError::field("cursor", "not a cursor this server issued"))?;
    if tag != scope_tag(actor) {
        return Err(ApiError::new(
            actix_web::http::StatusCode::CONFLICT,
            ErrorCode::ResyncRequired,
            "your role or org unit changed since this cursor: clear local data and pull without a cursor",
        ));
    }
    Ok(seq)
}
