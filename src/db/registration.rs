//! Registering requests (A9–A13), many per transaction.
//!
//! Everything a registration writes — the request with its deadline columns (L3, L4), its first
//! events, its number, its search document and the acknowledgement mail (L6, A13) — is computed
//! in memory from what the caller passed and a few reads shared by the whole batch, then
//! written with one multi-row statement per table. On SQLite every statement is a round trip
//! to the connection's thread, so a group commit of 64 registrations costs about a dozen round
//! trips instead of some 1,700; a single registration (PostgreSQL, mail) is a batch of one.
//!
//! A registration that breaks a rule (unknown area, engineer of another area) is answered with
//! its error and writes nothing; the others go on. A failing statement fails the whole batch:
//! the caller rolls it back and registers each one alone (see `group_commit`).

use std::collections::HashMap;

use serde_json::json;
use sqlx::{AnyConnection, AssertSqlSafe};
use ventanilla_domain::channel::Channel;
use ventanilla_domain::identifiers::RequestNumber;
use ventanilla_domain::ids::AreaId;
use ventanilla_domain::lifecycle::{Actor, Status, Step};
use ventanilla_domain::service_level::Targets;

use super::requests::{self, NewRequest, registration_year};
use super::service_levels::{self, DeadlineColumns};
use super::{
    ROWS_PER_STATEMENT, bind_list, id_list, padded_values, row_blocks, search, staged, value_rows,
};
use crate::error::{AppError, AppResult};
use crate::mail::outbound::{AcknowledgementFacts, Acknowledgements, ReplyTo};

/// One request to register, with who registers it and when.
pub struct Registration {
    pub new: NewRequest,
    pub actor: Actor,
    pub now_ms: i64,
}

/// A registration written: its number and internal id.
#[derive(Debug, Clone, Copy)]
pub struct Registered {
    pub number: RequestNumber,
    pub request_id: i64,
}

/// A registration that passed the rules, with everything it writes.
struct Planned<'a> {
    job: &'a Registration,
    year: i16,
    /// Unique stand-in for the number until the batch takes its numbers (see `take_numbers`).
    placeholder: String,
    placeholder_sequence: i64,
    missing: Vec<String>,
    /// The status the registration enters: received (intake queue), to_confirm or registered.
    entered: Status,
    /// The status the request is left in: assigned when it was registered.
    status: Status,
    area: Option<AreaId>,
    registered_at: Option<i64>,
    deadlines: DeadlineColumns,
    request_id: i64,
    number: Option<RequestNumber>,
}

/// Registers `jobs` inside the caller's transaction; the answer has one entry per job, in order.
/// An `Err` of the whole call means a statement failed and the transaction (or savepoint) must
/// be rolled back.
pub async fn register(
    tx: &mut AnyConnection,
    jobs: &[Registration],
) -> AppResult<Vec<AppResult<Registered>>> {
    let mut answers: Vec<Option<AppResult<Registered>>> = jobs.iter().map(|_| None).collect();
    let mut planned = Vec::with_capacity(jobs.len());
    let known_areas = areas_if_needed(tx, jobs).await?;
    for (index, job) in jobs.iter().enumerate() {
        match plan(tx, job, &known_areas).await? {
            Ok(plan) => planned.push((index, plan)),
            Err(refused) => answers[index] = Some(Err(refused)),
        }
    }
    if !planned.is_empty() {
        fill_deadlines(tx, &mut planned).await?;
        insert_requests(tx, &mut planned).await?;
        insert_first_events(tx, &planned).await?;
        attach_documents(tx, &planned).await?;
        // What needs no number is read before the numbers are taken: on PostgreSQL the year's
        // counter row stays locked from then until the commit, and every other registration of
        // the desk waits for it.
        let requesters = requesters_of(tx, &planned).await?;
        let acknowledgements = plan_acknowledgements(tx, &planned, &requesters).await?;
        take_numbers(tx, &mut planned).await?;
        insert_search_documents(tx, &planned, &requesters).await?;
        acknowledge(tx, &planned, acknowledgements).await?;
    }
    for (index, plan) in planned {
        answers[index] = Some(
            plan.number
                .map(|number| Registered {
                    number,
                    request_id: plan.request_id,
                })
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a request got no number"))),
        );
    }
    Ok(answers
        .into_iter()
        .map(|a| a.unwrap_or_else(|| Err(AppError::Internal(anyhow::anyhow!("no answer")))))
        .collect())
}

