//! Outgoing e-mail.

use crate::error::Result;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;

/// An e-mail: plain text, with an HTML alternative when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// HTML body, sent beside the plain text (`multipart/alternative`).
    #[serde(default)]
    pub html: Option<String>,
}

/// Sends e-mail.
///
/// Contract: `send` returns `Ok` only once the message was accepted for delivery; a failure that may pass
/// (server down, a temporary refusal) is `ErrorKind::Unavailable`, so the mail consumer retries the
/// message; a refusal that will not pass (a bad address) is `ErrorKind::Invalid`, so it becomes a dead
/// letter at once.
#[async_trait]
pub trait Mailer: Send + Sync + Debug + 'static {
    /// Hands one message over for delivery.
    async fn send(&self, email: &Email) -> Result<()>;

    /// Whether the mail server answers now (for readiness probes); adapters without a server are
    /// always ready.
    async fn ready(&self) -> Result<()> {
        Ok(())
    }
}
