//! Supervision: a supervisor's visit to an outlet, verified at the outlet's door, scored on the
//! method's checklist with evidence photos and a review; findings with an owner and a due day
//! that show in the owner's morning report once overdue; and the phone's pull of both.

use chrono::{Duration, SecondsFormat, Utc};
use outreach::domain::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Login, TestApp, assert_problem, json_ok, spawn_app};
use crate::partners::CENTRE;
use crate::projects::day;

fn minutes_ago(m: i64) -> String {
    (Utc::now() - Duration::minutes(m)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Gives outlet A1 its door at `CENTRE`.
async fn place_outlet(app: &TestApp) {
    let admin = app.login_as(Role::Admin).await;
    let path = format!("/api/v1/org-units/{}", app.tree.outlet_a1);
    let unit = json_ok(
        app.patch_json(&path, Some(&admin.token), &json!({"location": {"lat": CENTRE.0, "lon": CENTRE.1}})).await,
        200,
    )
    .await;
    assert_eq!(unit["location"], json!({"lat": CENTRE.0, "lon": CENTRE.1}));
}

fn supervision_body(app: &TestApp, lat: f64) -> Value {
    json!({
        "org_unit_id": app.tree.outlet_a1,
        "location": {"lat": lat, "lon": CENTRE.1, "accuracy_m": 12},
        "visited_at": minutes_ago(20),
        "checklist": [
            {"item": "retail_situation", "score": 3, "notes": "厅堂动线混乱，理财经理在柜台"},
            {"item": "segment_map", "score": 2, "notes": "客群地图未更新"}
        ],
        "review_worked": "晨会点名落后项"
    })
}

async fn supervise(app: &TestApp, who: &Login) -> Value {
    json_ok(app.post_json("/api/v1/supervisions", Some(&who.token), &supervision_body(app, CENTRE.0)).await, 201).await
}

fn path(s: &Value) -> String {
    format!("/api/v1/supervisions/{}", s["id"].as_str().unwrap())
}

#[tokio::test]
async fn a_supervision_is_verified_at_the_outlet_scored_and_reviewed() {
    let app = spawn_app().await;
    place_outlet(&app).await;
    let supervisor = app.login_as(Role::Supervisor).await;
    let am = app.login_as(Role::AccountManager).await;
    let far_am = app.login_at(Role::AccountManager, Some(app.tree.outlet_a2)).await;
    let other_branch = app.login_at(Role::Supervisor, Some(app.tree.branch_b)).await;

    let s = supervise(&app, &supervisor).await;
    assert_eq!(
        (s["verification"]["verified"].as_bool(), s["supervisor_id"].as_str()),
        (Some(true), Some(supervisor.id.to_string().as_str()))
    );
    assert!(s["verification"]["distance_m"].as_f64().unwrap() < 1.0, "{s}");
    assert_eq!(s["checklist"][1]["label"], "客群地图与存量客户画像");
    // Two kilometres from the door: recorded, not verified.
    let away = json_ok(
        app.post_json("/api/v1/supervisions", Some(&supervisor.token), &supervision_body(&app, CENTRE.0 + 0.02)).await,
        201,
    )
    .await;
    assert_eq!(
        (away["verification"]["verified"].as_bool(), away["verification"]["reasons"].clone()),
        (Some(false), json!(["outside_geofence"]))
    );

    // Who may record one, and where.
    let response = app.post_json("/api/v1/supervisions", Some(&am.token), &supervision_body(&app, CENTRE.0)).await;
    assert_problem(response, 403, "role_not_allowed").await;
    let response =
        app.post_json("/api/v1/supervisions", Some(&other_branch.token), &supervision_body(&app, CENTRE.0)).await;
    assert_problem(response, 404, "not_found").await;
    let mut at_sub = supervision_body(&app, CENTRE.0);
    at_sub["org_unit_id"] = json!(app.tree.sub_a1);
    let problem = assert_problem(
        app.post_json("/api/v1/supervisions", Some(&supervisor.token), &at_sub).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(problem["errors"]["org_unit_id"].is_string(), "{problem}");
    for (checklist, field) in [
        (json!([{"item": "segment_map", "score": 6}]), "checklist[0].score"),
        (json!([{"item": "segment_map", "score": 3}, {"item": "segment_map", "score": 4}]), "checklist[1].item"),
    ] {
        let mut body = supervision_body(&app, CENTRE.0);
        body["checklist"] = checklist;
        let problem = assert_problem(
            app.post_json("/api/v1/supervisions", Some(&supervisor.token), &body).await,
            422,
            "validation_failed",
        )
        .await;
        assert!(problem["errors"][field].is_string(), "{field}: {problem}");
    }
    let mut unknown = supervision_body(&app, CENTRE.0);
    unknown["checklist"] = json!([{"item": "vibes", "score": 3}]);
    assert_eq!(app.post_json("/api/v1/supervisions", Some(&supervisor.token), &unknown).await.status(), 422);

    // The outlet's staff read their outlet's supervisions; others do not.
    assert_eq!(app.get(path(&s), Some(&am.token)).await.status(), 200);
    assert_eq!(app.get(path(&s), Some(&far_am.token)).await.status(), 404);
    assert_eq!(app.get(path(&s), Some(&other_branch.token)).await.status(), 404);

    // Rescored with the review written; photos stay with their item.
    let photos = format!("{}/photos?item=segment_map", path(&s));
    let jpeg = crate::photos::photo(640, 480, &Default::default());
    let with_photo = json_ok(app.post_raw(&photos, Some(&supervisor.token), "image/jpeg", jpeg).await, 201).await;
    let photo_url = with_photo["checklist"][1]["photos"][0]["url"].as_str().unwrap().to_owned();
    let unscored = format!("{}/photos?item=key_segment_rules", path(&s));
    let problem = assert_problem(
        app.post_raw(
            &unscored,
            Some(&supervisor.token),
            "image/jpeg",
            crate::photos::photo(64, 48, &Default::default()),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(problem["errors"]["item"].is_string(), "{problem}");
    let patch = json!({
        "checklist": [{"item": "segment_map", "score": 4, "notes": "当场更新了地图"}, {"item": "segment_projects", "score": 3}],
        "review_worked": "现场辅导有效", "review_change": "下次先看数据再进网点", "version": with_photo["version"]
    });
    let reviewed = json_ok(app.patch_json(&path(&s), Some(&supervisor.token), &patch).await, 200).await;
    assert_eq!(reviewed["checklist"][0]["photos"][0]["url"], photo_url.as_str());
    assert_eq!(
        (reviewed["review_change"].as_str(), reviewed["checklist"].as_array().unwrap().len()),
        (Some("下次先看数据再进网点"), 2)
    );
    assert_problem(app.patch_json(&path(&s), Some(&supervisor.token), &patch).await, 409, "version_conflict").await;
    assert_problem(app.patch_json(&path(&s), Some(&am.token), &json!({"review_worked": "改"})).await, 403, "not_owner")
        .await;
    let image = app.get(&photo_url, Some(&am.token)).await;
    assert_eq!(
        (image.status().as_u16(), image.headers()["content-type"].to_str().unwrap().to_owned()),
        (200, "image/jpeg".to_owned())
    );
    assert_eq!(app.get(&photo_url, Some(&far_am.token)).await.status(), 404);

    // The list: the subtree's, filtered by outlet.
    let listed = json_ok(
        app.get(format!("/api/v1/supervisions?org_unit_id={}", app.tree.outlet_a1), Some(&am.token)).await,
        200,
    )
    .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    let none = json_ok(app.get("/api/v1/supervisions", Some(&far_am.token)).await, 200).await;
    assert!(none["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn findings_are_closed_by_their_owner_and_show_in_the_morning_report_when_overdue() {
    let app = spawn_app().await;
    place_outlet(&app).await;
    let supervisor = app.login_as(Role::Supervisor).await;
    let owner = app.login_as(Role::AccountManager).await;
    let colleague = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let sm = app.login_as(Role::SubBranchManager).await;
    let s = supervise(&app, &supervisor).await;
    let findings = format!("{}/findings", path(&s));
    let late = json_ok(app.post_json(&findings, Some(&supervisor.token), &json!({"title": "客群地图未更新", "detail": "本周内补录存量客户", "owner_id": owner.id, "due_on": day(-1)})).await, 201).await;
    assert_eq!((late["overdue"].as_bool(), late["status"].as_str()), (Some(true), Some("open")));
    assert_eq!(late["org_unit_id"], app.tree.outlet_a1.to_string());
    let later = json_ok(
        app.post_json(
            &findings,
            Some(&supervisor.token),
            &json!({"title": "晨会流程", "owner_id": colleague.id, "due_on": day(3)}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(later["overdue"], false);
    for (body, field) in [
        (
            json!({"title": "x", "owner_id": app.login_at(Role::AccountManager, Some(app.tree.outlet_b1)).await.id, "due_on": day(3)}),
            "owner_id",
        ),
        (json!({"title": "x", "owner_id": Uuid::now_v7(), "due_on": day(3)}), "owner_id"),
        (json!({"title": "x", "owner_id": owner.id, "due_on": day(900)}), "due_on"),
        (json!({"title": " ", "owner_id": owner.id, "due_on": day(3)}), "title"),
    ] {
        let problem =
            assert_problem(app.post_json(&findings, Some(&supervisor.token), &body).await, 422, "validation_failed")
                .await;
        assert!(problem["errors"][field].is_string(), "{field}: {problem}");
    }
    assert_problem(
        app.post_json(
            &findings,
            Some(&owner.token),
            &json!({"title": "自己提", "owner_id": owner.id, "due_on": day(3)}),
        )
        .await,
        403,
        "not_owner",
    )
    .await;

    // The morning report of the owner's unit lists the overdue one; the owner sees their own.
    let report = |who: &Login, unit: Option<Uuid>| {
        let url = match unit {
            Some(u) => format!("/api/v1/reports/daily?org_unit_id={u}"),
            None => "/api/v1/reports/daily".to_owned(),
        };
        let (app, token) = (&app, who.token.clone());
        async move { json_ok(app.get(url, Some(&token)).await, 200).await }
    };
    let ids = |r: &Value| r["overdue_findings"].as_array().unwrap().iter().map(|f| f["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&report(&sm, Some(app.tree.outlet_a1)).await), vec![late["id"].clone()]);
    assert_eq!(ids(&report(&owner, None).await), vec![late["id"].clone()]);
    assert!(ids(&report(&colleague, None).await).is_empty(), "a colleague's own line only");
    let listed = json_ok(app.get("/api/v1/findings?overdue=true", Some(&sm.token)).await, 200).await;
    assert_eq!(
        listed["items"].as_array().unwrap().iter().map(|f| f["id"].clone()).collect::<Vec<_>>(),
        vec![late["id"].clone()]
    );

    // The owner closes it with a note; only the supervisor or a manager changes more, or reopens.
    let finding = format!("/api/v1/findings/{}", late["id"].as_str().unwrap());
    assert_problem(
        app.patch_json(&finding, Some(&colleague.token), &json!({"status": "done"})).await,
        403,
        "not_owner",
    )
    .await;
    assert_problem(app.patch_json(&finding, Some(&owner.token), &json!({"due_on": day(5)})).await, 403, "not_owner")
        .await;
    let done = json_ok(
        app.patch_json(&finding, Some(&owner.token), &json!({"status": "done", "done_note": "已补录 42 户"})).await,
        200,
    )
    .await;
    assert_eq!(
        (done["status"].as_str(), done["done_by"].as_str(), done["overdue"].as_bool()),
        (Some("done"), Some(owner.id.to_string().as_str()), Some(false))
    );
    assert!(ids(&report(&sm, Some(app.tree.outlet_a1)).await).is_empty());
    assert_problem(app.patch_json(&finding, Some(&owner.token), &json!({"status": "open"})).await, 403, "not_owner")
        .await;
    let reopened = json_ok(
        app.patch_json(&finding, Some(&supervisor.token), &json!({"status": "open", "due_on": day(2)})).await,
        200,
    )
    .await;
    assert_eq!((reopened["status"].as_str(), reopened["overdue"].as_bool()), (Some("open"), Some(false)));
    assert_eq!(app.patch_json(&finding, Some(&owner.token), &json!({"status": "closed"})).await.status(), 422);

    // The supervision shows its findings; deleting it takes them along.
    let read = json_ok(app.get(path(&s), Some(&owner.token)).await, 200).await;
    assert_eq!(read["findings"].as_array().unwrap().len(), 2);
    assert_eq!(app.client.delete(app.url(&path(&s))).bearer_auth(&owner.token).send().await.unwrap().status(), 403);
    assert_eq!(
        app.client.delete(app.url(&path(&s))).bearer_auth(&supervisor.token).send().await.unwrap().status(),
        204
    );
    assert_eq!(app.get(&finding, Some(&sm.token)).await.status(), 404);
}

#[tokio::test]
async fn the_phone_pulls_its_outlets_supervisions_and_findings() {
    let app = spawn_app().await;
    place_outlet(&app).await;
    let supervisor = app.login_as(Role::Supervisor).await;
    let am = app.login_as(Role::AccountManager).await;
    let far = app.login_at(Role::AccountManager, Some(app.tree.outlet_a2)).await;
    let s = supervise(&app, &supervisor).await;
    let f = json_ok(
        app.post_json(
            &format!("{}/findings", path(&s)),
            Some(&supervisor.token),
            &json!({"title": "客群地图未更新", "owner_id": am.id, "due_on": day(2)}),
        )
        .await,
        201,
    )
    .await;
    let first = json_ok(app.get("/api/v1/sync/pull", Some(&am.token)).await, 200).await;
    assert_eq!(first["changes"]["supervisions"]["created"][0]["id"], s["id"]);
    assert_eq!(first["changes"]["supervision_findings"]["created"][0]["id"], f["id"]);
    let elsewhere = json_ok(app.get("/api/v1/sync/pull", Some(&far.token)).await, 200).await;
    assert!(elsewhere["changes"]["supervisions"]["created"].as_array().unwrap().is_empty());
    // Closed on the web, deleted later: the phone hears of both.
    let cursor = first["cursor"].as_str().unwrap().to_owned();
    let finding = format!("/api/v1/findings/{}", f["id"].as_str().unwrap());
    json_ok(app.patch_json(&finding, Some(&am.token), &json!({"status": "done"})).await, 200).await;
    let next = json_ok(app.get(format!("/api/v1/sync/pull?cursor={cursor}"), Some(&am.token)).await, 200).await;
    assert_eq!(next["changes"]["supervision_findings"]["updated"][0]["status"], "done");
    let cursor = next["cursor"].as_str().unwrap().to_owned();
    assert_eq!(
        app.client.delete(app.url(&path(&s))).bearer_auth(&supervisor.token).send().await.unwrap().status(),
        204
    );
    let gone = json_ok(app.get(format!("/api/v1/sync/pull?cursor={cursor}"), Some(&am.token)).await, 200).await;
    assert_eq!(gone["changes"]["supervisions"]["deleted"], json!([s["id"]]));
    assert_eq!(gone["changes"]["supervision_findings"]["deleted"], json!([f["id"]]));
}

async fn push(app: &TestApp, who: &Login, changes: Value) -> Vec<Value> {
    let body = json!({"changes": changes});
    let answer = json_ok(app.post_json("/api/v1/sync/push", Some(&who.token), &body).await, 200).await;
    answer["results"].as_array().unwrap().clone()
}

#[tokio::test]
async fn supervisions_and_findings_recorded_offline_are_pushed_like_visits() {
    let app = spawn_app().await;
    place_outlet(&app).await;
    let supervisor = app.login_as(Role::Supervisor).await;
    let am = app.login_as(Role::AccountManager).await;
    // A day without signal: a supervision and its finding, made on the phone with its own ids.
    let (sid, fid) = (Uuid::now_v7(), Uuid::now_v7());
    let mut record = supervision_body(&app, CENTRE.0);
    record["id"] = json!(sid);
    let finding =
        json!({"id": fid, "supervision_id": sid, "title": "客群地图未更新", "owner_id": am.id, "due_on": day(2)});
    let results = push(
        &app,
        &supervisor,
        json!({"supervisions": {"created": [record]}, "supervision_findings": {"created": [finding]}}),
    )
    .await;
    let statuses: Vec<&str> = results.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["created", "created"], "{results:?}");
    assert_eq!(results[0]["record"]["verification"]["verified"], true);
    assert_eq!(results[1]["record"]["overdue"], false);
    // The same push again changes nothing.
    let again = push(
        &app,
        &supervisor,
        json!({"supervisions": {"created": [record]}, "supervision_findings": {"created": [finding]}}),
    )
    .await;
    assert!(again.iter().all(|r| r["status"] == "unchanged"), "{again:?}");

    // The owner closes the finding offline; the supervisor writes the review offline.
    let closed = push(&app, &am, json!({"supervision_findings": {"updated": [{"id": fid, "version": 1, "status": "done", "done_note": "已补录"}]}})).await;
    assert_eq!((closed[0]["status"].as_str(), closed[0]["record"]["status"].as_str()), (Some("updated"), Some("done")));
    let review = json!({"id": sid, "version": 1, "review_worked": "现场辅导有效"});
    assert_eq!(push(&app, &supervisor, json!({"supervisions": {"updated": [review]}})).await[0]["status"], "updated");
    // Another edit made against the old version is a conflict carrying the server's copy.
    let stale = json!({"id": sid, "version": 1, "review_worked": "别的说法"});
    let conflict = push(&app, &supervisor, json!({"supervisions": {"updated": [stale]}})).await;
    assert_eq!(
        (conflict[0]["status"].as_str(), conflict[0]["record"]["review_worked"].as_str()),
        (Some("conflict"), Some("现场辅导有效"))
    );

    // An account manager does not record supervisions; findings are closed, not deleted.
    let mut theirs = supervision_body(&app, CENTRE.0);
    theirs["id"] = json!(Uuid::now_v7());
    let refused =
        push(&app, &am, json!({"supervisions": {"created": [theirs]}, "supervision_findings": {"deleted": [fid]}}))
            .await;
    assert_eq!(
        (refused[0]["status"].as_str(), refused[0]["problem"]["code"].as_str()),
        (Some("rejected"), Some("role_not_allowed"))
    );
    assert_eq!(refused[1]["status"], "rejected");

    // Deleted on the phone: gone, and deleting again is no news.
    assert_eq!(push(&app, &supervisor, json!({"supervisions": {"deleted": [sid]}})).await[0]["status"], "deleted");
    assert_eq!(push(&app, &supervisor, json!({"supervisions": {"deleted": [sid]}})).await[0]["status"], "unchanged");
    assert_eq!(app.get(format!("/api/v1/findings/{fid}"), Some(&am.token)).await.status(), 404);
}

#[tokio::test]
async fn an_evidence_photo_taken_elsewhere_unverifies_a_supervision_like_a_visit() {
    let app = spawn_app().await;
    place_outlet(&app).await;
    let supervisor = app.login_as(Role::Supervisor).await;
    let s = supervise(&app, &supervisor).await;
    assert_eq!(s["verification"]["verified"], true);
    // Its EXIF says it was taken five kilometres north of the outlet.
    let facts = crate::photos::Facts { gps: Some((CENTRE.0 + 0.045, CENTRE.1)), ..Default::default() };
    let far = crate::photos::photo(640, 480, &facts);
    let url = format!("{}/photos?item=retail_situation", path(&s));
    let judged = json_ok(app.post_raw(&url, Some(&supervisor.token), "image/jpeg", far).await, 201).await;
    assert_eq!(judged["verification"]["verified"], false, "{judged}");
    assert_eq!(judged["verification"]["reasons"], json!(["photo_far_from_visit"]));
    // The photo is evidence of an item: dropping the item drops the photo, and the doubt with it.
    let patch = json!({"checklist": [{"item": "segment_map", "score": 2}]});
    let cleared = json_ok(app.patch_json(&path(&s), Some(&supervisor.token), &patch).await, 200).await;
    assert_eq!(
        (cleared["verification"]["verified"].as_bool(), cleared["checklist"].as_array().unwrap().len()),
        (Some(true), 1)
    );
}

/// Issue 21, finding 10: a supervision of an outlet whose door was not set was verified from
/// 50 km away, and stayed verified after the door was set.
#[tokio::test]
async fn a_supervision_without_the_outlet_s_door_is_not_verified_until_the_door_is_set() {
    let app = spawn_app().await;
    let supervisor = app.login_as(Role::Supervisor).await;
    // 50 km north of where the door turns out to be.
    let far = json_ok(
        app.post_json("/api/v1/supervisions", Some(&supervisor.token), &supervision_body(&app, CENTRE.0 + 0.45)).await,
        201,
    )
    .await;
    let near = supervise(&app, &supervisor).await;
    for s in [&far, &near] {
        assert_eq!(
            (s["verification"]["verified"].as_bool(), s["verification"]["reasons"].clone()),
            (Some(false), json!(["no_reference_location"])),
            "{s}"
        );
    }
    // The door is set: both are judged again against it.
    place_outlet(&app).await;
    let far = json_ok(app.get(path(&far), Some(&supervisor.token)).await, 200).await;
    let near = json_ok(app.get(path(&near), Some(&supervisor.token)).await, 200).await;
    assert_eq!(
        (far["verification"]["verified"].as_bool(), far["verification"]["reasons"].clone()),
        (Some(false), json!(["outside_geofence"])),
        "{far}"
    );
    assert_eq!(near["verification"]["verified"], true, "{near}");
    assert!(near["verification"]["distance_m"].as_f64().unwrap() < 1.0, "{near}");
}
