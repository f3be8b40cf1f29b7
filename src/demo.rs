//! `outreach serve --demo`: a realistic demo branch in an empty database.
//!
//! 江门分行 (Jiangmen branch) with three sub-branches, two outlets each, and one user per role.
//! Later capabilities add partners, visits, events and projects here.

use secrecy::SecretString;
use uuid::Uuid;

use crate::bootstrap::{create_user, describe};
use crate::domain::org_units::{self, Created, NewOrgUnit, OrgUnit, OrgUnitKind};
use crate::domain::{Actor, Role};
use crate::geo::{LatLon, Territory};
use crate::http::state::AppState;
use crate::store;

pub const DEMO_PASSWORD: &str = "outreach-demo-2026";

/// A user the demo creates, printed at start so a newcomer can log in.
pub struct DemoLogin {
    pub phone: &'static str,
    pub name: &'static str,
    pub role: Role,
    pub unit: &'static str,
}

const SUB_BRANCHES: [(&str, [f64; 4], [&str; 2]); 3] = [
    ("蓬江支行", [113.02, 22.57, 113.12, 22.66], ["北街网点", "白沙网点"]),
    ("江海支行", [113.08, 22.52, 113.18, 22.57], ["外海网点", "礼乐网点"]),
    ("新会支行", [112.98, 22.45, 113.08, 22.55], ["会城网点", "司前网点"]),
];

pub const LOGINS: [DemoLogin; 10] = [
    DemoLogin { phone: "13800000000", name: "系统管理员", role: Role::Admin, unit: "" },
    DemoLogin { phone: "13800000001", name: "李分行", role: Role::BranchManager, unit: "江门分行" },
    DemoLogin { phone: "13800000002", name: "王支行", role: Role::SubBranchManager, unit: "蓬江支行" },
    DemoLogin { phone: "13800000003", name: "陈督导", role: Role::Supervisor, unit: "江门分行" },
    DemoLogin { phone: "13800000004", name: "张客户经理", role: Role::AccountManager, unit: "北街网点" },
    DemoLogin { phone: "13800000005", name: "刘客户经理", role: Role::AccountManager, unit: "外海网点" },
    DemoLogin { phone: "13800000006", name: "黄客户经理", role: Role::AccountManager, unit: "白沙网点" },
    DemoLogin { phone: "13800000007", name: "梁客户经理", role: Role::AccountManager, unit: "礼乐网点" },
    DemoLogin { phone: "13800000008", name: "吴客户经理", role: Role::AccountManager, unit: "会城网点" },
    DemoLogin { phone: "13800000009", name: "陈客户经理", role: Role::AccountManager, unit: "司前网点" },
];

/// Partners each demo account manager brings (6 × 50 = 300).
const PARTNERS_PER_MANAGER: usize = 50;

/// Days of visit history (working days only, about eight visits each per account manager).
const VISIT_DAYS: i64 = 60;

fn rectangle([w, s, e, n]: [f64; 4]) -> Territory {
    Territory::Polygon { coordinates: vec![vec![vec![w, s], vec![e, s], vec![e, n], vec![w, n], vec![w, s]]] }
}

