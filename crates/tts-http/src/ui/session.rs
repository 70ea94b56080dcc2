//! The browser session: signing in and out, the session cookie, and the per-session CSRF token.

use super::Ui;
use super::page::{Chrome, UiError, render};
use crate::auth::jwt::{Claims, TokenType};
use crate::auth::{Caller, ClientKey};
use crate::state::AppState;
use askama::Template;
use axum::Extension;
use axum::extract::{Form, FromRequestParts, Query, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use hmac::{KeyInit, Mac};
use serde::Deserialize;
use tts_core::ids::{SessionId, TokenId};
use tts_core::{Actor, LoginAttempt, NewSession};

/// The session cookie's name.
pub(crate) const COOKIE_NAME: &str = "tts_session";

/// A signed-in browser: its token's claims (checked against the store on every request, so a session
/// that ended stops working at once) and its CSRF token.
#[derive(Debug, Clone)]
pub struct UiSession {
    /// The claims of the session's token.
    pub claims: Claims,
    /// The token every form of this session must carry.
    pub csrf: String,
}

impl UiSession {
    /// The engine's view of the user.
    pub fn actor(&self) -> Actor {
        Caller {
            claims: self.claims.clone(),
        }
        .actor()
    }

    /// The actor, when an admin; others get the API's 403.
    pub fn require_admin(&self) -> Result<Actor, UiError> {
        Caller {
            claims: self.claims.clone(),
        }
        .require_admin()
        .map_err(UiError::Api)
    }

    /// Refuses a form whose CSRF token is not this session's (403).
    pub fn check_csrf(&self, presented: &str) -> Result<(), UiError> {
        use subtle::ConstantTimeEq;
        if bool::from(presented.as_bytes().ct_eq(self.csrf.as_bytes())) {
            Ok(())
        } else {
            Err(UiError::Csrf)
        }
    }
}

/// The CSRF token of session `sid`: an HMAC-SHA256 of its id under the server's secret, so it needs no
/// storage, differs per session and cannot be derived without the secret.
pub(crate) fn csrf_token(secret: &[u8], sid: SessionId) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(b"tts-ui-csrf:");
    mac.update(sid.0.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// The session cookie's value in a request, if any.
fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_string())
}

/// The user of a request's session cookie when its token is well signed and unexpired (not checked
/// against the store: enough to key rate limits by user, not to authorize anything).
pub fn session_user(headers: &HeaderMap, state: &AppState) -> Option<tts_core::UserId> {
    let token = cookie_value(headers)?;
    state.keys.verify(&token, TokenType::Refresh).ok().map(|c| c.user_id)
}

impl FromRequestParts<AppState> for UiSession {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(token) = cookie_value(&parts.headers) else {
            return Err(UiError::SignIn);
        };
        let claims = state
            .keys
            .verify(&token, TokenType::Refresh)
            .map_err(|_| UiError::SignIn)?;
        if state
            .engine
            .session_ended(claims.sid)
            .await
            .map_err(UiError::from_core)?
        {
            return Err(UiError::SignIn);
        }
        let csrf = csrf_token(&state.config.jwt_secret, claims.sid);
        Ok(UiSession { claims, csrf })
    }
}

/// The sign-in page.
#[derive(Template)]
#[template(path = "ui/signin.html")]
struct SignInPage {
    chrome: Chrome,
    email: String,
    problem: Option<String>,
}

/// `?problem=` on the sign-in page (after a failed attempt, so the page stays a GET).
#[derive(Debug, Deserialize)]
pub(crate) struct SignInQuery {
    #[serde(default)]
    problem: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

/// `GET /signin`.
pub(crate) async fn signin_page(Extension(ui): Extension<Ui>, Query(q): Query<SignInQuery>) -> Response {
    let problem = q.problem.map(|p| match p.as_str() {
        "locked" => "Too many failed attempts: this account is locked for a while. Try again later.".to_string(),
        "ended" => "Your session has ended. Sign in again.".to_string(),
        _ => "Invalid e-mail or password, or the account is deactivated.".to_string(),
    });
    render(SignInPage {
        chrome: Chrome::anonymous(&ui, "Sign in"),
        email: q.email.unwrap_or_default(),
        problem,
    })
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub(crate) struct SignInForm {
    email: String,
    password: String,
}

/// `POST /signin`: starts a session and sets its cookie, or goes back to the form saying why not.
pub(crate) async fn signin(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    client: ClientKey,
    Form(form): Form<SignInForm>,
) -> Result<Response, UiError> {
    let base = &ui.0.base_path;
    let back = |problem: &str| {
        let email: String = url::form_urlencoded::byte_serialize(form.email.as_bytes()).collect();
        Redirect::to(&format!("{base}/signin?problem={problem}&email={email}")).into_response()
    };
    if form.email.chars().count() > 254 || form.password.len() > 1024 {
        return Ok(back("invalid"));
    }
    let now = Utc::now();
    let new = NewSession {
        id: SessionId(uuid::Uuid::now_v7()),
        refresh: TokenId(uuid::Uuid::new_v4()),
        expires_at: state.keys.expires_at(TokenType::Refresh, now),
    };
    let attempt = LoginAttempt {
        email: form.email.clone(),
        password: form.password,
        client: client.0,
    };
    let session = match state.engine.login(attempt, Some(new)).await {
        Ok(session) => session,
        Err(tts_core::Error::Throttled { .. }) => return Ok(back("locked")),
        Err(e) if e.kind() == tts_core::ErrorKind::Unauthorized => return Ok(back("invalid")),
        Err(e) => return Err(UiError::from_core(e)),
    };
    let token = state
        .keys
        .issue_as(&session, new.id, TokenType::Refresh, now, new.refresh)
        .map_err(UiError::Api)?;
    let max_age = (new.expires_at - now).num_seconds().max(0);
    let cookie = format!(
        "{COOKIE_NAME}={}; Path={}; Max-Age={max_age}; HttpOnly; SameSite=Lax{}",
        token.token,
        cookie_path(&ui),
        if ui.0.secure_cookies { "; Secure" } else { "" }
    );
    let mut response = Redirect::to(if base.is_empty() { "/" } else { base }).into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|_| UiError::Csrf)?);
    Ok(response)
}

fn cookie_path(ui: &Ui) -> String {
    if ui.0.base_path.is_empty() {
        "/".into()
    } else {
        ui.0.base_path.clone()
    }
}

/// A form that carries only the CSRF token.
#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    pub csrf: String,
}

/// `POST /signout`: ends the session (its token stops working everywhere) and clears the cookie.
pub(crate) async fn signout(
    State(state): State<AppState>,
    Extension(ui): Extension<Ui>,
    session: UiSession,
    Form(form): Form<CsrfForm>,
) -> Result<Response, UiError> {
    session.check_csrf(&form.csrf)?;
    state
        .engine
        .logout(session.actor(), session.claims.sid)
        .await
        .map_err(UiError::from_core)?;
    let cookie = format!(
        "{COOKIE_NAME}=; Path={}; Max-Age=0; HttpOnly; SameSite=Lax{}",
        cookie_path(&ui),
        if ui.0.secure_cookies { "; Secure" } else { "" }
    );
    let mut response = Redirect::to(&format!("{}/signin", ui.0.base_path)).into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|_| UiError::Csrf)?);
    Ok(response)
}
