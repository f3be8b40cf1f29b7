//! The outreach map: clustered features, scope, filters, datum, the cap, coverage — and that a
//! write through one replica shows at once on another's map.

use std::collections::HashMap;
use std::net::TcpListener;

use chrono::{Duration, SecondsFormat, Utc};
use outreach::app::startup::Application;
use outreach::context::config::Settings;
use outreach::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{JWT_SECRET, Login, TestApp, assert_problem, json_ok, spawn_app};
use crate::leads::{create_lead, lead_body, walk};
use crate::partners::{CENTRE, create as create_partner};
use crate::visits::visit_body;

/// A box of the Jiangmen area, and a street-sized one around the centre (for deep zooms: a box
/// wider than 16384 px at its zoom is refused).
const CITY: &str = "112.9,22.4,113.3,22.8";
const STREET: &str = "113.0765,22.5737,113.0865,22.5837";

fn near(north_m: f64, east_m: f64) -> (f64, f64) {
    (CENTRE.0 + north_m / 110_760.0, CENTRE.1 + east_m / (111_320.0 * CENTRE.0.to_radians().cos()))
}

fn ago(days: i64) -> String {
    (Utc::now() - Duration::days(days)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn partner(
    app: &TestApp,
    who: &Login,
    name: &str,
    category: &str,
    status: &str,
    (lat, lon): (f64, f64),
) -> String {
    let body = json!({"name": name, "category": category, "status": status, "location": {"lat": lat, "lon": lon}, "address": "江门市蓬江区"});
    create_partner(app, &who.token, &body).await["id"].as_str().unwrap().to_owned()
}

async fn visit(app: &TestApp, who: &Login, partner: &str, (lat, lon): (f64, f64), at: &str) -> Value {
    json_ok(
        app.post_json("/api/v1/visits", Some(&who.token), &visit_body(Some(partner), lat, lon, 10.0, at)).await,
        201,
    )
    .await
}

async fn features(app: &TestApp, token: &str, query: &str) -> Value {
    json_ok(app.get(format!("/api/v1/map/features?{query}"), Some(token)).await, 200).await
}

fn list(fc: &Value) -> &Vec<Value> {
    fc["features"].as_array().unwrap()
}

/// Points shown, counting each cluster as its `point_count`.
fn shown(fc: &Value, layer: &str) -> u64 {
    list(fc)
        .iter()
        .filter(|f| f["properties"]["layer"] == layer)
        .map(|f| f["properties"]["point_count"].as_u64().unwrap_or(1))
        .sum()
}

fn ids(fc: &Value, layer: &str) -> Vec<String> {
    let mut ids: Vec<String> = list(fc)
        .iter()
        .filter(|f| f["properties"]["layer"] == layer && f["properties"]["cluster"] == false)
        .map(|f| f["properties"]["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

/// Eight partners within 300 m of the centre, four 6 km east.
async fn two_groups(app: &TestApp, am: &Login) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..8 {
        let category = if i % 2 == 0 { "supermarket" } else { "school" };
        ids.push(
            partner(app, am, &format!("中心{i}"), category, "active", near(i as f64 * 40.0, i as f64 * 30.0)).await,
        );
    }
    for i in 0..4 {
        ids.push(partner(app, am, &format!("东{i}"), "community", "prospect", near(i as f64 * 50.0, 6_000.0)).await);
    }
    ids
}

#[tokio::test]
async fn clusters_sum_to_the_points_in_the_box_and_come_apart_at_their_split_zoom() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let boss = app.login_as(Role::BranchManager).await;
    let mut all = two_groups(&app, &am).await;
    all.sort();

    let fc = features(&app, &boss.token, &format!("bbox={CITY}&zoom=10&layers=partners")).await;
    assert_eq!((fc["type"].as_str(), fc["truncated"].as_bool()), (Some("FeatureCollection"), Some(false)));
    assert_eq!(fc["totals"], json!({"partners": 12}));
    assert_eq!(shown(&fc, "partners"), 12);
    let clusters: Vec<&Value> = list(&fc).iter().filter(|f| f["properties"]["cluster"] == true).collect();
    assert_eq!(clusters.len(), 2, "two groups at zoom 10: {fc}");
    let centre = clusters.iter().find(|c| c["properties"]["point_count"] == 8).expect("the centre group");
    assert_eq!(centre["properties"]["categories"], json!({"school": 4, "supermarket": 4}));
    assert_eq!(centre["geometry"]["type"], "Point");
    let [lon, lat] = [
        centre["geometry"]["coordinates"][0].as_f64().unwrap(),
        centre["geometry"]["coordinates"][1].as_f64().unwrap(),
    ];
    assert!((lat - CENTRE.0).abs() < 0.003 && (lon - CENTRE.1).abs() < 0.003, "drawn at the mean: {centre}");

    // At its split zoom the cluster is no longer one feature; counts still add up.
    let split = centre["properties"]["split_zoom"].as_u64().unwrap();
    assert!(split > 10);
    let extent = centre["properties"]["extent"].as_array().unwrap();
    let bbox = format!(
        "{},{},{},{}",
        extent[0].as_f64().unwrap() - 0.001,
        extent[1].as_f64().unwrap() - 0.001,
        extent[2].as_f64().unwrap() + 0.001,
        extent[3].as_f64().unwrap() + 0.001
    );
    let before = features(&app, &boss.token, &format!("bbox={bbox}&zoom={}&layers=partners", split - 1)).await;
    assert_eq!(list(&before).len(), 1, "one cluster a zoom before: {before}");
    let after = features(&app, &boss.token, &format!("bbox={bbox}&zoom={split}&layers=partners")).await;
    assert!(list(&after).len() > 1, "apart at {split}: {after}");
    assert_eq!(shown(&after, "partners"), 8);

    // Deep enough, every partner is its own point, with what a popup needs.
    let street = features(&app, &boss.token, &format!("bbox={STREET}&zoom=19&layers=partners")).await;
    assert_eq!(ids(&street, "partners").len(), 8, "the centre group, 30–50 m apart: {street}");
    let one = list(&street).iter().find(|f| f["properties"]["name"] == "中心0").unwrap();
    assert_eq!(
        (
            one["properties"]["category"].as_str(),
            one["properties"]["status"].as_str(),
            one["properties"]["owner_id"].as_str()
        ),
        (Some("supermarket"), Some("active"), Some(am.id.to_string().as_str()))
    );
    let unclustered = features(&app, &boss.token, &format!("bbox={CITY}&zoom=10&layers=partners&cluster=false")).await;
    assert_eq!(ids(&unclustered, "partners"), all);
}

#[tokio::test]
async fn nothing_outside_the_callers_scope_shows_not_even_in_counts() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let colleague = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let other_outlet = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1b)).await;
    let other_branch = app.login_at(Role::AccountManager, Some(app.tree.outlet_b1)).await;
    let boss = app.login_as(Role::BranchManager).await;
    let boss_b = app.login_at(Role::BranchManager, Some(app.tree.branch_b)).await;

    let mine = partner(&app, &am, "我的超市", "supermarket", "active", CENTRE).await;
    visit(&app, &am, &mine, CENTRE, &ago(1)).await;
    visit(&app, &colleague, &mine, CENTRE, &ago(2)).await;
    let theirs = partner(&app, &other_branch, "他行超市", "supermarket", "active", CENTRE).await;
    visit(&app, &other_branch, &theirs, CENTRE, &ago(1)).await;
    visit(&app, &other_branch, &theirs, CENTRE, &ago(3)).await;
    let q = format!("bbox={CITY}&zoom=12&layers=partners,visits");

    let fc = features(&app, &boss.token, &q).await;
    assert_eq!(fc["totals"], json!({"partners": 1, "visits": 2}), "branch A only");
    assert_eq!(shown(&fc, "partners") + shown(&fc, "visits"), 3);
    let fc = features(&app, &boss_b.token, &q).await;
    assert_eq!(fc["totals"], json!({"partners": 1, "visits": 2}), "branch B only");
    // An account manager sees the outlet's partners and only their own visits.
    let fc = features(&app, &am.token, &q).await;
    assert_eq!(fc["totals"], json!({"partners": 1, "visits": 1}));
    let fc = features(&app, &other_outlet.token, &q).await;
    assert_eq!(fc["totals"], json!({"partners": 0, "visits": 0}));
    assert!(list(&fc).is_empty());
    // Narrowing to a unit: within your scope only; another branch's unit is not found.
    let fc = features(&app, &boss.token, &format!("{q}&org_unit_id={}", app.tree.sub_a2)).await;
    assert_eq!(fc["totals"], json!({"partners": 0, "visits": 0}));
    let response =
        app.get(format!("/api/v1/map/features?{q}&org_unit_id={}", app.tree.branch_b), Some(&boss.token)).await;
    assert_problem(response, 404, "not_found").await;
    let response = app.get(format!("/api/v1/map/coverage?org_unit_id={}", app.tree.branch_b), Some(&boss.token)).await;
    assert_problem(response, 404, "not_found").await;
    // Leads of another owner are not an account manager's to see.
    let mut body = lead_body("陈老板", "13800138111");
    body["partner_id"] = json!(mine);
    create_lead(&app, &colleague.token, &body).await;
    let leads = format!("bbox={CITY}&zoom=12&layers=leads");
    assert_eq!(features(&app, &colleague.token, &leads).await["totals"], json!({"leads": 1}));
    assert_eq!(features(&app, &am.token, &leads).await["totals"], json!({"leads": 0}));
    assert_eq!(features(&app, &boss.token, &leads).await["totals"], json!({"leads": 1}));
    assert_eq!(features(&app, &boss_b.token, &leads).await["totals"], json!({"leads": 0}));
}

