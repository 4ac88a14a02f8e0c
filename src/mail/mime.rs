//! MIME → what the desk needs from a message: sender, subject, readable text, attachments, the
//! threading headers, whether it was sent by a machine (loop protection) and, for a bounce, which
//! of our messages it bounces.
//!
//! mail-parser decodes charsets (ISO-8859-1, Windows-1252 …), encoded words, quoted-printable and
//! base64, and turns an HTML-only body into text. It is lenient by design, so the checks that make
//! a message "broken" (no sender, truncated headers or multipart) are ours, and a broken message
//! is a dead letter with a reason instead of a half-read request.

use mail_parser::{HeaderValue, MessageParser, MimeHeaders, PartType};
use ventanilla_domain::identifiers::RequestNumber;

/// The longest subject kept for a request; longer ones are cut (a huge header must not bloat rows).
pub const MAX_SUBJECT_CHARS: usize = 200;
/// The longest description kept from a body.
pub const MAX_BODY_CHARS: usize = 100_000;
/// At most this many References are looked up, newest first.
const MAX_REFERENCES: usize = 50;

#[derive(Debug, Clone)]
pub struct ParsedMail {
    /// Message-ID without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    /// Newest first (the last References entry is the direct parent).
    pub references: Vec<String>,
    pub subject: String,
    /// The sender's address, lower-cased.
    pub from: String,
    pub from_name: Option<String>,
    pub body: String,
    pub attachments: Vec<MailAttachment>,
    /// Why no automatic answer may be sent to this message (RFC 3834 and friends), if any.
    pub machine_sent: Option<&'static str>,
    /// Loop markers that name us: a message we sent coming back.
    pub x_loop: Vec<String>,
    /// For a delivery status notification: the Message-IDs of the bounced messages (empty for
    /// another kind of report, such as a read receipt).
    pub bounce_of: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct MailAttachment {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// Why a message cannot be read; the text goes into the dead-letter list (Spanish, no content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable(pub String);

/// Parses one RFC 5322 message.
pub fn parse(raw: &[u8]) -> Result<ParsedMail, Unreadable> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(Unreadable("mensaje vacío".into()));
    }
    if header_end(raw).is_none() {
        return Err(Unreadable(
            "mensaje truncado: los encabezados no terminan (falta la línea en blanco)".into(),
        ));
    }
    let message = MessageParser::default()
        .parse(raw)
        .ok_or_else(|| Unreadable("no es un mensaje RFC 5322".into()))?;
    let from_addr = message
        .from()
        .and_then(|a| a.first())
        .or_else(|| message.sender().and_then(|a| a.first()));
    let from = from_addr
        .and_then(|a| a.address())
        .map(|a| a.trim().to_lowercase())
        .filter(|a| a.contains('@') && !a.contains(char::is_whitespace))
        .ok_or_else(|| Unreadable("sin remitente válido (From)".into()))?;
    let from_name = from_addr
        .and_then(|a| a.name())
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    check_multipart_complete(raw, &message)?;

    let subject = clean_line(message.subject().unwrap_or(""), MAX_SUBJECT_CHARS);
    let body = message
        .body_text(0)
        .map(|b| b.into_owned())
        .unwrap_or_default();
    let body = truncate_chars(body.trim(), MAX_BODY_CHARS);

