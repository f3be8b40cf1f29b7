//! Staff accounts: who they are, their role, and where in the org tree they sit.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::common::error::Validator;
use crate::domain::common::password::NewPassword;
use crate::domain::org::org_units::{OrgUnit, OrgUnitKind};
use crate::domain::{Actor, DomainError, ErrorCode, Phone, Role};
use crate::store::org::refresh_tokens;
use crate::store::org::users::{self as store, UserChanges, UserFilter, UserRow};
use crate::store::{DbConn, Page, PageRequest, StoreError, enum_col, now_utc, uuid_col};

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: Uuid,
    pub phone: String,
    pub name: String,
    pub role: Role,
    pub org_unit_id: Option<Uuid>,
    pub org_path: String,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: uuid_col(&row.id)?,
            phone: row.phone,
            name: row.name,
            role: enum_col(&row.role)?,
            org_unit_id: row.org_unit_id.as_deref().map(uuid_col).transpose()?,
            org_path: row.org_path,
            active: row.active,
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

impl User {
    /// The caller this user becomes once authenticated.
    pub fn as_actor(&self) -> Actor {
        Actor { user_id: self.id, role: self.role, org_unit_id: self.org_unit_id, org_path: self.org_path.clone() }
    }
}

/// Where a role may sit: a manager at the level they manage, an account manager at an outlet.
fn unit_fits_role(role: Role, unit: Option<&OrgUnit>) -> Result<(), String> {
    let fits = match (role, unit.map(|u| u.kind)) {
        (Role::Admin, _) => true,
        (_, None) => return Err(format!("a {} needs an org unit", role.as_str())),
        (Role::BranchManager, Some(kind)) => kind == OrgUnitKind::Branch,
        (Role::SubBranchManager, Some(kind)) => kind == OrgUnitKind::SubBranch,
        (Role::AccountManager, Some(kind)) => kind == OrgUnitKind::Outlet,
        (Role::Supervisor, Some(_)) => true,
    };
    if fits { Ok(()) } else { Err(format!("a {} cannot sit in a unit of this kind", role.as_str())) }
}

#[derive(Debug)]
pub struct NewUserInput {
    pub phone: String,
    pub name: String,
    pub password: String,
    pub role: Role,
    pub org_unit_id: Option<Uuid>,
}

/// A new user that passed every check that needs no database; hashing its password comes next.
#[derive(Debug)]
pub struct CheckedNewUser {
    pub phone: Phone,
    pub name: String,
    pub password: NewPassword,
    pub role: Role,
    pub org_unit_id: Option<Uuid>,
}

/// Role gates and field validation, done before the (deliberately slow) password hash so that a
/// refused request costs the server nothing.
pub fn check_new(actor: &Actor, input: NewUserInput) -> Result<CheckedNewUser, DomainError> {
    if !actor.role.manages_people() {
        return Err(DomainError::forbidden(ErrorCode::RoleNotAllowed, "only managers and admins create users"));
    }
    if !actor.role.may_grant(input.role) {
        return Err(DomainError::forbidden(ErrorCode::RoleEscalation, "cannot grant a role above your own"));
    }
    let mut v = Validator::default();
    let phone = v.check("phone", Phone::parse(&input.phone));
    let name = v.check("name", crate::domain::common::text::name(&input.name, 50));
    let password = v.check("password", NewPassword::parse(input.password));
    if input.org_unit_id.is_none() && input.role != Role::Admin {
        v.add("org_unit_id", "required for every role but admin");
    }
    v.finish()?;
    match (phone, name, password) {
        (Some(phone), Some(name), Some(password)) => {
            Ok(CheckedNewUser { phone, name, password, role: input.role, org_unit_id: input.org_unit_id })
        }
        _ => Err(DomainError::invalid("", "invalid user")),
    }
}

