//! The HTTP side: clients, calls and logins, waiting for the server, and driving many requests at
//! once while recording what came back.

use std::collections::HashMap;
use std::future::Future;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use outreach::fixtures::rows::place::viewport;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING};
use serde_json::{Value, json};

use crate::server::alive;

/// Logins hash a password each (argon2): a few at a time, or the server only queues them.
const LOGIN_PARALLEL: usize = 4;
const WARMUP: Duration = Duration::from_secs(1);

/// One client shared by `connections` tasks: as many keep-alive connections as tasks.
pub fn client(connections: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(300))
        .build()
        .unwrap()
}

/// Sends a request; a 2xx answer gives its status and body, anything else a short description.
pub async fn call(req: reqwest::RequestBuilder) -> Result<(u16, Vec<u8>), String> {
    let r = req.send().await.map_err(|e| format!("transport: {e}"))?;
    let status = r.status().as_u16();
    let body = r.bytes().await.map_err(|e| format!("{status}, reading the body: {e}"))?;
    if (200..300).contains(&status) { Ok((status, body.to_vec())) } else { Err(refused(status, &body)) }
}

/// Sends a request that accepts gzip, as a phone does. The client inflates nothing (reqwest is
/// built without its `gzip` feature), so a 2xx answer gives the body as it came over the wire and
/// whether it is gzip (`Content-Encoding`); anything else a short description.
pub async fn call_gzip(req: reqwest::RequestBuilder) -> Result<(bool, Vec<u8>), String> {
    let r = req.header(ACCEPT_ENCODING, "gzip").send().await.map_err(|e| format!("transport: {e}"))?;
    let status = r.status().as_u16();
    let gzip = match r.headers().get(CONTENT_ENCODING).map(|v| v.to_str().unwrap_or("?")) {
        None | Some("identity") => false,
        Some("gzip") => true,
        Some(other) => return Err(format!("{status}: answered in Content-Encoding {other:?}")),
    };
    let body = r.bytes().await.map_err(|e| format!("{status}, reading the body: {e}"))?;
    match ((200..300).contains(&status), gzip) {
        (true, _) => Ok((gzip, body.to_vec())),
        (false, true) => Err(refused(status, &gunzip(&body).unwrap_or_else(|_| body.to_vec()))),
        (false, false) => Err(refused(status, &body)),
    }
}

/// A gzip body inflated.
pub fn gunzip(body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(body.len() * 8);
    flate2::read::GzDecoder::new(body).read_to_end(&mut out).map_err(|e| format!("inflating the body: {e}"))?;
    Ok(out)
}

/// A non-2xx answer, shortly.
fn refused(status: u16, body: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(body).chars().take(400).collect();
    format!("{status}: {text}")
}

pub async fn login(client: &reqwest::Client, base: &str, phone: &str, password: &str) -> Result<String, String> {
    let req = client.post(format!("{base}/api/v1/auth/login")).json(&json!({"phone": phone, "password": password}));
    let (_, body) = call(req).await?;
    let body: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    body["access_token"].as_str().map(str::to_owned).ok_or_else(|| format!("no access_token in {body}"))
}

/// Logs every phone in once, a few at a time; phone → access token.
pub async fn login_all(base: &str, phones: Vec<String>, password: &str) -> HashMap<String, String> {
    let started = Instant::now();
    let client = client(LOGIN_PARALLEL);
    let queue = Arc::new(Mutex::new(phones));
    let workers: Vec<_> = (0..LOGIN_PARALLEL)
        .map(|_| {
            let (client, queue, base, password) = (client.clone(), queue.clone(), base.to_owned(), password.to_owned());
            tokio::spawn(async move {
                let mut tokens = Vec::new();
                loop {
                    let Some(phone) = queue.lock().unwrap().pop() else { break };
                    let token =
                        login(&client, &base, &phone, &password).await.unwrap_or_else(|e| panic!("login {phone}: {e}"));
                    tokens.push((phone, token));
                }
                tokens
            })
        })
        .collect();
    let mut tokens = HashMap::new();
    for w in workers {
        tokens.extend(w.await.unwrap());
    }
    eprintln!("logged in {} users in {:.1} s", tokens.len(), started.elapsed().as_secs_f64());
    tokens
}

