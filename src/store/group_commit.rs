//! Group commit for SQLite: concurrent write transactions of one database share one commit.
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
//! Each writer runs its own closure on its own thread: only the connection moves between threads,
//! so callers keep `write_tx(|conn| …)` closures that borrow from their stack.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, Connection, SimpleConnection, TransactionManager};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use parking_lot::{Condvar, FairMutex, Mutex};

use super::statements::StatementCount;
use super::{DbConn, StoreError};

type Tm = <DbConn as Connection>::TransactionManager;

/// Writes one commit may carry, so a steady stream of writers cannot keep a batch open (and its
/// first writer unanswered) indefinitely.
const MAX_BATCH: usize = 64;

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
struct Settled {
    result: Mutex<Option<Result<(), String>>>,
    wake: Condvar,
}

impl Settled {
    fn set(&self, result: Result<(), String>) {
        *self.result.lock() = Some(result);
        self.wake.notify_all();
    }

    fn wait(&self) -> Result<(), String> {
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

    /// Runs `jobs` one after another, each in its own savepoint, with no other thread taking
    /// the connection between them; then delivers each one's answer once its batch has settled.
    fn run_jobs(&self, jobs: &mut Vec<Job>) {
        let ran = self.hold(|conn| {
            let mut ran = Vec::with_capacity(jobs.len());
            let mut broken = None;
            for job in jobs.drain(..) {
                let (result, error) = in_savepoint(conn, |conn| job(Ok(conn)), |r: &Ran| r.ok);
                ran.push(result);
                if error.is_some() {
                    broken = error;
                    break;
                }
            }
            let n = ran.len();
            (ran, n, broken)
        });
        // Jobs the broken transaction did not reach are answered with its error, like the rest.
        let unreached = std::mem::take(jobs);
        match ran {
            Ok((ran, settled)) => {
                let end = settled.wait();
                for result in ran {
                    match result {
                        Ok(ran) => (ran.deliver)(if ran.ok { end.clone() } else { Ok(()) }),
                        // The panic is reported here; its caller gets an error, not a hang.
                        Err(panic) => tracing::error!(panic = panic_message(&panic), "a write panicked"),
                    }
                }
                let end = end.and(Err("the write transaction broke before this write".to_owned()));
                for job in unreached {
                    refuse(job, end.clone());
                }
            }
            Err(e) => {
                for job in unreached {
                    refuse(job, Err(format!("cannot begin the batch: {e}")));
                }
            }
        }
    }

    /// Takes the writer connection in arrival order, opens a batch unless one is open, lets
    /// `run` write (it says how many writes it added and whether the transaction broke), then
    /// commits unless another writer is already waiting to join.
    fn hold<R>(
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

/// A write handed to the lane's writer thread. Given the connection, it runs, says whether it
/// succeeded, and keeps its answer until the batch has settled; given an error instead (the
/// transaction broke before its turn), it answers with it at once.
type Job = Box<dyn FnOnce(Result<&mut DbConn, String>) -> Ran + Send>;

struct Ran {
    ok: bool,
    /// Sends the answer; given the batch's end when the write succeeded.
    deliver: Box<dyn FnOnce(Result<(), String>) + Send>,
}

fn refuse(job: Job, end: Result<(), String>) {
    let message = end.err().unwrap_or_else(|| "the write did not run".to_owned());
    (job(Err(message)).deliver)(Ok(()));
}

/// Runs `f` in a savepoint, released if `ok` says it succeeded, rolled back otherwise or if it
/// panics. The second value is the error that broke the enclosing transaction, if one did.
fn in_savepoint<R>(
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

fn panic_message(panic: &Box<dyn Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

/// What a [`super::Db`] holds: the lane, and the channel to the thread that runs whole writes
/// handed to it by [`super::Db::write`]. Dropping the last `Db` clone ends the thread.
pub struct GroupCommit {
    lane: Arc<Lane>,
    jobs: tokio::sync::mpsc::Sender<Job>,
}

/// Writes that may wait for the writer thread; beyond, a write waits to be queued (and is refused
/// after the pool's patience), so a flood cannot grow memory without bound.
const QUEUE: usize = 4096;

impl GroupCommit {
    pub fn start(url: &str, statements: StatementCount) -> Result<GroupCommit, StoreError> {
        let (nudge, nudged) = std::sync::mpsc::sync_channel(1);
        let checkpoints = url.to_owned();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".to_owned())
            .spawn(move || checkpointer(&checkpoints, &nudged))
            .map_err(|e| StoreError::Migration(format!("cannot start the SQLite checkpointer: {e}")))?;
        let lane = Arc::new(Lane { nudge: Some(nudge), statements, ..Lane::new(url) });
        let (jobs, mut queued) = tokio::sync::mpsc::channel::<Job>(QUEUE);
        let writer = Arc::clone(&lane);
        std::thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || {
                // Whatever queued while the last batch ran is the next batch: writes that arrive
                // together commit together, and a lone write is not held back waiting for company.
                let mut batch = Vec::with_capacity(MAX_BATCH);
                while let Some(job) = queued.blocking_recv() {
                    batch.push(job);
                    while batch.len() < MAX_BATCH {
                        let Ok(job) = queued.try_recv() else { break };
                        batch.push(job);
                    }
                    writer.run_jobs(&mut batch);
                }
            })
            .map_err(|e| StoreError::Migration(format!("cannot start the SQLite writer thread: {e}")))?;
        Ok(GroupCommit { lane, jobs })
    }

    pub fn lane(&self) -> Arc<Lane> {
        Arc::clone(&self.lane)
    }

    /// Runs `f` on the writer thread inside the next batch; answers once the batch has committed.
    pub async fn write<T, E, F>(&self, f: F, patience: Duration) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |conn| match conn {
            Err(message) => {
                let _ = answer.send(Err(StoreError::from(failed::<DieselError>(message)).into()));
                Ran { ok: false, deliver: Box::new(|_| {}) }
            }
            Ok(conn) => {
                let result = f(conn);
                Ran {
                    ok: result.is_ok(),
                    deliver: Box::new(move |end| {
                        let answer_ = match end {
                            Ok(()) => result,
                            Err(message) => Err(StoreError::from(failed::<DieselError>(message)).into()),
                        };
                        let _ = answer.send(answer_);
                    }),
                }
            }
        });
        match tokio::time::timeout(patience, self.jobs.send(job)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(StoreError::Canceled.into()),
            Err(_) => return Err(StoreError::Saturated(patience).into()),
        }
        // Dropped unanswered only if the write panicked (logged by the writer thread).
        answered.await.unwrap_or_else(|_| Err(StoreError::Canceled.into()))
    }
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

/// Copies committed WAL frames back into the database file, on its own connection and thread.
/// SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages, with an
/// `fsync`: a tenth of the writer's time under a burst, during which no one could write. A
/// passive checkpoint here runs beside the writer and never blocks it; nudged after commits, it
/// waits a moment so that one checkpoint covers many batches. Ends when its lane is dropped.
/// (The writer still completes a checkpoint now and then: see `open_writer`.)
fn checkpointer(url: &str, nudged: &Receiver<()>) {
    let mut conn: Option<DbConn> = None;
    while nudged.recv().is_ok() {
        std::thread::sleep(Duration::from_millis(25));
        while nudged.try_recv().is_ok() {}
        let c = match &mut conn {
            Some(c) => c,
            None => match DbConn::open(url) {
                Ok(c) => conn.insert(c),
                Err(e) => {
                    tracing::warn!(error = %e, "checkpointer cannot open the database");
                    continue;
                }
            },
        };
        if let Err(e) = c.batch_execute("PRAGMA wal_checkpoint(PASSIVE);") {
            tracing::warn!(error = %e, "WAL checkpoint failed");
            conn = None;
        }
    }
}

fn begin_immediate(conn: &mut DbConn) -> Result<(), DieselError> {
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE"),
        DbConn::Postgres(c) => AnsiTransactionManager::begin_transaction(c),
    }
}

/// Out of any transaction, with a transaction manager that trusts its state.
fn is_idle(conn: &mut DbConn) -> bool {
    matches!(Tm::transaction_manager_status_mut(conn).transaction_depth(), Ok(None))
}

/// A connection already inside a transaction runs a nested write as a savepoint of it.
pub fn in_transaction(conn: &mut DbConn) -> bool {
    !is_idle(conn)
}

fn failed<E: From<DieselError>>(message: String) -> E {
    DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message)).into()
}

