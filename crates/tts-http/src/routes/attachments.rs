//! Attachments: files on a ticket or on one of its comments, uploaded as `multipart/form-data` and
//! streamed to the blob store (never held whole in memory), typed from their bytes, downloaded as
//! attachments that browsers never render in the API's origin.

use super::path_id;
use super::tickets::ticket_ref;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Query;
use crate::pagination::{PageParams, PageUrl, Paginated};
use crate::sniff::{HEAD, looks_like_text, sniff};
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::multipart::{Field, Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tts_core::domain::attachment::AttachmentMeta;
use tts_core::ports::BlobStore;
use tts_core::ports::blob::BlobReader;
use tts_core::{Actor, AttachmentId, CommentId, TicketRef, Upload, UserId};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Room for the multipart framing around the file, beyond the upload limit.
pub(crate) const FRAMING: u64 = 64 * 1024;

/// The routes of this module. The upload sets its own limit (`HttpConfig::max_upload_bytes`) instead of
/// the JSON body limit.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_attachments, upload_attachment))
        .layer(DefaultBodyLimit::disable())
        .routes(routes!(download_attachment, delete_attachment))
}

/// A file as the API lists it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentOut {
    /// Identifier.
    #[schema(value_type = String, format = Uuid)]
    pub id: AttachmentId,
    /// The file name (made safe: no path, no control characters).
    pub file_name: String,
    /// The type decided from the bytes.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    /// Who uploaded it.
    #[schema(value_type = String, format = Uuid)]
    pub uploaded_by: UserId,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The comment it belongs to, if any.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub comment_id: Option<CommentId>,
    /// On an internal note: only admins and the agents who hold or held the ticket see it.
    pub is_internal: bool,
}

impl From<AttachmentMeta> for AttachmentOut {
    fn from(a: AttachmentMeta) -> Self {
        AttachmentOut {
            id: a.id,
            file_name: a.file_name,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
            uploaded_by: a.uploaded_by,
            created_at: a.created_at,
            comment_id: a.comment_id,
            is_internal: a.is_internal,
        }
    }
}

/// The upload form (documentation of `multipart/form-data`; no other part is accepted).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file (one per request). Its type is decided from its bytes; the part's `Content-Type` is
    /// ignored.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// Attach to this comment of the ticket (yours, or any as an admin); must come before `file`.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub comment_id: Option<String>,
}

/// Where an upload goes, besides the ticket.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadTarget {
    /// Attach to this comment of the ticket (the same as the `comment_id` form field).
    #[param(value_type = Option<String>, format = Uuid)]
    pub comment_id: Option<CommentId>,
}

/// The files of a ticket the caller sees (those of internal notes for staff only), oldest first.
#[utoipa::path(get, path = "/tickets/{id}/attachments/", tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path, description = "ticket id or number"), PageParams),
    responses((status = 200, body = Paginated<AttachmentOut>), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn list_attachments(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(paging): Query<PageParams>,
    url: PageUrl,
) -> ApiResult<Json<Paginated<AttachmentOut>>> {
    let page = paging.request()?;
    let files = state.engine.attachments(caller.actor(), ticket_ref(&id)?).await?;
    Ok(Json(Paginated::from_vec(files, page, &url, AttachmentOut::from)))
}

/// Uploads one file to a ticket (the requester, the agents who hold or held it, admins), or to one of
/// your comments on it. At most `TTS_MAX_UPLOAD_BYTES` (default 10 MiB; 413 beyond) of an accepted
/// type, decided from the bytes (415 otherwise): PNG, JPEG, GIF, WebP, PDF, plain text, ZIP, and the
/// Word, Excel and PowerPoint formats. Identical files are stored once.
#[utoipa::path(post, path = "/tickets/{id}/attachments/", tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path, description = "ticket id or number"), UploadTarget),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = AttachmentOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn upload_attachment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(target): Query<UploadTarget>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<AttachmentOut>)> {
    let r = ticket_ref(&id)?;
    let blobs = blob_store(&state)?;
    let limit = state.config.max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit.saturating_add(FRAMING)) {
        return Err(ApiError::FileTooLarge { limit });
    }
    let actor = caller.actor();
    let mut comment_id = target.comment_id;
    let mut named_comment = false;
    state.engine.may_attach(actor, r, comment_id).await?;
    let mut multipart = multipart.map_err(|e| ApiError::bad_field("file", e.body_text()))?;
    loop {
        let field = multipart
            .next_field()
            .await
            .map_err(|e| ApiError::bad_field("file", e.body_text()))?
            .ok_or_else(|| ApiError::invalid_field("file", "required: a multipart field named `file`"))?;
        match field.name() {
            Some("comment_id") if !named_comment => {
                named_comment = true;
                let text = small_field(field, "comment_id").await?;
                let id = text
                    .trim()
                    .parse::<CommentId>()
                    .map_err(|_| ApiError::invalid_field("comment_id", "must be a comment id"))?;
                comment_id = Some(id);
                state.engine.may_attach(actor, r, comment_id).await?;
            }
            Some("file") => {
                let file = stage_file(blobs.as_ref(), field, limit).await?;
                let meta = record_file(&state, actor, r, comment_id, &mut multipart, file).await?;
                return Ok((StatusCode::CREATED, Json(meta.into())));
            }
            other => {
                let name = other.unwrap_or("").to_string();
                return Err(ApiError::invalid_field(
                    name,
                    "unknown field: send `file` (and `comment_id`)",
                ));
            }
        }
    }
}

