//! The agents' web application: server-rendered HTML pages (minijinja templates embedded in the
//! binary) over the same `db` functions as the JSON API.
//!
//! Sign-in makes a session (cookie `vt_session`, HttpOnly, SameSite=Lax; only its hash is
//! stored). Every state-changing request is a POST that carries the session's CSRF token in a
//! hidden field and is refused when the browser says it comes from another site (`Origin`,
//! `Sec-Fetch-Site`). Texts come from a small catalogue (`i18n`), Spanish by default.

// --- admin ---
mod admin;
mod admin_calendar;
mod admin_catalogue;
mod admin_staff;
mod complaints;
// --- end admin ---
mod auth;
mod browse;
pub mod i18n;
mod mail_templates;
mod reports;
mod request;
mod script;
mod survey;
// --- pages (request flow) ---
mod upload;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use minijinja::Environment;
use serde::Serialize;
use ventanilla_domain::permissions::{Action, Role, allows};

use crate::db::staff::StaffMember;
use crate::db::web;
use crate::error::AppError;
use crate::state::AppState;
use i18n::Lang;

pub const SESSION_COOKIE: &str = "vt_session";
pub const LOGIN_CSRF_COOKIE: &str = "vt_login_csrf";
pub const LANG_COOKIE: &str = "vt_lang";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(browse::home))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/lang", post(auth::switch_language))
        .route("/requests/new", get(script::form).post(script::submit))
        .route("/requests/{number}", get(request::show))
        .route("/requests/{number}/step/{step}", post(request::step))
        .route("/requests/{number}/comment", post(request::comment))
        .route("/requests/{number}/conditions", post(request::conditions))
        .route("/encuesta/{token}", get(survey::show).post(survey::answer))
        .route("/reports", get(reports::show))
        .route("/reports/export.csv", get(reports::export_csv))
        .route("/reports/export.xlsx", get(reports::export_xlsx))
        .route("/search", get(browse::search))
        .route("/catalogue", get(browse::catalogue))
        .route("/catalogue/{id}", get(browse::service))
        .route("/requesters/{id}", get(browse::requester))
        .route("/ui/home", get(browse::home_queues))
        .route("/ui/requesters", get(script::requester_results))
        .route("/ui/curp", get(script::curp_check))
        .route("/ui/services", get(script::service_results))
        .route("/ui/service-panel", get(script::service_panel))
        .route("/ui/requester-history", get(script::requester_history))
        // --- pages (request flow) ---
        .route("/requests/{number}/register", get(script::intake_form))
        .route("/requests/{number}/escalate", post(request::escalate))
        .route("/requests/{number}/attachments", post(request::upload))
        .route(
            "/requests/{number}/attachments/{id}",
            get(request::download),
        )
        // --- end pages ---
        .route("/admin/mail/templates", get(mail_templates::list))
        .route(
            "/admin/mail/templates/{key}",
            get(mail_templates::edit).post(mail_templates::submit),
        )
        .route("/static/app.css", get(static_css))
        .route("/static/app.js", get(static_js))
        // --- admin ---
        .merge(admin::routes())
        .merge(complaints::routes())
}

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    let files: [(&str, &str); 20] = [
        ("base.html", include_str!("templates/base.html")),
        ("login.html", include_str!("templates/login.html")),
        ("home.html", include_str!("templates/home.html")),
        (
            "home_queues.html",
            include_str!("templates/home_queues.html"),
        ),
        ("list.html", include_str!("templates/list.html")),
        ("script.html", include_str!("templates/script.html")),
        ("referral.html", include_str!("templates/referral.html")),
        ("request.html", include_str!("templates/request.html")),
        ("search.html", include_str!("templates/search.html")),
        ("catalogue.html", include_str!("templates/catalogue.html")),
        ("service.html", include_str!("templates/service.html")),
        ("requester.html", include_str!("templates/requester.html")),
        ("error.html", include_str!("templates/error.html")),
        ("survey.html", include_str!("templates/survey.html")),
        ("reports.html", include_str!("templates/reports.html")),
        (
            "requester_results.html",
            include_str!("templates/requester_results.html"),
        ),
        (
            "service_results.html",
            include_str!("templates/service_results.html"),
        ),
        (
            "service_panel.html",
            include_str!("templates/service_panel.html"),
        ),
        (
            "staged_aside.html",
            include_str!("templates/staged_aside.html"),
        ),
        (
            "requester_history.html",
            include_str!("templates/requester_history.html"),
        ),
    ];
    for (name, source) in files
        .into_iter()
        .chain(admin::TEMPLATES)
        .chain(mail_templates::TEMPLATES)
    {
        if let Err(e) = env.add_template(name, source) {
            // A broken template is a bug caught by the tests that render every page.
            tracing::error!(template = name, error = %e, "template does not compile");
        }
    }
    env
});

