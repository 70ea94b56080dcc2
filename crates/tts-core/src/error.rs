//! The one error type of tts-core, and the small set of kinds shells map to responses.

use crate::domain::validation::Problem;
use std::fmt;

/// Result with the core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One invalid input field: which field, and why it was refused.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldError {
    /// The field's wire name, e.g. `subject` or `steps[2].weight`.
    pub field: String,
    /// A human-readable reason, safe to show to the client.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// What kind of failure an [`Error`] is; shells map kinds (not variants) to status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The object does not exist, or the caller may not know it exists.
    NotFound,
    /// The state changed underneath, a uniqueness rule was broken, or the state forbids the command.
    Conflict,
    /// The input is malformed or breaks a rule.
    Invalid,
    /// The caller is known but may not do this.
    Forbidden,
    /// The caller is not authenticated (bad credentials, locked account).
    Unauthorized,
    /// Too many attempts: the caller must wait before trying again.
    Throttled,
    /// A backend is down or overloaded; retrying later may succeed.
    Unavailable,
    /// A bug or an unexpected backend failure.
    Internal,
}

/// Every failure tts-core and its adapters report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// One or more input fields are invalid.
    #[error("invalid input: {}", join(.0))]
    Validation(Vec<FieldError>),
    /// A workflow definition breaks one or more rules; every problem is listed.
    #[error("invalid workflow: {}", join(.0))]
    InvalidWorkflow(Vec<Problem>),
    /// The named object does not exist (or is hidden from the caller).
    #[error("{entity} {id} not found")]
    NotFound {
        /// The kind of object, e.g. `ticket`.
        entity: &'static str,
        /// The identifier the caller gave.
        id: String,
    },
    /// The command conflicts with the current state (stale version, duplicate, wrong status...).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A status change the status table does not allow.
    #[error("{entity} cannot move from {from} to {to}")]
    IllegalTransition {
        /// `ticket`, `task` or `assignment`.
        entity: &'static str,
        /// The current status.
        from: String,
        /// The refused target status.
        to: String,
    },
    /// Nobody active holds the role the work must go to.
    #[error("no active user holds role {role}")]
    NoEligibleAssignee {
        /// The role's name or id.
        role: String,
    },
    /// The caller may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Authentication failed.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// Too many attempts (failed logins of one client on one account): wait before the next.
    #[error("too many attempts; retry in {retry_after_secs} s")]
    Throttled {
        /// Seconds until the next attempt is allowed.
        retry_after_secs: u64,
    },
    /// A backend (database, broker, mail server) failed.
    #[error("{backend} backend error: {message}")]
    Backend {
        /// Which backend, e.g. `sqlite`.
        backend: &'static str,
        /// What kind of failure it was.
        kind: ErrorKind,
        /// A message safe to log (no secrets).
        message: String,
    },
}

fn join<T: fmt::Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

impl Error {
    /// The kind of this error, for mapping to a status code.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Validation(_) | Error::InvalidWorkflow(_) => ErrorKind::Invalid,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Conflict(_) | Error::IllegalTransition { .. } | Error::NoEligibleAssignee { .. } => {
                ErrorKind::Conflict
            }
            Error::Forbidden(_) => ErrorKind::Forbidden,
            Error::Unauthorized(_) => ErrorKind::Unauthorized,
            Error::Throttled { .. } => ErrorKind::Throttled,
            Error::Backend { kind, .. } => *kind,
        }
    }

    /// A validation error about one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError::new(field, message)])
    }

    /// A not-found error.
    pub fn not_found(entity: &'static str, id: impl fmt::Display) -> Self {
        Error::NotFound {
            entity,
            id: id.to_string(),
        }
    }

    /// A conflict error.
    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict(message.into())
    }

    /// True when retrying the whole command may succeed (stale read, lock conflict, busy backend).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Backend {
                kind: ErrorKind::Conflict,
                ..
            }
        )
    }
}

/// Collects field errors so a constructor can report every bad field at once.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    /// Records one bad field.
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// `Ok(value)` when nothing was recorded, else the collected validation error.
    pub fn finish<T>(self, value: T) -> Result<T> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(Error::Validation(self.0))
        }
    }
}
