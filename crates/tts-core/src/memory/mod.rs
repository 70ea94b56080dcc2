//! In-memory reference adapters for every port: fully working, the engine's reference and the default in
//! examples and tests. Nothing here survives the process.

pub mod blob;
pub mod clock;
pub mod mailer;
pub mod passwords;
pub mod queue;
pub mod store;

pub use blob::MemoryBlobStore;
pub use clock::{ManualClock, SequentialIds, SystemClock, UuidV7};
pub use mailer::MemoryMailer;
pub use passwords::MemoryPasswords;
pub use queue::MemoryQueue;
pub use store::MemoryStore;
