//! SMTP through `lettre`: plain text with an HTML alternative, pooled connections, TLS per the URL.
//!
//! URLs (lettre's): `smtps://user:pass@host:465` (TLS), `smtp://user:pass@host:587?tls=required`
//! (STARTTLS), `smtp://host:25` (unencrypted: a relay on the same host or a test server). A refusal
//! the server says is permanent (5xx: a bad address) is `Invalid`, so the message becomes a dead letter at
//! once; anything else (4xx, connection refused, time-outs) is `Unavailable` and retried.

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;
use tts_core::ports::mailer::{Email, Mailer};
use tts_core::{Error, ErrorKind, Result};

/// Settings of [`SmtpMailer`].
#[derive(Clone)]
pub struct SmtpConfig {
    /// The server, as a URL (see the module docs); its password never shows in messages.
    pub url: String,
    /// The sender, e.g. `TTS <tts@example.com>`.
    pub from: String,
    /// How long one send may take (connect, TLS, the whole dialogue).
    pub timeout: Duration,
}

impl SmtpConfig {
    /// `url` and `from` with a 30 s time-out.
    pub fn new(url: impl Into<String>, from: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            from: from.into(),
            timeout: Duration::from_secs(30),
        }
    }
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("url", &crate::redact::redact_url(&self.url))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Sends e-mail through an SMTP server.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    shown_url: String,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("url", &self.shown_url)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// Checks the settings and that the server answers; an unreachable server is an error naming the
    /// URL without its password.
    pub async fn connect(config: SmtpConfig) -> Result<Self> {
        let shown_url = crate::redact::redact_url(&config.url);
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| Error::invalid("mail_from", format!("not an address: {e}")))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.url)
            .map_err(|e| Error::invalid("smtp_url", format!("{shown_url}: {e}")))?
            .timeout(Some(config.timeout))
            .build();
        match transport.test_connection().await {
            Ok(true) => {}
            Ok(false) => return Err(unavailable(format!("the SMTP server at {shown_url} does not answer"))),
            Err(e) => return Err(unavailable(format!("cannot reach the SMTP server at {shown_url}: {e}"))),
        }
        Ok(Self {
            transport,
            from,
            shown_url,
        })
    }
}

fn unavailable(message: String) -> Error {
    Error::Backend {
        backend: "smtp",
        kind: ErrorKind::Unavailable,
        message,
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn ready(&self) -> Result<()> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(unavailable(format!(
                "the SMTP server at {} does not answer",
                self.shown_url
            ))),
            Err(e) => Err(unavailable(format!(
                "cannot reach the SMTP server at {}: {e}",
                self.shown_url
            ))),
        }
    }

    async fn send(&self, email: &Email) -> Result<()> {
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| Error::invalid("to", format!("not an address: {e}")))?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.as_str());
        let message = match &email.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(email.body.clone(), html.clone())),
            None => builder.header(ContentType::TEXT_PLAIN).body(email.body.clone()),
        }
        .map_err(|e| Error::invalid("email", e.to_string()))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(Error::invalid(
                "to",
                format!("the SMTP server at {} refused the message: {e}", self.shown_url),
            )),
            Err(e) => Err(unavailable(format!("sending through {}: {e}", self.shown_url))),
        }
    }
}