thread_local! {
    /// The lane of the database whose work this thread is running ([`super::Db::run`] sets it).
    /// Connections do not know the `Db` they came from, and store functions take a bare
    /// connection: this is how `write_tx` finds its own database's queue.
    static CURRENT: RefCell<Option<Arc<Lane>>> = const { RefCell::new(None) };
}

/// Makes `lane` the one `write_tx` uses on this thread until the guard drops.
pub fn enter(lane: Option<Arc<Lane>>) -> Entered {
    Entered { previous: CURRENT.with(|c| c.replace(lane)) }
}

pub fn current() -> Option<Arc<Lane>> {
    CURRENT.with(|c| c.borrow().clone())
}

pub struct Entered {
    previous: Option<Arc<Lane>>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Barrier;

    use diesel::connection::SimpleConnection;
    use diesel::sql_types::BigInt;
    use diesel::{QueryableByName, RunQueryDsl};

    use super::*;

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn count(conn: &mut DbConn, sql: &str) -> i64 {
        diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
    }

    fn database() -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("lane.db").display().to_string();
        DbConn::open(&url).unwrap().batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE)").unwrap();
        (dir, url)
    }

    fn insert(conn: &mut DbConn, id: i64, k: &str) -> Result<(), DieselError> {
        diesel::sql_query(format!("INSERT INTO t (id, k) VALUES ({id}, '{k}')")).execute(conn).map(|_| ())
    }

    /// Many writers at once: each success is committed, each failure rolled back alone (its
    /// first insert too), a panic rolls back its own write and reaches its own caller.
    #[test]
    fn concurrent_writes_commit_together_and_fail_alone() {
        let (_dir, url) = database();
        let lane = Arc::new(Lane::new(&url));
        let threads = 32;
        let start = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads as i64)
            .map(|i| {
                let (lane, start, url) = (Arc::clone(&lane), Arc::clone(&start), url.clone());
                std::thread::spawn(move || {
                    let mut own = DbConn::open(&url).unwrap();
                    let _entered = enter(Some(lane));
                    start.wait();
                    catch_unwind(AssertUnwindSafe(|| {
                        own.write_tx(|conn| {
                            insert(conn, i, &format!("k{i}"))?;
                            insert(conn, 1000 + i, &format!("extra{i}"))?;
                            match i % 4 {
                                // The same key twice: a constraint error, after two good inserts.
                                1 => insert(conn, 2000 + i, &format!("k{i}")),
                                2 if i == 2 => panic!("writer {i} panics"),
                                _ => Ok(()),
                            }
                        })
                    }))
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        for (i, result) in results.iter().enumerate() {
            match (i % 4, i) {
                (2, 2) => assert!(result.is_err(), "writer 2's panic reaches its caller"),
                (1, _) => assert!(matches!(result, Ok(Err(_))), "writer {i} fails alone"),
                _ => assert!(matches!(result, Ok(Ok(()))), "writer {i} commits"),
            }
        }
        let mut conn = DbConn::open(&url).unwrap();
        let committed = results.iter().filter(|r| matches!(r, Ok(Ok(())))).count() as i64;
        assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM t"), committed * 2);
        assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM t WHERE id % 4 = 1 OR id = 2 OR id = 1002"), 0);
        assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM t WHERE id >= 2000"), 0);
    }

    /// The answer comes after the commit: a write that returned is visible to a new connection,
    /// and the writer connection is out of its transaction when no one else is writing.
    #[test]
    fn a_write_is_committed_when_it_returns() {
        let (_dir, url) = database();
        let lane = Arc::new(Lane::new(&url));
        let _entered = enter(Some(Arc::clone(&lane)));
        let mut own = DbConn::open(&url).unwrap();
        for i in 0..3 {
            own.write_tx(|conn| insert(conn, i, &format!("k{i}"))).unwrap();
            assert_eq!(count(&mut DbConn::open(&url).unwrap(), "SELECT count(*) AS n FROM t"), i + 1);
        }
        assert!(lane.writer.lock().open.is_none());
        // Nested: a savepoint of the transaction it is in, not a second queue entry (a deadlock).
        own.write_tx(|conn| conn.write_tx(|conn| insert(conn, 10, "nested"))).unwrap();
        assert_eq!(count(&mut own, "SELECT count(*) AS n FROM t WHERE id = 10"), 1);
    }

    /// Whole writes handed to the writer thread: successes committed and answered, failures
    /// rolled back alone, a panic answered with an error, and the thread gone with its handle.
    #[test]
    fn the_writer_thread_commits_queued_writes_together() {
        let (_dir, url) = database();
        let group = Arc::new(GroupCommit::start(&url, StatementCount::default()).unwrap());
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let answers: Vec<Result<i64, StoreError>> = runtime.block_on(async {
            let writes = (0..200i64).map(|i| {
                let group = Arc::clone(&group);
                tokio::spawn(async move {
                    group
                        .write(
                            move |conn| {
                                conn.write_tx(|conn| insert(conn, i, &format!("k{i}")))?;
                                match i % 10 {
                                    3 => insert(conn, 5000 + i, "k0").map_err(StoreError::from)?,
                                    7 if i == 7 => panic!("write {i} panics"),
                                    _ => {}
                                }
                                Ok::<_, StoreError>(i)
                            },
                            Duration::from_secs(10),
                        )
                        .await
                })
            });
            let mut answers = Vec::new();
            for write in writes.collect::<Vec<_>>() {
                answers.push(write.await.unwrap());
            }
            answers
        });
        for (i, answer) in answers.iter().enumerate() {
            match (i % 10, i) {
                (3, _) => assert!(matches!(answer, Err(StoreError::UniqueViolation(_))), "write {i}: {answer:?}"),
                (7, 7) => assert!(matches!(answer, Err(StoreError::Canceled)), "write {i}: {answer:?}"),
                _ => assert_eq!(answer.as_ref().ok(), Some(&(i as i64))),
            }
        }
        let ok = answers.iter().filter(|a| a.is_ok()).count() as i64;
        let mut conn = DbConn::open(&url).unwrap();
        assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM t"), ok);
        assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM t WHERE id % 10 = 3 OR id = 7"), 0);
        let lane = group.lane();
        drop(group);
        // The thread held the other reference; it ends when the channel closes.
        for _ in 0..100 {
            if Arc::strong_count(&lane) == 1 {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("the writer thread outlived its handle");
    }
}
