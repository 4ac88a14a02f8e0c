//! Requests through the API: eligibility (L1, X1, Q2), the life cycle with its roles (A11–A19),
//! requirements to confirm (V5), the intake queue (L4), changes of conditions (V6),
//! attachments (Q3) and bad input.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, assert_problem};

#[tokio::test]
async fn an_ordinary_requester_asking_for_a_udi_service_is_refused_with_the_reason_l1() {
    let app = TestApp::spawn().await;
    let ordinary = app.requester(20, "none").await;
    let service = app.service_id("Red inalámbrica").await;
    let got = app
        .post(
            "/api/v1/requests",
            &app.agent,
            json!({"channel": "phone", "requester_id": ordinary, "service_id": service,
                   "subject": "Sin wifi", "description": "No hay red en el edificio 2."}),
        )
        .await;
    assert_problem(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "ineligible_udi_only",
        Some("service_id"),
    );
    assert!(
        got.1["detail"]
            .as_str()
            .unwrap()
            .contains("Jefe de la Unidad de Informática")
    );
    let (_, page) = app.get("/api/v1/requests", &app.agent).await;
    assert!(
        page["items"].as_array().unwrap().is_empty(),
        "nothing half-written"
    );

    let head = app.requester(21, "head").await;
    let member = app.requester(22, "work_group").await;
    app.phone_request(head, service).await;
    app.phone_request(member, service).await;
}

#[tokio::test]
async fn email_accounts_are_requested_in_person_or_by_the_head_of_it_q2() {
    let app = TestApp::spawn().await;
    let ordinary = app.requester(23, "none").await;
    let service = app
        .service_id("Creación de cuenta de correo electrónico")
        .await;
    let ask = |channel: &str| {
        json!({"channel": channel, "requester_id": ordinary, "service_id": service,
               "subject": "Cuenta nueva", "description": "Necesito una cuenta institucional."})
    };
    let by_phone = app.post("/api/v1/requests", &app.agent, ask("phone")).await;
    assert_problem(
        &by_phone,
        StatusCode::UNPROCESSABLE_ENTITY,
        "ineligible_udi_or_in_person",
        Some("service_id"),
    );
    let in_person = app
        .post("/api/v1/requests", &app.agent, ask("in_person"))
        .await;
    assert_eq!(in_person.0, StatusCode::CREATED, "{}", in_person.1);
}

async fn step(
    app: &TestApp,
    number: &str,
    step: &str,
    token: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    app.post(
        &format!("/api/v1/requests/{number}/actions/{step}"),
        token,
        body,
    )
    .await
}

