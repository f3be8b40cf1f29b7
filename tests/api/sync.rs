//! A day offline: creates, edits and a delete pushed (twice), pulled on a second device.

use chrono::{Duration, SecondsFormat, Utc};
use outreach::domain::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, assert_problem, json_ok, spawn_app};
use crate::partners::{CENTRE, create as create_partner, partner_body};

async fn pull(app: &TestApp, token: &str, cursor: Option<&str>) -> Value {
    let path = match cursor {
        Some(c) => format!("/api/v1/sync/pull?cursor={c}"),
        None => "/api/v1/sync/pull".to_owned(),
    };
    json_ok(app.get(path, Some(token)).await, 200).await
}

async fn push(app: &TestApp, token: &str, body: &Value) -> Value {
    json_ok(app.post_json("/api/v1/sync/push", Some(token), body).await, 200).await
}

fn ids(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> =
        list.as_array().unwrap().iter().map(|r| r.get("id").unwrap_or(r).as_str().unwrap().to_owned()).collect();
    ids.sort();
    ids
}

fn statuses(result: &Value) -> Vec<(String, String)> {
    result["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["table"].as_str().unwrap().to_owned(), r["status"].as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn a_day_offline_syncs_once_and_replays_as_nothing() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    // Yesterday, online: a partner and a visit the phone already has.
    let old = create_partner(&app, &am.token, &partner_body("老伙伴", CENTRE.0, CENTRE.1)).await;
    let first = pull(&app, &am.token, None).await;
    assert_eq!(ids(&first["changes"]["partners"]["created"]), [old["id"].as_str().unwrap()]);
    assert_eq!(first["has_more"], false);
    let cursor = first["cursor"].as_str().unwrap().to_owned();

    // Today, offline: a new partner, a visit to it, an edit of the old partner, a deletion.
    let new_partner = Uuid::new_v4();
    let visit = Uuid::new_v4();
    let doomed = create_partner(&app, &am.token, &partner_body("要删的", CENTRE.0 + 0.01, CENTRE.1)).await;
    let at = (Utc::now() - Duration::hours(3)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut edited = old.clone();
    edited["address"] = json!("离线改的地址");
    edited["status"] = json!("contacted");
    let batch = json!({
        "cursor": cursor,
        "changes": {
            "partners": {
                "created": [{"id": new_partner, "name": "扫街发现的新店", "category": "other", "location": {"lat": CENTRE.0 + 0.002, "lon": CENTRE.1}}],
                "updated": [edited],
                "deleted": [doomed["id"]]
            },
            "visits": {
                "created": [{"id": visit, "partner_id": new_partner, "location": {"lat": CENTRE.0 + 0.002, "lon": CENTRE.1, "accuracy_m": 8}, "visited_at": at, "purpose": "market_sweep"}]
            }
        }
    });
    let result = push(&app, &am.token, &batch).await;
    assert_eq!(
        statuses(&result),
        [("partners", "created"), ("partners", "updated"), ("partners", "deleted"), ("visits", "created")]
            .map(|(t, s)| (t.to_owned(), s.to_owned()))
    );
    assert_eq!(result["results"][3]["record"]["verified"], true, "the visit is judged on push");
    assert_eq!(result["cursor"], batch["cursor"]);

    // The same batch again (a retry after a lost answer) changes nothing.
    let replay = push(&app, &am.token, &batch).await;
    assert!(statuses(&replay).iter().all(|(_, s)| s == "unchanged"), "{replay}");
    let partners = json_ok(app.get("/api/v1/partners", Some(&am.token)).await, 200).await;
    assert_eq!(partners["items"].as_array().unwrap().len(), 2);

    // A second device of the same user, synced yesterday, gets today's changes.
    let second = pull(&app, &am.token, Some(&cursor)).await;
    let changes = &second["changes"];
    assert_eq!(ids(&changes["partners"]["created"]), [new_partner.to_string()]);
    assert_eq!(ids(&changes["partners"]["updated"]), [old["id"].as_str().unwrap()]);
    assert_eq!(changes["partners"]["updated"][0]["address"], "离线改的地址");
    assert_eq!(ids(&changes["partners"]["deleted"]), [doomed["id"].as_str().unwrap()]);
    assert_eq!(ids(&changes["visits"]["created"]), [visit.to_string()]);
    // And nothing more after that.
    let after = pull(&app, &am.token, second["cursor"].as_str()).await;
    for table in ["partners", "visits", "visit_photos"] {
        for kind in ["created", "updated", "deleted"] {
            assert_eq!(after["changes"][table][kind], json!([]), "{table}.{kind}");
        }
    }
}

#[tokio::test]
async fn a_stale_edit_is_a_conflict_with_the_servers_copy() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let manager = app.login_as(Role::SubBranchManager).await;
    let p = create_partner(&app, &am.token, &partner_body("争议店", CENTRE.0, CENTRE.1)).await;
    // The manager edits it online while the phone is offline.
    json_ok(
        app.patch_json(
            &format!("/api/v1/partners/{}", p["id"].as_str().unwrap()),
            Some(&manager.token),
            &json!({"address": "经理改的"}),
        )
        .await,
        200,
    )
    .await;
    let mut mine = p.clone();
    mine["address"] = json!("我改的");
    let result = push(&app, &am.token, &json!({"changes": {"partners": {"updated": [mine]}}})).await;
    let r = &result["results"][0];
    assert_eq!(r["status"], "conflict");
    assert_eq!(r["record"]["address"], "经理改的");
    assert_eq!(r["record"]["version"], 2);
    // Rebased on the server's version, it goes through.
    let mut rebased = r["record"].clone();
    rebased["address"] = json!("我改的");
    let ok = push(&app, &am.token, &json!({"changes": {"partners": {"updated": [rebased]}}})).await;
    assert_eq!(ok["results"][0]["status"], "updated");
}

#[tokio::test]
async fn bad_records_are_rejected_alone() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let foreign = app.login_at(Role::AccountManager, Some(app.tree.outlet_b1)).await;
    let theirs = create_partner(&app, &foreign.token, &partner_body("别人的", CENTRE.0, CENTRE.1)).await;
    let good = Uuid::new_v4();
    let batch = json!({"changes": {
        "partners": {
            "created": [
                {"id": Uuid::new_v4(), "name": "坏坐标", "category": "other", "location": {"lat": 91, "lon": 113}},
                {"id": Uuid::new_v4(), "name": "坏类别", "category": "bank", "location": {"lat": 22.5, "lon": 113}},
                {"id": good, "name": "好的", "category": "school", "location": {"lat": 22.5, "lon": 113}}
            ],
            "deleted": [theirs["id"], "not-a-uuid"]
        },
        "visit_photos": {"created": [{"id": Uuid::new_v4()}]}
    }});
    let result = push(&app, &am.token, &batch).await;
    let results = result["results"].as_array().unwrap();
    let status: Vec<&str> = results.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(status, ["rejected", "rejected", "created", "rejected", "rejected", "rejected"]);
    assert_eq!(results[0]["problem"]["code"], "validation_failed");
    assert_eq!(results[1]["problem"]["code"], "invalid_body");
    assert_eq!(results[3]["problem"]["code"], "not_found", "another branch's record does not exist for you");
    assert_eq!(results[2]["record"]["id"], good.to_string());
    json_ok(app.get(format!("/api/v1/partners/{}", theirs["id"].as_str().unwrap()), Some(&foreign.token)).await, 200)
        .await;

    let too_many: Vec<Value> = (0..501).map(|_| json!(Uuid::new_v4())).collect();
    let response = app
        .post_json("/api/v1/sync/push", Some(&am.token), &json!({"changes": {"visits": {"deleted": too_many}}}))
        .await;
    assert_problem(response, 422, "validation_failed").await;
    let response = app.post_json("/api/v1/sync/push", Some(&am.token), &json!({"changes": {"leads": {}}})).await;
    assert_problem(response, 422, "invalid_body").await;
    assert_problem(app.get("/api/v1/sync/pull?cursor=garbage", Some(&am.token)).await, 422, "validation_failed").await;
}

