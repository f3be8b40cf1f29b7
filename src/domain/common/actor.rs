use uuid::Uuid;

use crate::domain::Role;

/// The authenticated caller, as the access token describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Uuid,
    pub role: Role,
    pub org_unit_id: Option<Uuid>,
    /// Materialised path of the caller's org unit (`/branch/sub/…/`); `/` for an admin with none.
    pub org_path: String,
}

/// The part of the org tree a caller sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Subtree(String),
}

impl Actor {
    /// The branch the caller works in (the first segment of their path); `None` for an admin
    /// without an org unit.
    pub fn branch_id(&self) -> Option<&str> {
        self.org_path.split('/').find(|s| !s.is_empty())
    }

    pub fn scope(&self) -> Scope {
        if self.role == Role::Admin { Scope::All } else { Scope::Subtree(self.org_path.clone()) }
    }
}

impl Scope {
    pub fn contains(&self, path: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Subtree(prefix) => path.starts_with(prefix.as_str()),
        }
    }

    /// The path prefix a query must filter on, `None` for no filter.
    pub fn path_prefix(&self) -> Option<String> {
        match self {
            Scope::All => None,
            Scope::Subtree(prefix) => Some(prefix.clone()),
        }
    }
}

impl Actor {
    /// The operator at the command line: an admin over every scope.
    pub fn system() -> Actor {
        Actor { user_id: Uuid::nil(), role: Role::Admin, org_unit_id: None, org_path: "/".to_owned() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subtree_contains_its_descendants_only() {
        let scope = Scope::Subtree("/b/s1/".to_owned());
        assert!(scope.contains("/b/s1/"));
        assert!(scope.contains("/b/s1/o1/"));
        assert!(!scope.contains("/b/s2/o1/"));
        assert!(!scope.contains("/b/"));
        assert!(Scope::All.contains("/x/"));
    }
}
