//! The WatermelonDB schema the server publishes (`GET /api/v1/sync/schema`), derived from the
//! table declarations: the tables and columns of each version, and every migration since the
//! first, which WatermelonDB needs to upgrade an installed app's database in place.
//!
//! A version only ever adds: a table, or columns to a table (WatermelonDB's migrations can do
//! nothing else). An app on an older version pulls the columns it knows.

use serde::Serialize;

use super::declare::{ColumnSpec, ColumnType};
use super::tables::TABLES;

/// The newest schema version: the highest `since` of any table or column.
pub fn current_version() -> u32 {
    TABLES
        .iter()
        .flat_map(|t| std::iter::once(t.since()).chain(t.columns().into_iter().map(|c| c.since)))
        .max()
        .unwrap_or(1)
}

#[derive(Serialize, Debug, Clone, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ColumnJson {
    pub name: &'static str,
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub kind: ColumnType,
    pub is_optional: bool,
    pub is_indexed: bool,
}

#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct TableJson {
    pub name: &'static str,
    pub columns: Vec<ColumnJson>,
}

#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StepJson {
    AddColumns { table: &'static str, columns: Vec<ColumnJson> },
    CreateTable { schema: TableJson },
}

#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MigrationJson {
    pub to_version: u32,
    pub steps: Vec<StepJson>,
}

#[derive(Serialize, Debug, Clone, utoipa::ToSchema)]
pub struct SchemaJson {
    pub version: u32,
    pub tables: Vec<TableJson>,
    /// Every migration from version 1 up to `version`, oldest first.
    pub migrations: Vec<MigrationJson>,
}

fn column(c: &ColumnSpec) -> ColumnJson {
    ColumnJson { name: c.name, kind: c.kind, is_optional: c.optional, is_indexed: c.indexed }
}

fn table_at(name: &'static str, columns: &[ColumnSpec], version: u32) -> TableJson {
    TableJson { name, columns: columns.iter().filter(|c| c.since <= version).map(column).collect() }
}

/// The schema an app of `version` has (the newest when `None`), with the migrations to it.
pub fn schema(version: Option<u32>) -> SchemaJson {
    let version = version.unwrap_or_else(current_version);
    let tables =
        TABLES.iter().filter(|t| t.since() <= version).map(|t| table_at(t.name(), &t.columns(), version)).collect();
    let migrations = (2..=version)
        .map(|to| {
            let mut steps = Vec::new();
            for t in TABLES.iter() {
                let columns = t.columns();
                if t.since() == to {
                    steps.push(StepJson::CreateTable { schema: table_at(t.name(), &columns, to) });
                } else if t.since() < to {
                    let added: Vec<ColumnJson> = columns.iter().filter(|c| c.since == to).map(column).collect();
                    if !added.is_empty() {
                        steps.push(StepJson::AddColumns { table: t.name(), columns: added });
                    }
                }
            }
            MigrationJson { to_version: to, steps }
        })
        .collect();
    SchemaJson { version, tables, migrations }
}
