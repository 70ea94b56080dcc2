//! A real SMTP server for tests: `aiosmtpd` (PyPI) with its maildir handler, run from the Python at
//! `TTS_TEST_AIOSMTPD_PYTHON` (default `target/py-venv/bin/python` of this workspace, which
//! `scripts/setup.sh` and `.ci/run` create). A missing server fails the test; it never skips.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Python that has aiosmtpd: `TTS_TEST_AIOSMTPD_PYTHON`, else the workspace's `target/py-venv`.
pub fn python() -> PathBuf {
    let path = std::env::var_os("TTS_TEST_AIOSMTPD_PYTHON").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/py-venv/bin/python"),
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup.sh (it installs aiosmtpd into target/py-venv)",
        path.display()
    );
    path
}

/// An aiosmtpd process writing what it receives into a maildir; killed (and its maildir removed) on drop.
#[derive(Debug)]
pub struct SmtpServer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl SmtpServer {
    /// Starts one on a free port and waits until it listens; panics (fails the test) when it cannot.
    pub fn start() -> SmtpServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("address")
            .port();
        let dir = std::env::temp_dir().join(format!("tts-smtp-{}", tts_core::uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).expect("a directory for the maildir");
        let maildir = dir.join("maildir");
        let child = Command::new(python())
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let server = SmtpServer { child, port, dir };
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "aiosmtpd did not listen in 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every received message, oldest first: envelope recipient (`rcpt`), `from`, `to`, `subject`,
    /// `text` and `html` (null when absent).
    pub fn received(&self) -> Vec<Value> {
        let script = r#"
import email, email.policy, json, mailbox, sys
out = []
for _, raw in sorted(mailbox.Maildir(sys.argv[1], factory=None).items(), key=lambda kv: kv[1].get_date()):
    m = email.message_from_bytes(raw.as_bytes(), policy=email.policy.default)
    text, html = m.get_body(("plain",)), m.get_body(("html",))
    out.append({"rcpt": m["X-RcptTo"], "from": m["From"], "to": m["To"], "subject": m["Subject"],
                "text": text.get_content() if text else None,
                "html": html.get_content() if html and html is not text else None})
print(json.dumps(out))
"#;
        let out = Command::new(python())
            .args(["-c", script])
            .arg(self.dir.join("maildir"))
            .output()
            .expect("read the maildir");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("json")
    }
}
