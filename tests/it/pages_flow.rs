//! The request flow on the pages, over plain HTTP: service-level bars (L3, L4, A16), the at-risk
//! and overdue queues on the home page (A16), registering a message of the intake queue (L4, A5,
//! A6), escalation (A19), attachments (Q3) and pre-printed service orders (X2).

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use reqwest::multipart;
use serde_json::json;
use ventanilla::config::Config;
use ventanilla_domain::permissions::Role;

use crate::helpers::{TestApp, fresh_db};
use crate::pages::{Browser, PASSWORD, Page, account};
use crate::service_levels::new_sheet_version;

impl Browser {
    /// Posts a `multipart/form-data` form: text fields, then files `(input, filename, bytes)`.
    pub async fn post_multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, Vec<u8>)],
    ) -> Page {
        let mut form = multipart::Form::new();
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        for (input, filename, bytes) in files {
            let part = multipart::Part::bytes(bytes.clone())
                .file_name(filename.to_string())
                .mime_str("application/pdf")
                .expect("mime");
            form = form.part(input.to_string(), part);
        }
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, self.cookie_header())
            .multipart(form)
            .send()
            .await
            .expect("post multipart");
        self.keep(response).await
    }
}

pub(crate) async fn signed_in(
    app: &TestApp,
    username: &str,
    role: Role,
    area: Option<&str>,
) -> Browser {
    account(app, username, role, area).await;
    let mut browser = Browser::new(app);
    let signed = browser.sign_in(username, PASSWORD).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    browser
}

/// A message of the intake queue, as the API (or the mail gateway) leaves it.
pub(crate) async fn intake_message(app: &TestApp) -> String {
    let (status, body) = app
        .post(
            "/api/v1/requests",
            &app.agent,
            json!({"channel": "email", "subject": "Ayuda con mi correo",
                   "description": "Hola, no puedo entrar a mi correo desde ayer. Gracias."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["request"]["status"], "received");
    body["number"].as_str().expect("number").to_string()
}

/// A phone request for mail service, and an agent signed in on the pages.
async fn agent_and_request(app: &TestApp, seed: u64) -> (Browser, String) {
    let requester = app.requester(seed, "none").await;
    let number = app
        .phone_request(requester, app.service_id("Correo electrónico").await)
        .await;
    (
        signed_in(app, "agente.web", Role::Agent, None).await,
        number,
    )
}

/// The person of the script's forms: a new requester, valid CURP.
pub(crate) fn person<'a>(
    token: &'a str,
    unit: &'a str,
    udi_role: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", token),
        ("full_name", "Wilfrido Boxo"),
        ("curp", "BOXW310820HNERXN09"),
        ("unit_id", unit),
        ("udi_role", udi_role),
        ("email", "wboxo@example.org"),
    ]
}

