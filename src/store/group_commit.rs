//! What a SQLite [`super::Db`] holds to write: its lane (see [`super::lane`]) and a writer thread
//! that runs whole writes handed to it ([`super::Db::write`]), back to back, in the lane's batches.
//!
//! The same lane as `write_tx` takes, with the same savepoints, batches, [`MAX_BATCH`] cap and
//! answers after the commit; the thread is a second way into it, not a second path. It stays
//! because it is faster where writes come in bursts (visits, registrations, check-ins): with each
//! write joining the lane from its own database thread, the batch passed from thread to thread
//! and every write cost a wake-up and a context switch, and the writer's chain, not the CPU, was
//! the limit (docs/PERFORMANCE.md: 1,208 → 1,795 visits/s). Such a write must be `'static` and
//! `Send`; `write_tx` closures, called deep inside domain code and borrowing from their stack,
//! could not be handed over, so they join the lane on their own thread.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use diesel::result::Error as DieselError;

use super::lane::{Lane, MAX_BATCH, failed, in_savepoint};
use super::statements::StatementCount;
use super::{DbConn, StoreError};

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

/// Runs `jobs` one after another, each in its own savepoint, with no other thread taking the
/// connection between them; then delivers each one's answer once its batch has settled.
fn run_jobs(lane: &Lane, jobs: &mut Vec<Job>) {
    let ran = lane.hold(|conn| {
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

fn panic_message(panic: &Box<dyn Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

/// The lane of a SQLite database and the channel to the thread that runs whole writes handed to
/// it by [`super::Db::write`]. Dropping the last `Db` clone ends the thread.
pub struct GroupCommit {
    lane: Arc<Lane>,
    jobs: tokio::sync::mpsc::Sender<Job>,
}

/// Writes that may wait for the writer thread; beyond, a write waits to be queued (and is refused
/// after the pool's patience), so a flood cannot grow memory without bound.
const QUEUE: usize = 4096;

impl GroupCommit {
    pub fn start(url: &str, statements: StatementCount) -> Result<GroupCommit, StoreError> {
        let lane = Arc::new(Lane::start(url, statements)?);
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
                    run_jobs(&writer, &mut batch);
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