/// The areas by id (name, active), when some registration will be assigned to one (a small
/// table).
async fn areas_if_needed(
    tx: &mut AnyConnection,
    jobs: &[Registration],
) -> AppResult<HashMap<i64, (String, bool)>> {
    if !jobs.iter().any(|j| j.new.service.is_some()) {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String, i64)> = sqlx::query_as("SELECT id, name, active FROM areas")
        .fetch_all(&mut *tx)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, active)| (id, (name, active != 0)))
        .collect())
}

/// The rules of one registration (A11: the area, defaulted from the sheet, and the engineer of
/// that area); `Ok(Err(_))` when the registration is refused.
async fn plan<'a>(
    tx: &mut AnyConnection,
    job: &'a Registration,
    known_areas: &HashMap<i64, (String, bool)>,
) -> AppResult<Result<Planned<'a>, AppError>> {
    let new = &job.new;
    let missing: Vec<String> = new
        .service
        .as_ref()
        .map(|(_, _, sheet)| {
            sheet
                .missing_requirements(&new.confirmed_requirements)
                .into_iter()
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let identified = new.requester_id.is_some() && new.service.is_some();
    let entered = match (identified, missing.is_empty()) {
        (false, _) => Status::Received,
        (true, false) => Status::ToConfirm,
        (true, true) => Status::Registered,
    };
    let mut area = None;
    let mut status = entered;
    if entered == Status::Registered {
        let Some(chosen) = new
            .area_id
            .or(new.service.as_ref().map(|(_, _, sheet)| sheet.area_id))
        else {
            return Ok(Err(requests::area_required()));
        };
        match known_areas.get(&chosen.0) {
            None => return Ok(Err(requests::unknown_area(chosen))),
            Some((name, false)) => return Ok(Err(super::catalogue::inactive_area(name))),
            Some(_) => {}
        }
        if let Some(engineer) = new.assignee_id
            && !requests::is_engineer_of(tx, engineer, chosen).await?
        {
            return Ok(Err(requests::assignee_not_in_area()));
        }
        area = Some(chosen);
        status = Status::Assigned;
    }
    // Negative, so never a real sequence; random, so two placeholders never collide.
    let placeholder = uuid::Uuid::new_v4();
    let placeholder_sequence = -1 - i64::try_from(placeholder.as_u64_pair().0 >> 1).unwrap_or(0);
    Ok(Ok(Planned {
        job,
        year: registration_year(job.now_ms),
        placeholder: format!("pendiente-{placeholder}"),
        placeholder_sequence,
        missing,
        entered,
        status,
        area,
        registered_at: (entered == Status::Registered).then_some(job.now_ms),
        deadlines: DeadlineColumns::without_clocks(status),
        request_id: 0,
        number: None,
    }))
}

/// The kind of the first event: `received` for the intake queue, else `registered`.
fn first_event_kind(entered: Status) -> &'static str {
    match entered {
        Status::Received => "received",
        _ => "registered",
    }
}

