//! Whether an access token's holder still stands where the token says: the same role and unit,
//! and an active account. A token is valid for 15 minutes; a deactivated, demoted or moved user
//! must lose what it grants on their next request, not a quarter of an hour later (a deactivated
//! manager's token created a new manager: a permanent way back in). Checked on every request
//! against the users table, remembered for a few seconds per user so a busy phone costs one read
//! every few seconds; a change made through this process forgets the user at once, and every
//! other replica learns it within `FRESH`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use uuid::Uuid;

use crate::domain::Actor;
use crate::store::org::users;
use crate::store::{Db, StoreError};

/// How long a user's standing is trusted without a new read.
const FRESH: Duration = Duration::from_secs(3);

/// What a user holds now: role, unit and whether the account is active.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Held {
    role: String,
    org_unit_id: Option<String>,
    active: bool,
}

/// Each user's standing (none: no such user) and when it was read.
type Seen = HashMap<Uuid, (Option<Held>, Instant)>;

#[derive(Clone, Default)]
pub struct Standing {
    seen: Arc<Mutex<Seen>>,
}

impl Standing {
    /// Whether the token's actor still holds its role and unit in an active account.
    pub async fn holds(&self, db: &Db, actor: &Actor) -> Result<bool, StoreError> {
        let cached = self.seen.lock().get(&actor.user_id).filter(|(_, at)| at.elapsed() < FRESH).cloned();
        let held = match cached {
            Some((held, _)) => held,
            None => {
                let id = actor.user_id.to_string();
                let row = db.run(move |conn| users::find(conn, &id)).await?;
                let held = row.map(|u| Held { role: u.role, org_unit_id: u.org_unit_id, active: u.active });
                self.seen.lock().insert(actor.user_id, (held.clone(), Instant::now()));
                held
            }
        };
        Ok(held.is_some_and(|h| {
            h.active && h.role == actor.role.as_str() && h.org_unit_id == actor.org_unit_id.map(|u| u.to_string())
        }))
    }

    /// Forgets every user (the query-count tests: each counted request then reads its caller's
    /// standing once, whatever came before).
    pub fn forget_everyone(&self) {
        self.seen.lock().clear();
    }

    /// Drops what this process remembers of a user whose account just changed.
    pub fn forget(&self, user_id: Uuid) {
        self.seen.lock().remove(&user_id);
    }
}
