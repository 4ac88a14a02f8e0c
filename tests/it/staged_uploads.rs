//! The attention script keeps the files chosen when the form comes back with errors (issue 4,
//! Q3): they are staged then, shown as «Ya elegido», carried by a hidden token, and become
//! the request's attachments in the registration's own transaction; a form that registers at
//! once writes its files only as attachments. Only the staff member who
//! chose a file may use it, and the periodic job removes what nobody used within 24 hours.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};
use ventanilla::config::Config;
use ventanilla::db::Engine;
use ventanilla::state::AppState;
use ventanilla_domain::permissions::Role;

use crate::helpers::TestApp;
use crate::pages::{Browser, PASSWORD, Page};
use crate::pages_flow::{intake_message, person, signed_in};
use crate::service_levels::new_sheet_version;

const OFICIO: &[u8] = b"%PDF-1.4 oficio de solicitud firmado";
const CREDENCIAL: &[u8] = b"%PDF-1.4 credencial vigente";

/// Both documents of `service_with_documents`, chosen on the form.
fn both_documents() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    vec![
        ("doc_0", "oficio.pdf", OFICIO.to_vec()),
        ("doc_1", "credencial.pdf", CREDENCIAL.to_vec()),
    ]
}

/// A service whose sheet asks for two documents (Q3).
async fn service_with_documents(app: &TestApp) -> String {
    new_sheet_version(app, "Correo electrónico", |sheet| {
        sheet["required_attachments"] = json!(["Oficio de solicitud", "Credencial"]);
    })
    .await
    .to_string()
}

/// An agent on the new-request page, with a service whose sheet asks for documents.
struct ScriptForm {
    browser: Browser,
    token: String,
    unit: String,
    service: String,
}

async fn script_form(app: &TestApp, username: &str) -> ScriptForm {
    let service = service_with_documents(app).await;
    let unit = app.unit_id("ESCOM").await.to_string();
    let mut browser = signed_in(app, username, Role::Agent, None).await;
    let token = Browser::token(&browser.get("/requests/new").await);
    ScriptForm {
        browser,
        token,
        unit,
        service,
    }
}

/// A phone request of a new person for `service`, as typed on the form.
fn phone_request<'a>(
    token: &'a str,
    unit: &'a str,
    service: &'a str,
    description: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut fields = person(token, unit, "none");
    fields.extend([
        ("channel", "phone"),
        ("description", description),
        ("service_id", service),
    ]);
    fields
}

/// The form sent without a subject and with only the first document: it comes back with that
/// file staged. Returns the staged token, as the form carries it.
async fn sent_back_with_oficio(
    browser: &mut Browser,
    token: &str,
    unit: &str,
    service: &str,
) -> Vec<String> {
    let back = browser
        .post_multipart(
            "/requests/new",
            &phone_request(token, unit, service, "Necesita una cuenta."),
            &[("doc_0", "oficio.pdf", OFICIO.to_vec())],
        )
        .await;
    assert_eq!(
        back.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        back.body
    );
    let tokens = staged_tokens(&back);
    assert_eq!(tokens.len(), 1, "{}", back.body);
    tokens
}

