//! The layer around every UI route: refuses cross-origin form posts, renders errors as pages, and sets
//! the security and caching headers.

use super::Ui;
use super::page::{Pending, UiError, error_page};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::Response;

/// The Content-Security-Policy of every UI answer: only this origin's scripts, styles, images and
/// connections (the live feed's WebSocket), no inline script or style, no framing, forms only to this
/// origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Whether a state-changing request says it comes from another origin. Browsers send `Origin` with
/// every form post; it must name the host the request was sent to. (Without it, the CSRF token alone
/// decides.)
fn is_cross_origin(request: &Request) -> bool {
    if request.method() == Method::GET || request.method() == Method::HEAD {
        return false;
    }
    request.headers().contains_key(header::ORIGIN) && !from_own_origin(request.headers(), request.uri())
}

/// Whether the request's `Origin` header names the host the request was sent to (its `Host` header, or
/// the authority of an HTTP/2 request's URI): false when the origin is missing, unreadable or another
/// host. Form posts are checked with it when the browser sends `Origin`; the live feed's WebSocket
/// handshake, which browsers always send with `Origin` and which no CSRF token protects, must pass it.
pub(crate) fn from_own_origin(headers: &HeaderMap, uri: &Uri) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| url::Url::parse(o).ok())
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            })
        });
    match (origin_host, host) {
        (Some(o), Some(h)) => o.eq_ignore_ascii_case(h),
        _ => false,
    }
}

/// The UI's middleware (see the module doc).
pub(crate) async fn headers(State(ui): State<Ui>, request: Request, next: Next) -> Response {
    let mut response = if is_cross_origin(&request) {
        UiError::Csrf.respond(&ui)
    } else {
        let response = next.run(request).await;
        match response
            .extensions()
            .get::<Pending>()
            .and_then(|p| p.0.lock().ok()?.take())
        {
            Some(error) => error.respond(&ui),
            None => response,
        }
    };
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_html(&response) {
        response = error_page(&ui, StatusCode::PAYLOAD_TOO_LARGE, "The upload is too large.".into());
    }
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Whether a response is an HTML page.
pub(crate) fn is_html(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"))
}
