use outreach::domain::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, assert_problem, json_ok, spawn_app};

/// 江门 (Jiangmen) city centre, WGS-84.
pub const CENTRE: (f64, f64) = (22.5787, 113.0815);

pub fn partner_body(name: &str, lat: f64, lon: f64) -> Value {
    json!({"name": name, "category": "supermarket", "location": {"lat": lat, "lon": lon}, "address": "江门市蓬江区建设路1号"})
}

pub async fn create(app: &TestApp, token: &str, body: &Value) -> Value {
    json_ok(app.post_json("/api/v1/partners", Some(token), body).await, 201).await
}

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

/// A point `north_m` metres north and `east_m` east of the centre (good to a few cm nearby).
fn offset(north_m: f64, east_m: f64) -> (f64, f64) {
    let lat = CENTRE.0 + north_m / 110_760.0;
    let lon = CENTRE.1 + east_m / (111_320.0 * CENTRE.0.to_radians().cos());
    (lat, lon)
}

#[tokio::test]
async fn an_account_manager_creates_a_partner_with_sensible_defaults() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let mut body = partner_body("华润万家(江门店)", CENTRE.0, CENTRE.1);
    body["contact_phone"] = json!("+86 139 0000 1111");
    body["audience_size"] = json!(5000);
    body["pain_points"] = json!(["收银排队长", "  ", "会员活跃低"]);
    let p = create(&app, &am.token, &body).await;
    assert_eq!(p["status"], "prospect");
    assert_eq!(p["visit_cadence_days"], 14);
    assert_eq!(p["geofence_m"], 200);
    assert_eq!(p["audience_unit"], "members");
    assert_eq!(p["owner_id"], am.id.to_string());
    assert_eq!(p["org_unit_id"], app.tree.outlet_a1.to_string());
    assert_eq!(p["contact_phone"], "13900001111");
    assert_eq!(p["pain_points"], json!(["收银排队长", "会员活跃低"]));
    assert_eq!(p["location"], json!({"lat": CENTRE.0, "lon": CENTRE.1}));
    assert_eq!(p["possible_duplicates"], json!([]));
    assert_eq!(p["version"], 1);
    let fetched = json_ok(app.get(&format!("/api/v1/partners/{}", id(&p)), Some(&am.token)).await, 200).await;
    assert_eq!(fetched["name"], "华润万家(江门店)");
    assert!(fetched.get("possible_duplicates").is_none());
}

#[tokio::test]
async fn a_client_id_makes_partner_creation_idempotent() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let mut body = partner_body("江门一中", CENTRE.0, CENTRE.1);
    body["id"] = json!(Uuid::new_v4());
    body["category"] = json!("school");
    let first = create(&app, &am.token, &body).await;
    let again = json_ok(app.post_json("/api/v1/partners", Some(&am.token), &body).await, 200).await;
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["created_at"], first["created_at"]);
    body["name"] = json!("江门二中");
    assert_problem(app.post_json("/api/v1/partners", Some(&am.token), &body).await, 409, "id_conflict").await;
}

#[tokio::test]
async fn bad_partner_input_is_refused_field_by_field() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let mut bad_category = partner_body("X", CENTRE.0, CENTRE.1);
    bad_category["category"] = json!("bank");
    let problem =
        assert_problem(app.post_json("/api/v1/partners", Some(&am.token), &bad_category).await, 422, "invalid_body")
            .await;
    assert!(problem["errors"]["category"].is_string());
    let cases = [
        (json!({"location": {"lat": 91.0, "lon": 113.0}}), "location"),
        (json!({"location": {"lat": 22.5, "lon": -181.0}}), "location"),
        (json!({"contact_phone": "12345"}), "contact_phone"),
        (json!({"visit_cadence_days": 0}), "visit_cadence_days"),
        (json!({"geofence_m": 10}), "geofence_m"),
        (json!({"audience_size": -1}), "audience_size"),
        (json!({"name": ""}), "name"),
    ];
    for (patch, field) in cases {
        let mut body = partner_body("X", CENTRE.0, CENTRE.1);
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let problem =
            assert_problem(app.post_json("/api/v1/partners", Some(&am.token), &body).await, 422, "validation_failed")
                .await;
        assert!(problem["errors"][field].is_string(), "{field}: {problem}");
    }
    let string_lat = json!({"name": "X", "category": "other", "location": {"lat": "north", "lon": 113.0}});
    assert_problem(app.post_json("/api/v1/partners", Some(&am.token), &string_lat).await, 422, "invalid_body").await;
}

