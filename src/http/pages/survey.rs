//! The public page of the quality survey (L9): reached from the invitation's signed link without
//! signing in; phone-friendly and accessible. "Sí" closes the request, "No" reopens it with the
//! requester's words; a used, expired or withdrawn link says so plainly.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::json;
use ventanilla_domain::lifecycle::Status;
use ventanilla_domain::survey::{Item, SCALE_ES};

use super::{FormFields, render};
use crate::db::surveys;
use crate::error::AppError;
use crate::http::api::surveys::SurveyAnswerInput;
use crate::state::AppState;

fn result_page(status: StatusCode, heading: &str, message: &str) -> Response {
    render(
        status,
        "survey.html",
        minijinja::Value::from_serialize(
            json!({ "state": "done", "heading": heading, "message": message }),
        ),
    )
}

fn problem_page(error: AppError) -> Response {
    match error {
        AppError::Problem(p) => {
            let heading = match p.code.as_str() {
                "survey_already_answered" => "Encuesta ya respondida",
                "survey_expired" => "Encuesta vencida",
                "survey_withdrawn" => "Encuesta sin efecto",
                _ => "Enlace no válido",
            };
            result_page(p.status, heading, &p.detail)
        }
        AppError::Internal(error) => {
            tracing::error!(error = %format!("{error:#}"), "internal error on the survey page");
            result_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Ocurrió un error",
                "No pudimos registrar su respuesta. Intente de nuevo en unos minutos.",
            )
        }
    }
}

fn form_page(
    view: &surveys::SurveyView,
    token: &str,
    values: serde_json::Value,
    error: Option<(&str, String)>,
) -> Response {
    let items: Vec<_> = Item::ALL
        .iter()
        .map(|i| json!({ "code": i.code(), "label": i.label_es() }))
        .collect();
    let scale: Vec<_> = SCALE_ES
        .iter()
        .enumerate()
        .map(|(i, label)| json!({ "value": i + 1, "label": label }))
        .collect();
    let (field, message) = error
        .map(|(f, m)| (Some(f.to_string()), Some(m)))
        .unwrap_or((None, None));
    render(
        if message.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        "survey.html",
        minijinja::Value::from_serialize(json!({
            "state": "open", "number": view.number, "subject": view.subject,
            "service_name": view.service_name, "token": token, "items": items, "scale": scale,
            "values": values, "error": message, "field": field,
        })),
    )
}

fn closed_state_page(state: &str) -> Response {
    problem_page(surveys::closed_survey(state))
}

pub async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match surveys::view(&state.db, &token, state.now_ms()).await {
        Ok(view) if view.state == "open" => form_page(&view, &token, json!({}), None),
        Ok(view) => closed_state_page(&view.state),
        Err(e) => problem_page(e),
    }
}

/// Refuses a form posted from another site: the link is the secret, but a page elsewhere should
/// not answer for the requester.
fn from_this_site(headers: &HeaderMap) -> bool {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (origin, host) {
        (Some(origin), Some(host)) => origin.split_once("://").map(|(_, h)| h) == Some(host),
        _ => true,
    }
}

pub async fn answer(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    form: FormFields,
) -> Response {
    if !from_this_site(&headers) {
        return result_page(
            StatusCode::FORBIDDEN,
            "Envío rechazado",
            "La respuesta debe enviarse desde la página de la encuesta.",
        );
    }
    let view = match surveys::view(&state.db, &token, state.now_ms()).await {
        Ok(view) if view.state == "open" => view,
        Ok(view) => return closed_state_page(&view.state),
        Err(e) => return problem_page(e),
    };
    let solved = match form.get("solved") {
        "si" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    let input = SurveyAnswerInput {
        solved,
        ratings: Item::ALL
            .iter()
            .filter_map(|i| {
                form.get(i.code())
                    .parse::<u8>()
                    .ok()
                    .map(|r| (i.code().to_string(), r))
            })
            .collect(),
        comment: form.get("comment").to_string(),
    };
    let values = serde_json::to_value(form.values()).unwrap_or_default();
    let answer = match input.parse() {
        Ok(answer) => answer,
        Err(AppError::Problem(p)) => {
            let field = p.field.clone().unwrap_or_default();
            return form_page(&view, &token, values, Some((&field, p.detail)));
        }
        Err(e) => return problem_page(e),
    };
    match surveys::answer(&state.db, &token, &answer, state.now_ms()).await {
        Ok(Status::Reopened) => result_page(
            StatusCode::OK,
            "Gracias: reabrimos su solicitud",
            &format!(
                "Registramos que la solicitud {} no quedó resuelta; la reabrimos y el área la atenderá de nuevo.",
                view.number
            ),
        ),
        Ok(_) => result_page(
            StatusCode::OK,
            "¡Gracias por su respuesta!",
            &format!(
                "La solicitud {} quedó cerrada. Sus calificaciones nos ayudan a mejorar.",
                view.number
            ),
        ),
        Err(e) => problem_page(e),
    }
}