#[tokio::test]
async fn pulls_page_by_change_and_stay_in_scope() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let colleague = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let foreign = app.login_at(Role::AccountManager, Some(app.tree.outlet_b1)).await;
    for n in 0..7 {
        create_partner(&app, &am.token, &partner_body(&format!("店{n}"), CENTRE.0, CENTRE.1 + f64::from(n) * 0.001))
            .await;
    }
    create_partner(&app, &foreign.token, &partner_body("外行的店", CENTRE.0, CENTRE.1)).await;
    let at = (Utc::now() - Duration::hours(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let body =
        json!({"location": {"lat": CENTRE.0, "lon": CENTRE.1, "accuracy_m": 5}, "visited_at": at, "purpose": "other"});
    json_ok(app.post_json("/api/v1/visits", Some(&colleague.token), &body).await, 201).await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/sync/pull?limit=3&cursor={c}"),
            None => "/api/v1/sync/pull?limit=3".to_owned(),
        };
        let page = json_ok(app.get(path, Some(&am.token)).await, 200).await;
        pages += 1;
        seen.extend(ids(&page["changes"]["partners"]["created"]));
        assert_eq!(page["changes"]["visits"]["created"], json!([]), "a colleague's visits are not mine");
        cursor = page["cursor"].as_str().map(str::to_owned);
        if page["has_more"] == false {
            break;
        }
    }
    assert_eq!((seen.len(), pages), (7, 3), "7 partners in pages of 3, none from the other branch");

    // A partner moved to another outlet leaves this phone as a tombstone.
    let sm = app.login_as(Role::SubBranchManager).await;
    let mut manager_cursor = None;
    loop {
        let page = pull(&app, &sm.token, manager_cursor.as_deref()).await;
        manager_cursor = page["cursor"].as_str().map(str::to_owned);
        if page["has_more"] == false {
            break;
        }
    }
    // A cursor belongs to its user's scope.
    let stolen = app.get(format!("/api/v1/sync/pull?cursor={}", cursor.as_deref().unwrap()), Some(&sm.token)).await;
    assert_problem(stolen, 409, "resync_required").await;
    let moved = seen[0].clone();
    json_ok(
        app.patch_json(
            &format!("/api/v1/partners/{moved}"),
            Some(&sm.token),
            &json!({"org_unit_id": app.tree.outlet_a1b}),
        )
        .await,
        200,
    )
    .await;
    let page = pull(&app, &am.token, cursor.as_deref()).await;
    assert_eq!(ids(&page["changes"]["partners"]["deleted"]), std::slice::from_ref(&moved));
    // The manager, who sees both outlets, gets an update instead.
    let manager_page = pull(&app, &sm.token, manager_cursor.as_deref()).await;
    assert_eq!(ids(&manager_page["changes"]["partners"]["updated"]), [moved]);
    assert_eq!(manager_page["changes"]["partners"]["deleted"], json!([]));
}

