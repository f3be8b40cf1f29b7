//! A SQLite database's write lane: its one writer connection, and the batches that let
//! concurrent write transactions share one commit.
//!
//! SQLite takes one writer at a time, so concurrent writes queue whatever we do; what group commit
//! changes is what each one pays. Alone, every visit paid its own `BEGIN IMMEDIATE`, its own
//! `COMMIT` (the WAL frames of every page it dirtied, the shared index pages over and over, and
//! every thousandth page an automatic checkpoint), and a page cache emptied by the last writer.
//!
//! Here a database has one writer connection, handed to its writers in arrival order. A writer
//! runs its work inside a savepoint of the transaction open on it, so a failing write rolls back
//! alone; then, if another writer is already waiting for the connection, it leaves the
//! transaction open for that one and waits; the writer that finds no one behind it (or the 64th)
//! commits, for everyone in the batch. Every write is answered only after its batch committed,
//! and a write whose batch failed to commit gets an error, never a success.
//!
//! Writers come in two ways, both through [`Lane::hold`]: [`Lane::submit`] runs one write on the
//! caller's own thread (what `write_tx` does, see [`super::write`]): only the connection moves
//! between threads, so callers keep `write_tx(|conn| …)` closures that borrow from their stack;
//! and the writer thread of [`super::group_commit`] runs whole writes handed to it back to back.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::SyncSender;

use diesel::connection::{AnsiTransactionManager, Connection, SimpleConnection, TransactionManager};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use parking_lot::{Condvar, FairMutex, Mutex};

use super::checkpointer;
use super::statements::StatementCount;
use super::{DbConn, StoreError};

type Tm = <DbConn as Connection>::TransactionManager;

/// Writes one commit may carry, so a steady stream of writers cannot keep a batch open (and its
/// first writer unanswered) indefinitely.
pub(super) const MAX_BATCH: usize = 64;

/// The write queue of one SQLite database and its writer connection.
pub struct Lane {
    url: String,
    writer: FairMutex<Writer>,
    /// Writers queued for `writer`. While one is, the open batch waits for it.
    waiting: AtomicUsize,
    /// Tells the checkpointer a batch committed; without one, the writer checkpoints itself.
    nudge: Option<SyncSender<()>>,
    /// Where the writer connection reports its statements (see [`super::statements`]).
    statements: StatementCount,
}

#[derive(Default)]
struct Writer {
    /// Opened on first use and kept, with its page cache warm: no other connection writes.
    conn: Option<DbConn>,
    open: Option<Batch>,
}

struct Batch {
    writes: usize,
    settled: Arc<Settled>,
}

/// How a batch ended, for the writers waiting on it.
#[derive(Default)]
pub(super) struct Settled {
    result: Mutex<Option<Result<(), String>>>,
    wake: Condvar,
}

impl Settled {
    fn set(&self, result: Result<(), String>) {
        *self.result.lock() = Some(result);
        self.wake.notify_all();
    }

    pub(super) fn wait(&self) -> Result<(), String> {
        let mut result = self.result.lock();
        loop {
            if let Some(result) = &*result {
                return result.clone();
            }
            self.wake.wait(&mut result);
        }
    }
}

impl Lane {
    pub fn new(url: &str) -> Lane {
        Lane {
            url: url.to_owned(),
            writer: FairMutex::new(Writer::default()),
            waiting: AtomicUsize::new(0),
            nudge: None,
            statements: StatementCount::default(),
        }
    }

    /// The lane of a database a [`super::Db`] opened: its commits nudge a checkpointer thread of
    /// its own (see [`checkpointer`]), which ends when the lane is dropped.
    pub fn start(url: &str, statements: StatementCount) -> Result<Lane, StoreError> {
        let nudge = checkpointer::start(url)?;
        Ok(Lane { nudge: Some(nudge), statements, ..Lane::new(url) })
    }

    /// Runs `f` in a savepoint of the open batch and returns its result once that batch has
    /// committed (an `Err` of `f` at once: it was rolled back and the batch goes on without it).
    pub fn submit<T, E>(&self, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DieselError>,
    {
        let (ran, settled) = self.hold(|conn| {
            let (ran, broken) = in_savepoint(conn, f, Result::is_ok);
            (ran, 1, broken)
        })?;
        match ran {
            Err(panic) => resume_unwind(panic),
            Ok(Err(e)) => Err(e),
            Ok(Ok(value)) => settled.wait().map(|()| value).map_err(failed),
        }
    }

    /// Takes the writer connection in arrival order, opens a batch unless one is open, lets
    /// `run` write (it says how many writes it added and whether the transaction broke), then
    /// commits unless another writer is already waiting to join.
    pub(super) fn hold<R>(
        &self,
        run: impl FnOnce(&mut DbConn) -> (R, usize, Option<DieselError>),
    ) -> Result<(R, Arc<Settled>), DieselError> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut writer = self.writer.lock();
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let Writer { conn, open } = &mut *writer;
        let conn = match conn {
            Some(conn) => conn,
            None => conn.insert(open_writer(&self.url, self.nudge.is_some(), &self.statements)?),
        };
        if open.is_none() {
            begin_immediate(conn)?;
        }
        let batch = open.get_or_insert_with(|| Batch { writes: 0, settled: Arc::default() });
        let settled = Arc::clone(&batch.settled);
        let (result, writes, broken) = run(conn);
        batch.writes += writes;
        if broken.is_some() || batch.writes >= MAX_BATCH || self.waiting.load(Ordering::SeqCst) == 0 {
            let end = match broken {
                Some(e) => {
                    // SQLite ends the whole transaction on some errors (a full disk, I/O): the
                    // batch is lost, and every write in it is answered with the error.
                    let _ = Tm::rollback_transaction(conn);
                    Err(format!("the write transaction broke: {e}"))
                }
                None => Tm::commit_transaction(conn).map_err(|e| format!("the batch did not commit: {e}")),
            };
            if end.is_err() && !is_idle(conn) {
                writer.conn = None;
            }
            writer.open = None;
            if let (Ok(()), Some(nudge)) = (&end, &self.nudge) {
                // Full means a nudge is pending already.
                let _ = nudge.try_send(());
            }
            settled.set(end);
        }
        Ok((result, settled))
    }
}

