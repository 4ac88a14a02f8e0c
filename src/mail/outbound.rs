//! Outgoing mail: the acknowledgement written inside a request's own transaction, and the worker
//! that delivers outbox rows over SMTP.
//!
//! Every message carries our own Message-ID (the outbox row's, fixed when the row is written, so
//! replies thread and a retried delivery is recognisable), `Auto-Submitted`, an `X-Loop` naming
//! our address, and the request number in brackets in the subject. A 5xx answer fails the row for
//! good (visible in the outbox with its error); anything else is retried with back-off.

use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::json;
use sqlx::AnyConnection;
use ventanilla_domain::catalogue::SheetContent;

use super::{Security, ServerConfig, templates};
use crate::db::{Db, mail_templates, outbox};
use crate::error::AppResult;

/// Our identity as the database records it (`mail::save_settings`).
pub struct Sender {
    pub from: String,
    pub domain: String,
}

pub async fn sender_in_tx(tx: &mut AnyConnection) -> AppResult<Sender> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT name, value FROM mail_settings")
        .fetch_all(&mut *tx)
        .await?;
    let get = |key: &str| rows.iter().find(|(n, _)| n == key).map(|(_, v)| v.clone());
    Ok(Sender {
        from: get("from").unwrap_or_else(|| "CAU <cau@ventanilla.localhost>".into()),
        domain: get("message_id_domain").unwrap_or_else(|| "ventanilla.localhost".into()),
    })
}

/// A new Message-ID of ours (without angle brackets).
pub fn new_message_id(topic: &str, number: &str, domain: &str) -> String {
    format!(
        "{topic}.{}.{}@{domain}",
        number.to_ascii_lowercase(),
        uuid::Uuid::new_v4().simple()
    )
}

/// What an acknowledgement replies to, when it answers a mail.
pub struct ReplyTo<'a> {
    pub recipient: &'a str,
    pub message_id: Option<&'a str>,
}

/// Hook of `db::requests::create`: the acknowledgement with the number and the attention policy
/// (L6, A13), written in the request's own transaction when the requester has an e-mail.
/// Mail-born requests are acknowledged by `inbound` instead (it threads and loop-checks).
pub async fn acknowledge_in_tx(
    tx: &mut AnyConnection,
    request_id: i64,
    missing: &[String],
    now_ms: i64,
) -> AppResult<Option<i64>> {
    let row: Option<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT q.channel, q.number, r.email FROM requests q
         LEFT JOIN requesters r ON r.id = q.requester_id WHERE q.id = $1",
    )
    .bind(request_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((channel, _, Some(email))) = row else {
        return Ok(None);
    };
    if channel == "email" || email.trim().is_empty() {
        return Ok(None);
    }
    enqueue_acknowledgement(
        tx,
        request_id,
        missing,
        ReplyTo {
            recipient: email.trim(),
            message_id: None,
        },
        now_ms,
    )
    .await
    .map(Some)
}

/// Writes the acknowledgement of `request_id` to the outbox.
pub async fn enqueue_acknowledgement(
    tx: &mut AnyConnection,
    request_id: i64,
    missing: &[String],
    reply: ReplyTo<'_>,
    now_ms: i64,
) -> AppResult<i64> {
    let (number, subject, service, content): (String, String, Option<String>, Option<String>) =
        sqlx::query_as(
            "SELECT q.number, q.subject, s.name, ss.content FROM requests q
             LEFT JOIN services s ON s.id = q.service_id
             LEFT JOIN service_sheets ss ON ss.service_id = q.service_id AND ss.version = q.sheet_version
             WHERE q.id = $1",
        )
        .bind(request_id)
        .fetch_one(&mut *tx)
        .await?;
    let policy = content
        .and_then(|c| serde_json::from_str::<SheetContent>(&c).ok())
        .map(|sheet| sheet.attention_policy)
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| templates::POLICY_PENDING.to_string());
    let topic = if missing.is_empty() {
        "acknowledgement"
    } else {
        "missing_requirements"
    };
    let rendered = mail_templates::render_in_tx(
        tx,
        topic,
        &json!({
            "number": number, "request_subject": subject, "service": service,
            "attention_policy": policy, "missing_requirements": missing,
        }),
    )
    .await?;
    let sender = sender_in_tx(tx).await?;
    let message_id = new_message_id("ack", &number, &sender.domain);
    let mut headers = json!({ "Auto-Submitted": "auto-generated" });
    if let Some(parent) = reply.message_id {
        headers = json!({
            "Auto-Submitted": "auto-replied",
            "In-Reply-To": format!("<{parent}>"),
            "References": format!("<{parent}>"),
        });
    }
    outbox::enqueue(
        tx,
        outbox::NewMessage {
            topic,
            request_id: Some(request_id),
            recipient: reply.recipient,
            subject: &rendered.subject,
            body_text: &rendered.text,
            body_html: Some(&rendered.html),
            headers,
            message_id: &message_id,
        },
        now_ms,
    )
    .await
}

/// Delivers outbox rows over SMTP.
pub struct Worker {
    db: Db,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    owner: String,
    /// Scales `outbox::backoff_ms` (30 s base); tests shorten it.
    pub backoff_base_ms: i64,
    /// After this many attempts a transient failure is given up as failed.
    pub max_attempts: i64,
    pub batch: i64,
}

