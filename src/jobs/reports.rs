//! The monthly report mailed to CAU's coordinators on the first business day of the next month
//! (L12), from 09:00, once: its Message-ID names the month, so a second pass or node finds it.

use jiff::ToSpan;
use serde_json::json;
use ventanilla_domain::calendar::Calendar;

use crate::db::outbox::{self, NewMessage};
use crate::db::{Db, reports};
use crate::error::AppError;

/// Queues last month's report when `now` is on or after 09:00 of this month's first business day
/// and it was not queued yet. Returns how many mails were queued.
pub async fn send_monthly_report_once(
    db: &Db,
    calendar: &Calendar,
    domain: &str,
    now: jiff::Timestamp,
) -> anyhow::Result<usize> {
    let local = now.to_zoned(calendar.zone().clone());
    let first_of_month = local.date().first_of_month();
    let mut first_business_day = first_of_month;
    loop {
        let start = first_business_day
            .to_zoned(calendar.zone().clone())?
            .timestamp();
        let end = first_business_day
            .tomorrow()?
            .to_zoned(calendar.zone().clone())?
            .timestamp();
        if calendar.business_between(start, end) > jiff::SignedDuration::ZERO {
            break;
        }
        first_business_day = first_business_day.tomorrow()?;
        if first_business_day.month() != first_of_month.month() {
            return Ok(0);
        }
    }
    if local.date() < first_business_day || (local.date() == first_business_day && local.hour() < 9)
    {
        return Ok(0);
    }
    let previous = first_of_month.checked_sub(1.month())?;
    let month_key = format!("{:04}-{:02}", previous.year(), previous.month());
    let marker = format!("monthly-report-{month_key}-0@{domain}");
    let sent: Option<i64> = sqlx::query_scalar("SELECT id FROM outbox WHERE message_id = $1")
        .bind(&marker)
        .fetch_optional(db.read())
        .await?;
    if sent.is_some() {
        return Ok(0);
    }
    let report = reports::monthly(db, calendar.zone(), previous.year(), previous.month())
        .await
        .map_err(AppError::into_anyhow)?;
    let text = reports::to_text(&report);
    let recipients: Vec<String> = sqlx::query_scalar(
        "SELECT email FROM staff WHERE active = 1 AND role = 'coordinator' AND email IS NOT NULL ORDER BY id",
    )
    .fetch_all(db.read())
    .await?;
    let mut tx = db.begin_write().await?;
    let mail = crate::db::mail_templates::render_in_tx(
        &mut tx,
        "monthly_report",
        &json!({ "month": month_key, "report": text }),
    )
    .await
    .map_err(AppError::into_anyhow)?;
    for (i, recipient) in recipients.iter().enumerate() {
        let message_id = format!("monthly-report-{month_key}-{i}@{domain}");
        outbox::enqueue(
            &mut tx,
            NewMessage {
                topic: "monthly_report",
                request_id: None,
                recipient,
                subject: &mail.subject,
                body_text: &mail.text,
                body_html: Some(&mail.html),
                headers: json!({}),
                message_id: &message_id,
            },
            now.as_millisecond(),
        )
        .await
        .map_err(AppError::into_anyhow)?;
    }
    tx.commit().await?;
    Ok(recipients.len())
}
