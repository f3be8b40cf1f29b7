//! `spawn_app()`: the real application on a random port against a fresh database.
//!
//! Every test runs on SQLite (a temporary file). With `OUTREACH_TEST_DATABASE_URL` set to a
//! PostgreSQL server, each test gets its own new schema there instead, dropped afterwards.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::LazyLock;

use diesel::{Connection, PgConnection, RunQueryDsl};
use outreach::app::startup::Application;
use outreach::auth::HashCost;
use outreach::context::bootstrap::PasswordHash;
use outreach::context::config::Settings;
use outreach::context::state::AppState;
use outreach::domain::common::create::Created;
use outreach::domain::org::org_units::{self, NewOrgUnit, OrgUnitKind};
use outreach::domain::{Actor, Role};
use reqwest::{Response, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery";
/// [`PASSWORD`] hashed once per process at a test cost (Argon2id, 64 KiB, one pass) for the users
/// fixtures create directly: at the server's cost (19 MiB, two passes) every fixture user cost
/// two hashes of ~20 ms of a core, one to create and one to log in. Users created through the API
/// and the server's own settings keep the real cost.
static FIXTURE_HASH: LazyLock<String> = LazyLock::new(|| {
    let cost = HashCost { m_cost_kib: 64, t_cost: 1, p_cost: 1 };
    outreach::auth::password::hash_at_cost(cost, PASSWORD).expect("fixture password hash")
});

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

/// A fresh database for one test; on PostgreSQL a schema of its own, dropped when the test ends.
pub enum TestDb {
    Sqlite,
    Postgres {
        server_url: String,
        schema: String,
    },
    /// A whole database, for a copy of the seeded demo (`demo_data::create_pg_demo`).
    PostgresDatabase {
        server_url: String,
        name: String,
    },
}

impl Drop for TestDb {
    /// Ends the test's own sessions first (they are tagged with the schema as `application_name`),
    /// as `DROP DATABASE … WITH (FORCE)` did: a worker caught inside a transaction cannot hold the
    /// drop up.
    fn drop(&mut self) {
        if let TestDb::Postgres { server_url, schema } = self
            && let Ok(mut conn) = PgConnection::establish(server_url)
        {
            let _ = diesel::sql_query(format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{schema}'"
            ))
            .execute(&mut conn);
            let _ = diesel::sql_query(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")).execute(&mut conn);
        }
        if let TestDb::PostgresDatabase { server_url, name } = self
            && let Ok(mut conn) = PgConnection::establish(server_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut conn);
        }
    }
}

/// On PostgreSQL, each test gets a new schema in the database `OUTREACH_TEST_DATABASE_URL` names,
/// not a new database: `DROP DATABASE` forces a checkpoint (1.4 s on an idle server, and the
/// checkpoints of parallel tests queue), while a schema drops in milliseconds. The test's sessions
/// see only their schema (`search_path`), so tables, triggers and migrations are the test's own.
/// `synchronous_commit` is off for these sessions only: the suite tests the application, not the
/// server's fsync (PostgreSQL still applies every commit in order; a crash of the *server* is the
/// one thing it would lose). Without TLS: the suite's process exits with pool threads still
/// reconnecting, and OpenSSL's exit-time cleanup racing them aborted the run once ("double free")
/// after every test had passed.
pub fn fresh_database(data_dir: &std::path::Path) -> (String, TestDb) {
    match std::env::var("OUTREACH_TEST_DATABASE_URL") {
        Ok(server_url) if !server_url.is_empty() => {
            let schema = format!("outreach_test_{}", Uuid::new_v4().simple());
            let mut conn = PgConnection::establish(&server_url)
                .unwrap_or_else(|e| panic!("OUTREACH_TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}"));
            diesel::sql_query(format!("CREATE SCHEMA \"{schema}\"")).execute(&mut conn).expect("create test schema");
            let separator = if server_url.contains('?') { '&' } else { '?' };
            let url = format!(
                "{server_url}{separator}sslmode=disable&application_name={schema}\
                 &options=-csearch_path%3D{schema}%20-csynchronous_commit%3Doff"
            );
            (url, TestDb::Postgres { server_url, schema })
        }
        _ => (data_dir.join("test.db").to_string_lossy().into_owned(), TestDb::Sqlite),
    }
}

/// The org tree every test starts with: branch A (sub-branches A1, A2) and branch B.
pub struct Tree {
    pub branch_a: Uuid,
    pub sub_a1: Uuid,
    pub outlet_a1: Uuid,
    pub outlet_a1b: Uuid,
    pub sub_a2: Uuid,
    pub outlet_a2: Uuid,
    pub branch_b: Uuid,
    pub sub_b1: Uuid,
    pub outlet_b1: Uuid,
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub tree: Tree,
    _db: TestDb,
    _data_dir: tempfile::TempDir,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with configuration overrides (environment variable names).
/// An app for tests whose subject is a history of visits, recorded as if each had reached the
/// server when it happened: a visit posted days after it happened is otherwise a `late_entry`.
pub async fn spawn_history_app() -> TestApp {
    spawn_app_with(|env| {
        env.insert("OUTREACH_VERIFY_LATE_ENTRY_HOURS".into(), "8760".into());
    })
    .await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut HashMap<String, String>)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (database_url, db) = tokio::task::spawn_blocking({
        let dir = data_dir.path().to_owned();
        move || fresh_database(&dir)
    })
    .await
    .expect("database setup");
    let mut env = HashMap::from([
        ("DATABASE_URL".to_owned(), database_url),
        ("OUTREACH_DATA_DIR".to_owned(), data_dir.path().to_string_lossy().into_owned()),
        ("OUTREACH_JWT_SECRET".to_owned(), JWT_SECRET.to_owned()),
        ("OUTREACH_WORKERS".to_owned(), "2".to_owned()),
    ]);
    configure(&mut env);
    outreach::http::middleware::tap::install(crate::exposure::scan);
    let settings = Settings::load(&env).expect("settings");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let app = Application::build_with_listener(settings, listener).await.expect("build app");
    let port = app.port();
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    let tree = build_tree(&state).await;
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client"),
        state,
        tree,
        _db: db,
        _data_dir: data_dir,
    }
}

