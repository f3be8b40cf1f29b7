//! The sync scenarios, in WatermelonDB's protocol (`GET /api/v1/sync`, docs/SYNC.md): a phone's
//! first sync, and incremental pulls by one phone and by many. A pull is one request, one change
//! set. Every pull asks for gzip, as the phone's `fetch` does; the driver reads the body as it came
//! over the wire (the bytes counted in the report) and inflates it itself.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use outreach::fixtures::seed::manifest::PartnerRef;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::de::IgnoredAny;

use super::{Ctx, Measured, Stop, visit_body};
use crate::http::{Plan, Recorder, call, call_gzip, client, drive, gunzip};

const INCREMENTAL_PULLS: u64 = 50;

/// Only how many records a change set holds, not the records themselves.
#[derive(serde::Deserialize)]
struct Answer {
    changes: BTreeMap<String, TableChanges>,
    timestamp: i64,
}

#[derive(serde::Deserialize)]
struct TableChanges {
    created: Vec<IgnoredAny>,
    updated: Vec<IgnoredAny>,
    deleted: Vec<IgnoredAny>,
}

#[derive(serde::Deserialize)]
struct Schema {
    version: u32,
}

/// What one pull brought.
struct Pulled {
    /// Created, updated and deleted, across tables.
    records: u64,
    /// Records per table, the most first.
    tables: Vec<(String, u64)>,
    /// Bytes of the JSON, inflated.
    raw: u64,
    /// Bytes of the body as received (gzip unless the server sent it plain).
    wire: u64,
    gzip: bool,
    /// To send back as `last_pulled_at`.
    timestamp: i64,
    /// From sending the request to the body's last byte.
    took: Duration,
    /// Inflating and counting the body afterwards, on the driver's side (not in `took`).
    decode: Duration,
}

/// The schema version the app would send: the server's newest (`GET /api/v1/sync/schema`).
async fn schema_version(client: &reqwest::Client, base: &str) -> Result<u32, String> {
    let (_, body) = call(client.get(format!("{base}/api/v1/sync/schema"))).await?;
    Ok(serde_json::from_slice::<Schema>(&body).map_err(|e| format!("sync schema: {e}"))?.version)
}