#[tokio::test]
async fn the_request_page_draws_both_clocks_with_time_left_risk_and_overdue_in_words_l3_l4_a16() {
    let app = TestApp::spawn().await;
    let service = new_sheet_version(&app, "Correo electrónico", |sheet| {
        sheet["response_target_minutes"] = json!(60);
        sheet["resolution_target_minutes"] = json!(240);
    })
    .await;
    let requester = app.requester(61, "none").await;
    let number = app.phone_request(requester, service).await; // 10:00, response due 11:00
    let mut browser = signed_in(&app, "agente.web", Role::Agent, None).await;
    let path = format!("/requests/{number}");

    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body.matches("<progress class=\"sla-bar\"").count(), 2);
    assert!(page.body.contains("Respuesta") && page.body.contains("Solución"));
    assert!(page.body.contains("Quedan 1 h hábiles"), "{}", page.body);
    assert!(page.body.contains("Tiempo hábil usado: 0 min / 1 h (0 %)"));
    assert!(!page.body.contains("sla-risk"));

    // 10:50: the response clock is past 75 % — said in words, not only by colour.
    app.set_now("2026-03-10T10:50:00-06:00[America/Mexico_City]");
    let page = browser.get(&path).await;
    assert!(page.body.contains("class=\"sla sla-running sla-risk\""));
    assert!(page.body.contains("En riesgo · En curso"), "{}", page.body);
    assert!(page.body.contains("value=\"83\""), "the bar at 83 %");
    assert!(page.body.contains("Quedan 10 min hábiles"));
    let home = browser.get("/ui/home").await;
    assert!(
        home.body.contains("id=\"count-at_risk\">1<"),
        "{}",
        home.body
    );
    assert!(home.body.contains("id=\"count-breached\">0<"));

    // 11:10: overdue by ten business minutes.
    app.set_now("2026-03-10T11:10:00-06:00[America/Mexico_City]");
    let page = browser.get(&path).await;
    assert!(
        page.body.contains("class=\"sla sla-breached\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("Vencido por 10 min hábiles"));
    assert!(page.body.contains("value=\"100\""), "the bar is full");
    let home = browser.get("/").await;
    assert!(home.body.contains("id=\"count-breached\">1<"));
    let breached = home.body.split("id=\"q-breached\"").nth(1).unwrap_or("");
    assert!(breached.contains(&number), "listed in the overdue queue");
}

#[tokio::test]
async fn a_paused_request_says_its_clock_is_stopped_l4() {
    let app = TestApp::spawn().await;
    let requester = app.requester(62, "none").await;
    let number = app
        .phone_request(requester, app.service_id("Correo electrónico").await)
        .await;
    for (step, body) in [
        ("start", json!({})),
        (
            "wait",
            json!({"reason": "Esperamos la captura de pantalla."}),
        ),
    ] {
        let (status, answer) = app
            .post(
                &format!("/api/v1/requests/{number}/actions/{step}"),
                &app.engineer_mail,
                body,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    let mut browser = signed_in(&app, "agente.web", Role::Agent, None).await;
    let page = browser.get(&format!("/requests/{number}")).await;
    assert!(page.body.contains("En pausa (en espera)"), "{}", page.body);
}

#[tokio::test]
async fn an_intake_message_is_registered_from_its_page_and_leaves_the_queue_l4_a5_a6() {
    let app = TestApp::spawn().await;
    let number = intake_message(&app).await;
    let unit = app.unit_id("ESCOM").await.to_string();
    let mail_service = app.service_id("Correo electrónico").await.to_string();
    let udi_service = app.service_id("Web hosting").await.to_string();
    let mut browser = signed_in(&app, "agente.web", Role::Agent, None).await;
    let live = browser.get("/ui/home").await;
    assert!(
        live.body.contains("id=\"count-intake\">1<"),
        "{}",
        live.body
    );

    let item = browser.get(&format!("/requests/{number}")).await;
    assert!(
        item.body
            .contains(&format!("href=\"/requests/{number}/register\""))
    );
    assert!(
        item.body.contains("Sin plazos"),
        "no clocks before registration"
    );
    let form = browser.get(&format!("/requests/{number}/register")).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("no puedo entrar a mi correo desde ayer"));
    assert!(
        form.body
            .contains(&format!("name=\"intake\" value=\"{number}\""))
    );
    assert!(
        form.body.contains("id=\"f-q\""),
        "the script's search widget"
    );
    assert!(
        !form.body.contains("id=\"f-subject\""),
        "the message is the problem"
    );
    let token = Browser::token(&form);

    // L1: the eligibility is checked against the message's channel, before anything is written.
    let mut refused = person(&token, &unit, "none");
    refused.extend([("intake", number.as_str()), ("service_id", &udi_service)]);
    let page = browser.post("/requests/new", &refused).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Jefe de la Unidad de Informática"));
    assert!(
        page.body.contains("value=\"Wilfrido Boxo\""),
        "typed data kept"
    );
    assert!(
        page.body.contains("Ayuda con mi correo"),
        "still the message"
    );

    let mut form = person(&token, &unit, "none");
    form.extend([("intake", number.as_str()), ("service_id", &mail_service)]);
    let done = browser.post("/requests/new", &form).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        done.location.as_deref(),
        Some(format!("/requests/{number}?new=1").as_str())
    );
    let (_, detail) = app
        .get(&format!("/api/v1/requests/{number}"), &app.agent)
        .await;
    assert_eq!(detail["status"], "assigned", "{detail}");
    assert_eq!(detail["requester_name"], "Wilfrido Boxo");
    assert!(
        detail["timeline"]
            .as_array()
            .expect("timeline")
            .iter()
            .any(|e| e["kind"] == "registered")
    );
    let live = browser.get("/ui/home").await;
    assert!(
        live.body.contains("id=\"count-intake\">0<"),
        "left the intake queue"
    );
    let page = browser.get(&format!("/requests/{number}")).await;
    assert!(
        page.body.contains("<progress class=\"sla-bar\""),
        "clocks now run"
    );

    // Registering twice is refused with the reason.
    let again = browser.post("/requests/new", &form).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("ya se registró"), "{}", again.body);
}

