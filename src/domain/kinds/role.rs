use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a user may do. Ordered by reach: a user may grant only roles up to their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    AccountManager,
    Supervisor,
    SubBranchManager,
    BranchManager,
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] =
        [Role::AccountManager, Role::Supervisor, Role::SubBranchManager, Role::BranchManager, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::AccountManager => "account_manager",
            Role::Supervisor => "supervisor",
            Role::SubBranchManager => "sub_branch_manager",
            Role::BranchManager => "branch_manager",
            Role::Admin => "admin",
        }
    }

    fn rank(self) -> u8 {
        match self {
            Role::AccountManager => 1,
            Role::Supervisor => 2,
            Role::SubBranchManager => 3,
            Role::BranchManager => 4,
            Role::Admin => 5,
        }
    }

    /// Whether a holder of `self` may create or edit a user holding `other`.
    pub fn may_grant(self, other: Role) -> bool {
        self.manages_people() && other.rank() <= self.rank()
    }

    /// Strictly above `other`: who may reset another's password (a peer could otherwise take
    /// over a peer's account).
    pub fn outranks(self, other: Role) -> bool {
        self.rank() > other.rank()
    }

    /// Managers and admins run people and the org tree; the others work inside it.
    pub fn manages_people(self) -> bool {
        matches!(self, Role::SubBranchManager | Role::BranchManager | Role::Admin)
    }

    /// Sees full phone numbers of people in scope (everyone else sees them masked).
    pub fn sees_full_phones(self) -> bool {
        self.manages_people()
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| format!("unknown role `{s}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nobody_grants_above_their_own_role() {
        assert!(Role::Admin.may_grant(Role::Admin));
        assert!(Role::BranchManager.may_grant(Role::SubBranchManager));
        assert!(!Role::BranchManager.may_grant(Role::Admin));
        assert!(!Role::SubBranchManager.may_grant(Role::BranchManager));
        assert!(!Role::AccountManager.may_grant(Role::AccountManager));
        assert!(!Role::Supervisor.may_grant(Role::AccountManager));
    }

    #[test]
    fn round_trips_through_text() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
    }
}