#[tokio::test]
async fn the_pipeline_allows_only_its_moves_and_keeps_history() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let p = create(&app, &am.token, &partner_body("海鲜批发市场", CENTRE.0, CENTRE.1)).await;
    let path = format!("/api/v1/partners/{}", id(&p));
    let moved =
        app.patch_json(&path, Some(&am.token), &json!({"status": "contacted", "status_note": "见了市场办主任"})).await;
    assert_eq!(json_ok(moved, 200).await["status"], "contacted");
    let jump = app.patch_json(&path, Some(&am.token), &json!({"status": "active"})).await;
    let problem = assert_problem(jump, 409, "invalid_transition").await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("negotiating") && detail.contains("paused") && detail.contains("terminated"), "{detail}");
    for status in ["negotiating", "signed", "active", "paused", "active"] {
        let r = app.patch_json(&path, Some(&am.token), &json!({"status": status})).await;
        assert_eq!(json_ok(r, 200).await["status"], status);
    }
    let unknown = app.patch_json(&path, Some(&am.token), &json!({"status": "married"})).await;
    assert_problem(unknown, 422, "invalid_body").await;
    let history = json_ok(app.get(&format!("{path}/history"), Some(&am.token)).await, 200).await;
    let moves: Vec<(Value, Value)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["from_status"].clone(), h["to_status"].clone()))
        .collect();
    assert_eq!(moves.len(), 7);
    assert_eq!(moves[0], (Value::Null, json!("prospect")));
    assert_eq!(moves[1], (json!("prospect"), json!("contacted")));
    assert_eq!(moves[6], (json!("paused"), json!("active")));
    let first_move = &history["items"][1];
    assert_eq!(first_move["note"], "见了市场办主任");
    assert_eq!(first_move["changed_by"], am.id.to_string());
}

#[tokio::test]
async fn scope_and_ownership_decide_who_reads_and_writes() {
    let app = spawn_app().await;
    let t = &app.tree;
    let owner = app.login_as(Role::AccountManager).await;
    let colleague = app.login_at(Role::AccountManager, Some(t.outlet_a1)).await;
    let neighbour = app.login_at(Role::AccountManager, Some(t.outlet_a1b)).await;
    let supervisor = app.login_as(Role::Supervisor).await;
    let sub_manager = app.login_as(Role::SubBranchManager).await;
    let other_branch = app.login_at(Role::BranchManager, Some(t.branch_b)).await;
    let mut body = partner_body("天河社区", CENTRE.0, CENTRE.1);
    body["category"] = json!("community");
    body["contact_phone"] = json!("13900002222");
    let p = create(&app, &owner.token, &body).await;
    let path = format!("/api/v1/partners/{}", id(&p));

    // Reading: the outlet shares, masked where a role may not see the contact.
    let seen = json_ok(app.get(&path, Some(&colleague.token)).await, 200).await;
    assert_eq!(seen["contact_phone"], "139****2222");
    assert_eq!(json_ok(app.get(&path, Some(&supervisor.token)).await, 200).await["contact_phone"], "139****2222");
    assert_eq!(json_ok(app.get(&path, Some(&sub_manager.token)).await, 200).await["contact_phone"], "13900002222");
    for outsider in [&neighbour, &other_branch] {
        assert_problem(app.get(&path, Some(&outsider.token)).await, 404, "not_found").await;
        assert_problem(app.patch_json(&path, Some(&outsider.token), &json!({"name": "x"})).await, 404, "not_found")
            .await;
    }
    let listed = json_ok(app.get("/api/v1/partners", Some(&other_branch.token)).await, 200).await;
    assert_eq!(listed["items"], json!([]));

    // Writing: the owner and managers; a colleague and a supervisor only read.
    assert_problem(app.patch_json(&path, Some(&colleague.token), &json!({"name": "x"})).await, 403, "not_owner").await;
    assert_problem(
        app.client.delete(app.url(&path)).bearer_auth(&colleague.token).send().await.unwrap(),
        403,
        "not_owner",
    )
    .await;
    assert_problem(
        app.patch_json(&path, Some(&supervisor.token), &json!({"name": "x"})).await,
        403,
        "role_not_allowed",
    )
    .await;
    assert_problem(app.post_json("/api/v1/partners", Some(&supervisor.token), &body).await, 403, "role_not_allowed")
        .await;
    json_ok(app.patch_json(&path, Some(&sub_manager.token), &json!({"address": "江门市蓬江区"})).await, 200).await;
}

