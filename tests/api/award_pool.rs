//! A project's award pool: the team and its managers pay in, managers pay the star of a closed
//! period, the ledger sums and never goes negative, and it cannot be edited, even by SQL.

use outreach::domain::Role;
use outreach::store::{DbConn, StoreError};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, assert_problem, json_ok, spawn_history_app};
use crate::project_progress::fixture;
use crate::projects::day;

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

async fn pool(app: &TestApp, path: &str, token: &str) -> Value {
    json_ok(app.get(format!("{path}/pool"), Some(token)).await, 200).await
}

async fn pay_in(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    json_ok(app.post_json(&format!("{path}/pool/contributions"), Some(token), &body).await, 201).await
}

/// Every entry of the pool, oldest first, read page by page.
async fn all_entries(app: &TestApp, path: &str, token: &str) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app.get(format!("{path}/pool?limit=2&cursor={cursor}"), Some(token)).await;
        let page = json_ok(page, 200).await;
        entries.extend(page["entries"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    entries.reverse();
    entries
}

/// The chain is whole: positions 1, 2, 3…, each balance the previous one plus or minus its
/// amount, never negative, and the figures the sums of the entries.
fn assert_ledger_sound(summary: &Value, entries: &[Value]) {
    let (mut balance, mut paid_in, mut paid_out) = (0i64, 0i64, 0i64);
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e["position"], i as i64 + 1, "{e}");
        let fen = (num(&e["amount"]) * 100.0).round() as i64;
        assert!(fen > 0, "{e}");
        match e["kind"].as_str().unwrap() {
            "contribution" => (balance, paid_in) = (balance + fen, paid_in + fen),
            "payout" => (balance, paid_out) = (balance - fen, paid_out + fen),
            other => panic!("kind {other}"),
        }
        assert!(balance >= 0, "negative after {e}");
        assert_eq!((num(&e["balance"]) * 100.0).round() as i64, balance, "{e}");
    }
    assert_eq!((num(&summary["balance"]) * 100.0).round() as i64, balance, "{summary}");
    assert_eq!((num(&summary["contributed"]) * 100.0).round() as i64, paid_in, "{summary}");
    assert_eq!((num(&summary["paid_out"]) * 100.0).round() as i64, paid_out, "{summary}");
}

#[tokio::test]
async fn the_team_pays_in_a_manager_pays_the_star_and_the_pool_never_goes_negative() {
    let app = spawn_history_app().await;
    let fx = fixture(&app).await;
    let path = fx.path.clone();
    let empty = pool(&app, &path, &fx.am1.token).await;
    assert_eq!((num(&empty["balance"]), empty["entries"].as_array().unwrap().len()), (0.0, 0));

    // Members and the manager pay in; a manager records cash a member handed over.
    let mine = pay_in(&app, &path, &fx.am1.token, json!({"amount": 100, "note": "本周奖金池"})).await;
    assert_eq!(
        (mine["user_id"].as_str(), mine["kind"].as_str()),
        (Some(fx.am1.id.to_string().as_str()), Some("contribution"))
    );
    pay_in(&app, &path, &fx.am2.token, json!({"amount": 50.5})).await;
    pay_in(&app, &path, &fx.sm.token, json!({"amount": 200})).await;
    let handed = pay_in(&app, &path, &fx.sm.token, json!({"amount": 20, "user_id": fx.am2.id})).await;
    assert_eq!(
        (handed["user_id"].as_str(), handed["recorded_by"].as_str()),
        (Some(fx.am2.id.to_string().as_str()), Some(fx.sm.id.to_string().as_str()))
    );
    let response = app
        .post_json(
            &format!("{path}/pool/contributions"),
            Some(&fx.am1.token),
            &json!({"amount": 5, "user_id": fx.am2.id}),
        )
        .await;
    assert_problem(response, 403, "not_owner").await;
    assert_eq!(num(&pool(&app, &path, &fx.am1.token).await["balance"]), 370.5);

    // am1 is the star of two days ago (one verified visit, 10 points).
    let payouts = format!("{path}/pool/payouts");
    let prize = json!({"period": "day", "date": day(-2), "amount": 400});
    assert_problem(app.post_json(&payouts, Some(&fx.sm.token), &prize).await, 409, "insufficient_pool").await;
    let id = Uuid::now_v7();
    let prize = json!({"id": id, "period": "day", "date": day(-2), "amount": 88.8, "note": "日之星"});
    let paid = json_ok(app.post_json(&payouts, Some(&fx.sm.token), &prize).await, 201).await;
    assert_eq!(paid["user_id"], fx.am1.id.to_string());
    assert_eq!(
        (paid["period"].as_str(), paid["period_from"].as_str(), paid["period_to"].as_str()),
        (Some("day"), Some(day(-2).as_str()), Some(day(-2).as_str()))
    );
    assert_eq!(num(&paid["balance"]), 281.7);
    // The same request again is the same entry; another payout of that day is refused.
    let again = json_ok(app.post_json(&payouts, Some(&fx.sm.token), &prize).await, 200).await;
    assert_eq!(again, paid);
    let twice = json!({"period": "day", "date": day(-2), "amount": 1});
    assert_problem(app.post_json(&payouts, Some(&fx.sm.token), &twice).await, 409, "already_paid").await;
    let other_body = json!({"id": id, "period": "day", "date": day(-2), "amount": 1});
    assert_problem(app.post_json(&payouts, Some(&fx.sm.token), &other_body).await, 409, "id_conflict").await;
    // A period still running, or one where nobody scored, has no star to pay.
    let today = json!({"period": "day", "date": day(0), "amount": 1});
    assert_problem(app.post_json(&payouts, Some(&fx.sm.token), &today).await, 409, "period_not_over").await;
    let month = json!({"period": "month", "date": day(0), "amount": 1});
    assert_problem(app.post_json(&payouts, Some(&fx.sm.token), &month).await, 409, "period_not_over").await;
    let quiet = json!({"period": "day", "date": day(-3), "amount": 1});
    assert_problem(app.post_json(&payouts, Some(&fx.sm.token), &quiet).await, 409, "no_star").await;
    // Members pay in; only managers pay out.
    assert_problem(
        app.post_json(&payouts, Some(&fx.am1.token), &json!({"period": "day", "date": day(-5), "amount": 1})).await,
        403,
        "role_not_allowed",
    )
    .await;

    // Drain the pool exactly: a balance of zero is allowed, below it is not.
    let rest = json!({"period": "day", "date": day(-5), "amount": 281.7});
    let drained = json_ok(app.post_json(&payouts, Some(&fx.sm.token), &rest).await, 201).await;
    assert_eq!(num(&drained["balance"]), 0.0);

    let summary = pool(&app, &path, &fx.am2.token).await;
    let entries = all_entries(&app, &path, &fx.am2.token).await;
    assert_eq!(entries.len(), 6);
    assert_ledger_sound(&summary, &entries);
}

