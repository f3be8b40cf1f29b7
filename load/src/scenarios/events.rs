//! The event scenarios: a burst of public registrations, then the door staff checking them in.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{Value, json};

use super::{Ctx, Measured, Stop};
use crate::http::{Plan, Recorder, call, client, drive};

const BURST: usize = 1000;
/// Door staff scanning tickets at once.
const CHECKIN_CONCURRENCY: usize = 64;

/// A burst registration's answer.
struct Ticket {
    phone: String,
    took: Duration,
    outcome: Result<(u16, Vec<u8>), String>,
}

async fn spots_left(client: &reqwest::Client, base: &str, code: &str) -> Result<i64, String> {
    let (_, body) = call(client.get(format!("{base}/api/v1/public/events/{code}")))
        .await
        .map_err(|e| format!("the public event page: {e}"))?;
    let body: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    body["spots_left"].as_i64().ok_or_else(|| format!("no spots_left in {body}"))
}

/// Fires `BURST` registrations at once; gives them with the wall time from the start signal.
async fn fire_registrations(base: &str, code: &str, phones: &[String]) -> (Vec<Ticket>, f64) {
    let client = client(phones.len());
    let url = format!("{base}/api/v1/public/events/{code}/registrations");
    let barrier = Arc::new(tokio::sync::Barrier::new(phones.len() + 1));
    let tasks: Vec<_> = phones
        .iter()
        .map(|phone| {
            let body = json!({"name": "黄先生", "phone": phone, "consent": true});
            let (req, barrier, phone) = (client.post(&url).json(&body), barrier.clone(), phone.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let t = Instant::now();
                let outcome = call(req).await;
                (Ticket { phone, took: t.elapsed(), outcome }, Instant::now())
            })
        })
        .collect();
    barrier.wait().await;
    let start = Instant::now();
    let mut tickets = Vec::new();
    let mut end = start;
    for task in tasks {
        let (ticket, done) = task.await.unwrap();
        tickets.push(ticket);
        end = end.max(done);
    }
    (tickets, (end - start).as_secs_f64())
}

