//! HTTP: the JSON API under `/api/v1`, the agents' web pages, health probes, and the extractors
//! they share.

pub mod api;
pub mod extract;
pub mod metrics;
pub mod pages;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::error::{Problem, problem_response};
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let body_limit = state.config.max_attachment_bytes + 64 * 1024;
    Router::new()
        .merge(api::router())
        .merge(pages::router())
        .merge(metrics::router())
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(|_| {
            problem_response(&Problem {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                code: "internal".into(),
                field: None,
                detail: "Ocurrió un error interno. Intente de nuevo; si persiste, avise al administrador.".into(),
            })
        }))
        .layer(TraceLayer::new_for_http().make_span_with(span_without_query))
        .with_state(state)
}

/// The request's span: method and path only. Query strings carry look-up keys such as a CURP or
/// an e-mail address, which must never reach the logs.
fn span_without_query(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::info_span!("http", method = %request.method(), path = %request.uri().path())
}

async fn readyz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<&'static str, crate::error::AppError> {
    sqlx::query("SELECT 1").execute(state.db.read()).await?;
    Ok("ready")
}

async fn not_found() -> axum::response::Response {
    problem_response(&Problem {
        status: StatusCode::NOT_FOUND,
        code: "not_found".into(),
        field: None,
        detail: "No existe esa dirección. La API está bajo /api/v1; su descripción, en /api/v1/openapi.json.".into(),
    })
}
