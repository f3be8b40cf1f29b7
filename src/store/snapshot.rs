//! What a backup needs of the embedded database: a consistent copy taken while the server writes,
//! and the checks a restore runs on it.

use std::path::Path;

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::{DbConn, StoreError};

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

#[derive(QueryableByName)]
struct Version {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    version: Option<String>,
}

/// Writes a compacted, self-contained copy of the database to `target` (which must not exist).
/// `VACUUM INTO` reads inside one read transaction, so the copy is the database as of one commit,
/// and under WAL it does not stop writers while it runs.
pub fn snapshot_into(conn: &mut DbConn, target: &Path) -> Result<(), StoreError> {
    let DbConn::Sqlite(c) = conn else {
        return Err(StoreError::Unsupported("a snapshot is taken of the embedded SQLite database only"));
    };
    let target = target.to_str().ok_or_else(|| StoreError::Corrupt("backup path is not UTF-8".to_owned()))?;
    diesel::sql_query("VACUUM INTO ?").bind::<Text, _>(target).execute(c)?;
    Ok(())
}

/// Opens a database file to read it and nothing else: a check must leave a backup's copy as
/// `VACUUM INTO` wrote it (one file, rollback journal), which an ordinary open would switch to WAL.
pub fn open_read_only(path: &Path) -> Result<DbConn, StoreError> {
    let path = path.to_str().ok_or(StoreError::Unsupported("a database path must be UTF-8"))?;
    // A URI filename: the characters URIs reserve must be escaped in the path.
    let escaped = path.replace('%', "%25").replace('?', "%3f").replace('#', "%23");
    Ok(DbConn::Sqlite(diesel::SqliteConnection::establish(&format!("file:{escaped}?mode=ro"))?))
}

/// `PRAGMA integrity_check`: `["ok"]` when the file is sound, otherwise what is wrong with it.
pub fn integrity_check(conn: &mut DbConn) -> Result<Vec<String>, StoreError> {
    let DbConn::Sqlite(c) = conn else { return Ok(vec!["ok".to_owned()]) };
    let rows: Vec<Line> = diesel::sql_query("SELECT integrity_check AS line FROM pragma_integrity_check").load(c)?;
    Ok(rows.into_iter().map(|r| r.line).collect())
}

/// The newest migration applied to this database, if any.
pub fn schema_version(conn: &mut DbConn) -> Result<Option<String>, StoreError> {
    let query = "SELECT MAX(version) AS version FROM __diesel_schema_migrations WHERE version IS NOT NULL";
    let rows: Vec<Version> = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(query).load(c)?,
        DbConn::Postgres(c) => diesel::sql_query(query).load(c)?,
    };
    Ok(rows.into_iter().next().and_then(|r| r.version))
}