impl Drop for TestApp {
    /// Fails the test whose answers the exposure scan caught (unless it is failing already).
    fn drop(&mut self) {
        let host = self.address.trim_start_matches("http://");
        let found = crate::exposure::take(host);
        if !found.is_empty() && !std::thread::panicking() {
            panic!("the exposure scan caught {} answers:\n{}", found.len(), found.join("\n"));
        }
    }
}

async fn unit(state: &AppState, name: &str, kind: OrgUnitKind, parent: Option<Uuid>) -> Uuid {
    let input = NewOrgUnit {
        id: None,
        name: name.to_owned(),
        kind,
        parent_id: parent,
        territory: None,
        location: None,
        address: String::new(),
        contact_phone: String::new(),
    };
    match state.db.run(move |c| org_units::create(c, &Actor::system(), input)).await.expect("create unit") {
        Created::New(u) | Created::Existing(u) => u.id,
    }
}

async fn build_tree(state: &AppState) -> Tree {
    let branch_a = unit(state, "Branch A", OrgUnitKind::Branch, None).await;
    let sub_a1 = unit(state, "Sub A1", OrgUnitKind::SubBranch, Some(branch_a)).await;
    let outlet_a1 = unit(state, "Outlet A1", OrgUnitKind::Outlet, Some(sub_a1)).await;
    let outlet_a1b = unit(state, "Outlet A1b", OrgUnitKind::Outlet, Some(sub_a1)).await;
    let sub_a2 = unit(state, "Sub A2", OrgUnitKind::SubBranch, Some(branch_a)).await;
    let outlet_a2 = unit(state, "Outlet A2", OrgUnitKind::Outlet, Some(sub_a2)).await;
    let branch_b = unit(state, "Branch B", OrgUnitKind::Branch, None).await;
    let sub_b1 = unit(state, "Sub B1", OrgUnitKind::SubBranch, Some(branch_b)).await;
    let outlet_b1 = unit(state, "Outlet B1", OrgUnitKind::Outlet, Some(sub_b1)).await;
    Tree { branch_a, sub_a1, outlet_a1, outlet_a1b, sub_a2, outlet_a2, branch_b, sub_b1, outlet_b1 }
}

/// A logged-in user.
pub struct Login {
    pub id: Uuid,
    pub phone: String,
    pub token: String,
    pub refresh: String,
}

static PHONE_SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// A phone number no other user in this process has.
pub fn unique_phone() -> String {
    let n = PHONE_SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("139{:08}", (std::process::id() % 1000) * 100_000 + n)
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// Creates a user directly (fixture), returning its id and phone.
    pub async fn user(&self, role: Role, unit: Option<Uuid>) -> (Uuid, String) {
        let phone = unique_phone();
        let user = outreach::context::bootstrap::create_user_hashed(
            &self.state,
            &phone,
            "Test User",
            SecretString::from(PASSWORD),
            PasswordHash::Given(FIXTURE_HASH.clone()),
            role,
            unit,
        )
        .await
        .expect("create fixture user");
        (user.id, phone)
    }

    /// Logs in over HTTP.
    pub async fn login(&self, phone: &str, password: &str) -> Response {
        self.post_json("/api/v1/auth/login", None, &json!({"phone": phone, "password": password})).await
    }

    /// A user of `role` at `unit`, logged in.
    pub async fn login_at(&self, role: Role, unit: Option<Uuid>) -> Login {
        let (id, phone) = self.user(role, unit).await;
        let response = self.login(&phone, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("session json");
        Login {
            id,
            phone,
            token: body["access_token"].as_str().expect("access token").to_owned(),
            refresh: body["refresh_token"].as_str().expect("refresh token").to_owned(),
        }
    }

    /// The standard user of each role in branch A: the account manager in outlet A1, the
    /// sub-branch manager of A1, the branch manager and supervisor of A, an admin.
    pub async fn login_as(&self, role: Role) -> Login {
        let unit = match role {
            Role::Admin => None,
            Role::BranchManager | Role::Supervisor => Some(self.tree.branch_a),
            Role::SubBranchManager => Some(self.tree.sub_a1),
            Role::AccountManager => Some(self.tree.outlet_a1),
        };
        self.login_at(role, unit).await
    }

    pub async fn get(&self, path: impl AsRef<str>, token: Option<&str>) -> Response {
        let mut request = self.client.get(self.url(path.as_ref()));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    pub async fn patch_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let mut request = self.client.patch(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }

    /// Sends raw bytes with a content type, for malformed-body tests.
    pub async fn post_raw(&self, path: &str, token: Option<&str>, content_type: &str, body: Vec<u8>) -> Response {
        let mut request = self.client.post(self.url(path)).header("content-type", content_type).body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request")
    }
}

/// Asserts a problem+json response with this status and code, and returns its body.
pub async fn assert_problem(response: Response, status: u16, code: &str) -> Value {
    let actual = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!((actual, body["code"].as_str()), (status, Some(code)), "unexpected problem: {body}");
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string() && body["detail"].is_string() && body["type"].is_string(), "{body}");
    body
}

pub async fn json_ok(response: Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(actual, status, "unexpected response: {body}");
    body
}
