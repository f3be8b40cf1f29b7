//! One row of each seeded table, drawn from the seeded RNG. Ids are UUIDv7 stamped with the row's
//! own creation time, so the same seed gives the same ids and they sort as if written live.

use chrono::{Duration, NaiveDateTime};
use rand::Rng;
use rand::rngs::StdRng;

use super::geography::{near, somewhere, weighted};
use super::network::Network;
use crate::domain::registrations::CONSENT_VERSION;
use crate::geo::LatLon;
use crate::geo::bbox::lat_band;
use crate::store::events::EventRow;
use crate::store::leads::LeadRow;
use crate::store::partners::PartnerRow;
use crate::store::points::EntryRow;
use crate::store::registrations::RegistrationRow;
use crate::store::visits::VisitRow;

/// Category, share (per cent) and visit cadence in days: wholesale markets and supermarkets are
/// visited fortnightly, the rest monthly.
const CATEGORIES: [((&str, i32), u32); 7] = [
    (("supermarket", 14), 25),
    (("community", 30), 20),
    (("school", 30), 8),
    (("garment_wholesale", 14), 12),
    (("seafood_wholesale", 14), 10),
    (("bookkeeping_agency", 30), 10),
    (("other", 30), 15),
];
const PARTNER_STATUSES: [(&str, u32); 7] = [
    ("prospect", 25),
    ("contacted", 15),
    ("negotiating", 10),
    ("signed", 15),
    ("active", 25),
    ("paused", 5),
    ("terminated", 5),
];
const LEAD_STATUSES: [(&str, u32); 5] =
    [("new", 35), ("contacted", 25), ("qualified", 15), ("converted", 12), ("lost", 13)];
const EVENT_STATUSES: [(&str, u32); 3] = [("planned", 30), ("cancelled", 10), ("completed", 60)];
const PURPOSES: [(&str, u32); 4] = [("relationship", 50), ("market_sweep", 25), ("follow_up", 20), ("other", 5)];
const TICKET_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";

pub fn id_at(rng: &mut StdRng, at: NaiveDateTime) -> String {
    let millis = u64::try_from(at.and_utc().timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &rng.random()).into_uuid().to_string()
}

/// A moment within the last `days` days.
pub fn ago(rng: &mut StdRng, now: NaiveDateTime, days: i64) -> NaiveDateTime {
    now - Duration::seconds(rng.random_range(60..days.max(1) * 86_400))
}

pub fn partner(net: &Network, rng: &mut StdRng, i: usize, seq: i64, now: NaiveDateTime) -> PartnerRow {
    let (lat, lon) = somewhere(rng);
    // Owned by an account manager of the nearest outlet that has any.
    let nearest = net
        .outlets
        .iter()
        .enumerate()
        .filter(|(o, _)| !net.teams[*o].is_empty())
        .min_by(|(_, a), (_, b)| {
            let da = (a.lat - lat).powi(2) + (a.lon - lon).powi(2);
            let db = (b.lat - lat).powi(2) + (b.lon - lon).powi(2);
            da.total_cmp(&db)
        })
        .map_or(0, |(o, _)| o);
    let team = &net.teams[nearest];
    let owner = &team[rng.random_range(0..team.len())];
    let (category, cadence) = weighted(rng, &CATEGORIES);
    let status = weighted(rng, &PARTNER_STATUSES);
    let created = ago(rng, now, 730);
    PartnerRow {
        id: id_at(rng, created),
        branch_id: net.branch.branch_id.to_string(),
        org_unit_id: owner.org_unit_id.map(|u| u.to_string()).unwrap_or_default(),
        org_path: owner.org_path.clone(),
        owner_id: owner.id.to_string(),
        name: format!("联盟商户{i}"),
        category: category.to_owned(),
        status: status.to_owned(),
        lat,
        lon,
        lat_band: lat_band(lat),
        address: format!("江门市建设路{i}号"),
        contact_name: Some("王经理".to_owned()),
        contact_phone: Some(format!("135{:08}", i % 100_000_000)),
        audience_size: Some(rng.random_range(50..5000)),
        audience_unit: None,
        pain_points: "[]".to_owned(),
        agreed_benefits: "[]".to_owned(),
        visit_cadence_days: cadence,
        geofence_m: 200,
        territory_unit_id: None,
        create_digest: String::new(),
        version: 1,
        created_at: created,
        updated_at: created,
        deleted_at: None,
        seq,
        created_seq: seq,
    }
}

/// A visit by the partner's own account manager, at the partner (≈ 85 % within accuracy).
pub fn visit(rng: &mut StdRng, p: &PartnerRow, at: NaiveDateTime, project: Option<&str>, seq: i64) -> VisitRow {
    let verified = rng.random_bool(0.85);
    let (lat, lon) = near(rng, p.lat, p.lon, 50.0);
    VisitRow {
        id: id_at(rng, at),
        branch_id: p.branch_id.clone(),
        org_unit_id: p.org_unit_id.clone(),
        org_path: p.org_path.clone(),
        user_id: p.owner_id.clone(),
        partner_id: Some(p.id.clone()),
        visited_at: at,
        lat,
        lon,
        lat_band: lat_band(lat),
        accuracy_m: if verified { 12.0 } else { 180.0 },
        purpose: weighted(rng, &PURPOSES).to_owned(),
        notes: "了解商户收单需求".to_owned(),
        outcome: Some("positive".to_owned()),
        next_step: None,
        next_visit_at: None,
        mock_location: Some(false),
        location_age_s: Some(5.0),
        verified,
        distance_m: Some(crate::geo::distance_m(LatLon { lat, lon }, LatLon { lat: p.lat, lon: p.lon })),
        reasons: if verified { "[]" } else { "[\"poor_accuracy\"]" }.to_owned(),
        create_digest: String::new(),
        version: 1,
        created_at: at,
        updated_at: at,
        deleted_at: None,
        seq,
        created_seq: seq,
        project_id: project.map(str::to_owned),
    }
}

