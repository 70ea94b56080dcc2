//! Content-addressed blob files under a data directory.
//!
//! Layout: `<root>/<first 2 hex digits>/<64 hex digits>` for blobs, `<root>/tmp/` for writes in progress.
//! A write goes to a fresh temp file that is `fsync`ed and then renamed over the final name (atomic on
//! POSIX filesystems), after which the fan-out directory is `fsync`ed (best effort), so a blob is either
//! complete under its name or absent. Blob files are never modified in place.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tts_core::error::{Error, ErrorKind, Result};
use tts_core::ports::blob::{BlobReader, BlobRef, BlobStore, BlobWriter, CHUNK, StagedBlob, StreamHash, check_sha256};

/// The backend name in [`Error::Backend`].
const BACKEND: &str = "fs-blob";
/// The directory, under the root, that holds writes in progress.
const TMP_DIR: &str = "tmp";
/// Temp files older than this are leftovers of a crash or a cancelled write; opening a store removes them.
/// (Younger ones may belong to another process writing to the same directory.)
const STALE_TMP_AGE: Duration = Duration::from_secs(60 * 60);

/// A [`BlobStore`] keeping each blob as one immutable file named by its SHA-256.
///
/// - a writer streams into a temp file while hashing; `finish` flushes it to disk (`sync_all`); `keep`
///   renames it over the final name and `fsync`s the directory, so concurrent keeps of the same bytes all
///   succeed and leave one file, whose modification time is the last keep (what `delete_stale` reads);
///   a writer or staged blob dropped before `keep` removes its temp file;
/// - `reader` of an unknown hash is `Ok(None)`, `delete` of one is `Ok(false)`;
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
    async fn writer(&self) -> Result<Box<dyn BlobWriter>> {
        let path = self.tmp.join(format!("{}.tmp", uuid::Uuid::new_v4().simple()));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await
            .map_err(|e| io_error("start a blob", &e))?;
        Ok(Box::new(Writer {
            store: self.clone(),
            file: Some(tokio::io::BufWriter::with_capacity(CHUNK, file)),
            temp: TempFile(Some(path)),
            hash: StreamHash::new(),
        }))
    }

    async fn reader(&self, sha256: &str) -> Result<Option<Box<dyn BlobReader>>> {
        let path = self.path_of(sha256)?;
        // Blobs are replaced only by renaming, so an open file keeps reading the same complete bytes even
        // if the blob is deleted meanwhile.
        let file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("open a blob", &e)),
        };
        let size = file.metadata().await.map_err(|e| io_error("open a blob", &e))?.len();
        Ok(Some(Box::new(Reader { file, size })))
    }

    async fn delete(&self, sha256: &str) -> Result<bool> {
        let path = self.path_of(sha256)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_error("delete a blob", &e)),
        }
    }

    async fn delete_stale(&self, sha256: &str, written_before: DateTime<Utc>) -> Result<bool> {
        let path = self.path_of(sha256)?;
        let written = match tokio::fs::metadata(&path).await.and_then(|m| m.modified()) {
            Ok(at) => DateTime::<Utc>::from(at),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(io_error("inspect a blob", &e)),
        };
        if written >= written_before {
            return Ok(false);
        }
        self.delete(sha256).await
    }
}

/// A temp file removed when dropped unless it was moved into place.
struct TempFile(Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take()
            && let Err(e) = std::fs::remove_file(&path)
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(error = %e, "cannot remove a blob temp file");
        }
    }
}

struct Writer {
    store: FileBlobStore,
    file: Option<tokio::io::BufWriter<tokio::fs::File>>,
    temp: TempFile,
    hash: StreamHash,
}

#[async_trait]
impl BlobWriter for Writer {
    async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| Error::conflict("the blob is finished"))?;
        file.write_all(chunk).await.map_err(|e| io_error("write a blob", &e))?;
        self.hash.update(chunk);
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> Result<Box<dyn StagedBlob>> {
        let mut file = self
            .file
            .take()
            .ok_or_else(|| Error::conflict("the blob is finished"))?;
        file.flush().await.map_err(|e| io_error("write a blob", &e))?;
        file.get_ref()
            .sync_all()
            .await
            .map_err(|e| io_error("write a blob", &e))?;
        let w = *self;
        Ok(Box::new(Staged {
            store: w.store,
            temp: w.temp,
            blob: w.hash.finish(),
        }))
    }
}

struct Staged {
    store: FileBlobStore,
    temp: TempFile,
    blob: BlobRef,
}

#[async_trait]
impl StagedBlob for Staged {
    fn blob(&self) -> &BlobRef {
        &self.blob
    }

    async fn keep(mut self: Box<Self>) -> Result<BlobRef> {
        let sha256 = self.blob.sha256.clone();
        let dir = self.store.root.join(&sha256[..2]);
        let new_dir = match tokio::fs::create_dir(&dir).await {
            Ok(()) => true,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(io_error("create a blob directory", &e)),
        };
        let temp = self
            .temp
            .0
            .take()
            .ok_or_else(|| Error::conflict("the blob was kept already"))?;
        // Replaces identical bytes stored before; the new file's time says it was written now.
        if let Err(e) = tokio::fs::rename(&temp, dir.join(&sha256)).await {
            self.temp.0 = Some(temp);
            return Err(io_error("move a blob into place", &e));
        }
        sync_dir(&dir).await;
        if new_dir {
            sync_dir(&self.store.root).await;
        }
        Ok(self.blob.clone())
    }
}

struct Reader {
    file: tokio::fs::File,
    size: u64,
}

#[async_trait]
impl BlobReader for Reader {
    fn size(&self) -> u64 {
        self.size
    }

    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        let mut chunk = vec![0u8; CHUNK];
        let n = self
            .file
            .read(&mut chunk)
            .await
            .map_err(|e| io_error("read a blob", &e))?;
        if n == 0 {
            return Ok(None);
        }
        chunk.truncate(n);
        Ok(Some(chunk))
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
