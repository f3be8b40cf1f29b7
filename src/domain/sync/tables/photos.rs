//! `visit_photos`: the metadata of a visit's photos. The images themselves are uploaded with
//! `POST /api/v1/visits/{id}/photos` and fetched from `url`; a phone may only delete a photo.

use crate::domain::field::photos::{self, Photo};
use crate::domain::sync::declare::entity::Table;
use crate::domain::sync::declare::{Column, float, id_text, millis, opt_text};
use crate::store::field::photos as store;

type C = Column<Photo>;

pub static VISIT_PHOTOS: Table<Photo> = Table {
    name: "visit_photos",
    since: 1,
    scope: "the photos of the visits you hold",
    columns: &[
        C::string("visit_id", |p, _| id_text(p.visit_id)).indexed(),
        C::string("url", |p, _| format!("/api/v1/photos/{}", p.id).into()),
        C::string("thumbnail_url", |p, _| format!("/api/v1/photos/{}/thumbnail", p.id).into()),
        C::string("sha256", |p, _| p.sha256.as_str().into()),
        C::number("width", |p, _| p.width.into()),
        C::number("height", |p, _| p.height.into()),
        C::number("bytes", |p, _| p.bytes.into()),
        // Where the camera said it was, in your datum; when, as the camera's own clock read.
        C::number("exif_lat", |p, v| p.exif_position.map_or(serde_json::Value::Null, |l| float(v.position(l).lat)))
            .optional(),
        C::number("exif_lon", |p, v| p.exif_position.map_or(serde_json::Value::Null, |l| float(v.position(l).lon)))
            .optional(),
        C::string("exif_taken_at_local", |p, _| {
            opt_text(p.exif_time.map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string()))
        })
        .optional(),
        C::string("uploaded_by", |p, _| id_text(p.uploaded_by)),
        C::number("created_at", |p, _| millis(p.created_at)),
        C::number("updated_at", |p, _| millis(p.created_at)),
    ],
    id: |p| p.id.to_string(),
    changed: |conn, view, after, upto| {
        let scope = view.scope_prefix();
        let own = view.own_user();
        let rows = store::changed_since(conn, scope.as_deref(), own.as_deref(), after, upto, i64::MAX)?;
        Ok(rows.into_iter().map(Photo::try_from).collect::<Result<_, _>>()?)
    },
    get: |conn, view, id| photos::get(conn, &view.actor, id),
    deleted: None,
    create: None,
    update: None,
    delete: Some(|conn, view, id| photos::delete(conn, &view.actor, &view.thresholds, id)),
};
