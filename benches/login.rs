//! Login throughput at the production Argon2id cost (m=19456 KiB, t=2, p=1).
//!
//! Starts the real server in-process on an embedded database, creates users, and drives
//! `POST /api/v1/auth/login` from concurrent clients for a fixed time. Prints logins/s and
//! latency percentiles.
//!
//!     cargo bench --bench login -- [--concurrency 16] [--seconds 10]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{arg, percentile};
use std::collections::HashMap;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use outreach::app::startup::Application;
use outreach::context::config::Settings;
use outreach::domain::Role;
use secrecy::SecretString;

#[tokio::main]
async fn main() {
    let concurrency = arg("--concurrency", 16) as usize;
    let seconds = arg("--seconds", 10);
    let dir = tempfile::tempdir().unwrap();
    let env = HashMap::from([
        ("OUTREACH_DATA_DIR".to_owned(), dir.path().to_string_lossy().into_owned()),
        // Logins from one address and few accounts: lift the throttles, this measures hashing.
        ("OUTREACH_LOGIN_ACCOUNT_BURST".to_owned(), "1000000".to_owned()),
        ("OUTREACH_LOGIN_ACCOUNT_PER_MINUTE".to_owned(), "1000000".to_owned()),
        ("OUTREACH_LOGIN_IP_BURST".to_owned(), "1000000".to_owned()),
        ("OUTREACH_LOGIN_IP_PER_MINUTE".to_owned(), "1000000".to_owned()),
    ]);
    let settings = Settings::load(&env).unwrap();
    let app = Application::build_with_listener(settings, TcpListener::bind("127.0.0.1:0").unwrap()).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    let mut phones = Vec::new();
    for n in 0..concurrency {
        let phone = format!("1370000{n:04}");
        outreach::context::bootstrap::create_user(
            &state,
            &phone,
            "Bench",
            SecretString::from("bench password 123"),
            Role::Admin,
            None,
        )
        .await
        .unwrap();
        phones.push(phone);
    }

    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = phones
        .into_iter()
        .map(|phone| {
            let client = client.clone();
            let url = format!("{base}/api/v1/auth/login");
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                let body = serde_json::json!({"phone": phone, "password": "bench password 123"});
                while Instant::now() < deadline {
                    let t = Instant::now();
                    match client.post(&url).json(&body).send().await {
                        Ok(r) if r.status() == 200 => latencies.push(t.elapsed()),
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (latencies, e) = worker.await.unwrap();
        all.extend(latencies);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    println!(
        "login: {} ok, {} errors in {:.1} s at concurrency {} → {:.1} logins/s; p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms",
        all.len(),
        errors,
        elapsed,
        concurrency,
        all.len() as f64 / elapsed,
        percentile(&all, 50.0).as_secs_f64() * 1000.0,
        percentile(&all, 95.0).as_secs_f64() * 1000.0,
        percentile(&all, 99.0).as_secs_f64() * 1000.0,
    );
}
