//! The file blob store passes the core's blob-store suite and keeps its on-disk promises.

use std::path::Path;
use tts_adapters::blob::FileBlobStore;
use tts_core::ErrorKind;
use tts_core::ports::BlobStore;
use tts_core::ports::blob::sha256_hex;

async fn store(dir: &Path) -> FileBlobStore {
    FileBlobStore::new(dir.join("blobs")).await.expect("open blob store")
}

/// Files under a directory (recursively), as paths relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(
                    path.strip_prefix(dir)
                        .expect("under dir")
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn conformance() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(dir.path()).await;
    tts_core::testkit::blob::run_all(&store).await;
}

#[tokio::test]
async fn blob_lands_at_the_fanned_out_path_and_no_temp_file_remains() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(dir.path()).await;
    let data = b"fan me out".to_vec();
    let r = store.put(&data).await.expect("put");
    assert_eq!(r.sha256, sha256_hex(&data));
    let expected = dir.path().join("blobs").join(&r.sha256[..2]).join(&r.sha256);
    assert_eq!(store.path_of(&r.sha256).expect("path"), expected);
    assert_eq!(std::fs::read(&expected).expect("blob file"), data);
    store.put(&data).await.expect("put again");
    store.put(b"another blob").await.expect("put another");
    let tmp = dir.path().join("blobs").join("tmp");
    assert!(tmp.is_dir(), "the temp directory exists");
    assert_eq!(files_under(&tmp), Vec::<String>::new(), "no temp files remain");
    let files = files_under(&dir.path().join("blobs"));
    assert_eq!(files.len(), 2, "one file per distinct blob: {files:?}");
}

#[tokio::test]
async fn reader_streams_the_same_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(dir.path()).await;
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let r = store.put(&big).await.expect("put");
    assert_eq!(r.size, big.len() as u64);
    let mut reader = store.reader(&r.sha256).await.expect("open").expect("stored");
    assert_eq!(reader.size(), r.size);
    let mut streamed = Vec::new();
    while let Some(chunk) = reader.next_chunk().await.expect("read") {
        streamed.extend_from_slice(&chunk);
    }
    assert!(streamed == big, "streamed bytes equal the stored ones");
    let unknown = sha256_hex(b"never stored");
    assert!(store.reader(&unknown).await.expect("open unknown").is_none());
    let bad = store.reader("../../etc/passwd").await.err().expect("malformed");
    assert_eq!(bad.kind(), ErrorKind::Invalid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_puts_of_the_same_bytes_leave_one_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(dir.path()).await;
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 241) as u8).collect();
    let (a, b, c, d, e, f, g, h) = tokio::join!(
        store.put(&data),
        store.put(&data),
        store.put(&data),
        store.put(&data),
        store.put(&data),
        store.put(&data),
        store.put(&data),
        store.put(&data),
    );
    let refs: Vec<_> = [a, b, c, d, e, f, g, h]
        .into_iter()
        .map(|r| r.expect("concurrent put"))
        .collect();
    assert!(refs.iter().all(|r| *r == refs[0]), "every put returns the same ref");
    let files = files_under(&dir.path().join("blobs"));
    let expected = format!("{}/{}", &refs[0].sha256[..2], refs[0].sha256);
    assert_eq!(files, vec![expected], "exactly one blob file and no temp files");
    assert_eq!(
        store.get(&refs[0].sha256).await.expect("get").as_deref(),
        Some(&data[..])
    );
}

#[tokio::test]
async fn malformed_hashes_never_touch_the_filesystem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(dir.path()).await;
    // A file outside the store that a path-traversing hash would reach.
    std::fs::write(dir.path().join("secret"), b"outside").expect("write");
    for bad in ["../secret", "../../secret", "/etc/passwd", "tmp", ""] {
        assert_eq!(store.get(bad).await.expect_err("get").kind(), ErrorKind::Invalid);
        assert_eq!(store.delete(bad).await.expect_err("delete").kind(), ErrorKind::Invalid);
        assert_eq!(store.path_of(bad).expect_err("path_of").kind(), ErrorKind::Invalid);
    }
    assert!(
        dir.path().join("secret").exists(),
        "nothing outside the store was removed"
    );
}

#[tokio::test]
async fn reopening_keeps_blobs_and_removes_only_stale_temp_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = {
        let store = store(dir.path()).await;
        store.put(b"kept across restarts").await.expect("put")
    };
    let tmp = dir.path().join("blobs").join("tmp");
    let stale = tmp.join("stale.tmp");
    let fresh = tmp.join("fresh.tmp");
    std::fs::write(&stale, b"half a blob").expect("write stale");
    std::fs::write(&fresh, b"a blob being written").expect("write fresh");
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .expect("open stale")
        .set_modified(two_hours_ago)
        .expect("age stale");
    let store = store(dir.path()).await;
    assert!(!stale.exists(), "a stale temp file is removed on open");
    assert!(
        fresh.exists(),
        "a recent temp file may belong to another writer and is kept"
    );
    assert_eq!(
        store.get(&r.sha256).await.expect("get").as_deref(),
        Some(&b"kept across restarts"[..])
    );
}

#[tokio::test]
async fn a_damaged_blob_of_the_wrong_size_is_rewritten() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = store(dir.path()).await;
    let data = b"repair me".to_vec();
    let r = store.put(&data).await.expect("put");
    let path = store.path_of(&r.sha256).expect("path");
    std::fs::write(&path, b"trunc").expect("damage");
    store.put(&data).await.expect("put again");
    assert_eq!(std::fs::read(&path).expect("read"), data);
}
