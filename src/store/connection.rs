use diesel::connection::{SimpleConnection, TransactionManager};
use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::StoreError;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// One connection type for both backends; queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Which database a URL names. Chosen from the scheme, never by trial: SQLite accepts any string
/// as a file name, so "try each backend in turn" would silently create a file called `postgres:…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

impl DbConn {
    pub fn open(url: &str) -> Result<DbConn, StoreError> {
        match Backend::of_url(url) {
            Backend::Postgres => Ok(DbConn::Postgres(diesel::PgConnection::establish(url)?)),
            Backend::Sqlite => {
                let path = url.strip_prefix("sqlite://").unwrap_or(url);
                let mut conn = diesel::SqliteConnection::establish(path)?;
                // busy_timeout must come first: the WAL switch itself takes a lock that other
                // pooled connections opening at the same moment would otherwise fail on.
                // synchronous=NORMAL in WAL mode: a commit survives a process crash; only an OS
                // crash or power loss can drop the last transactions (never corrupts). See README.
                // mmap: reads of hot indexes come straight from the OS page cache, shared by every
                // pooled connection, instead of being copied into each connection's private 2 MiB
                // cache (a quarter of a project's progress request was the kernel copying pages).
                // case_sensitive_like: `org_path LIKE '/b/s/%'` becomes an index range, as on
                // PostgreSQL, where LIKE is case-sensitive too (searches compare `lower()`ed text
                // on both); without it SQLite scanned a whole branch for one outlet's first sync.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 5000;
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = NORMAL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA mmap_size = 268435456;
                     PRAGMA case_sensitive_like = ON;",
                )?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Postgres(_) => Backend::Postgres,
            DbConn::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// The newest migration this binary carries for the backend (`20261129000009`): a database
    /// migrated past it was written by a newer version.
    pub fn latest_known_migration(backend: Backend) -> String {
        let versions = match backend {
            Backend::Postgres => MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS)
                .map(|ms| ms.iter().map(|m| m.name().version().to_string()).collect::<Vec<_>>()),
            Backend::Sqlite => MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
                .map(|ms| ms.iter().map(|m| m.name().version().to_string()).collect::<Vec<_>>()),
        };
        versions.unwrap_or_default().into_iter().max().unwrap_or_default()
    }

    /// Applies every pending migration of this backend; returns how many ran.
    pub fn migrate(&mut self) -> Result<usize, StoreError> {
        let applied = match self {
            DbConn::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
            DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        };
        applied.map_err(|e| StoreError::Migration(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use diesel::sql_types::BigInt;

    use super::*;

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    /// `.cargo/config.toml` builds SQLite with the planner stability guarantee; without it every
    /// `.first()` is parsed and planned again at each call (see there).
    #[test]
    fn sqlite_is_built_with_the_query_planner_stability_guarantee() {
        let Ok(DbConn::Sqlite(mut conn)) = DbConn::open(":memory:") else { panic!("cannot open SQLite in memory") };
        let found: Count =
            diesel::sql_query("SELECT count(*) AS n FROM pragma_compile_options WHERE compile_options = 'ENABLE_QPSG'")
                .get_result(&mut conn)
                .unwrap_or(Count { n: -1 });
        assert_eq!(found.n, 1, "SQLite was built without SQLITE_ENABLE_QPSG (LIBSQLITE3_FLAGS in .cargo/config.toml)");
    }
}
