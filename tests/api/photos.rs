use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, SecondsFormat, Utc};
use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};
use outreach::domain::Role;
use serde_json::{Value as Json, json};

use crate::helpers::{TestApp, assert_problem, json_ok, spawn_app, spawn_app_with};
use crate::partners::{CENTRE, create as create_partner, partner_body};
use crate::visits::visit_body;

/// Facts to write into a test photo's EXIF.
#[derive(Default, Clone)]
pub struct Facts {
    pub orientation: Option<u16>,
    pub gps: Option<(f64, f64)>,
    /// `YYYY:MM:DD HH:MM:SS`, camera local time.
    pub taken: Option<String>,
}

fn dms(v: f64) -> Vec<Rational> {
    let v = v.abs();
    let d = v.trunc();
    let m = ((v - d) * 60.0).trunc();
    let s = ((v - d) * 60.0 - m) * 60.0;
    vec![
        Rational { num: d as u32, denom: 1 },
        Rational { num: m as u32, denom: 1 },
        Rational { num: (s * 10000.0) as u32, denom: 10000 },
    ]
}

/// A real JPEG, `w`×`h`, with the given EXIF — as a phone would send it.
pub fn photo(w: u32, h: u32, facts: &Facts) -> Vec<u8> {
    let mut fields = Vec::new();
    if let Some(o) = facts.orientation {
        fields.push(Field { tag: Tag::Orientation, ifd_num: In::PRIMARY, value: Value::Short(vec![o]) });
    }
    if let Some(t) = &facts.taken {
        fields.push(Field {
            tag: Tag::DateTimeOriginal,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![t.as_bytes().to_vec()]),
        });
    }
    if let Some((lat, lon)) = facts.gps {
        fields.push(Field { tag: Tag::GPSLatitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"N".to_vec()]) });
        fields.push(Field { tag: Tag::GPSLatitude, ifd_num: In::PRIMARY, value: Value::Rational(dms(lat)) });
        fields.push(Field {
            tag: Tag::GPSLongitudeRef,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![b"E".to_vec()]),
        });
        fields.push(Field { tag: Tag::GPSLongitude, ifd_num: In::PRIMARY, value: Value::Rational(dms(lon)) });
    }
    let pixels: Vec<u8> = (0..w * h).flat_map(|i| [(i % w * 255 / w) as u8, (i / w * 255 / h) as u8, 90]).collect();
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 90);
    if !fields.is_empty() {
        let mut writer = Writer::new();
        for f in &fields {
            writer.push_field(f);
        }
        let mut tiff = std::io::Cursor::new(Vec::new());
        writer.write(&mut tiff, false).unwrap();
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(tiff.into_inner());
        encoder.add_app_segment(1, app1).unwrap();
    }
    encoder.encode(&pixels, w as u16, h as u16, jpeg_encoder::ColorType::Rgb).unwrap();
    out
}

/// A PNG whose header claims `w`×`h` pixels, with almost no data: a decompression bomb's shape.
pub fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    fn crc(bytes: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for b in bytes {
            c ^= u32::from(*b);
            for _ in 0..8 {
                c = if c & 1 == 1 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
        }
        !c
    }
    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc(&body).to_be_bytes());
        out
    }
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
    png.extend(chunk(b"IEND", &[]));
    png
}