#[tokio::test]
async fn only_managers_assign_owner_and_org_unit() {
    let app = spawn_app().await;
    let t = &app.tree;
    let am = app.login_as(Role::AccountManager).await;
    let colleague = app.login_at(Role::AccountManager, Some(t.outlet_a1b)).await;
    let mut body = partner_body("X", CENTRE.0, CENTRE.1);
    body["owner_id"] = json!(colleague.id);
    assert_problem(app.post_json("/api/v1/partners", Some(&am.token), &body).await, 403, "cannot_assign").await;
    let mut body = partner_body("X", CENTRE.0, CENTRE.1);
    body["org_unit_id"] = json!(t.outlet_a1b);
    assert_problem(app.post_json("/api/v1/partners", Some(&am.token), &body).await, 403, "cannot_assign").await;

    let sm = app.login_as(Role::SubBranchManager).await;
    let mut body = partner_body("Y", CENTRE.0, CENTRE.1);
    body["owner_id"] = json!(colleague.id);
    let p = create(&app, &sm.token, &body).await;
    assert_eq!(p["owner_id"], colleague.id.to_string());
    assert_eq!(p["org_unit_id"], t.outlet_a1b.to_string(), "the owner's unit by default");
    let path = format!("/api/v1/partners/{}", id(&p));
    let reassigned = json_ok(app.patch_json(&path, Some(&sm.token), &json!({"owner_id": am.id})).await, 200).await;
    assert_eq!((reassigned["owner_id"].clone(), reassigned["org_unit_id"].clone()), (json!(am.id), json!(t.outlet_a1)));
    let (foreign, _) = app.user(Role::AccountManager, Some(t.outlet_b1)).await;
    assert_problem(app.patch_json(&path, Some(&sm.token), &json!({"owner_id": foreign})).await, 404, "not_found").await;
    assert_problem(
        app.patch_json(&path, Some(&sm.token), &json!({"org_unit_id": t.outlet_a2})).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn coordinates_follow_the_requested_datum_both_ways() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    // A published reference pair: WGS-84 (39.911954, 116.377817) is GCJ-02 (39.91334545536069, 116.38404722455657).
    let p = create(&app, &am.token, &partner_body("北京参考点", 39.911954, 116.377817)).await;
    let as_gcj =
        json_ok(app.get(&format!("/api/v1/partners/{}?coord=gcj02", id(&p)), Some(&am.token)).await, 200).await;
    assert!((as_gcj["location"]["lat"].as_f64().unwrap() - 39.91334545536069).abs() < 1e-7, "{as_gcj}");
    assert!((as_gcj["location"]["lon"].as_f64().unwrap() - 116.38404722455657).abs() < 1e-7, "{as_gcj}");

    // A phone on AMap sends GCJ-02: stored as WGS-84, returned as sent.
    let gcj = json_ok(
        app.post_json("/api/v1/partners?coord=gcj02", Some(&am.token), &partner_body("高德点", 22.5763, 113.0868))
            .await,
        201,
    )
    .await;
    assert!((gcj["location"]["lat"].as_f64().unwrap() - 22.5763).abs() < 1e-8);
    assert!((gcj["location"]["lon"].as_f64().unwrap() - 113.0868).abs() < 1e-8);
    let stored = json_ok(app.get(&format!("/api/v1/partners/{}", id(&gcj)), Some(&am.token)).await, 200).await;
    let dlat = (stored["location"]["lat"].as_f64().unwrap() - 22.5763) * 110_760.0;
    let dlon = (stored["location"]["lon"].as_f64().unwrap() - 113.0868) * 102_800.0;
    let shift = (dlat * dlat + dlon * dlon).sqrt();
    assert!((200.0..800.0).contains(&shift), "GCJ-02 is hundreds of metres off WGS-84 here: {shift}");
    let bd = json_ok(app.get(&format!("/api/v1/partners/{}?coord=bd09", id(&gcj)), Some(&am.token)).await, 200).await;
    let back = json_ok(
        app.post_json(
            "/api/v1/partners?coord=bd09",
            Some(&am.token),
            &partner_body("百度点", bd["location"]["lat"].as_f64().unwrap(), bd["location"]["lon"].as_f64().unwrap()),
        )
        .await,
        201,
    )
    .await;
    let again = json_ok(app.get(&format!("/api/v1/partners/{}", id(&back)), Some(&am.token)).await, 200).await;
    assert!((again["location"]["lat"].as_f64().unwrap() - stored["location"]["lat"].as_f64().unwrap()).abs() < 1e-7);
    assert!((again["location"]["lon"].as_f64().unwrap() - stored["location"]["lon"].as_f64().unwrap()).abs() < 1e-7);
    assert_problem(
        app.get(&format!("/api/v1/partners/{}?coord=mars", id(&p)), Some(&am.token)).await,
        422,
        "invalid_query",
    )
    .await;
}

#[tokio::test]
async fn nearby_ranks_by_true_distance_within_the_radius_and_scope() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    for (name, north, east) in
        [("A 100m", 100.0, 0.0), ("B 300m", 0.0, -300.0), ("C 800m", -800.0, 0.0), ("D 3km", 3000.0, 0.0)]
    {
        let (lat, lon) = offset(north, east);
        create(&app, &am.token, &partner_body(name, lat, lon)).await;
    }
    let other = app.login_at(Role::AccountManager, Some(app.tree.outlet_b1)).await;
    let (lat, lon) = offset(50.0, 0.0);
    create(&app, &other.token, &partner_body("other branch 50m", lat, lon)).await;

    let url = format!("/api/v1/partners/nearby?lat={}&lon={}&radius_m=1000", CENTRE.0, CENTRE.1);
    let found = json_ok(app.get(&url, Some(&am.token)).await, 200).await;
    let names: Vec<&str> = found["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["A 100m", "B 300m", "C 800m"]);
    let distances: Vec<f64> =
        found["items"].as_array().unwrap().iter().map(|i| i["distance_m"].as_f64().unwrap()).collect();
    for (d, expected) in distances.iter().zip([100.0, 300.0, 800.0]) {
        assert!((d - expected).abs() < 2.0, "{d} vs {expected}");
    }
    let limited = json_ok(app.get(&format!("{url}&limit=1"), Some(&am.token)).await, 200).await;
    assert_eq!(limited["items"].as_array().unwrap().len(), 1);

    for bad in ["radius_m=0", "radius_m=100000", "limit=0", "lat=91&lon=113", "lat=NaN&lon=113", "lat=north&lon=113"] {
        let url = if bad.starts_with("lat") {
            format!("/api/v1/partners/nearby?{bad}")
        } else {
            format!("/api/v1/partners/nearby?lat={}&lon={}&{bad}", CENTRE.0, CENTRE.1)
        };
        let response = app.get(&url, Some(&am.token)).await;
        assert_eq!(response.status(), 422, "{bad}");
    }
}

#[tokio::test]
async fn list_filters_combine() {
    let app = crate::helpers::spawn_history_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let shop = create(&app, &am.token, &partner_body("华润万家(江门店)", CENTRE.0, CENTRE.1)).await;
    let mut school = partner_body("江门一中", 22.60, 113.10);
    school["category"] = json!("school");
    school["address"] = json!("江门市蓬江区育德街");
    let school = create(&app, &am.token, &school).await;
    app.patch_json(&format!("/api/v1/partners/{}", id(&school)), Some(&am.token), &json!({"status": "contacted"}))
        .await;

    let names = |v: &Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_owned()).collect()
    };
    let get = |q: &str| app.get(format!("/api/v1/partners?{q}"), Some(&am.token));
    assert_eq!(names(&json_ok(get("category=school").await, 200).await), ["江门一中"]);
    assert_eq!(names(&json_ok(get("category=supermarket&status=prospect").await, 200).await), ["华润万家(江门店)"]);
    assert_eq!(names(&json_ok(get("q=万家").await, 200).await), ["华润万家(江门店)"]);
    assert_eq!(names(&json_ok(get("q=育德").await, 200).await), ["江门一中"], "q searches the address too");
    assert_eq!(names(&json_ok(get("q=100%25").await, 200).await), Vec::<String>::new(), "% is literal");
    let mut latin = partner_body("Wanjia Mart", 22.70, 113.20);
    latin["category"] = json!("other");
    create(&app, &am.token, &latin).await;
    assert_eq!(
        names(&json_ok(get("q=WANJIA").await, 200).await),
        ["Wanjia Mart"],
        "case-insensitive on both databases"
    );
    assert_eq!(names(&json_ok(get("bbox=113.05,22.55,113.09,22.59").await, 200).await), ["华润万家(江门店)"]);
    assert_eq!(
        names(&json_ok(get(&format!("owner_id={}&category=supermarket", am.id)).await, 200).await),
        ["华润万家(江门店)"]
    );
    let since = shop["updated_at"].as_str().unwrap().replace('+', "%2B");
    assert_eq!(json_ok(get(&format!("updated_since={since}")).await, 200).await["items"].as_array().unwrap().len(), 3);
    assert_eq!(names(&json_ok(get("updated_since=2099-01-01T00:00:00Z").await, 200).await), Vec::<String>::new());
    for bad in
        ["bbox=113.2,22.5,113.0,22.7", "bbox=1,2,3", "bbox=0,-91,1,1", "category=bank", "updated_since=yesterday"]
    {
        assert_eq!(get(bad).await.status(), 422, "{bad}");
    }
}

