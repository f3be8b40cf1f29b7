//! `outreach backup` while the server writes, and `outreach restore` of what it took.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use outreach::domain::Role;
use outreach::store::Backend;
use parking_lot::Mutex;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::cli::{command, free_port, wait_until_up};
use crate::helpers::{JWT_SECRET, TestApp, json_ok, spawn_app};
use crate::partners::CENTRE;
use crate::photos::{photo, upload, visit_at_partner};

fn visit_body() -> Value {
    let at = (Utc::now() - chrono::Duration::minutes(5)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let id = Uuid::new_v4();
    json!({"id": id, "location": {"lat": CENTRE.0, "lon": CENTRE.1, "accuracy_m": 10}, "visited_at": at, "purpose": "relationship", "notes": format!("备份测试 {id}")})
}

async fn run(dir: &std::path::Path, args: &[&str], database_url: Option<&str>) -> std::process::Output {
    let mut cmd = command(dir);
    cmd.args(args).env("OUTREACH_JWT_SECRET", JWT_SECRET);
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    cmd.output().await.unwrap()
}

fn text(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

async fn get_bytes(app: &TestApp, base: &str, path: &str, token: &str) -> (u16, Vec<u8>) {
    let response = app.client.get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap();
    (response.status().as_u16(), response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn a_backup_taken_while_writing_restores_everything_answered_before_it() {
    let app = spawn_app().await;
    let settings = app.state.settings.clone();
    let am = app.login_as(Role::AccountManager).await;
    let visit = visit_at_partner(&app, &am.token).await;
    let uploaded = json_ok(
        upload(&app, &am.token, visit["id"].as_str().unwrap(), photo(640, 480, &Default::default()), "image/jpeg")
            .await,
        201,
    )
    .await;
    let photo_url = uploaded["url"].as_str().unwrap().to_owned();
    let (_, original) = get_bytes(&app, &app.address, &photo_url, &am.token).await;
    let mut before = Vec::new();
    for _ in 0..40 {
        before.push(json_ok(app.post_json("/api/v1/visits", Some(&am.token), &visit_body()).await, 201).await);
    }

    // Visits keep arriving while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let during = Arc::new(Mutex::new(Vec::new()));
    let writer = tokio::spawn({
        let (client, url, token) = (app.client.clone(), app.url("/api/v1/visits"), am.token.clone());
        let (stop, during) = (stop.clone(), during.clone());
        async move {
            while !stop.load(Ordering::Relaxed) {
                let response = client.post(&url).bearer_auth(&token).json(&visit_body()).send().await.unwrap();
                assert_eq!(response.status(), 201);
                let body = response.json::<Value>().await.unwrap();
                during.lock().push(body);
            }
        }
    });
    let store = tempfile::tempdir().unwrap();
    let backup_dir = store.path().join("nightly");
    let backup_arg = backup_dir.to_string_lossy().into_owned();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let out = run(&settings.data_dir, &["backup", &backup_arg], Some(&settings.database_url)).await;
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("backup complete"), "{}", text(&out));
    assert!(!during.lock().is_empty(), "writes ran during the backup");
    let manifest: Value = serde_json::from_slice(&std::fs::read(backup_dir.join("backup.json")).unwrap()).unwrap();
    assert_eq!(manifest["media"]["files"], 2, "the photo and its thumbnail: {manifest}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&backup_dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "a backup holds personal data: owner only");
    }
    let again = run(&settings.data_dir, &["backup", &backup_arg], Some(&settings.database_url)).await;
    assert!(!again.status.success() && text(&again).contains("not empty"), "{}", text(&again));

    let target = tempfile::tempdir().unwrap();
    if app.state.db.backend() == Backend::Postgres {
        // PostgreSQL: the database is pg_dump's; the backup carries the media, and restores them.
        assert!(text(&out).contains("pg_dump"), "{}", text(&out));
        assert!(manifest["database"].is_null());
        let restored = run(target.path(), &["restore", &backup_arg], Some(&settings.database_url)).await;
        assert!(restored.status.success(), "{}", text(&restored));
        let sha = uploaded["sha256"].as_str().unwrap();
        let blob = target.path().join("media").join(&sha[..2]).join(&sha[2..4]).join(sha);
        assert!(blob.exists(), "the photo was restored");
        return;
    }

    // Restore into a new data directory and serve it.
    let restored = run(target.path(), &["restore", &backup_arg], None).await;
    assert!(restored.status.success(), "{}", text(&restored));
    let twice = run(target.path(), &["restore", &backup_arg], None).await;
    assert!(!twice.status.success() && text(&twice).contains("--replace"), "{}", text(&twice));
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = command(target.path())
        .arg("serve")
        .env("OUTREACH_JWT_SECRET", JWT_SECRET)
        .env("OUTREACH_BIND", format!("127.0.0.1:{port}"))
        .spawn()
        .unwrap();
    wait_until_up(&app.client, &base).await;
    let busy = run(target.path(), &["restore", "--replace", &backup_arg], None).await;
    assert!(!busy.status.success() && text(&busy).contains("another Outreach process"), "{}", text(&busy));

    for visit in &before {
        let (status, body) =
            get_bytes(&app, &base, &format!("/api/v1/visits/{}", visit["id"].as_str().unwrap()), &am.token).await;
        assert_eq!(status, 200, "a visit answered before the backup is in it");
        let stored: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!((&stored["notes"], &stored["location"]), (&visit["notes"], &visit["location"]));
    }
    // A visit answered while the backup ran may or may not be in it, but never in part.
    let during = during.lock().clone();
    for visit in &during {
        let (status, body) =
            get_bytes(&app, &base, &format!("/api/v1/visits/{}", visit["id"].as_str().unwrap()), &am.token).await;
        assert!(status == 200 || status == 404, "{status}");
        if status == 200 {
            assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["notes"], visit["notes"], "whole, if present");
        }
    }
    assert_eq!(get_bytes(&app, &base, &photo_url, &am.token).await, (200, original), "the photo came back");
    drop(server);

    // Over an existing database only with --replace, which keeps the old one aside.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let replaced = run(target.path(), &["restore", "--replace", &backup_arg], None).await;
    assert!(replaced.status.success(), "{}", text(&replaced));
    let kept = std::fs::read_dir(target.path())
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().starts_with("outreach.db.before-restore-"));
    assert!(kept, "the replaced database was moved aside, not deleted");
    crate::durability::assert_sound(&target.path().join("outreach.db").to_string_lossy());
}

#[tokio::test]
async fn a_damaged_backup_is_refused_before_anything_is_touched() {
    let app = spawn_app().await;
    if app.state.db.backend() == Backend::Postgres {
        return assert_postgres_backup_is_media_only(&app).await;
    }
    let settings = app.state.settings.clone();
    let store = tempfile::tempdir().unwrap();
    let dir = store.path().join("b");
    let arg = dir.to_string_lossy().into_owned();
    let out = run(&settings.data_dir, &["backup", &arg], Some(&settings.database_url)).await;
    assert!(out.status.success(), "{}", text(&out));
    let db = dir.join("outreach.db");
    let mut bytes = std::fs::read(&db).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&db, bytes).unwrap();
    let target = tempfile::tempdir().unwrap();
    let refused = run(target.path(), &["restore", &arg], None).await;
    assert!(
        !refused.status.success() && text(&refused).contains("not the file the backup wrote"),
        "{}",
        text(&refused)
    );
    assert!(!target.path().join("outreach.db").exists(), "nothing was restored");
    let unfinished = run(target.path(), &["restore", &store.path().to_string_lossy()], None).await;
    assert!(
        !unfinished.status.success() && text(&unfinished).contains("not a finished backup"),
        "{}",
        text(&unfinished)
    );
}

async fn assert_postgres_backup_is_media_only(app: &TestApp) {
    let settings = app.state.settings.clone();
    let store = tempfile::tempdir().unwrap();
    let arg = store.path().join("b").to_string_lossy().into_owned();
    let out = run(&settings.data_dir, &["backup", &arg], Some(&settings.database_url)).await;
    assert!(out.status.success() && text(&out).contains("not included"), "{}", text(&out));
    let target = tempfile::tempdir().unwrap();
    let sqlite = run(target.path(), &["restore", &arg], None).await;
    assert!(!sqlite.status.success() && text(&sqlite).contains("holds no database"), "{}", text(&sqlite));
}
