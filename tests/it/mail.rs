//! The e-mail channel (L2, L4, L6, A13): a MIME corpus through the mailgate code path, loop
//! protection, dead letters, and end to end against real Postfix + Dovecot
//! (`scripts/mail-test-servers.sh`, root needed, as in CI).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use ventanilla::mail::inbound::{self, Outcome};
use ventanilla::mail::{self, ImapConfig, InboundPolicy, MailArgs, Security, ServerConfig};

use crate::helpers::TestApp;

/// The end-to-end tests share one set of ports; they run one at a time.
pub(crate) static MAIL_SERVERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub(crate) fn policy() -> InboundPolicy {
    InboundPolicy {
        own_address: "crm@ventanilla.test".into(),
        max_attachment_bytes: 64 * 1024,
        max_per_sender_per_day: 20,
        max_per_request_per_hour: 5,
    }
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

async fn ingest(app: &TestApp, raw: &[u8]) -> Outcome {
    inbound::ingest(&app.db, &policy(), raw, "mailgate", now_ms())
        .await
        .expect("the database stores every message")
}

async fn detail(app: &TestApp, number: &str) -> Value {
    let (status, body) = app
        .get(&format!("/api/v1/requests/{number}"), &app.agent)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

pub(crate) async fn set_email(app: &TestApp, requester: i64, email: &str) {
    sqlx::query("UPDATE requesters SET email = $1 WHERE id = $2")
        .bind(email)
        .bind(requester)
        .execute(app.db.write())
        .await
        .expect("update e-mail");
}

async fn outbox_rows(app: &TestApp, topic: &str) -> Vec<(String, String, String, String)> {
    sqlx::query_as(
        "SELECT recipient, subject, body_text, headers FROM outbox WHERE topic = $1 ORDER BY id",
    )
    .bind(topic)
    .fetch_all(app.db.read())
    .await
    .expect("outbox")
}

fn crlf(text: &str) -> Vec<u8> {
    text.replace('\n', "\r\n").into_bytes()
}

#[tokio::test]
async fn a_mime_corpus_becomes_requests_comments_and_dead_letters_without_a_panic() {
    let app = TestApp::spawn().await;
    let requester = app.requester(7101, "none").await;
    set_email(&app, requester, "Jose.Pena@Example.org").await;

    // multipart/alternative, quoted-printable UTF-8, known sender (case-insensitive address).
    let alternative = crlf(
        "From: =?UTF-8?Q?Jos=C3=A9_Pe=C3=B1a?= <jose.pena@example.org>\nTo: crm@ventanilla.test\nSubject: =?UTF-8?Q?Creaci=C3=B3n_de_cuenta?=\nMessage-ID: <alt-1@example.org>\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nOlvid=C3=A9 mi contrase=C3=B1a del correo institucional.\n--b1\nContent-Type: text/html; charset=utf-8\n\n<p>Olvid&eacute; mi contrase&ntilde;a</p>\n--b1--\n",
    );
    let first = ingest(&app, &alternative).await;
    assert_eq!(first.outcome, "request", "{first:?}");
    let number = first.request_number.clone().expect("number");
    let body = detail(&app, &number).await;
    assert_eq!(body["subject"], "Creación de cuenta");
    assert_eq!(body["channel"], "email");
    assert_eq!(
        body["status"], "received",
        "L4: mail waits in the intake queue"
    );
    assert_eq!(body["requester_id"], requester);
    assert!(
        body["description"]
            .as_str()
            .unwrap_or("")
            .contains("Olvidé mi contraseña"),
        "{body}"
    );

    // The same message again (fetched twice): one request.
    let again = ingest(&app, &alternative).await;
    assert_eq!((again.inbound_id, again.fresh), (first.inbound_id, false));

    // The acknowledgement answers the mail: number, thread headers, auto-replied (L6).
    let acks = outbox_rows(&app, "acknowledgement").await;
    assert_eq!(acks.len(), 1, "{acks:?}");
    assert_eq!(acks[0].0, "jose.pena@example.org");
    assert!(acks[0].1.contains(&format!("[{number}]")));
    assert!(acks[0].2.contains(&number));
    let headers: Value = serde_json::from_str(&acks[0].3).expect("headers");
    assert_eq!(headers["In-Reply-To"], "<alt-1@example.org>");
    assert_eq!(headers["Auto-Submitted"], "auto-replied");

    // A reply by In-Reply-To threads as a comment; so does a subject with the number only.
    let reply = crlf(
        "From: jose.pena@example.org\nSubject: Re: algo\nMessage-ID: <alt-2@example.org>\nIn-Reply-To: <alt-1@example.org>\nContent-Type: text/plain; charset=utf-8\n\nYa probé de nuevo y sigue igual.\n",
    );
    let comment = ingest(&app, &reply).await;
    assert_eq!(
        (comment.outcome.as_str(), comment.request_number.as_deref()),
        ("comment", Some(number.as_str()))
    );
    let by_subject = crlf(&format!(
        "From: jose.pena@example.org\nSubject: RE: [{number}] Recibimos su solicitud\nMessage-ID: <alt-3@example.org>\n\nOtra cosa más.\n"
    ));
    let comment = ingest(&app, &by_subject).await;
    assert_eq!(comment.request_number.as_deref(), Some(number.as_str()));
    let timeline = detail(&app, &number).await["timeline"].clone();
    let comments: Vec<&Value> = timeline
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["kind"] == "comment")
        .collect();
    assert_eq!(comments.len(), 2, "{timeline}");
    assert_eq!(
        comments[0]["payload"]["body"],
        "Ya probé de nuevo y sigue igual."
    );

    // ISO-8859-1, 8 bit, no Message-ID, unknown sender: intake queue with the sender recorded.
    let latin1 = b"From: Mar\xeda <maria@otra.mx>\r\nSubject: =?ISO-8859-1?Q?Impresi=F3n_en_la_sala_de_c=F3mputo?=\r\nContent-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\xbfPodr\xedan revisar la impresora? Gracias, Mar\xeda Nu\xf1ez\r\n";
    let out = ingest(&app, latin1).await;
    assert_eq!(out.outcome, "request");
    let n = out.request_number.expect("number");
    let body = detail(&app, &n).await;
    assert_eq!(body["subject"], "Impresión en la sala de cómputo");
    assert!(
        body["description"]
            .as_str()
            .unwrap_or("")
            .contains("¿Podrían revisar la impresora? Gracias, María Nuñez"),
        "{body}"
    );
    assert_eq!(body["requester_id"], Value::Null);
    let sender_event = body["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .find(|e| e["kind"] == "mail_received")
        .cloned()
        .expect("mail_received event");
    assert_eq!(sender_event["payload"]["from"], "maria@otra.mx");
    assert_eq!(sender_event["payload"]["known_sender"], false);
    // Stored twice without a Message-ID: the hash makes it one message.
    assert_eq!(ingest(&app, latin1).await.inbound_id, out.inbound_id);

    // Windows-1252 with typographic quotes and a euro sign; base64 UTF-8 subject.
    let cp1252 = b"From: luis@otra.mx\r\nSubject: =?UTF-8?B?wqFVcmdlbnRlISBObyBoYXkgcmVk?=\r\nMessage-ID: <cp-1@otra.mx>\r\nContent-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: 8bit\r\n\r\nEl \x93nodo\x94 de la direcci\xf3n cost\xf3 100 \x80.\r\n";
    let out = ingest(&app, cp1252).await;
    let body = detail(&app, &out.request_number.expect("number")).await;
    assert_eq!(body["subject"], "¡Urgente! No hay red");
    assert!(
        body["description"]
            .as_str()
            .unwrap_or("")
            .contains("El “nodo” de la dirección costó 100 €."),
        "{body}"
    );

    // HTML only: readable text, no tags.
    let html = crlf(
        "From: ana@otra.mx\nSubject: Solo HTML\nMessage-ID: <html-1@otra.mx>\nContent-Type: text/html; charset=utf-8\n\n<html><body><h1>Pantalla azul</h1><p>Mi equipo muestra <b>pantalla azul</b> al encender.</p></body></html>\n",
    );
    let out = ingest(&app, &html).await;
    let text = detail(&app, &out.request_number.expect("number")).await["description"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        text.contains("pantalla azul al encender") && !text.contains('<'),
        "{text}"
    );

    // Nested multipart with a base64 attachment, and one over the size limit.
    let small = "JVBERi0xLjQK".to_string(); // "%PDF-1.4\n"
    let big = base64_of(&vec![b'x'; 70 * 1024]);
    let nested = crlf(&format!(
        "From: ana@otra.mx\nSubject: Oficio adjunto\nMessage-ID: <nest-1@otra.mx>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"out\"\n\n--out\nContent-Type: multipart/alternative; boundary=\"in\"\n\n--in\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n{}\n--in\nContent-Type: text/html; charset=utf-8\n\n<p>Adjunto el oficio</p>\n--in--\n--out\nContent-Type: application/pdf; name=\"oficio.pdf\"\nContent-Disposition: attachment; filename=\"oficio.pdf\"\nContent-Transfer-Encoding: base64\n\n{small}\n--out\nContent-Type: application/octet-stream; name=\"grande.bin\"\nContent-Disposition: attachment; filename=\"grande.bin\"\nContent-Transfer-Encoding: base64\n\n{big}\n--out--\n",
        base64_of("Adjunto el oficio de la dirección.".as_bytes())
    ));
    let out = ingest(&app, &nested).await;
    let body = detail(&app, &out.request_number.expect("number")).await;
    assert!(
        body["description"]
            .as_str()
            .unwrap_or("")
            .contains("Adjunto el oficio de la dirección."),
        "{body}"
    );
    let attachments = body["attachments"].as_array().expect("attachments");
    assert_eq!(
        attachments.len(),
        1,
        "the big one is over the limit: {body}"
    );
    assert_eq!(attachments[0]["filename"], "oficio.pdf");
    let event = body["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .find(|e| e["kind"] == "mail_received")
        .cloned()
        .expect("event");
    assert_eq!(
        event["payload"]["omitted_attachments"][0]["filename"],
        "grande.bin"
    );

    // Huge headers: a 60 kB subject and 3,000 References.
    let references: String = (0..3000).map(|i| format!(" <ref{i}@far.away>")).collect();
    let huge = crlf(&format!(
        "From: ana@otra.mx\nSubject: {}\nReferences:{references}\nMessage-ID: <huge-1@otra.mx>\n\nCuerpo.\n",
        "muy largo ".repeat(6000)
    ));
    let out = ingest(&app, &huge).await;
    let body = detail(&app, &out.request_number.expect("number")).await;
    assert!(body["subject"].as_str().unwrap_or("").chars().count() <= 200);

    // Broken ones: dead letters with a reason, and the next message still goes through.
    let broken: Vec<Vec<u8>> = vec![
        crlf("From: ana@otra.mx\nSubject: cortado en los encabez"),
        crlf(
            "From: ana@otra.mx\nSubject: multipart truncado\nContent-Type: multipart/mixed; boundary=\"zz\"\n\n--zz\nContent-Type: text/plain\n\nSe cortó aquí",
        ),
        crlf("Subject: sin remitente\nMessage-ID: <nofrom@x>\n\nHola\n"),
        vec![0xff, 0xfe, 0x00, 0x13, 0x37, b'\n', b'\n', 0x80, 0x81],
        Vec::new(),
    ];
    for raw in &broken {
        assert_eq!(ingest(&app, raw).await.outcome, "dead");
    }
    let after = ingest(&app, &crlf("From: ana@otra.mx\nSubject: Sigue funcionando\nMessage-ID: <after-dead@otra.mx>\n\nTexto.\n")).await;
    assert_eq!(after.outcome, "request");

    let (status, dead) = app.get("/api/v1/mail/dead-letters", &app.admin).await;
    assert_eq!(status, StatusCode::OK, "{dead}");
    let dead = dead.as_array().expect("list").clone();
    assert_eq!(dead.len(), broken.len(), "{dead:?}");
    assert!(
        dead.iter()
            .all(|d| d["reason"].as_str().is_some_and(|r| r.len() > 5))
    );
    let (status, _) = app.get("/api/v1/mail/dead-letters", &app.agent).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let id = dead[0]["id"].as_i64().expect("id");
    let (status, retried) = app
        .post(
            &format!("/api/v1/mail/dead-letters/{id}/retry"),
            &app.admin,
            json!({}),
        )
        .await;
    assert_eq!(
        (status, retried["outcome"].as_str()),
        (StatusCode::OK, Some("dead")),
        "{retried}"
    );
    let got = app
        .post(
            "/api/v1/mail/dead-letters/999999/retry",
            &app.admin,
            json!({}),
        )
        .await;
    crate::helpers::assert_problem(&got, StatusCode::NOT_FOUND, "unknown_dead_letter", None);
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    encoded
        .as_bytes()
        .chunks(76)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("\r\n")
}

#[tokio::test]
async fn machines_get_no_answer_and_bounces_fail_the_bounced_message() {
    let app = TestApp::spawn().await;
    // RFC 3834 and friends: a request, no acknowledgement.
    for (i, header) in [
        "Auto-Submitted: auto-replied",
        "Precedence: bulk",
        "X-Auto-Response-Suppress: All",
        "X-Loop: otro@sistema.mx",
    ]
    .iter()
    .enumerate()
    {
        let raw = crlf(&format!(
            "From: alguien@otra.mx\n{header}\nSubject: Fuera de la oficina {i}\nMessage-ID: <auto-{i}@otra.mx>\n\nNo estoy.\n"
        ));
        assert_eq!(ingest(&app, &raw).await.outcome, "request");
    }
    for (i, from) in [
        "MAILER-DAEMON@otra.mx",
        "no-reply@otra.mx",
        "postmaster@otra.mx",
    ]
    .iter()
    .enumerate()
    {
        let raw = crlf(&format!(
            "From: {from}\nSubject: Aviso {i}\nMessage-ID: <daemon-{i}@otra.mx>\n\nAviso.\n"
        ));
        ingest(&app, &raw).await;
    }
    assert!(outbox_rows(&app, "acknowledgement").await.is_empty());

    // Our own message coming back is not a request.
    let own = crlf(
        "From: CAU <crm@ventanilla.test>\nSubject: [SS-2026-000001] Recibimos su solicitud\nMessage-ID: <own@ventanilla.test>\n\nCopia.\n",
    );
    assert_eq!(ingest(&app, &own).await.outcome, "loop");

    // Caps: one sender gets at most N automatic answers a day.
    let mut capped = policy();
    capped.max_per_sender_per_day = 2;
    for i in 0..4 {
        let raw = crlf(&format!(
            "From: insistente@otra.mx\nSubject: Pedido {i}\nMessage-ID: <cap-{i}@otra.mx>\n\nOtra vez.\n"
        ));
        inbound::ingest(&app.db, &capped, &raw, "mailgate", now_ms())
            .await
            .expect("ingest");
    }
    assert_eq!(outbox_rows(&app, "acknowledgement").await.len(), 2);

    // A DSN naming our acknowledgement fails it visibly.
    let (message_id,): (String,) =
        sqlx::query_as("SELECT message_id FROM outbox ORDER BY id LIMIT 1")
            .fetch_one(app.db.read())
            .await
            .expect("ack");
    let dsn = crlf(&format!(
        "From: MAILER-DAEMON@mail.otra.mx\nTo: crm@ventanilla.test\nSubject: Undelivered Mail Returned to Sender\nMessage-ID: <dsn-1@mail.otra.mx>\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\n\n--r\nContent-Type: text/plain\n\nI'm sorry to have to inform you that your message could not be delivered.\n--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mail.otra.mx\n\nFinal-Recipient: rfc822; insistente@otra.mx\nAction: failed\nStatus: 5.1.1\n\n--r\nContent-Type: text/rfc822-headers\n\nFrom: CAU <crm@ventanilla.test>\nMessage-ID: <{message_id}>\nSubject: [SS-2026-000001] Recibimos su solicitud\n--r--\n"
    ));
    assert_eq!(ingest(&app, &dsn).await.outcome, "bounce");
    let (status, error): (String, Option<String>) =
        sqlx::query_as("SELECT status, last_error FROM outbox WHERE message_id = $1")
            .bind(&message_id)
            .fetch_one(app.db.read())
            .await
            .expect("row");
    assert_eq!(status, "failed");
    assert!(error.unwrap_or_default().contains("rebotado"));
}

#[tokio::test]
async fn a_phone_request_is_acknowledged_with_its_number_and_attention_policy_l6_a13() {
    let app = TestApp::spawn().await;
    let requester = app.requester(7201, "none").await;
    let service = app.service_id("Correo electrónico").await;
    let number = app.phone_request(requester, service).await;
    let acks = outbox_rows(&app, "acknowledgement").await;
    assert_eq!(acks.len(), 1, "{acks:?}");
    assert_eq!(acks[0].0, "persona7201@example.org");
    assert_eq!(acks[0].1, format!("[{number}] Recibimos su solicitud"));
    let policy: String = sqlx::query_scalar("SELECT ss.content FROM service_sheets ss JOIN services s ON s.id = ss.service_id WHERE s.id = $1")
        .bind(service).fetch_one(app.db.read()).await.expect("sheet");
    let policy: Value = serde_json::from_str(&policy).expect("json");
    let policy = policy["attention_policy"].as_str().expect("policy");
    assert!(
        !policy.is_empty() && acks[0].2.contains(policy),
        "{}",
        acks[0].2
    );
    let headers: Value = serde_json::from_str(&acks[0].3).expect("headers");
    assert_eq!(headers["Auto-Submitted"], "auto-generated");
}

// ---- end to end against real Postfix + Dovecot ----

pub(crate) struct Servers {
    root: PathBuf,
    pub(crate) smtp: u16,
    pub(crate) submission: u16,
    pub(crate) imap: u16,
    /// IMAP with implicit TLS.
    pub(crate) imaps: u16,
    ports: [u16; 6],
    pub(crate) ca: PathBuf,
    _dir: tempfile::TempDir,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/mail-test-servers.sh")
}

fn run_script(args: &[&str], ports: [u16; 6]) -> String {
    let out = std::process::Command::new(script())
        .args(args)
        .env("MAIL_SMTP_PORT", ports[0].to_string())
        .env("MAIL_SUBMISSION_PORT", ports[1].to_string())
        .env("MAIL_IMAP_PORT", ports[2].to_string())
        .env("MAIL_LMTP_PORT", ports[3].to_string())
        .env("MAIL_AUTH_PORT", ports[4].to_string())
        .env("MAIL_IMAPS_PORT", ports[5].to_string())
        .output()
        .expect("run scripts/mail-test-servers.sh");
    assert!(
        out.status.success(),
        "mail-test-servers.sh {args:?} failed (the end-to-end mail tests need root and `scripts/mail-test-servers.sh install`): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Servers {
    pub(crate) fn start(base: u16) -> Servers {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("mail");
        let ports = [base, base + 1, base + 2, base + 3, base + 4, base + 5];
        run_script(&["start", root.to_str().expect("utf-8 path")], ports);
        Servers {
            ca: root.join("cert.pem"),
            root,
            smtp: ports[0],
            submission: ports[1],
            imap: ports[2],
            imaps: ports[5],
            ports,
            _dir: dir,
        }
    }
    pub(crate) fn stop(&self) {
        run_script(&["stop", self.root.to_str().expect("path")], self.ports);
    }
    fn restart(&self) {
        run_script(&["start", self.root.to_str().expect("path")], self.ports);
    }
    /// crm on the submission port: STARTTLS and AUTH, verified against the test CA.
    pub(crate) fn submission_as_crm(&self) -> ServerConfig {
        ServerConfig {
            host: "127.0.0.1".into(),
            port: self.submission,
            security: Security::Starttls,
            user: Some("crm@ventanilla.test".into()),
            password: Some("secreto".into()),
            ca_file: Some(self.ca.clone()),
        }
    }

    pub(crate) fn imap(&self, user: &str) -> ServerConfig {
        ServerConfig {
            host: "127.0.0.1".into(),
            port: self.imap,
            security: Security::Starttls,
            user: Some(format!("{user}@ventanilla.test")),
            password: Some("secreto".into()),
            ca_file: Some(self.ca.clone()),
        }
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        let _ = std::process::Command::new(script())
            .args(["stop", self.root.to_str().unwrap_or("/nonexistent")])
            .output();
    }
}

/// ana (or anyone) sends a message to crm through the no-AUTH port.
pub(crate) async fn send_plain(port: u16, raw: &[u8], from: &str, to: &str) {
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor, address::Envelope};
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .build();
    let envelope = Envelope::new(
        Some(from.parse().expect("from")),
        vec![to.parse().expect("to")],
    )
    .expect("envelope");
    transport
        .send_raw(&envelope, raw)
        .await
        .expect("Postfix accepts the message");
}

/// Every message in a user's INBOX (not flagged).
pub(crate) async fn mailbox(servers: &Servers, user: &str) -> Vec<Vec<u8>> {
    use futures_util::TryStreamExt;
    let mut session = mail::imap::connect(&servers.imap(user))
        .await
        .expect("IMAP login");
    session.select("INBOX").await.expect("select");
    let uids = session.uid_search("ALL").await.expect("search");
    let mut raws = Vec::new();
    if !uids.is_empty() {
        let set = uids
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let fetched: Vec<_> = session
            .uid_fetch(&set, "BODY.PEEK[]")
            .await
            .expect("fetch")
            .try_collect()
            .await
            .expect("fetch");
        raws = fetched
            .iter()
            .filter_map(|m| m.body().map(<[u8]>::to_vec))
            .collect();
    }
    let _ = session.logout().await;
    raws
}

pub(crate) async fn wait_for<F, Fut, T>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn header_of(raw: &[u8], name: &str) -> Option<String> {
    mail_parser::MessageParser::default()
        .parse(raw)?
        .header_raw(name)
        .map(|v| v.trim().to_string())
}

fn subjects(raws: &[Vec<u8>]) -> Vec<String> {
    raws.iter()
        .filter_map(|r| {
            mail_parser::MessageParser::default()
                .parse(r.as_slice())?
                .subject()
                .map(String::from)
        })
        .collect()
}

pub(crate) fn mail_args(servers: &Servers) -> MailArgs {
    use clap::Parser;
    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        mail: MailArgs,
    }
    let mut args = Wrapper::parse_from(["test"]).mail;
    args.mail_from = Some("CAU <crm@ventanilla.test>".into());
    args.mail_ca_file = Some(servers.ca.clone());
    args
}

#[tokio::test]
async fn mail_end_to_end_request_acknowledgement_reply_outage_and_crash() {
    let _serial = MAIL_SERVERS.lock().await;
    let servers = Servers::start(3525);
    let app = TestApp::spawn().await;
    let args = mail_args(&servers);
    mail::save_settings(&app.db, &args).await.expect("settings");
    let ana = app.requester(7301, "none").await;
    set_email(&app, ana, "ana@ventanilla.test").await;

    // Outbound: the submission port with STARTTLS and AUTH, verified against the test CA.
    let mut worker = mail::outbound::Worker::new(app.db.clone(), &servers.submission_as_crm())
        .expect("SMTP transport");
    worker.backoff_base_ms = 500;
    let worker_task = tokio::spawn(worker.run());
    let fetcher = mail::imap::Fetcher::new(
        app.db.clone(),
        ImapConfig {
            server: servers.imap("crm"),
            folder: "INBOX".into(),
            done_folder: None,
            poll_seconds: 1,
        },
        policy(),
    );
    let fetch = || async {
        let mut session = mail::imap::connect(&fetcher.config.server)
            .await
            .expect("crm logs in");
        session.select("INBOX").await.expect("select");
        let n = fetcher
            .fetch_round(&mut session)
            .await
            .expect("fetch round");
        let _ = session.logout().await;
        n
    };

    // 1. ana writes to crm: a request.
    let first = crlf(
        "From: Ana <ana@ventanilla.test>\nTo: crm@ventanilla.test\nSubject: No funciona la red en el laboratorio\nMessage-ID: <e2e-1@ventanilla.test>\nContent-Type: text/plain; charset=utf-8\n\nDesde la mañana no hay conexión en el laboratorio 3.\n",
    );
    send_plain(
        servers.smtp,
        &first,
        "ana@ventanilla.test",
        "crm@ventanilla.test",
    )
    .await;
    let number: String = wait_for("the request from ana's mail", Duration::from_secs(30), || async {
        fetch().await;
        sqlx::query_scalar::<_, String>("SELECT q.number FROM requests q JOIN mail_inbound m ON m.request_id = q.id WHERE m.message_id = 'e2e-1@ventanilla.test'")
            .fetch_optional(app.db.read()).await.expect("query")
    }).await;
    let body = detail(&app, &number).await;
    assert_eq!(
        (body["channel"].as_str(), body["requester_id"].as_i64()),
        (Some("email"), Some(ana))
    );
    assert!(
        body["description"]
            .as_str()
            .unwrap_or("")
            .contains("mañana")
    );

    // 2. The acknowledgement with the number arrives in ana's INBOX, threaded and auto-replied.
    let ack = wait_for(
        "the acknowledgement in ana's INBOX",
        Duration::from_secs(30),
        || async {
            mailbox(&servers, "ana")
                .await
                .into_iter()
                .find(|r| header_of(r, "Subject").is_some_and(|s| s.contains(&number)))
        },
    )
    .await;
    assert_eq!(
        header_of(&ack, "In-Reply-To").as_deref(),
        Some("<e2e-1@ventanilla.test>")
    );
    assert_eq!(
        header_of(&ack, "Auto-Submitted").as_deref(),
        Some("auto-replied")
    );
    let ack_id = header_of(&ack, "Message-ID").expect("Message-ID");
    assert!(ack_id.ends_with("@ventanilla.test>"), "{ack_id}");

    // 3. ana replies to the acknowledgement: a comment on the same request.
    let reply = crlf(&format!(
        "From: ana@ventanilla.test\nTo: crm@ventanilla.test\nSubject: Re: [{number}] Recibimos su solicitud\nMessage-ID: <e2e-2@ventanilla.test>\nIn-Reply-To: {ack_id}\nReferences: <e2e-1@ventanilla.test> {ack_id}\n\nYa volvió la conexión, gracias.\n"
    ));
    send_plain(
        servers.smtp,
        &reply,
        "ana@ventanilla.test",
        "crm@ventanilla.test",
    )
    .await;
    wait_for(
        "the reply as a comment",
        Duration::from_secs(30),
        || async {
            fetch().await;
            let timeline = detail(&app, &number).await["timeline"].clone();
            timeline
                .as_array()
                .expect("timeline")
                .iter()
                .any(|e| {
                    e["kind"] == "comment"
                        && e["payload"]["body"] == "Ya volvió la conexión, gracias."
                })
                .then_some(())
        },
    )
    .await;

    // 4. Crash between storing and flagging: the message is applied exactly once.
    let third = crlf(
        "From: ana@ventanilla.test\nTo: crm@ventanilla.test\nSubject: Proyector descompuesto\nMessage-ID: <e2e-3@ventanilla.test>\n\nEl proyector del aula 5 no enciende.\n",
    );
    send_plain(
        servers.smtp,
        &third,
        "ana@ventanilla.test",
        "crm@ventanilla.test",
    )
    .await;
    let stored = wait_for(
        "the third message in crm's INBOX",
        Duration::from_secs(30),
        || async {
            mailbox(&servers, "crm")
                .await
                .into_iter()
                .find(|r| header_of(r, "Message-ID").is_some_and(|m| m.contains("e2e-3")))
        },
    )
    .await;
    // The fetcher stored it, then the process died (nothing applied, nothing flagged).
    inbound::store(&app.db, &stored, "imap:INBOX", now_ms())
        .await
        .expect("store");
    fetch().await;
    fetch().await;
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM requests WHERE subject = 'Proyector descompuesto'",
    )
    .fetch_one(app.db.read())
    .await
    .expect("count");
    assert_eq!(count, 1);
    {
        let mut session = mail::imap::connect(&servers.imap("crm"))
            .await
            .expect("login");
        session.select("INBOX").await.expect("select");
        assert!(
            session
                .uid_search("UNSEEN")
                .await
                .expect("search")
                .is_empty(),
            "every applied message is flagged"
        );
        let _ = session.logout().await;
    }

    // 5. SMTP down while requests are created: every acknowledgement arrives exactly once.
    wait_for(
        "the earlier acknowledgements to go out",
        Duration::from_secs(30),
        || async {
            let unsent: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status <> 'sent'")
                    .fetch_one(app.db.read())
                    .await
                    .expect("count");
            (unsent == 0).then_some(())
        },
    )
    .await;
    servers.stop();
    let service = app.service_id("Correo electrónico").await;
    let mut numbers = Vec::new();
    for _ in 0..3 {
        numbers.push(app.phone_request(ana, service).await);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status <> 'sent'")
        .fetch_one(app.db.read())
        .await
        .expect("count");
    assert_eq!(pending, 3, "nothing is delivered while Postfix is down");
    servers.restart();
    let expect_once = |raws: Vec<Vec<u8>>| {
        let subjects = subjects(&raws);
        numbers
            .iter()
            .map(|n| subjects.iter().filter(|s| s.contains(n.as_str())).count())
            .collect::<Vec<_>>()
    };
    wait_for(
        "the three acknowledgements",
        Duration::from_secs(60),
        || async {
            expect_once(mailbox(&servers, "ana").await)
                .iter()
                .all(|c| *c >= 1)
                .then_some(())
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(expect_once(mailbox(&servers, "ana").await), vec![1, 1, 1]);

    // 6. A permanent refusal (550 unknown user) fails the row at once, visibly.
    let nobody = app.requester(7302, "none").await;
    set_email(&app, nobody, "nadie@ventanilla.test").await;
    let refused = app.phone_request(nobody, service).await;
    let (status, attempts, error): (String, i64, Option<String>) =
        wait_for("the permanent failure", Duration::from_secs(30), || async {
            sqlx::query_as::<_, (String, i64, Option<String>)>(
                "SELECT o.status, o.attempts, o.last_error FROM outbox o JOIN requests q ON q.id = o.request_id WHERE q.number = $1",
            )
            .bind(&refused)
            .fetch_optional(app.db.read())
            .await
            .expect("row")
            .filter(|r| r.0 == "failed")
        })
        .await;
    assert_eq!((status.as_str(), attempts), ("failed", 1));
    assert!(error.unwrap_or_default().contains("550"));

    // 7. The fetcher as `serve` runs it: IDLE wakes it for a new message (polling every 60 s).
    let mut idle_config = fetcher.config.clone();
    idle_config.poll_seconds = 60;
    let running =
        tokio::spawn(mail::imap::Fetcher::new(app.db.clone(), idle_config, policy()).run());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let fourth = crlf(
        "From: ana@ventanilla.test\nTo: crm@ventanilla.test\nSubject: Sin audio en el auditorio\nMessage-ID: <e2e-4@ventanilla.test>\n\nNo se escucha el micrófono.\n",
    );
    let sent_at = Instant::now();
    send_plain(
        servers.smtp,
        &fourth,
        "ana@ventanilla.test",
        "crm@ventanilla.test",
    )
    .await;
    wait_for(
        "the request through IDLE",
        Duration::from_secs(20),
        || async {
            sqlx::query_scalar::<_, i64>(
                "SELECT id FROM requests WHERE subject = 'Sin audio en el auditorio'",
            )
            .fetch_optional(app.db.read())
            .await
            .expect("query")
        },
    )
    .await;
    assert!(sent_at.elapsed() < Duration::from_secs(20));
    running.abort();
    worker_task.abort();
}

/// `ventanilla mailgate` as an MTA runs it: the message on standard input, the outcome on
/// standard output, exit status 0.
#[tokio::test]
async fn the_mailgate_command_reads_one_message_on_standard_input() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let url = crate::helpers::fresh_database_url(dir.path()).await;
    let raw = crlf(
        "From: Lucía <lucia@otra.mx>\nSubject: =?UTF-8?Q?No_abre_el_sistema_de_n=C3=B3mina?=\nMessage-ID: <gate-cli@otra.mx>\n\nDesde ayer no abre.\n",
    );
    let run = || {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ventanilla"))
            .args([
                "--database",
                &url,
                "mailgate",
                "--mail-from",
                "CAU <crm@ventanilla.test>",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn ventanilla mailgate");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(&raw)
            .expect("write");
        child.wait_with_output().expect("mailgate ends")
    };
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let outcome = last_json_line(&out.stdout);
    assert_eq!(outcome["outcome"], "request");
    assert_eq!(outcome["fresh"], true);
    // The MTA delivers it again: the same request, not a second one.
    let again = run();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let again = last_json_line(&again.stdout);
    assert_eq!(
        (again["fresh"].as_bool(), &again["request_number"]),
        (Some(false), &outcome["request_number"])
    );
    let db = ventanilla::db::Db::connect(&url).await.expect("connect");
    let subject: String = sqlx::query_scalar("SELECT subject FROM requests")
        .fetch_one(db.read())
        .await
        .expect("one request");
    assert_eq!(subject, "No abre el sistema de nómina");
    db.close().await;
}

/// The outcome is the last line of standard output (log lines, such as sqlx's slow-statement
/// warnings under load, may come before it).
fn last_json_line(stdout: &[u8]) -> Value {
    let text = String::from_utf8_lossy(stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    serde_json::from_str(line).unwrap_or_else(|e| panic!("JSON outcome ({e}): {text}"))
}