/// Seconds from the server's start until `/readyz` answers 200 (polled every 100 ms, ≤ 120 s).
pub async fn wait_ready(base: &str, since: Instant, pid: Option<u32>, log: Option<&Path>) -> f64 {
    let client = client(1);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(r) = client.get(format!("{base}/readyz")).timeout(Duration::from_secs(5)).send().await
            && r.status() == 200
        {
            return since.elapsed().as_secs_f64();
        }
        if pid.is_some_and(|pid| !alive(pid)) {
            let tail = log.and_then(|l| std::fs::read_to_string(l).ok()).unwrap_or_default();
            panic!("the server exited before it was ready:\n{tail}");
        }
        assert!(Instant::now() < deadline, "{base}/readyz did not answer 200 within 120 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Seconds from the server's start until a map request answers: the index loads in the
/// background, and the first request waits for it.
pub async fn wait_map(base: &str, token: &str, [lat, lon]: [f64; 2], since: Instant) -> f64 {
    let client = client(1);
    let url = format!("{base}/api/v1/map/features?bbox={}&zoom=12", viewport(lat, lon, 12));
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        match call(client.get(&url).bearer_auth(token)).await {
            Ok(_) => return since.elapsed().as_secs_f64(),
            Err(e) => {
                assert!(Instant::now() < deadline, "the map did not answer within 600 s: {e}");
                eprintln!("map not ready yet: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// What was measured of one scenario: requests, successes' latencies, errors and bytes received.
#[derive(Default)]
pub struct Recorder {
    pub requests: u64,
    pub latencies: Vec<Duration>,
    pub errors: u64,
    pub bytes: u64,
    pub first_errors: Vec<String>,
}

impl Recorder {
    /// One request's outcome.
    pub fn record(&mut self, took: Duration, outcome: Result<u64, String>) {
        self.requests += 1;
        match outcome {
            Ok(bytes) => {
                self.latencies.push(took);
                self.bytes += bytes;
            }
            Err(e) => self.error(e),
        }
    }

    /// An error that is no request of its own (a failed check).
    pub fn error(&mut self, e: String) {
        self.errors += 1;
        if self.first_errors.len() < 3 {
            self.first_errors.push(e);
        }
    }

    fn merge(&mut self, other: Recorder) {
        self.requests += other.requests;
        self.latencies.extend(other.latencies);
        self.bytes += other.bytes;
        for e in other.first_errors {
            if self.first_errors.len() < 3 {
                self.first_errors.push(e);
            }
        }
        self.errors += other.errors;
    }
}

/// How long a scenario runs: `concurrency` tasks until `duration` after `warmup` has passed, or
/// until `requests` have been sent, whichever comes first.
#[derive(Clone, Copy)]
pub struct Plan {
    pub concurrency: usize,
    pub warmup: Duration,
    pub duration: Option<Duration>,
    pub requests: Option<u64>,
}

impl Plan {
    pub fn timed(concurrency: usize, duration: Duration) -> Plan {
        Plan { concurrency, warmup: WARMUP, duration: Some(duration), requests: None }
    }

    pub fn count(concurrency: usize, requests: u64) -> Plan {
        Plan { concurrency, warmup: Duration::ZERO, duration: None, requests: Some(requests) }
    }
}

/// Runs `job(task, n)` back to back in `plan.concurrency` tasks (`n` numbers the requests across
/// tasks); a job answers the bytes it received or an error. Gives what was measured after the
/// warm-up and the seconds from the end of the warm-up until the last request came back.
pub async fn drive<F, Fut>(plan: Plan, job: F) -> (Recorder, f64)
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<u64, String>> + Send + 'static,
{
    let job = Arc::new(job);
    let counter = Arc::new(AtomicU64::new(0));
    let measure_from = Instant::now() + plan.warmup;
    let deadline = plan.duration.map(|d| measure_from + d);
    let tasks: Vec<_> = (0..plan.concurrency)
        .map(|task| {
            let (job, counter) = (job.clone(), counter.clone());
            tokio::spawn(async move {
                let mut rec = Recorder::default();
                loop {
                    let t = Instant::now();
                    if deadline.is_some_and(|d| t >= d) {
                        break;
                    }
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    if plan.requests.is_some_and(|limit| n >= limit) {
                        break;
                    }
                    let outcome = job(task, n).await;
                    if t >= measure_from {
                        rec.record(t.elapsed(), outcome);
                    }
                }
                (rec, Instant::now())
            })
        })
        .collect();
    let mut total = Recorder::default();
    let mut end = measure_from;
    for task in tasks {
        let (rec, done) = task.await.unwrap();
        total.merge(rec);
        end = end.max(done);
    }
    (total, end.saturating_duration_since(measure_from).as_secs_f64())
}
