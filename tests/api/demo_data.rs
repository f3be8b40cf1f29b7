//! The demo's data, seeded once and copied into the sandboxes of the tests that serve it.
//!
//! A debug build seeds the demo in about 9 s on SQLite and 25 s on PostgreSQL, and more beside a
//! busy suite. The tests that need a demo server only to have realistic data to act on (hostile
//! bodies, the crash test) copy a seeded one; `serve --demo` then finds its database seeded and
//! starts at once. The test of the seeding itself (`cli::the_demo_serves_logins…`) still seeds
//! into an empty database.
//!
//! The seeded copy is keyed by the binary (its size and time) and the day in Beijing (the demo's
//! visits are dated back from today), made under a lock so that parallel test processes (nextest
//! runs each test in its own) seed it once: on SQLite a data directory under the target's test
//! temporary directory, on PostgreSQL a template database.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, UNIX_EPOCH};

use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::cli::{BIN, free_port};

/// Names this build's demo for today: `demo_<hex>`.
fn key() -> String {
    let meta = fs::metadata(BIN).expect("the outreach binary");
    let built = meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
    let day = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in format!("{}:{built}:{day}", meta.len()).bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("demo_{hash:016x}")
}

/// Runs `serve --demo` on `data_dir` (and `database_url`, when given) until it answers, then stops it.
fn seed(data_dir: &Path, database_url: Option<&str>) {
    let port = free_port();
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("OUTREACH_DATA_DIR", data_dir)
        .env("OUTREACH_BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .args(["serve", "--demo"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    let mut child = cmd.spawn().expect("start the demo server");
    // The server answers only once the seed is in (it seeds before it serves).
    let up = (0..6000).any(|_| {
        let answered = TcpStream::connect(("127.0.0.1", port)).ok().and_then(|mut s| {
            s.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").ok()?;
            let mut head = String::new();
            s.read_to_string(&mut head).ok()?;
            Some(head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"))
        });
        answered == Some(true) || {
            std::thread::sleep(Duration::from_millis(50));
            false
        }
    });
    assert!(up, "the demo server did not come up");
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill").success());
    assert!(child.wait().expect("the demo server's exit").success(), "the demo server did not stop cleanly");
}

/// A lock held while the demo is seeded, shared by every test process of this target directory.
fn lock() -> File {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("demo.lock");
    let file = File::options().create(true).truncate(false).write(true).open(path).expect("demo lock file");
    file.lock().expect("take the demo lock");
    file
}

/// Copies a seeded SQLite demo (database, media, secret) into `data_dir`.
pub fn copy_sqlite_demo(data_dir: &Path) {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let seeded = root.join(key());
    if !seeded.join("outreach.db").is_file() {
        let _guard = lock();
        if !seeded.join("outreach.db").is_file() {
            let fresh = root.join(format!("{}.seeding", key()));
            let _ = fs::remove_dir_all(&fresh);
            fs::create_dir_all(&fresh).expect("demo seed directory");
            seed(&fresh, None);
            let _ = fs::remove_file(fresh.join("outreach.lock"));
            fs::rename(&fresh, &seeded).expect("keep the seeded demo");
            // Earlier builds' and days' demos.
            for old in fs::read_dir(&root).into_iter().flatten().flatten() {
                let name = old.file_name().to_string_lossy().into_owned();
                if name.starts_with("demo_") && old.path() != seeded {
                    let _ = fs::remove_dir_all(old.path());
                }
            }
        }
    }
    copy_dir(&seeded, data_dir);
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create directory");
    for entry in fs::read_dir(from).expect("read the seeded demo") {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy the seeded demo");
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// Makes database `name` on the server of `server_url` as a copy of a seeded demo database, and
/// answers its URL.
pub fn create_pg_demo(server_url: &str, name: &str) -> String {
    let template = format!("outreach_{}", key());
    let base = server_url.split('?').next().unwrap_or(server_url);
    let base = base.rsplit_once('/').map_or(base, |(base, _)| base);
    let mut conn = PgConnection::establish(server_url).expect("PostgreSQL");
    let demos = |conn: &mut PgConnection| -> Vec<String> {
        diesel::sql_query("SELECT datname::text AS name FROM pg_database WHERE datname LIKE 'outreach\\_demo\\_%'")
            .load::<Name>(conn)
            .expect("list the demo templates")
            .into_iter()
            .map(|n| n.name)
            .collect()
    };
    let exists = |conn: &mut PgConnection| demos(conn).contains(&template);
    if !exists(&mut conn) {
        let _guard = lock();
        if !exists(&mut conn) {
            let seeding = format!("{template}_seeding");
            diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{seeding}\" WITH (FORCE)"))
                .execute(&mut conn)
                .unwrap();
            diesel::sql_query(format!("CREATE DATABASE \"{seeding}\"")).execute(&mut conn).unwrap();
            let dir = tempfile::tempdir().expect("temp dir");
            seed(dir.path(), Some(&format!("{base}/{seeding}?sslmode=disable")));
            diesel::sql_query(format!("ALTER DATABASE \"{seeding}\" RENAME TO \"{template}\""))
                .execute(&mut conn)
                .unwrap();
            // Earlier builds' and days' demos: dropped unless a test still copies one.
            for old in demos(&mut conn).into_iter().filter(|d| *d != template && !d.ends_with("_seeding")) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{old}\"")).execute(&mut conn);
            }
        }
    }
    diesel::sql_query(format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""))
        .execute(&mut conn)
        .expect("copy the demo database");
    format!("{base}/{name}?sslmode=disable")
}
