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
