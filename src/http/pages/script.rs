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
use crate::db::{catalogue, web};
use crate::error::AppError;
use crate::http::api::requesters::{RequesterInput, parse_requester};
use crate::http::api::requests::{accept_service_order, register_service};
use crate::state::AppState;

#[derive(Serialize)]
struct Option_ {
    value: String,
    label: String,
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
        })
        .collect();
    let units: Vec<Option_> = catalogue::list_units(&state.db)
        .await?
        .into_iter()
        .map(|u| Option_ {
            value: u.id.to_string(),
            label: format!("{} — {}", u.acronym, u.name),
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
    ctx.insert("channels", minijinja::Value::from_serialize(&channels));
    ctx.insert("units", minijinja::Value::from_serialize(&units));
    ctx.insert("greeting", greeting.into());
    ctx.insert("v", minijinja::Value::from_serialize(&values));
    ctx.insert("errors", minijinja::Value::from_serialize(errors));
    Ok(ctx.into())
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
    let mut values = serde_json::to_value(form.values()).unwrap_or_default();
    let mut errors = FieldErrors::new();
    let now = state.now_ms();
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
        return form_again(&state, &page, values, &errors).await;
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
        Ok(id) => match catalogue::service(&state.db, ServiceId(id)).await? {
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
        Some((_, _, sheet)) => required_documents(
            &sheet.required_attachments,
            (files, upload_errors),
            in_message,
            &mut errors,
        ),
        None => Vec::new(),
    };
    let area_id = form.get("area_id").parse::<i64>().ok().map(AreaId);
    let (Some(data), Some(service), Some(channel), true) =
        (person, service, channel, errors.is_empty())
    else {
        return form_again(&state, &page, values, &errors).await;
    };
    let saved = match requester_id {
        Some(id) => requesters::update(&state.db, id, &data, Some(page.staff.id), now).await,
        None => requesters::create(&state.db, &data, Some(page.staff.id), now).await,
    };
    let requester = match saved {
        Ok(r) => r,
        Err(e) => {
            file_error(&mut errors, e)?;
            return form_again(&state, &page, values, &errors).await;
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
                            ..StepInput::default()
                        },
                        now,
                    )
                    .await
                }
                Err(e) => Err(e),
            };
            registered.map(|_| (number, false))
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
                },
                page.actor(),
                now,
            )
            .await
            .map(|created| (created.number.to_string(), created.replayed))
        }
    };
    let (number, replayed) = match number {
        Ok(done) => done,
        Err(e) => {
            file_error(&mut errors, e)?;
            return form_again(&state, &page, values, &errors).await;
        }
    };
    // Q3: the sheet's documents go with the request; a replayed submission already has them.
    if !replayed {
        for file in documents {
            requests::attach(&state.db, &number, file, page.actor(), now).await?;
        }
    }
    Ok(see_other(&format!("/requests/{number}?new=1")))
}

