//! Creating users outside the API: the first admin from configuration, and the command line.

use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::context::state::AppState;
use crate::domain::org::users::{self, NewUserInput, User};
use crate::domain::{Actor, DomainError, Role};
use crate::store;

/// Creates a user as the system operator (full scope), hashing on the hashing threads.
pub async fn create_user(
    state: &AppState,
    phone: &str,
    name: &str,
    password: SecretString,
    role: Role,
    org_unit_id: Option<Uuid>,
) -> anyhow::Result<User> {
    create_user_hashed(state, phone, name, password, PasswordHash::Make, role, org_unit_id).await
}

/// Where the stored hash of a new user's password comes from.
pub enum PasswordHash {
    /// Hashed now at the server's cost.
    Make,
    /// Already hashed (PHC string): fixtures hash one password once per process at a test cost
    /// (`auth::password::hash_at_cost`) instead of paying the server's cost for every user.
    Given(String),
}

/// [`create_user`] with the stored hash's origin named; the password is still checked as for any user.
pub async fn create_user_hashed(
    state: &AppState,
    phone: &str,
    name: &str,
    password: SecretString,
    hash: PasswordHash,
    role: Role,
    org_unit_id: Option<Uuid>,
) -> anyhow::Result<User> {
    let actor = Actor::system();
    let input = NewUserInput {
        phone: phone.to_owned(),
        name: name.to_owned(),
        password: password.expose_secret().to_owned(),
        role,
        org_unit_id,
    };
    let checked = users::check_new(&actor, input).map_err(describe)?;
    let hash = match hash {
        PasswordHash::Make => state.auth.hasher.hash(password).await?,
        PasswordHash::Given(hash) => hash,
    };
    let user = state.db.run(move |conn| users::create(conn, &actor, &checked, hash)).await.map_err(describe)?;
    Ok(user)
}

/// With `OUTREACH_BOOTSTRAP_ADMIN=phone:password` and no user at all, creates that admin.
pub async fn ensure_admin(state: &AppState) -> anyhow::Result<()> {
    let Some(admin) = state.settings.bootstrap_admin.clone() else {
        return Ok(());
    };
    let count = state.db.run(store::org::users::count).await?;
    if count > 0 {
        return Ok(());
    }
    let user = create_user(state, admin.phone.as_str(), "Administrator", admin.password, Role::Admin, None).await?;
    tracing::info!(user = %user.id, phone = %admin.phone.masked(), "bootstrap admin created");
    Ok(())
}

/// Turns a domain refusal into a message for a person at a terminal.
pub fn describe(err: DomainError) -> anyhow::Error {
    match err {
        DomainError::Validation(fields) => {
            let list: Vec<String> = fields.iter().map(|(f, m)| format!("{f}: {m}")).collect();
            anyhow::anyhow!("invalid: {}", list.join("; "))
        }
        other => anyhow::anyhow!(other.to_string()),
    }
}
