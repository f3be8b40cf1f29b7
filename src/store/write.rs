//! [`DbConn::write_tx`], the one way store code writes: on the server's database threads through
//! the database's group commit, elsewhere queued behind this process's other writers.

use diesel::connection::{AnsiTransactionManager, Connection, TransactionManager};
use parking_lot::FairMutex;

use super::{DbConn, group_commit};

/// SQLite takes one writer at a time, and a writer that finds the lock taken sleeps in its busy
/// handler (1 ms, 2 ms, 5 ms, …) however soon the lock frees: under a burst of concurrent writes
/// most of the time went to sleeping, and the unlucky waited tens of milliseconds. Writers of this
/// process queue here instead, in arrival order, and are woken the moment the one before them
/// commits; the busy handler is left to arbitrate only with other processes (a CLI command, a
/// backup). One lock for the process: tests that open many databases only serialise their short
/// write transactions. The server's writes do not come here: they go through their database's
/// group commit (see [`group_commit`]); this is for the command line and the seeder.
static SQLITE_WRITER: FairMutex<()> = parking_lot::const_fair_mutex(());

impl DbConn {
    /// A transaction that intends to write. On SQLite, inside [`super::Db::run`], it joins its
    /// database's group commit (see [`group_commit`]): it runs in a savepoint of the batch open
    /// on the database's writer connection and returns once that batch has committed. Elsewhere (the
    /// command line, the seeder) it queues behind this process's other writers (see
    /// [`SQLITE_WRITER`]) and starts with `BEGIN IMMEDIATE`, so the write lock is taken up front;
    /// a deferred transaction that reads first and writes later fails at once with SQLITE_BUSY
    /// when another writer got in between. Inside a transaction already, it is a savepoint.
    pub fn write_tx<T, E>(&mut self, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        if group_commit::in_transaction(self) {
            return self.transaction(f);
        }
        if let (DbConn::Sqlite(_), Some(lane)) = (&*self, group_commit::current()) {
            return lane.submit(f);
        }
        let _turn = match self {
            DbConn::Sqlite(c) => {
                let turn = SQLITE_WRITER.lock();
                AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
                Some(turn)
            }
            DbConn::Postgres(c) => {
                AnsiTransactionManager::begin_transaction(c)?;
                None
            }
        };
        match f(self) {
            Ok(value) => {
                <DbConn as Connection>::TransactionManager::commit_transaction(self)?;
                Ok(value)
            }
            Err(err) => match <DbConn as Connection>::TransactionManager::rollback_transaction(self) {
                Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(err),
                Err(rollback) => Err(rollback.into()),
            },
        }
    }
}
