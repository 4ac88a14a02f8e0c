//! The web pages in a real browser: Debian's headless Chromium driven over WebDriver
//! (chromedriver) with fantoccini, against a TestApp server. `.ci/run` installs both; without
//! them the tests say so and stop, except in CI (`CI` set), where that is a failure.
//!
//! With `VENTANILLA_SCREENSHOTS=1` the main pages are saved to docs/screenshots/.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use ventanilla_domain::permissions::Role;

use crate::helpers::TestApp;
use crate::pages::{PASSWORD, account};

const WAIT: Duration = Duration::from_secs(15);

pub(crate) struct Driver {
    process: Child,
    pub(crate) client: Client,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn chromium_binary() -> Option<&'static str> {
    ["/usr/lib/chromium/chromium", "/usr/bin/chromium"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
}

/// Starts chromedriver on a free port and opens a headless Chromium session with a fresh profile.
pub(crate) async fn start() -> Option<Driver> {
    let (Some(binary), true) = (
        chromium_binary(),
        std::path::Path::new("/usr/bin/chromedriver").exists(),
    ) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium and chromium-driver (.ci/run)"
        );
        eprintln!("chromium or chromedriver missing: browser test not run");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let process = Command::new("/usr/bin/chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let profile = tempfile::tempdir().expect("profile dir");
    let capabilities = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": binary,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }
    });
    let capabilities = match capabilities {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("a JSON object literal"),
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = loop {
        match ClientBuilder::new(connector.clone())
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => break client,
            Err(e) if Instant::now() > deadline => panic!("chromedriver did not start: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    Some(Driver {
        process,
        client,
        _profile: profile,
    })
}

pub(crate) async fn css(c: &Client, selector: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("element {selector}: {e}"))
}

/// Waits until the element's text contains `needle`; returns the text.
pub(crate) async fn text_contains(c: &Client, selector: &str, needle: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = match c.find(Locator::Css(selector)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(needle) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{selector} never said «{needle}»; it says «{text}»"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn type_into(c: &Client, selector: &str, text: &str) {
    let field = css(c, selector).await;
    field.clear().await.expect("clear");
    field.send_keys(text).await.expect("type");
}

pub(crate) async fn click(c: &Client, selector: &str) {
    css(c, selector).await.click().await.expect("click");
}

async fn screenshot(c: &Client, name: &str) {
    if std::env::var_os("VENTANILLA_SCREENSHOTS").is_none() {
        return;
    }
    let png = c.screenshot().await.expect("screenshot");
    std::fs::create_dir_all("docs/screenshots").expect("screenshots dir");
    std::fs::write(format!("docs/screenshots/{name}.png"), png).expect("write screenshot");
}

/// The axe-core source from npm (tests/browser), or `None` where it was not installed.
fn axe_source() -> Option<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/browser/node_modules/axe-core/axe.min.js"
    );
    match std::fs::read_to_string(path) {
        Ok(source) => Some(source),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must run npm ci in tests/browser (.ci/run)"
            );
            eprintln!("axe-core missing (npm ci in tests/browser): accessibility not checked");
            None
        }
    }
}