async fn static_css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("static/app.css"),
    )
        .into_response()
}

async fn static_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("static/app.js"),
    )
        .into_response()
}

/// Renders a template to an HTML response with the security headers every page carries.
pub fn render(status: StatusCode, template: &str, context: minijinja::Value) -> Response {
    let html = TEMPLATES
        .get_template(template)
        .and_then(|t| t.render(context));
    match html {
        Ok(html) => html_response(status, html),
        Err(e) => {
            tracing::error!(template, error = %e, "template failed to render");
            html_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html><html lang=\"es\"><title>Error</title><main><h1>Ocurrió un error interno</h1><p>Intente de nuevo; si persiste, avise al administrador.</p></main></html>".into(),
            )
        }
    }
}

fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The value of one cookie from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, whole site; `Secure` when served over HTTPS.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_s: i64) -> HeaderValue {
    let secure = state
        .config
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let text = format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

pub fn lang_of(headers: &HeaderMap) -> Lang {
    Lang::from_code(cookie(headers, LANG_COOKIE).as_deref().unwrap_or("es"))
}

/// A signed-in staff member on a page. Without a live session, GETs go to the sign-in page
/// (coming back afterwards) and everything else is refused.
pub struct Page {
    pub staff: StaffMember,
    pub csrf: String,
    pub lang: Lang,
    pub path: String,
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = lang_of(&parts.headers);
        let path = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let found = match cookie(&parts.headers, SESSION_COOKIE) {
            Some(secret) => web::session(&state.db, &secret, state.now_ms())
                .await
                .map_err(|e| PageError(e).into_response())?,
            None => None,
        };
        match found {
            Some((staff, csrf)) => Ok(Page {
                staff,
                csrf,
                lang,
                path,
            }),
            None => {
                let next = if parts.method == axum::http::Method::GET && !path.starts_with("/ui/") {
                    path
                } else {
                    // A form sent after the session expired: back to the page it came from,
                    // which refills itself from the tab's draft.
                    same_origin_referer(&parts.headers).unwrap_or_else(|| "/".into())
                };
                let target = format!("/login?next={}", urlencode(&next));
                Err(Redirect::to(&target).into_response())
            }
        }
    }
}

/// The path of the `Referer` when it is a page of this site.
fn same_origin_referer(headers: &HeaderMap) -> Option<String> {
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let rest = referer.split_once("://")?.1;
    let path = rest.strip_prefix(host)?;
    (path.starts_with('/') && !path.starts_with("//")).then(|| path.to_string())
}

pub fn urlencode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Page {
    /// The context every page template gets: texts, language, who is signed in, navigation.
    pub fn context(&self, title_key: &str) -> Ctx {
        let tr = i18n::messages(self.lang);
        let mut nav = Vec::new();
        let role = self.staff.role;
        let mut item = |href: &str, key: &str| {
            let current = if href == "/" {
                self.path == "/"
            } else {
                self.path.starts_with(href)
            };
            nav.push(NavItem {
                href: href.to_string(),
                label: tr.get(key).copied().unwrap_or(key).to_string(),
                current,
            });
        };
        item("/", "nav_home");
        if allows(role, Action::CreateRequest) {
            item("/requests/new", "nav_new_request");
        }
        item("/search", "nav_search");
        item("/catalogue", "nav_catalogue");
        if allows(role, Action::ViewReports) {
            item("/reports", "nav_reports");
        }
        // --- admin ---
        if allows(role, Action::ManageComplaints) {
            item("/complaints", "nav_complaints");
        }
        if admin::shows_admin(role) {
            item("/admin", "nav_admin");
        }
        if allows(role, Action::ManageMail) {
            item("/admin/mail/templates", "nav_mail_templates");
        }
        let mut ctx = base_context(self.lang, &self.csrf, &self.path);
        ctx.insert(
            "title",
            tr.get(title_key).copied().unwrap_or(title_key).into(),
        );
        ctx.insert(
            "me",
            minijinja::Value::from_serialize(Me {
                full_name: self.staff.full_name.clone(),
                role: i18n::role_label(self.lang, role).to_string(),
                role_code: role.code(),
            }),
        );
        ctx.insert("nav", minijinja::Value::from_serialize(&nav));
        ctx
    }

    /// 403 page unless the role may take the action.
    pub fn require(&self, action: Action) -> Result<(), PageError> {
        if allows(self.staff.role, action) {
            Ok(())
        } else {
            Err(PageError(AppError::forbidden(format!(
                "Su perfil ({}) no permite esta operación.",
                self.staff.role.label_es()
            ))))
        }
    }

    pub fn is(&self, role: Role) -> bool {
        self.staff.role == role
    }

    pub fn actor(&self) -> ventanilla_domain::lifecycle::Actor {
        ventanilla_domain::lifecycle::Actor::Staff {
            id: self.staff.id,
            role: self.staff.role,
            area: self.staff.area_id,
        }
    }

    /// CSRF: the form's token must be this session's, and the browser must not say the request
    /// comes from another site.
    pub fn check_csrf(&self, headers: &HeaderMap, form: &FormFields) -> Result<(), PageError> {
        check_same_origin(headers)?;
        if !constant_time_eq(form.get("csrf").as_bytes(), self.csrf.as_bytes()) {
            return Err(csrf_refused());
        }
        Ok(())
    }
}

