//! Conformance suites: one generic suite per port, run unchanged against every adapter.
//!
//! Each suite is a set of `pub async fn` taking the port as a trait object, plus a `run_all` that calls
//! them in order; they panic with a message naming the broken rule. Backend differences are explicit
//! parameters (as in object_store's integration suite). The store suite expects a **fresh, empty** store
//! (give each test its own database or schema); the queue suite uses unique queue names, so a shared
//! broker is fine.
//!
//! [`fixture`] builds the original system's three-step workflow with roles and agents, for tests and
//! benchmarks of any backend.

pub mod blob;
pub mod fixture;
pub mod passwords;
pub mod mailer;
pub mod queue;
pub mod store;
