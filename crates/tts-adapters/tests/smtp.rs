//! The SMTP mailer against a real SMTP server process started by each test
//! ([`tts_adapters::testkit::smtp::SmtpServer`], aiosmtpd). Received messages are read back with Python's
//! `email` package, so the checks see what a mail client would: envelope recipient, headers, the
//! plain-text and the HTML part.

use serde_json::Value;
use std::sync::Arc;
use tts_adapters::mail::smtp::{SmtpConfig, SmtpMailer};
use tts_adapters::testkit::smtp::SmtpServer;
use tts_core::ports::mailer::{Email, Mailer};

async fn mailer(server: &SmtpServer) -> SmtpMailer {
    SmtpMailer::connect(SmtpConfig::new(server.url(), "TTS <tts@example.com>"))
        .await
        .expect("connect")
}

#[tokio::test]
async fn smtp_mailer_conforms_and_the_server_receives_both() {
    let server = SmtpServer::start();
    tts_core::testkit::mailer::run_all(&mailer(&server).await).await;
    let got = server.received();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(
        got[0]["subject"], "TKT-2025-0001 assigned — Résumé",
        "UTF-8 subjects survive"
    );
    assert_eq!(got[0]["html"], Value::Null, "plain text only");
    assert_eq!(got[1]["text"].as_str().map(str::trim_end), Some("Plain."));
    assert_eq!(
        got[1]["html"].as_str().map(str::trim_end),
        Some("<p>Rich &amp; <b>bold</b>.</p>")
    );
}

#[tokio::test]
async fn an_unreachable_server_is_named_without_its_password() {
    let config = SmtpConfig::new("smtp://tts:hunter2@127.0.0.1:1", "tts@example.com");
    let err = SmtpMailer::connect(config)
        .await
        .expect_err("nothing listens on port 1");
    let text = err.to_string();
    assert!(text.contains("smtp://tts:***@127.0.0.1:1"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    assert_eq!(err.kind(), tts_core::ErrorKind::Unavailable);
}

#[tokio::test]
async fn a_bad_recipient_is_invalid_not_retried() {
    let server = SmtpServer::start();
    let email = Email {
        to: "not an address".into(),
        subject: "x".into(),
        body: "x".into(),
        html: None,
    };
    let err = mailer(&server).await.send(&email).await.expect_err("refused");
    assert_eq!(err.kind(), tts_core::ErrorKind::Invalid, "{err}");
}

/// The whole path: a ticket is allocated, its assignee's notification asks for an e-mail, the mail
/// consumer sends it through SMTP with both bodies and the link to the ticket.
#[tokio::test]
async fn an_assignment_reaches_the_assignee_by_smtp_with_a_link() {
    use tts_core::{Consumer, Engine, EngineConfig, NewTicket};
    let server = SmtpServer::start();
    let engine = Engine::in_memory()
        .mailer(Arc::new(mailer(&server).await))
        .config(EngineConfig {
            public_url: Some("https://tts.example.com".into()),
            ..EngineConfig::default()
        })
        .build()
        .expect("engine");
    let fx = tts_core::testkit::fixture::three_step(&engine, 1, 1)
        .await
        .expect("fixture");
    let ticket = NewTicket::new("Printer on fire", "Asset Check In").department("Asset Department");
    let created = engine
        .create_ticket(fx.requester_actor(), ticket, None)
        .await
        .expect("create");
    engine.drain(Consumer::Allocation).await.expect("allocate");
    engine.drain(Consumer::Notifications).await.expect("notify");
    assert_eq!(engine.drain(Consumer::Mail).await.expect("mail"), 1);
    assert_eq!(engine.drain(Consumer::Mail).await.expect("again"), 0, "sent once");

    let got = server.received();
    assert_eq!(got.len(), 1, "{got:?}");
    let number = created.ticket.ticket_id.to_string();
    let link = format!("https://tts.example.com/ui/tickets/{number}/");
    let m = &got[0];
    let admin = &fx.admins[0].email;
    assert_eq!(
        m["rcpt"].as_str(),
        Some(admin.as_str()),
        "the assignee is the recipient"
    );
    assert_eq!(m["from"], "TTS <tts@example.com>");
    assert!(m["subject"].as_str().is_some_and(|s| s.contains(&number)), "{m}");
    let text = m["text"].as_str().expect("plain text");
    assert!(
        text.contains("A ticket was assigned to you") && text.contains(&link),
        "{text}"
    );
    let html = m["html"].as_str().expect("html");
    assert!(html.contains(&format!("<a href=\"{link}\">")), "{html}");
}