#[tokio::test]
async fn deleted_partners_disappear_but_stay_as_tombstones() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let p = create(&app, &am.token, &partner_body("要删除的", CENTRE.0, CENTRE.1)).await;
    let path = format!("/api/v1/partners/{}", id(&p));
    let gone = app.client.delete(app.url(&path)).bearer_auth(&am.token).send().await.unwrap();
    assert_eq!(gone.status(), 204);
    assert_problem(app.get(&path, Some(&am.token)).await, 404, "not_found").await;
    assert_problem(app.client.delete(app.url(&path)).bearer_auth(&am.token).send().await.unwrap(), 404, "not_found")
        .await;
    assert_eq!(json_ok(app.get("/api/v1/partners", Some(&am.token)).await, 200).await["items"], json!([]));
    let pid: Uuid = id(&p).parse().unwrap();
    let tombstone =
        app.state.db.run(move |c| outreach::store::field::partners::find(c, &pid.to_string())).await.unwrap().unwrap();
    assert!(tombstone.deleted_at.is_some());
    assert_eq!(tombstone.version, 2);
}

#[tokio::test]
async fn similar_names_close_by_are_flagged_not_blocked() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let first = create(&app, &am.token, &partner_body("华润万家(江门店)", CENTRE.0, CENTRE.1)).await;
    let (lat, lon) = offset(50.0, 0.0);
    let second = create(&app, &am.token, &partner_body("华润万家 江门店", lat, lon)).await;
    let dups = second["possible_duplicates"].as_array().unwrap();
    assert_eq!(dups.len(), 1);
    assert_eq!(dups[0]["id"], first["id"]);
    assert!((dups[0]["distance_m"].as_f64().unwrap() - 50.0).abs() < 1.0);
    let (lat, lon) = offset(500.0, 0.0);
    assert_eq!(create(&app, &am.token, &partner_body("华润万家", lat, lon)).await["possible_duplicates"], json!([]));
    assert_eq!(
        create(&app, &am.token, &partner_body("江门一中", CENTRE.0, CENTRE.1)).await["possible_duplicates"],
        json!([])
    );
}

