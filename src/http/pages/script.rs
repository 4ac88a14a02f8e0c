//! The attention script CGSI-PO-01/01 as one page: greeting, channel, identify the person (A5),
//! create or verify their data (A6, A7), earlier requests and duplicates (A8), the problem (A9),
//! the service with its eligibility (L1, X1, Q2), requirements and first-level tests (A4,
//! V1–V5), the area (A11); or, when the need is not in the catalogue, where the person was
//! referred (A2, A3, kept in the `referrals` table).
//!
//! The `/ui/…` endpoints answer small HTML fragments the page loads as the agent types.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::json;
use ventanilla_domain::catalogue::SheetContent;
use ventanilla_domain::channel::Channel;
use ventanilla_domain::curp::Curp;
use ventanilla_domain::eligibility::{UdiRole, check_eligibility};
use ventanilla_domain::ids::{AreaId, RequesterId, ServiceId};
use ventanilla_domain::lifecycle::{Status, Step};
use ventanilla_domain::permissions::Action;
use ventanilla_domain::service_order::ServiceOrder;

use super::browse::{eligibility_label, rows};
use super::i18n::{self, Lang};
use super::upload::MultipartForm;
use super::{
    FieldErrors, FormFields, Page, PageError, PageResult, base_context, file_error, render,
    see_other,
};
use crate::db::requesters::{self, Lookup, Requester};
use crate::db::requests::{self, ListFilter, NewAttachment, NewRequest, RequestDetail, StepInput};
use crate::db::staged::{self, ChosenDocument, StagedFile};
use crate::db::{catalogue, web};
use crate::error::AppError;
use crate::http::api::requesters::{RequesterInput, parse_requester};
use crate::http::api::requests::{accept_service_order, register_service};
use crate::state::AppState;

#[derive(Serialize)]
struct Option_ {
    value: String,
    label: String,
    hidden: bool,
}

async fn form_context(
    state: &AppState,
    page: &Page,
    values: serde_json::Value,
    errors: &FieldErrors,
) -> Result<minijinja::Value, PageError> {
    let mut ctx = page.context("title_new_request");
    let channels: Vec<Option_> = Channel::ALL
        .iter()
        .map(|c| Option_ {
            value: c.code().into(),
            label: c.label_es().into(),
            hidden: false,
        })
        .collect();
    // An inactive unit is not offered; it is there, hidden, for the people who already have it
    // (filled from their record, so the form keeps it).
    let units: Vec<Option_> = catalogue::list_units(&state.db)
        .await?
        .into_iter()
        .map(|u| Option_ {
            value: u.id.to_string(),
            label: if u.active {
                format!("{} — {}", u.acronym, u.name)
            } else {
                format!(
                    "{} — {} {}",
                    u.acronym,
                    u.name,
                    i18n::text(page.lang, "inactive_suffix")
                )
            },
            hidden: !u.active,
        })
        .collect();
    if let Some(number) = values["intake"].as_str() {
        let detail = intake_item(state, number).await?;
        ctx.insert(
            "intake",
            minijinja::Value::from_serialize(intake_view(&detail)),
        );
    }
    let greeting = super::admin::greeting(&state.db, page.lang)
        .await?
        .replace("{name}", &page.staff.full_name);
    // A form sent back shows the service chosen and its panel as they were (with the documents
    // already chosen), without waiting for the page's script to ask for them.
    if let Some(view) = results_view(state, page.lang, &values).await? {
        ctx.insert("r", minijinja::Value::from_serialize(&view));
    }
    match panel_view(state, page, &values).await? {
        Some(view) => {
            ctx.insert("p", minijinja::Value::from_serialize(&view));
        }
        None => {
            let (_, set_aside) = staged_views(state, page, &values, &[]).await?;
            ctx.insert("aside", minijinja::Value::from_serialize(&set_aside));
        }
    }
    ctx.insert("channels", minijinja::Value::from_serialize(&channels));
    ctx.insert("units", minijinja::Value::from_serialize(&units));
    ctx.insert("greeting", greeting.into());
    ctx.insert("v", minijinja::Value::from_serialize(&values));
    ctx.insert("errors", minijinja::Value::from_serialize(errors));
    Ok(ctx.into())
}

/// The fields of the script (or of a fragment's query) as the values a form shows, with the
/// names a form sends repeatedly (checked boxes, staged documents) as lists.
fn values_of(form: &FormFields) -> serde_json::Value {
    let mut values = serde_json::to_value(form.values()).unwrap_or_default();
    for name in ["req", "test", "staged", "drop_staged"] {
        values[name] = json!(form.all(name));
    }
    values
}

