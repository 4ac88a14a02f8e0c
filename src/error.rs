//! The error policy.
//!
//! Inside the app, fallible code returns `AppError`. A rule the client broke is a `Problem`:
//! an HTTP 4xx with a stable `code`, the `field` at fault when there is one, and a Spanish
//! `detail` that says what is wrong and how to fix it; it is returned, never logged. Anything
//! else (the database went away, a bug) is `Internal`: logged once here, at the edge, without
//! personal data, and answered with a generic 500 whose body reveals nothing. CLI commands and
//! background jobs use `anyhow` and log where they handle the error.
//!
//! Every error body is `application/problem+json` (RFC 9457).

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug)]
pub enum AppError {
    Problem(Problem),
    Internal(anyhow::Error),
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(skip)]
    pub status: StatusCode,
    /// Stable, machine-readable code, e.g. `curp_check_digit`.
    pub code: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What is wrong and how to fix it, in Spanish.
    pub detail: String,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(status: StatusCode, code: impl Into<String>, detail: impl Into<String>) -> Self {
        AppError::Problem(Problem {
            status,
            code: code.into(),
            field: None,
            detail: detail.into(),
        })
    }

    /// 422: the input is well formed but breaks a rule.
    pub fn invalid(field: &str, code: impl Into<String>, detail: impl Into<String>) -> Self {
        AppError::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail).with_field(field)
    }

    pub fn not_found(code: &str, detail: impl Into<String>) -> Self {
        AppError::new(StatusCode::NOT_FOUND, code, detail)
    }

    pub fn conflict(code: &str, detail: impl Into<String>) -> Self {
        AppError::new(StatusCode::CONFLICT, code, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        AppError::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn with_field(self, field: &str) -> Self {
        match self {
            AppError::Problem(mut p) => {
                p.field = Some(field.to_string());
                AppError::Problem(p)
            }
            other => other,
        }
    }

    /// For CLI commands and jobs, which report errors with `anyhow`: a problem becomes its code
    /// and Spanish detail.
    pub fn into_anyhow(self) -> anyhow::Error {
        match self {
            AppError::Internal(e) => e,
            AppError::Problem(p) => anyhow::anyhow!("{}: {}", p.code, p.detail),
        }
    }

    /// What went wrong, for a log line: the internal error's chain, or only the problem's code
    /// (a problem's detail may quote what the user sent; a failed statement's error names a
    /// constraint or a column, never a value).
    pub fn log_cause(&self) -> String {
        match self {
            AppError::Internal(e) => format!("{e:#}"),
            AppError::Problem(p) => p.code.clone(),
        }
    }

    /// The problem, for tests and callers that inspect it.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            AppError::Problem(p) => Some(p),
            AppError::Internal(_) => None,
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(e.into())
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::Internal(e)
    }
}

#[derive(Serialize)]
struct ProblemBody<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    #[serde(flatten)]
    problem: &'a Problem,
}

pub fn problem_response(problem: &Problem) -> Response {
    let body = ProblemBody {
        kind: format!("https://ventanilla.invalid/problems/{}", problem.code),
        title: problem.status.canonical_reason().unwrap_or("Error"),
        status: problem.status.as_u16(),
        problem,
    };
    let json = serde_json::to_vec(&body).unwrap_or_default();
    (
        problem.status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        json,
    )
        .into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Problem(problem) => problem_response(&problem),
            AppError::Internal(error) => {
                // Logged once, here. Messages from sqlx and our own code carry no personal data:
                // values are bound as parameters, never formatted into SQL or errors.
                tracing::error!(error = %format!("{error:#}"), "internal error");
                problem_response(&Problem {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: "internal".into(),
                    field: None,
                    detail: "Ocurrió un error interno. Intente de nuevo; si persiste, avise al administrador.".into(),
                })
            }
        }
    }
}
