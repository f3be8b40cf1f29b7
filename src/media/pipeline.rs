//! The intake run as a service: bounded concurrency on the blocking pool, then storage.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::workers::Workers;

use super::exif::ExifFacts;
use super::{BlobStore, IntakeLimits, MediaError, process};

/// An upload that passed intake and is stored (image and thumbnail).
#[derive(Debug, Clone)]
pub struct Ingested {
    pub sha256: String,
    pub thumb_sha256: String,
    pub width: u32,
    pub height: u32,
    pub bytes: usize,
    pub exif: ExifFacts,
}

#[derive(Clone)]
pub struct Pipeline {
    pub store: Arc<dyn BlobStore>,
    pub limits: IntakeLimits,
    /// Decodes at once: each holds up to `max_pixels × 4` bytes, so this bounds memory.
    permits: Arc<Semaphore>,
    /// As many threads as permits: decode buffers stay in the heaps of these few threads.
    workers: Workers,
}

impl Pipeline {
    pub fn new(store: Arc<dyn BlobStore>, limits: IntakeLimits, concurrency: usize) -> std::io::Result<Pipeline> {
        let concurrency = concurrency.max(1);
        let workers = Workers::start(concurrency, "photo")?;
        Ok(Pipeline { store, limits, permits: Arc::new(Semaphore::new(concurrency)), workers })
    }

    pub async fn ingest(&self, bytes: Vec<u8>) -> Result<Ingested, MediaError> {
        let _permit = self.permits.acquire().await.map_err(|e| MediaError::Storage(e.to_string()))?;
        let store = self.store.clone();
        let limits = self.limits;
        self.workers
            .run(move || {
                let processed = process(&bytes, &limits)?;
                let sha256 = store.put(&processed.jpeg)?;
                let thumb_sha256 = store.put(&processed.thumbnail)?;
                Ok(Ingested {
                    sha256,
                    thumb_sha256,
                    width: processed.width,
                    height: processed.height,
                    bytes: processed.jpeg.len(),
                    exif: processed.exif,
                })
            })
            .await
            .map_err(|_| MediaError::Storage("the photo intake stopped".to_owned()))?
    }

    pub async fn read(&self, sha256: String) -> Result<Option<Vec<u8>>, MediaError> {
        let store = self.store.clone();
        // Not on the intake's threads: serving a photo must not wait behind a decode.
        tokio::task::spawn_blocking(move || store.get(&sha256)).await.map_err(|e| MediaError::Storage(e.to_string()))?
    }
}
