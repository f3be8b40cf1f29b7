//! Micro-benchmarks of the geo core and of a nearby search over 100k partners on SQLite.
//!
//!     cargo bench --bench geo
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use outreach::config::Settings;
use outreach::domain::org_units::{self, Created, NewOrgUnit, OrgUnitKind};
use outreach::domain::{Actor, Role, partner_search};
use outreach::geo::bbox::lat_band;
use outreach::geo::datum::{gcj02_to_wgs84, wgs84_to_gcj02};
use outreach::geo::{Area, Datum, LatLon, Territory, distance_m};
use outreach::store::partners::{PartnerRow, insert_many};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const JIANGMEN: LatLon = LatLon { lat: 22.5787, lon: 113.0815 };

fn datum(c: &mut Criterion) {
    let gcj = wgs84_to_gcj02(JIANGMEN);
    c.bench_function("datum wgs84→gcj02", |b| b.iter(|| wgs84_to_gcj02(black_box(JIANGMEN))));
    c.bench_function("datum gcj02→wgs84 (iterative, exact)", |b| b.iter(|| gcj02_to_wgs84(black_box(gcj))));
    c.bench_function("datum bd09→wgs84", |b| b.iter(|| Datum::Bd09.to_wgs84(black_box(JIANGMEN))));
}

fn distance(c: &mut Criterion) {
    let other = LatLon { lat: 22.60, lon: 113.10 };
    c.bench_function("geodesic distance (Karney)", |b| b.iter(|| distance_m(black_box(JIANGMEN), black_box(other))));
}

fn point_in_polygon(c: &mut Criterion) {
    // A 64-vertex ring around the city centre, like a hand-drawn sub-branch territory.
    let ring: Vec<Vec<f64>> = (0..=64)
        .map(|i| {
            let a = f64::from(i % 64) / 64.0 * std::f64::consts::TAU;
            let r = 0.05 * (1.0 + 0.2 * (5.0 * a).sin());
            vec![JIANGMEN.lon + r * a.cos(), JIANGMEN.lat + r * a.sin()]
        })
        .collect();
    let area = Area::new(&Territory::Polygon { coordinates: vec![ring] }).unwrap();
    let inside = LatLon { lat: JIANGMEN.lat + 0.01, lon: JIANGMEN.lon };
    c.bench_function("point in 64-vertex polygon", |b| b.iter(|| area.contains(black_box(inside))));
}

fn nearby_100k(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let env = HashMap::from([("OUTREACH_DATA_DIR".to_owned(), dir.path().to_string_lossy().into_owned())]);
    let settings = Settings::load(&env).unwrap();
    let (state, actor) = runtime.block_on(async {
        let state = outreach::startup::open_state(settings).await.unwrap();
        let input = NewOrgUnit {
            id: None,
            name: "江门分行".into(),
            kind: OrgUnitKind::Branch,
            parent_id: None,
            territory: None,
        };
        let branch = match state.db.run(move |c| org_units::create(c, &Actor::system(), input)).await.unwrap() {
            Created::New(u) | Created::Existing(u) => u,
        };
        let user = outreach::bootstrap::create_user(
            &state,
            "13700000000",
            "bench",
            "bench password 1".to_owned().into(),
            Role::BranchManager,
            Some(branch.id),
        )
        .await
        .unwrap();
        (state, (user.as_actor(), branch))
    });
    let (actor, branch) = actor;
    let mut rng = StdRng::seed_from_u64(7);
    let now = outreach::store::now_utc();
    let rows: Vec<PartnerRow> = (0..100_000)
        .map(|i| {
            // The urban area of Jiangmen, ~55 km across: ~33 partners per km².
            let lat = rng.random_range(22.33..22.83);
            let lon = rng.random_range(112.81..113.35);
            PartnerRow {
                id: uuid::Uuid::now_v7().to_string(),
                branch_id: branch.id.to_string(),
                org_unit_id: branch.id.to_string(),
                org_path: branch.path.clone(),
                owner_id: actor.user_id.to_string(),
                name: format!("partner {i}"),
                category: "supermarket".into(),
                status: "active".into(),
                lat,
                lon,
                lat_band: lat_band(lat),
                address: String::new(),
                contact_name: None,
                contact_phone: None,
                audience_size: None,
                audience_unit: None,
                pain_points: "[]".into(),
                agreed_benefits: "[]".into(),
                visit_cadence_days: 14,
                geofence_m: 200,
                territory_unit_id: None,
                create_digest: String::new(),
                version: 1,
                created_at: now,
                updated_at: now,
                deleted_at: None,
                seq: 0,
                created_seq: 0,
            }
        })
        .collect();
    let mut conn = state.db.get().unwrap();
    conn.write_tx(|c| insert_many(c, &rows)).unwrap();
    let mut group = c.benchmark_group("nearby over 100k partners (SQLite)");
    for radius in [500.0, 1000.0, 3000.0] {
        group.bench_function(format!("radius {radius} m, limit 50"), |b| {
            b.iter(|| partner_search::nearby(&mut conn, &actor, black_box(JIANGMEN), radius, 50).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, datum, distance, point_in_polygon, nearby_100k);
criterion_main!(benches);
