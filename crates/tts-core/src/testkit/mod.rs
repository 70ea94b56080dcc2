//! Conformance suites: one generic suite per port, run unchanged against every adapter.
//!
//! Each suite is a set of `pub async fn` taking the port as a trait object; they panic with a message
//! naming the broken rule. Backend differences are explicit parameters (as in object_store's integration
//! suite).
//!
//! - [`store`]: one module per store trait plus units of work and locking; the
//!   [`store_conformance!`](crate::store_conformance) macro expands it into one test per case for a
//!   backend (apalis style), each on a **fresh, empty** database.
//! - [`queue`], [`blob`], [`mailer`], [`passwords`]: smaller suites with a `run_all`; the queue suite uses
//!   unique queue names, so a shared broker is fine.
//!
//! [`fixture`] builds the original system's three-step workflow with roles and agents, for tests and
//! benchmarks of any backend; [`faults`] wraps a store to make chosen methods fail.

pub mod blob;
pub mod faults;
pub mod fixture;
pub mod mailer;
pub mod passwords;
pub mod queue;
pub mod store;