/// A list value of `values` (see `values_of`).
fn list_of(values: &serde_json::Value, name: &str) -> Vec<String> {
    values[name]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// A single value of `values`, trimmed; `None` when empty.
fn one_of<'a>(values: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    values[name]
        .as_str()
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

pub async fn form(State(state): State<AppState>, page: Page) -> PageResult {
    page.require(Action::CreateRequest)?;
    let values = json!({ "channel": "phone", "udi_role": "none" });
    let ctx = form_context(&state, &page, values, &FieldErrors::new()).await?;
    Ok(render(StatusCode::OK, "script.html", ctx))
}

fn text_in(
    errors: &mut FieldErrors,
    form: &FormFields,
    field: &str,
    min: usize,
    max: usize,
    what: &str,
) -> String {
    let value = form.get(field).trim().to_string();
    let len = value.chars().count();
    if len < min || len > max {
        errors.insert(
            field.into(),
            format!("{what} debe tener entre {min} y {max} caracteres (tiene {len})."),
        );
    }
    value
}

fn requester_input(form: &FormFields) -> RequesterInput {
    RequesterInput {
        full_name: form.get("full_name").into(),
        curp: form.get("curp").into(),
        boleta: form.opt("boleta"),
        employee_number: form.opt("employee_number"),
        extension: form.opt("extension"),
        email: form.opt("email"),
        phone: form.opt("phone"),
        unit_id: form.get("unit_id").parse().unwrap_or(0),
        udi_role: form.opt("udi_role"),
        technical_data: serde_json::Map::new(),
    }
}

pub async fn submit(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    upload: MultipartForm,
) -> PageResult {
    page.require(Action::CreateRequest)?;
    let MultipartForm {
        fields: form,
        files,
        errors: upload_errors,
    } = upload;
    page.check_csrf(&headers, &form)?;
    // The same form sent again (a double click, a reload) answers with the request it made;
    // its documents went with it, and nothing is staged or attached twice.
    if let Some(key) = form.opt("idempotency_key")
        && let Some(number) = requests::number_for_key(&state.db, &key).await?
    {
        return Ok(see_other(&format!("/requests/{number}?new=1")));
    }
    let mut values = values_of(&form);
    let mut errors = FieldErrors::new();
    let now = state.now_ms();
    let found_service = match form.get("service_id").parse::<i64>() {
        Ok(id) => catalogue::service(&state.db, ServiceId(id)).await?,
        Err(_) => None,
    };
    // Q3: the files chosen now go straight to the request when it registers; whatever sends
    // the form back stages them first (`refuse`), so it comes back with them.
    let required: Vec<String> = found_service
        .as_ref()
        .map(|(_, sheet)| sheet.required_attachments.clone())
        .unwrap_or_default();
    let chosen = choose_documents(&state, &page, &form, &required, files, now).await?;
    // A message of the intake queue being registered (A5, A6): its channel, subject and text
    // are the message's own.
    let intake = match form.opt("intake") {
        Some(number) => Some(intake_item(&state, &number).await?),
        None => None,
    };
    let channel = match &intake {
        Some(detail) => Some(detail.summary.channel),
        None => Channel::from_code(form.get("channel")),
    };
    let mut intake_details = serde_json::Value::Null;
    if channel.is_none() {
        errors.insert("channel".into(), "Elija el medio de contacto (L2).".into());
    }
    let requester_id = form
        .get("requester_id")
        .parse::<i64>()
        .ok()
        .map(RequesterId);

    if intake.is_none() && form.get("not_in_catalogue") == "1" {
        let need = text_in(
            &mut errors,
            &form,
            "description",
            3,
            20_000,
            "La descripción",
        );
        let referred = text_in(
            &mut errors,
            &form,
            "referred_to",
            3,
            500,
            "El lugar al que se canalizó",
        );
        if let (true, Some(channel)) = (errors.is_empty(), channel) {
            web::record_referral(
                &state.db,
                web::NewReferral {
                    staff: page.staff.id,
                    requester: requester_id,
                    channel: channel.code(),
                    need: &need,
                    referred_to: &referred,
                },
                now,
            )
            .await?;
            let mut ctx = page.context("title_referral");
            ctx.insert("referred_to", referred.into());
            return Ok(render(StatusCode::CREATED, "referral.html", ctx.into()));
        }
        return refuse(&state, &page, values, &errors, chosen, now).await;
    }

    let (subject, description) = match &intake {
        Some(detail) => (detail.summary.subject.clone(), detail.description.clone()),
        None => (
            text_in(&mut errors, &form, "subject", 3, 200, "El asunto"),
            text_in(
                &mut errors,
                &form,
                "description",
                1,
                20_000,
                "La descripción",
            ),
        ),
    };
    if channel == Some(Channel::ServiceOrder) && intake.is_none() {
        // X2: every rule of the paper order at once, as the API checks them.
        if let Some(order) = service_order_of(&form, &mut errors) {
            match accept_service_order(&state, &order).await {
                Ok(details) => intake_details = details,
                Err(e) => file_error(&mut errors, e)?,
            }
        }
    }
    if form.get("unit_id").parse::<i64>().is_err() {
        errors.insert(
            "unit_id".into(),
            "Elija la unidad de la persona (Q1).".into(),
        );
    }
    let mut person = None;
    if !errors.contains_key("unit_id") {
        match parse_requester(&state, &requester_input(&form)).await {
            Ok((data, _warnings)) => person = Some(data),
            Err(e) => file_error(&mut errors, e)?,
        }
    }
    let service = match form.get("service_id").parse::<i64>() {
        Ok(_) => match found_service {
            Some((s, sheet)) if s.active => Some((ServiceId(s.id), s.current_version, sheet)),
            _ => {
                errors.insert(
                    "service_id".into(),
                    "Ese servicio no existe o ya no se ofrece; búsquelo de nuevo.".into(),
                );
                None
            }
        },
        Err(_) => {
            errors.insert(
                "service_id".into(),
                "Busque y elija el servicio del catálogo, o marque «No está en el catálogo» (A10)."
                    .into(),
            );
            None
        }
    };
    // Eligibility before anything is written: the reason goes beside the service (L1, X1, Q2).
    if let (Some(data), Some((_, _, sheet)), Some(channel)) = (&person, &service, channel)
        && let Err(reason) = check_eligibility(sheet.eligibility, data.udi_role, channel)
    {
        errors.insert("service_id".into(), reason.to_string());
    }
    // A message that came with files may already carry a document: the agent says which.
    let message_has_files = intake.as_ref().is_some_and(|d| !d.attachments.is_empty());
    let in_message =
        |i: usize| message_has_files && form.get(&format!("doc_{i}_in_message")) == "1";
    let documents = match &service {
        Some(_) => check_documents(&required, &chosen, &upload_errors, in_message, &mut errors),
        None => Vec::new(),
    };
    let area_id = form.get("area_id").parse::<i64>().ok().map(AreaId);
    let (Some(data), Some(service), Some(channel), true) =
        (person, service, channel, errors.is_empty())
    else {
        return refuse(&state, &page, values, &errors, chosen, now).await;
    };
    let saved = match requester_id {
        Some(id) => requesters::update(&state.db, id, &data, Some(page.staff.id), now).await,
        None => requesters::create(&state.db, &data, Some(page.staff.id), now).await,
    };
    let requester = match saved {
        Ok(r) => r,
        Err(e) => {
            file_error(&mut errors, e)?;
            return refuse(&state, &page, values, &errors, chosen, now).await;
        }
    };
    // From here on the person exists: a resubmission updates them instead of creating again.
    values["requester_id"] = json!(requester.id.to_string());
    let number = match &intake {
        Some(detail) => {
            let number = detail.summary.number.clone();
            let registered = match register_service(
                &state,
                &number,
                Some(RequesterId(requester.id)),
                Some(service.0.0),
            )
            .await
            {
                Ok(service) => {
                    requests::apply_step(
                        &state.db,
                        &number,
                        Step::Register,
                        page.actor(),
                        StepInput {
                            requester_id: Some(RequesterId(requester.id)),
                            service,
                            confirmed_requirements: Some(form.all("req")),
                            area_id,
                            documents,
                            ..StepInput::default()
                        },
                        now,
                    )
                    .await
                }
                Err(e) => Err(e),
            };
            registered.map(|_| number)
        }
        None => {
            let tests: Vec<serde_json::Value> = form
                .all("test")
                .into_iter()
                .map(|t| json!({ "test": t, "result": "done" }))
                .collect();
            requests::create(
                &state.db,
                NewRequest {
                    channel,
                    requester_id: Some(RequesterId(requester.id)),
                    service: Some(service),
                    subject,
                    description,
                    received_at_ms: now,
                    confirmed_requirements: form.all("req"),
                    first_level_tests: serde_json::Value::Array(tests),
                    area_id,
                    assignee_id: None,
                    idempotency_key: form.opt("idempotency_key"),
                    created_by: Some(page.staff.id),
                    intake_details,
                    documents,
                },
                page.actor(),
                now,
            )
            .await
            .map(|created| created.number.to_string())
        }
    };
    let number = match number {
        Ok(done) => done,
        Err(e) => {
            file_error(&mut errors, e)?;
            return refuse(&state, &page, values, &errors, chosen, now).await;
        }
    };
    // Files kept for another service the agent looked at are no longer wanted. The request is
    // registered whatever happens here: the periodic job removes what is left after 24 hours.
    let set_aside: Vec<String> = chosen.set_aside.into_iter().map(|f| f.token).collect();
    if let Err(e) = staged::discard(&state.db, page.staff.id, &set_aside).await {
        tracing::warn!(error = ?e, "set-aside staged files not removed; they expire in 24 hours");
    }
    Ok(see_other(&format!("/requests/{number}?new=1")))
}

/// A document of the sheet as this submission has it (Q3).
enum Choice {
    /// Chosen on this try: written once, as an attachment, unless the form goes back.
    New {
        document: String,
        file: NewAttachment,
    },
    /// Staged on an earlier try.
    Staged(StagedFile),
}

/// The files of the form's documents (Q3).
struct Chosen {
    /// By document of the sheet.
    documents: Vec<Option<Choice>>,
    /// Files staged for documents this sheet does not ask for (another service the agent
    /// looked at): carried along, so going back to that service finds them.
    set_aside: Vec<StagedFile>,
    /// Files chosen now for no document of this sheet (it changed, or no service was found):
    /// staged under their input's name if the form goes back, so they are not lost unseen.
    unplaced: Vec<(String, NewAttachment)>,
    /// A token the form named is not (or no longer) one of this staff member's staged files.
    unavailable: bool,
}

/// Picks for each document of the sheet the file chosen now (input `doc_N`) or else the one
/// staged before for it (hidden `staged` tokens); forgets the staged files the agent dropped
/// or replaced with a new choice.
async fn choose_documents(
    state: &AppState,
    page: &Page,
    form: &FormFields,
    required: &[String],
    mut files: Vec<(String, NewAttachment)>,
    now: i64,
) -> Result<Chosen, PageError> {
    let mut dropped = form.all("drop_staged");
    let mut tokens: Vec<String> = form
        .all("staged")
        .into_iter()
        .filter(|t| !t.is_empty() && !dropped.contains(t))
        .collect();
    tokens.sort();
    tokens.dedup();
    let mut kept = staged::owned(&state.db, page.staff.id, &tokens, now).await?;
    let unavailable = kept.len() < tokens.len();
    let mut documents = Vec::with_capacity(required.len());
    for (i, name) in required.iter().enumerate() {
        let input = format!("doc_{i}");
        let staged_before = kept
            .iter()
            .position(|k| k.document == *name)
            .map(|at| kept.swap_remove(at));
        let choice = match files.iter().position(|(n, _)| *n == input) {
            Some(at) => {
                dropped.extend(staged_before.map(|replaced| replaced.token));
                Some(Choice::New {
                    document: name.clone(),
                    file: files.swap_remove(at).1,
                })
            }
            None => staged_before.map(Choice::Staged),
        };
        documents.push(choice);
    }
    staged::discard(&state.db, page.staff.id, &dropped).await?;
    Ok(Chosen {
        documents,
        set_aside: kept,
        unplaced: files,
        unavailable,
    })
}

/// Sends the form back (422) holding every file chosen: those of this try are staged now, and
/// all the staged tokens go into the form (Q3).
async fn refuse(
    state: &AppState,
    page: &Page,
    mut values: serde_json::Value,
    errors: &FieldErrors,
    chosen: Chosen,
    now: i64,
) -> PageResult {
    let mut tokens = Vec::new();
    for choice in chosen.documents.into_iter().flatten() {
        let file = match choice {
            Choice::New { document, file } => {
                staged::stage(&state.db, page.staff.id, &document, file, now).await?
            }
            Choice::Staged(file) => file,
        };
        tokens.push(file.token);
    }
    for (input, file) in chosen.unplaced {
        tokens.push(
            staged::stage(&state.db, page.staff.id, &input, file, now)
                .await?
                .token,
        );
    }
    tokens.extend(chosen.set_aside.into_iter().map(|f| f.token));
    values["staged"] = json!(tokens);
    form_again(state, page, values, errors).await
}

/// The sheet's required documents (Q3): each one chosen (now or before, see `choose_documents`)
/// or, for a message of the intake queue, already among its files. Every one missing or refused
/// is said at once, beside the documents. Returns the documents to attach.
fn check_documents(
    required: &[String],
    chosen: &Chosen,
    upload_errors: &FieldErrors,
    in_message: impl Fn(usize) -> bool,
    errors: &mut FieldErrors,
) -> Vec<ChosenDocument> {
    let mut problems = Vec::new();
    let mut missing = Vec::new();
    let mut documents = Vec::new();
    for (i, name) in required.iter().enumerate() {
        let input = format!("doc_{i}");
        if let Some(refused) = upload_errors.get(&input) {
            problems.push(format!("«{name}»: {refused}"));
        }
        match chosen.documents.get(i).and_then(Option::as_ref) {
            Some(Choice::New { file, .. }) => documents.push(ChosenDocument::New(file.clone())),
            Some(Choice::Staged(file)) => {
                documents.push(ChosenDocument::Staged(file.token.clone()))
            }
            None if upload_errors.contains_key(&input) || in_message(i) => {}
            None => missing.push(format!("«{name}»")),
        }
    }
    if let Some(refused) = upload_errors.get("_form") {
        problems.push(refused.clone());
    }
    // A file kept for another service that is gone matters only if a document here lacks one.
    if chosen.unavailable && !missing.is_empty() {
        problems.push(staged::UNAVAILABLE.to_string());
    }
    if !missing.is_empty() {
        problems.insert(
            0,
            format!(
                "Falta adjuntar {}: la cédula del servicio lo pide (Q3).",
                missing.join(", ")
            ),
        );
    }
    if !problems.is_empty() {
        errors.insert("attachments".into(), problems.join(" "));
    }
    documents
}

/// One of the order's choices by its code, or the message beside the field.
fn choice<T: serde::de::DeserializeOwned>(
    form: &FormFields,
    field: &str,
    message: &str,
    errors: &mut FieldErrors,
) -> Option<T> {
    let parsed = serde_json::from_value(json!(form.get(field))).ok();
    if parsed.is_none() {
        errors.insert(field.into(), message.into());
    }
    parsed
}

/// The paper order's fields (X2); what cannot be read is said beside its field.
fn service_order_of(form: &FormFields, errors: &mut FieldErrors) -> Option<ServiceOrder> {
    let delivered_at = choice(
        form,
        "so_delivered_at",
        "Elija dónde se entregó la orden.",
        errors,
    );
    let copy = choice(
        form,
        "so_copy",
        "Elija qué se entregó (original o copia).",
        errors,
    );
    let service_date: Option<jiff::civil::Date> = form.get("so_service_date").trim().parse().ok();
    if service_date.is_none() {
        errors.insert(
            "so_service_date".into(),
            "Escriba la fecha en que se realizó el servicio (AAAA-MM-DD).".into(),
        );
    }
    Some(ServiceOrder {
        number: form.get("so_number").trim().to_string(),
        delivered_at: delivered_at?,
        copy: copy?,
        service_date: service_date?,
        signed: form.get("so_signed") == "1",
        stamped: form.get("so_stamped") == "1",
    })
}

/// A message of the intake queue that may still be registered.
async fn intake_item(state: &AppState, raw: &str) -> Result<RequestDetail, PageError> {
    let number = super::request::parse_number(raw)?;
    let detail = requests::get(&state.db, &number)
        .await?
        .ok_or_else(|| PageError(requests::unknown_number(&number)))?;
    if detail.summary.status != Status::Received {
        return Err(PageError(AppError::new(
            StatusCode::CONFLICT,
            "already_registered",
            format!("La solicitud {number} ya se registró; ábrala para darle seguimiento."),
        )));
    }
    Ok(detail)
}

#[derive(Serialize)]
struct IntakeView {
    number: String,
    channel: &'static str,
    channel_code: &'static str,
    subject: String,
    description: String,
    received: String,
    from: Option<String>,
    attachments: Vec<String>,
}

fn intake_view(detail: &RequestDetail) -> IntakeView {
    let mail = detail.timeline.iter().find(|e| e.kind == "mail_received");
    let from = mail.and_then(|e| {
        let address = e.payload["from"].as_str()?;
        Some(match e.payload["from_name"].as_str() {
            Some(name) if !name.is_empty() => format!("{name} <{address}>"),
            _ => address.to_string(),
        })
    });
    IntakeView {
        number: detail.summary.number.clone(),
        channel: detail.summary.channel.label_es(),
        channel_code: detail.summary.channel.code(),
        subject: detail.summary.subject.clone(),
        description: detail.description.clone(),
        received: super::local_time(detail.summary.received_at),
        from,
        attachments: detail
            .attachments
            .iter()
            .map(|a| a.filename.clone())
            .collect(),
    }
}

/// The attention script for a message of the intake queue: identify or create the person,
/// choose the service, register (A5, A6, `register`).
pub async fn intake_form(
    State(state): State<AppState>,
    page: Page,
    Path(number): Path<String>,
) -> PageResult {
    page.require(Action::Step(Step::Register))?;
    let detail = intake_item(&state, &number).await?;
    let values = json!({
        "intake": detail.summary.number,
        "channel": detail.summary.channel.code(),
        "udi_role": "none",
    });
    let ctx = form_context(&state, &page, values, &FieldErrors::new()).await?;
    Ok(render(StatusCode::OK, "script.html", ctx))
}

async fn form_again(
    state: &AppState,
    page: &Page,
    values: serde_json::Value,
    errors: &FieldErrors,
) -> PageResult {
    let ctx = form_context(state, page, values, errors).await?;
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, "script.html", ctx))
}

