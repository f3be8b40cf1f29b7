//! Persistence: one diesel connection type over SQLite and PostgreSQL, the pool, migrations, at
//! the top; the queries in folders that mirror the domain's (`org`, `field`, `events`, `projects`,
//! `supervision`), with the map's and sync's beside the shared parts.
//!
//! Store functions are plain synchronous `fn(&mut DbConn, …) -> Result<T, StoreError>`; the only
//! bridge to async code is [`Db::run`], which moves the work onto the database's own threads
//! (see [`crate::workers`]).

/// Runs a statement on the backend's own connection rather than through the `DbConn` enum.
/// Through the enum, diesel marks every `INSERT` of an `Insertable` row as not cacheable (its
/// multi-backend renders optional columns as `DEFAULT`), so SQLite parsed and planned the
/// statement again for each row: a twentieth of a visit write.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::store::DbConn::Sqlite($c) => $body,
            $crate::store::DbConn::Postgres($c) => $body,
        }
    };
}

pub mod events;
pub mod field;
pub mod map;
pub mod org;
pub mod projects;
pub mod schema;
pub mod snapshot;
pub mod supervision;
pub mod sync;
pub mod sync_replies;

mod checkpointer;
mod connection;
mod current_lane;
mod error;
mod group_commit;
mod lane;
mod pagination;
mod pool;
mod statements;
mod time;
mod write;

pub use connection::{Backend, DbConn};
pub use error::{StoreError, enum_col, json_col, uuid_col};
pub use pagination::{Page, PageRequest};
pub use pool::{ConnectionManager, Db, PoolOptions, PooledConn};
pub use time::now_utc;

/// A trivial round trip, for readiness checks.
pub fn ping(conn: &mut DbConn) -> Result<(), StoreError> {
    use diesel::RunQueryDsl;
    diesel::sql_query("SELECT 1").execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod conventions {
    /// A new insert written straight through `DbConn` would compile and work, and silently lose
    /// statement caching on SQLite (see [`on_backend!`]); this keeps every insert on the backend.
    #[test]
    fn every_insert_runs_on_the_backend_connection() -> std::io::Result<()> {
        let needle = concat!("diesel::", "insert_into(");
        let mut bare = Vec::new();
        let mut dirs = vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir)? {
                let path = entry?.path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_none_or(|ext| ext != "rs") {
                    continue;
                }
                let source = std::fs::read_to_string(&path)?;
                for (number, line) in source.lines().enumerate() {
                    if line.contains(needle) && !line.contains("on_backend!(") {
                        bare.push(format!("{}:{}: {}", path.display(), number + 1, line.trim()));
                    }
                }
            }
        }
        assert!(bare.is_empty(), "inserts outside on_backend!:\n{}", bare.join("\n"));
        Ok(())
    }
}
