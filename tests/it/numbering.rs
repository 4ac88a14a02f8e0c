//! Request numbers SS-YYYY-NNNNNN: unique and gap-free per year (A12), also with concurrent
//! writers and with several server processes on one database.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, fresh_database_url};

#[tokio::test]
async fn the_first_phone_request_of_the_year_is_number_one_and_reads_back_with_its_timeline() {
    let app = TestApp::spawn().await;
    let requester = app.requester(1, "none").await;
    let service = app.service_id("Correo electrónico").await;
    let number = app.phone_request(requester, service).await;
    assert_eq!(number, "SS-2026-000001");

    let (status, request) = app.get("/api/v1/requests/SS-2026-000001", &app.agent).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(request["number"], "SS-2026-000001");
    assert_eq!(request["channel"], "phone");
    // A11: registered and assigned to the sheet's area in one step.
    assert_eq!(request["status"], "assigned");
    assert_eq!(
        request["area_name"],
        "Monitoreo y Servicios Computacionales"
    );
    let kinds: Vec<&str> = request["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["registered", "assign"]);
    assert_eq!(request["timeline"][0]["actor_name"], "Agente de soporte");
}

#[tokio::test]
async fn numbering_restarts_with_the_local_year_in_mexico_city() {
    let app = TestApp::spawn().await;
    let requester = app.requester(2, "none").await;
    let service = app.service_id("Correo electrónico").await;
    app.set_now("2026-12-31T23:30:00-06:00[America/Mexico_City]");
    assert_eq!(
        app.phone_request(requester, service).await,
        "SS-2026-000001"
    );
    // 05:30 UTC on 1 January is still 31 December in Mexico City.
    app.set_now("2027-01-01T05:30:00+00:00[UTC]");
    assert_eq!(
        app.phone_request(requester, service).await,
        "SS-2026-000002"
    );
    app.set_now("2027-01-01T00:00:01-06:00[America/Mexico_City]");
    assert_eq!(
        app.phone_request(requester, service).await,
        "SS-2027-000001"
    );
}

async fn create_many(app: &TestApp, requester: i64, service: i64, count: usize) -> Vec<String> {
    let mut tasks = Vec::new();
    for i in 0..count {
        let client = app.client.clone();
        let url = format!("{}/api/v1/requests", app.base);
        let token = app.agent.clone();
        tasks.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({
                    "channel": "email",
                    "requester_id": requester,
                    "service_id": service,
                    "subject": format!("Solicitud concurrente {i}"),
                    "description": "Prueba de numeración concurrente.",
                }))
                .send()
                .await
                .expect("send");
            assert_eq!(response.status(), StatusCode::CREATED);
            let body: serde_json::Value = response.json().await.expect("json");
            body["number"].as_str().expect("number").to_string()
        }));
    }
    let mut numbers = Vec::new();
    for task in tasks {
        numbers.push(task.await.expect("task"));
    }
    numbers
}