#[tokio::test]
async fn a_request_goes_from_phone_call_to_closed_and_the_timeline_records_every_step() {
    let app = TestApp::spawn().await;
    let requester = app.requester(30, "none").await;
    let service = app.service_id("Correo electrónico").await;
    let number = app.phone_request(requester, service).await;

    let assign = step(
        &app,
        &number,
        "assign",
        &app.agent,
        json!({"assignee_id": app.engineer_mail_id}),
    )
    .await;
    assert_eq!(assign.1["status"], "assigned", "{}", assign.1);
    // Another area's engineer may not touch it.
    let other = step(&app, &number, "start", &app.engineer_network, json!({})).await;
    assert_problem(&other, StatusCode::FORBIDDEN, "not_of_assigned_area", None);
    assert_eq!(
        step(&app, &number, "start", &app.engineer_mail, json!({}))
            .await
            .1["status"],
        "in_progress"
    );
    let wait_without_reason = step(&app, &number, "wait", &app.engineer_mail, json!({})).await;
    assert_problem(
        &wait_without_reason,
        StatusCode::UNPROCESSABLE_ENTITY,
        "reason_required",
        Some("reason"),
    );
    assert_eq!(
        step(
            &app,
            &number,
            "wait",
            &app.engineer_mail,
            json!({"reason": "Esperamos la nueva contraseña del usuario"})
        )
        .await
        .1["status"],
        "waiting"
    );
    assert_eq!(
        step(&app, &number, "resume", &app.engineer_mail, json!({}))
            .await
            .1["status"],
        "in_progress"
    );
    // The engineer may not verify their own solution (A18) and the agent may not solve.
    assert_problem(
        &step(&app, &number, "solve", &app.agent, json!({"reason": "x"})).await,
        StatusCode::FORBIDDEN,
        "role_not_allowed",
        None,
    );
    assert_eq!(
        step(
            &app,
            &number,
            "solve",
            &app.engineer_mail,
            json!({"reason": "Se restableció la contraseña"})
        )
        .await
        .1["status"],
        "solved"
    );
    assert_problem(
        &step(&app, &number, "verify", &app.engineer_mail, json!({})).await,
        StatusCode::FORBIDDEN,
        "role_not_allowed",
        None,
    );
    assert_eq!(
        step(&app, &number, "verify", &app.agent, json!({})).await.1["status"],
        "validating"
    );
    assert_eq!(
        step(
            &app,
            &number,
            "close",
            &app.agent,
            json!({"reason": "El usuario confirmó por teléfono"})
        )
        .await
        .1["status"],
        "closed"
    );
    // Closed: only an L13 follow-up (reopen) is possible.
    assert_problem(
        &step(&app, &number, "start", &app.engineer_mail, json!({})).await,
        StatusCode::CONFLICT,
        "transition_not_allowed",
        None,
    );

    let (_, request) = app
        .get(&format!("/api/v1/requests/{number}"), &app.agent)
        .await;
    let kinds: Vec<&str> = request["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "registered",
            "assign",
            "assign",
            "start",
            "wait",
            "resume",
            "solve",
            "verify",
            "close"
        ]
    );
    let wait = &request["timeline"][4];
    assert_eq!(wait["reason"], "Esperamos la nueva contraseña del usuario");
    assert_eq!(wait["from_status"], "in_progress");
    assert_eq!(wait["to_status"], "waiting");
    assert_eq!(wait["actor_name"], "Ingeniería de correo");
    assert_eq!(request["assignee_name"], "Ingeniería de correo");
}

