//! Outgoing e-mail: the [`Mailer`](tts_core::ports::mailer::Mailer) port over SMTP.

#[cfg(feature = "smtp")]
pub mod smtp;
