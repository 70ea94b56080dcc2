//! DRF-style pages: `?page=&page_size=` (max 100) in, `{count, next, previous, results}` out, with
//! `next` / `previous` as absolute URLs (`http://host:port/path?query`) the way DRF gives them.
//!
//! The links start from `TTS_PUBLIC_URL` when it is set ([`crate::HttpConfig::public_url`]), else from
//! the request: `http://` + its `Host` header, or `X-Forwarded-Proto` / `X-Forwarded-Host` when the
//! peer is a trusted proxy ([`crate::HttpConfig::trusted_proxies`]).

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::uri::Authority;
use axum::http::{HeaderMap, Uri, header};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use tts_core::ports::store::{MAX_PAGE_SIZE, Page, PageRequest};
use utoipa::{IntoParams, ToSchema};

/// `?page=&page_size=`: the paging parameters of every list.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1-based page number (default 1); a page past the end is empty.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 4294967295_i64)]
    pub page: Option<u32>,
    /// Items per page (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u32>,
}

impl PageParams {
    /// The page asked for: `page` (default 1) and `page_size` (default 20, at most 100).
    pub fn request(&self) -> Result<PageRequest, ApiError> {
        let page = self.page.unwrap_or(1);
        let page_size = self.page_size.unwrap_or(20);
        if page == 0 {
            return Err(ApiError::bad_field("page", "pages start at 1"));
        }
        if page_size == 0 || page_size > MAX_PAGE_SIZE {
            return Err(ApiError::bad_field(
                "page_size",
                format!("must be between 1 and {MAX_PAGE_SIZE}"),
            ));
        }
        Ok(PageRequest::new(page, page_size)?)
    }
}

/// The absolute URL of a list request, from which `next` and `previous` are made.
#[derive(Debug, Clone)]
pub struct PageUrl {
    /// `scheme://host[:port][/prefix]`, without a trailing slash.
    pub origin: String,
    /// The request's path and query.
    pub uri: Uri,
}

impl PageUrl {
    /// The URL of page `n`: this request's URL with `page` replaced.
    pub fn page(&self, n: u32) -> String {
        let mut pairs: Vec<(String, String)> = self
            .uri
            .query()
            .and_then(|q| serde_urlencoded::from_str(q).ok())
            .unwrap_or_default();
        pairs.retain(|(k, _)| k != "page");
        pairs.push(("page".into(), n.to_string()));
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        format!("{}{}?{query}", self.origin, self.uri.path())
    }
}

/// The origin links start from: the public URL, or the (trusted) forwarded or `Host` headers.
pub fn origin(parts: &Parts, state: &AppState) -> String {
    if let Some(public) = &state.config.public_url {
        return public.trim_end_matches('/').to_string();
    }
    let trusted = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|c| state.config.trusted_proxies.contains(c.0.ip()));
    request_origin(&parts.headers, &parts.uri, trusted)
}

fn first_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn request_origin(headers: &HeaderMap, uri: &Uri, trusted: bool) -> String {
    let forwarded = |name| if trusted { first_value(headers, name) } else { None };
    let scheme = match forwarded("x-forwarded-proto").map(str::to_ascii_lowercase) {
        Some(p) if p == "https" || p == "http" => p,
        _ => uri.scheme_str().unwrap_or("http").to_string(),
    };
    let valid = |h: &str| h.parse::<Authority>().ok().filter(|a| a.as_str().find('@').is_none());
    let host = forwarded("x-forwarded-host")
        .and_then(valid)
        .or_else(|| first_value(headers, header::HOST.as_str()).and_then(valid))
        .or_else(|| uri.authority().cloned())
        .map_or_else(|| "localhost".to_string(), |a| a.as_str().to_string());
    format!("{scheme}://{host}")
}

impl FromRequestParts<AppState> for PageUrl {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.clone(), |u| u.0.clone());
        Ok(PageUrl {
            origin: origin(parts, state),
            uri,
        })
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T> {
    /// Items matching the filters, over all pages.
    pub count: u64,
    /// The next page's absolute URL, if any.
    pub next: Option<String>,
    /// The previous page's absolute URL, if any.
    pub previous: Option<String>,
    /// This page.
    pub results: Vec<T>,
}

impl<T> Paginated<T> {
    /// Converts a store page, linking neighbours by rewriting `page` in the request's own URL.
    pub fn from_page<U>(page: Page<U>, request: PageRequest, url: &PageUrl, map: impl FnMut(U) -> T) -> Self {
        let last = page.total.div_ceil(u64::from(request.page_size)).max(1);
        Paginated {
            count: page.total,
            next: (u64::from(request.page) < last).then(|| url.page(request.page + 1)),
            previous: (request.page > 1).then(|| url.page(request.page - 1)),
            results: page.items.into_iter().map(map).collect(),
        }
    }

    /// Pages a whole list the engine returned (already filtered and ordered).
    pub fn from_vec<U>(all: Vec<U>, request: PageRequest, url: &PageUrl, map: impl FnMut(U) -> T) -> Self {
        Paginated::from_page(Page::slice(all, request), request, url, map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.parse::<axum::http::HeaderName>().unwrap(), v.parse().unwrap());
        }
        h
    }

    #[test]
    fn origin_comes_from_host_and_only_trusted_forwarding() {
        let uri: Uri = "/tickets/?page=2".parse().unwrap();
        let h = headers(&[
            ("host", "api.local:8000"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "tts.example.com"),
        ]);
        assert_eq!(request_origin(&h, &uri, false), "http://api.local:8000");
        assert_eq!(request_origin(&h, &uri, true), "https://tts.example.com");
        let bad = headers(&[("host", "evil.example/x?y"), ("x-forwarded-proto", "gopher")]);
        assert_eq!(request_origin(&bad, &uri, true), "http://localhost");
    }
}
