//! E-mail through `tts-server` (SQLite, workers in-process) and a real SMTP server (aiosmtpd, started by
//! the test): `TTS_SMTP_URL`, `TTS_MAIL_FROM` and `TTS_PUBLIC_URL` wire the mailer; an assignment reaches
//! the assignee with both bodies and the link to the ticket; a user who turns e-mail off in their profile
//! gets the in-app notification and no e-mail.
#![cfg(feature = "smtp")]

mod process;

use process::{ADMIN, EMPLOYEE, Sent};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tts_adapters::testkit::smtp::SmtpServer;

async fn get(client: &reqwest::Client, url: String, bearer: &str) -> Value {
    let r = client
        .get(url)
        .header("Authorization", bearer)
        .send()
        .await
        .expect("get");
    assert!(r.status().is_success(), "{}", r.status());
    r.json().await.expect("json")
}

/// Waits until the admin has an in-app notification about ticket `number`.
async fn notified(client: &reqwest::Client, base: &str, bearer: &str, number: &str) {
    let start = Instant::now();
    loop {
        let list = get(client, format!("{base}/notifications/?page_size=100"), bearer).await;
        let found = list["results"]
            .as_array()
            .expect("results")
            .iter()
            .any(|n| n["related_ticket"] == number);
        if found {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no notification about {number}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn ticket_number(client: &reqwest::Client, base: &str, bearer: &str, id: i64) -> String {
    let t = get(client, format!("{base}/tickets/{id}/"), bearer).await;
    t["ticket_id"].as_str().expect("number").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assignments_are_mailed_with_a_link_unless_the_user_turned_email_off() {
    let smtp = SmtpServer::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}/tts.db", dir.path().display());
    let mut site = process::Site::new(&db, &dir.path().join("data"));
    site.env = vec![
        ("TTS_SMTP_URL".into(), smtp.url()),
        ("TTS_MAIL_FROM".into(), "Helpdesk <helpdesk@example.com>".into()),
        ("TTS_PUBLIC_URL".into(), "https://tts.example.com".into()),
    ];
    process::seed(&site);
    let mut server = process::start(&site).await;
    let client = reqwest::Client::new();
    let employee = format!("Bearer {}", process::token(&client, &server.base, EMPLOYEE).await);
    let admin = format!("Bearer {}", process::token(&client, &server.base, ADMIN).await);
    let create = async |subject: &str| match process::create(&client, &server.base, &employee, subject).await {
        Sent::Created(id) => ticket_number(&client, &server.base, &admin, id).await,
        other => panic!("create: {other:?}"),
    };

    let first = create("Mail me").await;
    notified(&client, &server.base, &admin, &first).await;
    // Turned off: the notification still comes, the e-mail does not.
    let r = client
        .patch(format!("{}/api/v1/users/profile/", server.base))
        .header("Authorization", &admin)
        .json(&json!({"email_notifications": false}))
        .send()
        .await
        .expect("profile");
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(r.json::<Value>().await.expect("profile")["email_notifications"], false);
    let quiet = create("Do not mail me").await;
    notified(&client, &server.base, &admin, &quiet).await;
    let r = client
        .patch(format!("{}/api/v1/users/profile/", server.base))
        .header("Authorization", &admin)
        .json(&json!({"email_notifications": true}))
        .send()
        .await
        .expect("profile");
    assert!(r.status().is_success());
    let last = create("Mail me again").await;

    let start = Instant::now();
    let got = loop {
        let got = smtp.received();
        if got.len() >= 2 {
            break got;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "two e-mails expected, got {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    process::signal(&server.child, "-TERM");
    process::wait_exit(&mut server.child, Duration::from_secs(30));

    let subjects: Vec<&str> = got.iter().map(|m| m["subject"].as_str().unwrap_or("")).collect();
    assert_eq!(got.len(), 2, "{subjects:?}");
    assert!(
        subjects.iter().all(|s| !s.contains(&quiet)),
        "no e-mail while it was off: {subjects:?}"
    );
    for (m, number) in got.iter().zip([&first, &last]) {
        let link = format!("https://tts.example.com/ui/tickets/{number}/");
        assert_eq!(m["rcpt"], ADMIN, "{m}");
        assert_eq!(m["from"], "Helpdesk <helpdesk@example.com>");
        assert!(
            m["subject"].as_str().is_some_and(|s| s.contains(number.as_str())),
            "{m}"
        );
        assert!(m["text"].as_str().is_some_and(|t| t.contains(&link)), "{m}");
        assert!(
            m["html"]
                .as_str()
                .is_some_and(|h| h.contains(&format!("href=\"{link}\""))),
            "{m}"
        );
    }
}