/// One pull from `since` (none: a first sync), as the app's `pullChanges` asks for it.
async fn pull(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    schema: u32,
    since: Option<i64>,
) -> Result<Pulled, String> {
    let url = format!(
        "{base}/api/v1/sync?last_pulled_at={}&schema_version={schema}&migration=null&coord=gcj02",
        since.unwrap_or(0)
    );
    let started = Instant::now();
    let (gzip, body) = call_gzip(client.get(url).bearer_auth(token)).await?;
    let took = started.elapsed();
    let started = Instant::now();
    let wire = body.len() as u64;
    let json = if gzip { gunzip(&body)? } else { body };
    let answer: Answer = serde_json::from_slice(&json).map_err(|e| format!("sync answer: {e}"))?;
    let mut tables: Vec<(String, u64)> = answer
        .changes
        .into_iter()
        .map(|(name, t)| (name, (t.created.len() + t.updated.len() + t.deleted.len()) as u64))
        .collect();
    tables.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(Pulled {
        records: tables.iter().map(|t| t.1).sum(),
        tables,
        raw: json.len() as u64,
        wire,
        gzip,
        timestamp: answer.timestamp,
        took,
        decode: started.elapsed(),
    })
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

/// `--sync-repeats` first syncs of the sync account manager, one after another; the time is the
/// request's, to the body's last byte (the driver's inflating and counting after it are not in it).
pub async fn first(cx: &mut Ctx) -> Result<Measured, Stop> {
    let client = client(1);
    let token = cx.token(&cx.m.sync_account_manager);
    let schema = schema_version(&client, &cx.base).await?;
    let (mut rec, mut last, mut decode) = (Recorder::default(), None, Duration::ZERO);
    let started = Instant::now();
    for _ in 0..cx.args.sync_repeats {
        match pull(&client, &cx.base, &token, schema, None).await {
            Ok(p) => {
                rec.record(p.took, Ok(p.wire));
                decode += p.decode;
                last = Some(p);
            }
            Err(e) => rec.record(Duration::ZERO, Err(e)),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let notes = match last {
        Some(p) => {
            cx.sync_timestamp = Some(p.timestamp);
            let tables: Vec<String> = p.tables.iter().map(|(name, n)| format!("{name} {n}")).collect();
            let wire = if p.gzip { "gzip" } else { "NOT gzip" };
            format!(
                "{} records ({}), one request; {:.2} MiB JSON, {:.2} MiB {wire} on the wire = 1/{:.1} of it; \
                 inflating and counting {:.1} ms a sync, not timed; schema {schema}",
                p.records,
                tables.join(", "),
                mib(p.raw),
                mib(p.wire),
                p.raw as f64 / p.wire.max(1) as f64,
                decode.as_secs_f64() * 1000.0 / rec.latencies.len().max(1) as f64,
            )
        }
        None => String::new(),
    };
    Ok(Measured { concurrency: 1, rec, seconds, notes })
}

/// 50 pulls of the sync account manager, each from the timestamp the one before gave (the first
/// from `sync_first`'s, or a first sync's, not timed), a new visit before every fifth.
pub async fn incremental(cx: &mut Ctx) -> Result<Measured, Stop> {
    let client = client(1);
    let phone = cx.m.sync_account_manager.clone();
    let token = cx.token(&phone);
    let schema = schema_version(&client, &cx.base).await?;
    let mut since = match cx.sync_timestamp.take() {
        Some(t) => t,
        None => pull(&client, &cx.base, &token, schema, None).await?.timestamp,
    };
    let partners: Vec<PartnerRef> =
        cx.m.account_managers.iter().find(|a| a.phone == phone).map(|a| a.partners.clone()).unwrap_or_default();
    let mut rng = StdRng::seed_from_u64(cx.args.seed);
    let (mut rec, mut records, mut non_empty, mut raw) = (Recorder::default(), 0, 0, 0);
    let started = Instant::now();
    for i in 0..INCREMENTAL_PULLS {
        // A new visit before every fifth pull (not timed), so some pulls carry a change.
        if i % 5 == 0 {
            let partner = (!partners.is_empty()).then(|| &partners[rng.random_range(0..partners.len())]);
            let body = visit_body(&mut rng, partner, cx.m.city_centre);
            call(client.post(cx.url("/api/v1/visits")).bearer_auth(&token).json(&body)).await?;
        }
        match pull(&client, &cx.base, &token, schema, Some(since)).await {
            Ok(p) => {
                rec.record(p.took, Ok(p.wire));
                records += p.records;
                raw += p.raw;
                non_empty += u64::from(p.records > 0);
                since = p.timestamp;
            }
            Err(e) => rec.record(Duration::ZERO, Err(e)),
        }
    }
    // The seconds the pulls took, not the visits in between.
    let seconds = rec.latencies.iter().sum::<Duration>().as_secs_f64().min(started.elapsed().as_secs_f64());
    cx.sync_timestamp = Some(since);
    let notes = format!(
        "{records} records in {non_empty} non-empty pulls, from the last timestamp; a visit before every 5th; \
         {:.1} KiB JSON a pull",
        raw as f64 / rec.latencies.len().max(1) as f64 / 1024.0
    );
    Ok(Measured { concurrency: 1, rec, seconds, notes })
}

/// 16 account managers pulling at once, each from the timestamp of its own last pull (the first
/// from a first sync each, not timed). The time here is the whole job's, inflating the (small)
/// answers included.
pub async fn incremental_16(cx: &mut Ctx) -> Result<Measured, Stop> {
    let concurrency = cx.ams.len().min(16);
    let client = client(concurrency);
    let schema = schema_version(&client, &cx.base).await?;
    // Each task is a phone of its own, so each first needs a full sync (not timed).
    let mut timestamps = Vec::new();
    for am in cx.ams.iter().take(concurrency) {
        timestamps.push(Mutex::new(pull(&client, &cx.base, &am.token, schema, None).await?.timestamp));
    }
    let (ams, base, timestamps) = (cx.ams.clone(), cx.base.clone(), Arc::new(timestamps));
    let records = Arc::new(AtomicU64::new(0));
    let counted = records.clone();
    let (rec, seconds) = drive(Plan::timed(concurrency, cx.args.duration), move |task, _| {
        let (client, base, ams, timestamps, records) =
            (client.clone(), base.clone(), ams.clone(), timestamps.clone(), records.clone());
        async move {
            let since = *timestamps[task].lock().unwrap();
            let p = pull(&client, &base, &ams[task].token, schema, Some(since)).await?;
            *timestamps[task].lock().unwrap() = p.timestamp;
            records.fetch_add(p.records, Ordering::Relaxed);
            Ok(p.wire)
        }
    })
    .await;
    let notes = format!(
        "one account manager per task, each from its last timestamp; {} records pulled (warm-up included)",
        counted.load(Ordering::Relaxed)
    );
    Ok(Measured { concurrency, rec, seconds, notes })
}
