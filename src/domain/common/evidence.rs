//! Photos kept as evidence (an event's steps, a supervision's items, a case), and what a photo's
//! EXIF said about where and when it was taken.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::common::actor::Actor;
use crate::domain::common::error::DomainError;
use crate::geo::LatLon;
use crate::store::DbConn;

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

/// Which file of a stored photo to serve: the image itself or its thumbnail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendition {
    Full,
    Thumbnail,
}

impl Evidence {
    /// The content address of the file that renders this photo as asked.
    pub fn blob(&self, rendition: Rendition) -> &str {
        match rendition {
            Rendition::Full => &self.sha256,
            Rendition::Thumbnail => &self.thumb_sha256,
        }
    }
}

/// A record that keeps evidence photos — an event (on its steps), a supervision (on its checklist
/// items), a case — as the one set of evidence handlers sees it: who may add a photo where, and
/// which photos a caller may fetch. Adding the photo stays the record's own rule (a supervision is
/// judged again with the photo's EXIF; a step and a case only keep it).
pub trait EvidenceHolder: 'static {
    /// Where on the record a photo goes: a step, a checklist item, or the record itself (`()`).
    type Slot: Copy + Send + 'static;
    /// What a missing photo is called in its `404` ("evidence", "photo").
    const PHOTO: &'static str;

    /// Refuses, before the upload is read, a caller who may not add a photo at `slot`.
    fn check_can_attach(conn: &mut DbConn, actor: &Actor, id: Uuid, slot: Self::Slot) -> Result<(), DomainError>;

    /// Every photo of the record, if the caller may see it (a record they may not see is `404`).
    fn photos(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<Vec<Evidence>, DomainError>;

    /// The stored file of one of the record's photos, by the photo's hash.
    fn blob(
        conn: &mut DbConn,
        actor: &Actor,
        id: Uuid,
        sha256: &str,
        rendition: Rendition,
    ) -> Result<String, DomainError> {
        Self::photos(conn, actor, id)?
            .into_iter()
            .find(|p| p.sha256 == sha256)
            .map(|p| p.blob(rendition).to_owned())
            .ok_or(DomainError::NotFound(Self::PHOTO))
    }
}
