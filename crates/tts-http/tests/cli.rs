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

    for bad in ["0", "101", "lots"] {
        let o = server(&dir)
            .env("TTS_SLA_WARNING_PERCENT", bad)
            .arg("migrate")
            .output()
            .unwrap();
        assert!(!o.status.success(), "warning share {bad} accepted");
        assert!(text(&o).contains("sla-warning-percent"), "{}", text(&o));
    }
    let o = server(&dir)
        .env("TTS_SLA_WARNING_PERCENT", "50")
        .env("TTS_SLA_AUTO_ESCALATE", "true")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn help_never_shows_secrets_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    for args in [vec!["--help"], vec!["serve", "--help"], vec!["migrate", "--help"]] {
        let o = server(&dir)
            .env(
                "TTS_DATABASE_URL",
                "postgres://tts:hunter2@db.internal/tts?password=hunter3",
            )
            .env("TTS_JWT_SECRET", "jwt-secret-value-0123456789abcdef0123")
            .env("TTS_ADMIN_PASSWORD", "admin-secret-value")
            .env("TTS_DEMO_PASSWORD", "demo-secret-value")
            .args(&args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        let out = text(&o);
        for secret in [
            "hunter2",
            "hunter3",
            "jwt-secret-value",
            "admin-secret-value",
            "demo-secret-value",
        ] {
            assert!(!out.contains(secret), "{args:?} shows {secret}: {out}");
        }
        if args.len() == 2 {
            for var in ["TTS_DATABASE_URL", "TTS_TRUSTED_PROXIES", "TTS_RATE_LIMIT_DEFAULT"] {
                assert!(
                    out.contains(var) || args[0] == "migrate",
                    "{args:?} documents {var}: {out}"
                );
            }
        }
    }
}

fn mode_of(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn the_generated_secret_file_is_private_and_shared_by_racing_starts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let starts: Vec<_> = (0..8)
        .map(|_| {
            let data = data.clone();
            tokio::spawn(async move { tts_http::server::load_or_create_secret(&data).await })
        })
        .collect();
    let mut secrets = Vec::new();
    for s in starts {
        secrets.push(s.await.unwrap().expect("secret"));
    }
    assert!(secrets[0].len() >= 32);
    assert!(
        secrets.iter().all(|s| *s == secrets[0]),
        "every racer reads the winner's secret"
    );
    let file = data.join("jwt_secret");
    assert_eq!(mode_of(&file), 0o600);
    let again = tts_http::server::load_or_create_secret(&data).await.unwrap();
    assert_eq!(again, secrets[0], "kept across restarts");
}

#[tokio::test]
async fn a_readable_secret_file_is_refused_with_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jwt_secret");
    std::fs::write(&file, "x".repeat(64)).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = tts_http::server::load_or_create_secret(dir.path())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&file.display().to_string()) && err.contains("chmod 600"),
        "{err}"
    );
    // The binary says the same and stops.
    let o = server(&dir)
        .env("TTS_DATA_DIR", dir.path())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(text(&o).contains("chmod 600"), "{}", text(&o));
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(
        tts_http::server::load_or_create_secret(dir.path()).await.unwrap(),
        "x".repeat(64).into_bytes()
    );
}

#[tokio::test]
async fn the_secret_is_never_written_through_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("elsewhere");
    std::os::unix::fs::symlink(&target, dir.path().join("jwt_secret")).unwrap();
    assert!(tts_http::server::load_or_create_secret(dir.path()).await.is_err());
    assert!(!target.exists(), "nothing was created through the link");
}
