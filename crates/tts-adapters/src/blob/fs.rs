//! Content-addressed blob files under a data directory.
//!
//! Layout: `<root>/<first 2 hex digits>/<64 hex digits>` for blobs, `<root>/tmp/` for writes in progress.
//! A write goes to a fresh temp file that is `fsync`ed and then renamed over the final name (atomic on
//! POSIX filesystems), after which the fan-out directory is `fsync`ed (best effort), so a blob is either
//! complete under its name or absent. Blob files are never modified in place.

use async_trait::async_trait;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use tokio::io::AsyncWriteExt;
use tts_core::error::{Error, ErrorKind, Result};
use tts_core::ports::blob::{BlobRef, BlobStore, check_sha256, sha256_hex};

/// The backend name in [`Error::Backend`].
const BACKEND: &str = "fs-blob";
/// The directory, under the root, that holds writes in progress.
const TMP_DIR: &str = "tmp";
/// Temp files older than this are leftovers of a crash or a cancelled write; opening a store removes them.
/// (Younger ones may belong to another process writing to the same directory.)
const STALE_TMP_AGE: Duration = Duration::from_secs(60 * 60);

/// A [`BlobStore`] keeping each blob as one immutable file named by its SHA-256.
///
/// - `put` is idempotent (an existing blob of the right size is not rewritten) and atomic (temp file,
///   `sync_all`, rename, directory `fsync`), so concurrent puts of the same bytes all succeed and leave one
///   file;
/// - `get` of an unknown hash is `Ok(None)`, `delete` of one is `Ok(false)`;
/// - a malformed hash is a validation error and never reaches the filesystem;
/// - I/O failures are [`Error::Backend`] with backend `fs-blob` and kind `Unavailable` (disk full, quota,
///   timeouts, busy or read-only filesystem) or `Internal` (anything else).
///
/// Several processes may share the directory. All file access goes through `tokio::fs`.
#[derive(Debug, Clone)]
pub struct FileBlobStore {
    root: PathBuf,
    tmp: PathBuf,
}

impl FileBlobStore {
    /// Opens (creating them if needed) the data directory `root` and its `tmp` subdirectory, and removes
    /// temp files older than an hour left behind by crashed or cancelled writes.
    pub async fn new(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let tmp = root.join(TMP_DIR);
        tokio::fs::create_dir_all(&tmp)
            .await
            .map_err(|e| io_error("create the blob directories", &e))?;
        let store = FileBlobStore { root, tmp };
        store.remove_stale_temp_files().await;
        Ok(store)
    }

    /// The data directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob with this hash lives (whether or not it exists): `<root>/<first 2 hex>/<hash>`.
    ///
    /// A malformed hash is a validation error.
    pub fn path_of(&self, sha256: &str) -> Result<PathBuf> {
        check_sha256(sha256)?;
        Ok(self.root.join(&sha256[..2]).join(sha256))
    }

    /// Opens a blob for streaming reads (for large attachments), or `Ok(None)` if it is not stored.
    ///
    /// The file's length is the blob's size (`File::metadata`). Because blobs are replaced only by
    /// renaming, an open file keeps reading the same complete bytes even if the blob is deleted meanwhile.
    pub async fn open(&self, sha256: &str) -> Result<Option<tokio::fs::File>> {
        let path = self.path_of(sha256)?;
        match tokio::fs::File::open(&path).await {
            Ok(file) => Ok(Some(file)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("open a blob", &e)),
        }
    }

    /// Removes temp files older than [`STALE_TMP_AGE`]; failures are only logged.
    async fn remove_stale_temp_files(&self) {
        let mut entries = match tokio::fs::read_dir(&self.tmp).await {
            Ok(entries) => entries,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list the blob temp directory");
                return;
            }
        };
        let now = SystemTime::now();
        loop {
            let entry = match entries.next_entry().await {
                Ok(Some(entry)) => entry,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot list the blob temp directory");
                    break;
                }
            };
            let stale = match entry.metadata().await.and_then(|m| m.modified()) {
                Ok(modified) => now.duration_since(modified).is_ok_and(|age| age > STALE_TMP_AGE),
                Err(_) => false,
            };
            if stale {
                match tokio::fs::remove_file(entry.path()).await {
                    Ok(()) => tracing::info!(file = ?entry.file_name(), "removed a stale blob temp file"),
                    Err(e) => {
                        tracing::warn!(file = ?entry.file_name(), error = %e, "cannot remove a stale blob temp file");
                    }
                }
            }
        }
    }
}