fn square(lat: f64, lon: f64, half: f64) -> Value {
    json!({"type": "Polygon", "coordinates": [[[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half], [lon - half, lat - half]]]})
}

#[tokio::test]
async fn territories_are_derived_refreshed_and_reported() {
    let app = spawn_app().await;
    let t = &app.tree;
    let admin = app.login_as(Role::Admin).await;
    let am = app.login_as(Role::AccountManager).await;
    let inside = create(&app, &am.token, &partner_body("inside", CENTRE.0, CENTRE.1)).await;
    let outside = create(&app, &am.token, &partner_body("outside", CENTRE.0 + 0.2, CENTRE.1)).await;
    assert_eq!(inside["territory_unit_id"], Value::Null);

    // Drawing the sub-branch's territory re-derives existing partners.
    let drawn = app
        .patch_json(
            &format!("/api/v1/org-units/{}", t.sub_a1),
            Some(&admin.token),
            &json!({"territory": square(CENTRE.0, CENTRE.1, 0.05)}),
        )
        .await;
    assert_eq!(json_ok(drawn, 200).await["version"], 2);
    let get = |p: &Value| app.get(format!("/api/v1/partners/{}", id(p)), Some(&am.token));
    let derived = json_ok(get(&inside).await, 200).await;
    assert_eq!(derived["territory_unit_id"], t.sub_a1.to_string());
    assert_eq!(derived["version"], 2, "a derived change is a change: phones must see it");
    assert_eq!(json_ok(get(&outside).await, 200).await["territory_unit_id"], Value::Null);

    // A deeper unit's territory wins; new partners get it at once.
    app.patch_json(
        &format!("/api/v1/org-units/{}", t.outlet_a1),
        Some(&admin.token),
        &json!({"territory": square(CENTRE.0, CENTRE.1, 0.01)}),
    )
    .await;
    assert_eq!(json_ok(get(&inside).await, 200).await["territory_unit_id"], t.outlet_a1.to_string());
    let (lat, lon) = offset(3000.0, 0.0);
    let fresh = create(&app, &am.token, &partner_body("in the sub-branch only", lat, lon)).await;
    assert_eq!(fresh["territory_unit_id"], t.sub_a1.to_string());
    let listed =
        json_ok(app.get(&format!("/api/v1/partners?territory_unit_id={}", t.outlet_a1), Some(&am.token)).await, 200)
            .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    // Moving a partner moves it between territories.
    let moved = app
        .patch_json(
            &format!("/api/v1/partners/{}", id(&outside)),
            Some(&am.token),
            &json!({"location": {"lat": CENTRE.0 + 0.001, "lon": CENTRE.1}}),
        )
        .await;
    assert_eq!(json_ok(moved, 200).await["territory_unit_id"], t.outlet_a1.to_string());

    // The report: partners outside the territory governing their owner (outlet A1's).
    let report = json_ok(app.get("/api/v1/partners/outside-territory", Some(&am.token)).await, 200).await;
    let names: Vec<&str> = report["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["in the sub-branch only"]);
    assert_eq!(report["items"][0]["owner_territory_unit_id"], t.outlet_a1.to_string());

    // Removing a territory clears it from partners.
    app.patch_json(&format!("/api/v1/org-units/{}", t.outlet_a1), Some(&admin.token), &json!({"territory": null}))
        .await;
    assert_eq!(json_ok(get(&inside).await, 200).await["territory_unit_id"], t.sub_a1.to_string());
    let bad = app
        .patch_json(
            &format!("/api/v1/org-units/{}", t.outlet_a1),
            Some(&admin.token),
            &json!({"territory": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}}),
        )
        .await;
    assert_problem(bad, 422, "validation_failed").await;
    let am_edit =
        app.patch_json(&format!("/api/v1/org-units/{}", t.outlet_a1), Some(&am.token), &json!({"name": "mine"})).await;
    assert_problem(am_edit, 403, "role_not_allowed").await;
}

