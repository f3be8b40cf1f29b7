//! Best-practice cases: anyone writes one, a manager over it publishes it to the whole branch,
//! readers find it by segment, partner category and words, and mark it useful once each.

use outreach::domain::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Login, TestApp, assert_problem, json_ok, spawn_app};
use crate::projects::{create_project, project_body};

fn case_body(title: &str, segment: &str, category: Option<&str>) -> Value {
    json!({
        "title": title, "segment": segment, "partner_category": category,
        "what_done": "联合小区物业在周末办亲子财商课，现场开户送绘本，课后一周内电话回访。",
        "results": "三场活动带来一批新客，宝妈群体反响很好。",
        "figures": [{"label": "新增客户", "value": 32, "unit": "户"}, {"label": "新增存款", "value": 186.5, "unit": "万元"}]
    })
}

async fn write(app: &TestApp, who: &Login, body: &Value) -> Value {
    json_ok(app.post_json("/api/v1/cases", Some(&who.token), body).await, 201).await
}

fn path(case: &Value) -> String {
    format!("/api/v1/cases/{}", case["id"].as_str().unwrap())
}

async fn status_of(app: &TestApp, case: &Value, who: &Login) -> u16 {
    app.get(path(case), Some(&who.token)).await.status().as_u16()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn anyone_writes_a_case_and_a_manager_over_it_publishes_it_to_the_branch() {
    let app = spawn_app().await;
    let t = &app.tree;
    let author = app.login_as(Role::AccountManager).await;
    let sm = app.login_as(Role::SubBranchManager).await;
    let supervisor = app.login_as(Role::Supervisor).await;
    let colleague = app.login_at(Role::AccountManager, Some(t.outlet_a1)).await;
    let far = app.login_at(Role::AccountManager, Some(t.outlet_a2)).await;
    let other_sm = app.login_at(Role::SubBranchManager, Some(t.sub_a2)).await;
    let other_branch = app.login_at(Role::BranchManager, Some(t.branch_b)).await;

    let project = create_project(&app, &sm.token, &project_body(author.id, author.id, -5, 30)).await;
    let mut body = case_body("社区宝妈亲子财商课", "outreach", Some("community"));
    body["project_id"] = project["id"].clone();
    let draft = write(&app, &author, &body).await;
    assert_eq!(
        (draft["status"].as_str(), draft["author_id"].as_str()),
        (Some("draft"), Some(author.id.to_string().as_str()))
    );
    assert_eq!(draft["figures"][1], json!({"label": "新增存款", "value": 186.5, "unit": "万元"}));
    assert_eq!((draft["author_name"].as_str(), draft["unit_name"].is_string()), (Some("Test User"), true));

    // A draft is its author's and the managers' and supervisors' over it.
    for (who, expected) in [
        (&author, 200),
        (&sm, 200),
        (&supervisor, 200),
        (&colleague, 404),
        (&far, 404),
        (&other_sm, 404),
        (&other_branch, 404),
    ] {
        assert_eq!(status_of(&app, &draft, who).await, expected, "draft seen by {}", who.id);
    }
    // Only a manager over it publishes.
    let publish = format!("{}/publish", path(&draft));
    for who in [&author, &supervisor] {
        assert_problem(app.post_json(&publish, Some(&who.token), &json!({})).await, 403, "role_not_allowed").await;
    }
    assert_problem(app.post_json(&publish, Some(&other_sm.token), &json!({})).await, 404, "not_found").await;
    let published = json_ok(app.post_json(&publish, Some(&sm.token), &json!({})).await, 200).await;
    assert_eq!(
        (published["status"].as_str(), published["published_by"].as_str()),
        (Some("published"), Some(sm.id.to_string().as_str()))
    );
    assert!(published["published_at"].is_string());
    // Published: the whole branch reads it; another branch does not.
    for (who, expected) in [(&colleague, 200), (&far, 200), (&other_sm, 200), (&other_branch, 404)] {
        assert_eq!(status_of(&app, &draft, who).await, expected, "published case seen by {}", who.id);
    }
    // Read from another sub-branch, it names its author and unit but hands out no ids of theirs.
    let afar = json_ok(app.get(path(&draft), Some(&far.token)).await, 200).await;
    assert_eq!(
        (afar["author_id"].is_null(), afar["org_unit_id"].is_null(), afar["published_by"].is_null()),
        (true, true, true)
    );
    assert_eq!(afar["author_name"], draft["author_name"]);
    assert_eq!(afar["unit_name"], draft["unit_name"]);
    let near = json_ok(app.get(path(&draft), Some(&colleague.token)).await, 200).await;
    assert_eq!(near["author_id"], author.id.to_string());
    // Its text is now the managers' to change.
    let edit = json!({"results": "改了"});
    assert_problem(app.patch_json(&path(&draft), Some(&author.token), &edit).await, 409, "case_published").await;
    assert_problem(app.patch_json(&path(&draft), Some(&far.token), &edit).await, 403, "not_owner").await;
    let edited = json_ok(
        app.patch_json(
            &path(&draft),
            Some(&sm.token),
            &json!({"results": "三场活动新增 32 户", "version": published["version"]}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(edited["results"], "三场活动新增 32 户");
    let stale = json!({"results": "x", "version": published["version"]});
    assert_problem(app.patch_json(&path(&draft), Some(&sm.token), &stale).await, 409, "version_conflict").await;

    // Useful: once per reader, and taken back.
    let useful = format!("{}/useful", path(&draft));
    let once = json_ok(app.post_json(&useful, Some(&far.token), &json!({})).await, 200).await;
    assert_eq!((once["useful_count"].as_i64(), once["useful_by_me"].as_bool()), (Some(1), Some(true)));
    let twice = json_ok(app.post_json(&useful, Some(&far.token), &json!({})).await, 200).await;
    assert_eq!(twice["useful_count"], 1);
    let seen_by_other = json_ok(app.post_json(&useful, Some(&colleague.token), &json!({})).await, 200).await;
    assert_eq!(seen_by_other["useful_count"], 2);
    let read = json_ok(app.get(path(&draft), Some(&author.token)).await, 200).await;
    assert_eq!((read["useful_count"].as_i64(), read["useful_by_me"].as_bool()), (Some(2), Some(false)));
    let back = app.client.delete(app.url(&useful)).bearer_auth(&far.token).send().await.unwrap();
    let back = json_ok(back, 200).await;
    assert_eq!((back["useful_count"].as_i64(), back["useful_by_me"].as_bool()), (Some(1), Some(false)));
    assert_eq!(back["version"], edited["version"], "a useful mark is not an edit");
    assert_problem(app.post_json(&useful, Some(&other_branch.token), &json!({})).await, 404, "not_found").await;

    // Withdrawn, it is a draft again: out of the branch's sight, and not to be marked.
    let withdrawn =
        json_ok(app.post_json(&format!("{}/withdraw", path(&draft)), Some(&sm.token), &json!({})).await, 200).await;
    assert_eq!(withdrawn["status"], "draft");
    assert_eq!(status_of(&app, &draft, &far).await, 404);
    assert_problem(app.post_json(&useful, Some(&author.token), &json!({})).await, 409, "not_published").await;
    // The author deletes their draft; it is gone for everyone.
    assert_eq!(
        app.client.delete(app.url(&path(&draft))).bearer_auth(&author.token).send().await.unwrap().status(),
        204
    );
    assert_eq!(status_of(&app, &draft, &sm).await, 404);
}

#[tokio::test]
async fn the_library_is_found_by_segment_category_and_words() {
    let app = spawn_app().await;
    let t = &app.tree;
    let sm = app.login_as(Role::SubBranchManager).await;
    let bm = app.login_as(Role::BranchManager).await;
    let am = app.login_as(Role::AccountManager).await;
    let far = app.login_at(Role::AccountManager, Some(t.outlet_a2)).await;
    let b_am = app.login_at(Role::AccountManager, Some(t.outlet_b1)).await;
    let school = write(&app, &am, &case_body("校门口反诈宣传进校园", "outreach", Some("school"))).await;
    let market = write(&app, &far, &case_body("海鲜市场收款码批量开通", "traffic", Some("seafood_wholesale"))).await;
    let existing = write(&app, &am, &case_body("存量客户生日关怀回访", "existing", None)).await;
    let draft = write(&app, &am, &case_body("草稿：超市联合促销", "outreach", Some("supermarket"))).await;
    let elsewhere = write(&app, &b_am, &case_body("外分行的案例", "outreach", Some("school"))).await;
    for (case, manager) in [(&school, &sm), (&market, &bm), (&existing, &sm)] {
        json_ok(app.post_json(&format!("{}/publish", path(case)), Some(&manager.token), &json!({})).await, 200).await;
    }
    let branch_b = app.login_at(Role::BranchManager, Some(t.branch_b)).await;
    json_ok(app.post_json(&format!("{}/publish", path(&elsewhere)), Some(&branch_b.token), &json!({})).await, 200)
        .await;

    let list = |who: &Login, query: &str| {
        let url = format!("/api/v1/cases{query}");
        let token = who.token.clone();
        let app = &app;
        async move { ids(&json_ok(app.get(url, Some(&token)).await, 200).await) }
    };
    let id = |c: &Value| c["id"].as_str().unwrap().to_owned();
    // Newest first; a reader of another outlet sees the published ones, not someone's draft.
    assert_eq!(list(&far, "").await, vec![id(&existing), id(&market), id(&school)]);
    assert_eq!(list(&am, "").await, vec![id(&draft), id(&existing), id(&market), id(&school)]);
    assert_eq!(list(&far, "?segment=outreach").await, vec![id(&school)]);
    assert_eq!(list(&far, "?partner_category=seafood_wholesale").await, vec![id(&market)]);
    assert_eq!(list(&far, "?q=%E5%8F%8D%E8%AF%88").await, vec![id(&school)], "q=反诈");
    assert_eq!(list(&far, "?q=%E7%94%9F%E6%97%A5&segment=existing").await, vec![id(&existing)], "q=生日");
    assert_eq!(list(&sm, "?status=draft").await, vec![id(&draft)]);
    assert_eq!(list(&far, "?status=draft").await, Vec::<String>::new());
    assert_eq!(list(&b_am, "").await, vec![id(&elsewhere)]);
    // Pages of one hold the same cases.
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = json_ok(app.get(format!("/api/v1/cases?limit=1&cursor={cursor}"), Some(&am.token)).await, 200).await;
        paged.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(paged, list(&am, "").await);
    assert_eq!(app.get("/api/v1/cases?segment=vip", Some(&am.token)).await.status(), 422);
}

#[tokio::test]
async fn bad_cases_are_refused() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let mut body = case_body("  ", "outreach", None);
    body["what_done"] = json!("");
    body["figures"] = json!([{"label": "新增", "value": 1e13}]);
    let problem =
        assert_problem(app.post_json("/api/v1/cases", Some(&am.token), &body).await, 422, "validation_failed").await;
    for field in ["title", "what_done", "figures[0].value"] {
        assert!(problem["errors"][field].is_string(), "{field}: {problem}");
    }
    let mut many = case_body("图太多", "outreach", None);
    many["figures"] = json!((0..13).map(|i| json!({"label": format!("指标{i}"), "value": i})).collect::<Vec<_>>());
    let problem =
        assert_problem(app.post_json("/api/v1/cases", Some(&am.token), &many).await, 422, "validation_failed").await;
    assert!(problem["errors"]["figures"].is_string(), "{problem}");
    for bad in [
        json!({"segment": "vip"}),
        json!({"partner_category": "bank"}),
        json!({"status": "published"}),
        json!({"useful_count": 99}),
    ] {
        let mut body = case_body("字段不对", "outreach", None);
        body.as_object_mut().unwrap().extend(bad.as_object().unwrap().clone());
        assert_eq!(app.post_json("/api/v1/cases", Some(&am.token), &body).await.status(), 422, "{bad}");
    }
    // A project of another branch, or none at all.
    let b_manager = app.login_at(Role::BranchManager, Some(app.tree.branch_b)).await;
    let b_am = app.login_at(Role::AccountManager, Some(app.tree.outlet_b1)).await;
    let foreign = create_project(&app, &b_manager.token, &project_body(b_am.id, b_am.id, -1, 10)).await;
    for project in [foreign["id"].clone(), json!(Uuid::now_v7())] {
        let mut body = case_body("链接外部项目", "outreach", None);
        body["project_id"] = project;
        let problem =
            assert_problem(app.post_json("/api/v1/cases", Some(&am.token), &body).await, 422, "validation_failed")
                .await;
        assert!(problem["errors"]["project_id"].is_string(), "{problem}");
    }
    // The same id: same body is the same case, another body a conflict.
    let mut body = case_body("幂等", "outreach", None);
    body["id"] = json!(Uuid::now_v7());
    let first = write(&app, &am, &body).await;
    let again = json_ok(app.post_json("/api/v1/cases", Some(&am.token), &body).await, 200).await;
    assert_eq!(again["id"], first["id"]);
    body["title"] = json!("别的");
    assert_problem(app.post_json("/api/v1/cases", Some(&am.token), &body).await, 409, "id_conflict").await;
}

#[tokio::test]
async fn a_case_carries_photos_its_readers_may_open() {
    let app = spawn_app().await;
    let am = app.login_as(Role::AccountManager).await;
    let sm = app.login_as(Role::SubBranchManager).await;
    let far = app.login_at(Role::AccountManager, Some(app.tree.outlet_a2)).await;
    let other_branch = app.login_at(Role::AccountManager, Some(app.tree.outlet_b1)).await;
    let case = write(&app, &am, &case_body("活动现场照片", "outreach", Some("community"))).await;
    let photos = format!("{}/photos", path(&case));
    let jpeg = crate::photos::photo(640, 480, &Default::default());
    let with_photo = app.post_raw(&photos, Some(&am.token), "image/jpeg", jpeg.clone()).await;
    let with_photo = json_ok(with_photo, 201).await;
    let photo = &with_photo["photos"][0];
    assert_eq!((photo["width"].as_u64(), photo["height"].as_u64()), (Some(640), Some(480)));
    let url = photo["url"].as_str().unwrap().to_owned();
    let thumbnail = photo["thumbnail_url"].as_str().unwrap().to_owned();
    // The same bytes again add nothing.
    let again = json_ok(app.post_raw(&photos, Some(&am.token), "image/jpeg", jpeg).await, 201).await;
    assert_eq!(again["photos"].as_array().unwrap().len(), 1);
    let fake = app.post_raw(&photos, Some(&am.token), "image/jpeg", b"<html>not a photo</html>".to_vec()).await;
    assert!(matches!(fake.status().as_u16(), 415 | 422), "{}", fake.status());
    assert_problem(app.post_raw(&photos, Some(&far.token), "image/jpeg", vec![0xFF, 0xD8]).await, 404, "not_found")
        .await;

    json_ok(app.post_json(&format!("{}/publish", path(&case)), Some(&sm.token), &json!({})).await, 200).await;
    for link in [&url, &thumbnail] {
        let image = app.get(link, Some(&far.token)).await;
        assert_eq!(image.status(), 200);
        assert_eq!(image.headers()["content-type"], "image/jpeg");
        assert_eq!(app.get(link, Some(&other_branch.token)).await.status(), 404);
    }
    let unknown = format!("{}/photos/{}", path(&case), "0".repeat(64));
    assert_eq!(app.get(unknown, Some(&far.token)).await.status(), 404);
}
