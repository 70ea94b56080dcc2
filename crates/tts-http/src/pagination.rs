//! DRF-style pages: `?page=&page_size=` (max 100) in, `{count, next, previous, results}` out.

use crate::error::ApiError;
use crate::extract::{Params, query_param};
use axum::http::Uri;
use serde::Serialize;
use tts_core::ports::store::{MAX_PAGE_SIZE, Page, PageRequest};
use utoipa::ToSchema;

/// Reads `page` (default 1) and `page_size` (default 20, at most 100) from the query.
pub fn page_request(params: &Params) -> Result<PageRequest, ApiError> {
    let page: u32 = query_param("page", params.get("page"))?.unwrap_or(1);
    let page_size: u32 = query_param("page_size", params.get("page_size"))?.unwrap_or(20);
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

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paginated<T> {
    /// Items matching the filters, over all pages.
    pub count: u64,
    /// The next page's URL (path and query), if any.
    pub next: Option<String>,
    /// The previous page's URL, if any.
    pub previous: Option<String>,
    /// This page.
    pub results: Vec<T>,
}

impl<T> Paginated<T> {
    /// Converts a store page, linking neighbours by rewriting `page` in the request's own URI.
    pub fn from_page<U>(page: Page<U>, request: PageRequest, uri: &Uri, map: impl FnMut(U) -> T) -> Self {
        let last = page.total.div_ceil(u64::from(request.page_size)).max(1);
        let link = |n: u32| {
            let mut pairs: Vec<(String, String)> = uri
                .query()
                .and_then(|q| serde_urlencoded::from_str(q).ok())
                .unwrap_or_default();
            pairs.retain(|(k, _)| k != "page");
            pairs.push(("page".into(), n.to_string()));
            let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
            format!("{}?{query}", uri.path())
        };
        Paginated {
            count: page.total,
            next: (u64::from(request.page) < last).then(|| link(request.page + 1)),
            previous: (request.page > 1).then(|| link(request.page - 1)),
            results: page.items.into_iter().map(map).collect(),
        }
    }
}
