//! [`DbConn::write_tx`], the one way store code writes, and the path a write takes:
//!
//! - inside a transaction already, a savepoint of it;
//! - on SQLite, on a thread running a [`super::Db`]'s work ([`super::Db::run`], which enters the
//!   database's lane: see [`super::current_lane`]), a savepoint of the batch open on the lane's
//!   writer connection, answered once that batch has committed (see [`super::lane`]). Every write
//!   of the server, of the demo seeder and of the commands but `bench seed` comes this way; whole writes handed to the lane's
//!   writer thread ([`super::Db::write`], see [`super::group_commit`]) take the same lane;
//! - otherwise a transaction of its own: on PostgreSQL a plain one (the server takes concurrent
//!   writers itself); on SQLite one begun with `BEGIN IMMEDIATE`, so the write lock is taken up
//!   front (a deferred transaction that reads first and writes later fails at once with
//!   SQLITE_BUSY when another writer got in between), waiting for other writers in SQLite's busy
//!   handler. This is the bench seeder's and the benchmarks' bulk loads, on a connection from
//!   [`super::Db::get`].
//!
//! Why the bulk loads do not join the lane as well: they write 20,000 rows a transaction, one
//! thread alone, with no one to share a commit with, and in the lane each would be a savepoint of
//! its batch on the writer connection, whose statement journal keeps a copy of every page the
//! savepoint changes (the likely cost; not profiled). Measured on
//! `outreach bench seed --scale 0.1` (debug build, alternating runs): 30 % longer, a fifth more
//! CPU in the process and nearly twice the system time. Nor do they queue on a process-wide lock
//! of their own, as they once did: one thread writes, nothing else in the process writes outside
//! a lane, and the lanes' writers queue on their lanes: such a lock would have no one to order.

use diesel::connection::{Connection, TransactionManager};

use super::DbConn;
use super::current_lane;
use super::lane::{begin_immediate, in_transaction};

impl DbConn {
    /// A transaction that intends to write (see the module doc for the path it takes). Inside a
    /// transaction already, it is a savepoint; on SQLite inside [`super::Db::run`], it joins
    /// its database's lane and returns once the batch that holds it has committed; otherwise a transaction of its own, on SQLite begun with
    /// `BEGIN IMMEDIATE` so the write lock is taken up front.
    pub fn write_tx<T, E>(&mut self, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<diesel::result::Error>,
    {
        if in_transaction(self) {
            return self.transaction(f);
        }
        if let (DbConn::Sqlite(_), Some(lane)) = (&*self, current_lane::current()) {
            return lane.submit(f);
        }
        begin_immediate(self)?;
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

/// The write path end to end: `write_tx` through a lane, and whole writes through the writer
/// thread.
#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    use diesel::connection::SimpleConnection;
    use diesel::result::Error as DieselError;
    use diesel::sql_types::BigInt;
    use diesel::{QueryableByName, RunQueryDsl};

    use super::super::current_lane::enter;
    use super::super::group_commit::GroupCommit;
    use super::super::lane::Lane;
    use super::super::statements::StatementCount;
    use super::*;
    use crate::store::StoreError;

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
        assert!(!lane.batch_open());
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