#[tokio::test]
async fn an_account_manager_never_learns_of_colleagues_visits() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let colleague = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let start = pull(&app, &am.token, None).await;
    let cursor = start["cursor"].as_str().unwrap().to_owned();
    let at = (Utc::now() - Duration::hours(1)).to_rfc3339_opts(SecondsFormat::Secs, true);
    let body =
        json!({"location": {"lat": CENTRE.0, "lon": CENTRE.1, "accuracy_m": 5}, "visited_at": at, "purpose": "other"});
    let theirs = json_ok(app.post_json("/api/v1/visits", Some(&colleague.token), &body).await, 201).await;
    let gone = app
        .client
        .delete(app.url(&format!("/api/v1/visits/{}", theirs["id"].as_str().unwrap())))
        .bearer_auth(&colleague.token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    let page = pull(&app, &am.token, Some(&cursor)).await;
    assert_eq!(
        page["changes"]["visits"],
        json!({"created": [], "updated": [], "deleted": []}),
        "not even the id of a deletion"
    );
    // Pushing a delete of it answers as for any unknown record.
    let result = push(&app, &am.token, &json!({"changes": {"visits": {"deleted": [theirs["id"]]}}})).await;
    assert_eq!(result["results"][0]["status"], "rejected");
    assert_eq!(result["results"][0]["problem"]["code"], "not_found");
}