#[tokio::test]
async fn time_status_category_owner_and_project_filters_narrow_the_points() {
    let app = crate::helpers::spawn_history_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let colleague = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let boss = app.login_as(Role::BranchManager).await;
    let shop = partner(&app, &am, "超市", "supermarket", "active", CENTRE).await;
    let school = partner(&app, &am, "学校", "school", "signed", near(500.0, 0.0)).await;
    visit(&app, &am, &shop, CENTRE, &ago(2)).await;
    visit(&app, &am, &shop, CENTRE, &ago(40)).await;
    visit(&app, &colleague, &school, near(500.0, 0.0), &ago(3)).await;
    // Two kilometres from the school: not verified.
    visit(&app, &am, &school, near(2_500.0, 0.0), &ago(1)).await;
    let base = format!("bbox={CITY}&zoom=12");
    let totals = |fc: Value| fc["totals"].clone();

    assert_eq!(totals(features(&app, &boss.token, &format!("{base}&layers=visits")).await), json!({"visits": 4}));
    let from = (Utc::now() - Duration::days(30)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let q = format!("{base}&layers=visits,partners&from={}", urlencode(&from));
    assert_eq!(
        totals(features(&app, &boss.token, &q).await),
        json!({"visits": 3, "partners": 2}),
        "partners are not windowed"
    );
    let to = (Utc::now() - Duration::days(2) - Duration::hours(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let q = format!("{base}&layers=visits&to={}", urlencode(&to));
    assert_eq!(totals(features(&app, &boss.token, &q).await), json!({"visits": 2}));
    // Visits take their partner's category.
    let q = format!("{base}&layers=visits,partners&category=school");
    assert_eq!(totals(features(&app, &boss.token, &q).await), json!({"visits": 2, "partners": 1}));
    let q = format!("{base}&layers=visits&visit_status=unverified");
    let fc = features(&app, &boss.token, &q).await;
    assert_eq!(totals(fc.clone()), json!({"visits": 1}));
    assert_eq!(list(&fc)[0]["properties"]["status"], "unverified");
    let q = format!("{base}&layers=visits&visit_status=verified,unverified&owner_id={}", colleague.id);
    assert_eq!(totals(features(&app, &boss.token, &q).await), json!({"visits": 1}));
    let q = format!("{base}&layers=partners&partner_status=signed,prospect");
    assert_eq!(totals(features(&app, &boss.token, &q).await), json!({"partners": 1}));
    // A project nobody linked anything to: nothing of the layers it narrows.
    let q = format!("{base}&layers=visits,leads,events,partners&project_id={}", uuid::Uuid::now_v7());
    assert_eq!(
        totals(features(&app, &boss.token, &q).await),
        json!({"visits": 0, "leads": 0, "events": 0, "partners": 2})
    );

    // Leads are drawn at their partner and filtered by their own status.
    let mut body = lead_body("林女士", "13800138222");
    body["partner_id"] = json!(school);
    let lead = create_lead(&app, &am.token, &body).await;
    walk(&app, &am.token, &lead, &[json!({"status": "contacted"})]).await;
    let fc = features(&app, &boss.token, &format!("{base}&layers=leads&lead_status=contacted&cluster=false")).await;
    assert_eq!(totals(fc.clone()), json!({"leads": 1}));
    let point = &list(&fc)[0];
    assert_eq!(
        (point["properties"]["category"].as_str(), point["properties"]["name"].as_str()),
        (Some("school"), None),
        "no personal data"
    );
    let [lon, lat] =
        [point["geometry"]["coordinates"][0].as_f64().unwrap(), point["geometry"]["coordinates"][1].as_f64().unwrap()];
    let (plat, plon) = near(500.0, 0.0);
    assert!((lat - plat).abs() < 1e-6 && (lon - plon).abs() < 1e-6);
    let fc = features(&app, &boss.token, &format!("{base}&layers=leads&lead_status=new")).await;
    assert_eq!(totals(fc), json!({"leads": 0}));
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn coordinates_come_in_and_go_out_in_the_datum_asked() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let id = partner(&app, &am, "超市", "supermarket", "active", CENTRE).await;
    let in_gcj = json_ok(app.get(format!("/api/v1/partners/{id}?coord=gcj02"), Some(&am.token)).await, 200).await;
    let (glat, glon) = (in_gcj["location"]["lat"].as_f64().unwrap(), in_gcj["location"]["lon"].as_f64().unwrap());
    assert!((glon - CENTRE.1).abs() > 0.003, "GCJ-02 is offset by hundreds of metres here");

    let fc = features(&app, &am.token, &format!("bbox={CITY}&zoom=12&layers=partners&coord=gcj02")).await;
    assert_eq!(fc["coord"], "gcj02");
    let c = &list(&fc)[0]["geometry"]["coordinates"];
    assert!(
        (c[0].as_f64().unwrap() - glon).abs() < 1e-6 && (c[1].as_f64().unwrap() - glat).abs() < 1e-6,
        "{c} vs {glat},{glon}"
    );
    // A tight GCJ-02 box around the GCJ-02 position finds it; the same box read as WGS-84 does not.
    let tight = format!("{},{},{},{}", glon - 0.0005, glat - 0.0005, glon + 0.0005, glat + 0.0005);
    let hit = features(&app, &am.token, &format!("bbox={tight}&zoom=16&layers=partners&coord=gcj02")).await;
    assert_eq!(hit["totals"], json!({"partners": 1}));
    let miss = features(&app, &am.token, &format!("bbox={tight}&zoom=16&layers=partners")).await;
    assert_eq!(miss["totals"], json!({"partners": 0}));
    let bd = features(&app, &am.token, &format!("bbox={CITY}&zoom=12&layers=partners&coord=bd09")).await;
    let b = &list(&bd)[0]["geometry"]["coordinates"];
    assert!((b[0].as_f64().unwrap() - glon).abs() > 0.003, "BD-09 differs again");
}

#[tokio::test]
async fn the_feature_cap_truncates_but_counts_everything() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    two_groups(&app, &am).await;
    let fc = features(&app, &am.token, &format!("bbox={STREET}&zoom=19&layers=partners&limit=5")).await;
    assert_eq!(
        (list(&fc).len(), fc["truncated"].as_bool(), fc["totals"].clone()),
        (5, Some(true), json!({"partners": 8}))
    );
    let fc = features(&app, &am.token, &format!("bbox={CITY}&zoom=10&layers=partners&cluster=false&limit=3")).await;
    assert_eq!((list(&fc).len(), fc["truncated"].as_bool()), (3, Some(true)));
    // Clusters go first when the cap bites: the two groups fit in two features.
    let fc = features(&app, &am.token, &format!("bbox={CITY}&zoom=10&layers=partners&limit=2")).await;
    assert_eq!((list(&fc).len(), fc["truncated"].as_bool(), shown(&fc, "partners")), (2, Some(false), 12));
}

#[tokio::test]
async fn bad_map_queries_are_refused_with_a_reason() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let t = Some(am.token.as_str());
    let cases = [
        ("zoom=12", 422, "invalid_query"),
        (&format!("bbox={CITY}") as &str, 422, "invalid_query"),
        (&format!("bbox={CITY}&zoom=abc"), 422, "invalid_query"),
        (&format!("bbox={CITY}&zoom=23"), 422, "validation_failed"),
        (&format!("bbox={CITY}&zoom=-1"), 422, "invalid_query"),
        ("bbox=113.3,22.4,112.9,22.8&zoom=12", 422, "validation_failed"),
        ("bbox=112.9,22.4,113.3,95&zoom=12", 422, "validation_failed"),
        ("bbox=1,2,3&zoom=12", 422, "validation_failed"),
        ("bbox=NaN,22.4,113.3,22.8&zoom=12", 422, "validation_failed"),
        (&format!("bbox={CITY}&zoom=18"), 422, "validation_failed"),
        (&format!("bbox={CITY}&zoom=12&layers=partners,shops"), 422, "validation_failed"),
        (&format!("bbox={CITY}&zoom=12&category=bank"), 422, "validation_failed"),
        (&format!("bbox={CITY}&zoom=12&visit_status=maybe"), 422, "validation_failed"),
        (&format!("bbox={CITY}&zoom=12&lead_status=won"), 422, "validation_failed"),
        (&format!("bbox={CITY}&zoom=12&limit=0"), 422, "validation_failed"),
        (&format!("bbox={CITY}&zoom=12&limit=10001"), 422, "validation_failed"),
        (&format!("bbox={CITY}&zoom=12&from=yesterday"), 422, "invalid_query"),
        (&format!("bbox={CITY}&zoom=12&from=1900-01-01T00:00:00Z"), 422, "validation_failed"),
        (&format!("bbox={CITY}&zoom=12&owner_id=42"), 422, "invalid_query"),
        (&format!("bbox={CITY}&zoom=12&cluster=perhaps"), 422, "invalid_query"),
        (&format!("bbox={CITY}&zoom=12&coord=mars"), 422, "invalid_query"),
    ];
    for (query, status, code) in cases {
        let body = assert_problem(app.get(format!("/api/v1/map/features?{query}"), t).await, status, code).await;
        assert!(!body["detail"].as_str().unwrap().is_empty(), "{query}");
    }
    let coverage = [
        ("days=0", "validation_failed"),
        ("days=367", "validation_failed"),
        ("days=x", "invalid_query"),
        ("bbox=112.9,22.4,113.3,22.8", "validation_failed"),
        ("zoom=12", "validation_failed"),
        ("bbox=112.9,22.4,113.3,22.8&zoom=23", "validation_failed"),
        ("limit=0", "validation_failed"),
        ("org_unit_id=nope", "invalid_query"),
    ];
    for (query, code) in coverage {
        assert_problem(app.get(format!("/api/v1/map/coverage?{query}"), t).await, 422, code).await;
    }
    let fc = app.get(format!("/api/v1/map/features?bbox={CITY}&zoom=12"), None).await;
    assert_eq!(fc.status().as_u16(), 401);
    let fc = app.get(format!("/api/v1/map/features?bbox={CITY}&zoom=12"), Some("forged.token.here")).await;
    assert_eq!(fc.status().as_u16(), 401);
}

/// A second app process on the same database, as a replica behind a load balancer would be.
async fn replica(app: &TestApp) -> String {
    let data_dir = tempfile::tempdir().expect("temp dir").keep();
    let env = HashMap::from([
        ("DATABASE_URL".to_owned(), app.state.settings.database_url.clone()),
        ("OUTREACH_DATA_DIR".to_owned(), data_dir.to_string_lossy().into_owned()),
        ("OUTREACH_JWT_SECRET".to_owned(), JWT_SECRET.to_owned()),
        ("OUTREACH_WORKERS".to_owned(), "1".to_owned()),
    ]);
    let settings = Settings::load(&env).expect("settings");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let other = Application::build_with_listener(settings, listener).await.expect("build replica");
    let address = format!("http://127.0.0.1:{}", other.port());
    tokio::spawn(other.run_until_stopped());
    address
}

#[tokio::test]
async fn a_write_through_one_replica_is_on_the_others_map_at_once() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let boss = app.login_as(Role::BranchManager).await;
    let other = replica(&app).await;
    let read = |query: String| {
        let (client, url, token) =
            (app.client.clone(), format!("{other}/api/v1/map/features?{query}"), boss.token.clone());
        async move { json_ok(client.get(url).bearer_auth(token).send().await.unwrap(), 200).await }
    };
    let q = format!("bbox={CITY}&zoom=12&layers=partners,visits,leads");
    assert_eq!(read(q.clone()).await["totals"], json!({"partners": 0, "visits": 0, "leads": 0}), "index loaded empty");

    let id = partner(&app, &am, "新超市", "supermarket", "prospect", CENTRE).await;
    let v = visit(&app, &am, &id, CENTRE, &ago(1)).await;
    let mut body = lead_body("吴老板", "13800138333");
    body["partner_id"] = json!(id);
    let lead = create_lead(&app, &am.token, &body).await;
    let fc = read(q.clone()).await;
    assert_eq!(fc["totals"], json!({"partners": 1, "visits": 1, "leads": 1}));
    let p = list(&fc).iter().find(|f| f["properties"]["layer"] == "partners").unwrap();
    assert_eq!(p["properties"]["status"], "prospect");

    // Moves, edits and deletions arrive the same way.
    let moved = near(3_000.0, 0.0);
    let patch = json!({"status": "contacted", "category": "school", "location": {"lat": moved.0, "lon": moved.1}});
    json_ok(app.patch_json(&format!("/api/v1/partners/{id}"), Some(&am.token), &patch).await, 200).await;
    let fc = read(q.clone()).await;
    let p = list(&fc).iter().find(|f| f["properties"]["layer"] == "partners").unwrap();
    assert_eq!(
        (p["properties"]["status"].as_str(), p["properties"]["category"].as_str()),
        (Some("contacted"), Some("school"))
    );
    assert!((p["geometry"]["coordinates"][1].as_f64().unwrap() - moved.0).abs() < 1e-6, "moved: {p}");
    let visit_point = list(&fc).iter().find(|f| f["properties"]["layer"] == "visits").unwrap();
    assert_eq!(visit_point["properties"]["category"], "school", "a visit takes its partner's category");
    assert_eq!(
        read(format!("bbox={CITY}&zoom=12&layers=partners&partner_status=prospect")).await["totals"],
        json!({"partners": 0})
    );

    let gone = app
        .client
        .delete(app.url(&format!("/api/v1/visits/{}", v["id"].as_str().unwrap())))
        .bearer_auth(&am.token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status().as_u16(), 204);
    let gone = app
        .client
        .delete(app.url(&format!("/api/v1/leads/{}", lead["id"].as_str().unwrap())))
        .bearer_auth(&boss.token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status().as_u16(), 204);
    assert_eq!(read(q.clone()).await["totals"], json!({"partners": 1, "visits": 0, "leads": 0}));
    let gone =
        app.client.delete(app.url(&format!("/api/v1/partners/{id}"))).bearer_auth(&boss.token).send().await.unwrap();
    assert_eq!(gone.status().as_u16(), 204);
    assert_eq!(read(q).await["totals"], json!({"partners": 0, "visits": 0, "leads": 0}));
}