/// Resolves an org unit the actor may place people in, checking it suits `role`.
fn placement(
    conn: &mut DbConn,
    actor: &Actor,
    role: Role,
    unit_id: Option<Uuid>,
) -> Result<Option<OrgUnit>, DomainError> {
    let unit = match unit_id {
        None => None,
        Some(id) => Some(crate::domain::org::org_units::get(conn, actor, id).map_err(|e| match e {
            DomainError::NotFound(_) => DomainError::NotFound("org unit"),
            other => other,
        })?),
    };
    unit_fits_role(role, unit.as_ref()).map_err(|msg| DomainError::invalid("org_unit_id", msg))?;
    Ok(unit)
}

pub fn create(
    conn: &mut DbConn,
    actor: &Actor,
    new: &CheckedNewUser,
    password_hash: String,
) -> Result<User, DomainError> {
    conn.write_tx(|conn| {
        let unit = placement(conn, actor, new.role, new.org_unit_id)?;
        let now = now_utc();
        let row = UserRow {
            id: Uuid::now_v7().to_string(),
            phone: new.phone.as_str().to_owned(),
            name: new.name.clone(),
            password_hash,
            role: new.role.as_str().to_owned(),
            org_unit_id: unit.as_ref().map(|u| u.id.to_string()),
            org_path: unit.map(|u| u.path).unwrap_or_else(|| "/".to_owned()),
            active: true,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        match store::insert(conn, &row) {
            Err(StoreError::UniqueViolation(_)) => {
                Err(DomainError::conflict(ErrorCode::PhoneTaken, "a user with this phone already exists"))
            }
            other => other.map_err(DomainError::from),
        }?;
        let user = User::try_from(row)?;
        let view = serde_json::json!({"name": user.name, "role": user.role, "org_unit_id": user.org_unit_id, "phone": crate::domain::common::phone_privacy::for_the_audit_log(&user.phone)});
        crate::domain::org::audit::record(conn, actor, "user", user.id, &user.org_path, crate::domain::org::audit::Action::Create, view)?;
        Ok(user)
    })
}

pub fn get(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<User, DomainError> {
    let row = store::find(conn, &id.to_string())?
        .filter(|row| row.id == actor.user_id.to_string() || actor.scope().contains(&row.org_path))
        .ok_or(DomainError::NotFound("user"))?;
    Ok(User::try_from(row)?)
}

#[derive(Debug, Default, Clone)]
pub struct UserQuery {
    pub role: Option<Role>,
    pub org_unit_id: Option<Uuid>,
    pub active: Option<bool>,
}

pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    query: &UserQuery,
    page: &PageRequest,
) -> Result<Page<User>, DomainError> {
    let filter = UserFilter {
        path_prefix: actor.scope().path_prefix(),
        role: query.role.map(|r| r.as_str().to_owned()),
        org_unit_id: query.org_unit_id.map(|u| u.to_string()),
        active: query.active,
    };
    Ok(store::list(conn, &filter, page)?.try_map(User::try_from)?)
}

#[derive(Debug, Default)]
pub struct UserPatch {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub org_unit_id: Option<Uuid>,
    pub active: Option<bool>,
    pub password: Option<String>,
    pub current_password: Option<String>,
    /// The version the client last saw; a stale one is a conflict instead of a lost update.
    pub version: Option<i64>,
}

/// A patch that passed the permission and field checks.
#[derive(Debug)]
pub struct CheckedPatch {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub org_unit_id: Option<Uuid>,
    pub active: Option<bool>,
    pub password: Option<NewPassword>,
    /// The caller changes their own password and must prove the current one first.
    pub verify_current: Option<String>,
    pub version: Option<i64>,
}

pub fn check_patch(actor: &Actor, target: &User, patch: UserPatch) -> Result<CheckedPatch, DomainError> {
    let is_self = actor.user_id == target.id;
    if !is_self {
        if !actor.role.manages_people() {
            return Err(DomainError::forbidden(ErrorCode::RoleNotAllowed, "only managers and admins edit other users"));
        }
        if !actor.role.may_grant(target.role) {
            return Err(DomainError::forbidden(ErrorCode::RoleEscalation, "cannot edit a user above your own role"));
        }
        if patch.password.is_some() && actor.role != Role::Admin && !actor.role.outranks(target.role) {
            return Err(DomainError::forbidden(
                ErrorCode::RoleEscalation,
                "only a higher role resets another user's password",
            ));
        }
    } else if patch.role.is_some() || patch.active.is_some() || patch.org_unit_id.is_some() {
        return Err(DomainError::forbidden(
            ErrorCode::SelfChangeForbidden,
            "your own role, org unit and active flag are changed by your manager",
        ));
    }
    if let Some(role) = patch.role
        && !actor.role.may_grant(role)
    {
        return Err(DomainError::forbidden(ErrorCode::RoleEscalation, "cannot grant a role above your own"));
    }
    let mut v = Validator::default();
    let name = patch.name.as_deref().and_then(|n| v.check("name", crate::domain::common::text::name(n, 50)));
    let password = patch.password.and_then(|p| v.check("password", NewPassword::parse(p)));
    let verify_current = match (is_self && password.is_some(), patch.current_password) {
        (true, Some(current)) => Some(current),
        (true, None) => {
            v.add("current_password", "required to change your own password");
            None
        }
        (false, _) => None,
    };
    v.finish()?;
    Ok(CheckedPatch {
        name,
        role: patch.role,
        org_unit_id: patch.org_unit_id,
        active: patch.active,
        password,
        verify_current,
        version: patch.version,
    })
}

/// Applies a checked patch. Password, role, unit and deactivation changes end every session of
/// the user, so a demoted or departed account cannot keep refreshing with old tokens.
pub fn apply_patch(
    conn: &mut DbConn,
    actor: &Actor,
    id: Uuid,
    patch: &CheckedPatch,
    password_hash: Option<String>,
) -> Result<User, DomainError> {
    conn.write_tx(|conn| {
        let current = get(conn, actor, id)?;
        if patch.version.is_some_and(|v| v != current.version) {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the user changed since you read it"));
        }
        let role = patch.role.unwrap_or(current.role);
        let unit_id = patch.org_unit_id.or(current.org_unit_id);
        let moves = patch.role.is_some_and(|r| r != current.role)
            || patch.org_unit_id.is_some_and(|u| Some(u) != current.org_unit_id);
        let placed = if moves { Some(placement(conn, actor, role, unit_id)?) } else { None };
        let changes = UserChanges {
            name: patch.name.clone(),
            password_hash: password_hash.clone(),
            role: patch.role.map(|r| r.as_str().to_owned()),
            org_unit_id: placed.as_ref().map(|u| u.as_ref().map(|u| u.id.to_string())),
            org_path: placed.as_ref().map(|u| u.as_ref().map(|u| u.path.clone()).unwrap_or_else(|| "/".to_owned())),
            active: patch.active,
        };
        let nothing = changes.name.is_none()
            && changes.password_hash.is_none()
            && changes.role.is_none()
            && changes.org_unit_id.is_none()
            && changes.active.is_none();
        if nothing {
            return Ok(current);
        }
        let now = now_utc();
        if !store::update(conn, &id.to_string(), current.version, &changes, now)? {
            return Err(DomainError::conflict(ErrorCode::VersionConflict, "the user changed since you read it"));
        }
        let ends_sessions = password_hash.is_some() || moves || patch.active == Some(false);
        if ends_sessions {
            refresh_tokens::revoke_user(conn, &id.to_string(), now)?;
        }
        let updated = get(conn, actor, id)?;
        let view = |u: &User| serde_json::json!({"name": u.name, "role": u.role, "org_unit_id": u.org_unit_id, "active": u.active});
        let mut changes = crate::domain::org::audit::diff(&view(&current), &view(&updated));
        if password_hash.is_some()
            && let Some(map) = changes.as_object_mut()
        {
            // Never the hash: only the fact.
            map.insert("password".to_owned(), serde_json::json!("changed"));
        }
        crate::domain::org::audit::record(conn, actor, "user", id, &updated.org_path, crate::domain::org::audit::Action::Update, changes)?;
        Ok(updated)
    })
}