#[async_trait]
impl BlobStore for FileBlobStore {
    async fn put(&self, bytes: &[u8]) -> Result<BlobRef> {
        let sha256 = sha256_hex(bytes);
        let size = bytes.len() as u64;
        let dir = self.root.join(&sha256[..2]);
        let path = dir.join(&sha256);
        match tokio::fs::metadata(&path).await {
            Ok(meta) if meta.is_file() && meta.len() == size => return Ok(BlobRef { sha256, size }),
            Ok(_) => tracing::warn!(sha256, "stored blob has the wrong size; rewriting it"),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error("inspect a blob", &e)),
        }
        let new_dir = match tokio::fs::create_dir(&dir).await {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(io_error("create a blob directory", &e)),
        };
        let tmp_path = self.tmp.join(format!("{sha256}.{}.tmp", uuid::Uuid::new_v4().simple()));
        if let Err(e) = write_synced(&tmp_path, bytes).await {
            remove_quietly(&tmp_path).await;
            return Err(io_error("write a blob", &e));
        }
        if let Err(e) = tokio::fs::rename(&tmp_path, &path).await {
            remove_quietly(&tmp_path).await;
            return Err(io_error("move a blob into place", &e));
        }
        sync_dir(&dir).await;
        if new_dir {
            sync_dir(&self.root).await;
        }
        Ok(BlobRef { sha256, size })
    }

    async fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path_of(sha256)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("read a blob", &e)),
        }
    }

    async fn delete(&self, sha256: &str) -> Result<bool> {
        let path = self.path_of(sha256)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_error("delete a blob", &e)),
        }
    }
}

/// Writes a new file (failing if it exists) and flushes it to disk.
async fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .await?;
    file.write_all(bytes).await?;
    file.flush().await?;
    file.sync_all().await
}

/// Removes a file, ignoring errors (cleanup after a failed write).
async fn remove_quietly(path: &Path) {
    if let Err(e) = tokio::fs::remove_file(path).await
        && e.kind() != io::ErrorKind::NotFound
    {
        tracing::warn!(error = %e, "cannot remove a blob temp file");
    }
}

/// `fsync`s a directory so a rename or a new entry in it survives a crash; best effort (not every platform
/// or filesystem supports it).
async fn sync_dir(dir: &Path) {
    let result = match tokio::fs::File::open(dir).await {
        Ok(d) => d.sync_all().await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "cannot fsync a blob directory");
    }
}

/// Maps an I/O error to a backend error; the message names the action and the OS error, not the path.
fn io_error(action: &str, err: &io::Error) -> Error {
    use io::ErrorKind as K;
    let kind = match err.kind() {
        K::StorageFull
        | K::QuotaExceeded
        | K::ReadOnlyFilesystem
        | K::ResourceBusy
        | K::TimedOut
        | K::Interrupted
        | K::WouldBlock
        | K::StaleNetworkFileHandle
        | K::NetworkDown
        | K::OutOfMemory => ErrorKind::Unavailable,
        _ => ErrorKind::Internal,
    };
    Error::Backend {
        backend: BACKEND,
        kind,
        message: format!("could not {action}: {err}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_map_to_kinds() {
        let full = io_error("write a blob", &io::Error::from(io::ErrorKind::StorageFull));
        assert_eq!(full.kind(), ErrorKind::Unavailable);
        let denied = io_error("write a blob", &io::Error::from(io::ErrorKind::PermissionDenied));
        assert_eq!(denied.kind(), ErrorKind::Internal);
        assert!(
            denied
                .to_string()
                .starts_with("fs-blob backend error: could not write a blob")
        );
    }
}
