//! Which org unit's territory a position lies in.

use std::collections::HashMap;

use uuid::Uuid;

use crate::geo::{Area, LatLon, Territory};
use crate::store::org::org_units::{self as store, OrgUnitRow};
use crate::store::{DbConn, StoreError, uuid_col};

/// The territories of one branch, deepest unit first, ready for point-in-polygon tests.
pub struct BranchTerritories {
    areas: Vec<(Uuid, String, Area)>,
}

impl BranchTerritories {
    pub fn load(conn: &mut DbConn, branch_id: &str) -> Result<BranchTerritories, StoreError> {
        let rows = store::with_territory_in_branch(conn, branch_id)?;
        BranchTerritories::from_rows(rows)
    }

    fn from_rows(rows: Vec<OrgUnitRow>) -> Result<BranchTerritories, StoreError> {
        let mut areas = Vec::new();
        for row in rows {
            let Some(text) = row.territory.as_deref() else { continue };
            let territory: Territory =
                serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("territory of {}: {e}", row.id)))?;
            let area = Area::new(&territory).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            areas.push((uuid_col(&row.id)?, row.path, area));
        }
        // Longer path = deeper unit: an outlet's territory wins over its sub-branch's.
        areas.sort_by_key(|a| std::cmp::Reverse(a.1.len()));
        Ok(BranchTerritories { areas })
    }

    /// The deepest unit whose territory holds `p`.
    pub fn unit_at(&self, p: LatLon) -> Option<Uuid> {
        self.areas.iter().find(|(_, _, area)| area.contains(p)).map(|(id, _, _)| *id)
    }

    /// The territory governing an org path: that of the deepest unit on the path that has one.
    pub fn governing(&self, org_path: &str) -> Option<(Uuid, &Area)> {
        self.areas.iter().find(|(_, path, _)| org_path.starts_with(path.as_str())).map(|(id, _, area)| (*id, area))
    }
}

/// Territories per branch, loaded once each while a report walks many partners.
#[derive(Default)]
pub struct TerritoryCache {
    branches: HashMap<String, BranchTerritories>,
}

impl TerritoryCache {
    pub fn branch(&mut self, conn: &mut DbConn, branch_id: &str) -> Result<&BranchTerritories, StoreError> {
        if !self.branches.contains_key(branch_id) {
            let loaded = BranchTerritories::load(conn, branch_id)?;
            self.branches.insert(branch_id.to_owned(), loaded);
        }
        self.branches.get(branch_id).ok_or_else(|| StoreError::Corrupt("territory cache".to_owned()))
    }
}