#[tokio::test]
async fn bad_amounts_and_strangers_are_refused() {
    let app = spawn_history_app().await;
    let fx = fixture(&app).await;
    let contributions = format!("{}/pool/contributions", fx.path);
    for amount in [json!(0), json!(-5), json!(0.001), json!(1_000_000.01), json!(1e300)] {
        let response = app.post_json(&contributions, Some(&fx.am1.token), &json!({"amount": amount})).await;
        let problem = assert_problem(response, 422, "validation_failed").await;
        assert!(problem["errors"]["amount"].is_string(), "{problem}");
    }
    for body in [json!({"amount": "100"}), json!({"amount": 5, "balance": 1000}), json!({"period": "day"})] {
        let response = app.post_json(&contributions, Some(&fx.am1.token), &body).await;
        assert_eq!(response.status(), 422, "{body}");
    }
    let payouts = format!("{}/pool/payouts", fx.path);
    let response =
        app.post_json(&payouts, Some(&fx.sm.token), &json!({"period": "year", "date": day(-2), "amount": 1})).await;
    assert_eq!(response.status(), 422);
    let response =
        app.post_json(&payouts, Some(&fx.sm.token), &json!({"period": "day", "date": "yesterday", "amount": 1})).await;
    assert_eq!(response.status(), 422);
    // A user payer who is not on the team.
    let stranger = app.login_at(Role::AccountManager, Some(app.tree.outlet_a1)).await;
    let response =
        app.post_json(&contributions, Some(&fx.sm.token), &json!({"amount": 5, "user_id": stranger.id})).await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    assert!(problem["errors"]["user_id"].is_string(), "{problem}");
    // Someone who cannot see the project does not learn that it exists.
    for token in [&stranger.token, &app.login_as(Role::Supervisor).await.token] {
        assert_problem(app.get(format!("{}/pool", fx.path), Some(token)).await, 404, "not_found").await;
        let response = app.post_json(&contributions, Some(token), &json!({"amount": 5})).await;
        assert_problem(response, 404, "not_found").await;
    }
    let bad_cursor = app.get(format!("{}/pool?cursor=abc", fx.path), Some(&fx.sm.token)).await;
    assert_problem(bad_cursor, 422, "validation_failed").await;
}

#[tokio::test]
async fn racing_appends_keep_the_chain_whole_and_pay_a_star_once() {
    let app = spawn_history_app().await;
    let fx = fixture(&app).await;
    let contributions = format!("{}/pool/contributions", fx.path);
    let payouts = format!("{}/pool/payouts", fx.path);
    let mut calls = Vec::new();
    for i in 0..24 {
        let (app, contributions, token) = (&app, contributions.clone(), fx.am1.token.clone());
        calls.push(async move {
            let body = json!({"amount": 1 + i % 3});
            app.post_json(&contributions, Some(&token), &body).await.status().as_u16()
        });
    }
    let statuses = futures_util::future::join_all(calls).await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let mut calls = Vec::new();
    for _ in 0..6 {
        let (app, payouts, token) = (&app, payouts.clone(), fx.sm.token.clone());
        calls.push(async move {
            let body = json!({"period": "day", "date": day(-2), "amount": 3});
            app.post_json(&payouts, Some(&token), &body).await.status().as_u16()
        });
    }
    let mut statuses = futures_util::future::join_all(calls).await;
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409]);
    let summary = pool(&app, &fx.path, &fx.sm.token).await;
    let entries = all_entries(&app, &fx.path, &fx.sm.token).await;
    assert_eq!(entries.len(), 25);
    assert_ledger_sound(&summary, &entries);
    assert_eq!(num(&summary["balance"]), 48.0 - 3.0);
}

#[tokio::test]
async fn the_ledger_cannot_be_edited_or_emptied_even_by_sql() {
    let app = spawn_history_app().await;
    let fx = fixture(&app).await;
    pay_in(&app, &fx.path, &fx.am1.token, json!({"amount": 10})).await;
    for sql in ["UPDATE award_pool_entries SET amount_fen = 1", "DELETE FROM award_pool_entries"] {
        let refused = app
            .state
            .db
            .run(move |conn| {
                use diesel::connection::SimpleConnection;
                match conn {
                    DbConn::Sqlite(c) => c.batch_execute(sql),
                    DbConn::Postgres(c) => c.batch_execute(sql),
                }
                .map_err(StoreError::from)
            })
            .await;
        assert!(refused.is_err(), "{sql} went through");
    }
    assert_eq!(num(&pool(&app, &fx.path, &fx.am1.token).await["balance"]), 10.0);
}
