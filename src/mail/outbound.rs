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
        .map(|sheet| sheet.attention_policy);
    let facts = AcknowledgementFacts {
        request_id,
        number: &number,
        subject: &subject,
        service: service.as_deref(),
        attention_policy: policy.as_deref(),
        missing,
        reply,
    };
    let ids = enqueue_acknowledgements(tx, std::slice::from_ref(&facts), now_ms).await?;
    ids.into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("the outbox returned no id").into())
}

/// Renders the acknowledgements of `facts` with the current templates (read once) and puts them
/// in the outbox in one statement, inside the caller's transaction; answers their outbox ids.
pub async fn enqueue_acknowledgements(
    tx: &mut AnyConnection,
    facts: &[AcknowledgementFacts<'_>],
    now_ms: i64,
) -> AppResult<Vec<i64>> {
    Acknowledgements::read(tx)
        .await?
        .enqueue(tx, facts, now_ms)
        .await
}

/// What one acknowledgement says (L6, A13).
pub struct AcknowledgementFacts<'a> {
    pub request_id: i64,
    pub number: &'a str,
    pub subject: &'a str,
    pub service: Option<&'a str>,
    /// The sheet's attention policy; a placeholder text when it has none.
    pub attention_policy: Option<&'a str>,
    /// Requirements still missing: the message asks for them instead.
    pub missing: &'a [String],
    pub reply: ReplyTo<'a>,
}

/// What the acknowledgements of one transaction share: our sender identity and the two
/// templates, read once however many requests the transaction registers.
pub struct Acknowledgements {
    sender: Sender,
    acknowledgement: mail_templates::Loaded,
    missing_requirements: mail_templates::Loaded,
}

impl Acknowledgements {
    pub async fn read(tx: &mut AnyConnection) -> AppResult<Acknowledgements> {
        Ok(Acknowledgements {
            sender: sender_in_tx(tx).await?,
            acknowledgement: mail_templates::Loaded::read(tx, "acknowledgement").await?,
            missing_requirements: mail_templates::Loaded::read(tx, "missing_requirements").await?,
        })
    }

    /// Renders the acknowledgements of `facts` and puts them in the outbox in one statement,
    /// inside the caller's transaction; answers their outbox ids.
    pub async fn enqueue(
        &self,
        tx: &mut AnyConnection,
        facts: &[AcknowledgementFacts<'_>],
        now_ms: i64,
    ) -> AppResult<Vec<i64>> {
        let messages = self.messages(facts)?;
        let rows: Vec<outbox::NewMessage<'_>> = messages.iter().map(|m| m.as_new()).collect();
        outbox::enqueue_many(tx, &rows, now_ms).await
    }

    /// The messages for `facts`, each rendered with its template.
    pub fn messages(&self, facts: &[AcknowledgementFacts<'_>]) -> AppResult<Vec<OutgoingMessage>> {
        let acknowledgement = self.acknowledgement.renderer()?;
        let missing_requirements = self.missing_requirements.renderer()?;
        facts
            .iter()
            .map(|f| {
                let (topic, renderer) = if f.missing.is_empty() {
                    ("acknowledgement", &acknowledgement)
                } else {
                    ("missing_requirements", &missing_requirements)
                };
                self.build(topic, renderer, f)
            })
            .collect()
    }

    fn build(
        &self,
        topic: &'static str,
        renderer: &mail_templates::Renderer<'_>,
        f: &AcknowledgementFacts<'_>,
    ) -> AppResult<OutgoingMessage> {
        let policy = f
            .attention_policy
            .filter(|p| !p.trim().is_empty())
            .unwrap_or(templates::POLICY_PENDING);
        let rendered = renderer.render(&json!({
            "number": f.number, "request_subject": f.subject, "service": f.service,
            "attention_policy": policy, "missing_requirements": f.missing,
        }))?;
        let headers = match f.reply.message_id {
            Some(parent) => json!({
                "Auto-Submitted": "auto-replied",
                "In-Reply-To": format!("<{parent}>"),
                "References": format!("<{parent}>"),
            }),
            None => json!({ "Auto-Submitted": "auto-generated" }),
        };
        Ok(OutgoingMessage {
            topic,
            request_id: f.request_id,
            recipient: f.reply.recipient.to_string(),
            subject: rendered.subject,
            body_text: rendered.text,
            body_html: rendered.html,
            headers,
            message_id: new_message_id("ack", f.number, &self.sender.domain),
        })
    }
}

/// A rendered message about one request, ready for the outbox.
pub struct OutgoingMessage {
    pub topic: &'static str,
    pub request_id: i64,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub headers: serde_json::Value,
    pub message_id: String,
}

impl OutgoingMessage {
    pub fn as_new(&self) -> outbox::NewMessage<'_> {
        outbox::NewMessage {
            topic: self.topic,
            request_id: Some(self.request_id),
            recipient: &self.recipient,
            subject: &self.subject,
            body_text: &self.body_text,
            body_html: Some(&self.body_html),
            headers: self.headers.clone(),
            message_id: &self.message_id,
        }
    }
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