    let mut attachments = Vec::new();
    for part in message.attachments() {
        let content_type = part
            .content_type()
            .map(|c| match c.subtype() {
                Some(sub) => format!("{}/{}", c.ctype(), sub),
                None => c.ctype().to_string(),
            })
            .unwrap_or_else(|| "application/octet-stream".into());
        if content_type.starts_with("message/") || content_type == "text/rfc822-headers" {
            continue;
        }
        let filename = part
            .attachment_name()
            .map(|n| clean_line(n, 200))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "adjunto".into());
        attachments.push(MailAttachment {
            filename,
            content_type,
            content: part.contents().to_vec(),
        });
    }

    let in_reply_to = ids_of(message.in_reply_to());
    let mut references = ids_of(message.references());
    references.reverse();
    references.truncate(MAX_REFERENCES);

    let header_text = |name: &str| -> Option<String> {
        message
            .header_raw(name)
            .map(|v| v.trim().to_ascii_lowercase())
    };
    let x_loop: Vec<String> = message
        .headers()
        .iter()
        .filter(|h| h.name().eq_ignore_ascii_case("X-Loop"))
        .filter_map(|h| h.value().as_text().map(|t| t.trim().to_ascii_lowercase()))
        .collect();
    let machine_sent = machine_sent(
        &from,
        header_text("Auto-Submitted").as_deref(),
        header_text("Precedence").as_deref(),
        header_text("X-Auto-Response-Suppress").is_some(),
        !x_loop.is_empty() || header_text("X-Loop").is_some(),
        message.header_raw("List-Id").is_some(),
        header_text("Return-Path").as_deref() == Some("<>"),
    );
    let bounce_of = bounce_targets(&message);

    Ok(ParsedMail {
        message_id: message
            .message_id()
            .map(normalise_id)
            .filter(|m| !m.is_empty()),
        in_reply_to,
        references,
        subject,
        from,
        from_name,
        body,
        attachments,
        machine_sent,
        x_loop,
        bounce_of,
    })
}

/// RFC 3834 and the usual bulk markers: a message that must not get an automatic answer.
pub fn machine_sent(
    from: &str,
    auto_submitted: Option<&str>,
    precedence: Option<&str>,
    auto_response_suppress: bool,
    x_loop: bool,
    list_id: bool,
    null_return_path: bool,
) -> Option<&'static str> {
    if auto_submitted.is_some_and(|v| !v.starts_with("no")) {
        return Some("auto_submitted");
    }
    if precedence.is_some_and(|p| matches!(p, "bulk" | "list" | "junk")) {
        return Some("precedence");
    }
    if auto_response_suppress {
        return Some("x_auto_response_suppress");
    }
    if x_loop {
        return Some("x_loop");
    }
    if list_id {
        return Some("list");
    }
    if null_return_path {
        return Some("null_return_path");
    }
    let local = from.split('@').next().unwrap_or("");
    let local = local.replace(['-', '_', '.'], "");
    if matches!(
        local.as_str(),
        "mailerdaemon" | "postmaster" | "noreply" | "donotreply" | "nonreply"
    ) || local.starts_with("noreply")
        || local.starts_with("bounce")
    {
        return Some("no_reply_sender");
    }
    None
}

/// The `[SS-YYYY-NNNNNN]` marker in a subject, if any.
pub fn number_in_subject(subject: &str) -> Option<RequestNumber> {
    let mut rest = subject;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        if let Some(close) = after.find(']')
            && let Ok(number) = RequestNumber::parse(after[..close].trim())
        {
            return Some(number);
        }
        rest = after;
    }
    None
}

/// `<abc@x>` → `abc@x`.
pub fn normalise_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_string()
}

fn ids_of(value: &HeaderValue<'_>) -> Vec<String> {
    let list: Vec<String> = match value {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    };
    list.iter()
        .map(|i| normalise_id(i))
        .filter(|i| !i.is_empty())
        .collect()
}

