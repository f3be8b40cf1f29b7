//! File steps of a backup: digests, durable copies, the media tree.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

/// What was copied of the media store.
#[derive(Debug, Default, Clone, Copy, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct MediaSummary {
    pub files: u64,
    pub bytes: u64,
}

/// SHA-256 (hex) and length of a file, read in 64 KiB blocks.
pub fn digest(path: &Path) -> anyhow::Result<(String, u64)> {
    let mut file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut len = 0u64;
    loop {
        let n = file.read(&mut buf).with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok((hasher.finalize().iter().map(|b| format!("{b:02x}")).collect(), len))
}

/// Copies `from` to `to` through a temporary name, synced, then renamed: a crash mid-copy never
/// leaves a partial file under the real name.
pub fn copy_durably(from: &Path, to: &Path) -> anyhow::Result<()> {
    let dir = to.parent().context("copy target has no directory")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(format!(".partial-{}", uuid::Uuid::new_v4()));
    let result = (|| {
        let mut source = File::open(from).with_context(|| format!("opening {}", from.display()))?;
        let mut target = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        std::io::copy(&mut source, &mut target).with_context(|| format!("copying {}", from.display()))?;
        target.flush()?;
        target.sync_all()?;
        std::fs::rename(&tmp, to).with_context(|| format!("renaming into {}", to.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Makes renames and new entries in `dir` survive a power cut.
pub fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).with_context(|| format!("syncing {}", dir.display()))
}

/// The blobs under a media root (`ab/cd/<sha256>`), skipping temporary files of writes in flight.
fn blobs(root: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let mut found = Vec::new();
    if !root.exists() {
        return Ok(found);
    }
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
            let entry = entry?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type()?.is_dir() {
                stack.push(path);
            } else if is_blob_name(&name) {
                found.push((path, name));
            }
        }
    }
    found.sort();
    Ok(found)
}

fn is_blob_name(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Copies every blob of `from` missing in `to`, checking each against its name: blobs are
/// immutable and named by their digest, so an existing one of the right length is the same file,
/// and a blob whose bytes do not match its name is damage that must not spread to the copy.
pub fn copy_media(from: &Path, to: &Path) -> anyhow::Result<MediaSummary> {
    let mut summary = MediaSummary::default();
    for (path, name) in blobs(from)? {
        let (sha, len) = digest(&path)?;
        if sha != name {
            bail!("media file {} does not match its digest (damaged); nothing was restored over it", path.display());
        }
        let target = to.join(&name[..2]).join(&name[2..4]).join(&name);
        let present = std::fs::metadata(&target).is_ok_and(|m| m.len() == len);
        if !present {
            copy_durably(&path, &target)?;
        }
        summary.files += 1;
        summary.bytes += len;
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_is_copied_once_and_damage_is_refused() -> anyhow::Result<()> {
        let (from, to) = (tempfile::tempdir()?, tempfile::tempdir()?);
        let store = crate::media::FsBlobStore::new(from.path());
        let sha = crate::media::BlobStore::put(&store, b"a photo")?;
        std::fs::write(from.path().join(".tmp-123"), b"half a photo")?;
        let first = copy_media(from.path(), to.path())?;
        assert_eq!(first, MediaSummary { files: 1, bytes: 7 });
        let copied = to.path().join(&sha[..2]).join(&sha[2..4]).join(&sha);
        assert_eq!(std::fs::read(&copied)?, b"a photo");
        assert_eq!(copy_media(from.path(), to.path())?, first, "a second run copies nothing new");

        let damaged = from.path().join(&sha[..2]).join(&sha[2..4]).join(&sha);
        std::fs::write(&damaged, b"a ph0to")?;
        let err = copy_media(from.path(), to.path()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("does not match its digest"), "{err}");
        assert_eq!(std::fs::read(&copied)?, b"a photo", "the good copy is kept");
        Ok(())
    }
}
