//! Forms that carry files (Q3): `multipart/form-data` read into the same `FormFields` the other
//! forms use, plus the files chosen, each read with the API's limit. A file over the limit (or a
//! body cut off by it) becomes a Spanish message under that input's name, so the page says it
//! beside the field and keeps what was typed. An urlencoded body (no files) is read as usual.

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::{FieldErrors, FormFields};
use crate::db::requests::NewAttachment;
use crate::error::AppError;
use crate::http::api::requests::{multipart_problem, read_upload};
use crate::state::AppState;

pub struct MultipartForm {
    pub fields: FormFields,
    /// Files actually chosen, by input name (an input left empty sends none).
    pub files: Vec<(String, NewAttachment)>,
    /// Files refused (too large), by input name.
    pub errors: FieldErrors,
}

impl MultipartForm {
    pub fn take_files(&mut self) -> Vec<(String, NewAttachment)> {
        std::mem::take(&mut self.files)
    }
}

fn problem_text(e: AppError) -> String {
    match e {
        AppError::Problem(p) => p.detail,
        AppError::Internal(_) => "No se pudo leer el archivo; inténtelo de nuevo.".into(),
    }
}

impl FromRequest<AppState> for MultipartForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let is_multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !is_multipart {
            let fields = FormFields::from_request(req, state).await?;
            return Ok(MultipartForm {
                fields,
                files: Vec::new(),
                errors: FieldErrors::new(),
            });
        }
        let limit = state.config.max_attachment_bytes;
        let mut multipart = Multipart::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let mut form = MultipartForm {
            fields: FormFields(Vec::new()),
            files: Vec::new(),
            errors: FieldErrors::new(),
        };
        // The last input read, to file a broken-off body under it.
        let mut current = "_form".to_string();
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                Err(e) => {
                    form.errors
                        .insert(current, problem_text(multipart_problem(e, limit)));
                    break;
                }
            };
            let name = field.name().unwrap_or("").to_string();
            current = name.clone();
            // An input with no file chosen sends an empty file name and no bytes.
            let file_name = field.file_name().map(|n| n.trim().to_string());
            match file_name.as_deref() {
                Some("") => {}
                Some(_) => match read_upload(field, limit).await {
                    Ok(file) => form.files.push((name, file)),
                    Err(e) => {
                        form.errors.insert(name, problem_text(e));
                    }
                },
                None => match field.text().await {
                    Ok(text) => form.fields.0.push((name, text)),
                    Err(e) => {
                        form.errors
                            .insert(name, problem_text(multipart_problem(e, limit)));
                        break;
                    }
                },
            }
        }
        Ok(form)
    }
}
