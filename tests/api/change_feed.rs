//! The change feed under concurrency (issue 22): writers on many connections — and, on
//! PostgreSQL, two app processes on one database — commit transactions of varied length, some
//! rolled back, while phones pull again and again. Every committed change must reach every
//! puller, exactly as committed, and nothing rolled back may. A change a pull skipped would be
//! lost for good here: each record is written once, so no later write would bring it back.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use outreach::domain::common::create::Created;
use outreach::domain::org::org_units::{self, NewOrgUnit, OrgUnitKind};
use outreach::domain::{Actor, DomainError, Role};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{TestApp, json_ok, spawn_app, spawn_app_with};
use crate::partners::{CENTRE, create as create_partner, partner_body};

/// One phone: pulls until told to stop, then once more, keeping what it was sent.
async fn puller(app: Arc<TestApp>, token: String, stop: Arc<AtomicBool>) -> BTreeMap<(String, String), Value> {
    let mut held = BTreeMap::new();
    let mut last = 0i64;
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        let path = format!("/api/v1/sync?last_pulled_at={last}&schema_version=2");
        let pulled = json_ok(app.get(path, Some(&token)).await, 200).await;
        for table in ["org_units", "partners"] {
            for record in pulled["changes"][table]["updated"].as_array().into_iter().flatten() {
                held.insert((table.to_owned(), record["id"].as_str().unwrap().to_owned()), record.clone());
            }
        }
        last = pulled["timestamp"].as_i64().unwrap();
        if stopping {
            return held;
        }
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
}

/// A writer of outlets, each in a transaction held open for `hold` after its change number was
/// taken; every `rollback_every`-th one rolled back instead.
async fn slow_writer(app: Arc<TestApp>, parent: Uuid, n: usize, hold: Duration, tag: &'static str) -> Vec<Uuid> {
    let mut committed = Vec::new();
    for i in 0..n {
        let rollback = i % 4 == 3;
        let input = NewOrgUnit {
            id: None,
            name: format!("{tag}-{i}"),
            kind: OrgUnitKind::Outlet,
            parent_id: Some(parent),
            territory: None,
            location: None,
            address: String::new(),
            contact_phone: String::new(),
        };
        let made = app
            .state
            .db
            .run(move |conn| {
                conn.write_tx(|c| {
                    let made = org_units::create(c, &Actor::system(), input)?;
                    // Commits of shorter transactions with later numbers overtake this one.
                    std::thread::sleep(hold);
                    if rollback {
                        return Err(DomainError::invalid("test", "rolled back on purpose"));
                    }
                    Ok(made)
                })
            })
            .await;
        match made {
            Ok(Created::New(unit) | Created::Existing(unit)) => committed.push(unit.id),
            Err(DomainError::Validation(_)) if rollback => {}
            Err(e) => panic!("writer {tag}: {e}"),
        }
    }
    committed
}

async fn run(apps: Vec<Arc<TestApp>>) {
    let first = Arc::clone(&apps[0]);
    let manager = first.login_at(Role::BranchManager, Some(first.tree.branch_a)).await;
    let am = first.login_as(Role::AccountManager).await;
    let stop = Arc::new(AtomicBool::new(false));
    let pullers: Vec<_> =
        (0..3).map(|_| tokio::spawn(puller(Arc::clone(&first), manager.token.clone(), Arc::clone(&stop)))).collect();
    // Slow transactions, on every app, across two sub-branches; and short creates over HTTP.
    let mut writers = Vec::new();
    for (k, app) in apps.iter().enumerate() {
        for (hold, tag) in [(Duration::from_millis(150), "slow"), (Duration::from_millis(20), "brisk")] {
            for parent in [first.tree.sub_a1, first.tree.sub_a2] {
                let tag: &'static str = Box::leak(format!("{tag}{k}").into_boxed_str());
                writers.push(tokio::spawn(slow_writer(Arc::clone(app), parent, 8, hold, tag)));
            }
        }
    }
    let quick = {
        let app = Arc::clone(apps.last().unwrap_or(&first));
        let token = am.token.clone();
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..40 {
                let body = partner_body(&format!("快店{i}"), CENTRE.0 + i as f64 * 1e-4, CENTRE.1);
                ids.push(create_partner(&app, &token, &body).await["id"].as_str().unwrap().to_owned());
            }
            ids
        })
    };
    let mut units = Vec::new();
    for w in writers {
        units.extend(w.await.unwrap());
    }
    let partners = quick.await.unwrap();
    stop.store(true, Ordering::SeqCst);
    let pulled: Vec<_> = futures_util::future::join_all(pullers).await.into_iter().map(Result::unwrap).collect();

    // What was committed, as the server holds it now.
    let all_units = json_ok(first.get("/api/v1/org-units?limit=200", Some(&manager.token)).await, 200).await;
    let by_id: BTreeMap<String, &Value> =
        all_units["items"].as_array().unwrap().iter().map(|u| (u["id"].as_str().unwrap().to_owned(), u)).collect();
    assert_eq!(units.len(), 2 * apps.len() * 2 * 6, "six of eight committed per writer");
    for (p, held) in pulled.iter().enumerate() {
        for id in &units {
            let got = held.get(&("org_units".to_owned(), id.to_string()));
            let got = got.unwrap_or_else(|| panic!("puller {p} never received committed outlet {id}"));
            assert_eq!(got["name"], by_id[&id.to_string()]["name"], "puller {p}: outlet {id} as committed");
        }
        for id in &partners {
            assert!(held.contains_key(&("partners".to_owned(), id.clone())), "puller {p} never received partner {id}");
        }
        let rolled_back = held
            .iter()
            .filter(|((t, _), r)| {
                t == "org_units" && r["name"].as_str().is_some_and(|n| n.ends_with("-3") || n.ends_with("-7"))
            })
            .count();
        assert_eq!(rolled_back, 0, "puller {p} received a rolled-back outlet");
    }
}

#[tokio::test]
async fn every_committed_change_reaches_every_puller_whatever_the_commit_order() {
    let first = Arc::new(spawn_app().await);
    let mut apps = vec![Arc::clone(&first)];
    if first.state.settings.database_url.starts_with("postgres") {
        // A second app process on the same database: its writers do not queue behind the first's.
        let url = first.state.settings.database_url.clone();
        apps.push(Arc::new(
            spawn_app_with(move |env| {
                env.insert("DATABASE_URL".into(), url);
            })
            .await,
        ));
    }
    run(apps).await;
}
