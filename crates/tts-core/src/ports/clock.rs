//! Time and identifiers, injected so tests can drive time and replay ids.

use chrono::{DateTime, Utc};
use std::fmt::Debug;
use uuid::Uuid;

/// The current time. Engine commands read it once per command.
pub trait Clock: Send + Sync + Debug + 'static {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// Fresh identifiers for new objects.
///
/// Contract: never returns the same id twice. Time-ordered ids (UUIDv7) keep user ids, and so the
/// round-robin order, in creation order.
pub trait IdGen: Send + Sync + Debug + 'static {
    /// A new unique id.
    fn new_id(&self) -> Uuid;
}
