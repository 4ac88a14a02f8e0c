//! Quality surveys (L9, L12): the invitation after CAU verifies a solution (A18), reminders,
//! auto-close without answer, the requester's answer that closes or reopens the request, and the
//! monthly indices.
//!
//! A survey link is signed, not stored: its token is an HMAC of the survey's identity under a
//! server secret, so a reminder can carry the same link, and an altered link matches nothing. Only
//! the token's SHA-256 is stored, for look-up. Each verification round of a request gets one
//! survey (`UNIQUE (request_id, round)`), so two nodes dispatching at once send one invitation.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, AssertSqlSafe, FromRow};
use ventanilla_domain::calendar::Calendar;
use ventanilla_domain::lifecycle::{Actor, Status, Step};
use ventanilla_domain::survey::{self, Answer, Item};

use super::outbox::{self, NewMessage};
use super::requests::{EventRecord, StepInput, apply_step_in, insert_event};
use super::{Db, from_millis};
use crate::error::{AppError, AppResult};
use crate::mail::templates::Rendered;

const DAY_MS: i64 = 86_400_000;

/// Settings of the validation flow; defaults from DOMAIN.md.
#[derive(Debug, Clone)]
pub struct SurveySettings {
    /// Business days without answer before the request closes by itself.
    pub validation_business_days: u32,
    /// How long a survey stays answerable after its request closed.
    pub answerable_days_after_close: i64,
    /// A requester is not surveyed more often than this.
    pub min_days_between_surveys: i64,
    /// Where the public survey page is, e.g. `https://cau.example.mx`.
    pub public_base_url: String,
    /// The domain of our Message-IDs.
    pub message_id_domain: String,
}

impl Default for SurveySettings {
    fn default() -> Self {
        SurveySettings {
            validation_business_days: 5,
            answerable_days_after_close: 15,
            min_days_between_surveys: 7,
            public_base_url: "http://127.0.0.1:8080".into(),
            message_id_domain: "ventanilla.invalid".into(),
        }
    }
}

/// The server's signing key for survey links, created on first use.
pub async fn signing_key(db: &Db) -> AppResult<Vec<u8>> {
    let candidate = super::staff::random_secret("");
    sqlx::query("INSERT INTO app_secrets (name, value) VALUES ('survey_key', $1) ON CONFLICT (name) DO NOTHING")
        .bind(&candidate)
        .execute(db.write())
        .await?;
    let key: String = sqlx::query_scalar("SELECT value FROM app_secrets WHERE name = 'survey_key'")
        .fetch_one(db.write())
        .await?;
    Ok(key.into_bytes())
}