#[tokio::test]
async fn escalating_needs_the_circumstances_and_shows_on_the_timeline_a19() {
    let app = TestApp::spawn().await;
    let (mut browser, number) = agent_and_request(&app, 63).await;
    let path = format!("/requests/{number}");
    let page = browser.get(&path).await;
    assert!(page.body.contains("id=\"form-escalate\""));
    let token = Browser::token(&page);
    let escalate = format!("{path}/escalate");

    let short = browser
        .post(&escalate, &[("csrf", &token), ("circumstances", "urge")])
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.body.contains("id=\"err-escalate-circumstances\""));
    assert!(short.body.contains("al menos 10 caracteres"));
    assert!(short.body.contains(">urge</textarea>"), "typed text kept");
    let forged = browser
        .post(
            &escalate,
            &[("circumstances", "Sin respuesta del área en tres días.")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "CSRF");

    let done = browser
        .post(
            &escalate,
            &[
                ("csrf", &token),
                ("circumstances", "Sin respuesta del área en tres días."),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = browser.get(&path).await;
    let timeline = page.body.split("id=\"timeline\"").nth(1).unwrap_or("");
    assert!(timeline.contains("Escalada"), "{timeline}");
    assert!(timeline.contains("Sin respuesta del área en tres días."));

    // Engineers do not escalate (A19 is CAU's).
    let mut engineer = signed_in(
        &app,
        "ing.web",
        Role::Engineer,
        Some("Monitoreo y Servicios Computacionales"),
    )
    .await;
    let theirs = engineer.get(&path).await;
    assert!(!theirs.body.contains("id=\"form-escalate\""));
    let token = Browser::token(&theirs);
    let refused = engineer
        .post(
            &escalate,
            &[
                ("csrf", &token),
                ("circumstances", "Quiero escalar esta solicitud."),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_file_is_attached_from_the_request_page_and_downloaded_from_the_timeline_q3() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = fresh_db(dir.path()).await;
    let config = Config {
        max_attachment_bytes: 1024 * 1024,
        ..Config::default()
    };
    let app = TestApp::spawn_with(db, dir, config).await;
    let (mut browser, number) = agent_and_request(&app, 64).await;
    let path = format!("/requests/{number}");
    let page = browser.get(&path).await;
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    assert!(page.body.contains("Hasta 1 MiB."));
    let token = Browser::token(&page);
    let upload = format!("{path}/attachments");

    let without_token = browser
        .post_multipart(
            &upload,
            &[],
            &[("file", "captura.pdf", b"%PDF-1.4".to_vec())],
        )
        .await;
    assert_eq!(without_token.status, StatusCode::FORBIDDEN);
    let empty = browser
        .post_multipart(&upload, &[("csrf", &token)], &[])
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("id=\"err-upload-file\""));
    let big = browser
        .post_multipart(
            &upload,
            &[("csrf", &token)],
            &[("file", "enorme.pdf", vec![b'x'; 1024 * 1024 + 10])],
        )
        .await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(big.body.contains("id=\"err-upload-file\""), "{}", big.body);
    assert!(big.body.contains("supera el límite de 1 MiB"));

    let content = b"%PDF-1.4 captura de la pantalla de error".to_vec();
    let done = browser
        .post_multipart(
            &upload,
            &[("csrf", &token)],
            &[("file", "captura.pdf", content.clone())],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = browser.get(&path).await;
    let timeline = page.body.split("id=\"timeline\"").nth(1).unwrap_or("");
    let marker = format!("href=\"/requests/{number}/attachments/");
    let link = timeline.split(&marker).nth(1).expect("a download link");
    let id = link.split('"').next().unwrap_or("");
    assert!(timeline.contains("captura.pdf"));
    let response = browser
        .client
        .get(format!("{}/requests/{number}/attachments/{id}", app.base))
        .header(COOKIE, browser.cookie_header())
        .send()
        .await
        .expect("download");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.bytes().await.expect("bytes").to_vec(), content);
    // Without a session the file is not given.
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(format!("{}/requests/{number}/attachments/{id}", app.base))
        .send()
        .await
        .expect("download");
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_script_asks_for_the_sheets_documents_and_attaches_them_with_the_request_q3() {
    let app = TestApp::spawn().await;
    let service = new_sheet_version(&app, "Correo electrónico", |sheet| {
        sheet["required_attachments"] = json!(["Oficio de solicitud"]);
    })
    .await
    .to_string();
    let unit = app.unit_id("ESCOM").await.to_string();
    let mut browser = signed_in(&app, "agente.web", Role::Agent, None).await;
    let panel = browser
        .get(&format!("/ui/service-panel?service_id={service}"))
        .await;
    assert!(panel.body.contains("name=\"doc_0\""), "{}", panel.body);
    assert!(panel.body.contains("Oficio de solicitud"));
    let form = browser.get("/requests/new").await;
    assert!(form.body.contains("enctype=\"multipart/form-data\""));
    let token = Browser::token(&form);
    let mut fields = person(&token, &unit, "none");
    fields.extend([
        ("channel", "phone"),
        ("subject", "Cuenta de correo nueva"),
        ("description", "Necesita una cuenta para el proyecto."),
        ("service_id", &service),
    ]);

    // Without a message of the intake queue there are no message files to point at.
    let mut pointing = fields.clone();
    pointing.push(("doc_0_in_message", "1"));
    let missing = browser
        .post_multipart("/requests/new", &pointing, &[])
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body.contains("id=\"err-attachments\""));
    assert!(
        missing
            .body
            .contains("Falta adjuntar «Oficio de solicitud»"),
        "{}",
        missing.body
    );
    assert!(missing.body.contains("value=\"Cuenta de correo nueva\""));
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM requests")
        .fetch_one(app.db.read())
        .await
        .expect("count");
    assert_eq!(count, 0, "nothing registered without the document");

    let done = browser
        .post_multipart(
            "/requests/new",
            &fields,
            &[("doc_0", "oficio.pdf", b"%PDF-1.4 oficio".to_vec())],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let location = done.location.expect("location");
    let page = browser.get(&location).await;
    assert!(page.body.contains("oficio.pdf"), "{}", page.body);
}

#[tokio::test]
async fn the_script_registers_a_paper_service_order_and_says_every_refusal_at_once_x2() {
    let app = TestApp::spawn().await;
    let unit = app.unit_id("ESCOM").await.to_string();
    let service = app.service_id("Red alámbrica").await.to_string();
    let mut browser = signed_in(&app, "agente.web", Role::Agent, None).await;
    let form = browser.get("/requests/new").await;
    assert!(form.body.contains("id=\"service-order\""));
    let token = Browser::token(&form);
    let mut fields = person(&token, &unit, "head");
    fields.extend([
        ("channel", "service_order"),
        ("subject", "Cableado del laboratorio"),
        ("description", "Se instalaron 4 nodos de red."),
        ("service_id", &service),
        ("so_delivered_at", "cau"),
        ("so_stamped", "1"),
    ]);

    // A system number, a yellow copy, unsigned: every reason at once, beside the order.
    let mut wrong = fields.clone();
    wrong.extend([
        ("so_number", "SS-2026-000001"),
        ("so_copy", "yellow_copy"),
        ("so_service_date", "2026-03-09"),
    ]);
    let page = browser.post("/requests/new", &wrong).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    let refusal = page
        .body
        .split("id=\"err-service_order\"")
        .nth(1)
        .unwrap_or("");
    assert!(
        refusal.contains("generada por el sistema")
            && refusal.contains("copias amarillas")
            && refusal.contains("firma"),
        "{}",
        page.body
    );
    assert!(page.body.contains("value=\"SS-2026-000001\""), "typed kept");
    let mut unreadable = fields.clone();
    unreadable.extend([
        ("so_number", "A-1"),
        ("so_copy", "original"),
        ("so_service_date", "ayer"),
    ]);
    let page = browser.post("/requests/new", &unreadable).await;
    assert!(page.body.contains("id=\"err-so_service_date\""));

    let mut good = fields.clone();
    good.extend([
        ("so_number", "A-1002"),
        ("so_copy", "original"),
        ("so_service_date", "2026-03-03"),
        ("so_signed", "1"),
    ]);
    let done = browser.post("/requests/new", &good).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let location = done.location.expect("location");
    let number = location
        .trim_start_matches("/requests/")
        .split('?')
        .next()
        .unwrap_or("");
    let (_, detail) = app
        .get(&format!("/api/v1/requests/{number}"), &app.agent)
        .await;
    let intake = &detail["timeline"][0]["payload"]["intake"];
    assert_eq!(intake["service_order"]["number"], "A-1002", "{detail}");
    assert_eq!(intake["business_days_late"], 5);
}

#[tokio::test]
async fn a_document_already_among_the_messages_files_need_not_be_uploaded_again_q3_l4() {
    let app = TestApp::spawn().await;
    let service = new_sheet_version(&app, "Correo electrónico", |sheet| {
        sheet["required_attachments"] = json!(["Oficio de solicitud"]);
    })
    .await
    .to_string();
    let unit = app.unit_id("ESCOM").await.to_string();
    let number = intake_message(&app).await;
    let mut browser = signed_in(&app, "agente.web", Role::Agent, None).await;
    let path = format!("/requests/{number}");
    let token = Browser::token(&browser.get(&path).await);

    // The message has no files yet: the document must be uploaded.
    let panel = browser
        .get(&format!(
            "/ui/service-panel?service_id={service}&intake={number}"
        ))
        .await;
    assert!(!panel.body.contains("doc_0_in_message"), "{}", panel.body);
    assert!(
        !panel.body.contains("name=\"test\""),
        "no first-level tests to record"
    );
    let mut fields = person(&token, &unit, "none");
    fields.extend([
        ("intake", number.as_str()),
        ("service_id", &service),
        ("doc_0_in_message", "1"),
    ]);
    let refused = browser.post_multipart("/requests/new", &fields, &[]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("Falta adjuntar «Oficio de solicitud»")
    );

    // The message's file is there: the agent says the document is among them.
    let attached = browser
        .post_multipart(
            &format!("{path}/attachments"),
            &[("csrf", &token)],
            &[("file", "oficio.pdf", b"%PDF-1.4 oficio".to_vec())],
        )
        .await;
    assert_eq!(attached.status, StatusCode::SEE_OTHER, "{}", attached.body);
    let panel = browser
        .get(&format!(
            "/ui/service-panel?service_id={service}&intake={number}"
        ))
        .await;
    assert!(
        panel.body.contains("name=\"doc_0_in_message\""),
        "{}",
        panel.body
    );
    let done = browser.post_multipart("/requests/new", &fields, &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let (_, detail) = app.get(&format!("/api/v1{path}"), &app.agent).await;
    assert_eq!(detail["status"], "assigned", "{detail}");
    assert_eq!(detail["attachments"].as_array().map(Vec::len), Some(1));
}
