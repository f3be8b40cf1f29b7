//! The directory, for the app's pickers: `org_units` and `colleagues` (names and roles, no
//! phones) of the caller's branch, read-only on the phone.

use uuid::Uuid;

use crate::domain::DomainError;
use crate::domain::org::org_units::OrgUnit;
use crate::domain::org::users::User;
use crate::domain::sync::declare::entity::Table;
use crate::domain::sync::declare::{Column, View, millis, opt_id, text};
use crate::store::DbConn;
use crate::store::org::{org_units, users};

/// The caller's branch as a path prefix (`None`: an admin of no branch reads every branch).
fn branch(view: &View) -> Option<String> {
    view.actor.branch_id().map(|b| format!("/{b}/"))
}

fn in_branch(view: &View, path: &str) -> bool {
    branch(view).is_none_or(|b| path.starts_with(&b))
}

type U = Column<OrgUnit>;

pub static ORG_UNITS: Table<OrgUnit> = Table {
    name: "org_units",
    since: 2,
    scope: "the units of your branch",
    columns: &[
        U::string("parent_id", |u, _| opt_id(u.parent_id)).optional().indexed(),
        // branch, sub_branch, outlet, team
        U::string("kind", |u, _| text(u.kind.as_str())),
        U::string("name", |u, _| text(&u.name)),
        U::number("version", |u, _| u.version.into()),
        U::number("created_at", |u, _| millis(u.created_at)),
        U::number("updated_at", |u, _| millis(u.updated_at)),
    ],
    id: |u| u.id.to_string(),
    changed: |conn, view, after, upto| {
        let rows = org_units::changed_since(conn, branch(view).as_deref(), after, upto)?;
        Ok(rows.into_iter().map(OrgUnit::try_from).collect::<Result<_, _>>()?)
    },
    get: get_unit,
    deleted: None,
    create: None,
    update: None,
    delete: None,
};

fn get_unit(conn: &mut DbConn, view: &View, id: Uuid) -> Result<OrgUnit, DomainError> {
    let row = org_units::find(conn, &id.to_string())?.filter(|u| in_branch(view, &u.path));
    Ok(OrgUnit::try_from(row.ok_or(DomainError::NotFound("org unit"))?)?)
}

type P = Column<User>;

pub static COLLEAGUES: Table<User> = Table {
    name: "colleagues",
    since: 2,
    scope: "the people of your branch: names, roles and units (no phones)",
    columns: &[
        P::string("name", |u, _| text(&u.name)),
        P::string("role", |u, _| text(u.role.as_str())).indexed(),
        P::string("org_unit_id", |u, _| opt_id(u.org_unit_id)).optional().indexed(),
        // A disabled account stays, so records naming it keep a name.
        P::boolean("active", |u, _| u.active.into()),
        P::number("version", |u, _| u.version.into()),
        P::number("created_at", |u, _| millis(u.created_at)),
        P::number("updated_at", |u, _| millis(u.updated_at)),
    ],
    id: |u| u.id.to_string(),
    changed: |conn, view, after, upto| {
        let rows = users::changed_since(conn, branch(view).as_deref(), after, upto)?;
        Ok(rows.into_iter().map(User::try_from).collect::<Result<_, _>>()?)
    },
    get: get_user,
    deleted: None,
    create: None,
    update: None,
    delete: None,
};

fn get_user(conn: &mut DbConn, view: &View, id: Uuid) -> Result<User, DomainError> {
    let row = users::find(conn, &id.to_string())?.filter(|u| in_branch(view, &u.org_path));
    Ok(User::try_from(row.ok_or(DomainError::NotFound("user"))?)?)
}
