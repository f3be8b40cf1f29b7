//! Image intake as a pure library: sniff, limits, EXIF, decode, orient, re-encode, thumbnail,
//! and a content-addressed store. No HTTP, no SQL.

pub mod blobs;
pub mod card;
pub mod exif;
pub mod intake;
pub mod pipeline;
pub mod qr;
pub mod sniff;

pub use blobs::{BlobStore, FsBlobStore};
pub use intake::{IntakeLimits, Processed, process};
pub use pipeline::{Ingested, Pipeline};
pub use sniff::ImageKind;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MediaError {
    #[error("the image exceeds {limit} bytes")]
    TooLarge { limit: usize },
    #[error("{0}")]
    Unsupported(String),
    #[error("the image has {pixels} pixels; at most {limit} are accepted")]
    TooManyPixels { pixels: u64, limit: u64 },
    #[error("the image cannot be read: {0}")]
    Corrupt(String),
    #[error("storage failure: {0}")]
    Storage(String),
}