fn fragment(lang: Lang, template: &str, fill: impl FnOnce(&mut super::Ctx)) -> PageResult {
    let mut ctx = base_context(lang, "", "");
    fill(&mut ctx);
    Ok(render(StatusCode::OK, template, ctx.into()))
}

#[derive(Deserialize)]
pub struct LookupQuery {
    q: Option<String>,
}

/// What the single search box holds: an e-mail, a CURP, digits (boleta, then employee number)
/// or words of a name.
fn lookups(q: &str) -> Vec<Lookup> {
    let q = q.trim();
    if q.contains('@') {
        return vec![Lookup {
            email: Some(q.into()),
            ..Lookup::default()
        }];
    }
    let compact: String = q.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() == 18 && compact.chars().all(|c| c.is_ascii_alphanumeric()) {
        return vec![Lookup {
            curp: Some(compact),
            ..Lookup::default()
        }];
    }
    if !compact.is_empty()
        && compact.chars().all(|c| c.is_ascii_alphanumeric())
        && compact.chars().any(|c| c.is_ascii_digit())
    {
        return vec![
            Lookup {
                boleta: Some(compact.clone()),
                ..Lookup::default()
            },
            Lookup {
                employee_number: Some(compact),
                ..Lookup::default()
            },
        ];
    }
    vec![Lookup {
        name: Some(q.into()),
        ..Lookup::default()
    }]
}