/// Runs axe-core on the current page (WCAG 2.0/2.1 A and AA rules): no serious or critical
/// violation may remain.
pub(crate) async fn accessible(c: &Client, page: &str) {
    let Some(source) = axe_source() else { return };
    c.execute(&format!("{source}\nreturn true;"), vec![])
        .await
        .expect("inject axe-core");
    let found = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
               .then(r => done(r.violations
                 .filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .expect("run axe-core");
    let violations: Vec<String> = serde_json::from_value(found).unwrap_or_default();
    assert!(
        violations.is_empty(),
        "accessibility violations on {page}: {violations:#?}"
    );
}

pub(crate) async fn sign_in(c: &Client, base: &str, username: &str) {
    c.goto(&format!("{base}/login")).await.expect("login page");
    type_into(c, "#username", username).await;
    type_into(c, "#password", PASSWORD).await;
    click(c, "#sign-in").await;
    css(c, "#sign-out").await;
}

async fn sign_out(c: &Client) {
    click(c, "#sign-out").await;
    css(c, "#sign-in").await;
}

async fn status_is(c: &Client, label: &str) {
    text_contains(c, "#status", label).await;
}

#[tokio::test]
async fn browser_an_agent_registers_a_phone_request_an_engineer_solves_it_the_agent_verifies_it() {
    let Some(driver) = start().await else { return };
    let c = &driver.client;
    let app = TestApp::spawn().await;
    account(&app, "agente.web", Role::Agent, None).await;
    account(
        &app,
        "ing.web",
        Role::Engineer,
        Some("Monitoreo y Servicios Computacionales"),
    )
    .await;
    let base = app.base.as_str();

    c.goto(&format!("{base}/login")).await.expect("login page");
    accessible(c, "login").await;
    sign_in(c, base, "agente.web").await;
    accessible(c, "home").await;
    c.goto(&format!("{base}/requests/new"))
        .await
        .expect("script");
    // A5: nobody matches, so the agent registers the person (A6).
    type_into(c, "#f-q", "Wilfrido Boxo").await;
    text_contains(c, "#requester-results", "Nadie coincide").await;
    type_into(c, "#f-full_name", "Wilfrido Boxo").await;
    type_into(c, "#f-curp", "BOXW310820HNERXN09").await;
    text_contains(c, "#curp-check", "CURP válida").await;
    let unit = app.unit_id("ESCOM").await.to_string();
    css(c, "#f-unit_id")
        .await
        .select_by_value(&unit)
        .await
        .expect("unit");
    type_into(c, "#f-email", "wboxo@example.org").await;
    type_into(c, "#f-subject", "Sin acceso al correo").await;
    type_into(c, "#f-description", "Rechaza la contraseña desde ayer.").await;
    // A10: the service, found without accents.
    type_into(c, "#f-service_q", "correo electronico").await;
    let service = app.service_id("Correo electrónico").await;
    click(c, &format!("#svc-{service}")).await;
    text_contains(c, "#service-panel", "puede solicitar este servicio").await;
    accessible(c, "script").await;
    c.execute(
        "document.getElementById('h-service').scrollIntoView();",
        vec![],
    )
    .await
    .expect("scroll");
    screenshot(c, "script").await;
    click(c, "#register").await;
    let number = text_contains(c, "#created-number", "SS-2026-").await;
    accessible(c, "created request").await;
    screenshot(c, "created").await;
    status_is(c, "Asignada").await;

    // The home queue lists it.
    c.goto(&format!("{base}/")).await.expect("home");
    text_contains(c, "#q-open", &number).await;
    sign_out(c).await;

    // The engineer of the sheet's area starts and solves it.
    sign_in(c, base, "ing.web").await;
    text_contains(c, "#q-area", &number).await;
    c.goto(&format!("{base}/requests/{number}"))
        .await
        .expect("request");
    click(c, "#do-start").await;
    status_is(c, "En atención").await;
    // Solving needs the solution: the error is shown beside the field, in Spanish.
    click(c, "#do-solve").await;
    text_contains(c, "#err-solve-reason", "solución").await;
    type_into(c, "#reason-solve", "Se restableció la contraseña.").await;
    click(c, "#do-solve").await;
    status_is(c, "Solucionada").await;
    sign_out(c).await;

    // A18: the agent verifies the solution.
    sign_in(c, base, "agente.web").await;
    text_contains(c, "#q-solved", &number).await;
    screenshot(c, "home").await;
    c.goto(&format!("{base}/requests/{number}"))
        .await
        .expect("request");
    click(c, "#do-verify").await;
    status_is(c, "En validación").await;
    text_contains(c, "#timeline", "Se restableció la contraseña.").await;
    accessible(c, "request").await;
    screenshot(c, "request").await;
    c.goto(&format!("{base}/search?q=boxo"))
        .await
        .expect("search");
    text_contains(c, "main", &number).await;
    accessible(c, "search").await;
    screenshot(c, "search").await;
    c.goto(&format!("{base}/catalogue"))
        .await
        .expect("catalogue");
    accessible(c, "catalogue").await;
    c.goto(&format!("{base}/catalogue/{service}"))
        .await
        .expect("service");
    accessible(c, "service sheet").await;
    c.goto(&format!("{base}/requests/{number}"))
        .await
        .expect("request");
    click(c, "dd a[href^='/requesters/']").await;
    css(c, "#h-changes").await;
    accessible(c, "requester").await;
    // The same page at a phone's width.
    c.set_window_size(390, 844).await.expect("phone size");
    c.goto(&format!("{base}/requests/{number}"))
        .await
        .expect("request");
    css(c, "#status").await;
    screenshot(c, "request-phone").await;
    driver.client.clone().close().await.expect("close");
}

#[tokio::test]
async fn browser_the_coordinator_cancels_with_a_reason_and_the_script_flags_bad_input() {
    let Some(driver) = start().await else { return };
    let c = &driver.client;
    let app = TestApp::spawn().await;
    account(&app, "agente.web", Role::Agent, None).await;
    account(&app, "coord.web", Role::Coordinator, None).await;
    let base = app.base.as_str();
    let requester = app.requester(41, "none").await;
    let number = app
        .phone_request(requester, app.service_id("Correo electrónico").await)
        .await;

    // A15: only the coordinator cancels, and must say why.
    sign_in(c, base, "agente.web").await;
    c.goto(&format!("{base}/requests/{number}"))
        .await
        .expect("request");
    css(c, "#do-comment").await;
    assert!(
        c.find(Locator::Css("#do-cancel")).await.is_err(),
        "an agent is offered no cancel button"
    );
    // A wrong CURP is flagged as it is typed.
    c.goto(&format!("{base}/requests/new"))
        .await
        .expect("script");
    type_into(c, "#f-curp", "BOXW310820HNERXN08").await;
    text_contains(c, "#curp-check", "verificador").await;
    // L1: an ordinary requester asking for a udi service is refused with the reason.
    type_into(c, "#f-service_q", "web hosting").await;
    let hosting = app.service_id("Web hosting").await;
    click(c, &format!("#svc-{hosting}")).await;
    text_contains(
        c,
        "#eligibility-refusal",
        "Jefe de la Unidad de Informática",
    )
    .await;
    accessible(c, "script with a refusal").await;
    c.execute(
        "document.getElementById('h-person').scrollIntoView();",
        vec![],
    )
    .await
    .expect("scroll");
    screenshot(c, "script-curp").await;
    c.execute(
        "document.getElementById('h-service').scrollIntoView();",
        vec![],
    )
    .await
    .expect("scroll");
    screenshot(c, "script-refused").await;

    // The session expires mid-call: registering leads to sign-in, and back to the script with
    // what was typed.
    type_into(c, "#f-subject", "Quiere publicar su sitio").await;
    sqlx::query("DELETE FROM web_sessions")
        .execute(app.db.write())
        .await
        .expect("expire the session");
    click(c, "#register").await;
    css(c, "#sign-in").await;
    type_into(c, "#username", "agente.web").await;
    type_into(c, "#password", PASSWORD).await;
    click(c, "#sign-in").await;
    css(c, "#script").await;
    let subject = css(c, "#f-subject")
        .await
        .prop("value")
        .await
        .expect("subject")
        .unwrap_or_default();
    assert_eq!(subject, "Quiere publicar su sitio");
    sign_out(c).await;

    sign_in(c, base, "coord.web").await;
    c.goto(&format!("{base}/requests/{number}"))
        .await
        .expect("request");
    click(c, "#do-cancel").await;
    text_contains(c, "#err-cancel-reason", "motivo").await;
    type_into(c, "#reason-cancel", "La persona desistió por teléfono.").await;
    click(c, "#do-cancel").await;
    status_is(c, "Cancelada").await;
    text_contains(c, "#timeline", "La persona desistió por teléfono.").await;
    accessible(c, "cancelled request").await;
    driver.client.clone().close().await.expect("close");
}