impl Worker {
    pub fn new(db: Db, server: &ServerConfig) -> anyhow::Result<Worker> {
        let tls = match server.security {
            Security::Plain => Tls::None,
            Security::Starttls | Security::Tls => {
                let mut params = TlsParameters::builder(server.host.clone());
                if let Some(path) = &server.ca_file {
                    let pem = std::fs::read(path)?;
                    params = params.add_root_certificate(Certificate::from_pem(&pem)?);
                }
                let params = params.build_rustls()?;
                if server.security == Security::Tls {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&server.host)
            .port(server.port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(20)));
        if let (Some(user), Some(password)) = (&server.user, &server.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Worker {
            db,
            transport: builder.build(),
            owner: format!("outbox-{}", uuid::Uuid::new_v4().simple()),
            backoff_base_ms: 30_000,
            max_attempts: 12,
            batch: 20,
        })
    }

    /// Runs until the task is dropped: delivers what is due, then waits a second.
    pub async fn run(self) {
        loop {
            match self.deliver_due().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::error!(error = ?e, "outbox: claiming messages failed"),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// One round: claims due rows and tries each once. Returns how many were tried.
    pub async fn deliver_due(&self) -> AppResult<usize> {
        let now = now_ms();
        let rows = outbox::claim(&self.db, &self.owner, self.batch, 120_000, now).await?;
        let from =
            sqlx::query_scalar::<_, String>("SELECT value FROM mail_settings WHERE name = 'from'")
                .fetch_optional(self.db.read())
                .await?
                .unwrap_or_else(|| "CAU <cau@ventanilla.localhost>".into());
        for row in &rows {
            let result = match build_message(row, &from) {
                Ok(message) => self.transport.send(message).await.map(|_| ()).map_err(|e| {
                    let permanent = e.is_permanent();
                    (format!("{e}"), permanent)
                }),
                Err(e) => Err((e, true)),
            };
            match result {
                Ok(()) => outbox::mark_sent(&self.db, row.id, &self.owner, now_ms()).await?,
                Err((error, permanent)) => {
                    let give_up = permanent || row.attempts >= self.max_attempts;
                    let retry_at = (!give_up).then(|| {
                        now_ms() + outbox::backoff_ms(row.attempts) * self.backoff_base_ms / 30_000
                    });
                    tracing::warn!(
                        outbox_id = row.id,
                        attempts = row.attempts,
                        permanent = give_up,
                        "outbox: delivery failed"
                    );
                    outbox::mark_failed(&self.db, row.id, &self.owner, &error, retry_at).await?;
                }
            }
        }
        Ok(rows.len())
    }
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

macro_rules! text_header {
    ($name:ident, $header:literal) => {
        #[derive(Clone)]
        struct $name(String);
        impl lettre::message::header::Header for $name {
            fn name() -> HeaderName {
                HeaderName::new_from_ascii_str($header)
            }
            fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok($name(s.to_string()))
            }
            fn display(&self) -> HeaderValue {
                HeaderValue::new(Self::name(), self.0.clone())
            }
        }
    };
}
text_header!(AutoSubmitted, "Auto-Submitted");
text_header!(XLoop, "X-Loop");
text_header!(XAutoResponseSuppress, "X-Auto-Response-Suppress");

/// The RFC 5322 message of an outbox row; an error here is permanent (bad address or data).
pub fn build_message(row: &outbox::OutboxMessage, from: &str) -> Result<Message, String> {
    let from: Mailbox = from
        .parse()
        .map_err(|e| format!("remitente inválido: {e}"))?;
    let to: Mailbox = row
        .recipient
        .parse()
        .map_err(|e| format!("destinatario inválido: {e}"))?;
    let headers: serde_json::Value = serde_json::from_str(&row.headers).unwrap_or_default();
    let header = |name: &str| headers.get(name).and_then(|v| v.as_str()).map(String::from);
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(row.subject.clone())
        .message_id(Some(format!("<{}>", row.message_id)))
        .header(AutoSubmitted(
            header("Auto-Submitted").unwrap_or_else(|| "auto-generated".into()),
        ))
        .header(XLoop(from.email.to_string()))
        .header(XAutoResponseSuppress("OOF, AutoReply".into()));
    if let Some(parent) = header("In-Reply-To") {
        builder = builder.in_reply_to(parent);
    }
    if let Some(references) = header("References") {
        builder = builder.references(references);
    }
    let message = match &row.body_html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            row.body_text.clone(),
            html.clone(),
        )),
        None => builder.singlepart(SinglePart::plain(row.body_text.clone())),
    };
    message.map_err(|e| format!("mensaje inválido: {e}"))
}

/// Writes a status-change notice to the requester of `request_id` (when they have an e-mail), in
/// the caller's transaction: for the step that changed the status.
pub async fn enqueue_status_change(
    tx: &mut AnyConnection,
    request_id: i64,
    from_label: &str,
    to_label: &str,
    note: Option<&str>,
    now_ms: i64,
) -> AppResult<Option<i64>> {
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT q.number, r.email FROM requests q
         LEFT JOIN requesters r ON r.id = q.requester_id WHERE q.id = $1",
    )
    .bind(request_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((number, Some(email))) = row else {
        return Ok(None);
    };
    let rendered = mail_templates::render_in_tx(
        tx,
        "status_changed",
        &json!({
            "number": number, "from_status": from_label, "to_status": to_label,
            "note": note.filter(|n| !n.trim().is_empty()),
        }),
    )
    .await?;
    let sender = sender_in_tx(tx).await?;
    let message_id = new_message_id("status", &number, &sender.domain);
    outbox::enqueue(
        tx,
        outbox::NewMessage {
            topic: "status_changed",
            request_id: Some(request_id),
            recipient: email.trim(),
            subject: &rendered.subject,
            body_text: &rendered.text,
            body_html: Some(&rendered.html),
            headers: json!({ "Auto-Submitted": "auto-generated" }),
            message_id: &message_id,
        },
        now_ms,
    )
    .await
    .map(Some)
}