#[derive(Serialize)]
struct Found {
    id: i64,
    full_name: String,
    curp: String,
    unit: String,
    fill: serde_json::Value,
}

fn fill_of(r: &Requester) -> serde_json::Value {
    json!({
        "requester_id": r.id.to_string(),
        "full_name": r.full_name,
        "curp": r.curp,
        "boleta": r.boleta,
        "employee_number": r.employee_number,
        "extension": r.extension,
        "email": r.email,
        "phone": r.phone,
        "unit_id": r.unit_id.map(|u| u.to_string()),
        "udi_role": r.udi_role.code(),
    })
}

pub async fn requester_results(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<LookupQuery>,
) -> PageResult {
    page.require(Action::ViewPersonalData)?;
    let q = query.q.unwrap_or_default();
    let mut found: Vec<Requester> = Vec::new();
    if q.trim().chars().count() >= 2 {
        for lookup in lookups(&q) {
            let batch =
                requesters::search(&state.db, &lookup, page.staff.id, 10, state.now_ms()).await?;
            if !batch.is_empty() {
                found = batch;
                break;
            }
        }
    }
    let items: Vec<Found> = found
        .iter()
        .map(|r| Found {
            id: r.id,
            full_name: r.full_name.clone(),
            curp: r.curp.clone().unwrap_or_default(),
            unit: r.unit_acronym.clone().unwrap_or_default(),
            fill: fill_of(r),
        })
        .collect();
    let searched = q.trim().chars().count() >= 2;
    fragment(page.lang, "requester_results.html", |ctx| {
        ctx.insert("searched", searched.into());
        ctx.insert("found", minijinja::Value::from_serialize(&items));
    })
}

