//! Sign-in, sign-out and the language switch.
//!
//! The sign-in form has no session yet, so its CSRF token is a double-submit cookie: a random
//! value set with the form and sent back in a hidden field. Five failures within fifteen minutes
//! lock the username (counted per username, so guessing one account's password is slow, and a
//! wrong password looks the same as an unknown user).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::i18n::{self, Lang};
use super::{
    FormFields, LANG_COOKIE, LOGIN_CSRF_COOKIE, Page, PageResult, SESSION_COOKIE, base_context,
    check_same_origin, constant_time_eq, cookie, csrf_refused, lang_of, render, see_other,
    set_cookie,
};
use crate::db::{staff, web};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Only a local path is a safe place to go back to after signing in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.into(),
        _ => "/".into(),
    }
}

fn login_page(
    state: &AppState,
    lang: Lang,
    status: StatusCode,
    username: &str,
    next: &str,
    error: Option<&str>,
) -> Response {
    let token = web_token();
    let mut ctx = base_context(lang, &token, "/login");
    ctx.insert("title", i18n::text(lang, "title_login").into());
    ctx.insert("username", username.into());
    ctx.insert("next", next.into());
    if let Some(error) = error {
        ctx.insert("error", error.into());
    }
    let mut response = render(status, "login.html", minijinja::Value::from(ctx));
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, LOGIN_CSRF_COOKIE, &token, 3600),
    );
    response
}

fn web_token() -> String {
    staff::random_secret("")
}

pub async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    let next = safe_next(query.next.as_deref());
    login_page(&state, lang_of(&headers), StatusCode::OK, "", &next, None)
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: FormFields,
) -> PageResult {
    let lang = lang_of(&headers);
    check_same_origin(&headers)?;
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !constant_time_eq(form.get("csrf").as_bytes(), expected.as_bytes()) {
        return Err(csrf_refused());
    }
    let username = form.get("username").trim().to_lowercase();
    let password = form.get("password");
    let next = safe_next(Some(form.get("next")));
    let now = state.now_ms();
    if username.is_empty() || password.is_empty() {
        return Ok(login_page(
            &state,
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            &username,
            &next,
            Some(i18n::text(lang, "login_required")),
        ));
    }
    if web::recent_failures(&state.db, &username, now).await? >= web::MAX_FAILURES {
        return Ok(login_page(
            &state,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            &username,
            &next,
            Some(i18n::text(lang, "login_locked")),
        ));
    }
    let Some(member) = staff::check_password(&state.db, &username, password).await? else {
        web::record_failure(&state.db, &username, now).await?;
        return Ok(login_page(
            &state,
            lang,
            StatusCode::UNAUTHORIZED,
            &username,
            &next,
            Some(i18n::text(lang, "login_failed")),
        ));
    };
    web::clear_failures(&state.db, &username).await?;
    let session = web::create_session(&state.db, member.id, now).await?;
    let mut response = see_other(&next);
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(
            &state,
            SESSION_COOKIE,
            &session.secret,
            web::SESSION_MS / 1000,
        ),
    );
    headers.append(
        header::SET_COOKIE,
        set_cookie(&state, LOGIN_CSRF_COOKIE, "", 0),
    );
    Ok(response)
}

pub async fn logout(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    form: FormFields,
) -> PageResult {
    page.check_csrf(&headers, &form)?;
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        web::delete_session(&state.db, &secret).await?;
    }
    let mut response = see_other("/login");
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", 0),
    );
    Ok(response)
}

/// Sets the language cookie. Accepted with the session's token, or on the sign-in page with the
/// sign-in token; a preference only, but still a POST from this site.
pub async fn switch_language(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: FormFields,
) -> PageResult {
    check_same_origin(&headers)?;
    let token = form.get("csrf");
    let login_token = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    let session_token = match cookie(&headers, SESSION_COOKIE) {
        Some(secret) => web::session(&state.db, &secret, state.now_ms())
            .await?
            .map(|(_, csrf)| csrf)
            .unwrap_or_default(),
        None => String::new(),
    };
    if !constant_time_eq(token.as_bytes(), login_token.as_bytes())
        && !constant_time_eq(token.as_bytes(), session_token.as_bytes())
    {
        return Err(csrf_refused());
    }
    let lang = Lang::from_code(form.get("to"));
    let mut response = see_other(&safe_next(Some(form.get("back"))));
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, LANG_COOKIE, lang.code(), 365 * 24 * 3600),
    );
    Ok(response.into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/requests/new")), "/requests/new");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