/// Seeds the demo unless the database already has org units; returns whether it seeded.
pub async fn seed(state: &AppState) -> anyhow::Result<bool> {
    if state.db.run(store::org_units::count).await? > 0 {
        tracing::info!("database is not empty; demo seed skipped");
        return Ok(false);
    }
    let mut units: Vec<OrgUnit> = Vec::new();
    let branch =
        unit(state, "江门分行", OrgUnitKind::Branch, None, Some(rectangle([112.95, 22.40, 113.25, 22.70])), None)
            .await?;
    units.push(branch.clone());
    for (name, bbox, outlets) in SUB_BRANCHES {
        let sub = unit(state, name, OrgUnitKind::SubBranch, Some(branch.id), Some(rectangle(bbox)), None).await?;
        for (i, outlet) in outlets.iter().enumerate() {
            // Outlets stand a third and two thirds of the way across their sub-branch's area.
            let share = (i as f64 + 1.0) / 3.0;
            let door =
                LatLon { lat: bbox[1] + (bbox[3] - bbox[1]) * share, lon: bbox[0] + (bbox[2] - bbox[0]) * share };
            units.push(unit(state, outlet, OrgUnitKind::Outlet, Some(sub.id), None, Some(door)).await?);
        }
        units.push(sub);
    }
    let mut owners = Vec::new();
    let mut users = Vec::new();
    for login in &LOGINS {
        let org = units.iter().find(|u| u.name == login.unit);
        let user = create_user(
            state,
            login.phone,
            login.name,
            SecretString::from(DEMO_PASSWORD),
            login.role,
            org.map(|u| u.id),
        )
        .await?;
        users.push((login.phone, user.clone()));
        if login.role == Role::AccountManager
            && let Some(outlet) = org
            && let Some(area) =
                SUB_BRANCHES.iter().find(|(_, _, outlets)| outlets.contains(&outlet.name.as_str())).map(|s| s.1)
        {
            owners.push((user.as_actor(), area));
        }
    }
    let portfolios = crate::demo_partners::seed(state, &owners, PARTNERS_PER_MANAGER).await?;
    let user = |phone: &str| users.iter().find(|(p, _)| *p == phone).map(|(_, u)| u.clone());
    let team = |phones: &[&str]| phones.iter().filter_map(|p| user(p)).collect::<Vec<_>>();
    let (Some(branch_manager), Some(sub_manager), Some(supervisor)) =
        (user("13800000001"), user("13800000002"), user("13800000003"))
    else {
        anyhow::bail!("demo managers missing");
    };
    // Projects first: the visits and events below link to their members' running project.
    let projects = crate::demo_projects::create(
        state,
        &branch_manager,
        &sub_manager,
        &supervisor,
        team(&["13800000005", "13800000007", "13800000008", "13800000009"]),
        team(&["13800000006", "13800000004"]),
    )
    .await?;
    let membership: Vec<(Uuid, Uuid)> =
        projects.iter().flat_map(|p| p.members.iter().map(move |m| (m.id, p.id))).collect();
    let (visits, photos) = crate::demo_visits::seed(state, &portfolios, VISIT_DAYS).await?;
    let (events, attendees) = crate::demo_events::seed(state, &portfolios, &membership).await?;
    let leads = crate::demo_projects::leads(state, &projects, &portfolios).await?;
    let pool_entries = crate::demo_sharing::pools(state, &branch_manager, &projects).await?;
    let writers = team(&["13800000005", "13800000004", "13800000006", "13800000007", "13800000008", "13800000009"]);
    let cases = crate::demo_sharing::cases(state, &branch_manager, &writers).await?;
    let coaching_reviews = crate::demo_sharing::coaching(state, &branch_manager, &supervisor).await?;
    let staff: Vec<(crate::domain::users::User, String)> = LOGINS
        .iter()
        .filter(|l| l.role == Role::AccountManager)
        .filter_map(|l| user(l.phone).map(|u| (u, l.unit.to_owned())))
        .collect();
    let supervisions = crate::demo_sharing::supervisions(state, &supervisor, &staff).await?;
    tracing::info!(
        projects = projects.len(),
        leads,
        partners = portfolios.iter().map(|(_, p)| p.len()).sum::<usize>(),
        visits,
        photos,
        events,
        attendees,
        pool_entries,
        cases,
        coaching_reviews,
        supervisions,
        "demo seeded"
    );
    Ok(true)
}

async fn unit(
    state: &AppState,
    name: &str,
    kind: OrgUnitKind,
    parent_id: Option<Uuid>,
    territory: Option<Territory>,
    location: Option<LatLon>,
) -> anyhow::Result<OrgUnit> {
    let input = NewOrgUnit { id: None, name: name.to_owned(), kind, parent_id, territory, location };
    match state.db.run(move |conn| org_units::create(conn, &Actor::system(), input)).await.map_err(describe)? {
        Created::New(u) | Created::Existing(u) => Ok(u),
    }
}

/// The lines printed at start so the demo can be tried at once.
pub fn banner(public_url: &str) -> String {
    let mut out = format!(
        "\nOutreach demo at {public_url}  (outreach map: {public_url}/map, API docs: {public_url}/docs/)\nLogins, password `{DEMO_PASSWORD}`:\n"
    );
    for l in &LOGINS {
        out.push_str(&format!("  {:<20} {}  {} {}\n", l.role.as_str(), l.phone, l.name, l.unit));
    }
    out
}
