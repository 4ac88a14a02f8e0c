//! Follow-up of anomalies (L13): closed or cancelled requests that were reopened twice, breached a
//! target, got a low rating, closed without validation or were cancelled after assignment; and
//! escalation to the officials of the responsible area (A19).

use serde::Serialize;
use serde_json::json;
use ventanilla_domain::lifecycle::Actor;
use ventanilla_domain::survey::{Anomaly, FollowUpFacts, anomalies};

use super::outbox::{self, NewMessage};
use super::requests::{EventRecord, insert_event};
use super::{Db, Engine};
use crate::error::AppResult;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AnomalousRequest {
    pub number: String,
    pub status: String,
    pub area_name: Option<String>,
    pub service_name: Option<String>,
    pub updated_at: i64,
    #[schema(value_type = Vec<String>)]
    pub anomalies: Vec<Anomaly>,
    pub labels: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct Candidate {
    id: i64,
    number: String,
    status: String,
    area_name: Option<String>,
    service_name: Option<String>,
    updated_at: i64,
    reopen_count: i64,
    breached: i64,
    auto_closed: i64,
    assigned: i64,
}

/// Closed or cancelled requests last changed in `[start, end)` that show an anomaly.
pub async fn anomaly_queue(
    db: &Db,
    start_ms: i64,
    end_ms: i64,
) -> AppResult<Vec<AnomalousRequest>> {
    let candidates: Vec<Candidate> = sqlx::query_as(
        "SELECT q.id, q.number, q.status, a.name AS area_name, s.name AS service_name, q.updated_at, q.reopen_count,
            (SELECT COUNT(*) FROM request_events e WHERE e.request_id = q.id AND e.kind = 'sla_breached') AS breached,
            (SELECT COUNT(*) FROM request_events e WHERE e.request_id = q.id AND e.kind = 'close' AND e.actor_kind = 'system') AS auto_closed,
            (SELECT COUNT(*) FROM request_events e WHERE e.request_id = q.id AND e.kind = 'assign') AS assigned
         FROM requests q
         LEFT JOIN areas a ON a.id = q.area_id
         LEFT JOIN services s ON s.id = q.service_id
         WHERE q.status IN ('closed', 'cancelled') AND q.updated_at >= $1 AND q.updated_at < $2
         ORDER BY q.updated_at",
    )
    .bind(start_ms)
    .bind(end_ms)
    .fetch_all(db.read())
    .await?;
    let mut queue = Vec::new();
    for c in candidates {
        let ratings: Vec<Option<String>> = sqlx::query_scalar(
            "SELECT ratings FROM surveys WHERE request_id = $1 AND status = 'answered'",
        )
        .bind(c.id)
        .fetch_all(db.read())
        .await?;
        let lowest_rating = ratings
            .iter()
            .flatten()
            .filter_map(|r| serde_json::from_str::<[u8; 6]>(r).ok())
            .flat_map(|r| r.into_iter())
            .min();
        let found = anomalies(FollowUpFacts {
            reopen_count: c.reopen_count,
            breached: c.breached > 0,
            lowest_rating,
            auto_closed: c.status == "closed" && c.auto_closed > 0,
            cancelled_after_assignment: c.status == "cancelled" && c.assigned > 0,
        });
        if found.is_empty() {
            continue;
        }
        queue.push(AnomalousRequest {
            labels: found.iter().map(|a| a.label_es().to_string()).collect(),
            anomalies: found,
            number: c.number,
            status: c.status,
            area_name: c.area_name,
            service_name: c.service_name,
            updated_at: c.updated_at,
        });
    }
    Ok(queue)
}

/// A19, L13: records the circumstances on the timeline and tells the area (its e-mail) and CAU's
/// supervisors and coordinators (theirs), through the outbox. Returns how many were told.
pub async fn escalate(
    db: &Db,
    number: &str,
    circumstances: &str,
    actor: Actor,
    domain: &str,
    now_ms: i64,
) -> AppResult<usize> {
    let mut tx = db.begin_write().await?;
    let lock = match db.engine {
        // The area is on the nullable side of the join: lock the request row only.
        Engine::Postgres => " FOR UPDATE OF q",
        Engine::Sqlite => "",
    };
    let sql = format!(
        "SELECT q.id, q.subject, a.name, a.email FROM requests q LEFT JOIN areas a ON a.id = q.area_id WHERE q.number = $1{lock}"
    );
    let row: Option<(i64, String, Option<String>, Option<String>)> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(number)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((request_id, subject, area_name, area_email)) = row else {
        return Err(super::requests::unknown_number(number));
    };
    let mut recipients: Vec<String> = sqlx::query_scalar(
        "SELECT email FROM staff WHERE active = 1 AND email IS NOT NULL AND role IN ('supervisor', 'coordinator') ORDER BY id",
    )
    .fetch_all(&mut *tx)
    .await?;
    recipients.extend(area_email);
    let event_id = insert_event(
        &mut tx,
        EventRecord {
            request_id,
            at: now_ms,
            actor,
            kind: "escalated",
            from: None,
            to: None,
            payload: json!({ "recipients": recipients.len(), "area": area_name }),
            reason: Some(circumstances),
        },
    )
    .await?;
    let mail = super::mail_templates::render_in_tx(
        &mut tx,
        "escalation",
        &json!({
            "number": number, "request_subject": subject, "circumstances": circumstances,
            "area": area_name.as_deref().unwrap_or("asignada"),
        }),
    )
    .await?;
    for (i, recipient) in recipients.iter().enumerate() {
        let message_id = format!("escalation-{event_id}-{i}@{domain}");
        outbox::enqueue(
            &mut tx,
            NewMessage {
                topic: "escalation",
                request_id: Some(request_id),
                recipient,
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
    tx.commit().await?;
    Ok(recipients.len())
}
