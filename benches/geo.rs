//! Micro-benchmarks of the geo core and of a nearby search over 100k partners on SQLite.
//!
//!     cargo bench --bench geo
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use outreach::context::config::Settings;
use outreach::domain::common::create::Created;
use outreach::domain::field::partner_search;
use outreach::domain::map::MapIndex;
use outreach::domain::org::org_units::{self, NewOrgUnit, OrgUnitKind};
use outreach::domain::{Actor, Role};
use outreach::fixtures::rows::{self, place};
use outreach::geo::datum::{gcj02_to_wgs84, wgs84_to_gcj02};
use outreach::geo::{Area, Datum, LatLon, Territory, distance_m};
use outreach::store::field::partners::{PartnerRow, insert_many};
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
        let state = outreach::app::startup::open_state(settings).await.unwrap();
        let input = NewOrgUnit {
            id: None,
            name: "江门分行".into(),
            kind: OrgUnitKind::Branch,
            parent_id: None,
            territory: None,
            location: None,
            address: String::new(),
            contact_phone: String::new(),
        };
        let branch = match state.db.run(move |c| org_units::create(c, &Actor::system(), input)).await.unwrap() {
            Created::New(u) | Created::Existing(u) => u,
        };
        let user = outreach::context::bootstrap::create_user(
            &state,
            "13700000000",
            "bench",
            "bench password 1".to_owned().into(),
            Role::BranchManager,
            Some(branch.id),
        )
        .await
        .unwrap();
        (state, (user, branch))
    });
    let (owner, branch) = actor;
    let actor = owner.as_actor();
    let mut rng = StdRng::seed_from_u64(7);
    let now = outreach::store::now_utc();
    let partners: Vec<PartnerRow> = (0..100_000)
        .map(|i| {
            // The urban area of Jiangmen, ~55 km across: ~33 partners per km².
            let at = place::within(&mut rng, [112.81, 22.33, 113.35, 22.83]);
            rows::partner(&mut rng, &owner, branch.branch_id, at, i, 0, now)
        })
        .collect();
    let mut conn = state.db.get().unwrap();
    conn.write_tx(|c| insert_many(c, &partners)).unwrap();
    // The same search from the database (an index not loaded yet) and from the loaded map index.
    let cold = MapIndex::default();
    let warm = MapIndex::default();
    drop(warm.current(&mut conn).unwrap());
    let mut group = c.benchmark_group("nearby over 100k partners (SQLite)");
    for radius in [500.0, 1000.0, 3000.0] {
        for (source, index) in [("database", &cold), ("map index", &warm)] {
            group.bench_function(format!("radius {radius} m, limit 50, from the {source}"), |b| {
                b.iter(|| partner_search::nearby(&mut conn, index, &actor, black_box(JIANGMEN), radius, 50).unwrap())
            });
        }
    }
    group.finish();
}

/// The map's core without the database: a million points of a city in the bucketed index, then a
/// box query gathered into 64-px clusters, at a city zoom and a street zoom.
fn cluster_1m(c: &mut Criterion) {
    use outreach::geo::cluster::{Gather, Grid};
    use outreach::geo::mercator::project;
    use outreach::geo::{BBox, PointIndex, WorldBox};
    let mut rng = StdRng::seed_from_u64(11);
    let centres = [(22.58, 113.08), (22.53, 113.03), (22.62, 113.14), (22.50, 113.12)];
    let mut index: PointIndex<u32> = PointIndex::default();
    for i in 0..1_000_000u32 {
        // Three quarters around four town centres (σ ≈ 3 km), the rest over the whole city.
        let (lat, lon) = if i % 4 != 0 {
            let (clat, clon) = centres[i as usize % centres.len()];
            let (u, v): (f64, f64) = (rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0));
            (clat + 0.03 * (u + rng.random_range(-1.0..1.0)), clon + 0.03 * (v + rng.random_range(-1.0..1.0)))
        } else {
            (rng.random_range(22.33..22.83), rng.random_range(112.81..113.35))
        };
        index.insert(project(LatLon { lat, lon }), i);
    }
    index.optimize();
    let view = |zoom: i32, w_px: f64, h_px: f64| {
        let deg_per_px = 360.0 / (256.0 * 2f64.powi(zoom));
        let (dlon, dlat) = (w_px * deg_per_px / 2.0, h_px * deg_per_px / 2.0 / JIANGMEN.lat.to_radians().cos());
        WorldBox::of(&BBox {
            min: LatLon { lat: JIANGMEN.lat - dlat, lon: JIANGMEN.lon - dlon },
            max: LatLon { lat: JIANGMEN.lat + dlat, lon: JIANGMEN.lon + dlon },
        })
    };
    let mut group = c.benchmark_group("1M points, 1280×800 view");
    for zoom in [12u8, 16] {
        let b = view(i32::from(zoom), 1280.0, 800.0);
        group.bench_function(format!("zoom {zoom}: box query + 64-px clusters"), |bench| {
            bench.iter(|| {
                let mut gather: Gather<7, u32> = Gather::over(Grid::new(zoom, 6), &b);
                index.within(&b, |e| gather.add(e.at, (e.item % 7) as usize, e.item));
                black_box(gather.into_clusters().len())
            })
        });
        group.bench_function(format!("zoom {zoom}: box query, count only"), |bench| {
            bench.iter(|| {
                let mut n = 0u32;
                index.within(&b, |_| n += 1);
                black_box(n)
            })
        });
    }
    // What a nearby search (radius 1 km) and a create's duplicate check (100 m) ask of the index,
    // at a town centre.
    let centre = LatLon { lat: 22.58, lon: 113.08 };
    for (name, radius_m) in [("nearby 1 km", 1000.0), ("duplicates 100 m", 100.0)] {
        let b = WorldBox::of(&BBox::around(centre, radius_m));
        group.bench_function(format!("{name} box at a town centre, count only"), |bench| {
            bench.iter(|| {
                let mut n = 0u32;
                index.within(&b, |_| n += 1);
                black_box(n)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, datum, distance, point_in_polygon, nearby_100k, cluster_1m);
criterion_main!(benches);
