//! Coaching plans: three phases, each moving on only with its reviews (observation also with its
//! 21 days), reviews by the trainee, the coach or a manager, and the managers' view by phase and
//! lateness.

use outreach::domain::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Login, TestApp, assert_problem, json_ok, spawn_app};
use crate::projects::day;

const PLANS: &str = "/api/v1/coaching-plans";

async fn start(app: &TestApp, manager: &Login, body: Value) -> Value {
    json_ok(app.post_json(PLANS, Some(&manager.token), &body).await, 201).await
}

fn path(plan: &Value) -> String {
    format!("{PLANS}/{}", plan["id"].as_str().unwrap())
}

async fn review(app: &TestApp, who: &Login, plan: &Value, on: i64) -> Value {
    let body =
        json!({"reviewed_on": day(on), "summary": "跟岗复盘", "went_well": "摸排细致", "to_improve": "晨会节奏"});
    json_ok(app.post_json(&format!("{}/reviews", path(plan)), Some(&who.token), &body).await, 201).await
}

async fn advance(app: &TestApp, who: &Login, plan: &Value) -> reqwest::Response {
    app.post_json(&format!("{}/advance", path(plan)), Some(&who.token), &json!({})).await
}

#[tokio::test]
async fn a_plan_moves_through_its_phases_only_with_its_reviews() {
    let app = spawn_app().await;
    let bm = app.login_as(Role::BranchManager).await;
    let trainee = app.login_as(Role::Supervisor).await;
    let coach = app.login_at(Role::Supervisor, Some(app.tree.branch_a)).await;
    let body = json!({"trainee_id": trainee.id, "coach_id": coach.id, "started_on": day(-25), "notes": "第一期督导"});
    let plan = start(&app, &bm, body).await;
    assert_eq!((plan["phase"].as_str(), plan["coach_name"].as_str()), (Some("observe"), Some("Test User")));
    let standing = &plan["standing"];
    assert_eq!((standing["day"].as_i64(), standing["late_days"].as_i64()), (Some(26), Some(4)));
    assert_eq!((standing["required_reviews"].as_i64(), standing["covered_reviews"].as_i64()), (Some(3), Some(0)));
    assert_eq!(standing["ready"], false);

    // Observation needs a review in each of its three weeks.
    review(&app, &trainee, &plan, -23).await;
    review(&app, &coach, &plan, -9).await;
    let problem = assert_problem(advance(&app, &bm, &plan).await, 409, "reviews_missing").await;
    assert!(problem["detail"].as_str().unwrap().contains(&day(-18)), "{problem}");
    let plan = review(&app, &bm, &plan, -15).await;
    assert_eq!(plan["standing"]["ready"], true);
    // The trainee does not promote themselves; the coach may.
    assert_problem(advance(&app, &trainee, &plan).await, 403, "role_not_allowed").await;
    let practice = json_ok(advance(&app, &coach, &plan).await, 200).await;
    assert_eq!(
        (practice["phase"].as_str(), practice["practice_started_on"].as_str()),
        (Some("practice"), Some(day(0).as_str()))
    );
    assert_eq!(practice["standing"]["day"], 1);

    // Practice: a review every day, today's included; a day outside the phase is refused.
    assert_problem(advance(&app, &bm, &practice).await, 409, "reviews_missing").await;
    let early = json!({"reviewed_on": day(-1), "summary": "前一天"});
    let problem = assert_problem(
        app.post_json(&format!("{}/reviews", path(&practice)), Some(&coach.token), &early).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(problem["errors"]["reviewed_on"].is_string(), "{problem}");
    let tomorrow = json!({"reviewed_on": day(1), "summary": "明天"});
    assert_eq!(
        app.post_json(&format!("{}/reviews", path(&practice)), Some(&coach.token), &tomorrow).await.status(),
        422
    );
    review(&app, &coach, &practice, 0).await;
    let lead = json_ok(advance(&app, &bm, &practice).await, 200).await;
    assert_eq!(lead["phase"], "lead");

    // Lead: reviewed weekly; then completed, and closed to reviews.
    assert_problem(advance(&app, &bm, &lead).await, 409, "reviews_missing").await;
    review(&app, &trainee, &lead, 0).await;
    let done = json_ok(advance(&app, &bm, &lead).await, 200).await;
    assert_eq!((done["phase"].as_str(), done["completed_on"].as_str()), (Some("completed"), Some(day(0).as_str())));
    assert!(done["standing"].is_null());
    let phases: Vec<&str> = done["reviews"].as_array().unwrap().iter().map(|r| r["phase"].as_str().unwrap()).collect();
    assert_eq!(phases, ["observe", "observe", "observe", "practice", "lead"]);
    assert_problem(advance(&app, &bm, &done).await, 409, "plan_completed").await;
    let late = json!({"summary": "结束后"});
    assert_problem(
        app.post_json(&format!("{}/reviews", path(&done)), Some(&coach.token), &late).await,
        409,
        "plan_completed",
    )
    .await;
    // With it completed, the trainee may start another plan.
    start(&app, &bm, json!({"trainee_id": trainee.id, "coach_name": "外部教练 周老师"})).await;
}

#[tokio::test]
async fn observation_runs_its_full_21_days() {
    let app = spawn_app().await;
    let bm = app.login_as(Role::BranchManager).await;
    let trainee = app.login_as(Role::Supervisor).await;
    let plan =
        start(&app, &bm, json!({"trainee_id": trainee.id, "coach_name": "外部教练 周老师", "started_on": day(-10)}))
            .await;
    for on in [-10, -3] {
        review(&app, &trainee, &plan, on).await;
    }
    let problem = assert_problem(advance(&app, &bm, &plan).await, 409, "phase_not_finished").await;
    assert!(problem["detail"].as_str().unwrap().contains(&day(11)), "{problem}");
    let read = json_ok(app.get(path(&plan), Some(&trainee.token)).await, 200).await;
    assert_eq!(read["standing"]["earliest_next_on"], day(11));
    assert_eq!(read["standing"]["late_days"], 0);
}

#[tokio::test]
async fn plans_are_seen_and_kept_by_their_people_and_the_managers_over_them() {
    let app = spawn_app().await;
    let t = &app.tree;
    let bm = app.login_as(Role::BranchManager).await;
    let trainee = app.login_as(Role::Supervisor).await;
    let colleague = app.login_at(Role::Supervisor, Some(t.branch_a)).await;
    let am = app.login_as(Role::AccountManager).await;
    let sm = app.login_as(Role::SubBranchManager).await;
    let other_branch = app.login_at(Role::BranchManager, Some(t.branch_b)).await;
    let plan =
        start(&app, &bm, json!({"trainee_id": trainee.id, "coach_name": "外部教练 周老师", "started_on": day(-2)}))
            .await;
    for (who, expected) in
        [(&trainee, 200), (&colleague, 200), (&bm, 200), (&am, 404), (&sm, 404), (&other_branch, 404)]
    {
        assert_eq!(app.get(path(&plan), Some(&who.token)).await.status(), expected, "{}", who.id);
    }
    // A fellow supervisor reads but does not review someone else's plan.
    let body = json!({"summary": "旁听"});
    assert_problem(
        app.post_json(&format!("{}/reviews", path(&plan)), Some(&colleague.token), &body).await,
        403,
        "role_not_allowed",
    )
    .await;
    assert_problem(app.post_json(&format!("{}/reviews", path(&plan)), Some(&am.token), &body).await, 404, "not_found")
        .await;
    // Only managers start plans, for people in their scope, one running plan each.
    assert_problem(
        app.post_json(PLANS, Some(&trainee.token), &json!({"trainee_id": colleague.id, "coach_name": "x"})).await,
        403,
        "role_not_allowed",
    )
    .await;
    assert_problem(
        app.post_json(PLANS, Some(&bm.token), &json!({"trainee_id": trainee.id, "coach_name": "再来"})).await,
        409,
        "plan_exists",
    )
    .await;
    let foreign = app.login_at(Role::Supervisor, Some(t.branch_b)).await;
    for (body, field) in [
        (json!({"trainee_id": foreign.id, "coach_name": "x"}), "trainee_id"),
        (json!({"trainee_id": Uuid::now_v7(), "coach_name": "x"}), "trainee_id"),
        (json!({"trainee_id": colleague.id}), "coach_name"),
        (json!({"trainee_id": colleague.id, "coach_id": foreign.id}), "coach_id"),
        (json!({"trainee_id": colleague.id, "coach_id": colleague.id}), "coach_id"),
        (json!({"trainee_id": colleague.id, "coach_name": "x", "started_on": "2024-01-01"}), "started_on"),
    ] {
        let problem =
            assert_problem(app.post_json(PLANS, Some(&bm.token), &body).await, 422, "validation_failed").await;
        assert!(problem["errors"][field].is_string(), "{body}: {problem}");
    }
    for body in [
        json!({"trainee_id": "nope", "coach_name": "x"}),
        json!({"trainee_id": colleague.id, "coach_name": "x", "phase": "lead"}),
    ] {
        assert_eq!(app.post_json(PLANS, Some(&bm.token), &body).await.status(), 422, "{body}");
    }
    // The list: one's own plan for the trainee; the subtree's for managers; nothing for others.
    let listed = |v: Value| v["items"].as_array().unwrap().iter().map(|p| p["id"].clone()).collect::<Vec<_>>();
    assert_eq!(listed(json_ok(app.get(PLANS, Some(&trainee.token)).await, 200).await), vec![plan["id"].clone()]);
    assert_eq!(listed(json_ok(app.get(PLANS, Some(&bm.token)).await, 200).await), vec![plan["id"].clone()]);
    assert!(listed(json_ok(app.get(PLANS, Some(&am.token)).await, 200).await).is_empty());
    assert!(listed(json_ok(app.get(PLANS, Some(&other_branch.token)).await, 200).await).is_empty());
    assert_eq!(app.get(format!("{PLANS}?phase=expert"), Some(&bm.token)).await.status(), 422);
}

#[tokio::test]
async fn the_managers_view_lists_trainees_by_phase_and_lateness() {
    let app = spawn_app().await;
    let bm = app.login_as(Role::BranchManager).await;
    let mut trainees = Vec::new();
    for _ in 0..3 {
        trainees.push(app.login_at(Role::Supervisor, Some(app.tree.branch_a)).await);
    }
    let coach = json!("外部教练 周老师");
    let slightly =
        start(&app, &bm, json!({"trainee_id": trainees[0].id, "coach_name": coach, "started_on": day(-22)})).await;
    let badly =
        start(&app, &bm, json!({"trainee_id": trainees[1].id, "coach_name": coach, "started_on": day(-30)})).await;
    let moving =
        start(&app, &bm, json!({"trainee_id": trainees[2].id, "coach_name": coach, "started_on": day(-21)})).await;
    for on in [-21, -14, -7] {
        review(&app, &bm, &moving, on).await;
    }
    json_ok(advance(&app, &bm, &moving).await, 200).await;
    let view = json_ok(app.get(format!("{PLANS}/overview"), Some(&bm.token)).await, 200).await;
    let phases: Vec<&str> = view["phases"].as_array().unwrap().iter().map(|g| g["phase"].as_str().unwrap()).collect();
    assert_eq!(phases, ["observe", "practice", "lead", "completed"]);
    let ids =
        |i: usize| view["phases"][i]["plans"].as_array().unwrap().iter().map(|p| p["id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(0), vec![badly["id"].clone(), slightly["id"].clone()], "the latest first");
    assert_eq!(ids(1), vec![moving["id"].clone()]);
    assert_eq!(view["phases"][0]["plans"][0]["standing"]["late_days"], 9);
    assert_eq!(view["phases"][0]["plans"][0]["trainee_name"], "Test User");
    let am = app.login_as(Role::AccountManager).await;
    assert_problem(app.get(format!("{PLANS}/overview"), Some(&am.token)).await, 403, "role_not_allowed").await;
}