#[tokio::test]
async fn changes_are_audited_for_managers() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let sm = app.login_as(Role::SubBranchManager).await;
    let mut body = partner_body("审计对象", CENTRE.0, CENTRE.1);
    body["contact_phone"] = json!("13900003333");
    let p = create(&app, &am.token, &body).await;
    app.patch_json(
        &format!("/api/v1/partners/{}", id(&p)),
        Some(&am.token),
        &json!({"status": "contacted", "address": "新地址"}),
    )
    .await;
    let log =
        json_ok(app.get(&format!("/api/v1/audit?entity=partner&entity_id={}", id(&p)), Some(&sm.token)).await, 200)
            .await;
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!((items[0]["action"].as_str(), items[1]["action"].as_str()), (Some("create"), Some("update")));
    assert_eq!(items[1]["actor_id"], am.id.to_string());
    assert_eq!(items[1]["changes"]["status"], json!({"from": "prospect", "to": "contacted"}));
    assert_eq!(items[1]["changes"]["address"]["to"], "新地址");
    assert!(items[1]["changes"].get("version").is_none());
    assert_eq!(items[0]["changes"]["contact_phone"], "139****3333", "audit readers see contacts masked");
    assert_problem(app.get("/api/v1/audit", Some(&am.token)).await, 403, "role_not_allowed").await;

    // User changes are audited without secrets.
    let path = format!("/api/v1/users/{}", am.id);
    app.patch_json(&path, Some(&sm.token), &json!({"password": "a new password here", "name": "改名"})).await;
    let log =
        json_ok(app.get(&format!("/api/v1/audit?entity=user&entity_id={}", am.id), Some(&sm.token)).await, 200).await;
    let text = log.to_string();
    let last = log["items"].as_array().unwrap().last().unwrap();
    assert_eq!(last["changes"]["password"], "changed");
    assert!(!text.contains("argon2") && !text.contains("a new password here") && !text.contains(&am.phone), "{text}");
    // Another branch sees none of it.
    let other = app.login_at(Role::BranchManager, Some(app.tree.branch_b)).await;
    let theirs = json_ok(app.get("/api/v1/audit?limit=500", Some(&other.token)).await, 200).await.to_string();
    assert!(!theirs.contains(id(&p)) && !theirs.contains(&am.id.to_string()), "{theirs}");
    assert!(theirs.contains("Branch B"), "their own branch's entries are there");
}
