//! The conformance suites against the in-memory adapters.

use chrono::Duration;
use tts_core::memory::{LockoutPolicy, MemoryBlobStore, MemoryIdentity, MemoryMailer, MemoryQueue, MemoryStore};
use tts_core::testkit;

#[tokio::test]
async fn memory_store_conforms() {
    testkit::store::run_all(&MemoryStore::new()).await;
}

#[tokio::test]
async fn memory_queue_conforms() {
    testkit::queue::run_all(&MemoryQueue::new()).await;
}

#[tokio::test]
async fn memory_identity_conforms() {
    let policy = LockoutPolicy {
        max_failures: 4,
        lockout: Duration::minutes(15),
    };
    testkit::identity::run_all(&MemoryIdentity::with_policy(policy), 4, policy.lockout).await;
    let default = LockoutPolicy::default();
    testkit::identity::run_all(&MemoryIdentity::new(), default.max_failures, default.lockout).await;
}

#[tokio::test]
async fn memory_blob_store_conforms() {
    testkit::blob::run_all(&MemoryBlobStore::new()).await;
}

#[tokio::test]
async fn memory_mailer_conforms() {
    let mailer = MemoryMailer::new();
    testkit::mailer::run_all(&mailer).await;
    assert_eq!(mailer.sent().len(), 1);
}
