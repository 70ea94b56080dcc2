//! The [`BlobStore`] contract.

use crate::error::ErrorKind;
use crate::ports::blob::BlobStore;
use crate::ports::blob::sha256_hex;

/// Runs every blob-store check.
pub async fn run_all(store: &dyn BlobStore) {
    put_get_delete(store).await;
    put_is_idempotent(store).await;
    unknown_and_malformed(store).await;
    large_and_empty(store).await;
    streamed_writes_equal_put_and_read_back_in_chunks(store).await;
    nothing_is_readable_before_keep_and_a_drop_leaves_nothing(store).await;
    delete_stale_spares_blobs_written_since(store).await;
}

/// Bytes written in uneven chunks give the same ref as one put, and read back in order in chunks of at
/// most [`CHUNK`](crate::ports::blob::CHUNK) bytes.
pub async fn streamed_writes_equal_put_and_read_back_in_chunks(store: &dyn BlobStore) {
    let data: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(31) >> 3) as u8).collect();
    let mut writer = store.writer().await.expect("writer");
    for part in data.chunks(7_777) {
        writer.write(part).await.expect("write a chunk");
    }
    let staged = writer.finish().await.expect("finish");
    assert_eq!(
        staged.blob().sha256,
        sha256_hex(&data),
        "the staged ref is the bytes' hash"
    );
    let kept = staged.keep().await.expect("keep");
    assert_eq!(kept.size, data.len() as u64);
    let mut reader = store.reader(&kept.sha256).await.expect("reader").expect("stored");
    assert_eq!(reader.size(), data.len() as u64);
    let mut back = Vec::new();
    while let Some(chunk) = reader.next_chunk().await.expect("read a chunk") {
        assert!(
            !chunk.is_empty() && chunk.len() <= crate::ports::blob::CHUNK,
            "chunks are 1..=CHUNK bytes"
        );
        back.extend_from_slice(&chunk);
    }
    assert!(back == data, "the chunks are the bytes, in order");
    assert!(store.delete(&kept.sha256).await.expect("delete"));
}

/// A staged blob is not readable until kept; a dropped writer or staged blob leaves nothing behind.
pub async fn nothing_is_readable_before_keep_and_a_drop_leaves_nothing(store: &dyn BlobStore) {
    let data = format!("staged {}", uuid::Uuid::now_v7()).into_bytes();
    let mut writer = store.writer().await.expect("writer");
    writer.write(&data).await.expect("write");
    let staged = writer.finish().await.expect("finish");
    let sha = staged.blob().sha256.clone();
    assert!(
        store.reader(&sha).await.expect("reader").is_none(),
        "not readable before keep"
    );
    drop(staged);
    assert!(
        store.reader(&sha).await.expect("reader").is_none(),
        "a dropped staged blob is gone"
    );
    let mut writer = store.writer().await.expect("writer");
    writer.write(&data).await.expect("write");
    drop(writer);
    assert!(
        store.reader(&sha).await.expect("reader").is_none(),
        "a dropped writer leaves nothing"
    );
}

/// `delete_stale` removes a blob last written before the cutoff and spares one written (or kept
/// again) since.
pub async fn delete_stale_spares_blobs_written_since(store: &dyn BlobStore) {
    let data = format!("stale {}", uuid::Uuid::now_v7()).into_bytes();
    let before = chrono::Utc::now() - chrono::Duration::seconds(5);
    let r = store.put(&data).await.expect("put");
    assert!(
        !store.delete_stale(&r.sha256, before).await.expect("delete_stale"),
        "a blob written after the cutoff is spared"
    );
    assert!(store.get(&r.sha256).await.expect("get").is_some());
    let after = chrono::Utc::now() + chrono::Duration::seconds(5);
    assert!(
        store.delete_stale(&r.sha256, after).await.expect("delete_stale"),
        "a blob written before the cutoff is removed"
    );
    assert!(store.get(&r.sha256).await.expect("get").is_none());
    assert!(
        !store.delete_stale(&r.sha256, after).await.expect("again"),
        "nothing left to remove"
    );
}

/// Bytes come back as stored, under their SHA-256; delete removes them.
pub async fn put_get_delete(store: &dyn BlobStore) {
    let data = format!("hello {}", uuid::Uuid::now_v7()).into_bytes();
    let r = store.put(&data).await.expect("put");
    assert_eq!(r.sha256, sha256_hex(&data), "blobs are keyed by their SHA-256");
    assert_eq!(r.size, data.len() as u64);
    assert_eq!(store.get(&r.sha256).await.expect("get").as_deref(), Some(&data[..]));
    assert!(
        store.delete(&r.sha256).await.expect("delete"),
        "delete reports an existing blob"
    );
    assert_eq!(store.get(&r.sha256).await.expect("get after delete"), None);
    assert!(
        !store.delete(&r.sha256).await.expect("second delete"),
        "second delete reports nothing removed"
    );
}

/// Storing the same bytes twice gives the same ref.
pub async fn put_is_idempotent(store: &dyn BlobStore) {
    let data = format!("same {}", uuid::Uuid::now_v7()).into_bytes();
    let a = store.put(&data).await.expect("put");
    let b = store.put(&data).await.expect("put again");
    assert_eq!(a, b);
    assert_eq!(store.get(&a.sha256).await.expect("get").as_deref(), Some(&data[..]));
}

/// Unknown hashes are absent; malformed ones are refused as invalid, never used as paths.
pub async fn unknown_and_malformed(store: &dyn BlobStore) {
    let unknown = sha256_hex(uuid::Uuid::now_v7().as_bytes());
    assert_eq!(store.get(&unknown).await.expect("get unknown"), None);
    for bad in [
        "",
        "../../etc/passwd",
        "ABCDEF",
        &"g".repeat(64),
        &unknown.to_uppercase(),
    ] {
        let err = store.get(bad).await.expect_err("malformed hash must be refused");
        assert_eq!(err.kind(), ErrorKind::Invalid, "malformed hash {bad:?}");
        assert_eq!(
            store.delete(bad).await.expect_err("malformed delete").kind(),
            ErrorKind::Invalid
        );
    }
}

/// A 1 MiB blob and an empty blob round-trip.
pub async fn large_and_empty(store: &dyn BlobStore) {
    let big: Vec<u8> = (0..1_048_576u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let r = store.put(&big).await.expect("put 1 MiB");
    assert_eq!(
        store.get(&r.sha256).await.expect("get 1 MiB").map(|b| b.len()),
        Some(big.len())
    );
    let e = store.put(&[]).await.expect("put empty");
    assert_eq!(e.size, 0);
    assert_eq!(store.get(&e.sha256).await.expect("get empty"), Some(Vec::new()));
}