/// An event at a partner, over the past year and the next two months, for `capacity` people.
pub fn event(rng: &mut StdRng, p: &PartnerRow, i: usize, capacity: i32, seq: i64, now: NaiveDateTime) -> EventRow {
    let starts = now - Duration::seconds(rng.random_range(-60 * 86_400..365 * 86_400));
    let created = starts.min(now) - Duration::days(14);
    let status = if starts > now { "planned" } else { weighted(rng, &EVENT_STATUSES) };
    EventRow {
        id: id_at(rng, created),
        branch_id: p.branch_id.clone(),
        org_unit_id: p.org_unit_id.clone(),
        org_path: p.org_path.clone(),
        owner_id: p.owner_id.clone(),
        partner_id: p.id.clone(),
        project_id: None,
        title: format!("社区金融知识讲座{i}"),
        theme: "anti_fraud".to_owned(),
        description: String::new(),
        starts_at: starts,
        ends_at: starts + Duration::hours(2),
        venue: p.address.clone(),
        lat: p.lat,
        lon: p.lon,
        lat_band: p.lat_band,
        capacity,
        registration_deadline: starts - Duration::hours(2),
        registration_code: ticket(rng, 14),
        registration_open: true,
        status: status.to_owned(),
        registered_count: 0,
        retention_days: 180,
        create_digest: String::new(),
        version: 1,
        created_at: created,
        updated_at: created,
        deleted_at: None,
        seq,
        created_seq: seq,
    }
}

fn ticket(rng: &mut StdRng, len: usize) -> String {
    (0..len).map(|_| char::from(TICKET_ALPHABET[rng.random_range(0..TICKET_ALPHABET.len())])).collect()
}

/// Attendee `n` of an event: registered in the two weeks before it; at a held event seven in ten
/// came and were checked in by the organiser.
pub fn registration(rng: &mut StdRng, e: &EventRow, n: usize, now: NaiveDateTime) -> RegistrationRow {
    let registered = (e.starts_at - Duration::seconds(rng.random_range(3 * 3600..14 * 86_400))).min(now);
    let came = e.status == "completed" && rng.random_bool(0.7);
    RegistrationRow {
        id: id_at(rng, registered),
        event_id: e.id.clone(),
        name: Some(format!("居民{n}")),
        phone: Some(format!("139{:08}", n % 100_000_000)),
        ticket_code: ticket(rng, 10),
        status: "registered".to_owned(),
        consent_version: CONSENT_VERSION.to_owned(),
        consent_at: registered,
        registered_at: registered,
        checked_in_at: came.then(|| e.starts_at + Duration::minutes(rng.random_range(-20..40))),
        checked_in_by: came.then(|| e.owner_id.clone()),
        erased_at: None,
        lead_id: None,
    }
}

/// A lead met at a partner, by its account manager, in the last year.
pub fn lead(
    rng: &mut StdRng,
    p: &PartnerRow,
    i: usize,
    created: NaiveDateTime,
    project: Option<&str>,
    now: NaiveDateTime,
) -> LeadRow {
    let status = weighted(rng, &LEAD_STATUSES);
    let converted_at =
        (status == "converted").then(|| (created + Duration::seconds(rng.random_range(0..21 * 86_400))).min(now));
    LeadRow {
        id: id_at(rng, created),
        branch_id: p.branch_id.clone(),
        org_unit_id: p.org_unit_id.clone(),
        org_path: p.org_path.clone(),
        owner_id: p.owner_id.clone(),
        project_id: project.map(str::to_owned),
        name: format!("客户{i}"),
        phone: format!("138{:08}", i % 100_000_000),
        source: "partner".to_owned(),
        source_id: Some(p.id.clone()),
        status: status.to_owned(),
        version: 1,
        created_at: created,
        updated_at: converted_at.unwrap_or(created),
        kind: "person".to_owned(),
        partner_id: Some(p.id.clone()),
        segment: "outreach".to_owned(),
        portrait_tags: "[]".to_owned(),
        needs: String::new(),
        product_interest: "[]".to_owned(),
        expected_amount_fen: Some(5_000_000),
        converted_amount_fen: converted_at.map(|_| rng.random_range(100_000..50_000_000)),
        converted_at,
        lost_reason: (status == "lost").then(|| "暂无需求".to_owned()),
        // One in a hundred asked not to be contacted.
        do_not_contact: rng.random_bool(0.01),
        create_digest: String::new(),
    }
}

/// A points award, as the ledger writes one when its source becomes due.
pub fn award(
    rng: &mut StdRng,
    project: &str,
    user: &str,
    action: &str,
    source: (&str, &str),
    points: i32,
    at: NaiveDateTime,
) -> EntryRow {
    EntryRow {
        id: id_at(rng, at),
        project_id: project.to_owned(),
        user_id: user.to_owned(),
        action: action.to_owned(),
        source_type: source.0.to_owned(),
        source_id: source.1.to_owned(),
        points,
        occurred_at: at,
        reverses_id: None,
        created_at: at,
    }
}
