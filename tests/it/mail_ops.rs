//! Running the mail channel: `GET /metrics` (dead letters, outbox, inbound, mailbox health; the
//! optional bearer token), a stopped Dovecot turning the unreachable gauge to 1, and the IMAP
//! fetcher over implicit TLS (trusted only with the configured CA) and over plain IMAP.

use std::time::Duration;

use reqwest::StatusCode;
use ventanilla::mail::imap::{self, Fetcher};
use ventanilla::mail::{ImapConfig, Security, ServerConfig, inbound};

use crate::helpers::TestApp;
use crate::mail::{MAIL_SERVERS, Servers, policy, send_plain, wait_for};

async fn metrics(app: &TestApp, token: Option<&str>) -> (StatusCode, String) {
    let mut request = app.client.get(format!("{}/metrics", app.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("GET /metrics");
    let status = response.status();
    (status, response.text().await.expect("body"))
}

/// The value of one sample (`name{labels}`), when present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_count_dead_letters_outbox_and_inbound_without_personal_data() {
    let app = TestApp::spawn().await;
    let now = jiff::Timestamp::now().as_millisecond();
    let (status, before) = metrics(&app, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        sample(&before, "ventanilla_mail_inbound_messages_total"),
        Some(0.0)
    );
    assert_eq!(
        sample(&before, "ventanilla_outbox_messages{status=\"pending\"}"),
        Some(0.0)
    );

    // A message without a sender: a dead letter, counted by its reason kind.
    let raw = b"Subject: sin remitente\r\nMessage-ID: <nofrom@x>\r\n\r\nHola\r\n";
    let outcome = inbound::ingest(&app.db, &policy(), raw, "mailgate", now)
        .await
        .expect("stored");
    assert_eq!(outcome.outcome, "dead");
    let good = b"From: ana.metricas@otra.mx\r\nSubject: Sin red\r\nMessage-ID: <m-1@otra.mx>\r\n\r\nNo hay red.\r\n";
    inbound::ingest(&app.db, &policy(), good, "mailgate", now)
        .await
        .expect("stored");
    let (_, text) = metrics(&app, None).await;
    assert_eq!(
        sample(
            &text,
            "ventanilla_mail_dead_letters_open{reason_kind=\"unreadable\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "ventanilla_mail_inbound_messages_total"),
        Some(2.0)
    );
    assert_eq!(
        sample(&text, "ventanilla_outbox_messages{status=\"pending\"}"),
        Some(1.0),
        "the acknowledgement of the good message"
    );
    assert!(sample(&text, "ventanilla_process_uptime_seconds").is_some());
    assert!(
        !text.contains("otra.mx") && !text.contains("Sin red"),
        "no addresses or subjects: {text}"
    );
}

#[tokio::test]
async fn metrics_answer_only_to_the_configured_token() {
    let dir = tempfile::tempdir().expect("dir");
    let db = crate::helpers::fresh_db(dir.path()).await;
    let config = ventanilla::config::Config {
        metrics_token: Some("token-de-metricas".into()),
        ..Default::default()
    };
    let app = TestApp::spawn_with(db, dir, config).await;
    assert_eq!(metrics(&app, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        metrics(&app, Some("otro")).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, text) = metrics(&app, Some("token-de-metricas")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("# TYPE ventanilla_outbox_messages gauge"));
}

fn fetcher(app: &TestApp, server: ServerConfig) -> Fetcher {
    Fetcher::new(
        app.db.clone(),
        ImapConfig {
            server,
            folder: "INBOX".into(),
            done_folder: None,
            poll_seconds: 1,
        },
        policy(),
    )
}

#[tokio::test]
async fn a_stopped_imap_server_turns_the_unreachable_gauge_to_one() {
    let _serial = MAIL_SERVERS.lock().await;
    let servers = Servers::start(3825);
    let app = TestApp::spawn().await;
    let task = tokio::spawn(fetcher(&app, servers.imap("crm")).run());
    let series = format!(
        "ventanilla_mail_mailbox_unreachable{{mailbox=\"imap://127.0.0.1:{}/INBOX\"}}",
        servers.imap
    );
    let failures = series.replace("_unreachable{", "_consecutive_failures{");
    let since = series.replace("_unreachable{", "_seconds_since_success{");
    wait_for("the mailbox read once", Duration::from_secs(20), || async {
        let (_, text) = metrics(&app, None).await;
        (sample(&text, &series) == Some(0.0)).then_some(())
    })
    .await;
    let (_, text) = metrics(&app, None).await;
    assert!(sample(&text, &since).is_some_and(|s| s < 10.0), "{text}");

    servers.stop();
    let text = wait_for("the unreachable gauge", Duration::from_secs(30), || async {
        let (_, text) = metrics(&app, None).await;
        (sample(&text, &series) == Some(1.0)).then_some(text)
    })
    .await;
    assert!(sample(&text, &failures).is_some_and(|n| n >= 1.0), "{text}");
    task.abort();
}

/// Sends one message to crm and reads it with a fetcher over `server`: stored, applied, flagged.
async fn fetch_one_over(app: &TestApp, servers: &Servers, server: ServerConfig, id: &str) {
    let raw = format!(
        "From: luis@ventanilla.test\r\nTo: crm@ventanilla.test\r\nSubject: Prueba {id}\r\nMessage-ID: <{id}@ventanilla.test>\r\n\r\nCuerpo {id}.\r\n"
    );
    send_plain(
        servers.smtp,
        raw.as_bytes(),
        "luis@ventanilla.test",
        "crm@ventanilla.test",
    )
    .await;
    let fetcher = fetcher(app, server);
    let mut session = imap::connect(&fetcher.config.server)
        .await
        .expect("IMAP login");
    session.select("INBOX").await.expect("select");
    let mut handled = 0;
    let start = std::time::Instant::now();
    while handled == 0 && start.elapsed() < Duration::from_secs(20) {
        handled = fetcher
            .fetch_round(&mut session)
            .await
            .expect("fetch round");
        if handled == 0 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            session.noop().await.expect("noop");
        }
    }
    assert_eq!(handled, 1, "{id}");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail_inbound WHERE message_id = $1")
        .bind(format!("{id}@ventanilla.test"))
        .fetch_one(app.db.read())
        .await
        .expect("count");
    assert_eq!(stored, 1);
    let _ = session.logout().await;
}

#[tokio::test]
async fn imap_over_implicit_tls_trusts_only_the_configured_ca_and_plain_imap_works() {
    let _serial = MAIL_SERVERS.lock().await;
    let servers = Servers::start(3925);
    let app = TestApp::spawn().await;
    let tls = ServerConfig {
        port: servers.imaps,
        security: Security::Tls,
        ..servers.imap("crm")
    };
    fetch_one_over(&app, &servers, tls.clone(), "tls-1").await;

    // The self-signed certificate without the CA file: refused, never read in the clear.
    let untrusted = ServerConfig {
        ca_file: None,
        ..tls
    };
    let Err(error) = imap::connect(&untrusted).await else {
        panic!("an unknown certificate is refused");
    };
    assert!(format!("{error:#}").contains("TLS handshake"), "{error:#}");

    let plain = ServerConfig {
        security: Security::Plain,
        ca_file: None,
        ..servers.imap("crm")
    };
    fetch_one_over(&app, &servers, plain, "plain-1").await;
}
