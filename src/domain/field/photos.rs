//! Photos attached to visits: the evidence managers look at, and signals for verification.

use chrono::{DateTime, NaiveDateTime, Utc};
use uuid::Uuid;

use crate::domain::common::create::Created;
use crate::domain::common::evidence::PhotoSignal;
use crate::domain::field::verification::Thresholds;
use crate::domain::field::visits::{self, Visit};
use crate::domain::{Actor, DomainError, ErrorCode, Role};
use crate::geo::LatLon;
use crate::store::field::photos::{self as store, PhotoRow};
use crate::store::{DbConn, StoreError, now_utc, sync, uuid_col};

#[derive(Debug, Clone, PartialEq)]
pub struct Photo {
    pub id: Uuid,
    pub visit_id: Uuid,
    pub sha256: String,
    pub thumb_sha256: String,
    pub width: i32,
    pub height: i32,
    pub bytes: i64,
    pub exif_position: Option<LatLon>,
    pub exif_time: Option<NaiveDateTime>,
    pub uploaded_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub org_path: String,
    pub seq: i64,
    pub created_seq: i64,
}

impl TryFrom<PhotoRow> for Photo {
    type Error = StoreError;
    fn try_from(r: PhotoRow) -> Result<Self, StoreError> {
        Ok(Photo {
            id: uuid_col(&r.id)?,
            visit_id: uuid_col(&r.visit_id)?,
            exif_position: r.exif_lat.zip(r.exif_lon).map(|(lat, lon)| LatLon { lat, lon }),
            uploaded_by: uuid_col(&r.uploaded_by)?,
            created_at: r.created_at.and_utc(),
            sha256: r.sha256,
            thumb_sha256: r.thumb_sha256,
            width: r.width,
            height: r.height,
            bytes: r.bytes,
            exif_time: r.exif_time,
            org_path: r.org_path,
            seq: r.seq,
            created_seq: r.created_seq,
        })
    }
}

/// What the media pipeline produced for one upload.
#[derive(Debug, Clone)]
pub struct StoredImage {
    pub sha256: String,
    pub thumb_sha256: String,
    pub width: u32,
    pub height: u32,
    pub bytes: usize,
    pub exif_position: Option<LatLon>,
    pub exif_time: Option<NaiveDateTime>,
    pub exif_offset_minutes: Option<i32>,
}

/// Checks, before any upload is read, that the caller may add photos to this visit.
pub fn check_can_attach(conn: &mut DbConn, actor: &Actor, visit_id: Uuid) -> Result<Visit, DomainError> {
    let visit = visits::get(conn, actor, visit_id)?;
    let allowed = match actor.role {
        Role::Supervisor => false,
        Role::AccountManager => visit.user_id == actor.user_id,
        _ => true,
    };
    if !allowed {
        return Err(DomainError::forbidden(ErrorCode::NotOwner, "photos are added by the visit's author or a manager"));
    }
    Ok(visit)
}

fn signals(rows: &[PhotoRow]) -> Vec<PhotoSignal> {
    rows.iter()
        .map(|r| PhotoSignal {
            position: r.exif_lat.zip(r.exif_lon).map(|(lat, lon)| LatLon { lat, lon }),
            taken_at: r.exif_time,
            offset_minutes: r.exif_offset_minutes,
        })
        .collect()
}

/// Attaches a stored image to a visit and re-judges the visit with every photo's EXIF.
/// The same image twice on one visit is one photo.
pub fn attach(
    conn: &mut DbConn,
    actor: &Actor,
    thresholds: &Thresholds,
    visit_id: Uuid,
    image: &StoredImage,
) -> Result<(Created<Photo>, Visit), DomainError> {
    conn.write_tx(|conn| {
        let visit = check_can_attach(conn, actor, visit_id)?;
        let existing = store::of_visit(conn, &visit_id.to_string())?;
        if let Some(same) = existing.iter().find(|p| p.sha256 == image.sha256) {
            return Ok((Created::Existing(Photo::try_from(same.clone())?), visit));
        }
        let seq = sync::next_seq(conn)?;
        let row = PhotoRow {
            id: Uuid::now_v7().to_string(),
            visit_id: visit_id.to_string(),
            branch_id: visit.branch_id.clone(),
            org_path: visit.org_path.clone(),
            sha256: image.sha256.clone(),
            thumb_sha256: image.thumb_sha256.clone(),
            width: i32::try_from(image.width).unwrap_or(i32::MAX),
            height: i32::try_from(image.height).unwrap_or(i32::MAX),
            bytes: i64::try_from(image.bytes).unwrap_or(i64::MAX),
            exif_lat: image.exif_position.map(|p| p.lat),
            exif_lon: image.exif_position.map(|p| p.lon),
            exif_time: image.exif_time,
            exif_offset_minutes: image.exif_offset_minutes,
            uploaded_by: actor.user_id.to_string(),
            created_at: now_utc(),
            deleted_at: None,
            seq,
            created_seq: seq,
        };
        store::insert(conn, &row)?;
        let mut all = existing;
        all.push(row.clone());
        let visit = visits::reverify(conn, thresholds, visit_id, signals(&all))?;
        Ok((Created::New(Photo::try_from(row)?), visit))
    })
}

pub fn list(conn: &mut DbConn, actor: &Actor, visit_id: Uuid) -> Result<Vec<Photo>, DomainError> {
    visits::get(conn, actor, visit_id)?;
    Ok(store::of_visit(conn, &visit_id.to_string())?.into_iter().map(Photo::try_from).collect::<Result<_, _>>()?)
}

/// A live photo whose visit the caller may see.
pub fn get(conn: &mut DbConn, actor: &Actor, id: Uuid) -> Result<Photo, DomainError> {
    let row =
        store::find(conn, &id.to_string())?.filter(|r| r.deleted_at.is_none()).ok_or(DomainError::NotFound("photo"))?;
    let visit_id = uuid_col(&row.visit_id)?;
    visits::get(conn, actor, visit_id).map_err(|_| DomainError::NotFound("photo"))?;
    Ok(Photo::try_from(row)?)
}

pub fn delete(conn: &mut DbConn, actor: &Actor, thresholds: &Thresholds, id: Uuid) -> Result<(), DomainError> {
    conn.write_tx(|conn| {
        let photo = get(conn, actor, id)?;
        let visit = check_can_attach(conn, actor, photo.visit_id)?;
        let seq = sync::next_seq(conn)?;
        store::mark_deleted(conn, &id.to_string(), now_utc(), seq)?;
        sync::tombstone(conn, seq, "visit_photos", id, &photo.org_path, Some(visit.user_id))?;
        let remaining = store::of_visit(conn, &photo.visit_id.to_string())?;
        visits::reverify(conn, thresholds, photo.visit_id, signals(&remaining))?;
        Ok(())
    })
}
