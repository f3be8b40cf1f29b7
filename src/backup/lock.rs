//! One process at a time owns a data directory: the server while it serves, a restore while it
//! replaces files. Held with an OS file lock, so a crashed holder releases it.

use std::fs::{File, TryLockError};
use std::path::Path;

use anyhow::Context;

const LOCK: &str = "outreach.lock";

#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    pub fn acquire(dir: &Path) -> anyhow::Result<DataDirLock> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(LOCK);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(DataDirLock { _file: file }),
            Err(TryLockError::WouldBlock) => {
                anyhow::bail!("another Outreach process (a running server?) is using {}; stop it first", dir.display())
            }
            Err(TryLockError::Error(e)) => Err(e).with_context(|| format!("locking {}", path.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let first = DataDirLock::acquire(dir.path())?;
        let second = DataDirLock::acquire(dir.path()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(second.contains("another Outreach process"), "{second}");
        drop(first);
        DataDirLock::acquire(dir.path())?;
        Ok(())
    }
}
