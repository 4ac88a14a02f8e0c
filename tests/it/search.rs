//! Full-text search (issue 4): number, subject, description, comments and requester, Spanish,
//! accent- and case-insensitive, through `GET /api/v1/requests?q=` and the search page.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;

fn numbers(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["number"].as_str().expect("number").to_string())
        .collect()
}

async fn search(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let encoded: String = url_encode(query);
    let (status, page) = app
        .get(&format!("/api/v1/requests?q={encoded}"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    numbers(&page)
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn request(app: &TestApp, requester: i64, subject: &str, description: &str) -> String {
    let service = app.service_id("Correo electrónico").await;
    let (status, body) = app
        .post(
            "/api/v1/requests",
            &app.agent,
            json!({
                "channel": "phone",
                "requester_id": requester,
                "service_id": service,
                "subject": subject,
                "description": description,
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["number"].as_str().expect("number").to_string()
}

#[tokio::test]
async fn words_are_found_without_accents_case_or_plural_in_subject_and_description() {
    let app = TestApp::spawn().await;
    let person = app.requester(1, "none").await;
    let printer = request(
        &app,
        person,
        "La impresora de la Dirección no imprime",
        "Marca un atasco de papel en la oficina.",
    )
    .await;
    let mail = request(
        &app,
        person,
        "Correo institucional",
        "No recibo mensajes en la oficina desde el lunes.",
    )
    .await;

    assert_eq!(
        search(&app, &app.agent, "DIRECCION").await,
        vec![printer.clone()]
    );
    assert_eq!(
        search(&app, &app.agent, "impresoras").await,
        vec![printer.clone()]
    );
    assert_eq!(
        search(&app, &app.agent, "atasco papel").await,
        vec![printer.clone()]
    );
    // Every word must appear (AND), as a whole word, singular or plural.
    assert!(search(&app, &app.agent, "impresora lunes").await.is_empty());
    assert_eq!(
        search(&app, &app.agent, "mensaje").await,
        vec![mail.clone()]
    );
    assert!(search(&app, &app.agent, "mensa").await.is_empty());
    // Newest first.
    assert_eq!(
        search(&app, &app.agent, "oficina").await,
        vec![mail.clone(), printer.clone()]
    );
    // By number, as printed on a paper form.
    assert_eq!(search(&app, &app.agent, &printer).await, vec![printer]);
}

#[tokio::test]
async fn comments_and_changed_conditions_are_searchable_at_once() {
    let app = TestApp::spawn().await;
    let person = app.requester(2, "none").await;
    let number = app
        .phone_request(person, app.service_id("Correo electrónico").await)
        .await;
    assert!(search(&app, &app.agent, "tóner").await.is_empty());

    let (status, body) = app
        .post(
            &format!("/api/v1/requests/{number}/comments"),
            &app.agent,
            json!({ "body": "Se cambió el cartucho de TÓNER", "internal": true }),
        )
        .await;
    assert!(status.is_success(), "{body}");
    assert_eq!(
        search(&app, &app.agent, "toner").await,
        vec![number.clone()]
    );

    // V6: the new description is searched; the subject still is.
    let (status, body) = app
        .post(
            &format!("/api/v1/requests/{number}/conditions"),
            &app.agent,
            json!({
                "description": "Ahora también falla la firma electrónica",
                "reason": "La persona llamó de nuevo",
            }),
        )
        .await;
    assert!(status.is_success(), "{body}");
    assert_eq!(
        search(&app, &app.agent, "firma").await,
        vec![number.clone()]
    );
    assert_eq!(search(&app, &app.agent, "toner correo").await, vec![number]);
}

fn person_body(seed: u64, full_name: &str, unit: i64) -> Value {
    let curp = ventanilla_domain::curp::synthesize(seed, jiff::civil::date(1990, 5, 12), 'M', "DF");
    json!({
        "full_name": full_name,
        "curp": curp.as_str(),
        "employee_number": format!("{:06}", seed),
        "extension": "46000",
        "email": format!("persona{seed}@example.org"),
        "unit_id": unit,
        "udi_role": "none",
    })
}

#[tokio::test]
async fn the_requester_name_is_searched_only_by_roles_that_see_it_and_follows_a_change_a7() {
    let app = TestApp::spawn().await;
    let unit = app.unit_id("ESCOM").await;
    let (status, created) = app
        .post(
            "/api/v1/requesters",
            &app.agent,
            person_body(3, "María Guadalupe Ordóñez Peña", unit),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let person = created["id"].as_i64().unwrap();
    let number = request(&app, person, "Sin acceso a la VPN", "Desde casa.").await;

    assert_eq!(
        search(&app, &app.agent, "ordonez pena").await,
        vec![number.clone()]
    );
    assert_eq!(
        search(&app, &app.engineer_mail, "Ordóñez").await,
        vec![number.clone()]
    );
    // The administrator keeps the catalogue: no names, not even through the search.
    assert!(search(&app, &app.admin, "ordonez").await.is_empty());
    assert_eq!(search(&app, &app.admin, "vpn").await, vec![number.clone()]);
    let (_, page) = app.get("/api/v1/requests?q=vpn", &app.admin).await;
    assert_eq!(page["items"][0]["requester_name"], Value::Null);

    let (status, body) = app
        .call(
            reqwest::Method::PUT,
            &format!("/api/v1/requesters/{person}"),
            &app.agent,
            Some(person_body(3, "María Guadalupe Ordóñez Zúñiga", unit)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(search(&app, &app.agent, "zuniga").await, vec![number]);
    assert!(search(&app, &app.agent, "ordonez pena").await.is_empty());
}

#[tokio::test]
async fn query_syntax_is_plain_text_and_filters_and_pages_combine_with_the_words() {
    let app = TestApp::spawn().await;
    let person = app.requester(4, "none").await;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(request(&app, person, &format!("Red caída {i}"), "Sin red.").await);
    }
    for hostile in [
        "\"",
        "red\" OR *",
        "NEAR(red",
        "a & !b | c:*",
        "(((",
        "-- ¿?",
    ] {
        let (status, page) = app
            .get(
                &format!("/api/v1/requests?q={}", url_encode(hostile)),
                &app.agent,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{hostile}: {page}");
    }
    assert!(search(&app, &app.agent, "¿?").await.is_empty());

    let (status, first) = app.get("/api/v1/requests?q=red&limit=2", &app.agent).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(
        numbers(&first),
        vec![created[4].clone(), created[3].clone()]
    );
    let cursor = first["next_cursor"].as_i64().expect("a next page");
    let (_, second) = app
        .get(
            &format!("/api/v1/requests?q=red&limit=2&cursor={cursor}"),
            &app.agent,
        )
        .await;
    assert_eq!(
        numbers(&second),
        vec![created[2].clone(), created[1].clone()]
    );

    let (_, assigned) = app
        .get("/api/v1/requests?q=red&status=assigned", &app.agent)
        .await;
    assert_eq!(numbers(&assigned).len(), 5);
    let (_, closed) = app
        .get("/api/v1/requests?q=red&status=closed", &app.agent)
        .await;
    assert!(numbers(&closed).is_empty());
}