/// Runs `f` in a savepoint, released if `ok` says it succeeded, rolled back otherwise or if it
/// panics. The second value is the error that broke the enclosing transaction, if one did.
pub(super) fn in_savepoint<R>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> R,
    ok: impl Fn(&R) -> bool,
) -> (Result<R, Box<dyn Any + Send>>, Option<DieselError>) {
    if let Err(e) = Tm::begin_transaction(conn) {
        return (Err(Box::new(format!("cannot open a savepoint: {e}"))), Some(e));
    }
    let ran = catch_unwind(AssertUnwindSafe(|| f(&mut *conn)));
    let end = match &ran {
        Ok(r) if ok(r) => Tm::commit_transaction(conn),
        _ => Tm::rollback_transaction(conn),
    };
    (ran, end.err())
}

/// The writer connection: its own statement journal in memory (every write is a savepoint of
/// the batch, and each page it changes is first copied there) and a larger page cache, since it
/// is the one connection that keeps its cache between transactions.
///
/// With a checkpointer, the writer's own automatic checkpoint moves from every 1,000 WAL pages to
/// every 16,384: by then the checkpointer has copied nearly all of them, so the writer's checkpoint
/// finds little left to copy, and being complete it lets the next write start the WAL over. The
/// checkpointer alone cannot: under a steady stream of batches it is always a few frames behind,
/// and the WAL grew past a gigabyte in a minute of writes. `journal_size_limit` then gives the
/// disk back after a burst.
fn open_writer(url: &str, checkpointer: bool, statements: &StatementCount) -> Result<DbConn, DieselError> {
    let mut conn = DbConn::open(url).map_err(|e| failed::<DieselError>(format!("cannot open the writer: {e}")))?;
    conn.batch_execute("PRAGMA temp_store = MEMORY; PRAGMA cache_size = -8192; PRAGMA journal_size_limit = 67108864;")?;
    if checkpointer {
        conn.batch_execute("PRAGMA wal_autocheckpoint = 16384;")?;
    }
    conn.set_instrumentation(statements.instrumentation());
    Ok(conn)
}

/// Begins a transaction that takes the write lock up front on SQLite (`BEGIN IMMEDIATE`): a
/// deferred one that reads first and writes later fails at once with SQLITE_BUSY when another
/// writer got in between. On PostgreSQL a plain `BEGIN`.
/// The shared advisory lock every write transaction holds on PostgreSQL, named after the schema
/// (so apps in different schemas of one database do not hold back each other's feed); the horizon
/// function in the migrations finds the running writers by it (see `sync::horizon`).
pub(super) const FEED_LOCK: &str = "hashtext('outreach feed ' || current_schema()) & 2147483647";

pub(super) fn begin_immediate(conn: &mut DbConn) -> Result<(), DieselError> {
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE"),
        // Every write transaction is a writer of the change feed from its first statement,
        // before it can take an id (`sync::horizon`); the lock is shared, so no writer waits.
        DbConn::Postgres(c) => AnsiTransactionManager::begin_transaction_sql(
            c,
            &format!("BEGIN; SELECT pg_advisory_xact_lock_shared({FEED_LOCK})"),
        ),
    }
}

/// Out of any transaction, with a transaction manager that trusts its state.
fn is_idle(conn: &mut DbConn) -> bool {
    matches!(Tm::transaction_manager_status_mut(conn).transaction_depth(), Ok(None))
}

/// A connection already inside a transaction runs a nested write as a savepoint of it.
pub(super) fn in_transaction(conn: &mut DbConn) -> bool {
    !is_idle(conn)
}

/// An error with `message`, as diesel reports one of the database's own.
pub(super) fn failed<E: From<DieselError>>(message: String) -> E {
    DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message)).into()
}

#[cfg(test)]
impl Lane {
    /// Whether a batch is open on the writer connection (left uncommitted).
    pub(super) fn batch_open(&self) -> bool {
        self.writer.lock().open.is_some()
    }
}
