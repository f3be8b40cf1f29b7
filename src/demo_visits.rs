//! The demo's visit history: about eight visits per working day per account manager over the
//! past weeks, mostly clean check-ins, some with the doubts verification exists for, and
//! photos on some.

use chrono::{Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::bootstrap::describe;
use crate::domain::org_units::Created;
use crate::domain::partners::Partner;
use crate::domain::photos::{self, StoredImage};
use crate::domain::visits::{self, NewVisit, VisitOutcome, VisitPurpose};
use crate::domain::{Actor, DomainError};
use crate::geo::LatLon;
use crate::http::state::AppState;

const NOTES: [&str; 8] = [
    "见了店长，约下周做持卡满减活动",
    "档主关心经营贷利率，留了资料",
    "居委会同意月底办反诈讲座",
    "校方希望做家长课堂",
    "老板不在，和店员聊了会员情况",
    "扫街发放宣传单二十份",
    "复盘上次活动，对方满意",
    "对接收款码，已演示对账功能",
];

/// A photo-like picture for the demo, varied by `n`.
fn demo_photo(n: u64) -> Vec<u8> {
    let (w, h) = (640u16, 480u16);
    let mut rng = StdRng::seed_from_u64(n);
    let tint: [i32; 3] = [rng.random_range(40..200), rng.random_range(40..200), rng.random_range(40..200)];
    let mut pixels = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
    for y in 0..i32::from(h) {
        for x in 0..i32::from(w) {
            for (c, t) in tint.iter().enumerate() {
                let v = t + (x + y * (c as i32 + 1)) % 60 + rng.random_range(-6..6);
                pixels.push(v.clamp(0, 255) as u8);
            }
        }
    }
    let mut out = Vec::new();
    match jpeg_encoder::Encoder::new(&mut out, 85).encode(&pixels, w, h, jpeg_encoder::ColorType::Rgb) {
        Ok(()) => out,
        Err(_) => Vec::new(),
    }
}

/// Seeds visits (and photos on some) for each owner's partners; returns (visits, photos).
pub async fn seed(state: &AppState, portfolios: &[(Actor, Vec<Partner>)], days: i64) -> anyhow::Result<(usize, usize)> {
    let mut rng = StdRng::seed_from_u64(60);
    let china = chrono::FixedOffset::east_opt(8 * 3600).ok_or_else(|| anyhow::anyhow!("offset"))?;
    let today = Utc::now().with_timezone(&china).date_naive();
    let thresholds = state.settings.verification;
    let (mut visits_made, mut photos_made) = (0, 0);
    for (actor, partners) in portfolios {
        if partners.is_empty() {
            continue;
        }
        for back in (1..=days).rev() {
            let day = today - Duration::days(back);
            if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                continue;
            }
            let mut minute = 9 * 60 + rng.random_range(0..30);
            for _ in 0..rng.random_range(8..13) {
                minute += rng.random_range(35..65);
                let time = NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).unwrap_or_default();
                let visited_at = china.from_local_datetime(&day.and_time(time)).single().map(|t| t.with_timezone(&Utc));
                let Some(visited_at) = visited_at else { continue };
                let cold_sweep = rng.random_bool(0.12);
                let partner = &partners[rng.random_range(0..partners.len())];
                // Mostly at the door; sometimes from the car park down the road.
                let off =
                    if rng.random_bool(0.08) { rng.random_range(0.003..0.006) } else { rng.random_range(0.0..0.0004) };
                let location = LatLon {
                    lat: partner.location.lat + off,
                    lon: partner.location.lon + rng.random_range(-0.0003..0.0003),
                };
                let planned = (back <= 6 && rng.random_bool(0.3))
                    .then(|| {
                        let day = today + Duration::days(rng.random_range(0..3));
                        let time = NaiveTime::from_hms_opt(rng.random_range(9..17), 30, 0).unwrap_or_default();
                        china.from_local_datetime(&day.and_time(time)).single().map(|t| t.with_timezone(&Utc))
                    })
                    .flatten();
                let input = NewVisit {
                    project_id: None,
                    id: None,
                    partner_id: (!cold_sweep).then_some(partner.id),
                    location,
                    accuracy_m: if rng.random_bool(0.05) {
                        rng.random_range(120.0..400.0)
                    } else {
                        rng.random_range(4.0..35.0)
                    },
                    visited_at,
                    purpose: if cold_sweep {
                        VisitPurpose::MarketSweep
                    } else {
                        [
                            VisitPurpose::Relationship,
                            VisitPurpose::AllianceNegotiation,
                            VisitPurpose::EventPlanning,
                            VisitPurpose::FollowUp,
                            VisitPurpose::Service,
                        ][rng.random_range(0..5)]
                    },
                    notes: Some(NOTES[rng.random_range(0..NOTES.len())].to_owned()),
                    outcome: Some(
                        [
                            VisitOutcome::Positive,
                            VisitOutcome::Positive,
                            VisitOutcome::Neutral,
                            VisitOutcome::Negative,
                            VisitOutcome::NoContact,
                        ][rng.random_range(0..5)],
                    ),
                    // Recent visits plan the next one, so the morning report has today's plan.
                    next_step: planned.map(|_| "带资料再访，约店主详谈".to_owned()),
                    next_visit_at: planned,
                    mock_location: None,
                    location_age_s: Some(rng.random_range(1.0..30.0)),
                };
                let who = actor.clone();
                let made =
                    state.db.run(move |conn| visits::create(conn, &who, &thresholds, input)).await.map_err(describe)?;
                visits_made += 1;
                let (Created::New(visit) | Created::Existing(visit)) = made;
                if back <= 14 && rng.random_bool(0.04) {
                    let ingested = state.media.ingest(demo_photo(rng.random())).await?;
                    let image = StoredImage {
                        sha256: ingested.sha256,
                        thumb_sha256: ingested.thumb_sha256,
                        width: ingested.width,
                        height: ingested.height,
                        bytes: ingested.bytes,
                        exif_position: None,
                        exif_time: None,
                        exif_offset_minutes: None,
                    };
                    let who = actor.clone();
                    state
                        .db
                        .run(move |conn| photos::attach(conn, &who, &thresholds, visit.id, &image).map(|_| ()))
                        .await
                        .map_err(|e: DomainError| describe(e))?;
                    photos_made += 1;
                }
            }
        }
    }
    Ok((visits_made, photos_made))
}