/// The sheet's required documents (Q3), each from its own input `doc_N` (or, for a message of
/// the intake queue, already among its files): every one missing or too large is said at once,
/// beside the documents.
fn required_documents(
    required: &[String],
    (mut files, upload_errors): (Vec<(String, NewAttachment)>, FieldErrors),
    in_message: impl Fn(usize) -> bool,
    errors: &mut FieldErrors,
) -> Vec<NewAttachment> {
    let mut problems = Vec::new();
    let mut missing = Vec::new();
    let mut documents = Vec::new();
    for (i, name) in required.iter().enumerate() {
        let input = format!("doc_{i}");
        if let Some(refused) = upload_errors.get(&input) {
            problems.push(format!("«{name}»: {refused}"));
        } else if let Some(at) = files.iter().position(|(n, _)| *n == input) {
            documents.push(files.swap_remove(at).1);
        } else if !in_message(i) {
            missing.push(format!("«{name}»"));
        }
    }
    if let Some(refused) = upload_errors.get("_form") {
        problems.push(refused.clone());
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

#[derive(Deserialize)]
pub struct ServiceQuery {
    service_q: Option<String>,
    service_id: Option<String>,
}

#[derive(Serialize)]
struct ServiceOption {
    id: i64,
    name: String,
    area: String,
    eligibility: &'static str,
    checked: bool,
}

pub async fn service_results(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<ServiceQuery>,
) -> PageResult {
    page.require(Action::ViewCatalogue)?;
    let q = query.service_q.unwrap_or_default();
    let searched = q.trim().chars().count() >= 2;
    let chosen = query.service_id.and_then(|s| s.parse::<i64>().ok());
    let services = if searched {
        catalogue::list_services(&state.db, Some(&q), None).await?
    } else {
        Vec::new()
    };
    let items: Vec<ServiceOption> = services
        .into_iter()
        .take(15)
        .map(|s| ServiceOption {
            id: s.id,
            checked: Some(s.id) == chosen,
            eligibility: eligibility_label(page.lang, s.eligibility),
            name: s.name,
            area: s.area_name,
        })
        .collect();
    fragment(page.lang, "service_results.html", |ctx| {
        ctx.insert("searched", searched.into());
        ctx.insert("services", minijinja::Value::from_serialize(&items));
    })
}

#[derive(Deserialize)]
pub struct PanelQuery {
    service_id: Option<String>,
    requester_id: Option<String>,
    udi_role: Option<String>,
    channel: Option<String>,
    /// Registering a message of the intake queue: no first-level tests to record.
    intake: Option<String>,
}

#[derive(Serialize)]
struct AreaOption {
    id: i64,
    name: String,
    selected: bool,
}

/// The chosen service: eligibility with its reason, duplicates, requirements and first-level
/// tests as checkboxes, documents to attach, and the area defaulted from the sheet.
pub async fn service_panel(
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<PanelQuery>,
) -> PageResult {
    page.require(Action::CreateRequest)?;
    let Some(id) = query.service_id.and_then(|s| s.parse::<i64>().ok()) else {
        return Ok(super::fragment_response(String::new()));
    };
    let Some((service, sheet)) = catalogue::service(&state.db, ServiceId(id)).await? else {
        return Ok(super::fragment_response(String::new()));
    };
    let intake = match query.intake.as_deref().filter(|n| !n.is_empty()) {
        Some(number) => Some(intake_item(&state, number).await?),
        None => None,
    };
    let message_has_files = intake.as_ref().is_some_and(|d| !d.attachments.is_empty());
    let udi_role = query
        .udi_role
        .as_deref()
        .and_then(UdiRole::from_code)
        .unwrap_or_default();
    let channel = query
        .channel
        .as_deref()
        .and_then(Channel::from_code)
        .unwrap_or(Channel::Phone);
    let refusal = check_eligibility(sheet.eligibility, udi_role, channel)
        .err()
        .map(|r| r.to_string());
    let duplicates = match query.requester_id.and_then(|s| s.parse::<i64>().ok()) {
        Some(rid) => {
            requests::possible_duplicates(&state.db, RequesterId(rid), ServiceId(id)).await?
        }
        None => Vec::new(),
    };
    let areas: Vec<AreaOption> = catalogue::list_areas(&state.db)
        .await?
        .into_iter()
        .map(|a| AreaOption {
            selected: a.id == sheet.area_id.0,
            id: a.id,
            name: a.name,
        })
        .collect();
    let SheetContent {
        requirements,
        first_level_tests,
        required_attachments,
        attention_policy,
        ..
    } = sheet;
    fragment(page.lang, "service_panel.html", |ctx| {
        ctx.insert("service_name", service.name.into());
        ctx.insert(
            "eligibility",
            eligibility_label(page.lang, service.eligibility).into(),
        );
        ctx.insert("refusal", refusal.into());
        ctx.insert("duplicates", minijinja::Value::from_serialize(&duplicates));
        ctx.insert(
            "requirements",
            minijinja::Value::from_serialize(&requirements),
        );
        ctx.insert(
            "tests",
            minijinja::Value::from_serialize(&first_level_tests),
        );
        ctx.insert(
            "attachments",
            minijinja::Value::from_serialize(&required_attachments),
        );
        ctx.insert("policy", attention_policy.into());
        ctx.insert("intake", intake.is_some().into());
        ctx.insert("message_has_files", message_has_files.into());
        ctx.insert("areas", minijinja::Value::from_serialize(&areas));
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
