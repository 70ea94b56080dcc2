//! Files attached to a ticket or to one of its comments: their metadata (the bytes live in a blob store
//! under their SHA-256, shared by identical files), the file-name rule, the types accepted and who may
//! remove one.

use crate::ids::{AttachmentId, CommentId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Most attachments one ticket holds.
pub const MAX_ATTACHMENTS_PER_TICKET: usize = 50;
/// Default largest upload, in bytes (10 MiB); servers make it configurable.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;
/// Longest stored file name, in bytes.
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// The types an upload may have, decided from its bytes (never from the client's header): images,
/// PDF, plain text, ZIP and the office formats. Nothing a browser would run (HTML, SVG, scripts).
pub const ALLOWED_TYPES: [&str; 10] = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
];

/// Metadata of a file attached to a ticket; the bytes live in a blob store under `sha256`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentMeta {
    /// Identifier.
    pub id: AttachmentId,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    /// The file name, made safe by [`safe_file_name`].
    pub file_name: String,
    /// The type decided from the bytes, one of [`ALLOWED_TYPES`].
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Who uploaded it.
    pub uploaded_by: UserId,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The comment it belongs to, if any.
    #[serde(default)]
    pub comment_id: Option<CommentId>,
    /// Attached to an internal note: only staff on the ticket see it.
    #[serde(default)]
    pub is_internal: bool,
}

impl AttachmentMeta {
    /// Whether `user` (an admin when `is_admin`) may remove it: its uploader or an admin.
    pub fn may_remove(&self, user: UserId, is_admin: bool) -> bool {
        is_admin || self.uploaded_by == user
    }
}

/// A file name safe to store and to send back in `Content-Disposition`: the last path component only
/// (no `/`, `\`), without control characters, quotes or characters Windows refuses, without leading
/// dots or trailing dots and spaces, at most [`MAX_FILE_NAME_BYTES`] bytes (cut on a character boundary,
/// keeping a short extension), and `attachment` when nothing is left.
pub fn safe_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | ':' | '|' | '?' | '*' | ';'))
        .collect();
    let trimmed = cleaned
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' '])
        .to_string();
    let name = if trimmed.is_empty() {
        "attachment".to_string()
    } else {
        trimmed
    };
    if name.len() <= MAX_FILE_NAME_BYTES {
        return name;
    }
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext)
        .filter(|ext| !ext.is_empty() && ext.len() <= 16)
        .map(|ext| format!(".{ext}"))
        .unwrap_or_default();
    let mut stem = String::new();
    for c in name.chars() {
        if stem.len() + c.len_utf8() + extension.len() > MAX_FILE_NAME_BYTES {
            break;
        }
        stem.push(c);
    }
    format!("{}{extension}", stem.trim_end_matches(['.', ' ']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_lose_their_paths_and_dangerous_characters() {
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("C:\\Users\\ann\\report.pdf"), "report.pdf");
        assert_eq!(safe_file_name("..."), "attachment");
        assert_eq!(safe_file_name(""), "attachment");
        assert_eq!(safe_file_name("a\"b;c\r\nd.txt"), "abcd.txt");
        assert_eq!(safe_file_name("Überweisung – März.pdf"), "Überweisung – März.pdf");
        assert_eq!(safe_file_name(".hidden"), "hidden");
        let long = format!("{}.pdf", "ä".repeat(300));
        let cut = safe_file_name(&long);
        assert!(cut.len() <= MAX_FILE_NAME_BYTES && cut.ends_with(".pdf"), "{cut}");
    }

    proptest! {
        /// Whatever the client sends, the stored name is a single, non-empty, bounded path component
        /// without control characters or quotes, and cleaning it again changes nothing.
        #[test]
        fn any_name_becomes_safe(raw in "\\PC{0,400}|[./\\\\ a-z\"\\x00-\\x1f]{0,40}") {
            let name = safe_file_name(&raw);
            prop_assert!(!name.is_empty() && name.len() <= MAX_FILE_NAME_BYTES, "{name:?}");
            prop_assert!(!name.contains(['/', '\\', '"', ';']) && !name.chars().any(char::is_control), "{name:?}");
            prop_assert!(name != "." && name != ".." && !name.starts_with('.'), "{name:?}");
            prop_assert_eq!(safe_file_name(&name), name.clone());
        }
    }
}
