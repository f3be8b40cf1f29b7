//! Migrations are append-only once landed: a database migrated by an earlier release never runs a
//! changed migration again (diesel records versions, not contents), so an edit to a landed one
//! reaches new databases only and leaves every upgraded one without it. `migrations/landed.sha256`
//! holds the SHA-256 of every migration's `up.sql` and `down.sql`; this test fails when a file and
//! its line disagree, when a listed file is gone, or when a migration is not listed.
//!
//! A line may change only while its migration has not landed on main (a new migration in the
//! commit that adds it). Every other fix is a new migration.
//!
//! The two backends keep the same versions, so `__diesel_schema_migrations` means the same on both.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

const BACKENDS: [&str; 2] = ["postgres", "sqlite"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `backend/version_name/file` → hex SHA-256, as on disk.
fn on_disk() -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    for backend in BACKENDS {
        for entry in fs::read_dir(root().join("migrations").join(backend)).unwrap() {
            let dir = entry.unwrap().path();
            if !dir.is_dir() {
                continue;
            }
            let name = dir.file_name().unwrap().to_str().unwrap().to_owned();
            for file in ["up.sql", "down.sql"] {
                let bytes = fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{backend}/{name}/{file}: {e}"));
                let hash: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
                files.insert(format!("{backend}/{name}/{file}"), hash);
            }
        }
    }
    files
}

fn listed() -> BTreeMap<String, String> {
    let text = fs::read_to_string(root().join("migrations/landed.sha256")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (hash, path) = l.split_once("  ").unwrap_or_else(|| panic!("malformed line: {l}"));
            (path.to_owned(), hash.to_owned())
        })
        .collect()
}

#[test]
fn landed_migrations_are_unchanged() {
    let disk = on_disk();
    let list = listed();
    let mut problems = Vec::new();
    for (path, hash) in &list {
        match disk.get(path) {
            None => problems.push(format!("{path}: listed but gone (never delete a migration)")),
            Some(h) if h != hash => problems.push(format!(
                "{path}: changed since it was listed — write a new migration instead \
                 (only a migration that has not landed yet may have its line updated)"
            )),
            Some(_) => {}
        }
    }
    for path in disk.keys().filter(|p| !list.contains_key(*p)) {
        problems.push(format!("{path}: not in migrations/landed.sha256 (add its line)"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn both_backends_have_the_same_versions() {
    let versions = |backend: &str| -> BTreeSet<String> {
        on_disk()
            .keys()
            .filter_map(|p| p.strip_prefix(&format!("{backend}/")))
            .map(|p| p.split('/').next().unwrap().to_owned())
            .collect()
    };
    assert_eq!(versions("postgres"), versions("sqlite"));
}