#[derive(Deserialize)]
pub struct CurpQuery {
    curp: Option<String>,
}

/// The CURP checked as typed: the domain's Spanish message, or "valid".
pub async fn curp_check(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<CurpQuery>,
) -> PageResult {
    let raw = query.curp.unwrap_or_default();
    let (ok, message) = if raw.trim().is_empty() {
        (true, String::new())
    } else {
        match Curp::parse(&raw, state.today()) {
            Ok(_) => (true, i18n::text(page.lang, "curp_ok").to_string()),
            Err(e) => (false, e.to_string()),
        }
    };
    let html = if message.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"{}\">{}</p>",
            if ok { "ok" } else { "field-error" },
            html_escape(&message)
        )
    };
    Ok(super::fragment_response(html))
}

pub fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[derive(Serialize)]
struct ServiceOption {
    id: i64,
    name: String,
    area: String,
    eligibility: &'static str,
    checked: bool,
}

#[derive(Serialize)]
struct ResultsView {
    searched: bool,
    services: Vec<ServiceOption>,
}

/// The services found for `service_q`, the chosen one (`service_id`) checked and always listed,
/// so a new search does not lose the choice. `None` when there is nothing to show.
async fn results_view(
    state: &AppState,
    lang: Lang,
    values: &serde_json::Value,
) -> Result<Option<ResultsView>, PageError> {
    let q = one_of(values, "service_q").unwrap_or("");
    let searched = q.chars().count() >= 2;
    let chosen = one_of(values, "service_id").and_then(|s| s.parse::<i64>().ok());
    let mut services = if searched {
        catalogue::list_services(&state.db, Some(q), None).await?
    } else {
        Vec::new()
    };
    services.truncate(15);
    if let Some(id) = chosen
        && !services.iter().any(|s| s.id == id)
        && let Some((summary, _)) = catalogue::service(&state.db, ServiceId(id)).await?
        && summary.active
    {
        services.insert(0, summary);
    }
    if !searched && services.is_empty() {
        return Ok(None);
    }
    let services = services
        .into_iter()
        .map(|s| ServiceOption {
            id: s.id,
            checked: Some(s.id) == chosen,
            eligibility: eligibility_label(lang, s.eligibility),
            name: s.name,
            area: s.area_name,
        })
        .collect();
    Ok(Some(ResultsView { searched, services }))
}

