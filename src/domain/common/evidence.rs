//! Photos kept as evidence (an event's steps, a supervision's items, a case), and what a photo's
//! EXIF said about where and when it was taken.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::geo::LatLon;

/// A photo attached as evidence to an event's step, a supervision's item or a case (stored by the
/// media pipeline).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub sha256: String,
    pub thumb_sha256: String,
    pub width: u32,
    pub height: u32,
    pub uploaded_by: Uuid,
    pub uploaded_at: DateTime<Utc>,
    /// What the photo's EXIF said before the intake stripped it: where and when it was taken,
    /// for judging a supervision like a visit. Never shown; absent in records stored before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exif: Option<PhotoSignal>,
}

/// What a photo's EXIF says, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PhotoSignal {
    pub position: Option<LatLon>,
    /// EXIF `DateTimeOriginal`, local time without zone; with `offset` when the camera wrote one.
    pub taken_at: Option<NaiveDateTime>,
    pub offset_minutes: Option<i32>,
}