/// The tokens of the staged documents a page carries, in order.
fn staged_tokens(page: &Page) -> Vec<String> {
    page.body
        .split("name=\"staged\" value=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(String::from)
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Counts every row ever written to `staged_uploads` (rows are deleted when used, so the
/// table itself cannot tell whether a file went through it).
async fn count_staged_writes(app: &TestApp) {
    let statements: &[&str] = match app.db.engine {
        Engine::Sqlite => &[
            "CREATE TABLE staged_writes (n BIGINT)",
            "CREATE TRIGGER staged_written AFTER INSERT ON staged_uploads
             BEGIN INSERT INTO staged_writes VALUES (1); END",
        ],
        Engine::Postgres => &[
            "CREATE TABLE staged_writes (n BIGINT)",
            "CREATE FUNCTION staged_written() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN INSERT INTO staged_writes VALUES (1); RETURN NEW; END $$",
            "CREATE TRIGGER staged_written AFTER INSERT ON staged_uploads
             FOR EACH ROW EXECUTE FUNCTION staged_written()",
        ],
    };
    for statement in statements {
        sqlx::query(*statement)
            .execute(app.db.write())
            .await
            .expect("trigger");
    }
}

fn number_of(location: &str) -> String {
    location
        .trim_start_matches("/requests/")
        .split('?')
        .next()
        .unwrap_or("")
        .to_string()
}

/// The stored bytes of a request's attachment, through the API.
async fn download(app: &TestApp, number: &str, id: &serde_json::Value) -> Vec<u8> {
    let response = app
        .client
        .get(format!(
            "{}/api/v1/requests/{number}/attachments/{id}",
            app.base
        ))
        .bearer_auth(&app.agent)
        .send()
        .await
        .expect("download");
    assert_eq!(response.status(), StatusCode::OK);
    response.bytes().await.expect("bytes").to_vec()
}

#[tokio::test]
async fn a_form_sent_back_keeps_its_files_and_registers_them_with_the_request_q3() {
    let app = TestApp::spawn().await;
    let ScriptForm {
        mut browser,
        token,
        unit,
        service,
    } = script_form(&app, "agente.web").await;
    let mut fields = phone_request(
        &token,
        &unit,
        &service,
        "Necesita una cuenta para el proyecto.",
    );
    fields.extend([
        ("service_q", "correo"),
        ("idempotency_key", "5b0f7a52-2a55-4d4e-9d1c-1f5e0f0c0a01"),
    ]);

    // The subject is missing and only the first document is chosen: the form comes back with
    // the errors, the file shown as already chosen and carried by its token.
    let back = browser
        .post_multipart(
            "/requests/new",
            &fields,
            &[("doc_0", "oficio.pdf", OFICIO.to_vec())],
        )
        .await;
    assert_eq!(
        back.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        back.body
    );
    assert!(back.body.contains("id=\"err-subject\""), "{}", back.body);
    assert!(
        back.body.contains("Falta adjuntar «Credencial»")
            && !back.body.contains("Falta adjuntar «Oficio"),
        "{}",
        back.body
    );
    let shown = back
        .body
        .split("id=\"doc-0-staged\"")
        .nth(1)
        .expect("the first document is shown as chosen");
    assert!(
        shown.contains("Ya elegido:") && shown.contains("oficio.pdf") && shown.contains("B)"),
        "{}",
        back.body
    );
    assert!(!back.body.contains("elíjalos de nuevo"));
    assert!(
        back.body.contains("id=\"svc-") && back.body.contains(" checked data-refresh"),
        "the chosen service is still chosen: {}",
        back.body
    );
    let tokens = staged_tokens(&back);
    assert_eq!(tokens.len(), 1, "{}", back.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM staged_uploads").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM requests").await,
        0,
        "nothing registered yet"
    );

    // The panel the page reloads as the agent types shows it too, from the carried token.
    let panel = browser
        .get(&format!(
            "/ui/service-panel?service_id={service}&staged={}",
            tokens[0]
        ))
        .await;
    assert!(panel.body.contains("id=\"doc-0-staged\""), "{}", panel.body);

    // Fixed: the subject typed, the staged file named by its token, the second file chosen now.
    let mut fixed = fields.clone();
    fixed.extend([
        ("subject", "Cuenta de correo nueva"),
        ("staged", &tokens[0]),
    ]);
    let done = browser
        .post_multipart(
            "/requests/new",
            &fixed,
            &[("doc_1", "credencial.pdf", CREDENCIAL.to_vec())],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let number = number_of(&done.location.clone().expect("location"));
    let (_, detail) = app
        .get(&format!("/api/v1/requests/{number}"), &app.agent)
        .await;
    let files = detail["attachments"].as_array().expect("attachments");
    assert_eq!(files.len(), 2, "{detail}");
    let oficio = files
        .iter()
        .find(|f| f["filename"] == "oficio.pdf")
        .expect("the staged file became an attachment");
    assert_eq!(oficio["sha256"], sha256_hex(OFICIO));
    assert_eq!(oficio["size_bytes"], OFICIO.len());
    assert_eq!(download(&app, &number, &oficio["id"]).await, OFICIO);
    let credencial = files
        .iter()
        .find(|f| f["filename"] == "credencial.pdf")
        .expect("the file chosen now");
    assert_eq!(download(&app, &number, &credencial["id"]).await, CREDENCIAL);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM staged_uploads").await,
        0,
        "used staged files are gone"
    );
    let added = detail["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["kind"] == "attachment_added")
        .count();
    assert_eq!(added, 2, "{detail}");

    // The same form sent again (same idempotency key) answers with the same request and adds
    // nothing: the staged file was used and is gone.
    let again = browser
        .post_multipart(
            "/requests/new",
            &fixed,
            &[("doc_1", "credencial.pdf", CREDENCIAL.to_vec())],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert_eq!(number_of(&again.location.expect("location")), number);
    let (_, detail) = app
        .get(&format!("/api/v1/requests/{number}"), &app.agent)
        .await;
    assert_eq!(detail["attachments"].as_array().map(Vec::len), Some(2));
    assert_eq!(app.count("SELECT COUNT(*) FROM requests").await, 1);
}

#[tokio::test]
async fn a_form_that_registers_at_once_stores_each_file_once_q3() {
    let app = TestApp::spawn().await;
    count_staged_writes(&app).await;
    let ScriptForm {
        mut browser,
        token,
        unit,
        service,
    } = script_form(&app, "agente.web").await;
    let mut fields = phone_request(&token, &unit, &service, "Necesita una cuenta.");
    fields.push(("subject", "Cuenta de correo"));
    let done = browser
        .post_multipart("/requests/new", &fields, &both_documents())
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let number = number_of(&done.location.expect("location"));
    let (_, detail) = app
        .get(&format!("/api/v1/requests/{number}"), &app.agent)
        .await;
    let files = detail["attachments"].as_array().expect("attachments");
    assert_eq!(files.len(), 2, "{detail}");
    let oficio = files
        .iter()
        .find(|f| f["filename"] == "oficio.pdf")
        .expect("oficio attached");
    assert_eq!(download(&app, &number, &oficio["id"]).await, OFICIO);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM staged_writes").await,
        0,
        "nothing went through staging"
    );

    // The trigger sees staging when a form does go back.
    let back = browser
        .post_multipart(
            "/requests/new",
            &phone_request(&token, &unit, &service, "Otra cuenta."),
            &[("doc_0", "oficio.pdf", OFICIO.to_vec())],
        )
        .await;
    assert_eq!(back.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("SELECT COUNT(*) FROM staged_writes").await, 1);
}

#[tokio::test]
async fn files_chosen_for_another_service_come_back_with_it_q3() {
    let app = TestApp::spawn().await;
    let ScriptForm {
        mut browser,
        token,
        unit,
        service,
    } = script_form(&app, "agente.web").await;
    // Chosen for the service that asks for documents; the form goes back (no subject).
    let tokens = sent_back_with_oficio(&mut browser, &token, &unit, &service).await;

    // The agent picks another service, which asks for no document: its panel still carries
    // the file, set aside and named.
    let other = app.service_id("Atención de primer nivel").await.to_string();
    let panel = browser
        .get(&format!(
            "/ui/service-panel?service_id={other}&staged={}",
            tokens[0]
        ))
        .await;
    let aside = panel
        .body
        .split("id=\"staged-aside\"")
        .nth(1)
        .expect("set aside");
    assert!(
        aside.contains("Elegidos para otro servicio") && aside.contains("oficio.pdf"),
        "{}",
        panel.body
    );
    assert_eq!(staged_tokens(&panel), tokens);
    assert!(
        !panel.body.contains("id=\"doc-0-staged\""),
        "{}",
        panel.body
    );
    // With no service chosen at all, it is still carried.
    let none = browser
        .get(&format!(
            "/ui/service-panel?service_id=&staged={}",
            tokens[0]
        ))
        .await;
    assert_eq!(staged_tokens(&none), tokens, "{}", none.body);

    // A form sent back while on the other service keeps it too.
    let mut on_other = phone_request(&token, &unit, &other, "Necesita una cuenta.");
    on_other.push(("staged", &tokens[0]));
    let back_again = browser
        .post_multipart("/requests/new", &on_other, &[])
        .await;
    assert_eq!(back_again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(staged_tokens(&back_again), tokens, "{}", back_again.body);

    // Back on the first service, the file is its document's again and registers with it.
    let panel = browser
        .get(&format!(
            "/ui/service-panel?service_id={service}&staged={}",
            tokens[0]
        ))
        .await;
    assert!(panel.body.contains("id=\"doc-0-staged\""), "{}", panel.body);
    assert!(!panel.body.contains("staged-aside"), "{}", panel.body);
    let mut fixed = phone_request(&token, &unit, &service, "Necesita una cuenta.");
    fixed.extend([("subject", "Cuenta de correo"), ("staged", &tokens[0])]);
    let done = browser
        .post_multipart(
            "/requests/new",
            &fixed,
            &[("doc_1", "credencial.pdf", CREDENCIAL.to_vec())],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let number = number_of(&done.location.expect("location"));
    let (_, detail) = app
        .get(&format!("/api/v1/requests/{number}"), &app.agent)
        .await;
    assert_eq!(detail["attachments"].as_array().map(Vec::len), Some(2));
    assert_eq!(app.count("SELECT COUNT(*) FROM staged_uploads").await, 0);
}

/// A form that passes the page's checks but is refused by the registration itself (an area
/// deactivated meanwhile, A11) comes back with its new files staged, and nothing is attached.
#[tokio::test]
async fn files_chosen_on_a_form_the_registration_refuses_come_back_staged_q3_a11() {
    let app = TestApp::spawn().await;
    let (status, area) = app
        .post(
            "/api/v1/areas",
            &app.admin,
            json!({"name": "Área que se cierra", "email": null}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{area}");
    let area = area["id"].as_i64().expect("area id");
    let (status, body) = app
        .call(
            Method::PUT,
            &format!("/api/v1/areas/{area}"),
            &app.admin,
            Some(json!({"name": "Área que se cierra", "email": null, "active": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ScriptForm {
        mut browser,
        token,
        unit,
        service,
    } = script_form(&app, "agente.web").await;
    let area = area.to_string();
    let mut fields = phone_request(&token, &unit, &service, "Necesita una cuenta.");
    fields.extend([("subject", "Cuenta de correo"), ("area_id", &area)]);
    let back = browser
        .post_multipart("/requests/new", &fields, &both_documents())
        .await;
    assert_eq!(
        back.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        back.body
    );
    let beside = back
        .body
        .split("id=\"err-area_id\"")
        .nth(1)
        .expect("the refusal beside the area");
    assert!(beside.contains("Área que se cierra"), "{}", back.body);
    assert_eq!(staged_tokens(&back).len(), 2, "{}", back.body);
    assert!(back.body.contains("oficio.pdf") && back.body.contains("credencial.pdf"));
    assert_eq!(app.count("SELECT COUNT(*) FROM requests").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM attachments").await, 0);
}

/// A file kept for another service that has expired does not hold up a complete form for this
/// one: the form has no place to choose it again.
#[tokio::test]
async fn an_expired_file_of_another_service_does_not_refuse_a_complete_form_q3() {
    let app = TestApp::spawn().await;
    let ScriptForm {
        mut browser,
        token,
        unit,
        service,
    } = script_form(&app, "agente.web").await;
    let tokens = sent_back_with_oficio(&mut browser, &token, &unit, &service).await;
    sqlx::query("DELETE FROM staged_uploads")
        .execute(app.db.write())
        .await
        .expect("expire");
    let other = app.service_id("Atención de primer nivel").await.to_string();
    let mut complete = phone_request(&token, &unit, &other, "Necesita orientación.");
    complete.extend([("subject", "Orientación"), ("staged", &tokens[0])]);
    let done = browser
        .post_multipart("/requests/new", &complete, &[])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM requests").await, 1);
}

#[tokio::test]
async fn a_staged_file_is_replaced_by_another_or_dropped_q3() {
    let app = TestApp::spawn().await;
    let ScriptForm {
        mut browser,
        token,
        unit,
        service,
    } = script_form(&app, "agente.web").await;
    let fields = phone_request(&token, &unit, &service, "Necesita una cuenta.");
    let first = browser
        .post_multipart(
            "/requests/new",
            &fields,
            &[("doc_0", "borrador.pdf", b"%PDF borrador".to_vec())],
        )
        .await;
    let old = staged_tokens(&first);
    assert_eq!(old.len(), 1, "{}", first.body);

    // Another file for the same document replaces the staged one.
    let mut replacing = fields.clone();
    replacing.push(("staged", &old[0]));
    let second = browser
        .post_multipart(
            "/requests/new",
            &replacing,
            &[("doc_0", "oficio.pdf", OFICIO.to_vec())],
        )
        .await;
    assert_eq!(second.status, StatusCode::UNPROCESSABLE_ENTITY);
    let shown = second
        .body
        .split("id=\"doc-0-staged\"")
        .nth(1)
        .unwrap_or("");
    assert!(
        shown.contains("oficio.pdf") && !second.body.contains("borrador.pdf"),
        "{}",
        second.body
    );
    let current = staged_tokens(&second);
    assert_eq!(current.len(), 1);
    assert_ne!(current[0], old[0]);

    // Dropped: the document is missing again, and the staged row is removed.
    let mut dropping = fields.clone();
    dropping.extend([
        ("staged", current[0].as_str()),
        ("drop_staged", current[0].as_str()),
    ]);
    let third = browser
        .post_multipart("/requests/new", &dropping, &[])
        .await;
    assert_eq!(third.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        third
            .body
            .contains("Falta adjuntar «Oficio de solicitud», «Credencial»"),
        "{}",
        third.body
    );
    assert!(staged_tokens(&third).is_empty(), "{}", third.body);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM staged_uploads WHERE token = $1")
        .bind(&current[0])
        .fetch_one(app.db.read())
        .await
        .expect("count");
    assert_eq!(left, 0);
}

#[tokio::test]
async fn another_staff_members_staged_file_is_refused_and_not_shown_q3() {
    let app = TestApp::spawn().await;
    let ScriptForm {
        browser: mut ana,
        token,
        unit,
        service,
    } = script_form(&app, "ana.agente").await;
    let fields = phone_request(&token, &unit, &service, "Necesita una cuenta.");
    let back = ana
        .post_multipart(
            "/requests/new",
            &fields,
            &[
                ("doc_0", "oficio-de-ana.pdf", OFICIO.to_vec()),
                ("doc_1", "credencial-de-ana.pdf", CREDENCIAL.to_vec()),
            ],
        )
        .await;
    let anas = staged_tokens(&back);
    assert_eq!(anas.len(), 2, "{}", back.body);

    // Another agent sends a complete form naming Ana's tokens: refused in Spanish beside the
    // documents, nothing registered, and nothing of Ana's files is shown.
    let mut luis = signed_in(&app, "luis.agente", Role::Agent, None).await;
    let token = Browser::token(&luis.get("/requests/new").await);
    let mut complete = person(&token, &unit, "none");
    complete.extend([
        ("channel", "phone"),
        ("subject", "Cuenta de correo"),
        ("description", "Necesita una cuenta."),
        ("service_id", &service),
        ("staged", &anas[0]),
        ("staged", &anas[1]),
    ]);
    let refused = luis.post_multipart("/requests/new", &complete, &[]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let beside = refused
        .body
        .split("id=\"err-attachments\"")
        .nth(1)
        .expect("an error beside the documents");
    assert!(
        beside.contains("ya no está disponible") && beside.contains("elíjalo de nuevo"),
        "{}",
        refused.body
    );
    assert!(!refused.body.contains("de-ana.pdf"), "{}", refused.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM requests").await, 0);
    let panel = luis
        .get(&format!(
            "/ui/service-panel?service_id={service}&staged={}",
            anas[0]
        ))
        .await;
    assert!(!panel.body.contains("de-ana.pdf"), "{}", panel.body);
    assert!(!panel.body.contains("Ya elegido"), "{}", panel.body);

    // Ana's files are still hers to use.
    let mut hers = fields.clone();
    hers.extend([
        ("subject", "Cuenta de correo"),
        ("staged", &anas[0]),
        ("staged", &anas[1]),
    ]);
    let done = ana.post_multipart("/requests/new", &hers, &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let number = number_of(&done.location.expect("location"));
    let (_, detail) = app
        .get(&format!("/api/v1/requests/{number}"), &app.agent)
        .await;
    assert_eq!(detail["attachments"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn a_message_of_the_intake_queue_is_registered_with_its_staged_documents_q3_a6() {
    let app = TestApp::spawn().await;
    let service = service_with_documents(&app).await;
    let number = intake_message(&app).await;
    let mut browser = signed_in(&app, "agente.web", Role::Agent, None).await;
    let token = Browser::token(&browser.get(&format!("/requests/{number}/register")).await);
    let mut fields = person(&token, "", "none");
    fields.extend([("intake", number.as_str()), ("service_id", &service)]);
    // No unit chosen: back with the error, both files staged.
    let back = browser
        .post_multipart("/requests/new", &fields, &both_documents())
        .await;
    assert_eq!(
        back.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        back.body
    );
    assert!(back.body.contains("id=\"err-unit_id\""));
    let tokens = staged_tokens(&back);
    assert_eq!(tokens.len(), 2, "{}", back.body);

    let unit = app.unit_id("ESCOM").await.to_string();
    let mut fixed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| {
            if *k == "unit_id" {
                (*k, unit.as_str())
            } else {
                (*k, *v)
            }
        })
        .collect();
    fixed.extend([
        ("staged", tokens[0].as_str()),
        ("staged", tokens[1].as_str()),
    ]);
    let done = browser.post_multipart("/requests/new", &fixed, &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let (_, detail) = app
        .get(&format!("/api/v1/requests/{number}"), &app.agent)
        .await;
    assert_eq!(detail["status"], "assigned", "{detail}");
    let files = detail["attachments"].as_array().expect("attachments");
    assert_eq!(files.len(), 2, "{detail}");
    assert!(files.iter().any(|f| f["sha256"] == sha256_hex(CREDENCIAL)));
    assert_eq!(app.count("SELECT COUNT(*) FROM staged_uploads").await, 0);
}

#[tokio::test]
async fn staged_files_nobody_used_are_removed_by_the_periodic_job_after_a_day() {
    let app = TestApp::spawn().await;
    let ScriptForm {
        mut browser,
        token,
        unit,
        service,
    } = script_form(&app, "agente.web").await;
    let tokens = sent_back_with_oficio(&mut browser, &token, &unit, &service).await;

    // The job's tick, as `serve` runs it, with its own clock.
    let tick_at = |zoned: &str| {
        let at = zoned
            .parse::<jiff::Zoned>()
            .expect("zoned time")
            .timestamp();
        let mut state = AppState::new(app.db.clone(), Config::default());
        state.clock = Arc::new(move || at);
        async move {
            ventanilla::jobs::service_levels::tick(
                &state,
                &format!("prueba-{}", at.as_millisecond()),
                Duration::from_secs(1),
            )
            .await
            .expect("tick");
        }
    };
    tick_at("2026-03-11T09:59:00-06:00[America/Mexico_City]").await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM staged_uploads").await,
        1,
        "kept for 24 hours"
    );
    tick_at("2026-03-11T10:01:00-06:00[America/Mexico_City]").await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM staged_uploads").await,
        0,
        "removed after 24 hours"
    );

    // The form that still names it is told to choose the file again (signed in anew: the
    // session of yesterday has expired).
    app.set_now("2026-03-11T10:02:00-06:00[America/Mexico_City]");
    let signed = browser.sign_in("agente.web", PASSWORD).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let token = Browser::token(&browser.get("/requests/new").await);
    let mut late = person(&token, &unit, "none");
    late.extend([
        ("channel", "phone"),
        ("subject", "Cuenta de correo"),
        ("description", "Necesita una cuenta."),
        ("service_id", &service),
        ("staged", &tokens[0]),
    ]);
    let refused = browser
        .post_multipart(
            "/requests/new",
            &late,
            &[("doc_1", "credencial.pdf", CREDENCIAL.to_vec())],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("ya no está disponible")
            && refused
                .body
                .contains("Falta adjuntar «Oficio de solicitud»"),
        "{}",
        refused.body
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM requests").await, 0);
}
