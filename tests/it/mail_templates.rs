//! Administrator-editable mail templates (L6, A13, V5): validation in Spanish naming the field and
//! the variable, administrators only, versions and reset, the edited acknowledgement delivered
//! through real Postfix + Dovecot as text + HTML, and the editor page (no browser, and with
//! Chromium + axe at a phone's width).

use std::time::Duration;

use mail_parser::MimeHeaders;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use ventanilla::mail;
use ventanilla_domain::permissions::Role;

use crate::helpers::{TestApp, assert_problem};
use crate::mail::{MAIL_SERVERS, Servers, mail_args, mailbox, set_email, wait_for};
use crate::pages::{Browser, PASSWORD, account};

const ACK: &str = "/api/v1/mail/templates/acknowledgement";

fn edited() -> Value {
    json!({
        "subject": "Su solicitud quedó registrada",
        "body_text": "Hola. Registramos la solicitud {{ number }} ({{ request_subject }}).\nPolítica: {{ attention_policy }}\n",
        "body_html": "<p>Hola. Registramos la solicitud <b>{{ number }}</b> ({{ request_subject }}).</p><p>Política: {{ attention_policy }}</p>",
    })
}

#[tokio::test]
async fn templates_are_validated_versioned_and_reset_by_administrators_only_l6_a13() {
    let app = TestApp::spawn().await;

    // Only administrators: list, read, write, preview.
    for token in [&app.agent, &app.supervisor, &app.coordinator] {
        let got = app.get("/api/v1/mail/templates", token).await;
        assert_problem(&got, StatusCode::FORBIDDEN, "forbidden", None);
        let got = app.call(Method::PUT, ACK, token, Some(edited())).await;
        assert_problem(&got, StatusCode::FORBIDDEN, "forbidden", None);
    }

    let (status, list) = app.get("/api/v1/mail/templates", &app.admin).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let keys: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|t| t["key"].as_str())
        .collect();
    for key in [
        "acknowledgement",
        "missing_requirements",
        "status_changed",
        "sla_warning",
        "sla_breached",
        "digest",
        "survey_invitation",
        "survey_reminder",
        "escalation",
    ] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
    let (_, ack) = app.get(ACK, &app.admin).await;
    assert_eq!(ack["customized"], false);
    assert_eq!(ack["subject"], "Recibimos su solicitud");

    // An unknown variable and a syntax error: 422 naming the field and the variable, in Spanish.
    let mut bad = edited();
    bad["body_text"] = json!("Hola {{ nombre }}");
    let got = app.call(Method::PUT, ACK, &app.admin, Some(bad)).await;
    assert_problem(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "template_unknown_variable",
        Some("body_text"),
    );
    assert!(
        got.1["detail"]
            .as_str()
            .unwrap_or("")
            .contains("La variable «nombre» no existe"),
        "{}",
        got.1
    );
    let mut bad = edited();
    bad["body_html"] = json!("<p>{% for x in missing_requirements %}{{ x }}</p>");
    let got = app.call(Method::PUT, ACK, &app.admin, Some(bad)).await;
    assert_problem(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "template_syntax",
        Some("body_html"),
    );
    let mut bad = edited();
    bad["subject"] = json!("");
    let got = app.post(&format!("{ACK}/preview"), &app.admin, bad).await;
    assert_problem(
        &got,
        StatusCode::UNPROCESSABLE_ENTITY,
        "template_empty",
        Some("subject"),
    );
    let got = app
        .get("/api/v1/mail/templates/no_such_kind", &app.admin)
        .await;
    assert_problem(&got, StatusCode::NOT_FOUND, "unknown_mail_template", None);
    let (_, versions) = app.get(&format!("{ACK}/versions"), &app.admin).await;
    assert_eq!(versions, json!([]), "a refused template is not a version");

    // The preview renders sample data: number in front of the subject, HTML escaped.
    let (status, preview) = app
        .post(&format!("{ACK}/preview"), &app.admin, edited())
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(
        preview["subject"],
        "[SS-2026-000123] Su solicitud quedó registrada"
    );
    assert!(
        preview["body_html"]
            .as_str()
            .unwrap_or("")
            .contains("<b>SS-2026-000123</b>")
    );

    // Saved: the next acknowledgement uses it, in both parts.
    let (status, saved) = app.call(Method::PUT, ACK, &app.admin, Some(edited())).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["customized"], true);
    assert!(saved["updated_by"].is_string(), "{saved}");
    let requester = app.requester(7601, "none").await;
    let service = app.service_id("Correo electrónico").await;
    let number = app.phone_request(requester, service).await;
    let (subject, text, html): (String, String, Option<String>) = sqlx::query_as(
        "SELECT subject, body_text, body_html FROM outbox WHERE topic = 'acknowledgement' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(app.db.read())
    .await
    .expect("acknowledgement");
    assert_eq!(subject, format!("[{number}] Su solicitud quedó registrada"));
    assert!(
        text.starts_with(&format!("Hola. Registramos la solicitud {number}")),
        "{text}"
    );
    assert!(
        html.unwrap_or_default()
            .contains(&format!("<b>{number}</b>")),
        "HTML part"
    );

    // Reset: the default again; both changes are versions, newest first.
    let (status, reset) = app
        .post(&format!("{ACK}/reset"), &app.admin, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{reset}");
    assert_eq!(reset["customized"], false);
    assert_eq!(reset["subject"], "Recibimos su solicitud");
    let (_, versions) = app.get(&format!("{ACK}/versions"), &app.admin).await;
    let actions: Vec<(i64, &str)> = versions
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap_or(0),
                v["action"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(actions, vec![(2, "reset"), (1, "edit")]);
    assert_eq!(versions[1]["subject"], "Su solicitud quedó registrada");
    let other = app.requester(7602, "none").await;
    let number = app.phone_request(other, service).await;
    let subject: String = sqlx::query_scalar(
        "SELECT subject FROM outbox WHERE topic = 'acknowledgement' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(app.db.read())
    .await
    .expect("acknowledgement");
    assert_eq!(subject, format!("[{number}] Recibimos su solicitud"));
}

#[tokio::test]
async fn the_edited_acknowledgement_arrives_through_postfix_and_dovecot_as_text_and_html_l6() {
    let _serial = MAIL_SERVERS.lock().await;
    let servers = Servers::start(3725);
    let app = TestApp::spawn().await;
    mail::save_settings(&app.db, &mail_args(&servers))
        .await
        .expect("settings");
    let (status, body) = app.call(Method::PUT, ACK, &app.admin, Some(edited())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ana = app.requester(7701, "none").await;
    set_email(&app, ana, "ana@ventanilla.test").await;
    let service = app.service_id("Correo electrónico").await;
    let number = app.phone_request(ana, service).await;

    let worker = mail::outbound::Worker::new(app.db.clone(), &servers.submission_as_crm())
        .expect("SMTP transport");
    assert_eq!(worker.deliver_due().await.expect("delivery round"), 1);
    let raw = wait_for(
        "the acknowledgement in ana's INBOX",
        Duration::from_secs(20),
        || async {
            mailbox(&servers, "ana")
                .await
                .into_iter()
                .find(|raw| String::from_utf8_lossy(raw).contains(&format!("[{number}]")))
        },
    )
    .await;
    let message = mail_parser::MessageParser::default()
        .parse(raw.as_slice())
        .expect("a parseable message");
    assert_eq!(
        message.subject(),
        Some(format!("[{number}] Su solicitud quedó registrada").as_str())
    );
    let content_type = message.content_type().expect("content type");
    assert_eq!(
        (content_type.ctype(), content_type.subtype()),
        ("multipart", Some("alternative"))
    );
    let text = message.body_text(0).expect("text part");
    assert!(
        text.contains(&format!("Hola. Registramos la solicitud {number}")),
        "{text}"
    );
    let html = message.body_html(0).expect("HTML part");
    assert!(html.contains(&format!("<b>{number}</b>")), "{html}");
    assert!(
        message
            .message_id()
            .is_some_and(|id| id.ends_with("@ventanilla.test")),
        "{:?}",
        message.message_id()
    );
    assert_eq!(
        message.header_raw("Auto-Submitted").map(str::trim),
        Some("auto-generated")
    );
}

/// The navigation link (minijinja escapes the slashes of an attribute value).
const NAV_LINK: &str = "href=\"&#x2f;admin&#x2f;mail&#x2f;templates\">Plantillas de correo</a>";

/// Signs in a new administrator on a browser without JavaScript.
async fn admin_browser(app: &TestApp) -> Browser {
    account(app, "admin_plantillas", Role::Administrator, None).await;
    let mut browser = Browser::new(app);
    let signed = browser.sign_in("admin_plantillas", PASSWORD).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    browser
}

#[tokio::test]
async fn the_template_page_keeps_what_was_typed_and_says_in_spanish_what_is_wrong() {
    let app = TestApp::spawn().await;

    // Not for other roles, and no link for them.
    account(&app, "agente_plantillas", Role::Agent, None).await;
    let mut agent = Browser::new(&app);
    agent.sign_in("agente_plantillas", PASSWORD).await;
    let home = agent.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(!home.body.contains(NAV_LINK));
    assert_eq!(
        agent.get("/admin/mail/templates").await.status,
        StatusCode::FORBIDDEN
    );

    let mut admin = admin_browser(&app).await;
    let home = admin.get("/").await;
    assert!(home.body.contains(NAV_LINK), "{}", home.body);
    let list = admin.get("/admin/mail/templates").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("/admin/mail/templates/status_changed"));
    let form = admin.get("/admin/mail/templates/status_changed").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains("{{ to_status }}"),
        "the variables are listed"
    );
    let token = Browser::token(&form);
    let path = "/admin/mail/templates/status_changed";

    // An unknown variable: 422, the typed text kept, the error beside the field.
    let typed = "Hola {{ nombre }}, su solicitud {{ number }} & <cambió>";
    let page = admin
        .post(
            path,
            &[
                ("csrf", &token),
                ("action", "save"),
                ("subject", "Cambio en {{ number }}"),
                ("body_text", typed),
                ("body_html", "<p>{{ to_status }}</p>"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("id=\"err-body_text\""), "{}", page.body);
    assert!(page.body.contains("La variable «nombre» no existe"));
    assert!(
        page.body
            .contains("Hola {{ nombre }}, su solicitud {{ number }} &amp; &lt;cambió&gt;"),
        "what was typed is kept (escaped)"
    );
    assert!(page.body.contains("value=\"Cambio en {{ number }}\""));

    // Without the session's token: refused.
    let refused = admin
        .post(path, &[("csrf", "otro"), ("action", "reset")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // Preview keeps the form and shows sample data; save records a version.
    let good = [
        ("csrf", token.as_str()),
        ("action", "preview"),
        ("subject", "Cambio: {{ to_status }}"),
        (
            "body_text",
            "Su solicitud {{ number }} está {{ to_status }}.",
        ),
        (
            "body_html",
            "<p>Su solicitud {{ number }} está {{ to_status }}.</p>",
        ),
    ];
    let page = admin.post(path, &good).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("Su solicitud SS-2026-000123 está En atención."),
        "{}",
        page.body
    );
    let mut save = good;
    save[1] = ("action", "save");
    let saved = admin.post(path, &save).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let page = admin
        .get(saved.location.as_deref().expect("location"))
        .await;
    assert!(page.body.contains("id=\"notice\""));
    assert!(
        page.body.contains("<td>Cambio: {{ to_status }}</td>"),
        "the version row"
    );
}

#[tokio::test]
async fn browser_the_template_editor_at_a_phone_width_passes_axe() {
    let Some(driver) = crate::browser::start().await else {
        return;
    };
    let c = &driver.client;
    let app = TestApp::spawn().await;
    account(&app, "admin_navegador", Role::Administrator, None).await;
    c.set_window_size(390, 844).await.expect("phone width");
    crate::browser::sign_in(c, &app.base, "admin_navegador").await;
    c.goto(&format!("{}/admin/mail/templates", app.base))
        .await
        .expect("list");
    crate::browser::css(c, "#mail-templates").await;
    crate::browser::accessible(c, "template list").await;
    c.goto(&format!(
        "{}/admin/mail/templates/acknowledgement",
        app.base
    ))
    .await
    .expect("editor");
    crate::browser::click(c, "#preview-button").await;
    crate::browser::text_contains(c, "#preview-subject", "[SS-2026-000123]").await;
    crate::browser::accessible(c, "template editor with preview").await;
    let field = crate::browser::css(c, "#f-body_text").await;
    field.clear().await.expect("clear");
    crate::browser::type_into(c, "#f-body_text", "Hola {{ nombre }}").await;
    crate::browser::click(c, "#save").await;
    crate::browser::text_contains(c, "#err-body_text", "«nombre»").await;
    crate::browser::accessible(c, "template editor with an error").await;
}