async fn backdate(app: &TestApp, partner: &str, days: i64) {
    let (id, at) = (partner.to_owned(), (Utc::now() - Duration::days(days)).naive_utc());
    app.state
        .db
        .run(move |conn| {
            conn.write_tx(|c| {
                let seq = outreach::store::sync::next_seq(c)?;
                outreach::store::field::partners::backdate(c, &id, at, seq)
            })
        })
        .await
        .unwrap();
}

fn row<'a>(coverage: &'a Value, name: &str) -> &'a Value {
    coverage["territories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("{name}: {coverage}"))
}

#[tokio::test]
async fn coverage_lists_the_overdue_and_figures_each_territory() {
    let app = crate::helpers::spawn_history_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let am_b = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1b)).await;
    let manager = app.login_as(Role::SubBranchManager).await;
    // Outlet A1: a supermarket (14-day cadence) visited 3 days ago, a school (30 days) visited
    // 40 days ago, a terminated community. Outlet A1b: a supermarket visited only from 2 km away.
    let shop = partner(&app, &am, "超市", "supermarket", "active", CENTRE).await;
    let school = partner(&app, &am, "学校", "school", "signed", near(500.0, 0.0)).await;
    let ended = partner(&app, &am, "社区", "community", "terminated", near(0.0, 500.0)).await;
    let far = partner(&app, &am_b, "远超市", "supermarket", "prospect", near(-800.0, 0.0)).await;
    for id in [&shop, &school, &ended, &far] {
        backdate(&app, id, 100).await;
    }
    visit(&app, &am, &shop, CENTRE, &ago(3)).await;
    visit(&app, &am, &school, near(500.0, 0.0), &ago(40)).await;
    let unverified = visit(&app, &am_b, &far, near(1_200.0, 0.0), &ago(2)).await;
    assert_eq!(unverified["verification"]["verified"], false);
    let mut body = lead_body("梁姐", "13800138444");
    body["partner_id"] = json!(shop);
    let lead = create_lead(&app, &am.token, &body).await;
    walk(
        &app,
        &am.token,
        &lead,
        &[
            json!({"status": "contacted"}),
            json!({"status": "qualified"}),
            json!({"status": "converted", "converted_amount": 5000}),
        ],
    )
    .await;

    let c =
        json_ok(app.get("/api/v1/map/coverage?bbox=112.9,22.4,113.3,22.8&zoom=14", Some(&manager.token)).await, 200)
            .await;
    let overdue: Vec<(&str, u64, u64)> = c["overdue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["name"].as_str().unwrap(), o["days_since"].as_u64().unwrap(), o["overdue_days"].as_u64().unwrap()))
        .collect();
    assert_eq!(overdue, vec![("远超市", 100, 86), ("学校", 40, 10)], "most overdue first: {c}");
    assert_eq!(c["overdue_total"], 2);
    let first = &c["overdue"][0];
    assert_eq!(
        (
            first["owner_name"].as_str(),
            first["allowed_days"].as_u64(),
            first["last_verified_visit_at"].is_null(),
            first["last_visit_at"].is_string()
        ),
        (Some("Test User"), Some(14), true, true)
    );
    let a1 = row(&c, "Outlet A1");
    assert_eq!(
        [
            &a1["partners"],
            &a1["active_alliances"],
            &a1["overdue_partners"],
            &a1["visits"],
            &a1["verified_visits"],
            &a1["verified_share"],
            &a1["events"],
            &a1["leads"],
            &a1["conversions"]
        ],
        [&json!(3), &json!(2), &json!(1), &json!(1), &json!(1), &json!(1.0), &json!(0), &json!(1), &json!(1)],
        "{a1}"
    );
    let a1b = row(&c, "Outlet A1b");
    assert_eq!(
        [
            &a1b["partners"],
            &a1b["active_alliances"],
            &a1b["overdue_partners"],
            &a1b["visits"],
            &a1b["verified_visits"],
            &a1b["verified_share"]
        ],
        [&json!(1), &json!(0), &json!(1), &json!(1), &json!(0), &json!(0.0)]
    );
    assert_eq!((c["totals"]["partners"].as_u64(), c["totals"]["visits"].as_u64()), (Some(4), Some(2)));
    let heat = &c["heat"];
    assert_eq!((heat["zoom"].as_u64(), heat["cell_px"].as_u64()), (Some(14), Some(32)));
    let cells: u64 = heat["cells"].as_array().unwrap().iter().map(|c| c["count"].as_u64().unwrap()).sum();
    assert_eq!(cells, 2, "the two visits in the 30-day window");

    // Not visited in 5 days instead of the cadence; figures over 5 days.
    let c = json_ok(app.get("/api/v1/map/coverage?days=5", Some(&manager.token)).await, 200).await;
    let overdue: Vec<(&str, u64)> = c["overdue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["name"].as_str().unwrap(), o["overdue_days"].as_u64().unwrap()))
        .collect();
    assert_eq!(overdue, vec![("远超市", 95), ("学校", 35)]);
    assert_eq!((row(&c, "Outlet A1")["visits"].as_u64(), row(&c, "Outlet A1b")["visits"].as_u64()), (Some(1), Some(1)));
    assert!(c["heat"].is_null());

    // An account manager's coverage is their outlet, with only their own visits.
    let c = json_ok(app.get("/api/v1/map/coverage", Some(&am_b.token)).await, 200).await;
    assert_eq!(c["territories"].as_array().unwrap().len(), 1, "{c}");
    assert_eq!((row(&c, "Outlet A1b")["partners"].as_u64(), c["overdue_total"].as_u64()), (Some(1), Some(1)));
    assert_eq!(c["totals"]["visits"], 1);
}
