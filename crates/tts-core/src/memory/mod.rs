//! In-memory reference adapters for every port: fully working, the engine's reference and the default in
//! examples and tests. Nothing here survives the process.

pub mod blob;
pub mod clock;
pub mod identity;
mod lock;
pub mod mailer;
pub mod queue;
pub mod sha256;
pub mod store;

pub use blob::MemoryBlobStore;
pub use clock::{ManualClock, SequentialIds, SystemClock, UuidV7};
pub use identity::{LockoutPolicy, MemoryIdentity};
pub use mailer::MemoryMailer;
pub use queue::MemoryQueue;
pub use store::MemoryStore;
