//! The `tts-server` binary: migrate, create-admin from stdin, demo (idempotent), serve with the first
//! admin from the environment and a graceful stop on SIGTERM, and clear failures for bad settings.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn server(dir: &tempfile::TempDir) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tts-server"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "TTS_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("tts.db").display()),
        )
        .env("TTS_DATA_DIR", dir.path().join("data"))
        .env("TTS_LOG", "warn");
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn migrate_create_admin_and_demo() {
    let dir = tempfile::tempdir().unwrap();
    let o = server(&dir).arg("migrate").output().unwrap();
    assert!(o.status.success(), "{}", text(&o));

    let mut child = server(&dir)
        .args(["create-admin", "--email", "Boss@Example.com"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a-long-password\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("boss@example.com"), "{}", text(&o));

    let short = server(&dir)
        .args(["create-admin", "--email", "x@example.com", "--password", "short"])
        .output()
        .unwrap();
    assert!(!short.status.success());
    assert!(text(&short).contains("password"), "{}", text(&short));

    for _ in 0..2 {
        let o = server(&dir)
            .args(["demo", "--password", "demo-pass-123"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let out = text(&o);
        assert!(
            out.contains("demo-pass-123") && out.contains("admin@demo.tts.example"),
            "{out}"
        );
    }
}

#[test]
fn serve_creates_the_first_admin_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = server(&dir)
        .env("TTS_ADMIN_EMAIL", "first@example.com")
        .env("TTS_ADMIN_PASSWORD", "first-password")
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let ready = rt.block_on(async {
        let client = reqwest::Client::new();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Ok(r) = client.get(format!("{base}/readyz")).send().await
                && r.status().is_success()
            {
                let login = client
                    .post(format!("{base}/api/v1/users/token/"))
                    .json(&serde_json::json!({"username": "first@example.com", "password": "first-password"}))
                    .send()
                    .await
                    .unwrap();
                return login.status().as_u16();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        0
    });
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let o = child.wait_with_output().unwrap();
    assert_eq!(ready, 200, "admin login over HTTP; server said: {}", text(&o));
    let status = status.expect("the server stops within 20 s of SIGTERM");
    assert!(status.success(), "graceful stop exits 0: {}", text(&o));
}

#[test]
fn bad_settings_fail_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let o = server(&dir)
        .args(["--database-url", "postgres://tts:hunter2@127.0.0.1:1/tts", "migrate"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let out = text(&o);
    assert!(out.contains("127.0.0.1:1") && !out.contains("hunter2"), "{out}");

    let o = server(&dir)
        .args(["--database-url", "mysql://x/y", "migrate"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(text(&o).contains("database_url"), "{}", text(&o));

    let o = server(&dir)
        .args(["serve", "--bind", "127.0.0.1:0", "--jwt-secret", "too-short"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(text(&o).contains("jwt_secret"), "{}", text(&o));
}
