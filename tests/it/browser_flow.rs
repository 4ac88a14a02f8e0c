//! The request flow in a real browser (headless Chromium over WebDriver, axe-core on every new
//! page state): a message of the intake queue registered from its page (L4, A5, A6), a file
//! attached (Q3), the service-level bars (L3, L4, A16) and the at-risk queue (A16), also at a
//! phone's width.

use fantoccini::Locator;
use serde_json::json;
use ventanilla_domain::permissions::Role;

use crate::browser::{
    accessible, click, css, screenshot, sign_in, start, status_is, text_contains, type_into,
    type_new_person,
};
use crate::helpers::TestApp;
use crate::pages::account;
use crate::pages_flow::intake_message;
use crate::service_levels::new_sheet_version;

#[tokio::test]
async fn browser_an_intake_message_is_registered_from_its_page_gets_a_file_and_shows_its_clocks() {
    let Some(driver) = start().await else { return };
    let c = &driver.client;
    let app = TestApp::spawn().await;
    account(&app, "agente.web", Role::Agent, None).await;
    let service = new_sheet_version(&app, "Correo electrónico", |sheet| {
        sheet["response_target_minutes"] = json!(60);
        sheet["resolution_target_minutes"] = json!(240);
    })
    .await;
    let number = intake_message(&app).await;
    let base = app.base.as_str();

    sign_in(c, base, "agente.web").await;
    text_contains(c, "#q-intake", &number).await;
    css(c, "#q-at_risk").await;
    css(c, "#q-breached").await;
    accessible(c, "home with the service-level queues").await;
    c.goto(&format!("{base}/requests/{number}"))
        .await
        .expect("intake item");
    click(c, "#go-register").await;
    text_contains(c, "#intake-text", "desde ayer").await;
    accessible(c, "registering an intake message").await;

    // A5, A6: nobody matches the sender, so the agent registers the person.
    type_new_person(c, &app).await;
    type_into(c, "#f-service_q", "correo electronico").await;
    click(c, &format!("#svc-{service}")).await;
    text_contains(c, "#service-panel", "puede solicitar este servicio").await;
    accessible(c, "intake message with the service chosen").await;
    screenshot(c, "intake-register").await;
    click(c, "#register").await;
    text_contains(c, "#created-number", &number).await;
    status_is(c, "Asignada").await;

    // L3, L4: both clocks as bars with the time left in words.
    text_contains(c, "#sla", "Quedan 1 h hábiles").await;
    css(c, "#sla progress.sla-bar").await;

    // Q3: a file attached from the page, listed with its download link.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("captura.pdf");
    std::fs::write(&file, b"%PDF-1.4 captura").expect("file");
    css(c, "#upload-file")
        .await
        .send_keys(&file.display().to_string())
        .await
        .expect("choose file");
    click(c, "#do-upload").await;
    text_contains(c, "#files", "captura.pdf").await;
    text_contains(c, "#timeline", "captura.pdf").await;
    accessible(c, "request with clocks and an attachment").await;
    screenshot(c, "request-clocks").await;

    // A16: at 10:50 the response clock is at risk, said in words and listed on the home page.
    app.set_now("2026-03-10T10:50:00-06:00[America/Mexico_City]");
    c.refresh().await.expect("reload");
    text_contains(c, "#sla", "En riesgo").await;
    accessible(c, "request at risk").await;
    c.goto(&format!("{base}/")).await.expect("home");
    text_contains(c, "#q-at_risk", &number).await;
    accessible(c, "home with a request at risk").await;

    // The new pieces at a phone's width: nothing wider than the screen.
    c.set_window_size(390, 844).await.expect("phone size");
    for path in [format!("/requests/{number}"), "/".to_string()] {
        c.goto(&format!("{base}{path}")).await.expect("page");
        css(c, "main").await;
        let overflow = c
            .execute(
                "return document.documentElement.scrollWidth > window.innerWidth;",
                vec![],
            )
            .await
            .expect("measure");
        assert_eq!(overflow, json!(false), "{path} is wider than a phone");
        accessible(c, &format!("{path} at a phone's width")).await;
    }
    css(c, "#q-at_risk").await;
    screenshot(c, "home-phone-at-risk").await;
    driver.client.clone().close().await.expect("close");
}

/// Issue 4, Q3: the script sent back with an error keeps the document already chosen (shown
/// as chosen, still there when the panel reloads), and registering attaches it.
#[tokio::test]
async fn browser_the_script_sent_back_with_an_error_keeps_the_chosen_document() {
    let Some(driver) = start().await else { return };
    let c = &driver.client;
    let app = TestApp::spawn().await;
    account(&app, "agente.web", Role::Agent, None).await;
    let service = new_sheet_version(&app, "Correo electrónico", |sheet| {
        sheet["required_attachments"] = json!(["Oficio de solicitud"]);
    })
    .await;
    let base = app.base.as_str();
    sign_in(c, base, "agente.web").await;
    c.goto(&format!("{base}/requests/new"))
        .await
        .expect("script");
    type_new_person(c, &app).await;
    type_into(c, "#f-description", "Necesita una cuenta para el proyecto.").await;
    type_into(c, "#f-service_q", "correo electronico").await;
    click(c, &format!("#svc-{service}")).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("oficio.pdf");
    std::fs::write(&file, b"%PDF-1.4 oficio").expect("file");
    css(c, "#doc-0")
        .await
        .send_keys(&file.display().to_string())
        .await
        .expect("choose file");

    // No subject: the form comes back with the error and the file already chosen.
    click(c, "#register").await;
    css(c, "#err-subject").await;
    text_contains(c, "#doc-0-staged", "oficio.pdf").await;
    let chosen = css(c, &format!("#svc-{service}"))
        .await
        .prop("checked")
        .await
        .expect("checked");
    assert_eq!(
        chosen.as_deref(),
        Some("true"),
        "the service is still chosen"
    );
    accessible(c, "script sent back with a chosen document").await;
    screenshot(c, "script-staged-document").await;

    // The panel reloads when the person's role changes: the chosen file goes with it.
    c.execute(
        "document.querySelector('#service-panel .panel').id = 'old-panel';",
        vec![],
    )
    .await
    .expect("mark the panel");
    css(c, "#f-udi_role")
        .await
        .select_by_value("head")
        .await
        .expect("udi role");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while c.find(Locator::Css("#old-panel")).await.is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the panel never reloaded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    text_contains(c, "#doc-0-staged", "oficio.pdf").await;

    type_into(c, "#f-subject", "Cuenta de correo nueva").await;
    click(c, "#register").await;
    css(c, "#created-number").await;
    text_contains(c, "#files", "oficio.pdf").await;
    driver.client.clone().close().await.expect("close");
}
