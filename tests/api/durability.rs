//! Crash safety: every write that was answered 2xx survives a SIGKILL of the server in the middle
//! of a burst, nothing half-written shows, and the database files stay sound.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use diesel::{Connection, RunQueryDsl};
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::process::Child;
use uuid::Uuid;

use crate::cli::{Sandbox, free_port, wait_until_up};
use crate::partners::CENTRE;

/// The running binary, over HTTP.
#[derive(Clone)]
pub struct Remote {
    pub client: reqwest::Client,
    pub base: String,
}

impl Remote {
    pub fn new(port: u16) -> Remote {
        Remote { client: reqwest::Client::new(), base: format!("http://127.0.0.1:{port}") }
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> reqwest::Result<reqwest::Response> {
        let mut request = self.client.post(format!("{}{path}", self.base)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await
    }

    pub async fn json(&self, path: &str, token: &str) -> Value {
        let response = self.client.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }

    pub async fn expect(&self, path: &str, token: Option<&str>, body: &Value, status: u16) -> Value {
        let response = self.post(path, token, body).await.unwrap();
        let actual = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(actual, status, "{path}: {body}");
        body
    }

    pub async fn login(&self, phone: &str) -> String {
        let body = json!({"phone": phone, "password": outreach::fixtures::demo::DEMO_PASSWORD});
        self.expect("/api/v1/auth/login", None, &body, 200).await["access_token"].as_str().unwrap().to_owned()
    }
}

/// `outreach serve` on the sandbox, with the public registration limits lifted for the burst.
pub fn serve(sandbox: &Sandbox, port: u16, demo: bool) -> Child {
    let mut cmd = sandbox.command();
    cmd.arg("serve");
    if demo {
        cmd.arg("--demo");
    }
    cmd.env("OUTREACH_BIND", format!("127.0.0.1:{port}"))
        .env("OUTREACH_REGISTER_IP_BURST", "100000")
        .env("OUTREACH_REGISTER_IP_PER_MINUTE", "100000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, name: &str) {
    let pid = child.id().expect("still running").to_string();
    assert!(std::process::Command::new("kill").args([name, &pid]).status().unwrap().success());
}

/// What the writers were told, and what they were told that they should not have been.
#[derive(Default)]
struct Acks {
    visits: Mutex<Vec<Value>>,
    registrations: Mutex<Vec<(String, String)>>,
    check_ins: Mutex<Vec<String>>,
    pushed: Mutex<Vec<(String, String)>>,
    unexpected: Mutex<Vec<String>>,
}

impl Acks {
    fn counts(&self) -> [usize; 4] {
        [
            self.visits.lock().len(),
            self.registrations.lock().len(),
            self.check_ins.lock().len(),
            self.pushed.lock().len(),
        ]
    }
}

/// Sends requests until the server is gone; a request counts as acknowledged only when its whole
/// 2xx answer arrived.
async fn write_until_gone(remote: Remote, token: String, kind: usize, ctx: Arc<Context>) {
    let mut n = 0u32;
    while !ctx.stop.load(Ordering::Relaxed) {
        n += 1;
        let done = match kind {
            0 => {
                let at = (Utc::now() - chrono::Duration::minutes(5)).to_rfc3339_opts(SecondsFormat::Secs, true);
                let id = Uuid::new_v4();
                let body = json!({"id": id, "partner_id": ctx.partner, "location": {"lat": CENTRE.0, "lon": CENTRE.1, "accuracy_m": 10}, "visited_at": at, "purpose": "relationship", "notes": format!("崩溃测试 {id}")});
                ack(remote.post("/api/v1/visits", Some(&token), &body).await, 201, &ctx.acks, |v| {
                    ctx.acks.visits.lock().push(v)
                })
                .await
            }
            1 => {
                let phone = format!("137{:08}", ctx.phones.fetch_add(1, Ordering::Relaxed));
                let body = json!({"name": "崩溃测试", "phone": phone, "consent": true});
                let path = format!("/api/v1/public/events/{}/registrations", ctx.code);
                ack(remote.post(&path, None, &body).await, 201, &ctx.acks, |v| {
                    ctx.acks.registrations.lock().push((v["ticket_code"].as_str().unwrap().to_owned(), phone.clone()))
                })
                .await
            }
            2 => {
                let Some(ticket) = ctx.tickets.lock().pop() else { break };
                let path = format!("/api/v1/events/{}/checkins", ctx.event);
                ack(remote.post(&path, Some(&token), &json!({"ticket_code": ticket})).await, 200, &ctx.acks, |_| {
                    ctx.acks.check_ins.lock().push(ticket.clone())
                })
                .await
            }
            _ => {
                let id = Uuid::new_v4();
                let name = format!("离线新店 {n}");
                let body = json!({"changes": {"partners": {"created": [{"id": id, "name": name, "category": "other", "location": {"lat": CENTRE.0 + 0.001, "lon": CENTRE.1}}]}}});
                ack(remote.post("/api/v1/sync/push", Some(&token), &body).await, 200, &ctx.acks, |v| {
                    assert_eq!(v["results"][0]["status"], "created", "{v}");
                    ctx.acks.pushed.lock().push((id.to_string(), name.clone()))
                })
                .await
            }
        };
        if !done {
            break;
        }
    }
}

/// Records a whole 2xx answer; false once the server stops answering.
async fn ack(result: reqwest::Result<reqwest::Response>, status: u16, acks: &Acks, record: impl FnOnce(Value)) -> bool {
    let Ok(response) = result else { return false };
    let actual = response.status().as_u16();
    match response.json::<Value>().await {
        Ok(body) if actual == status => {
            record(body);
            true
        }
        Ok(body) => {
            acks.unexpected.lock().push(format!("{actual}: {body}"));
            true
        }
        Err(_) => false,
    }
}

struct Context {
    partner: String,
    event: String,
    code: String,
    tickets: Mutex<Vec<String>>,
    phones: std::sync::atomic::AtomicU32,
    stop: AtomicBool,
    acks: Acks,
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill_mid_burst() {
    let sandbox = Sandbox::with_demo();
    let port = free_port();
    let remote = Remote::new(port);
    let server = serve(&sandbox, port, true);
    wait_until_up(&remote.client, &remote.base).await;
    let am = remote.login("13800000004").await;

    let partner =
        json!({"name": "崩溃测试店", "category": "supermarket", "location": {"lat": CENTRE.0, "lon": CENTRE.1}});
    let partner = remote.expect("/api/v1/partners", Some(&am), &partner, 201).await;
    let event = json!({
        "partner_id": partner["id"], "title": "反诈讲座", "theme": "anti_fraud", "venue": "社区活动室", "capacity": 100000,
        "starts_at": (Utc::now() - chrono::Duration::hours(1)).to_rfc3339(), "ends_at": (Utc::now() + chrono::Duration::hours(2)).to_rfc3339(),
        "registration_deadline": (Utc::now() + chrono::Duration::hours(1)).to_rfc3339()
    });
    let event = remote.expect("/api/v1/events", Some(&am), &event, 201).await;
    let code = event["registration_code"].as_str().unwrap().to_owned();
    let mut tickets = Vec::new();
    for n in 0..150 {
        let body = json!({"name": "已报名", "phone": format!("136{n:08}"), "consent": true});
        let t = remote.expect(&format!("/api/v1/public/events/{code}/registrations"), None, &body, 201).await;
        tickets.push(t["ticket_code"].as_str().unwrap().to_owned());
    }
    let ctx = Arc::new(Context {
        partner: partner["id"].as_str().unwrap().to_owned(),
        event: event["id"].as_str().unwrap().to_owned(),
        code,
        tickets: Mutex::new(tickets),
        phones: std::sync::atomic::AtomicU32::new(0),
        stop: AtomicBool::new(false),
        acks: Acks::default(),
    });

    // Four kinds of writers, four connections each, until SIGKILL.
    let writers: Vec<_> =
        (0..16).map(|n| tokio::spawn(write_until_gone(remote.clone(), am.clone(), n % 4, ctx.clone()))).collect();
    for _ in 0..400 {
        if ctx.acks.counts().iter().all(|&n| n >= 25) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    signal(&server, "-KILL");
    for writer in writers {
        tokio::time::timeout(Duration::from_secs(30), writer).await.expect("writers stop").unwrap();
    }
    let counts = ctx.acks.counts();
    eprintln!("answered before SIGKILL (visits, registrations, check-ins, pushes): {counts:?}");
    assert!(counts.iter().all(|&n| n > 0), "each kind of write was answered before the kill: {counts:?}");
    assert_eq!(*ctx.acks.unexpected.lock(), Vec::<String>::new(), "no write was refused before the kill");
    drop(server);

    // Restarted on the same files: everything answered is there, whole.
    let mut server = serve(&sandbox, port, false);
    wait_until_up(&remote.client, &remote.base).await;
    let am = remote.login("13800000004").await;
    let visits = ctx.acks.visits.lock().clone();
    for visit in visits {
        let id = visit["id"].as_str().unwrap();
        let stored = remote.json(&format!("/api/v1/visits/{id}"), &am).await;
        for field in ["notes", "location", "visited_at", "partner_id", "verified", "purpose"] {
            assert_eq!(stored[field], visit[field], "visit {id}: {field}");
        }
    }
    let attendees = remote.json(&format!("/api/v1/events/{}/attendees", ctx.event), &am).await;
    let attendees = attendees["items"].as_array().unwrap();
    let by_ticket = |ticket: &str| attendees.iter().find(|a| a["ticket_code"] == ticket).cloned();
    for (ticket, _) in ctx.acks.registrations.lock().iter() {
        let attendee = by_ticket(ticket).unwrap_or_else(|| panic!("registration {ticket} lost"));
        assert_eq!(attendee["status"], "registered");
    }
    for ticket in ctx.acks.check_ins.lock().iter() {
        let attendee = by_ticket(ticket).unwrap_or_else(|| panic!("ticket {ticket} lost"));
        assert_eq!(attendee["checked_in"], true, "check-in of {ticket} lost");
    }
    let pushed = ctx.acks.pushed.lock().clone();
    for (id, name) in &pushed {
        assert_eq!(remote.json(&format!("/api/v1/partners/{id}"), &am).await["name"], name.as_str());
    }
    // Nothing half-written: the event's counter agrees with its rows, and every check-in whose
    // answer was lost either happened whole (a lead) or not at all.
    let stored = remote.json(&format!("/api/v1/events/{}", ctx.event), &am).await;
    let registered = attendees.iter().filter(|a| a["status"] == "registered").count();
    assert_eq!(stored["registered_count"].as_u64(), Some(registered as u64), "{stored}");
    for attendee in attendees {
        assert_eq!(attendee["checked_in"], !attendee["lead_id"].is_null(), "a check-in makes its lead: {attendee}");
    }

    signal(&server, "-TERM");
    let status = tokio::time::timeout(Duration::from_secs(40), server.wait()).await.unwrap().unwrap();
    assert!(status.success());
    assert_sound(&sandbox.database_url);
}

/// The files are sound: SQLite's own check and its foreign keys; on PostgreSQL, every B-tree
/// index checked against its table by `amcheck`.
pub fn assert_sound(database_url: &str) {
    #[derive(diesel::QueryableByName)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        line: String,
    }
    if database_url.starts_with("postgres") {
        let mut conn = diesel::PgConnection::establish(database_url).unwrap();
        // In `public`, outside the test's own schema (which `search_path` names and the test drops).
        diesel::sql_query("CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA public").execute(&mut conn).unwrap();
        let checked: Vec<Line> = diesel::sql_query(
            "SELECT c.relname::text || ':' || public.bt_index_parent_check(c.oid, true)::text AS line
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE a.amname = 'btree' AND n.nspname = current_schema()",
        )
        .load(&mut conn)
        .unwrap();
        assert!(checked.len() > 10, "every index was checked: {}", checked.len());
    } else {
        let mut conn = diesel::SqliteConnection::establish(database_url).unwrap();
        let lines: Vec<Line> =
            diesel::sql_query("SELECT integrity_check AS line FROM pragma_integrity_check").load(&mut conn).unwrap();
        assert_eq!(lines.iter().map(|l| l.line.as_str()).collect::<Vec<_>>(), ["ok"]);
        let broken: Vec<Line> =
            diesel::sql_query("SELECT \"table\" AS line FROM pragma_foreign_key_check").load(&mut conn).unwrap();
        assert!(
            broken.is_empty(),
            "rows with a dangling foreign key in {:?}",
            broken.iter().map(|l| &l.line).collect::<Vec<_>>()
        );
    }
}
