//! Extractors that turn every malformed input into a problem+json answer, and the bearer-token
//! authentication of staff.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use ventanilla_domain::lifecycle::Actor;
use ventanilla_domain::permissions::{Action, allows};

use crate::db::staff::{self, StaffMember};
use crate::error::AppError;
use crate::state::AppState;

/// A request number from a path, so a typo gets a 400 that explains the format.
pub fn parse_number(raw: &str) -> Result<String, AppError> {
    ventanilla_domain::identifiers::RequestNumber::parse(raw)
        .map(|n| n.to_string())
        .map_err(|e| {
            AppError::new(StatusCode::BAD_REQUEST, e.code(), e.to_string()).with_field("number")
        })
}

/// A comma-separated `status` query parameter (`assigned,in_progress`); empty means none.
pub fn parse_statuses(
    raw: Option<&str>,
) -> Result<Vec<ventanilla_domain::lifecycle::Status>, AppError> {
    use ventanilla_domain::lifecycle::Status;
    raw.unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|code| {
            Status::from_code(code).ok_or_else(|| {
                AppError::new(
                    StatusCode::BAD_REQUEST,
                    "unknown_status",
                    format!("«{code}» no es un estado; use received, to_confirm, registered, assigned, in_progress, waiting, solved, validating, closed, reopened o cancelled."),
                )
                .with_field("status")
            })
        })
        .collect()
}

/// JSON body; a malformed or mistyped body is a 400/422 naming the field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_problem(rejection)),
        }
    }
}

fn json_problem(rejection: JsonRejection) -> AppError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "json_content_type",
            "Envíe el cuerpo como JSON con la cabecera Content-Type: application/json.",
        ),
        JsonRejection::JsonSyntaxError(e) => AppError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!(
                "El cuerpo no es JSON válido: {}. Revise comillas, comas y llaves.",
                e.body_text()
            ),
        ),
        JsonRejection::JsonDataError(e) => {
            let text = e.body_text();
            AppError::invalid(
                field_of(&text).as_deref().unwrap_or("body"),
                "invalid_body",
                format!("Un campo falta o tiene un tipo incorrecto: {text}."),
            )
        }
        other => AppError::new(
            StatusCode::BAD_REQUEST,
            "unreadable_body",
            format!(
                "No se pudo leer el cuerpo de la petición: {}.",
                other.body_text()
            ),
        ),
    }
}

/// Pulls the field name out of serde's messages ("missing field `x`", "x: invalid type …").
fn field_of(message: &str) -> Option<String> {
    if let Some(start) = message.find("missing field `") {
        let rest = &message[start + 15..];
        return rest.find('`').map(|end| rest[..end].to_string());
    }
    let body = message
        .split("Failed to deserialize the JSON body into the target type: ")
        .nth(1)?;
    let path = body.split(':').next()?.trim();
    (!path.is_empty() && !path.contains(' ')).then(|| path.to_string())
}

/// Query string; a malformed one is a 400 problem.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(AppError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!(
                    "Un parámetro de la consulta no es válido: {}.",
                    e.body_text()
                ),
            )),
            Err(other) => Err(AppError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                other.body_text(),
            )),
        }
    }
}

/// The signed-in staff member, from `Authorization: Bearer <token>`.
pub struct CurrentStaff(pub StaffMember);

impl CurrentStaff {
    /// 403 unless the role may take the action.
    pub fn require(&self, action: Action) -> Result<(), AppError> {
        if allows(self.0.role, action) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "Su perfil ({}) no permite esta operación.",
                self.0.role.label_es()
            )))
        }
    }

    pub fn actor(&self) -> Actor {
        Actor::Staff {
            id: self.0.id,
            role: self.0.role,
            area: self.0.area_id,
        }
    }
}

impl FromRequestParts<AppState> for CurrentStaff {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let unauthorized = |detail: &str| {
            AppError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail.to_string())
        };
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                unauthorized("Falta la cabecera Authorization: Bearer <token>. Obtenga un token con «ventanilla user token».")
            })?;
        let token = header
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthorized("La cabecera Authorization debe ser «Bearer <token>»."))?;
        let staff = staff::by_token(&state.db, token)
            .await?
            .ok_or_else(|| unauthorized("El token no es válido o fue revocado."))?;
        Ok(CurrentStaff(staff))
    }
}

/// Path parameters; a malformed one (e.g. letters where an id is due) is a 400 problem.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(AppError::new(
                StatusCode::BAD_REQUEST,
                "invalid_path",
                format!(
                    "Un dato de la dirección no es válido: {}.",
                    rejection.body_text()
                ),
            )),
        }
    }
}

/// A JSON body that may be empty (then the type's default), with the same errors as `ApiJson`.
pub fn json_or_default<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, AppError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| {
        if e.is_data() {
            let text = e.to_string();
            let field = text
                .find("missing field `")
                .and_then(|start| text[start + 15..].split('`').next().map(String::from))
                .unwrap_or_else(|| "body".into());
            AppError::invalid(
                &field,
                "invalid_body",
                format!("Un campo falta o tiene un tipo incorrecto: {text}."),
            )
        } else {
            AppError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("El cuerpo no es JSON válido: {e}. Revise comillas, comas y llaves."),
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_is_named_from_serde_messages() {
        assert_eq!(
            field_of(
                "Failed to deserialize the JSON body into the target type: missing field `subject` at line 1 column 2"
            ),
            Some("subject".into())
        );
        assert_eq!(
            field_of(
                "Failed to deserialize the JSON body into the target type: service_id: invalid type: string \"x\", expected i64 at line 1 column 20"
            ),
            Some("service_id".into())
        );
    }
}
