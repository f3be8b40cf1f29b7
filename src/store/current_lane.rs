//! Which database's lane a thread is writing for.
//!
//! Connections do not know the `Db` they came from, and store functions take a bare connection:
//! the work of a [`super::Db`] runs with its lane entered on the thread ([`super::Db::run`]), and
//! this is how `write_tx` finds its own database's queue. Entered for the length of one call and
//! put back when it returns, so no thread is left writing into a database whose work it is no
//! longer running.

use std::cell::RefCell;
use std::sync::Arc;

use super::lane::Lane;

thread_local! {
    /// The lane of the database whose work this thread is running.
    static CURRENT: RefCell<Option<Arc<Lane>>> = const { RefCell::new(None) };
}

/// Makes `lane` the one `write_tx` uses on this thread until the guard drops.
pub(super) fn enter(lane: Option<Arc<Lane>>) -> Entered {
    Entered { previous: CURRENT.with(|c| c.replace(lane)) }
}

pub(super) fn current() -> Option<Arc<Lane>> {
    CURRENT.with(|c| c.borrow().clone())
}

pub(super) struct Entered {
    previous: Option<Arc<Lane>>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}
