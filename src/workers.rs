//! A fixed set of named threads for blocking work: the database's (one per pooled connection)
//! and the photo intake's (one per decode allowed at once).
//!
//! Such work used to go to the async runtime's blocking pool. Each actix worker has its own runtime
//! and so its own pool, whose threads come and go (idle ones live 10 s): a run of 64 clients left
//! 46 threads, each with the allocator's per-thread heap holding what its requests had freed,
//! and the server's private memory went from 180 to 470 MiB during one nearby scenario. A fixed
//! set keeps that to one heap per thread that may need it, each hot in its caches.

use std::panic::{AssertUnwindSafe, catch_unwind};

/// The job did not finish: it panicked, or the threads are gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Canceled;

type Job = Box<dyn FnOnce() + Send>;

/// Runs closures on `n` named threads; the threads end when the last handle is dropped.
#[derive(Clone)]
pub struct Workers {
    jobs: crossbeam_channel::Sender<Job>,
}

impl Workers {
    pub fn start(n: usize, name: &str) -> std::io::Result<Workers> {
        let (jobs, queued) = crossbeam_channel::unbounded::<Job>();
        for i in 0..n.max(1) {
            let queued = queued.clone();
            std::thread::Builder::new().name(format!("{name}-{i}")).spawn(move || {
                for job in queued.iter() {
                    // A panic ends the job (its caller sees it canceled), not the thread.
                    let _ = catch_unwind(AssertUnwindSafe(job));
                }
            })?;
        }
        Ok(Workers { jobs })
    }

    /// Runs `f` on one of the threads. Callers bound how many wait (a semaphore of their own).
    pub async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, Canceled> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = answer.send(f());
            }))
            .map_err(|_| Canceled)?;
        answered.await.map_err(|_| Canceled)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn work_runs_on_the_named_threads_and_a_panic_cancels_only_its_job() {
        let workers = Workers::start(2, "db-test").unwrap();
        let name = workers.run(|| std::thread::current().name().map(str::to_owned)).await.unwrap();
        assert!(name.is_some_and(|n| n.starts_with("db-test-")));
        let panicked = workers.run(|| -> u8 { panic!("a job panics") }).await;
        assert_eq!(panicked, Err(Canceled));
        let after: Vec<u32> = futures_util::future::join_all((0..10).map(|i| workers.run(move || i * 2)))
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(after, (0..10).map(|i| i * 2).collect::<Vec<_>>());
    }
}
