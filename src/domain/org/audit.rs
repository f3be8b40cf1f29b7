//! The audit log: who changed which record, how, and when.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::domain::{Actor, DomainError, ErrorCode, Role};
use crate::store::org::audit::{self as store, AuditFilter, AuditRow};
use crate::store::{DbConn, Page, PageRequest, StoreError, now_utc, uuid_col};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
    /// Personal data left the system in a file.
    Export,
    /// Personal data read in bulk on screen: full phones of people in another's care.
    Read,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Export => "export",
            Action::Read => "read",
        }
    }
}

/// Fields that change on every write and say nothing about what was changed.
const NOISE: [&str; 3] = ["version", "updated_at", "created_at"];

/// `{"field": {"from": a, "to": b}}` for each top-level field that differs.
pub fn diff(before: &Value, after: &Value) -> Value {
    let empty = Map::new();
    let before = before.as_object().unwrap_or(&empty);
    let after = after.as_object().unwrap_or(&empty);
    let mut changes = Map::new();
    for (key, new) in after {
        let old = before.get(key).unwrap_or(&Value::Null);
        if old != new && !NOISE.contains(&key.as_str()) {
            changes.insert(key.clone(), json!({"from": old, "to": new}));
        }
    }
    Value::Object(changes)
}

/// Appends one entry; called inside the transaction of the change it describes.
pub fn record(
    conn: &mut DbConn,
    actor: &Actor,
    entity: &str,
    entity_id: Uuid,
    org_path: &str,
    action: Action,
    changes: Value,
) -> Result<(), StoreError> {
    store::insert(
        conn,
        &AuditRow {
            id: Uuid::now_v7().to_string(),
            org_path: org_path.to_owned(),
            actor_id: actor.user_id.to_string(),
            entity: entity.to_owned(),
            entity_id: entity_id.to_string(),
            action: action.as_str().to_owned(),
            changes: changes.to_string(),
            at: now_utc(),
        },
    )
}

#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub id: Uuid,
    pub actor_id: Uuid,
    pub entity: String,
    pub entity_id: Uuid,
    pub action: String,
    pub changes: Value,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Default, Clone)]
pub struct AuditQuery {
    pub entity: Option<String>,
    pub entity_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
}

/// The log of the caller's subtree; for managers, supervisors and admins.
pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    query: &AuditQuery,
    page: &PageRequest,
) -> Result<Page<AuditEntry>, DomainError> {
    if actor.role == Role::AccountManager {
        return Err(DomainError::forbidden(ErrorCode::RoleNotAllowed, "the audit log is for managers and supervisors"));
    }
    let filter = AuditFilter {
        path_prefix: actor.scope().path_prefix(),
        entity: query.entity.clone(),
        entity_id: query.entity_id.map(|u| u.to_string()),
        actor_id: query.actor_id.map(|u| u.to_string()),
        // A supervisor sees the projects assigned to them, not every project of the subtree.
        projects_of: (actor.role == Role::Supervisor).then(|| actor.user_id.to_string()),
    };
    Ok(store::list(conn, &filter, page)?.try_map(|row| -> Result<AuditEntry, StoreError> {
        Ok(AuditEntry {
            id: uuid_col(&row.id)?,
            actor_id: uuid_col(&row.actor_id)?,
            entity: row.entity,
            entity_id: uuid_col(&row.entity_id)?,
            action: row.action,
            changes: serde_json::from_str(&row.changes).unwrap_or(Value::Null),
            at: row.at.and_utc(),
        })
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_lists_changed_fields_only() {
        let before = json!({"name": "a", "status": "prospect", "version": 1});
        let after = json!({"name": "a", "status": "contacted", "version": 2});
        assert_eq!(diff(&before, &after), json!({"status": {"from": "prospect", "to": "contacted"}}));
    }
}
