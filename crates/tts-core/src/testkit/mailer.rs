//! The [`Mailer`] contract (delivery itself is checked by each adapter against its server).

use crate::ports::mailer::{Email, Mailer};

/// Runs every mailer check.
pub async fn run_all(mailer: &dyn Mailer) {
    accepts_plain_text(mailer).await;
    accepts_text_with_html(mailer).await;
}

/// A plain-text message with a non-ASCII subject is accepted.
pub async fn accepts_plain_text(mailer: &dyn Mailer) {
    let email = Email {
        to: "agent@example.com".into(),
        subject: "TKT-2025-0001 assigned — Résumé".into(),
        body: "You were assigned step \"Triage\".\nLine two.".into(),
        html: None,
    };
    mailer.send(&email).await.expect("a well-formed message is accepted");
}

/// A message with an HTML alternative is accepted.
pub async fn accepts_text_with_html(mailer: &dyn Mailer) {
    let email = Email {
        to: "agent@example.com".into(),
        subject: "TKT-2025-0002 assigned".into(),
        body: "Plain.".into(),
        html: Some("<p>Rich &amp; <b>bold</b>.</p>".into()),
    };
    mailer.send(&email).await.expect("a message with HTML is accepted");
}
