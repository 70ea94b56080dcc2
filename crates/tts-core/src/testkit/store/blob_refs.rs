//! The [`BlobRefs`](crate::ports::store::BlobRefs) contract: a blob becomes an orphan only when nothing
//! uses it, and the sweep takes each unused orphan once.

use super::support::{at, commit, id, write, write_error};
use crate::error::ErrorKind;
use crate::ids::AttachmentId;
use crate::ports::store::Store;

fn sha(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

/// A blob two attachments use becomes an orphan when the last one goes, not before; orphans are taken
/// oldest first, once, only when older than the cutoff.
pub async fn a_blob_is_an_orphan_only_when_nothing_uses_it(store: &dyn Store) {
    let (a, b, c) = (id::<AttachmentId>(), id::<AttachmentId>(), id::<AttachmentId>());
    let mut tx = write(store).await;
    tx.add_blob_ref(a, &sha(1)).await.expect("a uses 1");
    tx.add_blob_ref(b, &sha(1)).await.expect("b uses 1");
    tx.add_blob_ref(c, &sha(2)).await.expect("c uses 2");
    commit(tx, "three references").await;
    let mut tx = write(store).await;
    tx.remove_blob_ref(a, at(10)).await.expect("a goes");
    tx.remove_blob_ref(id(), at(10))
        .await
        .expect("an unknown attachment is nothing");
    assert!(
        tx.take_orphan_blobs(at(1_000), 10).await.expect("take").is_empty(),
        "b still uses blob 1"
    );
    tx.remove_blob_ref(b, at(20)).await.expect("b goes");
    tx.remove_blob_ref(c, at(15)).await.expect("c goes");
    commit(tx, "all references gone").await;
    let mut tx = write(store).await;
    assert!(
        tx.take_orphan_blobs(at(15), 10).await.expect("take").is_empty(),
        "nothing is older than the cutoff"
    );
    assert_eq!(
        tx.take_orphan_blobs(at(1_000), 10).await.expect("take"),
        vec![sha(2), sha(1)],
        "orphans oldest first"
    );
    commit(tx, "a sweep").await;
    let mut tx = write(store).await;
    assert!(
        tx.take_orphan_blobs(at(1_000), 10).await.expect("take").is_empty(),
        "each is taken once"
    );
}

/// A blob used again before the sweep is no orphan; a released blob nothing uses is one, a released blob
/// in use is not; a second reference under the same attachment id is a conflict.
pub async fn reuse_saves_a_blob_and_release_needs_no_user(store: &dyn Store) {
    let (a, b) = (id::<AttachmentId>(), id::<AttachmentId>());
    let mut tx = write(store).await;
    tx.add_blob_ref(a, &sha(3)).await.expect("a uses 3");
    tx.remove_blob_ref(a, at(5)).await.expect("a goes");
    tx.add_blob_ref(b, &sha(3)).await.expect("b uses 3 again");
    tx.release_blob(&sha(3), at(6)).await.expect("release a used blob");
    tx.release_blob(&sha(4), at(7)).await.expect("release an unused blob");
    commit(tx, "reuse and releases").await;
    let mut tx = write(store).await;
    assert_eq!(tx.take_orphan_blobs(at(1_000), 10).await.expect("take"), vec![sha(4)]);
    drop(tx);
    let mut tx = write(store).await;
    let written = tx.add_blob_ref(b, &sha(5)).await;
    let err = write_error(tx.as_mut(), written, "a second blob for one attachment").await;
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
}
