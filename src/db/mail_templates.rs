//! The administrator's mail templates: the current one of each kind, every earlier version, and
//! the rendering used by every place that writes a mail to the outbox.

use serde::Serialize;
use serde_json::Value;
use sqlx::{AnyConnection, FromRow};

use super::Db;
use crate::error::{AppError, AppResult};
use crate::mail::templates::{self, Kind, Rendered, Source};

/// A kind with its current template.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TemplateView {
    pub key: String,
    pub label: String,
    /// false while the built-in default applies.
    pub customized: bool,
    #[serde(flatten)]
    pub source: Source,
    /// name → description, for the editor.
    pub variables: Vec<Variable>,
    pub updated_by: Option<String>,
    pub updated_at: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Variable {
    pub name: String,
    pub description: String,
}

#[derive(Debug, Serialize, FromRow, utoipa::ToSchema)]
pub struct Version {
    pub version: i64,
    /// edit or reset.
    pub action: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub changed_by: Option<String>,
    pub changed_at: i64,
}

#[derive(FromRow)]
struct Stored {
    subject: String,
    body_text: String,
    body_html: String,
    updated_by: Option<String>,
    updated_at: i64,
}

/// The kind of `key`, or 404.
pub fn kind_of(key: &str) -> AppResult<&'static Kind> {
    templates::kind(key).ok_or_else(|| {
        AppError::not_found(
            "unknown_mail_template",
            format!(
                "No existe la plantilla «{key}». Plantillas: {}.",
                templates::KINDS
                    .iter()
                    .map(|k| k.key)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })
}

/// The first problem of a template as a 422 naming the field.
pub fn check(kind: &Kind, source: &Source) -> AppResult<()> {
    match templates::validate(kind, source).into_iter().next() {
        None => Ok(()),
        Some(e) => Err(AppError::invalid(e.field, e.code, e.detail)),
    }
}

async fn stored(conn: &mut AnyConnection, key: &str) -> AppResult<Option<Stored>> {
    Ok(sqlx::query_as(
        "SELECT t.subject, t.body_text, t.body_html, s.full_name AS updated_by, t.updated_at
         FROM mail_templates t LEFT JOIN staff s ON s.id = t.updated_by WHERE t.template_key = $1",
    )
    .bind(key)
    .fetch_optional(&mut *conn)
    .await?)
}

fn view(kind: &Kind, stored: Option<Stored>) -> TemplateView {
    let variables = kind
        .variables
        .iter()
        .map(|(n, d)| Variable {
            name: (*n).into(),
            description: (*d).into(),
        })
        .collect();
    let (source, updated_by, updated_at, customized) = match stored {
        Some(s) => (
            Source {
                subject: s.subject,
                body_text: s.body_text,
                body_html: s.body_html,
            },
            s.updated_by,
            Some(s.updated_at),
            true,
        ),
        None => (kind.default_source(), None, None, false),
    };
    TemplateView {
        key: kind.key.into(),
        label: kind.label_es.into(),
        customized,
        source,
        variables,
        updated_by,
        updated_at,
    }
}

pub async fn get(db: &Db, key: &str) -> AppResult<TemplateView> {
    let kind = kind_of(key)?;
    let mut conn = db.read().acquire().await?;
    Ok(view(kind, stored(&mut conn, key).await?))
}

pub async fn list(db: &Db) -> AppResult<Vec<TemplateView>> {
    let mut conn = db.read().acquire().await?;
    let mut out = Vec::new();
    for kind in templates::KINDS {
        out.push(view(kind, stored(&mut conn, kind.key).await?));
    }
    Ok(out)
}

async fn add_version(
    conn: &mut AnyConnection,
    key: &str,
    action: &str,
    source: &Source,
    staff_id: i64,
    now_ms: i64,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO mail_template_versions
            (template_key, version, action, subject, body_text, body_html, changed_by, changed_at)
         VALUES ($1, (SELECT COALESCE(MAX(version), 0) + 1 FROM mail_template_versions WHERE template_key = $1),
                 $2, $3, $4, $5, $6, $7)",
    )
    .bind(key)
    .bind(action)
    .bind(&source.subject)
    .bind(&source.body_text)
    .bind(&source.body_html)
    .bind(staff_id)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Saves a template after validating it (422 naming the field otherwise); the earlier one stays
/// in the versions.
pub async fn put(
    db: &Db,
    key: &str,
    source: &Source,
    staff_id: i64,
    now_ms: i64,
) -> AppResult<TemplateView> {
    let kind = kind_of(key)?;
    check(kind, source)?;
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO mail_templates (template_key, subject, body_text, body_html, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (template_key) DO UPDATE SET subject = excluded.subject,
            body_text = excluded.body_text, body_html = excluded.body_html,
            updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(key)
    .bind(&source.subject)
    .bind(&source.body_text)
    .bind(&source.body_html)
    .bind(staff_id)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    add_version(&mut tx, key, "edit", source, staff_id, now_ms).await?;
    tx.commit().await?;
    get(db, key).await
}

/// Goes back to the built-in default; the reset is a version too.
pub async fn reset(db: &Db, key: &str, staff_id: i64, now_ms: i64) -> AppResult<TemplateView> {
    let kind = kind_of(key)?;
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM mail_templates WHERE template_key = $1")
        .bind(key)
        .execute(&mut *tx)
        .await?;
    add_version(
        &mut tx,
        key,
        "reset",
        &kind.default_source(),
        staff_id,
        now_ms,
    )
    .await?;
    tx.commit().await?;
    get(db, key).await
}

/// Every version of a template, newest first.
pub async fn versions(db: &Db, key: &str) -> AppResult<Vec<Version>> {
    kind_of(key)?;
    Ok(sqlx::query_as(
        "SELECT v.version, v.action, v.subject, v.body_text, v.body_html, s.full_name AS changed_by, v.changed_at
         FROM mail_template_versions v LEFT JOIN staff s ON s.id = v.changed_by
         WHERE v.template_key = $1 ORDER BY v.version DESC",
    )
    .bind(key)
    .fetch_all(db.read())
    .await?)
}

/// The preview of a template as typed (not saved), with the kind's sample data.
pub fn preview(key: &str, source: &Source) -> AppResult<Rendered> {
    let kind = kind_of(key)?;
    check(kind, source)?;
    templates::render(kind, source, &(kind.sample)())
        .map_err(|e| AppError::invalid(e.field, e.code, e.detail))
}

/// Renders the current template of `key` for an outgoing mail, inside the caller's transaction.
/// A stored template that fails with these values (it passed validation with the sample, so this
/// is rare) falls back to the default with an alert: the mail still goes out.
pub async fn render_in_tx(
    conn: &mut AnyConnection,
    key: &str,
    context: &Value,
) -> AppResult<Rendered> {
    let template = Loaded::read(conn, key).await?;
    template.renderer()?.render(context)
}

/// The template of one kind as it will render: the administrator's version, if any, with the
/// built-in default to fall back on.
pub struct Loaded {
    kind: &'static Kind,
    stored: Option<Source>,
    default: Source,
}

impl Loaded {
    pub async fn read(conn: &mut AnyConnection, key: &str) -> AppResult<Loaded> {
        let kind = kind_of(key)?;
        let stored = stored(conn, key).await?.map(|s| Source {
            subject: s.subject,
            body_text: s.body_text,
            body_html: s.body_html,
        });
        Ok(Loaded {
            kind,
            stored,
            default: kind.default_source(),
        })
    }

    /// Parses the templates once, for any number of messages.
    pub fn renderer(&self) -> AppResult<Renderer<'_>> {
        let default = templates::Compiled::new(self.kind, &self.default).map_err(|e| {
            AppError::from(anyhow::anyhow!(
                "the default mail template {} failed: {}",
                self.kind.key,
                e.detail
            ))
        })?;
        let stored = self.stored.as_ref().and_then(|source| {
            match templates::Compiled::new(self.kind, source) {
                Ok(compiled) => Some(compiled),
                Err(e) => {
                    stored_template_failed(self.kind.key, e.field);
                    None
                }
            }
        });
        Ok(Renderer {
            key: self.kind.key,
            stored,
            default,
        })
    }
}

/// Renders messages with a parsed template; a stored template that fails on some values falls
/// back to the default for that message (and raises the alert).
pub struct Renderer<'s> {
    key: &'static str,
    stored: Option<templates::Compiled<'s>>,
    default: templates::Compiled<'s>,
}

impl Renderer<'_> {
    pub fn render(&self, context: &Value) -> AppResult<Rendered> {
        if let Some(stored) = &self.stored {
            match stored.render(context) {
                Ok(rendered) => return Ok(rendered),
                Err(e) => stored_template_failed(self.key, e.field),
            }
        }
        self.default.render(context).map_err(|e| {
            AppError::from(anyhow::anyhow!(
                "the default mail template {} failed: {}",
                self.key,
                e.detail
            ))
        })
    }
}

fn stored_template_failed(key: &str, field: &str) {
    tracing::error!(
        template = key,
        field,
        alert = "mail_template_failed",
        "a stored mail template failed; the default was used"
    );
}