#[tokio::test]
async fn only_the_coordinator_cancels_and_must_say_why_a15() {
    let app = TestApp::spawn().await;
    let requester = app.requester(31, "none").await;
    let service = app.service_id("Correo electrónico").await;
    let number = app.phone_request(requester, service).await;
    for token in [&app.agent, &app.supervisor, &app.engineer_mail] {
        let got = step(
            &app,
            &number,
            "cancel",
            token,
            json!({"reason": "Duplicada"}),
        )
        .await;
        assert_eq!(got.0, StatusCode::FORBIDDEN, "{}", got.1);
    }
    assert_problem(
        &step(&app, &number, "cancel", &app.coordinator, json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "reason_required",
        Some("reason"),
    );
    let ok = step(
        &app,
        &number,
        "cancel",
        &app.coordinator,
        json!({"reason": "El usuario lo pidió por teléfono"}),
    )
    .await;
    assert_eq!(ok.1["status"], "cancelled");
    // L13: a cancelled request with an anomaly can be expedited (reopened) with the circumstances.
    let reopened = step(
        &app,
        &number,
        "reopen",
        &app.supervisor,
        json!({"reason": "Se canceló por error: el usuario sigue sin correo"}),
    )
    .await;
    assert_eq!(reopened.1["status"], "reopened");
    let (_, request) = app
        .get(&format!("/api/v1/requests/{number}"), &app.agent)
        .await;
    assert_eq!(request["reopen_count"], 1);
}

#[tokio::test]
async fn a_written_request_missing_requirements_waits_to_confirm_then_is_assigned_v5() {
    let app = TestApp::spawn().await;
    let (_, areas) = app.get("/api/v1/areas", &app.agent).await;
    let area = areas
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Electrónica")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (_, created) = app
        .post(
            "/api/v1/services",
            &app.admin,
            json!({"name": "Revisión de equipo", "sheet": {
                "area_id": area, "eligibility": "udi",
                "requirements": ["Oficio firmado", "Número de inventario"],
                "response_target_minutes": 60, "resolution_target_minutes": 600}}),
        )
        .await;
    let service = created["id"].as_i64().unwrap();
    let head = app.requester(32, "head").await;
    let (status, body) = app
        .post(
            "/api/v1/requests",
            &app.agent,
            json!({"channel": "official_letter", "requester_id": head, "service_id": service,
                   "subject": "Revisión", "description": "Revisar equipo.", "confirmed_requirements": ["Oficio firmado"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["request"]["status"], "to_confirm");
    assert_eq!(
        body["request"]["timeline"][0]["payload"]["missing_requirements"],
        json!(["Número de inventario"])
    );
    let number = body["number"].as_str().unwrap();
    let still = step(
        &app,
        number,
        "confirm_requirements",
        &app.agent,
        json!({"confirmed_requirements": ["Oficio firmado"]}),
    )
    .await;
    assert_eq!(still.1["status"], "to_confirm");
    let done = step(
        &app,
        number,
        "confirm_requirements",
        &app.agent,
        json!({"confirmed_requirements": ["Oficio firmado", "Número de inventario"], "reason": "Confirmado por teléfono"}),
    )
    .await;
    assert_eq!(done.1["status"], "assigned", "{}", done.1);
}

#[tokio::test]
async fn weekend_mail_waits_in_the_intake_queue_until_an_agent_registers_it_l4() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post(
            "/api/v1/requests",
            &app.agent,
            json!({"channel": "email", "subject": "Ayuda con mi correo", "description": "No puedo entrar.",
                   "received_at": "2026-03-07T11:00:00-06:00"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["request"]["status"], "received");
    assert_eq!(body["request"]["received_at"], "2026-03-07T17:00:00Z");
    let number = body["number"].as_str().unwrap().to_string();
    let (_, queue) = app
        .get("/api/v1/requests?status=received", &app.agent)
        .await;
    assert_eq!(queue["items"][0]["number"], number.as_str());

    let incomplete = step(&app, &number, "register", &app.agent, json!({})).await;
    assert_problem(
        &incomplete,
        StatusCode::UNPROCESSABLE_ENTITY,
        "register_needs_requester_and_service",
        Some("requester_id"),
    );
    let requester = app.requester(33, "none").await;
    let service = app.service_id("Correo electrónico").await;
    let registered = step(
        &app,
        &number,
        "register",
        &app.agent,
        json!({"requester_id": requester, "service_id": service}),
    )
    .await;
    assert_eq!(registered.1["status"], "assigned", "{}", registered.1);
    let (_, request) = app
        .get(&format!("/api/v1/requests/{number}"), &app.agent)
        .await;
    assert_eq!(request["requester_id"], requester);
    assert_eq!(request["sheet_version"], 1);
}

#[tokio::test]
async fn a_change_of_conditions_updates_the_description_and_keeps_the_old_one_v6() {
    let app = TestApp::spawn().await;
    let requester = app.requester(34, "none").await;
    let service = app.service_id("Correo electrónico").await;
    let number = app.phone_request(requester, service).await;
    let (status, _) = app
        .post(
            &format!("/api/v1/requests/{number}/conditions"),
            &app.agent,
            json!({"description": "Ahora también necesita recuperar su buzón archivado.", "reason": "El usuario llamó de nuevo"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, request) = app
        .get(&format!("/api/v1/requests/{number}"), &app.agent)
        .await;
    assert_eq!(
        request["description"],
        "Ahora también necesita recuperar su buzón archivado."
    );
    let change = request["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "conditions_changed")
        .unwrap();
    assert_eq!(
        change["payload"]["before"],
        "Desde ayer el correo institucional rechaza mi contraseña."
    );
}

#[tokio::test]
async fn attachments_are_stored_whole_and_an_oversized_one_is_refused_q3() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::helpers::fresh_db(dir.path()).await;
    let config = ventanilla::config::Config {
        max_attachment_bytes: 64 * 1024,
        ..Default::default()
    };
    let app = TestApp::spawn_with(db, dir, config).await;
    let requester = app.requester(35, "none").await;
    let service = app.service_id("Correo electrónico").await;
    let number = app.phone_request(requester, service).await;
    let url = format!("{}/api/v1/requests/{number}/attachments", app.base);
    let content: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(content.clone())
            .file_name("oficio.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    let (status, meta) = crate::helpers::read(
        app.client
            .post(&url)
            .bearer_auth(&app.agent)
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{meta}");
    let id = meta["id"].as_i64().unwrap();
    let download = app
        .client
        .get(format!("{url}/{id}"))
        .bearer_auth(&app.agent)
        .send()
        .await
        .unwrap();
    assert_eq!(download.bytes().await.unwrap().to_vec(), content);

    let big = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(vec![7u8; 70 * 1024]).file_name("grande.bin"),
    );
    let got = crate::helpers::read(
        app.client
            .post(&url)
            .bearer_auth(&app.agent)
            .multipart(big)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(
        &got,
        StatusCode::PAYLOAD_TOO_LARGE,
        "attachment_too_large",
        Some("file"),
    );
    let (_, request) = app
        .get(&format!("/api/v1/requests/{number}"), &app.agent)
        .await;
    assert_eq!(request["attachments"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn bad_input_gets_a_problem_that_names_what_is_wrong() {
    let app = TestApp::spawn().await;
    let malformed = crate::helpers::read(
        app.client
            .post(format!("{}/api/v1/requests", app.base))
            .bearer_auth(&app.agent)
            .header("content-type", "application/json")
            .body("{\"channel\": \"phone\",")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&malformed, StatusCode::BAD_REQUEST, "malformed_json", None);
    let wrong_type = app
        .post(
            "/api/v1/requests",
            &app.agent,
            json!({"channel": "phone", "service_id": "ocho", "subject": "x", "description": "y"}),
        )
        .await;
    assert_problem(
        &wrong_type,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
        Some("service_id"),
    );
    let channel = app
        .post(
            "/api/v1/requests",
            &app.agent,
            json!({"channel": "fax", "subject": "Asunto", "description": "y"}),
        )
        .await;
    assert_problem(
        &channel,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_channel",
        Some("channel"),
    );
    let service = app.post("/api/v1/requests", &app.agent, json!({"channel": "phone", "service_id": 99999, "subject": "Asunto", "description": "y"})).await;
    assert_problem(
        &service,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_service",
        Some("service_id"),
    );
    assert_problem(
        &app.get("/api/v1/requests/SS-2026-999999", &app.agent).await,
        StatusCode::NOT_FOUND,
        "unknown_request",
        None,
    );
    assert_problem(
        &app.get("/api/v1/requests/2026-1", &app.agent).await,
        StatusCode::BAD_REQUEST,
        "request_number_format",
        Some("number"),
    );
    assert_problem(
        &app.post(
            "/api/v1/requests/SS-2026-000001/actions/fly",
            &app.agent,
            json!({}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "unknown_step",
        None,
    );
    assert_problem(
        &app.get("/api/v1/requests?status=lost", &app.agent).await,
        StatusCode::BAD_REQUEST,
        "unknown_status",
        Some("status"),
    );
    assert_problem(
        &app.get("/api/v1/requests", "not-a-token").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        None,
    );
    assert_problem(
        &app.get("/api/v1/nowhere", &app.agent).await,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    );
    // The administrator keeps the catalogue and does not register requests.
    let admin = app
        .post(
            "/api/v1/requests",
            &app.admin,
            json!({"channel": "phone", "subject": "Asunto", "description": "y"}),
        )
        .await;
    assert_problem(&admin, StatusCode::FORBIDDEN, "forbidden", None);
}

#[tokio::test]
async fn the_list_filters_and_pages_and_flags_duplicates_a8() {
    let app = TestApp::spawn().await;
    let requester = app.requester(36, "none").await;
    let service = app.service_id("Correo electrónico").await;
    let first = app.phone_request(requester, service).await;
    let (_, second) = app
        .post(
            "/api/v1/requests",
            &app.agent,
            json!({"channel": "phone", "requester_id": requester, "service_id": service, "subject": "Otra vez el correo", "description": "Sigue sin funcionar."}),
        )
        .await;
    assert_eq!(second["possible_duplicates"], json!([first]));
    for _ in 0..3 {
        app.phone_request(requester, service).await;
    }
    let (_, page1) = app
        .get(
            &format!("/api/v1/requests?limit=2&requester_id={requester}&open=true"),
            &app.agent,
        )
        .await;
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        page1["items"][0]["number"], "SS-2026-000005",
        "newest first"
    );
    let cursor = page1["next_cursor"].as_i64().unwrap();
    let (_, page3) = app
        .get(
            &format!("/api/v1/requests?limit=2&cursor={cursor}"),
            &app.agent,
        )
        .await;
    assert_eq!(page3["items"][0]["number"], "SS-2026-000003");
    let (_, none) = app.get("/api/v1/requests?status=closed", &app.agent).await;
    assert!(none["items"].as_array().unwrap().is_empty());
    let (_, history) = app
        .get(
            &format!("/api/v1/requesters/{requester}/requests"),
            &app.agent,
        )
        .await;
    assert_eq!(history.as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn a_paper_service_order_is_registered_only_when_every_rule_holds_x2() {
    let app = TestApp::spawn().await;
    let head = app.requester(37, "head").await;
    let service = app.service_id("Red alámbrica").await;
    let order = |number: &str, copy: &str, service_date: &str, signed: bool| {
        json!({"channel": "service_order", "requester_id": head, "service_id": service,
               "subject": "Cableado del laboratorio", "description": "Se instalaron 4 nodos de red.",
               "service_order": {"number": number, "delivered_at": "cau", "copy": copy,
                                 "service_date": service_date, "signed": signed, "stamped": true}})
    };
    let missing = app
        .post("/api/v1/requests", &app.agent, json!({"channel": "service_order", "requester_id": head, "service_id": service, "subject": "Orden", "description": "x"}))
        .await;
    assert_problem(
        &missing,
        StatusCode::UNPROCESSABLE_ENTITY,
        "service_order_missing",
        Some("service_order"),
    );
    // Now is Tuesday 10 March 2026; Tuesday 3 March is five business days earlier.
    let late = app
        .post(
            "/api/v1/requests",
            &app.agent,
            order("A-1001", "original", "2026-03-02", true),
        )
        .await;
    assert_problem(
        &late,
        StatusCode::UNPROCESSABLE_ENTITY,
        "service_order_too_late",
        Some("service_order"),
    );
    let copy = app
        .post(
            "/api/v1/requests",
            &app.agent,
            order("SS-2026-000001", "yellow_copy", "2026-03-09", false),
        )
        .await;
    assert_problem(
        &copy,
        StatusCode::UNPROCESSABLE_ENTITY,
        "service_order_system_number",
        Some("service_order"),
    );
    let detail = copy.1["detail"].as_str().unwrap();
    assert!(
        detail.contains("copias amarillas") && detail.contains("firma"),
        "all reasons: {detail}"
    );

    let (status, created) = app
        .post(
            "/api/v1/requests",
            &app.agent,
            order("A-1002", "original", "2026-03-03", true),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let intake = &created["request"]["timeline"][0]["payload"]["intake"];
    assert_eq!(intake["business_days_late"], 5);
    assert_eq!(intake["counted_in"], "2026-03");
    assert_eq!(intake["service_order"]["number"], "A-1002");
}

#[tokio::test]
async fn the_requester_is_mailed_when_the_request_waits_on_them_or_is_cancelled_but_not_for_internal_steps()
 {
    let app = TestApp::spawn().await;
    let requester = app.requester(38, "none").await;
    let service = app.service_id("Correo electrónico").await;
    let number = app.phone_request(requester, service).await;
    step(
        &app,
        &number,
        "assign",
        &app.agent,
        json!({"assignee_id": app.engineer_mail_id}),
    )
    .await;
    step(&app, &number, "start", &app.engineer_mail, json!({})).await;
    step(
        &app,
        &number,
        "wait",
        &app.engineer_mail,
        json!({"reason": "Necesitamos una captura de pantalla del error"}),
    )
    .await;
    step(&app, &number, "resume", &app.engineer_mail, json!({})).await;
    step(
        &app,
        &number,
        "cancel",
        &app.coordinator,
        json!({"reason": "El usuario ya no lo necesita"}),
    )
    .await;
    let mails = ventanilla::db::outbox::list(&app.db, None, Some("status_changed"), 10)
        .await
        .unwrap();
    assert_eq!(mails.len(), 2, "wait and cancel only");
    assert!(
        mails
            .iter()
            .all(|m| m.recipient == "persona38@example.org" && m.subject.contains(&number))
    );
    assert!(
        mails
            .iter()
            .any(|m| m.body_text.contains("captura de pantalla"))
    );
}

/// Concurrent creates share a group commit (SQLite) and are read back together in its
/// transaction: each answer is its own request, and its possible duplicates are the same
/// requester's other open requests for the same service, whatever else shared the group (A8).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_each_read_back_their_own_request_and_duplicates_a8() {
    let app = TestApp::spawn().await;
    let correo = app.service_id("Correo electrónico").await;
    let primer_nivel = app.service_id("Atención de primer nivel").await;
    let mut people = Vec::new();
    for seed in 40..44 {
        people.push(app.requester(seed, "none").await);
    }
    let mut tasks = Vec::new();
    for i in 0..48 {
        let requester = people[i % people.len()];
        let service = if i % 3 == 0 { primer_nivel } else { correo };
        let client = app.client.clone();
        let url = format!("{}/api/v1/requests", app.base);
        let token = app.agent.clone();
        tasks.push(tokio::spawn(async move {
            let subject = format!("Solicitud simultánea {i}");
            let response = client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"channel": "phone", "requester_id": requester,
                    "service_id": service, "subject": subject,
                    "description": "Prueba de lectura por grupo."}))
                .send()
                .await
                .expect("send");
            assert_eq!(response.status(), StatusCode::CREATED);
            let body: serde_json::Value = response.json().await.expect("json");
            (requester, service, subject, body)
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("task"));
    }
    for (requester, service, subject, body) in &answers {
        let number = body["number"].as_str().expect("number");
        let request = &body["request"];
        assert_eq!(request["number"], number, "{body}");
        assert_eq!(request["subject"], subject.as_str(), "{body}");
        assert_eq!(request["requester_id"], *requester, "{body}");
        assert_eq!(request["service_id"], *service, "{body}");
        let kinds: Vec<&str> = request["timeline"]
            .as_array()
            .expect("timeline")
            .iter()
            .map(|e| e["kind"].as_str().expect("kind"))
            .collect();
        assert_eq!(kinds, ["registered", "assign"], "{body}");
        // Its duplicates: the same person and service, never itself, registered no later.
        let same: Vec<&str> = answers
            .iter()
            .filter(|(r, s, _, b)| r == requester && s == service && b["number"] != number)
            .map(|(_, _, _, b)| b["number"].as_str().expect("number"))
            .collect();
        let duplicates: Vec<&str> = body["possible_duplicates"]
            .as_array()
            .expect("duplicates")
            .iter()
            .map(|n| n.as_str().expect("number"))
            .collect();
        assert!(
            duplicates.iter().all(|d| same.contains(d)),
            "{number}: {duplicates:?} not all in {same:?}"
        );
        let mut once = duplicates.clone();
        once.sort_unstable();
        once.dedup();
        assert_eq!(
            once.len(),
            duplicates.len(),
            "{number}: listed twice in {duplicates:?}"
        );
        let earlier = same.iter().filter(|n| **n < number).count();
        assert!(duplicates.len() >= earlier, "{number}: {duplicates:?}");
    }
}
