use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use diesel::Connection;
use diesel::r2d2::R2D2Connection;

use super::current_lane;
use super::group_commit::GroupCommit;
use super::statements::StatementCount;
use super::{Backend, DbConn, StoreError};
use crate::workers::Workers;

/// Opens connections for the pool, choosing the backend from the URL scheme.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: String,
    statements: StatementCount,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConn;
    type Error = StoreError;

    fn connect(&self) -> Result<DbConn, StoreError> {
        let mut conn = DbConn::open(&self.url)?;
        conn.set_instrumentation(self.statements.instrumentation());
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), StoreError> {
        conn.ping().map_err(StoreError::from)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        conn.is_broken()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    pub max_size: u32,
    pub connection_timeout: Duration,
    /// Connections kept open while idle. r2d2 refills them from background threads; a
    /// short-lived command must keep none, or a refill still running in another thread races
    /// the process exit (libpq and OpenSSL tear down under it: a crash after the work is done).
    pub min_idle: u32,
}

impl PoolOptions {
    pub fn for_backend(backend: Backend) -> PoolOptions {
        // SQLite serialises writers anyway; a few connections give readers parallelism.
        let max_size = match backend {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        };
        PoolOptions { max_size, connection_timeout: Duration::from_secs(10), min_idle: 2 }
    }
}

/// A connection out of the pool, from [`Db::get`].
pub type PooledConn = r2d2::PooledConnection<ConnectionManager>;

/// The database handle the application shares: a pool plus the one bridge into async code.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<ConnectionManager>,
    backend: Backend,
    /// One per pooled connection. Work waits for a permit here, as a parked future, before it
    /// takes a database thread: waiting for a connection on a thread instead grew the blocking
    /// pool to its 512-thread cap in a burst of 1,000 registrations, each thread with its stack
    /// and allocator arena, and the memory stayed after the burst.
    permits: Arc<Semaphore>,
    /// The threads that run the work, as many as connections (see [`crate::workers`]).
    workers: Workers,
    /// How long work waits for a permit before it is refused (the pool's connection timeout).
    patience: Duration,
    /// SQLite's group commit: where this database's write transactions queue (its lane, see
    /// [`super::write`]) and the thread [`Db::write`] hands whole writes to (see
    /// [`super::group_commit`]). PostgreSQL takes concurrent writers itself.
    group: Option<Arc<GroupCommit>>,
    /// The statements this database's connections have run (see [`super::statements`]).
    statements: StatementCount,
}

impl Db {
    /// Connects, and migrates before the pool hands out its first connection.
    pub fn connect(url: &str, options: PoolOptions) -> Result<Db, StoreError> {
        let backend = Backend::of_url(url);
        if backend == Backend::Sqlite {
            ensure_parent_dir(url)?;
        }
        let statements = StatementCount::default();
        let manager = ConnectionManager { url: url.to_owned(), statements: statements.clone() };
        manager_migrate(&manager)?;
        let pool = r2d2::Pool::builder()
            .max_size(options.max_size)
            // Grow on demand: a replica that idles should not hold a full pool of server slots.
            .min_idle(Some(options.min_idle))
            .connection_timeout(options.connection_timeout)
            .build(manager)?;
        let permits = Arc::new(Semaphore::new(options.max_size as usize));
        let group = match backend {
            Backend::Sqlite => Some(Arc::new(GroupCommit::start(url, statements.clone())?)),
            Backend::Postgres => None,
        };
        let workers = Workers::start(options.max_size as usize, "db")
            .map_err(|e| StoreError::Migration(format!("cannot start the database threads: {e}")))?;
        Ok(Db { pool, backend, permits, workers, patience: options.connection_timeout, group, statements })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The SQL statements this database's connections have run since it was opened: for tests,
    /// which read it around one request to count that request's statements (see
    /// [`super::statements`]).
    pub fn statements(&self) -> u64 {
        self.statements.get()
    }

    /// Runs `f` with a pooled connection on one of the database threads, never on an async worker.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let permit = match tokio::time::timeout(self.patience, Arc::clone(&self.permits).acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(StoreError::Canceled.into()),
            Err(_) => return Err(StoreError::Saturated(self.patience).into()),
        };
        let pool = self.pool.clone();
        let lane = self.group.as_ref().map(|g| g.lane());
        self.workers
            .run(move || {
                let _permit = permit;
                let _lane = current_lane::enter(lane);
                let mut conn = pool.get().map_err(StoreError::from)?;
                f(&mut conn)
            })
            .await
            .unwrap_or_else(|_| Err(StoreError::Canceled.into()))
    }

    /// A write: `f` runs as one unit (its `write_tx` calls are savepoints of it). On SQLite it
    /// runs on the writer thread, back to back with the writes queued with it, in one commit (see
    /// [`super::group_commit`]); on PostgreSQL as [`Db::run`]. For the writes that come in bursts.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        match &self.group {
            Some(group) => group.write(f, self.patience).await,
            None => self.run(f).await,
        }
    }

    /// Synchronous access, for the command line and the bench seeder. No lane is entered: a
    /// `write_tx` on this connection is a transaction of its own (see [`super::write`] for why).
    pub fn get(&self) -> Result<PooledConn, StoreError> {
        Ok(self.pool.get()?)
    }
}

fn manager_migrate(manager: &ConnectionManager) -> Result<(), StoreError> {
    let mut conn = DbConn::open(&manager.url)?;
    let applied = conn.migrate()?;
    if applied > 0 {
        tracing::info!(applied, "database migrated");
    }
    Ok(())
}

fn ensure_parent_dir(url: &str) -> Result<(), StoreError> {
    let path = std::path::Path::new(url.strip_prefix("sqlite://").unwrap_or(url));
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Migration(format!("cannot create {}: {e}", dir.display()))),
        _ => Ok(()),
    }
}
