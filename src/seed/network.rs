//! The branch network: one branch, its sub-branches, three outlets each, the managers and the
//! account managers, created through the domain (so paths, scopes and roles are the real ones).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use super::geography::somewhere;
use crate::domain::org_units::{self, Created, NewOrgUnit, OrgUnit, OrgUnitKind};
use crate::domain::users::{self, NewUserInput, User};
use crate::domain::{Actor, DomainError, Role};
use crate::store::DbConn;

pub const BRANCH_MANAGER: &str = "13600000000";
const OUTLETS_PER_SUB_BRANCH: usize = 3;

pub struct Network {
    pub branch: OrgUnit,
    pub sub_branches: Vec<OrgUnit>,
    /// Each sub-branch's manager (same order as `sub_branches`).
    pub sub_branch_managers: Vec<User>,
    /// Outlets with where each stands, and the index of its sub-branch.
    pub outlets: Vec<Outlet>,
    /// Account managers per outlet (same order as `outlets`).
    pub teams: Vec<Vec<User>>,
}

pub struct Outlet {
    pub unit: OrgUnit,
    pub lat: f64,
    pub lon: f64,
    pub sub_branch: usize,
}

/// A user acting as themself, as a login would make them.
pub fn actor_of(u: &User) -> Actor {
    Actor { user_id: u.id, role: u.role, org_unit_id: u.org_unit_id, org_path: u.org_path.clone() }
}

impl Network {
    pub fn account_managers(&self) -> impl Iterator<Item = &User> {
        self.teams.iter().flatten()
    }

    /// The account managers of one sub-branch.
    pub fn team_of_sub_branch(&self, sub: usize) -> Vec<&User> {
        self.outlets.iter().zip(&self.teams).filter(|(o, _)| o.sub_branch == sub).flat_map(|(_, t)| t).collect()
    }
}

fn unit(
    conn: &mut DbConn,
    rng: &mut StdRng,
    name: String,
    kind: OrgUnitKind,
    parent: Option<Uuid>,
) -> Result<OrgUnit, DomainError> {
    let id = Some(uuid::Builder::from_random_bytes(rng.random()).into_uuid());
    let input = NewOrgUnit { id, name, kind, parent_id: parent, territory: None, location: None };
    match org_units::create(conn, &Actor::system(), input)? {
        Created::New(u) | Created::Existing(u) => Ok(u),
    }
}

/// A user through the domain, with a password hash made once: hashing 500 passwords is not what
/// a seeder is for.
fn user(
    conn: &mut DbConn,
    hash: &str,
    phone: String,
    name: String,
    role: Role,
    unit: Uuid,
) -> Result<User, DomainError> {
    let input = NewUserInput { phone, name, password: super::PASSWORD.to_owned(), role, org_unit_id: Some(unit) };
    let checked = users::check_new(&Actor::system(), input)?;
    users::create(conn, &Actor::system(), &checked, hash.to_owned())
}

pub fn build(
    conn: &mut DbConn,
    seed: u64,
    sub_branches: usize,
    account_managers: usize,
    hash: &str,
) -> Result<Network, DomainError> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6f72_6731);
    let branch = unit(conn, &mut rng, "江门分行".to_owned(), OrgUnitKind::Branch, None)?;
    user(conn, hash, BRANCH_MANAGER.to_owned(), "分行行长".to_owned(), Role::BranchManager, branch.id)?;
    let mut subs = Vec::new();
    let mut sub_branch_managers = Vec::new();
    let mut outlets = Vec::new();
    for s in 0..sub_branches {
        let sub = unit(conn, &mut rng, format!("第{:02}支行", s + 1), OrgUnitKind::SubBranch, Some(branch.id))?;
        let phone = format!("1360001{s:04}");
        let manager = user(conn, hash, phone, format!("支行行长{}", s + 1), Role::SubBranchManager, sub.id)?;
        sub_branch_managers.push(manager);
        for o in 0..OUTLETS_PER_SUB_BRANCH {
            let name = format!("第{:02}支行{}号网点", s + 1, o + 1);
            let outlet = unit(conn, &mut rng, name, OrgUnitKind::Outlet, Some(sub.id))?;
            // Outlets stand where people are: in the towns more than in between.
            let (lat, lon) = somewhere(&mut rng);
            outlets.push(Outlet { unit: outlet, lat, lon, sub_branch: s });
        }
        subs.push(sub);
    }
    let mut teams: Vec<Vec<User>> = (0..outlets.len()).map(|_| Vec::new()).collect();
    for n in 0..account_managers {
        let o = n % outlets.len();
        let am =
            user(conn, hash, format!("1370{n:07}"), format!("客户经理{n}"), Role::AccountManager, outlets[o].unit.id)?;
        teams[o].push(am);
    }
    Ok(Network { branch, sub_branches: subs, sub_branch_managers, outlets, teams })
}