pub async fn service_results(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<Vec<(String, String)>>,
) -> PageResult {
    page.require(Action::ViewCatalogue)?;
    let values = values_of(&FormFields(query));
    let view = results_view(&state, page.lang, &values).await?;
    fragment(page.lang, "service_results.html", |ctx| {
        if let Some(view) = view {
            ctx.insert("r", minijinja::Value::from_serialize(&view));
        }
    })
}

#[derive(Serialize)]
struct AreaOption {
    id: i64,
    name: String,
    selected: bool,
}

#[derive(Serialize)]
struct Check {
    name: String,
    checked: bool,
}

#[derive(Serialize)]
struct StagedView {
    token: String,
    filename: String,
    size: String,
    dropped: bool,
}

#[derive(Serialize)]
struct DocumentView {
    index: usize,
    name: String,
    /// The file already chosen for it (kept while the form goes back and forth).
    staged: Option<StagedView>,
}

#[derive(Serialize)]
struct PanelView {
    service_name: String,
    eligibility: &'static str,
    refusal: Option<String>,
    duplicates: Vec<String>,
    requirements: Vec<Check>,
    tests: Vec<Check>,
    documents: Vec<DocumentView>,
    policy: String,
    /// Registering a message of the intake queue: no first-level tests to record.
    intake: bool,
    message_has_files: bool,
    areas: Vec<AreaOption>,
    /// Files chosen for another service the agent looked at: carried, not attached here.
    set_aside: Vec<StagedView>,
}

