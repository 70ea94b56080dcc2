//! Identity adapters: who a login belongs to.
//!
//! [`LocalIdentity`] keeps argon2id password hashes and the lockout counters in the `credentials` table of
//! the SQL database (SQLite or PostgreSQL) the store uses.

mod local;

pub use local::{IdentityConfig, LocalIdentity};
