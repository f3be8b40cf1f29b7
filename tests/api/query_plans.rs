//! Hot queries must be index range scans on both databases, never a full table scan: the nearby
//! prefilter (the SQL has the shape `store::field::partners::in_box` builds) and the map's catch-up.

use diesel::QueryableByName;
use diesel::RunQueryDsl;
use diesel::sql_types::Text;
use outreach::store::field::partners::{PartnerRow, insert_many};
use outreach::store::{DbConn, StoreError};

use crate::helpers::spawn_app;

#[derive(QueryableByName)]
struct SqlitePlan {
    #[diesel(sql_type = Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct PostgresPlan {
    #[diesel(sql_type = Text)]
    #[diesel(column_name = "QUERY PLAN")]
    line: String,
}

/// How a test table is made to plan like a big one before `EXPLAIN`: statistics gathered over
/// the rows the test inserted, or, for an empty table (where a sequential scan is cheapest),
/// sequential scans ruled out on PostgreSQL to see which index it takes.
enum Statistics {
    Analyze(&'static str),
    NoSeqScan,
}

/// How the database plans `sql`, one line per step.
fn plan_of(conn: &mut DbConn, sql: &str, statistics: Statistics) -> Result<String, StoreError> {
    Ok(match conn {
        DbConn::Sqlite(c) => {
            if matches!(statistics, Statistics::Analyze(_)) {
                diesel::sql_query("ANALYZE").execute(c)?;
            }
            let lines: Vec<SqlitePlan> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}")).load(c)?;
            lines.into_iter().map(|l| l.detail).collect::<Vec<_>>().join("\n")
        }
        DbConn::Postgres(c) => {
            let lines: Vec<PostgresPlan> = match statistics {
                Statistics::Analyze(table) => {
                    diesel::sql_query(format!("ANALYZE {table}")).execute(c)?;
                    diesel::sql_query(format!("EXPLAIN {sql}")).load(c)?
                }
                Statistics::NoSeqScan => {
                    diesel::sql_query("SET enable_seqscan = off").execute(c)?;
                    let lines = diesel::sql_query(format!("EXPLAIN {sql}")).load(c);
                    diesel::sql_query("RESET enable_seqscan").execute(c)?;
                    lines?
                }
            };
            lines.into_iter().map(|l| l.line).collect::<Vec<_>>().join("\n")
        }
    })
}

/// A branch manager's nearby search: the scope prefix matches every row of the branch.
fn nearby_sql(scope: &str) -> String {
    format!(
        "SELECT id FROM partners \
         WHERE lat_band IN (2257, 2258) AND lon BETWEEN 113.07 AND 113.09 AND lat BETWEEN 22.57 AND 22.585 \
         AND deleted_at IS NULL AND org_path LIKE '{scope}%'"
    )
}

fn rows(owner: &str, unit: &str, n: usize) -> Vec<PartnerRow> {
    let now = outreach::store::now_utc();
    (0..n)
        .map(|i| {
            // Spread over a degree square around Jiangmen, deterministic.
            let lat = 22.0 + (i as f64 * 0.618_034).fract();
            let lon = 112.6 + (i as f64 * 0.414_214).fract();
            PartnerRow {
                id: uuid::Uuid::now_v7().to_string(),
                branch_id: unit.to_owned(),
                org_unit_id: unit.to_owned(),
                org_path: format!("/{unit}/"),
                owner_id: owner.to_owned(),
                name: format!("p{i}"),
                category: "other".to_owned(),
                status: "prospect".to_owned(),
                lat,
                lon,
                lat_band: outreach::geo::bbox::lat_band(lat),
                address: String::new(),
                contact_name: None,
                contact_phone: None,
                audience_size: None,
                audience_unit: None,
                pain_points: "[]".to_owned(),
                agreed_benefits: "[]".to_owned(),
                visit_cadence_days: 30,
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
        .collect()
}

#[tokio::test]
async fn the_nearby_prefilter_uses_the_band_index() {
    let app = spawn_app().await;
    let (owner, _) = app.user(outreach::domain::Role::BranchManager, Some(app.tree.branch_a)).await;
    let (owner, unit) = (owner.to_string(), app.tree.branch_a.to_string());
    let sql = nearby_sql(&format!("/{unit}/"));
    let plan = app
        .state
        .db
        .run(move |conn| -> Result<String, outreach::store::StoreError> {
            insert_many(conn, &rows(&owner, &unit, 5000))?;
            plan_of(conn, &sql, Statistics::Analyze("partners"))
        })
        .await
        .unwrap();
    println!("{plan}");
    assert!(plan.contains("partners_band_lon"), "the band index is used:\n{plan}");
    assert!(
        !plan.contains("Seq Scan") && !plan.contains("SCAN partners\n") && !plan.ends_with("SCAN partners"),
        "no full scan:\n{plan}"
    );
}

/// The map's catch-up before every answer reads the rows changed since its watermark: an index
/// range on `seq`, whatever the table's size.
#[tokio::test]
async fn the_map_catch_up_reads_an_index_range_of_change_numbers() {
    let app = spawn_app().await;
    let (owner, _) = app.user(outreach::domain::Role::BranchManager, Some(app.tree.branch_a)).await;
    let (owner, unit) = (owner.to_string(), app.tree.branch_a.to_string());
    let sql = "SELECT id, org_path, lat, lon FROM partners WHERE seq > 4990 AND seq <= 5000 ORDER BY seq";
    let plan = app
        .state
        .db
        .run(move |conn| -> Result<String, outreach::store::StoreError> {
            let rows: Vec<PartnerRow> = rows(&owner, &unit, 5000)
                .into_iter()
                .enumerate()
                .map(|(i, r)| PartnerRow { seq: i as i64, created_seq: i as i64, ..r })
                .collect();
            insert_many(conn, &rows)?;
            plan_of(conn, sql, Statistics::Analyze("partners"))
        })
        .await
        .unwrap();
    println!("{plan}");
    assert!(plan.contains("partners_seq"), "the seq index is used:\n{plan}");
    assert!(
        !plan.contains("Seq Scan") && !plan.contains("SCAN partners\n") && !plan.ends_with("SCAN partners"),
        "{plan}"
    );
}

/// A phone's pull of its own visits: one index range on (user_id, seq), not all of the account
/// manager's visits sorted again for every page.
#[tokio::test]
async fn a_pull_of_own_visits_reads_an_index_range_of_change_numbers() {
    let app = spawn_app().await;
    let sql = "SELECT id FROM visits WHERE seq > 10 AND seq <= 5000 AND deleted_at IS NULL \
               AND org_path LIKE '/a/b/%' AND user_id = 'x' ORDER BY seq ASC LIMIT 501";
    let plan = app
        .state
        .db
        .run(move |conn| -> Result<String, outreach::store::StoreError> { plan_of(conn, sql, Statistics::NoSeqScan) })
        .await
        .unwrap();
    println!("{plan}");
    assert!(plan.contains("visits_user_seq"), "the (user_id, seq) index is used:\n{plan}");
    assert!(
        !plan.contains("TEMP B-TREE") && !plan.contains("Sort"),
        "no sort of the account manager's visits:\n{plan}"
    );
}
