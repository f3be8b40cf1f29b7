//! `outreach backup DIR` and `outreach restore DIR`: a consistent copy of the embedded database
//! and the media store, taken while the server runs, and brought back with every check first.
//!
//! Order matters for consistency. A photo's file is written (and synced) before the row that
//! names it commits, and files are never changed or deleted, so copying the media *after* the
//! database snapshot finds every file the snapshot names. With PostgreSQL the database is
//! `pg_dump`'s job (docs/BACKUP.md); the media and the token secret are still copied here.

mod files;
mod lock;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use files::MediaSummary;
pub use lock::DataDirLock;

use crate::context::config::Settings;
use crate::store::{Backend, DbConn, snapshot};

const FORMAT: u32 = 1;
const MANIFEST: &str = "backup.json";
const DATABASE: &str = "outreach.db";
const SECRET: &str = "jwt_secret";

/// `backup.json`: written last, so a directory without it is not a finished backup.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub created_at: DateTime<Utc>,
    pub outreach_version: String,
    /// The SQLite copy; `None` for a PostgreSQL deployment.
    pub database: Option<DatabaseCopy>,
    pub media: MediaSummary,
    pub jwt_secret: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DatabaseCopy {
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
    /// The newest migration in the copy.
    pub schema_version: Option<String>,
}

fn sqlite_path(settings: &Settings) -> Option<PathBuf> {
    let url = &settings.database_url;
    (Backend::of_url(url) == Backend::Sqlite).then(|| PathBuf::from(url.strip_prefix("sqlite://").unwrap_or(url)))
}

/// Takes a backup into `dir`, which must be new or empty.
pub fn backup(settings: &Settings, dir: &Path) -> anyhow::Result<Manifest> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
        ensure!(entries.next().is_none(), "{} is not empty; back up into a new directory", dir.display());
    }
    create_private_dir(dir)?;
    let database = match sqlite_path(settings) {
        Some(path) => Some(backup_database(&path, dir)?),
        None => None,
    };
    let media = files::copy_media(&settings.data_dir.join("media"), &dir.join("media"))?;
    let secret = settings.data_dir.join(SECRET);
    let jwt_secret = secret.exists();
    if jwt_secret {
        files::copy_durably(&secret, &dir.join(SECRET))?;
    }
    let manifest = Manifest {
        format: FORMAT,
        created_at: Utc::now(),
        outreach_version: env!("CARGO_PKG_VERSION").to_owned(),
        database,
        media,
        jwt_secret,
    };
    let tmp = dir.join(".backup.json.partial");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&manifest)?).context("writing the manifest")?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, dir.join(MANIFEST))?;
    files::sync_dir(dir)?;
    Ok(manifest)
}

fn backup_database(source: &Path, dir: &Path) -> anyhow::Result<DatabaseCopy> {
    ensure!(source.exists(), "no database at {}", source.display());
    let partial = dir.join(".outreach.db.partial");
    let mut conn = DbConn::open(&source.to_string_lossy()).context("opening the database")?;
    snapshot::snapshot_into(&mut conn, &partial).context("copying the database (VACUUM INTO)")?;
    drop(conn);
    let (schema_version, problems) = check_database(&partial)?;
    ensure!(problems.is_empty(), "the copy failed its integrity check: {}", problems.join("; "));
    std::fs::File::open(&partial)?.sync_all()?;
    let (sha256, bytes) = files::digest(&partial)?;
    std::fs::rename(&partial, dir.join(DATABASE))?;
    Ok(DatabaseCopy { file: DATABASE.to_owned(), bytes, sha256, schema_version })
}

/// The copy's newest migration and what `PRAGMA integrity_check` finds wrong (nothing: empty).
fn check_database(path: &Path) -> anyhow::Result<(Option<String>, Vec<String>)> {
    let mut conn = snapshot::open_read_only(path).context("opening the copy")?;
    let problems: Vec<String> = snapshot::integrity_check(&mut conn)?.into_iter().filter(|l| l != "ok").collect();
    let version = snapshot::schema_version(&mut conn)?;
    Ok((version, problems))
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    /// Where the database that was in place went, if there was one.
    pub moved_aside: Option<PathBuf>,
}