/// A file streamed to the blob store, not yet recorded.
pub(crate) struct StagedFile {
    blob: Box<dyn tts_core::ports::blob::StagedBlob>,
    file_name: String,
    content_type: String,
}

/// Records `file` on the ticket once the rest of the form is known to be empty (a field after the file
/// could only be read after the file is recorded, so it is refused rather than ignored), then keeps the
/// bytes. Whatever fails before the record leaves nothing behind (a dropped staged blob is removed).
pub(crate) async fn record_file(
    state: &AppState,
    actor: Actor,
    r: TicketRef,
    comment_id: Option<CommentId>,
    multipart: &mut Multipart,
    file: StagedFile,
) -> ApiResult<AttachmentMeta> {
    let StagedFile {
        blob: staged,
        file_name,
        content_type,
    } = file;
    let trailing = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::bad_field("file", e.body_text()))?;
    if let Some(next) = trailing {
        return Err(ApiError::invalid_field(
            next.name().unwrap_or("").to_string(),
            "nothing may follow `file` in the form: send `comment_id` before it",
        ));
    }
    let upload = Upload {
        blob: staged.blob().clone(),
        file_name,
        content_type,
        comment_id,
    };
    let meta = state.engine.attach(actor, r, upload).await?;
    if let Err(e) = staged.keep().await {
        // Recorded but not stored: take the record back rather than list a file that is not there.
        if let Err(undo) = state.engine.remove_attachment(actor, r, meta.id).await {
            tracing::error!(error = %undo, attachment = %meta.id, "could not undo an attachment whose bytes failed to store");
        }
        return Err(e.into());
    }
    Ok(meta)
}

