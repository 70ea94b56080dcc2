//! An in-memory mailer that keeps what it was asked to send.

use crate::error::{Error, ErrorKind, Result};
use crate::ports::mailer::{Email, Mailer};
use async_trait::async_trait;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Records every e-mail instead of sending it; can be told to fail, to test retries.
#[derive(Debug, Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<Email>>,
    failing: AtomicBool,
}

impl MemoryMailer {
    /// A mailer that accepts everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every e-mail accepted so far.
    pub fn sent(&self) -> Vec<Email> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// While true, `send` fails as if the mail server were down.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, email: &Email) -> Result<()> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(Error::Backend {
                backend: "memory-mailer",
                kind: ErrorKind::Unavailable,
                message: "mail server down".into(),
            });
        }
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).push(email.clone());
        Ok(())
    }
}
