//! The JSON API under `/api/v1`. One file per resource, with its request and response types
//! beside its handlers; the OpenAPI document is generated from the same code.

pub mod catalogue;
pub mod complaints;
pub mod followup;
pub mod mail;
pub mod reports;
pub mod requesters;
pub mod requests;
pub mod service_levels;
pub mod staff;
pub mod surveys;

use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ventanilla API",
        description = "Mesa de servicios del CAU (procedimiento CGSI-PO-01). Errores: application/problem+json con `code`, `field` y `detail` en español.",
    ),
    servers((url = "/api/v1")),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn router() -> Router<AppState> {
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(catalogue::routes())
        .merge(mail::routes())
        .merge(requesters::routes())
        .merge(requests::routes())
        .merge(service_levels::routes())
        .merge(staff::routes())
        .merge(surveys::routes())
        .merge(complaints::routes())
        .merge(followup::routes())
        .merge(reports::routes())
        .split_for_parts();
    let openapi_json = serde_json::to_value(&openapi).unwrap_or_default();
    Router::new().nest("/api/v1", router).route(
        "/api/v1/openapi.json",
        get(move || {
            let doc = openapi_json.clone();
            async move { axum::Json(doc) }
        }),
    )
}
