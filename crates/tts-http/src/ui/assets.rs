//! The stylesheet and the script, embedded in the binary and served under names that carry a hash of
//! their content, so they can be cached for a year and a new build is never served a stale copy.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// One embedded file.
pub(crate) struct Asset {
    content_type: &'static str,
    body: &'static str,
    hashed: LazyLock<String>,
}

impl Asset {
    /// Its served name, `<stem>.<first 16 hex digits of its SHA-256>.<extension>`.
    pub fn name(&self) -> &str {
        &self.hashed
    }
}

macro_rules! asset {
    ($stem:literal, $ext:literal, $type:literal) => {
        Asset {
            content_type: $type,
            body: include_str!(concat!("../../assets/ui/", $stem, ".", $ext)),
            hashed: LazyLock::new(|| {
                let body = include_str!(concat!("../../assets/ui/", $stem, ".", $ext));
                let digest = Sha256::digest(body.as_bytes());
                let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
                format!("{}.{}.{}", $stem, hex, $ext)
            }),
        }
    };
}

/// The stylesheet.
pub(crate) static STYLE: Asset = asset!("ui", "css", "text/css; charset=utf-8");
/// The script (progressive enhancement only: every page works without it).
pub(crate) static SCRIPT: Asset = asset!("ui", "js", "text/javascript; charset=utf-8");

/// `GET /assets/{name}`: an embedded file by its hashed name, cached for a year.
pub(crate) async fn serve(Path(name): Path<String>) -> Response {
    for asset in [&STYLE, &SCRIPT] {
        if asset.name() == name {
            return (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
                    (
                        header::CACHE_CONTROL,
                        HeaderValue::from_static("public, max-age=31536000, immutable"),
                    ),
                ],
                asset.body,
            )
                .into_response();
        }
    }
    (StatusCode::NOT_FOUND, "no such asset").into_response()
}