fn sign(key: &[u8], request_id: i64, round: i64) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(format!("survey:{request_id}:{round}").as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A request awaiting validation with what its invitation needs.
const PENDING_SELECT: &str = "SELECT q.id, q.number, q.subject, q.reopen_count, q.requester_id,
    r.full_name, r.email, r.unit_id, q.area_id, q.service_id, s.name AS service_name, q.channel
    FROM requests q
    LEFT JOIN requesters r ON r.id = q.requester_id
    LEFT JOIN services s ON s.id = q.service_id";

#[derive(FromRow)]
struct PendingValidation {
    id: i64,
    number: String,
    subject: String,
    reopen_count: i64,
    requester_id: Option<i64>,
    full_name: Option<String>,
    email: Option<String>,
    unit_id: Option<i64>,
    area_id: Option<i64>,
    service_id: Option<i64>,
    service_name: Option<String>,
    channel: String,
}

async fn invitation(
    tx: &mut AnyConnection,
    p: &PendingValidation,
    link: &str,
    reminder: bool,
    days: u32,
) -> AppResult<Rendered> {
    super::mail_templates::render_in_tx(
        tx,
        if reminder {
            "survey_reminder"
        } else {
            "survey_invitation"
        },
        &json!({
            "number": p.number,
            "name": p.full_name.as_deref().unwrap_or("usuario(a)"),
            "request_subject": p.subject,
            "service": p.service_name.as_deref().unwrap_or("sin servicio"),
            "link": link,
            "days": days,
        }),
    )
    .await
}

/// Creates the survey of every request that reached `validating` without one, and queues its
/// invitation. Returns how many surveys were created.
pub async fn dispatch_once(
    db: &Db,
    calendar: &Calendar,
    settings: &SurveySettings,
    now_ms: i64,
) -> AppResult<usize> {
    let pending: Vec<PendingValidation> = sqlx::query_as(
        AssertSqlSafe(format!(
            "{PENDING_SELECT} WHERE q.status = 'validating'
               AND NOT EXISTS (SELECT 1 FROM surveys v WHERE v.request_id = q.id AND v.round = q.reopen_count)
             ORDER BY q.id LIMIT 200"
        )),
    )
    .fetch_all(db.read())
    .await?;
    if pending.is_empty() {
        return Ok(0);
    }
    let key = signing_key(db).await?;
    let now = from_millis(now_ms);
    let auto_close =
        survey::end_of_nth_business_day(calendar, now, settings.validation_business_days)
            .map(|t| t.as_millisecond())
            .unwrap_or(now_ms + 7 * DAY_MS);
    let remind_at = now_ms + (auto_close - now_ms) / 2;
    let mut created = 0;
    for p in pending {
        let mut tx = db.begin_write().await?;
        let recently: Option<i64> = match p.requester_id {
            Some(requester) => sqlx::query_scalar(
                "SELECT id FROM surveys WHERE requester_id = $1 AND status <> 'not_sent' AND sent_at > $2 LIMIT 1",
            )
            .bind(requester)
            .bind(now_ms - settings.min_days_between_surveys * DAY_MS)
            .fetch_optional(&mut *tx)
            .await?,
            None => None,
        };
        let skip_reason = match (&p.email, recently) {
            (None, _) => Some("El solicitante no tiene correo: valide la solución por teléfono."),
            (Some(_), Some(_)) => Some(
                "El solicitante ya recibió una encuesta en los últimos días; no se envía otra.",
            ),
            (Some(_), None) => None,
        };
        let token = sign(&key, p.id, p.reopen_count);
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO surveys (request_id, round, requester_id, recipient, token_hash, status, sent_at,
                remind_at, auto_close_at, answerable_until, area_id, service_id, channel, unit_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (request_id, round) DO NOTHING RETURNING id",
        )
        .bind(p.id)
        .bind(p.reopen_count)
        .bind(p.requester_id)
        .bind(&p.email)
        .bind(token_hash(&token))
        .bind(if skip_reason.is_some() { "not_sent" } else { "sent" })
        .bind(now_ms)
        .bind(remind_at)
        .bind(auto_close)
        .bind(auto_close + settings.answerable_days_after_close * DAY_MS)
        .bind(p.area_id)
        .bind(p.service_id)
        .bind(&p.channel)
        .bind(p.unit_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(survey_id) = inserted else {
            continue;
        };
        if let (None, Some(email)) = (skip_reason, &p.email) {
            let link = format!(
                "{}/encuesta/{token}",
                settings.public_base_url.trim_end_matches('/')
            );
            let mail =
                invitation(&mut tx, &p, &link, false, settings.validation_business_days).await?;
            let message_id = format!("survey-{survey_id}@{}", settings.message_id_domain);
            outbox::enqueue(
                &mut tx,
                NewMessage {
                    topic: "survey_invitation",
                    request_id: Some(p.id),
                    recipient: email,
                    subject: &mail.subject,
                    body_text: &mail.text,
                    body_html: Some(&mail.html),
                    headers: json!({}),
                    message_id: &message_id,
                },
                now_ms,
            )
            .await?;
        }
        insert_event(
            &mut tx,
            EventRecord {
                request_id: p.id,
                at: now_ms,
                actor: Actor::System,
                kind: if skip_reason.is_some() {
                    "survey_not_sent"
                } else {
                    "survey_sent"
                },
                from: None,
                to: None,
                payload: json!({ "survey_id": survey_id, "auto_close_at": auto_close }),
                reason: skip_reason,
            },
        )
        .await?;
        tx.commit().await?;
        created += 1;
    }
    Ok(created)
}

#[derive(FromRow)]
struct DueSurvey {
    id: i64,
    round: i64,
    number: String,
    reopen_count: i64,
    status: String,
}

/// Sends one reminder, halfway through the validation period, for each unanswered survey.
pub async fn remind_once(db: &Db, settings: &SurveySettings, now_ms: i64) -> AppResult<usize> {
    let due: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT v.id, v.request_id, v.round FROM surveys v JOIN requests q ON q.id = v.request_id
         WHERE v.status = 'sent' AND v.reminded_at IS NULL AND v.remind_at <= $1
           AND q.status = 'validating' AND q.reopen_count = v.round
         ORDER BY v.id LIMIT 200",
    )
    .bind(now_ms)
    .fetch_all(db.read())
    .await?;
    if due.is_empty() {
        return Ok(0);
    }
    let key = signing_key(db).await?;
    let mut sent = 0;
    for (survey_id, request_id, round) in due {
        let mut tx = db.begin_write().await?;
        let claimed = sqlx::query(
            "UPDATE surveys SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL",
        )
        .bind(now_ms)
        .bind(survey_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            continue;
        }
        let p: PendingValidation =
            sqlx::query_as(AssertSqlSafe(format!("{PENDING_SELECT} WHERE q.id = $1")))
                .bind(request_id)
                .fetch_one(&mut *tx)
                .await?;
        if let Some(email) = &p.email {
            let token = sign(&key, request_id, round);
            let link = format!(
                "{}/encuesta/{token}",
                settings.public_base_url.trim_end_matches('/')
            );
            let mail =
                invitation(&mut tx, &p, &link, true, settings.validation_business_days).await?;
            let message_id = format!("survey-{survey_id}-reminder@{}", settings.message_id_domain);
            outbox::enqueue(
                &mut tx,
                NewMessage {
                    topic: "survey_reminder",
                    request_id: Some(request_id),
                    recipient: email,
                    subject: &mail.subject,
                    body_text: &mail.text,
                    body_html: Some(&mail.html),
                    headers: json!({}),
                    message_id: &message_id,
                },
                now_ms,
            )
            .await?;
            sent += 1;
        }
        tx.commit().await?;
    }
    Ok(sent)
}

/// Closes the requests whose validation period ran out without an answer, with the reason
/// recorded; their surveys stay answerable for a while.
pub async fn auto_close_once(db: &Db, now_ms: i64) -> AppResult<usize> {
    let due: Vec<DueSurvey> = sqlx::query_as(
        "SELECT v.id, v.round, q.number, q.reopen_count, q.status
         FROM surveys v JOIN requests q ON q.id = v.request_id
         WHERE v.status IN ('sent', 'not_sent') AND v.auto_close_at <= $1
         ORDER BY v.id LIMIT 200",
    )
    .bind(now_ms)
    .fetch_all(db.read())
    .await?;
    let mut closed = 0;
    for survey in due {
        let mut tx = db.begin_write().await?;
        if survey.status != Status::Validating.code() || survey.reopen_count != survey.round {
            // The request moved on (reopened, or closed by an agent): this survey no longer applies.
            sqlx::query("UPDATE surveys SET status = 'withdrawn' WHERE id = $1")
                .bind(survey.id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            continue;
        }
        apply_step_in(
            &mut tx,
            db.engine,
            &survey.number,
            Step::Close,
            Actor::System,
            StepInput {
                reason: Some("Cerrada por falta de respuesta".into()),
                ..StepInput::default()
            },
            now_ms,
        )
        .await?;
        sqlx::query("UPDATE surveys SET status = 'expired' WHERE id = $1")
            .bind(survey.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        closed += 1;
    }
    Ok(closed)
}

/// What the public survey page shows for a link.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SurveyView {
    /// open, answered, expired, withdrawn.
    pub state: String,
    pub number: String,
    pub subject: String,
    pub service_name: Option<String>,
}

#[derive(FromRow)]
struct SurveyRow {
    id: i64,
    request_id: i64,
    round: i64,
    requester_id: Option<i64>,
    status: String,
    answerable_until: i64,
    number: String,
    subject: String,
    service_name: Option<String>,
    request_status: String,
    reopen_count: i64,
}

async fn find(conn: &mut AnyConnection, token: &str) -> AppResult<SurveyRow> {
    let row: Option<SurveyRow> = sqlx::query_as(
        "SELECT v.id, v.request_id, v.round, v.requester_id, v.status, v.answerable_until, q.number,
                q.subject, s.name AS service_name, q.status AS request_status, q.reopen_count
         FROM surveys v JOIN requests q ON q.id = v.request_id LEFT JOIN services s ON s.id = v.service_id
         WHERE v.token_hash = $1",
    )
    .bind(token_hash(token))
    .fetch_optional(&mut *conn)
    .await?;
    row.ok_or_else(|| {
        AppError::not_found(
            "survey_link_invalid",
            "Este enlace de encuesta no es válido. Revise que lo copió completo desde el correo.",
        )
    })
}

fn state_of(row: &SurveyRow, now_ms: i64) -> &'static str {
    if row.status == "answered" {
        return "answered";
    }
    if row.status == "withdrawn" || row.reopen_count != row.round {
        return "withdrawn";
    }
    let request_allows = match row.status.as_str() {
        "expired" => row.request_status == Status::Closed.code(),
        _ => row.request_status == Status::Validating.code(),
    };
    if !request_allows {
        return "withdrawn";
    }
    if now_ms > row.answerable_until {
        return "expired";
    }
    "open"
}

pub async fn view(db: &Db, token: &str, now_ms: i64) -> AppResult<SurveyView> {
    let mut conn = db.read().acquire().await?;
    let row = find(&mut conn, token).await?;
    Ok(SurveyView {
        state: state_of(&row, now_ms).into(),
        number: row.number,
        subject: row.subject,
        service_name: row.service_name,
    })
}

/// The answer to a link that can no longer be answered: used, expired or withdrawn.
pub fn closed_survey(state: &str) -> AppError {
    let (code, detail) = match state {
        "answered" => (
            "survey_already_answered",
            "Esta encuesta ya fue respondida. ¡Gracias! Su respuesta quedó registrada.",
        ),
        "expired" => (
            "survey_expired",
            "El plazo para responder esta encuesta terminó. Si su problema sigue, comuníquese con el CAU.",
        ),
        _ => (
            "survey_withdrawn",
            "Esta encuesta ya no aplica: la solicitud cambió de estado (por ejemplo, se reabrió). Recibirá una nueva cuando se solucione.",
        ),
    };
    AppError::conflict(code, detail)
}

/// The requester's answer: "yes" closes the request, "no" reopens it with their words (L9).
/// A rating of 1 or 2 also opens a complaint (L10). Returns the request's new status.
pub async fn answer(db: &Db, token: &str, answer: &Answer, now_ms: i64) -> AppResult<Status> {
    let mut tx = db.begin_write().await?;
    let row = find(&mut tx, token).await?;
    let state = state_of(&row, now_ms);
    if state != "open" {
        return Err(closed_survey(state));
    }
    let (step, reason) = if answer.solved {
        (Step::Close, None)
    } else {
        let words = if answer.comment.is_empty() {
            "El solicitante indicó en la encuesta que no se resolvió.".to_string()
        } else {
            format!(
                "El solicitante indicó en la encuesta que no se resolvió: «{}»",
                answer.comment
            )
        };
        (Step::Reopen, Some(words))
    };
    let already_closed = row.request_status == Status::Closed.code();
    let status = if answer.solved && already_closed {
        Status::Closed
    } else {
        apply_step_in(
            &mut tx,
            db.engine,
            &row.number,
            step,
            Actor::Requester,
            StepInput {
                reason,
                ..StepInput::default()
            },
            now_ms,
        )
        .await?
    };
    sqlx::query(
        "UPDATE surveys SET status = 'answered', answered_at = $1, solved = $2, ratings = $3, comment = $4 WHERE id = $5",
    )
    .bind(now_ms)
    .bind(i64::from(answer.solved))
    .bind(serde_json::to_string(&answer.ratings).map_err(anyhow::Error::from)?)
    .bind(&answer.comment)
    .bind(row.id)
    .execute(&mut *tx)
    .await?;
    let ratings: serde_json::Map<String, serde_json::Value> = Item::ALL
        .iter()
        .map(|item| (item.code().to_string(), json!(answer.rating(*item))))
        .collect();
    insert_event(
        &mut tx,
        EventRecord {
            request_id: row.request_id,
            at: now_ms,
            actor: Actor::Requester,
            kind: "survey_answered",
            from: None,
            to: None,
            payload: json!({ "survey_id": row.id, "solved": answer.solved, "ratings": ratings, "comment": answer.comment }),
            reason: None,
        },
    )
    .await?;
    if status == Status::Reopened {
        tell_area_of_reopening(
            &mut tx,
            row.request_id,
            &row.number,
            &answer.comment,
            now_ms,
        )
        .await?;
    }
    if answer.has_low_rating() {
        let description = if answer.comment.is_empty() {
            format!(
                "Calificación baja en la encuesta de la solicitud {}.",
                row.number
            )
        } else {
            format!(
                "Calificación baja en la encuesta de la solicitud {}: «{}»",
                row.number, answer.comment
            )
        };
        super::complaints::open_in(
            &mut tx,
            super::complaints::NewComplaint {
                kind: super::complaints::Kind::Complaint,
                source: super::complaints::Source::Survey,
                description: &description,
                requester_id: row.requester_id,
                request_id: Some(row.request_id),
                survey_id: Some(row.id),
                created_by: None,
            },
            now_ms,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(status)
}

/// L9: the area learns that its solution did not solve the request, with the requester's words.
async fn tell_area_of_reopening(
    tx: &mut AnyConnection,
    request_id: i64,
    number: &str,
    comment: &str,
    now_ms: i64,
) -> AppResult<()> {
    let area: Option<(i64, Option<String>)> = sqlx::query_as(
        "SELECT a.id, a.email FROM requests q JOIN areas a ON a.id = q.area_id WHERE q.id = $1",
    )
    .bind(request_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((area_id, email)) = area else {
        return Ok(());
    };
    // Like the service-level notices: the area's mailbox, or the area itself when it has none.
    let recipient = email.unwrap_or_else(|| format!("area:{area_id}"));
    let words = if comment.is_empty() {
        "(sin comentario)"
    } else {
        comment
    };
    let mail = super::mail_templates::render_in_tx(
        tx,
        "reopened_by_requester",
        &json!({ "number": number, "comment": words }),
    )
    .await?;
    let sender = crate::mail::outbound::sender_in_tx(tx).await?;
    let message_id = crate::mail::outbound::new_message_id("reopened", number, &sender.domain);
    outbox::enqueue(
        tx,
        NewMessage {
            topic: "reopened_by_requester",
            request_id: Some(request_id),
            recipient: &recipient,
            subject: &mail.subject,
            body_text: &mail.text,
            body_html: Some(&mail.html),
            headers: json!({}),
            message_id: &message_id,
        },
        now_ms,
    )
    .await?;
    Ok(())
}

/// The token of a request's current survey, for tests and for agents who resend a link by hand.
pub async fn link_token(db: &Db, number: &str) -> AppResult<Option<String>> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT v.request_id, v.round FROM surveys v JOIN requests q ON q.id = v.request_id
         WHERE q.number = $1 ORDER BY v.round DESC LIMIT 1",
    )
    .bind(number)
    .fetch_optional(db.read())
    .await?;
    let Some((request_id, round)) = row else {
        return Ok(None);
    };
    let key = signing_key(db).await?;
    Ok(Some(sign(&key, request_id, round)))
}

/// The monthly indices of one group.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GroupIndices {
    /// The group's key: the month itself, or an area, service, channel or unit.
    pub group: String,
    #[schema(value_type = Object)]
    pub indices: survey::Indices,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Month,
    Area,
    Service,
    Channel,
    Unit,
}

impl GroupBy {
    pub fn from_code(code: &str) -> Option<GroupBy> {
        match code {
            "month" => Some(GroupBy::Month),
            "area" => Some(GroupBy::Area),
            "service" => Some(GroupBy::Service),
            "channel" => Some(GroupBy::Channel),
            "unit" => Some(GroupBy::Unit),
            _ => None,
        }
    }
}

#[derive(FromRow)]
struct SurveyFact {
    group_name: Option<String>,
    answered_at: Option<i64>,
    sent_at: i64,
    status: String,
    solved: Option<i64>,
    ratings: Option<String>,
}

/// L12: indices of a month (by answer date in the calendar's zone), optionally by group.
/// Surveys not sent (no e-mail, or surveyed recently) count neither as sent nor as answers.
pub async fn monthly(
    db: &Db,
    zone: &jiff::tz::TimeZone,
    year: i16,
    month: i8,
    group_by: GroupBy,
) -> AppResult<Vec<GroupIndices>> {
    let (start, end) = survey::month_bounds(year, month, zone).ok_or_else(|| {
        AppError::invalid(
            "month",
            "month_format",
            "El mes debe tener la forma AAAA-MM, por ejemplo 2026-03.",
        )
    })?;
    let group_column = match group_by {
        GroupBy::Month => "NULL",
        GroupBy::Area => "a.name",
        GroupBy::Service => "s.name",
        GroupBy::Channel => "v.channel",
        GroupBy::Unit => "u.acronym",
    };
    let sql = format!(
        "SELECT {group_column} AS group_name, v.answered_at, v.sent_at, v.status, v.solved, v.ratings
         FROM surveys v
         LEFT JOIN areas a ON a.id = v.area_id
         LEFT JOIN services s ON s.id = v.service_id
         LEFT JOIN units u ON u.id = v.unit_id
         WHERE v.status <> 'not_sent'
           AND ((v.sent_at >= $1 AND v.sent_at < $2) OR (v.answered_at >= $1 AND v.answered_at < $2))"
    );
    let facts: Vec<SurveyFact> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(start.as_millisecond())
        .bind(end.as_millisecond())
        .fetch_all(db.read())
        .await?;
    let in_month = |t: i64| t >= start.as_millisecond() && t < end.as_millisecond();
    let mut groups: std::collections::BTreeMap<String, (Vec<Answer>, usize)> = Default::default();
    for fact in facts {
        let key = match group_by {
            GroupBy::Month => format!("{year:04}-{month:02}"),
            _ => fact.group_name.unwrap_or_else(|| "(sin dato)".into()),
        };
        let entry = groups.entry(key).or_default();
        if in_month(fact.sent_at) {
            entry.1 += 1;
        }
        if fact.status == "answered" && fact.answered_at.is_some_and(in_month) {
            let ratings: [u8; 6] = fact
                .ratings
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok())
                .unwrap_or([0; 6]);
            entry.0.push(Answer {
                solved: fact.solved == Some(1),
                ratings,
                comment: String::new(),
            });
        }
    }
    if groups.is_empty() && group_by == GroupBy::Month {
        groups.insert(format!("{year:04}-{month:02}"), (Vec::new(), 0));
    }
    Ok(groups
        .into_iter()
        .map(|(group, (answers, sent))| GroupIndices {
            group,
            indices: survey::indices(&answers, sent),
        })
        .collect())
}