/// Streams one file part to the blob store under `limit`, its type sniffed from its first bytes.
pub(crate) async fn stage_file(blobs: &dyn BlobStore, mut field: Field<'_>, limit: u64) -> ApiResult<StagedFile> {
    let file_name = field.file_name().unwrap_or("attachment").to_string();
    let mut head: Vec<u8> = Vec::with_capacity(HEAD);
    let mut rest = None;
    while head.len() < HEAD {
        match next_chunk(&mut field).await? {
            Some(chunk) => {
                let take = (HEAD - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
                if take < chunk.len() {
                    rest = Some(chunk.slice(take..));
                    break;
                }
            }
            None => break,
        }
    }
    if head.is_empty() {
        return Err(ApiError::invalid_field("file", "the file is empty"));
    }
    let content_type = sniff(&head).map_err(|detected| ApiError::FileTypeRefused { detected })?;
    let text = content_type == "text/plain";
    let mut writer = blobs.writer().await?;
    let mut size = head.len() as u64;
    if size > limit {
        return Err(ApiError::FileTooLarge { limit });
    }
    writer.write(&head).await?;
    let mut pending = rest;
    loop {
        let chunk = match pending.take() {
            Some(chunk) => chunk,
            None => match next_chunk(&mut field).await? {
                Some(chunk) => chunk,
                None => break,
            },
        };
        size += chunk.len() as u64;
        if size > limit {
            return Err(ApiError::FileTooLarge { limit });
        }
        if text && !looks_like_text_tail(&chunk) {
            return Err(ApiError::FileTypeRefused {
                detected: "text with binary data".into(),
            });
        }
        writer.write(&chunk).await?;
    }
    Ok(StagedFile {
        blob: writer.finish().await?,
        file_name,
        content_type: content_type.to_string(),
    })
}

/// A short text field, read with a cap (the upload route has no body limit of its own beyond the
/// file's): at most 256 bytes.
pub(crate) async fn small_field(mut field: Field<'_>, name: &str) -> ApiResult<String> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| ApiError::bad_field(name.to_string(), e.body_text()))?
    {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > 256 {
            return Err(ApiError::invalid_field(name.to_string(), "too long"));
        }
    }
    String::from_utf8(bytes).map_err(|_| ApiError::invalid_field(name.to_string(), "must be UTF-8 text"))
}

/// Text after the head: no NUL bytes (its UTF-8 was judged on the head).
fn looks_like_text_tail(chunk: &[u8]) -> bool {
    !chunk.contains(&0) || looks_like_text(chunk)
}

async fn next_chunk(field: &mut Field<'_>) -> ApiResult<Option<axum::body::Bytes>> {
    field
        .chunk()
        .await
        .map_err(|e| ApiError::bad_field("file", e.body_text()))
}

pub(crate) fn blob_store(state: &AppState) -> ApiResult<Arc<dyn BlobStore>> {
    state.blobs.clone().ok_or_else(|| {
        ApiError::Core(tts_core::Error::Backend {
            backend: "blobs",
            kind: tts_core::ErrorKind::Unavailable,
            message: "this server keeps no files".into(),
        })
    })
}

/// Downloads a file: its stored type, `Content-Disposition: attachment` with its safe name, and
/// `X-Content-Type-Options: nosniff` with a sandboxing CSP, so browsers save it and never run it.
#[utoipa::path(get, path = "/tickets/{id}/attachments/{aid}/", tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path, description = "ticket id or number"), ("aid" = String, Path, description = "attachment id")),
    responses((status = 200, description = "the file's bytes", content_type = "application/octet-stream"),
        (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn download_attachment(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, aid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let aid: AttachmentId = path_id("attachment", &aid)?;
    let meta = state.engine.attachment(caller.actor(), ticket_ref(&id)?, aid).await?;
    let blobs = blob_store(&state)?;
    let reader = blobs.reader(&meta.sha256).await?.ok_or_else(|| {
        ApiError::Core(tts_core::Error::Backend {
            backend: "blobs",
            kind: tts_core::ErrorKind::Unavailable,
            message: "the file's bytes are not available".into(),
        })
    })?;
    let size = reader.size();
    let stream = futures_util::stream::unfold(reader, |mut reader: Box<dyn BlobReader>| async move {
        match reader.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(chunk)), reader)),
            Ok(None) => None,
            Err(e) => Some((Err(std::io::Error::other(e.to_string())), reader)),
        }
    });
    let content_type = if meta.content_type == "text/plain" {
        "text/plain; charset=utf-8".to_string()
    } else {
        meta.content_type.clone()
    };
    let mut response = Body::from_stream(stream).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, header_value(&content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(
        header::CONTENT_DISPOSITION,
        header_value(&content_disposition(&meta.file_name)),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    Ok(response)
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"))
}

/// `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded name>` (RFC 6266): the
/// fallback replaces what is not printable ASCII, quotes and backslashes by `_`.
pub fn content_disposition(file_name: &str) -> String {
    let fallback: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(file_name, percent_encoding::NON_ALPHANUMERIC);
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// Removes a file (its uploader or an admin). The bytes go once no attachment uses them.
#[utoipa::path(delete, path = "/tickets/{id}/attachments/{aid}/", tag = "attachments", security(("bearer" = [])),
    params(("id" = String, Path, description = "ticket id or number"), ("aid" = String, Path, description = "attachment id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn delete_attachment(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, aid)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let aid: AttachmentId = path_id("attachment", &aid)?;
    state
        .engine
        .remove_attachment(caller.actor(), ticket_ref(&id)?, aid)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn dispositions_carry_an_ascii_fallback_and_the_utf8_name() {
        assert_eq!(
            content_disposition("März \"plan\".pdf"),
            "attachment; filename=\"M_rz _plan_.pdf\"; filename*=UTF-8''M%C3%A4rz%20%22plan%22%2Epdf"
        );
    }
}
