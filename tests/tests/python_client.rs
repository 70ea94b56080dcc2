//! The seed's documented Python client (`tests/python/seed_client.py`, copied verbatim from the seed's
//! A.10 "Python Client") works unchanged against TTS: the server runs in-process on a real port over
//! SQLite with the demo seed and the seed's default rate limits, and `tests/python/run_seed_client.py`
//! logs in as the demo employee, creates the documentation's example ticket, and follows the absolute
//! `next` links of the ticket list with `requests.get(page["next"])`.
//!
//! Needs `python3` with `requests` (`scripts/setup.sh` installs it); without them the test fails, it never
//! skips.

use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;
use tokio::sync::oneshot;
use tts_http::HttpConfig;
use tts_http::server::{Durability, open_backends, serve_on};

const PASSWORD: &str = "pw-123456";
const EMPLOYEE: &str = "employee@demo.tts.example";

fn show(out: &Output) -> String {
    format!(
        "exit status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Fails with a clear message unless `python3` runs and can import `requests`.
fn require_python_with_requests() {
    let out = Command::new("python3")
        .args(["-c", "import requests"])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "python3 is required for this test but could not be run ({e}); install Python 3 (see scripts/setup.sh)"
            )
        });
    assert!(
        out.status.success(),
        "python3 cannot import `requests`, which this test needs: run `python3 -m pip install requests` \
         (or scripts/setup.sh)\n{}",
        show(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_python_client_creates_a_ticket() {
    require_python_with_requests();

    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}/tts.db", dir.path().display());
    let backends = open_backends(&url, Durability::Full)
        .await
        .expect("open SQLite backends");
    tts_http::demo::seed(&backends.engine, PASSWORD)
        .await
        .expect("demo seed");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let base = format!("http://{}", listener.local_addr().expect("local address"));
    let (shutdown, stop) = oneshot::channel::<()>();
    let server = tokio::spawn(serve_on(
        backends,
        HttpConfig::new(vec![0x3c; 32]),
        listener,
        true,
        async {
            let _ = stop.await;
        },
    ));

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/run_seed_client.py");
    let run_base = base.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(&script)
            .args([run_base.as_str(), EMPLOYEE, PASSWORD])
            // requests honours proxy variables; the server is local.
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .output()
            .unwrap_or_else(|e| panic!("running python3 {}: {e}", script.display()))
    })
    .await
    .expect("python3 runner");
    assert!(out.status.success(), "the seed's Python client failed:\n{}", show(&out));

    // The ticket really exists, owned by the employee.
    let http = reqwest::Client::builder().no_proxy().build().expect("HTTP client");
    let login: Value = http
        .post(format!("{base}/api/v1/users/token/"))
        .json(&json!({"username": EMPLOYEE, "password": PASSWORD}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login body");
    let token = login["access"].as_str().expect("access token");
    let list: Value = http
        .get(format!("{base}/tickets/"))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET /tickets/")
        .json()
        .await
        .expect("GET /tickets/ body");
    assert_eq!(
        list["count"], 2,
        "the example ticket and the one opened to page through: {list}"
    );
    let ticket = list["results"]
        .as_array()
        .and_then(|r| r.iter().find(|t| t["subject"] == "System slow"))
        .unwrap_or_else(|| panic!("the example ticket is listed: {list}"));
    assert_eq!(ticket["subject"], "System slow", "{list}");
    assert_eq!(ticket["category"], "Technical Support", "{list}");
    assert_eq!(ticket["priority"], "high", "{list}");
    assert_eq!(ticket["employee"]["email"], EMPLOYEE, "{list}");

    let _ = shutdown.send(());
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("server stops in time")
        .expect("server task does not panic")
        .expect("server ends without an I/O error");
}