pub async fn upload(app: &TestApp, token: &str, visit: &str, bytes: Vec<u8>, content_type: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/visits/{visit}/photos")))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

pub fn local_time(minutes_ago: i64) -> String {
    (Utc::now() + Duration::hours(8) - Duration::minutes(minutes_ago)).format("%Y:%m:%d %H:%M:%S").to_string()
}

pub async fn visit_at_partner(app: &TestApp, token: &str) -> Json {
    let p = create_partner(app, token, &partner_body("拍照的店", CENTRE.0, CENTRE.1)).await;
    let at = (Utc::now() - Duration::minutes(10)).to_rfc3339_opts(SecondsFormat::Secs, true);
    json_ok(
        app.post_json("/api/v1/visits", Some(token), &visit_body(p["id"].as_str(), CENTRE.0, CENTRE.1, 10.0, &at))
            .await,
        201,
    )
    .await
}

#[tokio::test]
async fn a_phone_photo_is_oriented_stripped_thumbnailed_and_served() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let v = visit_at_partner(&app, &am.token).await;
    let vid = v["id"].as_str().unwrap();
    let facts = Facts { orientation: Some(6), gps: Some((CENTRE.0 + 0.0002, CENTRE.1)), taken: Some(local_time(10)) };
    let original = photo(1000, 800, &facts);
    let uploaded = json_ok(upload(&app, &am.token, vid, original.clone(), "image/jpeg").await, 201).await;
    // Orientation 6 turns a landscape sensor image upright.
    assert_eq!((uploaded["width"].as_i64(), uploaded["height"].as_i64()), (Some(800), Some(1000)));
    assert_eq!(uploaded["visit_verification"]["verified"], true, "{uploaded}");
    assert!((uploaded["exif"]["location"]["lat"].as_f64().unwrap() - (CENTRE.0 + 0.0002)).abs() < 1e-5, "{uploaded}");
    assert!(uploaded["exif"]["taken_at"].is_string());

    let image = app.client.get(app.url(uploaded["url"].as_str().unwrap())).bearer_auth(&am.token).send().await.unwrap();
    assert_eq!(image.status(), 200);
    let headers = image.headers().clone();
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", uploaded["sha256"].as_str().unwrap()));
    let bytes = image.bytes().await.unwrap();
    assert!(exif::Reader::new().read_from_container(&mut std::io::Cursor::new(&bytes[..])).is_err(), "no EXIF left");
    assert!(!bytes.windows(4).any(|w| w == b"Exif"));
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (800, 1000));

    let thumb = app
        .client
        .get(app.url(uploaded["thumbnail_url"].as_str().unwrap()))
        .bearer_auth(&am.token)
        .send()
        .await
        .unwrap();
    let thumb = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (256, 320));

    let again = app
        .client
        .get(app.url(uploaded["url"].as_str().unwrap()))
        .bearer_auth(&am.token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // The same picture again is the same photo; the list shows it once.
    let twice = json_ok(upload(&app, &am.token, vid, original, "image/jpeg").await, 200).await;
    assert_eq!(twice["id"], uploaded["id"]);
    let list = json_ok(app.get(format!("/api/v1/visits/{vid}/photos"), Some(&am.token)).await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn multipart_uploads_work_too() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let v = visit_at_partner(&app, &am.token).await;
    let part = reqwest::multipart::Part::bytes(photo(64, 48, &Facts::default()))
        .file_name("IMG_0001.jpg")
        .mime_str("image/jpeg")
        .unwrap();
    let form = reqwest::multipart::Form::new().text("note", "门头照").part("file", part);
    let response = app
        .client
        .post(app.url(&format!("/api/v1/visits/{}/photos", v["id"].as_str().unwrap())))
        .bearer_auth(&am.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let body = json_ok(response, 201).await;
    assert_eq!((body["width"].as_i64(), body["height"].as_i64()), (Some(64), Some(48)));
    let form = reqwest::multipart::Form::new().text("other", "no file here");
    let response = app
        .client
        .post(app.url(&format!("/api/v1/visits/{}/photos", v["id"].as_str().unwrap())))
        .bearer_auth(&am.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_problem(response, 422, "validation_failed").await;
}

#[tokio::test]
async fn photo_evidence_can_contradict_a_visit_and_deleting_it_restores_the_verdict() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let v = visit_at_partner(&app, &am.token).await;
    let vid = v["id"].as_str().unwrap();
    let far = Facts { gps: Some((CENTRE.0 + 0.05, CENTRE.1)), taken: Some(local_time(60 * 30)), ..Facts::default() };
    let uploaded = json_ok(upload(&app, &am.token, vid, photo(32, 32, &far), "image/jpeg").await, 201).await;
    assert_eq!(uploaded["visit_verification"]["reasons"], json!(["photo_far_from_visit", "photo_time_mismatch"]));
    let visit = json_ok(app.get(format!("/api/v1/visits/{vid}"), Some(&am.token)).await, 200).await;
    assert_eq!(visit["verified"], false);
    let gone =
        app.client.delete(app.url(uploaded["url"].as_str().unwrap())).bearer_auth(&am.token).send().await.unwrap();
    assert_eq!(gone.status(), 204);
    let visit = json_ok(app.get(format!("/api/v1/visits/{vid}"), Some(&am.token)).await, 200).await;
    assert_eq!((visit["verified"].clone(), visit["verification"]["reasons"].clone()), (json!(true), json!([])));
    assert_problem(app.get(uploaded["url"].as_str().unwrap(), Some(&am.token)).await, 404, "not_found").await;
}

#[tokio::test]
async fn hostile_uploads_are_refused_quickly_and_clearly() {
    let app = spawn_app_with(|env| {
        env.insert("OUTREACH_PHOTO_MAX_BYTES".into(), "200000".into());
    })
    .await;
    let am = app.login_as(Role::AccountManager).await;
    let v = visit_at_partner(&app, &am.token).await;
    let vid = v["id"].as_str().unwrap();

    let big = vec![0xFFu8; 300_000];
    assert_problem(upload(&app, &am.token, vid, big, "image/jpeg").await, 413, "payload_too_large").await;
    let html = b"<!DOCTYPE html><html><script>alert(1)</script></html>".to_vec();
    assert_problem(upload(&app, &am.token, vid, html, "image/jpeg").await, 415, "unsupported_media_type").await;
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    let problem =
        assert_problem(upload(&app, &am.token, vid, heic, "image/heic").await, 415, "unsupported_media_type").await;
    assert!(problem["detail"].as_str().unwrap().contains("HEIC"), "{problem}");

    // A decompression bomb: a tiny file claiming 20000 × 20000 pixels. Refused from the header.
    let started = Instant::now();
    let problem = assert_problem(
        upload(&app, &am.token, vid, png_claiming(20_000, 20_000), "image/png").await,
        422,
        "image_too_large",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("400000000"), "{problem}");
    assert!(started.elapsed() < StdDuration::from_secs(2), "refused before decoding");

    // Within the pixel limit but with no pixel data: unreadable, not a crash.
    assert_problem(upload(&app, &am.token, vid, png_claiming(1000, 1000), "image/png").await, 422, "image_unreadable")
        .await;
    let whole = photo(200, 150, &Facts::default());
    let truncated = whole[..whole.len() / 2].to_vec();
    assert_problem(upload(&app, &am.token, vid, truncated, "image/jpeg").await, 422, "image_unreadable").await;
    assert_problem(upload(&app, &am.token, vid, Vec::new(), "image/jpeg").await, 415, "unsupported_media_type").await;
    // Nothing was attached by any of these.
    let list = json_ok(app.get(format!("/api/v1/visits/{vid}/photos"), Some(&am.token)).await, 200).await;
    assert_eq!(list["items"], json!([]));
}

#[tokio::test]
async fn photos_are_shown_only_to_those_who_may_see_the_visit() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let v = visit_at_partner(&app, &am.token).await;
    let vid = v["id"].as_str().unwrap();
    let uploaded =
        json_ok(upload(&app, &am.token, vid, photo(32, 32, &Facts::default()), "image/jpeg").await, 201).await;
    let url = uploaded["url"].as_str().unwrap();
    let foreign = app.login_at(Role::BranchManager, Some(app.tree.branch_b)).await;
    let colleague = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    for who in [&foreign, &colleague] {
        assert_problem(app.get(url, Some(&who.token)).await, 404, "not_found").await;
        assert_problem(app.get(format!("{url}/thumbnail"), Some(&who.token)).await, 404, "not_found").await;
        assert_problem(app.get(format!("/api/v1/visits/{vid}/photos"), Some(&who.token)).await, 404, "not_found").await;
        assert_problem(
            upload(&app, &who.token, vid, photo(8, 8, &Facts::default()), "image/jpeg").await,
            404,
            "not_found",
        )
        .await;
    }
    let manager = app.login_as(Role::SubBranchManager).await;
    assert_eq!(app.get(url, Some(&manager.token)).await.status(), 200);
    assert_eq!(app.get(url, None).await.status(), 401);
}

/// The EXIF block some tools write: an orientation and a GPS sub-IFD without the four bytes of
/// its next-IFD offset (Pillow reads it; a strict parser refuses the whole block).
fn app1_with_truncated_gps(lat: f64, lon: f64) -> Vec<u8> {
    let entry = |tag: u16, kind: u16, count: u32, value: u32| {
        let mut e = tag.to_le_bytes().to_vec();
        e.extend(kind.to_le_bytes());
        e.extend(count.to_le_bytes());
        e.extend(value.to_le_bytes());
        e
    };
    let mut tiff: Vec<u8> = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes());
    // IFD0 at 8 ends at 38; the six rationals fill 38..86; the GPS IFD starts at 86.
    tiff.extend(2u16.to_le_bytes());
    tiff.extend(entry(0x0112, 3, 1, 1));
    tiff.extend(entry(0x8825, 4, 1, 86));
    tiff.extend(0u32.to_le_bytes());
    for r in dms(lat).into_iter().chain(dms(lon)) {
        tiff.extend(r.num.to_le_bytes());
        tiff.extend(r.denom.to_le_bytes());
    }
    tiff.extend(4u16.to_le_bytes());
    tiff.extend(entry(0x0001, 2, 2, u32::from(b'N')));
    tiff.extend(entry(0x0002, 5, 3, 38));
    tiff.extend(entry(0x0003, 2, 2, u32::from(b'E')));
    tiff.extend(entry(0x0004, 5, 3, 62));
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    app1
}

