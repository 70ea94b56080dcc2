//! # tts-core
//!
//! The pure core of TTS, the ticket tracking system: tickets, workflows (steps, transitions/actions,
//! SLA), workflow matching, round-robin assignment, tasks and assignments, validation, domain events and
//! the [`Engine`] that runs every command atomically over the [`ports`].
//!
//! Functional core, imperative shell: [`domain`] decides (pure functions, `now` and ids passed in),
//! adapters persist and deliver. No I/O and no async runtime live here; the in-memory adapters in
//! [`memory`] make the engine usable on its own, and [`testkit`] (feature `testkit`) is the conformance
//! suite every other adapter runs.
//!
//! ```
//! # async fn demo() -> tts_core::Result<()> {
//! use tts_core::{Engine, Actor, NewTicket};
//! let engine = Engine::in_memory().build()?;
//! let requester = Actor::user(tts_core::UserId(uuid::Uuid::now_v7()));
//! let ticket = engine.create_ticket(requester, NewTicket::new("Printer jammed", "IT Support"), None).await?.ticket;
//! assert_eq!(ticket.status, tts_core::TicketStatus::Open);
//! # Ok(()) }
//! ```
//!
//! ## Crates doing the hand-written-looking parts
//! - `sha2` + `hex`: SHA-256 of blobs ([`ports::blob::sha256_hex`]) and the test password hasher;
//! - `async-lock`: the memory store's unit lock and the session gate's single-flight poll;
//! - `event-listener`: waiting for queue messages and outbox commits, without piling up wakers.
//!
//! ## Features
//! - `testkit`: the conformance suites for every port ([`testkit`]).
//! - `proptest`: strategies and a workflow checker for testing your own workflow definitions.

pub mod domain;
pub mod engine;
pub mod error;
pub mod ids;
pub mod memory;
pub mod ports;
#[cfg(feature = "proptest")]
pub mod proptest_support;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use domain::assignment::Candidate;
pub use domain::audit::AuditEntry;
pub use domain::comment::{Comment, NewComment};
pub use domain::delivery::{DeadLetter, RetryPolicy};
pub use domain::event::{DomainEvent, OutboxMessage};
pub use domain::login::{Credential, Throttle, ThrottleKey, ThrottlePolicy};
pub use domain::matching::{Match, MatchIndex, TicketKey, Tier};
pub use domain::notification::{Notification, NotificationRequest, NotificationType};
pub use domain::priority::Priority;
pub use domain::scope::TicketScope;
pub use domain::session::{EndSessions, RefreshSession, RefreshVerdict, Rotation};
pub use domain::task::{Assignment, AssignmentStatus, Origin, Task, TaskStatus};
pub use domain::ticket::{Employee, NewTicket, Ticket, TicketEdit, TicketStatus};
pub use domain::ticket_number::TicketNumber;
pub use domain::user::{Actor, Membership, Role, User};
pub use domain::validation::{Problem, validate};
pub use domain::workflow::{
    AssignmentStrategy, MatchKey, Position, Sla, Step, Transition, Workflow, WorkflowDefinition, WorkflowStatus,
};
pub use engine::tickets::{Created, IdempotencyKey, TicketRef};
pub use engine::{
    ActionOutcome, Allocation, ConsumeOutcome, Consumer, CreateRequest, Engine, EngineBuilder, EngineConfig,
    EngineStats, LoginAttempt, NewSession, NewUser, ProfileChange, PruneReport, QueueNames, Retention, Session,
    SessionGateConfig, Upload, UserChange,
};
pub use error::{Error, ErrorKind, FieldError, Result};
pub use ids::*;

/// Re-exported so embedders build ids and times with the same versions the core uses.
pub use chrono;
/// Re-exported so embedders build ids with the same version the core uses.
pub use uuid;
