//! Ports: the traits behind which storage, messaging, identity, blobs, mail, time and ids sit.
//!
//! Every port is an `#[async_trait]` trait object (`Arc<dyn Port>`), `Send + Sync + 'static`. Each trait's
//! documentation is its contract; [`crate::testkit`] checks it for every adapter.

pub mod blob;
pub mod clock;
pub mod feed;
pub mod mailer;
pub mod passwords;
pub mod queue;
pub mod store;

pub use blob::{BlobRef, BlobStore};
pub use clock::{Clock, IdGen};
pub use feed::EventFeed;
pub use mailer::{Email, Mailer};
pub use passwords::Passwords;
pub use queue::{Delivery, Queue, QueueMessage};
pub use store::{
    Access, AssignmentQuery, Audit, BlobRefs, Bookkeeping, Claimed, CommentQuery, Comments, Credentials, Cursors,
    DeadLetters, Directory, Idempotency, IdempotencyRecord, Member, NotificationQuery, Notifications, Outbox, Page,
    PageRequest, PickState, PoolUse, PriorityCounts, Queries, QueueBacklog, Reports, Sessions, Store, StoreTraffic,
    Tasks, TicketOrdering, TicketQuery, Tickets, UnitOfWork, UnitOptions, UnitPriority, Workflows,
};