/// Issue 21, finding 15: EXIF with a sub-IFD lacking its end offset was refused whole, so the
/// photo's position was lost and `photo_far_from_visit` could not fire.
#[tokio::test]
async fn exif_that_a_strict_parser_refuses_is_still_read() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let v = visit_at_partner(&app, &am.token).await;
    let app1 = app1_with_truncated_gps(CENTRE.0 + 0.05, CENTRE.1);
    let mut jpeg = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut jpeg, 90);
    encoder.add_app_segment(1, app1).unwrap();
    let pixels: Vec<u8> = (0..32 * 32).flat_map(|i| [(i % 32 * 8) as u8, (i / 32 * 8) as u8, 90]).collect();
    encoder.encode(&pixels, 32, 32, jpeg_encoder::ColorType::Rgb).unwrap();
    assert!(exif::Reader::new().read_from_container(&mut std::io::Cursor::new(&jpeg[..])).is_err(), "strict refuses");
    let uploaded = json_ok(upload(&app, &am.token, v["id"].as_str().unwrap(), jpeg, "image/jpeg").await, 201).await;
    assert!((uploaded["exif"]["location"]["lat"].as_f64().unwrap() - (CENTRE.0 + 0.05)).abs() < 1e-4, "{uploaded}");
    assert_eq!(uploaded["visit_verification"]["reasons"], json!(["photo_far_from_visit"]), "{uploaded}");
}