/// Restores `dir` into the configured data directory. Refuses while a server holds the data
/// directory, and refuses to replace a database unless `replace`; a replaced database is moved
/// aside, never deleted. Everything is checked before anything is touched.
pub fn restore(settings: &Settings, dir: &Path, replace: bool) -> anyhow::Result<Restored> {
    let raw = std::fs::read(dir.join(MANIFEST))
        .with_context(|| format!("{} holds no {MANIFEST}: not a finished backup", dir.display()))?;
    let manifest: Manifest = serde_json::from_slice(&raw).context("reading the backup manifest")?;
    ensure!(manifest.format == FORMAT, "backup format {} is not one this version reads ({FORMAT})", manifest.format);
    std::fs::create_dir_all(&settings.data_dir)?;
    let _lock = DataDirLock::acquire(&settings.data_dir)?;
    let target = sqlite_path(settings);
    match (&manifest.database, &target) {
        (Some(copy), Some(_)) => verify_database(dir, copy)?,
        (Some(_), None) => bail!("this backup holds a SQLite database, but DATABASE_URL names PostgreSQL"),
        (None, Some(_)) => bail!("this backup holds no database (it was taken of a PostgreSQL deployment)"),
        (None, None) => {}
    }
    let media = files::copy_media(&dir.join("media"), &settings.data_dir.join("media"))?;
    ensure!(media == manifest.media, "the backup's media ({media:?}) differ from its manifest ({:?})", manifest.media);
    let moved_aside = match (&manifest.database, target) {
        (Some(copy), Some(target)) => replace_database(&dir.join(&copy.file), &target, replace)?,
        _ => None,
    };
    let secret = settings.data_dir.join(SECRET);
    if manifest.jwt_secret && !secret.exists() {
        files::copy_durably(&dir.join(SECRET), &secret)?;
        restrict(&secret)?;
    }
    Ok(Restored { manifest, moved_aside })
}

fn verify_database(dir: &Path, copy: &DatabaseCopy) -> anyhow::Result<()> {
    let path = dir.join(&copy.file);
    let (sha256, bytes) = files::digest(&path)?;
    ensure!(
        sha256 == copy.sha256 && bytes == copy.bytes,
        "{} is not the file the backup wrote (digest or size differ)",
        path.display()
    );
    // Check a scratch copy: opening a file may write to it (WAL), and the backup stays as it was.
    let scratch = dir.join(format!(".restore-check-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir(&scratch)?;
    let probe = scratch.join(DATABASE);
    let checked = std::fs::copy(&path, &probe).map_err(anyhow::Error::from).and_then(|_| check_database(&probe));
    let _ = std::fs::remove_dir_all(&scratch);
    let (version, problems) = checked?;
    ensure!(problems.is_empty(), "the backup's database fails its integrity check: {}", problems.join("; "));
    let known = DbConn::latest_known_migration(Backend::Sqlite);
    if let Some(version) = version {
        ensure!(
            version <= known,
            "the backup was written by a newer Outreach (schema {version}, this one knows {known})"
        );
    }
    Ok(())
}

fn replace_database(copy: &Path, target: &Path, replace: bool) -> anyhow::Result<Option<PathBuf>> {
    let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut moved_aside = None;
    if target.exists() {
        ensure!(replace, "{} exists; pass --replace to move it aside and restore over it", target.display());
        let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
        let aside = PathBuf::from(format!("{}.before-restore-{stamp}", target.display()));
        // The WAL and its index travel with their database: together they are its last commits.
        for suffix in ["-wal", "-shm", ""] {
            let from = PathBuf::from(format!("{}{suffix}", target.display()));
            if from.exists() {
                std::fs::rename(&from, format!("{}{suffix}", aside.display()))
                    .with_context(|| format!("moving {} aside", from.display()))?;
            }
        }
        moved_aside = Some(aside);
    }
    files::copy_durably(copy, target)?;
    files::sync_dir(dir)?;
    Ok(moved_aside)
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    restrict(dir)
}

/// Backups hold personal data and the token secret: owner only.
#[cfg(unix)]
fn restrict(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = if path.is_dir() { 0o700 } else { 0o600 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("restricting {}", path.display()))
}

#[cfg(not(unix))]
fn restrict(_: &Path) -> anyhow::Result<()> {
    Ok(())
}
