//! The field scenarios: logins, visits, nearby partners, the map, photos.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use outreach::fixtures::rows::place::{jitter, near, viewport};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::{Ctx, Measured, Stop, id_of, visit_body};
use crate::http::{Plan, call, client, drive};

pub async fn login(cx: &mut Ctx) -> Result<Measured, Stop> {
    let phones: Arc<Vec<String>> = Arc::new(cx.m.account_managers.iter().map(|a| a.phone.clone()).collect());
    if phones.is_empty() {
        return Err(Stop::Skip("no account managers".to_owned()));
    }
    let concurrency = cx.args.login_concurrency;
    let client = client(concurrency);
    let (url, password) = (cx.url("/api/v1/auth/login"), cx.m.password.clone());
    let plan = Plan {
        concurrency,
        warmup: Duration::ZERO,
        duration: Some(cx.args.duration.min(Duration::from_secs(5))),
        requests: Some(200),
    };
    let (rec, seconds) = drive(plan, move |_, n| {
        let phone = &phones[n as usize % phones.len()];
        let req = client.post(&url).json(&json!({"phone": phone, "password": password}));
        async move { call(req).await.map(|(_, body)| body.len() as u64) }
    })
    .await;
    Ok(Measured { concurrency, rec, seconds, notes: "argon2-bound".to_owned() })
}

/// New partners near each account manager's own, every one with another name: the create
/// checks its neighbourhood for likely duplicates, and the territories for the one it falls in.
pub async fn create_partner(cx: &mut Ctx) -> Result<Measured, Stop> {
    const CATEGORIES: [&str; 4] = ["supermarket", "community", "school", "garment_wholesale"];
    let concurrency = cx.args.concurrency;
    let client = client(concurrency);
    let (ams, url) = (cx.ams.clone(), cx.url("/api/v1/partners"));
    let (rec, seconds) = drive(Plan::timed(concurrency, cx.args.duration), move |task, n| {
        let am = &ams[task % ams.len()];
        let mut rng = StdRng::seed_from_u64(n ^ 0x5EED_0000);
        let p = &am.partners[rng.random_range(0..am.partners.len())];
        let (lat, lon) = near(&mut rng, p.lat, p.lon, 800.0);
        let body = json!({
            "name": format!("负载测试商户 {task}-{n}"),
            "category": CATEGORIES[(n % 4) as usize],
            "location": {"lat": lat, "lon": lon},
            "address": format!("江门市蓬江区测试路 {n} 号"),
            "contact_name": "陈经理",
            "contact_phone": format!("139{:08}", n % 100_000_000),
        });
        let req = client.post(&url).bearer_auth(&am.token).json(&body);
        async move {
            let (status, body) = call(req).await?;
            if status != 201 {
                return Err(format!("{status} (expected 201): {}", String::from_utf8_lossy(&body)));
            }
            Ok(body.len() as u64)
        }
    })
    .await;
    Ok(Measured { concurrency, rec, seconds, notes: String::new() })
}

pub async fn create_visit(cx: &mut Ctx) -> Result<Measured, Stop> {
    let concurrency = cx.args.concurrency;
    let client = client(concurrency);
    let (ams, kept, url) = (cx.ams.clone(), cx.visits.clone(), cx.url("/api/v1/visits"));
    let centre = cx.m.city_centre;
    // Enough visits for the photo scenario, each photo on a visit of its own.
    let keep = cx.args.photo_requests as usize;
    let (rec, seconds) = drive(Plan::timed(concurrency, cx.args.duration), move |task, n| {
        let am = &ams[task % ams.len()];
        let mut rng = StdRng::seed_from_u64(n);
        let partner = &am.partners[rng.random_range(0..am.partners.len())];
        let req = client.post(&url).bearer_auth(&am.token).json(&visit_body(&mut rng, Some(partner), centre));
        let (token, kept) = (am.token.clone(), kept.clone());
        async move {
            let (status, body) = call(req).await?;
            if status != 201 {
                return Err(format!("{status} (expected 201): {}", String::from_utf8_lossy(&body)));
            }
            let mut kept = kept.lock().unwrap();
            if kept.len() < keep
                && let Some(id) = id_of(&body)
            {
                kept.push((token, id));
            }
            Ok(body.len() as u64)
        }
    })
    .await;
    Ok(Measured { concurrency, rec, seconds, notes: String::new() })
}