/// The chosen service: eligibility with its reason, duplicates, requirements and first-level
/// tests as checkboxes, documents to attach (with those already chosen), and the active areas
/// with the sheet's (or the chosen) one selected. `None` without a known service.
async fn panel_view(
    state: &AppState,
    page: &Page,
    values: &serde_json::Value,
) -> Result<Option<PanelView>, PageError> {
    let Some(id) = one_of(values, "service_id").and_then(|s| s.parse::<i64>().ok()) else {
        return Ok(None);
    };
    let Some((service, sheet)) = catalogue::service(&state.db, ServiceId(id)).await? else {
        return Ok(None);
    };
    let intake = match one_of(values, "intake") {
        Some(number) => Some(intake_item(state, number).await?),
        None => None,
    };
    let message_has_files = intake.as_ref().is_some_and(|d| !d.attachments.is_empty());
    let udi_role = one_of(values, "udi_role")
        .and_then(UdiRole::from_code)
        .unwrap_or_default();
    let channel = one_of(values, "channel")
        .and_then(Channel::from_code)
        .unwrap_or(Channel::Phone);
    let refusal = check_eligibility(sheet.eligibility, udi_role, channel)
        .err()
        .map(|r| r.to_string());
    let duplicates = match one_of(values, "requester_id").and_then(|s| s.parse::<i64>().ok()) {
        Some(rid) => {
            requests::possible_duplicates(&state.db, RequesterId(rid), ServiceId(id)).await?
        }
        None => Vec::new(),
    };
    let area = one_of(values, "area_id")
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or(sheet.area_id.0);
    let areas: Vec<AreaOption> = catalogue::list_areas(&state.db)
        .await?
        .into_iter()
        .filter(|a| a.active)
        .map(|a| AreaOption {
            selected: a.id == area,
            id: a.id,
            name: a.name,
        })
        .collect();
    let (staged, set_aside) =
        staged_views(state, page, values, &sheet.required_attachments).await?;
    let documents = sheet
        .required_attachments
        .iter()
        .zip(staged)
        .enumerate()
        .map(|(index, (name, staged))| DocumentView {
            index,
            name: name.clone(),
            staged,
        })
        .collect();
    let checks = |names: Vec<String>, checked: Vec<String>| -> Vec<Check> {
        names
            .into_iter()
            .map(|name| Check {
                checked: checked.contains(&name),
                name,
            })
            .collect()
    };
    let SheetContent {
        requirements,
        first_level_tests,
        attention_policy,
        ..
    } = sheet;
    Ok(Some(PanelView {
        service_name: service.name,
        eligibility: eligibility_label(page.lang, service.eligibility),
        refusal,
        duplicates,
        requirements: checks(requirements, list_of(values, "req")),
        tests: checks(first_level_tests, list_of(values, "test")),
        documents,
        policy: attention_policy,
        intake: intake.is_some(),
        message_has_files,
        areas,
        set_aside,
    }))
}