/// The Message-IDs a delivery status notification reports on (RFC 3464), or `None` when the
/// message is not a bounce.
fn bounce_targets(message: &mail_parser::Message<'_>) -> Option<Vec<String>> {
    let is_report = message.content_type().is_some_and(|c| {
        c.ctype().eq_ignore_ascii_case("multipart")
            && c.subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    let has_status = message.parts.iter().any(|p| {
        p.content_type().is_some_and(|c| {
            c.ctype().eq_ignore_ascii_case("message")
                && c.subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("delivery-status"))
        })
    });
    if !has_status {
        // Another report (a read receipt, RFC 8098) reports on one of ours: nothing to apply.
        return is_report.then(Vec::new);
    }
    let mut ids = Vec::new();
    for part in &message.parts {
        match &part.body {
            PartType::Message(inner) => {
                if let Some(id) = inner.message_id() {
                    ids.push(normalise_id(id));
                }
            }
            PartType::Text(text)
                if part.content_type().is_some_and(|c| {
                    c.subtype()
                        .is_some_and(|s| s.eq_ignore_ascii_case("rfc822-headers"))
                }) =>
            {
                let headers = format!("{}\r\n\r\n", text.trim_end());
                if let Some(inner) = MessageParser::default().parse(headers.as_bytes())
                    && let Some(id) = inner.message_id()
                {
                    ids.push(normalise_id(id));
                }
            }
            _ => {}
        }
    }
    Some(ids)
}

/// Where the header section ends, or `None` when it never does (a truncated message).
fn header_end(raw: &[u8]) -> Option<usize> {
    let crlf = raw.windows(4).position(|w| w == b"\r\n\r\n");
    let lf = raw.windows(2).position(|w| w == b"\n\n");
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A multipart whose closing boundary never comes was cut in transit.
fn check_multipart_complete(
    raw: &[u8],
    message: &mail_parser::Message<'_>,
) -> Result<(), Unreadable> {
    let Some(ct) = message.content_type() else {
        return Ok(());
    };
    if !ct.ctype().eq_ignore_ascii_case("multipart") {
        return Ok(());
    }
    let Some(boundary) = ct.attribute("boundary") else {
        return Err(Unreadable("multipart sin boundary".into()));
    };
    let closing = format!("--{boundary}--");
    if !contains(raw, closing.as_bytes()) {
        return Err(Unreadable(
            "mensaje truncado: la parte multipart no cierra".into(),
        ));
    }
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn clean_line(text: &str, max: usize) -> String {
    let folded: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    truncate_chars(
        &folded.split_whitespace().collect::<Vec<_>>().join(" "),
        max,
    )
}

fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => text[..cut].to_string(),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_number_is_found_in_a_reply_subject() {
        let n = number_in_subject("RE: [SS-2026-000123] Recibimos su solicitud").expect("number");
        assert_eq!(n.to_string(), "SS-2026-000123");
        assert!(number_in_subject("[Ticket] SS-2026-000123 sin corchetes").is_none());
        assert!(number_in_subject("[urgente] [SS-2026-000007]").is_some());
    }

    #[test]
    fn machines_are_recognised_rfc_3834() {
        let m = |from: &str, auto: Option<&str>, prec: Option<&str>| {
            machine_sent(from, auto, prec, false, false, false, false)
        };
        assert_eq!(m("ana@x.mx", None, None), None);
        assert_eq!(m("ana@x.mx", Some("no"), None), None);
        assert!(m("ana@x.mx", Some("auto-replied"), None).is_some());
        assert!(m("ana@x.mx", None, Some("bulk")).is_some());
        assert!(m("MAILER-DAEMON@x.mx".to_lowercase().as_str(), None, None).is_some());
        assert!(m("no-reply@x.mx", None, None).is_some());
        assert!(m("postmaster@x.mx", None, None).is_some());
    }

    #[test]
    fn a_message_without_the_end_of_its_headers_is_unreadable() {
        assert!(parse(b"From: a@b.mx\r\nSubject: cortado").is_err());
        assert!(parse(b"").is_err());
        assert!(parse(b"Subject: hola\r\n\r\nsin remitente").is_err());
    }

    #[test]
    fn latin1_subject_and_body_keep_their_accents() {
        let raw = b"From: Jos\xe9 <jose@x.mx>\r\nSubject: =?ISO-8859-1?Q?Contrase=F1a_bloqueada?=\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\nNo puedo entrar a mi cuenta, \xbfme ayudan? Gracias, Jos\xe9 Pe\xf1a\r\n";
        let m = parse(raw).expect("parses");
        assert_eq!(m.subject, "Contraseña bloqueada");
        assert!(m.body.contains("¿me ayudan?"), "{}", m.body);
        assert!(m.body.contains("Peña"));
        assert!(m.message_id.is_none());
    }
}
