//! `TestApp`: a real server on a random port over a fresh database, with a token per role.

use std::sync::{Arc, Mutex};

use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Value, json};
use ventanilla::config::Config;
use ventanilla::db::{self, Db};
use ventanilla::state::AppState;
use ventanilla_domain::ids::StaffId;

pub struct TestApp {
    pub base: String,
    pub db: Db,
    pub client: Client,
    pub admin: String,
    pub agent: String,
    pub supervisor: String,
    pub coordinator: String,
    /// Engineer of "Monitoreo y Servicios Computacionales".
    pub engineer_mail: String,
    pub engineer_mail_id: i64,
    /// Engineer of "Conectividad y Transmisiones".
    pub engineer_network: String,
    pub clock: Arc<Mutex<jiff::Timestamp>>,
    _dir: tempfile::TempDir,
}

/// A Tuesday morning in Mexico City, inside business hours.
pub const DEFAULT_NOW: &str = "2026-03-10T10:00:00-06:00[America/Mexico_City]";

/// A fresh database URL for one test.
pub async fn fresh_database_url(dir: &std::path::Path) -> String {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(server) if !server.is_empty() => {
            let admin = Db::connect(&server)
                .await
                .expect("connect to TEST_DATABASE_URL");
            // .ci/run drops these before each run.
            let name = format!("vt_test_{}", uuid::Uuid::new_v4().simple());
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(admin.write())
                .await
                .expect("create test database");
            admin.close().await;
            let base = server.rsplit_once('/').map(|(b, _)| b).unwrap_or(&server);
            format!("{base}/{name}")
        }
        _ => format!("sqlite://{}/test.db", dir.display()),
    }
}