/// The files the form carries (hidden `staged` tokens): for each of `documents`, the one
/// staged for it, and apart those staged for documents not asked for here (Q3).
async fn staged_views(
    state: &AppState,
    page: &Page,
    values: &serde_json::Value,
    documents: &[String],
) -> Result<(Vec<Option<StagedView>>, Vec<StagedView>), PageError> {
    let dropped = list_of(values, "drop_staged");
    let view = |f: StagedFile| StagedView {
        dropped: dropped.contains(&f.token),
        size: super::request::size_text(f.size_bytes),
        token: f.token,
        filename: f.filename,
    };
    let mut files = staged::owned(
        &state.db,
        page.staff.id,
        &list_of(values, "staged"),
        state.now_ms(),
    )
    .await?;
    let for_documents = documents
        .iter()
        .map(|name| {
            files
                .iter()
                .position(|f| f.document == *name)
                .map(|at| view(files.swap_remove(at)))
        })
        .collect();
    // A file dropped under another service stays dropped.
    let set_aside = files
        .into_iter()
        .filter(|f| !dropped.contains(&f.token))
        .map(view)
        .collect();
    Ok((for_documents, set_aside))
}

/// The panel of the chosen service, as the agent changes the form (see `panel_view`).
pub async fn service_panel(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<Vec<(String, String)>>,
) -> PageResult {
    page.require(Action::CreateRequest)?;
    let values = values_of(&FormFields(query));
    let Some(view) = panel_view(&state, &page, &values).await? else {
        // No service (yet): only the files chosen for others stay in the form.
        let (_, set_aside) = staged_views(&state, &page, &values, &[]).await?;
        return fragment(page.lang, "staged_aside.html", |ctx| {
            ctx.insert("aside", minijinja::Value::from_serialize(&set_aside));
        });
    };
    fragment(page.lang, "service_panel.html", |ctx| {
        ctx.insert("p", minijinja::Value::from_serialize(&view));
    })
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    requester_id: Option<String>,
}

/// A8: the person's earlier requests, newest first.
pub async fn requester_history(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<HistoryQuery>,
) -> PageResult {
    page.require(Action::ViewPersonalData)?;
    let Some(rid) = query.requester_id.and_then(|s| s.parse::<i64>().ok()) else {
        return Ok(super::fragment_response(String::new()));
    };
    let (items, _) = requests::list(
        &state.db,
        &ListFilter {
            requester_id: Some(RequesterId(rid)),
            limit: 10,
            ..ListFilter::default()
        },
    )
    .await?;
    let open = items.iter().filter(|s| s.status.is_open()).count();
    fragment(page.lang, "requester_history.html", |ctx| {
        ctx.insert(
            "rows",
            minijinja::Value::from_serialize(rows(page.lang, &items, true)),
        );
        ctx.insert("open", open.into());
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_box_guesses_what_was_typed_a5() {
        assert!(lookups("ana@example.org")[0].email.is_some());
        assert!(lookups("BOXW310820HNERXN09")[0].curp.is_some());
        let digits = lookups("2020630001");
        assert!(digits[0].boleta.is_some() && digits[1].employee_number.is_some());
        assert!(lookups("José Pérez")[0].name.is_some());
    }

    #[test]
    fn fragments_escape_messages() {
        assert_eq!(html_escape("<b>\"x\""), "&lt;b&gt;&quot;x&quot;");
    }
}
