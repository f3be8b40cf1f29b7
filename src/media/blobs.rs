//! Content-addressed blob storage. The filesystem store serves one node; the trait is the seam
//! where an S3-compatible object store goes for several.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::MediaError;

pub trait BlobStore: Send + Sync {
    /// Stores the bytes under their SHA-256 (hex) and returns it; storing the same bytes again
    /// is a no-op.
    fn put(&self, bytes: &[u8]) -> Result<String, MediaError>;
    fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>, MediaError>;
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Files under `root/ab/cd/<sha256>`, written to a temporary name, synced, then renamed, so a
/// crash never leaves a half file under a real name.
pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    pub fn new(root: impl Into<PathBuf>) -> FsBlobStore {
        FsBlobStore { root: root.into() }
    }

    fn path(&self, sha: &str) -> Option<PathBuf> {
        let valid = sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        valid.then(|| self.root.join(&sha[..2]).join(&sha[2..4]).join(sha))
    }
}

fn io(err: std::io::Error) -> MediaError {
    MediaError::Storage(err.to_string())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().ok_or_else(|| std::io::Error::other("no parent directory"))?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4()));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

impl BlobStore for FsBlobStore {
    fn put(&self, bytes: &[u8]) -> Result<String, MediaError> {
        let sha = sha256_hex(bytes);
        let path = self.path(&sha).ok_or_else(|| MediaError::Storage("bad digest".to_owned()))?;
        if !path.exists() {
            write_atomically(&path, bytes).map_err(io)?;
        }
        Ok(sha)
    }

    fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>, MediaError> {
        let Some(path) = self.path(sha256) else { return Ok(None) };
        match std::fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_bytes_are_stored_once() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = FsBlobStore::new(dir.path());
        let a = store.put(b"hello")?;
        let b = store.put(b"hello")?;
        assert_eq!(a, b);
        assert_eq!(store.get(&a)?, Some(b"hello".to_vec()));
        assert_eq!(store.get("../../etc/passwd")?, None);
        let files = walk(dir.path());
        assert_eq!(files, 1);
        Ok(())
    }

    fn walk(dir: &Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| entries.flatten().map(|e| if e.path().is_dir() { walk(&e.path()) } else { 1 }).sum())
            .unwrap_or(0)
    }
}
