//! The conformance suites against the in-memory adapters: the store suite expanded into one test per
//! case (`memory_store::<trait>::<rule>`), and the queue, passwords, blob and mailer suites.

use std::sync::Arc;
use tts_core::memory::{MemoryBlobStore, MemoryMailer, MemoryPasswords, MemoryQueue, MemoryStore};
use tts_core::testkit;
use tts_core::testkit::store::Fresh;

tts_core::store_conformance! {
    /// The store suite on [`MemoryStore`]: a new store per case; its one handle serves as both handles
    /// of the locking cases (its state lives in the handle).
    mod memory_store {
        fresh: || async { Fresh::new(MemoryStore::new()) },
        two_handles: || async { Fresh::shared(Arc::new(MemoryStore::new())) },
    }
}

#[tokio::test]
async fn memory_queue_conforms() {
    testkit::queue::run_all(&MemoryQueue::new(), &testkit::queue::unique_prefix("memory")).await;
}

#[tokio::test]
async fn memory_passwords_conform() {
    testkit::passwords::run_all(&MemoryPasswords::new()).await;
}

#[tokio::test]
async fn memory_blob_store_conforms() {
    testkit::blob::run_all(&MemoryBlobStore::new()).await;
}

#[tokio::test]
async fn memory_mailer_conforms() {
    let mailer = MemoryMailer::new();
    testkit::mailer::run_all(&mailer).await;
    assert_eq!(mailer.sent().len(), 2);
}