fn sequences(numbers: &[String]) -> BTreeSet<u32> {
    numbers
        .iter()
        .map(|n| n.rsplit('-').next().unwrap().parse::<u32>().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_creates_get_a_hundred_consecutive_numbers() {
    let app = TestApp::spawn().await;
    let requester = app.requester(3, "none").await;
    let service = app.service_id("Correo electrónico").await;
    let before = app.db.group_commit().map(|g| g.activity());
    let numbers = create_many(&app, requester, service, 100).await;
    let seen = sequences(&numbers);
    assert_eq!(seen.len(), 100, "all distinct");
    assert_eq!(seen, (1..=100).collect::<BTreeSet<u32>>(), "gap-free");
    // On SQLite they shared group commits, and every batch was written as one (a statement of
    // the batch that failed, such as a padding row not left out, would send each registration
    // through its own savepoint: still correct, but counted here).
    if let (Some(group), Some(before)) = (app.db.group_commit(), before) {
        let activity = group.activity().since(before);
        assert_eq!(activity.registrations, 100);
        assert!(activity.groups < 100, "{activity:?}");
        assert_eq!(activity.batches_retried, 0, "{activity:?}");
    }
}

/// Two app nodes (each with its own pools, as two processes would have) on one database.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_on_one_database_never_share_or_skip_a_number() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let db_a = ventanilla::db::Db::connect(&url).await.unwrap();
    ventanilla::db::migrations::run(&db_a).await.unwrap();
    let db_b = ventanilla::db::Db::connect(&url).await.unwrap();
    // The second node runs the migrations too, as every node does at start: nothing to apply.
    assert!(
        ventanilla::db::migrations::run(&db_b)
            .await
            .unwrap()
            .is_empty()
    );
    let node_a = TestApp::spawn_on(db_a, dir).await;
    let node_b = TestApp::spawn_existing(db_b, &node_a).await;
    let requester = node_a.requester(4, "none").await;
    let service = node_a.service_id("Correo electrónico").await;
    let (a, b) = tokio::join!(
        create_many(&node_a, requester, service, 50),
        create_many(&node_b, requester, service, 50)
    );
    let all: Vec<String> = a.into_iter().chain(b).collect();
    assert_eq!(sequences(&all), (1..=100).collect::<BTreeSet<u32>>());
}

#[tokio::test]
async fn a_retried_submission_with_the_same_idempotency_key_registers_once() {
    let app = TestApp::spawn().await;
    let requester = app.requester(5, "none").await;
    let service = app.service_id("Correo electrónico").await;
    let body = json!({
        "channel": "phone",
        "requester_id": requester,
        "service_id": service,
        "subject": "Correo bloqueado",
        "description": "No entra.",
        "idempotency_key": "form-7f3a9c21",
    });
    let first = app.post("/api/v1/requests", &app.agent, body.clone()).await;
    let second = app.post("/api/v1/requests", &app.agent, body).await;
    assert_eq!(first.0, StatusCode::CREATED);
    assert_eq!(second.0, StatusCode::OK);
    assert_eq!(first.1["number"], second.1["number"]);
    assert_eq!(second.1["replayed"], true);
    let (_, page) = app.get("/api/v1/requests", &app.agent).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
}

/// On SQLite concurrent registrations share commits; one that fails inside the group (here an
/// assignee from another area) rolls back alone, its number included, and the others still commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failures_inside_a_group_commit_leave_no_gap_and_do_not_fail_the_others() {
    let app = TestApp::spawn().await;
    let requester = app.requester(6, "none").await;
    let service = app.service_id("Correo electrónico").await;
    let (_, me) = app.get("/api/v1/me", &app.engineer_network).await;
    let wrong_engineer = me["id"].as_i64().unwrap();
    let mut tasks = Vec::new();
    for i in 0..60 {
        let client = app.client.clone();
        let url = format!("{}/api/v1/requests", app.base);
        let token = app.agent.clone();
        let assignee = if i % 3 == 0 {
            wrong_engineer
        } else {
            app.engineer_mail_id
        };
        tasks.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"channel": "phone", "requester_id": requester, "service_id": service,
                              "subject": format!("Grupo {i}"), "description": "Prueba de commit agrupado.",
                              "assignee_id": assignee}))
                .send()
                .await
                .unwrap();
            (i, response.status(), response.json::<serde_json::Value>().await.unwrap())
        }));
    }
    let mut numbers = Vec::new();
    for task in tasks {
        let (i, status, body) = task.await.unwrap();
        if i % 3 == 0 {
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(body["code"], "assignee_not_in_area");
        } else {
            assert_eq!(status, StatusCode::CREATED, "{body}");
            numbers.push(body["number"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(sequences(&numbers), (1..=40).collect::<BTreeSet<u32>>());
    let (_, page) = app.get("/api/v1/requests?limit=200", &app.agent).await;
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        40,
        "nothing half-written"
    );
}

/// A statement that fails inside a group (here a unique key: the same idempotency key sent by
/// many clients at once) sends every registration of the group through its own savepoint: the
/// key registers once, every retry gets that number, and the rest of the group is unharmed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_key_sent_by_many_clients_at_once_registers_once_beside_other_registrations_a12() {
    let app = TestApp::spawn().await;
    let requester = app.requester(7, "none").await;
    let service = app.service_id("Correo electrónico").await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let client = app.client.clone();
        let url = format!("{}/api/v1/requests", app.base);
        let token = app.agent.clone();
        let key = if i % 2 == 0 {
            "misma-clave-de-reintento".to_string()
        } else {
            format!("clave-propia-{i:04}")
        };
        tasks.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"channel": "phone", "requester_id": requester, "service_id": service,
                              "subject": format!("Reintento {i}"), "description": "Prueba de clave repetida.",
                              "idempotency_key": key}))
                .send()
                .await
                .unwrap();
            (i, response.status(), response.json::<serde_json::Value>().await.unwrap())
        }));
    }
    let mut shared = BTreeSet::new();
    let mut own = Vec::new();
    let mut created_with_shared_key = 0;
    for task in tasks {
        let (i, status, body) = task.await.unwrap();
        let number = body["number"].as_str().unwrap_or_default().to_string();
        if i % 2 == 0 {
            assert!(
                status == StatusCode::CREATED || status == StatusCode::OK,
                "{status} {body}"
            );
            if status == StatusCode::CREATED {
                created_with_shared_key += 1;
            }
            shared.insert(number);
        } else {
            assert_eq!(status, StatusCode::CREATED, "{body}");
            own.push(number);
        }
    }
    assert_eq!(created_with_shared_key, 1, "the key registered once");
    assert_eq!(shared.len(), 1, "every retry answered with the same number");
    own.extend(shared);
    assert_eq!(sequences(&own), (1..=21).collect::<BTreeSet<u32>>());
    let (_, page) = app.get("/api/v1/requests?limit=200", &app.agent).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 21);
}