pub async fn nearby(cx: &mut Ctx) -> Result<Measured, Stop> {
    let concurrency = cx.args.concurrency;
    let client = client(concurrency);
    let (ams, base) = (cx.ams.clone(), cx.base.clone());
    let (rec, seconds) = drive(Plan::timed(concurrency, cx.args.duration), move |task, n| {
        let am = &ams[task % ams.len()];
        let mut rng = StdRng::seed_from_u64(n);
        let p = &am.partners[rng.random_range(0..am.partners.len())];
        let (lat, lon) = near(&mut rng, p.lat, p.lon, 300.0);
        let url = format!("{base}/api/v1/partners/nearby?lat={lat:.6}&lon={lon:.6}&radius_m=1000&limit=50");
        let req = client.get(url).bearer_auth(&am.token);
        async move { call(req).await.map(|(_, body)| body.len() as u64) }
    })
    .await;
    Ok(Measured { concurrency, rec, seconds, notes: String::new() })
}

pub async fn map_view(cx: &mut Ctx, [lat, lon]: [f64; 2], zoom: u8) -> Result<Measured, Stop> {
    let concurrency = cx.args.map_concurrency;
    let client = client(concurrency);
    let (token, base) = (cx.token(&cx.m.branch_manager), cx.base.clone());
    let (rec, seconds) = drive(Plan::timed(concurrency, cx.args.duration), move |_, n| {
        let mut rng = StdRng::seed_from_u64(n);
        let (la, lo) = jitter(&mut rng, lat, lon, zoom);
        let url = format!("{base}/api/v1/map/features?bbox={}&zoom={zoom}", viewport(la, lo, zoom));
        let req = client.get(url).bearer_auth(&token);
        async move { call(req).await.map(|(_, body)| body.len() as u64) }
    })
    .await;
    Ok(Measured { concurrency, rec, seconds, notes: "branch manager, 1280×800 px".to_owned() })
}

/// A 4000×3000 photo with texture (a gradient, waves and noise), as a phone's JPEG of 2–5 MB:
/// a flat image would compress to almost nothing and spare the server's decoder.
fn photo_jpeg() -> Vec<u8> {
    let (w, h) = (4000u32, 3000u32);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let image = image::RgbImage::from_fn(w, h, |x, y| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let noise = (state % 13) as f32 - 6.0;
        let wave = 24.0 * ((x as f32 / 37.0).sin() * (y as f32 / 53.0).cos());
        let base = [x * 200 / w, y * 200 / h, (x + y) * 120 / (w + h)];
        image::Rgb(base.map(|b| (b as f32 + 30.0 + wave + noise).clamp(0.0, 255.0) as u8))
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&image).unwrap();
    out
}

/// Visits for `n` photos, one each: those `create_visit` made, topped up with new ones.
async fn visits_for_photos(cx: &Ctx, client: &reqwest::Client, n: usize) -> Result<Vec<(String, String)>, String> {
    let mut visits = cx.visits.lock().unwrap().clone();
    let mut rng = StdRng::seed_from_u64(cx.args.seed ^ 0x9607);
    let mut i = 0;
    while visits.len() < n {
        let am = &cx.ams[i % cx.ams.len()];
        let partner = &am.partners[rng.random_range(0..am.partners.len())];
        let body = visit_body(&mut rng, Some(partner), cx.m.city_centre);
        let (_, created) = call(client.post(cx.url("/api/v1/visits")).bearer_auth(&am.token).json(&body)).await?;
        visits.push((am.token.clone(), id_of(&created).ok_or("a created visit without id")?));
        i += 1;
    }
    visits.truncate(n);
    Ok(visits)
}

pub async fn photo_upload(cx: &mut Ctx) -> Result<Measured, Stop> {
    let requests = cx.args.photo_requests;
    let concurrency = cx.args.photo_concurrency.min(requests as usize);
    let client = client(concurrency);
    let visits = Arc::new(visits_for_photos(cx, &client, requests as usize).await?);
    // Made once and shared by every request without copies.
    let jpeg: &'static [u8] = tokio::task::spawn_blocking(photo_jpeg).await.unwrap().leak();
    let repeated = Arc::new(AtomicU64::new(0));
    let (base, seen) = (cx.base.clone(), repeated.clone());
    let (rec, seconds) = drive(Plan::count(concurrency, requests), move |_, n| {
        let (token, visit) = &visits[n as usize];
        let req = client
            .post(format!("{base}/api/v1/visits/{visit}/photos"))
            .bearer_auth(token)
            .header("content-type", "image/jpeg")
            .body(jpeg);
        let seen = seen.clone();
        async move {
            let (status, body) = call(req).await?;
            // 200: the image was on the visit already (a retry), which this driver never means.
            if status != 201 {
                seen.fetch_add(1, Ordering::Relaxed);
            }
            Ok(body.len() as u64)
        }
    })
    .await;
    let notes = format!(
        "JPEG 4000×3000, {:.2} MiB; {} answered 200 (already on the visit)",
        jpeg.len() as f64 / 1_048_576.0,
        repeated.load(Ordering::Relaxed)
    );
    Ok(Measured { concurrency, rec, seconds, notes })
}