/// A template's context: names to values.
pub type Ctx = BTreeMap<&'static str, minijinja::Value>;

/// A fragment the page inserts into itself as the agent types.
pub fn fragment_response(html: String) -> Response {
    html_response(StatusCode::OK, html)
}

pub fn base_context(lang: Lang, csrf: &str, path: &str) -> Ctx {
    let mut ctx = BTreeMap::new();
    ctx.insert("tr", minijinja::Value::from_serialize(i18n::messages(lang)));
    ctx.insert("lang", lang.code().into());
    ctx.insert("other_lang", lang.other().code().into());
    ctx.insert("csrf", csrf.into());
    ctx.insert("path", path.into());
    ctx
}

#[derive(Serialize)]
struct NavItem {
    href: String,
    label: String,
    current: bool,
}

#[derive(Serialize)]
struct Me {
    full_name: String,
    role: String,
    role_code: &'static str,
}

pub fn csrf_refused() -> PageError {
    PageError(AppError::forbidden(
        "El formulario caducó o no viene de esta aplicación (protección CSRF). Recargue la página e inténtelo de nuevo.",
    ))
}

/// Refuses a request the browser marks as cross-site, or whose `Origin` is another host.
pub fn check_same_origin(headers: &HeaderMap) -> Result<(), PageError> {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return Err(csrf_refused());
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
        if origin == "null" || origin_host != host {
            return Err(csrf_refused());
        }
    }
    Ok(())
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An urlencoded form as ordered pairs, so repeated names (checkboxes) keep every value.
pub struct FormFields(pub Vec<(String, String)>);

impl FormFields {
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    pub fn opt(&self, name: &str) -> Option<String> {
        let v = self.get(name).trim();
        (!v.is_empty()).then(|| v.to_string())
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The fields as a map for re-rendering a form with what the person typed.
    pub fn values(&self) -> BTreeMap<String, String> {
        self.0
            .iter()
            .filter(|(k, _)| k != "csrf")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for FormFields {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        match axum::Form::<Vec<(String, String)>>::from_request(req, state).await {
            Ok(axum::Form(pairs)) => Ok(FormFields(pairs)),
            Err(rejection) => Err(PageError(AppError::new(
                StatusCode::BAD_REQUEST,
                "form_unreadable",
                format!("No se pudo leer el formulario: {}.", rejection.body_text()),
            ))
            .into_response()),
        }
    }
}

/// An error on a page: the problem's Spanish detail on an HTML page with its status.
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError(e)
    }
}

impl From<sqlx::Error> for PageError {
    fn from(e: sqlx::Error) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, detail) = match self.0 {
            AppError::Problem(p) => (p.status, p.detail),
            AppError::Internal(error) => {
                tracing::error!(error = %format!("{error:#}"), "internal error on a page");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Ocurrió un error interno. Intente de nuevo; si persiste, avise al administrador."
                        .to_string(),
                )
            }
        };
        let mut ctx = base_context(Lang::Es, "", "/");
        ctx.insert("title", "Error".into());
        ctx.insert("status", status.as_u16().into());
        ctx.insert("detail", detail.into());
        render(status, "error.html", minijinja::Value::from(ctx))
    }
}

pub type PageResult = Result<Response, PageError>;

/// Instants on pages: Mexico City local time, minutes precision.
pub fn local_time(t: jiff::Timestamp) -> String {
    t.in_tz("America/Mexico_City")
        .map(|z| z.strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| t.to_string())
}

/// 303 See Other: after a POST, the browser GETs the result (no resubmission on reload).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Every field error of a form, by input name, to show beside the input.
pub type FieldErrors = BTreeMap<String, String>;

/// Files an `AppError::Problem` under its field (or `_form` when it has none); internal errors
/// pass through.
pub fn file_error(errors: &mut FieldErrors, e: AppError) -> Result<(), PageError> {
    match e {
        AppError::Problem(p) => {
            let field = p.field.clone().unwrap_or_else(|| "_form".into());
            errors.entry(field).or_insert(p.detail);
            Ok(())
        }
        internal => Err(PageError(internal)),
    }
}