/// The event's attendees by phone (as the owner sees them: unmasked), with their statuses.
async fn attendees(cx: &Ctx, client: &reqwest::Client) -> Result<Vec<(String, String)>, String> {
    let ev = &cx.m.burst_event;
    let req = client.get(cx.url(&format!("/api/v1/events/{}/attendees", ev.id))).bearer_auth(cx.token(&ev.owner_phone));
    let (_, body) = call(req).await.map_err(|e| format!("the attendee list: {e}"))?;
    let body: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    Ok(body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|a| (a["phone"].as_str().unwrap_or("").to_owned(), a["status"].as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default())
}

pub async fn registration_burst(cx: &mut Ctx) -> Result<Measured, Stop> {
    let ev = cx.m.burst_event.clone();
    let probe = client(1);
    let before = spots_left(&probe, &cx.base, &ev.code).await?;
    // Phones of a block of their own, so a reused database still sees new attendees.
    let block: u32 = rand::rng().random_range(0..10_000);
    let phones: Vec<String> = (0..BURST).map(|i| format!("139{block:04}{i:04}")).collect();
    let (answers, seconds) = fire_registrations(&cx.base, &ev.code, &phones).await;

    let mut rec = Recorder::default();
    let (mut registered, mut waitlisted) = (Vec::new(), 0u64);
    let mut codes = HashSet::new();
    for t in answers {
        let ticket = t.outcome.and_then(|(status, body)| {
            let body: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
            if status != 201 {
                return Err(format!("{} got {status} (expected 201): {body}", t.phone));
            }
            Ok((
                body["ticket_code"].as_str().unwrap_or("").to_owned(),
                body["status"].as_str().unwrap_or("").to_owned(),
                body.to_string().len(),
            ))
        });
        match ticket {
            Ok((code, status, bytes)) => {
                rec.record(t.took, Ok(bytes as u64));
                if !codes.insert(code.clone()) {
                    rec.error(format!("ticket {code} given twice"));
                }
                match status.as_str() {
                    "registered" => registered.push(code),
                    "waitlisted" => waitlisted += 1,
                    other => rec.error(format!("{} got status {other}", t.phone)),
                }
            }
            Err(e) => rec.record(t.took, Err(e)),
        }
    }

    // The places given must be exactly the places there were, never more than the capacity.
    let expected = before.clamp(0, BURST as i64);
    let given = registered.len() as i64;
    let after = spots_left(&probe, &cx.base, &ev.code).await?;
    let mut violations = Vec::new();
    if given != expected {
        violations.push(format!("{given} registered, expected min({BURST}, {before} places left) = {expected}"));
    }
    if given > ev.capacity {
        violations.push(format!("{given} registered over a capacity of {}", ev.capacity));
    }
    if after != before - given {
        violations.push(format!("spots_left went {before} → {after} with {given} registered"));
    }
    // Every phone has exactly one ticket, as the server has it.
    let listed = attendees(cx, &probe).await?;
    let total_registered = listed.iter().filter(|(_, s)| s == "registered").count() as i64;
    if total_registered > ev.capacity {
        violations.push(format!("{total_registered} registered attendees in all over a capacity of {}", ev.capacity));
    }
    let mut per_phone: HashMap<&str, u32> = HashMap::new();
    for (phone, _) in &listed {
        *per_phone.entry(phone.as_str()).or_default() += 1;
    }
    let wrong = phones.iter().filter(|p| per_phone.get(p.as_str()).copied().unwrap_or(0) != 1).count();
    if wrong > 0 {
        violations.push(format!("{wrong} phones without exactly one ticket in the attendee list"));
    }
    let respected = violations.is_empty();
    for v in violations {
        eprintln!("registration_burst: VIOLATION: {v}");
        rec.error(v);
    }
    cx.capacity_respected = Some(respected);
    cx.tickets = registered;
    let notes = format!(
        "capacity {}, {before} places left → {given} registered, {waitlisted} waitlisted; capacity respected: {}",
        ev.capacity,
        if respected { "yes" } else { "no" }
    );
    Ok(Measured { concurrency: BURST, rec, seconds, notes })
}

pub async fn checkin_burst(cx: &mut Ctx) -> Result<Measured, Stop> {
    if cx.tickets.is_empty() {
        return Err(Stop::Skip("no registered tickets (run registration_burst first)".to_owned()));
    }
    let concurrency = CHECKIN_CONCURRENCY.min(cx.tickets.len());
    let http = client(concurrency);
    let ev = &cx.m.burst_event;
    let (token, url) = (cx.token(&ev.owner_phone), cx.url(&format!("/api/v1/events/{}/checkins", ev.id)));
    let tickets = Arc::new(cx.tickets.clone());
    let already = Arc::new(AtomicU64::new(0));
    let (job_tickets, job_already, job_url, job_token) = (tickets.clone(), already.clone(), url.clone(), token.clone());
    let (mut rec, seconds) = drive(Plan::count(concurrency, tickets.len() as u64), move |_, n| {
        let req = http.post(&job_url).bearer_auth(&job_token).json(&json!({"ticket_code": job_tickets[n as usize]}));
        let already = job_already.clone();
        async move {
            let (_, body) = call(req).await?;
            let answer: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
            if answer["already_checked_in"] == true {
                already.fetch_add(1, Ordering::Relaxed);
            }
            Ok(body.len() as u64)
        }
    })
    .await;
    // A second scan of a few must say so, and is not timed.
    let again = client(1);
    let mut second = 0;
    for code in tickets.iter().take(5) {
        let answer = call(again.post(&url).bearer_auth(&token).json(&json!({"ticket_code": code}))).await;
        match answer.and_then(|(_, b)| serde_json::from_slice::<Value>(&b).map_err(|e| e.to_string())) {
            Ok(body) if body["already_checked_in"] == true => second += 1,
            Ok(body) => rec.error(format!("second scan of {code} not already_checked_in: {body}")),
            Err(e) => rec.error(format!("second scan of {code}: {e}")),
        }
    }
    let notes = format!(
        "{} tickets, {} already checked in on the first scan; second scan: {second}/{} already_checked_in",
        tickets.len(),
        already.load(Ordering::Relaxed),
        tickets.len().min(5)
    );
    Ok(Measured { concurrency, rec, seconds, notes })
}
