//! Outgoing e-mail.

use crate::error::Result;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::fmt::Debug;

/// A plain-text e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// Sends e-mail.
///
/// Contract: `send` returns `Ok` only once the message was accepted for delivery; a failure that may pass
/// (server down) is `ErrorKind::Unavailable`, so the notification consumer retries the message.
#[async_trait]
pub trait Mailer: Send + Sync + Debug + 'static {
    /// Hands one message over for delivery.
    async fn send(&self, email: &Email) -> Result<()>;
}
