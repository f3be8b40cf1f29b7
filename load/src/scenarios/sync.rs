//! The sync scenarios: a phone's first sync, and incremental pulls by one phone and by many.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use outreach::fixtures::seed::manifest::PartnerRef;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::de::IgnoredAny;

use super::{Ctx, Measured, Stop, visit_body};
use crate::http::{Plan, Recorder, call, client, drive};

const INCREMENTAL_PULLS: u64 = 50;

/// Only how many records a pull page holds, not the records themselves.
#[derive(serde::Deserialize)]
struct Page {
    changes: HashMap<String, TableChanges>,
    cursor: String,
    has_more: bool,
}

#[derive(serde::Deserialize)]
struct TableChanges {
    created: Vec<IgnoredAny>,
    updated: Vec<IgnoredAny>,
    deleted: Vec<IgnoredAny>,
}

/// What one sync brought: records, bytes, pages and the cursor to pull from next.
struct Synced {
    records: u64,
    bytes: u64,
    pages: u64,
    cursor: String,
}

/// Pulls from `cursor` (none: a first sync) until `has_more` is false, as the phone does.
async fn sync_all(client: &reqwest::Client, base: &str, token: &str, cursor: Option<String>) -> Result<Synced, String> {
    let mut synced = Synced { records: 0, bytes: 0, pages: 0, cursor: cursor.unwrap_or_default() };
    loop {
        // Cursors are URL-safe base64: no escaping needed.
        let url = if synced.cursor.is_empty() {
            format!("{base}/api/v1/sync/pull")
        } else {
            format!("{base}/api/v1/sync/pull?cursor={}", synced.cursor)
        };
        let req = client.get(url).bearer_auth(token);
        let (_, body) = call(req).await?;
        let page: Page = serde_json::from_slice(&body).map_err(|e| format!("pull page: {e}"))?;
        synced.pages += 1;
        synced.bytes += body.len() as u64;
        synced.records +=
            page.changes.values().map(|t| (t.created.len() + t.updated.len() + t.deleted.len()) as u64).sum::<u64>();
        synced.cursor = page.cursor;
        if !page.has_more {
            return Ok(synced);
        }
    }
}

pub async fn first(cx: &mut Ctx) -> Result<Measured, Stop> {
    let client = client(1);
    let (token, base) = (cx.token(&cx.m.sync_account_manager), cx.base.clone());
    let last: Arc<Mutex<Option<Synced>>> = Arc::default();
    let out = last.clone();
    let (rec, seconds) = drive(Plan::count(1, cx.args.sync_repeats), move |_, _| {
        let (client, base, token, last) = (client.clone(), base.clone(), token.clone(), last.clone());
        async move {
            let synced = sync_all(&client, &base, &token, None).await?;
            let bytes = synced.bytes;
            *last.lock().unwrap() = Some(synced);
            Ok(bytes)
        }
    })
    .await;
    let notes = match out.lock().unwrap().take() {
        Some(s) => {
            cx.sync_cursor = Some(s.cursor);
            format!("{} records, {} pages, {:.2} MiB per sync", s.records, s.pages, s.bytes as f64 / 1_048_576.0)
        }
        None => String::new(),
    };
    Ok(Measured { concurrency: 1, rec, seconds, notes })
}

pub async fn incremental(cx: &mut Ctx) -> Result<Measured, Stop> {
    let client = client(1);
    let phone = cx.m.sync_account_manager.clone();
    let token = cx.token(&phone);
    let mut cursor = match cx.sync_cursor.take() {
        Some(c) => c,
        None => sync_all(&client, &cx.base, &token, None).await?.cursor,
    };
    let partners: Vec<PartnerRef> =
        cx.m.account_managers.iter().find(|a| a.phone == phone).map(|a| a.partners.clone()).unwrap_or_default();
    let mut rng = StdRng::seed_from_u64(cx.args.seed);
    let (mut rec, mut records, mut non_empty) = (Recorder::default(), 0, 0);
    let started = Instant::now();
    for i in 0..INCREMENTAL_PULLS {
        // A new visit before every fifth pull (not timed), so some pulls carry a change.
        if i % 5 == 0 {
            let partner = (!partners.is_empty()).then(|| &partners[rng.random_range(0..partners.len())]);
            let body = visit_body(&mut rng, partner, cx.m.city_centre);
            call(client.post(cx.url("/api/v1/visits")).bearer_auth(&token).json(&body)).await?;
        }
        let t = Instant::now();
        match sync_all(&client, &cx.base, &token, Some(cursor.clone())).await {
            Ok(s) => {
                rec.record(t.elapsed(), Ok(s.bytes));
                records += s.records;
                non_empty += u64::from(s.records > 0);
                cursor = s.cursor;
            }
            Err(e) => rec.record(t.elapsed(), Err(e)),
        }
    }
    // The seconds the pulls took, not the visits in between.
    let seconds = rec.latencies.iter().sum::<Duration>().as_secs_f64().min(started.elapsed().as_secs_f64());
    cx.sync_cursor = Some(cursor);
    let notes = format!("{records} records in {non_empty} non-empty pulls; a visit before every 5th");
    Ok(Measured { concurrency: 1, rec, seconds, notes })
}

pub async fn incremental_16(cx: &mut Ctx) -> Result<Measured, Stop> {
    let concurrency = cx.ams.len().min(16);
    let client = client(concurrency);
    // Each task is a phone of its own, so each first needs a full sync (not timed).
    let mut cursors = Vec::new();
    for am in cx.ams.iter().take(concurrency) {
        cursors.push(Mutex::new(sync_all(&client, &cx.base, &am.token, None).await?.cursor));
    }
    let (ams, base, cursors) = (cx.ams.clone(), cx.base.clone(), Arc::new(cursors));
    let (rec, seconds) = drive(Plan::timed(concurrency, cx.args.duration), move |task, _| {
        let (client, base, ams, cursors) = (client.clone(), base.clone(), ams.clone(), cursors.clone());
        async move {
            let cursor = cursors[task].lock().unwrap().clone();
            let synced = sync_all(&client, &base, &ams[task].token, Some(cursor)).await?;
            *cursors[task].lock().unwrap() = synced.cursor;
            Ok(synced.bytes)
        }
    })
    .await;
    Ok(Measured { concurrency, rec, seconds, notes: "one account manager per task".to_owned() })
}