/// L3, L4: both clocks from the registration's own events, with the calendar and the escalation
/// levels read once for the batch — the same rules `service_levels::recompute_in_tx` applies.
async fn fill_deadlines(
    tx: &mut AnyConnection,
    planned: &mut [(usize, Planned<'_>)],
) -> AppResult<()> {
    // Only registered requests have running clocks (the intake queue's do not start yet).
    let Some((_, first)) = planned.iter().find(|(_, p)| p.registered_at.is_some()) else {
        return Ok(());
    };
    let calendar = service_levels::load_calendar(&mut *tx, first.job.now_ms).await?;
    // The escalation levels (A19) of the services with a running clock, in one statement.
    let mut timed_services: Vec<i64> = planned
        .iter()
        .filter(|(_, plan)| plan.registered_at.is_some())
        .filter_map(|(_, plan)| plan.job.new.service.as_ref().map(|(id, _, _)| id.0))
        .collect();
    timed_services.sort_unstable();
    timed_services.dedup();
    let escalation = service_levels::levels_for_services(tx, &timed_services).await?;
    for (_, plan) in planned.iter_mut() {
        let job = plan.job;
        let service = job.new.service.as_ref();
        let timed = service.zip(plan.registered_at);
        let levels = match timed {
            Some(((_, _, sheet), _)) => {
                let mut log = vec![service_levels::log_entry(
                    job.now_ms,
                    first_event_kind(plan.entered),
                    Some(plan.entered.code()),
                )];
                if plan.status == Status::Assigned {
                    log.push(service_levels::log_entry(
                        job.now_ms,
                        Step::Assign.code(),
                        Some(Status::Assigned.code()),
                    ));
                }
                let targets = Targets {
                    response_minutes: sheet.response_target_minutes,
                    resolution_minutes: sheet.resolution_target_minutes,
                };
                service_levels::clocks(
                    &calendar,
                    job.new.received_at_ms,
                    &log,
                    targets,
                    job.now_ms,
                )?
            }
            None => Vec::new(),
        };
        let service_levels_of = timed
            .and_then(|((service_id, _, _), _)| escalation.get(&service_id.0))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        plan.deadlines =
            DeadlineColumns::compute(&calendar, plan.status, &levels, service_levels_of, &[]);
    }
    Ok(())
}

async fn insert_requests(
    tx: &mut AnyConnection,
    planned: &mut [(usize, Planned<'_>)],
) -> AppResult<()> {
    const COLUMNS: usize = 23;
    for block in row_blocks(planned.len()) {
        let chunk = &mut planned[block.rows.clone()];
        let sql = format!(
            "INSERT INTO requests (number, year, sequence, channel, status, requester_id, service_id,
                sheet_version, area_id, assignee_id, subject, description, received_at,
                registered_at, created_by, updated_at, idempotency_key, response_due_at,
                resolution_due_at, sla_state, sla_due_at, sla_warn_at, sla_next_check_at,
                reopen_count)
             {} RETURNING id, number",
            padded_values(tx, block.padded(), COLUMNS, ", 0")
        );
        let mut query = sqlx::query_as::<_, (i64, String)>(AssertSqlSafe(sql));
        for (_, plan) in chunk.iter() {
            query = bind_request(query, plan, Some(&plan.placeholder));
        }
        if let Some((_, last)) = chunk.last() {
            for _ in 0..block.padding() {
                query = bind_request(query, last, None);
            }
        }
        let rows = match query.fetch_all(&mut *tx).await {
            Ok(rows) => rows,
            Err(e)
                if requests::is_unique_violation(&e)
                    && chunk
                        .iter()
                        .any(|(_, p)| p.job.new.idempotency_key.is_some()) =>
            {
                return Err(requests::idempotency_race());
            }
            Err(e) => return Err(e.into()),
        };
        let ids: HashMap<String, i64> = rows.into_iter().map(|(id, n)| (n, id)).collect();
        for (_, plan) in chunk.iter_mut() {
            plan.request_id = *ids.get(&plan.placeholder).ok_or_else(|| {
                AppError::Internal(anyhow::anyhow!("an inserted request was not returned"))
            })?;
        }
    }
    Ok(())
}

/// The values of one request row; `placeholder` is `None` for a padding row (see
/// `padded_values`).
fn bind_request<'q>(
    query: sqlx::query::QueryAs<'q, sqlx::Any, (i64, String), sqlx::any::AnyArguments>,
    plan: &'q Planned<'_>,
    placeholder: Option<&'q str>,
) -> sqlx::query::QueryAs<'q, sqlx::Any, (i64, String), sqlx::any::AnyArguments> {
    let new = &plan.job.new;
    query
        .bind(placeholder)
        .bind(i64::from(plan.year))
        .bind(plan.placeholder_sequence)
        .bind(new.channel.code())
        .bind(plan.status.code())
        .bind(new.requester_id.map(|r| r.0))
        .bind(new.service.as_ref().map(|(s, _, _)| s.0))
        .bind(new.service.as_ref().map(|(_, v, _)| *v))
        .bind(plan.area.map(|a| a.0))
        .bind(plan.area.and(new.assignee_id).map(|a| a.0))
        .bind(new.subject.as_str())
        .bind(new.description.as_str())
        .bind(new.received_at_ms)
        .bind(plan.registered_at)
        .bind(new.created_by.map(|s| s.0))
        .bind(plan.job.now_ms)
        .bind(new.idempotency_key.as_deref())
        .bind(plan.deadlines.response_due_at)
        .bind(plan.deadlines.resolution_due_at)
        .bind(plan.deadlines.sla_state)
        .bind(plan.deadlines.sla_due_at)
        .bind(plan.deadlines.sla_warn_at)
        .bind(plan.deadlines.sla_next_check_at)
}

/// The registration event (or `received`) with what the agent confirmed (A4, V1–V5), and the
/// assignment to the area (A11) when the request was registered.
async fn insert_first_events(
    tx: &mut AnyConnection,
    planned: &[(usize, Planned<'_>)],
) -> AppResult<()> {
    let mut events = Vec::with_capacity(planned.len() * 2);
    for (_, plan) in planned {
        let new = &plan.job.new;
        events.push(requests::EventRecord {
            request_id: plan.request_id,
            at: plan.job.now_ms,
            actor: plan.job.actor,
            kind: first_event_kind(plan.entered),
            from: None,
            to: Some(plan.entered),
            payload: json!({
                "channel": new.channel.code(),
                "service_id": new.service.as_ref().map(|(s, _, _)| s.0),
                "sheet_version": new.service.as_ref().map(|(_, v, _)| *v),
                "confirmed_requirements": new.confirmed_requirements,
                "missing_requirements": plan.missing,
                "first_level_tests": new.first_level_tests,
                "received_at": new.received_at_ms,
                "intake": new.intake_details,
            }),
            reason: None,
        });
        if let Some(area) = plan.area {
            events.push(requests::EventRecord {
                request_id: plan.request_id,
                at: plan.job.now_ms,
                actor: plan.job.actor,
                kind: Step::Assign.code(),
                from: Some(plan.entered),
                to: Some(Status::Assigned),
                payload: json!({ "area_id": area.0, "assignee_id": new.assignee_id.map(|a| a.0) }),
                reason: None,
            });
        }
    }
    requests::insert_events(tx, &events).await?;
    Ok(())
}

/// Q3: the documents the agent chose on the script become the request's attachments (only
/// registrations from the pages have any). A staged file that is gone fails the batch, and
/// the registration is then answered with that refusal alone (see `group_commit`).
async fn attach_documents(
    tx: &mut AnyConnection,
    planned: &[(usize, Planned<'_>)],
) -> AppResult<()> {
    for (_, plan) in planned {
        let new = &plan.job.new;
        staged::attach_in(
            tx,
            plan.request_id,
            new.created_by,
            &new.documents,
            plan.job.actor,
            plan.job.now_ms,
        )
        .await?;
    }
    Ok(())
}

/// Gives each request the next number of its year, in the order of the batch. Bumping the
/// counter locks its row until the commit, so it comes after the big inserts: concurrent
/// registrations on PostgreSQL wait for each other only for the end of the transaction.
/// Gap-free because a rollback undoes the bump with everything else.
async fn take_numbers(
    tx: &mut AnyConnection,
    planned: &mut [(usize, Planned<'_>)],
) -> AppResult<()> {
    let mut years: Vec<i16> = planned.iter().map(|(_, p)| p.year).collect();
    years.sort_unstable();
    years.dedup();
    for year in years {
        let count = planned.iter().filter(|(_, p)| p.year == year).count();
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        let last: i64 = sqlx::query_scalar(
            "INSERT INTO request_counters (year, last_sequence) VALUES ($1, $2)
             ON CONFLICT (year) DO UPDATE SET last_sequence = request_counters.last_sequence + $2
             RETURNING last_sequence",
        )
        .bind(i64::from(year))
        .bind(count)
        .fetch_one(&mut *tx)
        .await?;
        let mut sequence = last - count;
        for (_, plan) in planned.iter_mut().filter(|(_, p)| p.year == year) {
            sequence += 1;
            plan.number = Some(RequestNumber::new(
                year,
                u32::try_from(sequence).unwrap_or(u32::MAX),
            ));
        }
    }
    for block in row_blocks(planned.len()) {
        let chunk = &planned[block.rows.clone()];
        // A padding row has no id, so it matches no request.
        let sql = format!(
            "WITH numbered (id, number, sequence) AS (VALUES {})
             UPDATE requests SET number = numbered.number, sequence = numbered.sequence
             FROM numbered WHERE requests.id = numbered.id",
            value_rows(tx, block.padded(), 3, "")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        let numbered: Vec<(i64, String, i64)> = chunk
            .iter()
            .map(|(_, plan)| {
                let (text, sequence) = plan
                    .number
                    .as_ref()
                    .map(|n| (n.to_string(), i64::from(n.sequence)))
                    .unwrap_or_default();
                (plan.request_id, text, sequence)
            })
            .collect();
        for (id, text, sequence) in &numbered {
            query = query.bind(Some(*id)).bind(text.as_str()).bind(*sequence);
        }
        if let Some((_, text, sequence)) = numbered.last() {
            for _ in 0..block.padding() {
                query = query.bind(None::<i64>).bind(text.as_str()).bind(*sequence);
            }
        }
        query.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Name and e-mail of the batch's requesters.
struct Contact {
    full_name: String,
    email: Option<String>,
}

async fn requesters_of(
    tx: &mut AnyConnection,
    planned: &[(usize, Planned<'_>)],
) -> AppResult<HashMap<i64, Contact>> {
    let mut ids: Vec<i64> = planned
        .iter()
        .filter_map(|(_, p)| p.job.new.requester_id.map(|r| r.0))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut contacts = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT id, full_name, email FROM requesters WHERE id IN ({})",
            id_list(1, chunk.len())
        );
        let query = sqlx::query_as::<_, (i64, String, Option<String>)>(AssertSqlSafe(sql));
        for (id, full_name, email) in bind_list(query, chunk).fetch_all(&mut *tx).await? {
            contacts.insert(id, Contact { full_name, email });
        }
    }
    Ok(contacts)
}

async fn insert_search_documents(
    tx: &mut AnyConnection,
    planned: &[(usize, Planned<'_>)],
    requesters: &HashMap<i64, Contact>,
) -> AppResult<()> {
    let documents: Vec<search::SearchDocument> = planned
        .iter()
        .map(|(_, plan)| {
            let new = &plan.job.new;
            let number = plan
                .number
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            search::SearchDocument::new(
                plan.request_id,
                &number,
                &new.subject,
                &new.description,
                &[],
                new.requester_id
                    .and_then(|r| requesters.get(&r.0))
                    .map(|c| c.full_name.as_str()),
            )
        })
        .collect();
    search::insert_documents(tx, &documents).await
}

/// The acknowledgements of a batch before its numbers are taken: their recipients (positions in
/// `planned`, with the address) and what rendering them reads — the templates and sender, and
/// the services' names.
struct AcknowledgementPlan<'r> {
    recipients: Vec<(usize, &'r str)>,
    templates: Acknowledgements,
    service_names: HashMap<i64, String>,
}

/// L6, A13: an acknowledgement for each requester with an e-mail; `None` when nobody gets one.
/// Mail-born requests are acknowledged by `mail::inbound` instead (it threads the answer and
/// checks for loops).
async fn plan_acknowledgements<'r>(
    tx: &mut AnyConnection,
    planned: &[(usize, Planned<'_>)],
    requesters: &'r HashMap<i64, Contact>,
) -> AppResult<Option<AcknowledgementPlan<'r>>> {
    let recipients: Vec<(usize, &str)> = planned
        .iter()
        .enumerate()
        .filter(|(_, (_, p))| p.job.new.channel != Channel::Email)
        .filter_map(|(at, (_, p))| {
            let contact = requesters.get(&p.job.new.requester_id?.0)?;
            let email = contact.email.as_deref()?.trim();
            (!email.is_empty()).then_some((at, email))
        })
        .collect();
    if recipients.is_empty() {
        return Ok(None);
    }
    let with_service = recipients
        .iter()
        .any(|(at, _)| planned[*at].1.job.new.service.is_some());
    let service_names = if with_service {
        // The catalogue is small; one read serves the whole batch.
        let names: Vec<(i64, String)> = sqlx::query_as("SELECT id, name FROM services")
            .fetch_all(&mut *tx)
            .await?;
        names.into_iter().collect()
    } else {
        HashMap::new()
    };
    Ok(Some(AcknowledgementPlan {
        recipients,
        templates: Acknowledgements::read(tx).await?,
        service_names,
    }))
}

/// Renders the planned acknowledgements with their numbers and puts them in the outbox.
async fn acknowledge(
    tx: &mut AnyConnection,
    planned: &[(usize, Planned<'_>)],
    acknowledgements: Option<AcknowledgementPlan<'_>>,
) -> AppResult<()> {
    let Some(plan) = acknowledgements else {
        return Ok(());
    };
    let numbers: Vec<String> = plan
        .recipients
        .iter()
        .map(|(at, _)| {
            planned[*at]
                .1
                .number
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        })
        .collect();
    let facts: Vec<AcknowledgementFacts<'_>> = plan
        .recipients
        .iter()
        .zip(&numbers)
        .map(|((at, email), number)| {
            let registration = &planned[*at].1;
            let service = registration.job.new.service.as_ref();
            AcknowledgementFacts {
                request_id: registration.request_id,
                number,
                subject: &registration.job.new.subject,
                service: service
                    .and_then(|(id, _, _)| plan.service_names.get(&id.0))
                    .map(String::as_str),
                attention_policy: service.map(|(_, _, sheet)| sheet.attention_policy.as_str()),
                missing: &registration.missing,
                reply: ReplyTo {
                    recipient: email,
                    message_id: None,
                },
            }
        })
        .collect();
    let now_ms = planned
        .first()
        .map(|(_, p)| p.job.now_ms)
        .unwrap_or_default();
    plan.templates.enqueue(tx, &facts, now_ms).await?;
    Ok(())
}
