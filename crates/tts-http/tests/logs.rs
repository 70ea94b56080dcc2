//! `TTS_LOG_FORMAT=json` on a real `tts-server`: every line is one JSON object, a request's events carry
//! its request id, user id and ticket, and no line holds a token or a password.

mod process;

use process::{EMPLOYEE, PASSWORD, Site};
use std::process::Stdio;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_request_fields_and_no_secrets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let site = Site::new(
        &format!("sqlite://{}/tts.db", dir.path().display()),
        &dir.path().join("data"),
    );
    process::seed(&site);
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = process::server(&site)
        .env("TTS_LOG_FORMAT", "json")
        .env("TTS_LOG", "info,tower_http=debug")
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::from(log))
        .spawn()
        .expect("start tts-server");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client.get(format!("{base}/readyz")).send().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let token = process::token(&client, &base, EMPLOYEE).await;
    let r = client
        .get(format!("{base}/tickets/TKT-2099-0001/"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 404);
    tokio::time::sleep(Duration::from_millis(300)).await;
    process::signal(&child, "-TERM");
    process::wait_exit(&mut child, Duration::from_secs(30));

    let text = std::fs::read_to_string(&log_path).expect("read the log");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {l}")))
        .collect();
    assert!(lines.len() > 2, "{text}");
    let request = lines
        .iter()
        .find(|l| l["span"]["ticket"] == "TKT-2099-0001" && l["span"]["user_id"].is_string())
        .unwrap_or_else(|| panic!("no event of the request with its fields:\n{text}"));
    assert!(
        request["span"]["request_id"].as_str().is_some_and(|id| id.len() == 36),
        "{request}"
    );
    assert!(!text.contains(&token), "a token was logged");
    assert!(!text.contains(PASSWORD), "a password was logged");
}
