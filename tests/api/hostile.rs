//! Hostile bodies and uploads against the real binary: each is answered with a 4xx within a
//! bounded time, the server keeps serving, and its peak memory (VmHWM, read from /proc) stays
//! under a stated bound.

use std::io::Cursor;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::cli::{Sandbox, free_port, wait_until_up};
use crate::durability::Remote;
use crate::partners::CENTRE;

/// The peak resident memory the server may reach through all of this, debug build included:
/// the demo's data, two photo decoders at the 12 MP limit set here, and every hostile body.
const PEAK_BOUND_MIB: u64 = 320;

/// Writes `head`, then `body`, then (when `flood` is set) a stream of zeros in chunked frames of
/// 1 MiB up to that many bytes, never closing; returns the status line's code, if any came, and
/// how long it took. A server that closes without answering gives `None`.
async fn exchange(port: u16, head: String, body: Vec<u8>, flood: usize) -> (Option<u16>, Duration) {
    let started = Instant::now();
    let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let sender = tokio::spawn(async move {
        let _ = writer.write_all(head.as_bytes()).await;
        let _ = writer.write_all(&body).await;
        let chunk = vec![0u8; 1 << 20];
        let mut sent = 0;
        while sent < flood {
            let frame = [format!("{:x}\r\n", chunk.len()).into_bytes(), chunk.clone(), b"\r\n".to_vec()].concat();
            if writer.write_all(&frame).await.is_err() {
                break;
            }
            sent += chunk.len();
        }
        // Hold the connection open: a slow client never finishes.
        tokio::time::sleep(Duration::from_secs(60)).await;
        drop(writer);
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    if answer.windows(2).any(|w| w == b"\r\n") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    sender.abort();
    assert!(read.is_ok(), "no answer and no close within 20 s");
    let status = String::from_utf8_lossy(&answer).split_whitespace().nth(1).and_then(|s| s.parse().ok());
    (status, started.elapsed())
}

fn peak_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() / 1024
}

/// A JPEG whose frame header claims `w`×`h`: the decoder's shape of a pixel flood.
fn jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut jpeg = crate::photos::photo(16, 16, &Default::default());
    let sof = jpeg.windows(2).position(|m| m == [0xFF, 0xC0]).expect("baseline frame header");
    jpeg[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    jpeg
}

/// A real PNG of `w`×`h` black pixels: a few kilobytes that inflate to `3·w·h` bytes.
fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    let image = image::RgbImage::new(w, h);
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn hostile_bodies_get_a_4xx_in_bounded_time_and_memory() {
    let sandbox = Sandbox::with_demo();
    let port = free_port();
    let remote = Remote::new(port);
    let server = sandbox
        .command()
        .args(["serve", "--demo"])
        .env("OUTREACH_BIND", format!("127.0.0.1:{port}"))
        .env("OUTREACH_BODY_TIMEOUT_SECS", "2")
        .env("OUTREACH_PHOTO_MAX_PIXELS", "12000000")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = server.id().unwrap();
    wait_until_up(&remote.client, &remote.base).await;
    let token = remote.login("13800000004").await;
    let at = (chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc3339();
    let visit = json!({"location": {"lat": CENTRE.0, "lon": CENTRE.1, "accuracy_m": 10}, "visited_at": at, "purpose": "relationship"});
    let visit = remote.expect("/api/v1/visits", Some(&token), &visit, 201).await;
    let photos = format!("/api/v1/visits/{}/photos", visit["id"].as_str().unwrap());
    let auth = format!("Authorization: Bearer {token}\r\n");

    // Slowloris: a request head that never ends is cut off after 5 s.
    let (status, took) = exchange(port, "POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\n".into(), vec![], 0).await;
    assert!(matches!(status, None | Some(408)), "{status:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    // A body that trickles: 408 at the body deadline (2 s here), for JSON and for an upload.
    let head =
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
    let (status, took) = exchange(port, head.into(), b"{\"phone\":".to_vec(), 0).await;
    assert_eq!(status, Some(408));
    assert!(took < Duration::from_secs(8), "{took:?}");
    let head = format!(
        "POST {photos} HTTP/1.1\r\nHost: t\r\n{auth}Content-Type: image/jpeg\r\nContent-Length: 500000\r\n\r\n"
    );
    let (status, took) = exchange(port, head, vec![0xFF, 0xD8, 0xFF], 0).await;
    assert_eq!(status, Some(408));
    assert!(took < Duration::from_secs(8), "{took:?}");

    // 100 MB: refused from its Content-Length before a byte of it is read, or at the limit when
    // it comes without one.
    let head = format!(
        "POST {photos} HTTP/1.1\r\nHost: t\r\n{auth}Content-Type: image/jpeg\r\nContent-Length: 104857600\r\n\r\n"
    );
    let (status, took) = exchange(port, head, vec![], 0).await;
    assert_eq!(status, Some(413));
    assert!(took < Duration::from_secs(3), "{took:?}");
    for (path, content_type) in [("/api/v1/auth/login", "application/json"), (photos.as_str(), "image/jpeg")] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: t\r\n{auth}Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        let (status, took) = exchange(port, head, vec![], 100 << 20).await;
        assert_eq!(status, Some(413), "{path}");
        assert!(took < Duration::from_secs(8), "{path}: {took:?}");
    }

    // JSON nested past any sane depth, where the schema takes any JSON (a pushed record): refused
    // at serde's depth limit, no stack overflow; where it does not, at the first wrong shape.
    let deep =
        |open: &str, n: usize| format!("{{\"changes\": {{\"partners\": {{\"created\": [{{\"x\": {}", open.repeat(n));
    for (path, body) in [
        ("/api/v1/sync/push", deep("[", 400_000)),
        ("/api/v1/sync/push", deep("{\"a\":", 100_000)),
        ("/api/v1/auth/login", "[".repeat(500_000)),
    ] {
        let started = Instant::now();
        let response = remote
            .client
            .post(format!("{}{path}", remote.base))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let problem: Value = response.json().await.unwrap();
        assert!(
            matches!((status, problem["code"].as_str()), (400, Some("malformed_json")) | (422, Some("invalid_body"))),
            "{status} {problem}"
        );
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    // Images: floods and bombs refused from their headers; a bomb within the limit is decoded
    // under it; a polyglot is re-encoded, so its payload is not served; a cut-off file is refused.
    let upload = |bytes: Vec<u8>, content_type: &'static str| {
        remote
            .client
            .post(format!("{}{photos}", remote.base))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(bytes)
            .send()
    };
    for (bytes, content_type) in [
        (crate::photos::png_claiming(20_000, 20_000), "image/png"),
        (jpeg_claiming(60_000, 60_000), "image/jpeg"),
        (png_bomb(4000, 4000), "image/png"),
    ] {
        let started = Instant::now();
        let response = upload(bytes, content_type).await.unwrap();
        assert_eq!(response.status(), 422);
        assert_eq!(response.json::<Value>().await.unwrap()["code"], "image_too_large");
        assert!(started.elapsed() < Duration::from_secs(2), "refused from the header");
    }
    let inside = upload(png_bomb(3400, 3400), "image/png").await.unwrap();
    assert_eq!(inside.status(), 201, "a large but allowed image is processed");
    let mut polyglot = crate::photos::photo(320, 240, &Default::default());
    polyglot.extend_from_slice(b"<html><script>alert(document.cookie)</script></html>PK\x03\x04");
    let stored: Value = upload(polyglot, "image/jpeg").await.unwrap().json().await.unwrap();
    let served = remote
        .client
        .get(format!("{}{}", remote.base, stored["url"].as_str().unwrap()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    let served = served.bytes().await.unwrap();
    assert!(!served.windows(8).any(|w| w == b"<script>") && !served.windows(4).any(|w| w == b"PK\x03\x04"));
    let whole = png_bomb(64, 64);
    let cut = upload(whole[..whole.len() / 2].to_vec(), "image/png").await.unwrap();
    assert_eq!(cut.status(), 422);

    // Still serving, within the bound.
    assert_eq!(remote.client.get(format!("{}/healthz", remote.base)).send().await.unwrap().status(), 200);
    let peak = peak_mib(pid);
    eprintln!("server peak resident memory through the hostile bodies: {peak} MiB (bound {PEAK_BOUND_MIB})");
    assert!(peak < PEAK_BOUND_MIB, "peak {peak} MiB");
    drop(server);
}
