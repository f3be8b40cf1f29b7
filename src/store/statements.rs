//! How many SQL statements a database has run: the one number that shows an N+1.
//!
//! Each [`super::Db`] owns one [`StatementCount`], and every connection it opens — the pool's and,
//! on SQLite, the group-commit writer's — reports to it through diesel's instrumentation hook: a
//! statement is one `StartQuery` event (`BEGIN`, `COMMIT` and savepoints included), counted with a
//! relaxed atomic increment, which is all production pays. Nothing in the server reads the count.
//!
//! Why a count per database and not per request: a request's statements run on pool threads and
//! sometimes on the writer thread, never on the request's own task, so a per-request count would
//! have to carry the request into every `Db::run` closure (a task-local read on every database
//! call, and a header or setting that exists only for tests). Instead the black-box tests
//! (`tests/api/query_counts.rs`) read [`super::Db::statements`] through `AppState` just before and
//! just after one request, with nothing else talking to their private database in between: the
//! difference is exactly that request's statements. The number means nothing on a server that
//! serves requests concurrently, and nothing there looks at it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use diesel::connection::{Instrumentation, InstrumentationEvent};

/// The statements run on a database's connections since it was opened (see the module doc).
#[derive(Debug, Clone, Default)]
pub struct StatementCount(Arc<AtomicU64>);

impl StatementCount {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// What a connection reports to; installed with `Connection::set_instrumentation` once the
    /// connection is open (its opening `PRAGMA`s are not counted).
    pub fn instrumentation(&self) -> impl Instrumentation {
        Counter(Arc::clone(&self.0))
    }
}

struct Counter(Arc<AtomicU64>);

impl Instrumentation for Counter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { .. } = event {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}