pub async fn fresh_db(dir: &std::path::Path) -> Db {
    let url = fresh_database_url(dir).await;
    let db = Db::connect(&url).await.expect("connect");
    db::migrations::run(&db).await.expect("migrate");
    db
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = fresh_db(dir.path()).await;
        Self::spawn_on(db, dir).await
    }

    pub async fn spawn_on(db: Db, dir: tempfile::TempDir) -> TestApp {
        Self::spawn_with(db, dir, Config::default()).await
    }

    pub async fn spawn_with(db: Db, dir: tempfile::TempDir, config: Config) -> TestApp {
        let now: jiff::Timestamp = DEFAULT_NOW
            .parse::<jiff::Zoned>()
            .expect("default now")
            .timestamp();
        let clock = Arc::new(Mutex::new(now));
        let seed = ventanilla::demo::seed_if_empty(&db, now.as_millisecond())
            .await
            .expect("seed")
            .expect("empty database gets the demo seed");
        let base = start_server(db.clone(), config, clock.clone()).await;
        let token_for = |username: &'static str| {
            let db = db.clone();
            async move {
                let member = db::staff::by_username(&db, username)
                    .await
                    .ok()
                    .flatten()
                    .expect("demo account");
                match db::staff::issue_token(&db, member.id, "test", 0).await {
                    Ok(token) => token,
                    Err(_) => panic!("token"),
                }
            }
        };
        let engineer_mail_id = db::staff::by_username(&db, "ing.correo")
            .await
            .ok()
            .flatten()
            .map(|s| s.id)
            .unwrap_or(StaffId(0))
            .0;
        TestApp {
            base,
            admin: seed.admin_token,
            agent: seed.agent_token,
            supervisor: token_for("supervisor").await,
            coordinator: token_for("coordinador").await,
            engineer_mail: token_for("ing.correo").await,
            engineer_mail_id,
            engineer_network: token_for("ing.redes").await,
            db,
            client: Client::new(),
            clock,
            _dir: dir,
        }
    }

    /// A second node over a database `other` already seeded: same accounts and tokens.
    pub async fn spawn_existing(db: Db, other: &TestApp) -> TestApp {
        let clock = other.clock.clone();
        let base = start_server(db.clone(), Config::default(), clock.clone()).await;
        TestApp {
            base,
            db,
            client: Client::new(),
            admin: other.admin.clone(),
            agent: other.agent.clone(),
            supervisor: other.supervisor.clone(),
            coordinator: other.coordinator.clone(),
            engineer_mail: other.engineer_mail.clone(),
            engineer_mail_id: other.engineer_mail_id,
            engineer_network: other.engineer_network.clone(),
            clock,
            _dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn set_now(&self, zoned: &str) {
        let t = zoned
            .parse::<jiff::Zoned>()
            .expect("zoned time")
            .timestamp();
        *self.clock.lock().expect("clock") = t;
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        read(response).await
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// The id of a service by its exact name.
    pub async fn service_id(&self, name: &str) -> i64 {
        let (_, services) = self.get("/api/v1/services", &self.agent).await;
        services
            .as_array()
            .expect("services")
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("service {name}"))["id"]
            .as_i64()
            .expect("id")
    }

    pub async fn unit_id(&self, acronym: &str) -> i64 {
        let (_, units) = self.get("/api/v1/units", &self.agent).await;
        units
            .as_array()
            .expect("units")
            .iter()
            .find(|u| u["acronym"] == acronym)
            .unwrap_or_else(|| panic!("unit {acronym}"))["id"]
            .as_i64()
            .expect("id")
    }

    /// The single number a `SELECT COUNT(*) …` answers, read directly from the database.
    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(self.db.read())
            .await
            .expect("count")
    }

    /// Registers a requester with a synthesized valid CURP; `udi_role` none, head or work_group.
    pub async fn requester(&self, seed: u64, udi_role: &str) -> i64 {
        let curp =
            ventanilla_domain::curp::synthesize(seed, jiff::civil::date(1990, 5, 12), 'M', "DF");
        let unit = self.unit_id("ESCOM").await;
        let (status, body) = self
            .post(
                "/api/v1/requesters",
                &self.agent,
                json!({
                    "full_name": format!("Persona de Prueba {seed}"),
                    "curp": curp.as_str(),
                    "employee_number": format!("{:06}", seed),
                    "extension": "46000",
                    "email": format!("persona{seed}@example.org"),
                    "unit_id": unit,
                    "udi_role": udi_role,
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_i64().expect("requester id")
    }

    /// A phone request for `service` that the agent registers; returns its number.
    pub async fn phone_request(&self, requester: i64, service: i64) -> String {
        let (status, body) = self
            .post(
                "/api/v1/requests",
                &self.agent,
                json!({
                    "channel": "phone",
                    "requester_id": requester,
                    "service_id": service,
                    "subject": "No puedo entrar a mi correo",
                    "description": "Desde ayer el correo institucional rechaza mi contraseña.",
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["number"].as_str().expect("number").to_string()
    }
}

async fn start_server(db: Db, config: Config, clock: Arc<Mutex<jiff::Timestamp>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let mut state = AppState::new(db, config);
    state.clock = Arc::new(move || *clock.lock().expect("clock"));
    tokio::spawn(async move {
        ventanilla::serve(state, listener, std::future::pending())
            .await
            .expect("server");
    });
    format!("http://{address}")
}

pub async fn read(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = response.text().await.expect("body");
    if status.is_client_error() || status.is_server_error() {
        assert_eq!(
            content_type, "application/problem+json",
            "every error is problem+json; got {status} {text}"
        );
    }
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// Asserts a problem answer: status, code and (when given) field.
pub fn assert_problem(
    got: &(StatusCode, Value),
    status: StatusCode,
    code: &str,
    field: Option<&str>,
) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["code"], code, "{}", got.1);
    if let Some(field) = field {
        assert_eq!(got.1["field"], field, "{}", got.1);
    }
    assert!(
        got.1["detail"].as_str().is_some_and(|d| d.len() > 10),
        "a problem explains itself: {}",
        got.1
    );
}
