//! The WAL checkpointer: a thread per SQLite database that copies committed WAL frames back into
//! the database file beside the writer, nudged by its lane's commits (see [`super::lane`]).

use std::sync::mpsc::{Receiver, SyncSender};
use std::time::Duration;

use diesel::connection::SimpleConnection;

use super::{DbConn, StoreError};

/// Starts the checkpointer of the database at `url`; it ends when the returned sender (held by
/// the lane) is dropped.
pub(super) fn start(url: &str) -> Result<SyncSender<()>, StoreError> {
    let (nudge, nudged) = std::sync::mpsc::sync_channel(1);
    let checkpoints = url.to_owned();
    std::thread::Builder::new()
        .name("sqlite-checkpoint".to_owned())
        .spawn(move || checkpointer(&checkpoints, &nudged))
        .map_err(|e| StoreError::Migration(format!("cannot start the SQLite checkpointer: {e}")))?;
    Ok(nudge)
}

/// Copies committed WAL frames back into the database file, on its own connection and thread.
/// SQLite's automatic checkpoint runs inside the commit that crosses 1,000 WAL pages, with an
/// `fsync`: a tenth of the writer's time under a burst, during which no one could write. A
/// passive checkpoint here runs beside the writer and never blocks it; nudged after commits, it
/// waits a moment so that one checkpoint covers many batches. Ends when its lane is dropped.
/// (The writer still completes a checkpoint now and then: see `open_writer` in [`super::lane`].)
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
