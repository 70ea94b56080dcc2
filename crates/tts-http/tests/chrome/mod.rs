//! A real browser for the web UI's tests: Debian's `chromium` driven by `chromedriver` over WebDriver
//! (fantoccini), headless, one fresh profile per session. After every page a test can `audit()` that
//! no request left the server's origin and that the console has no error (script errors and CSP
//! refusals land there), from Chrome's performance and browser logs.

#![allow(dead_code)]

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian puts them; `TTS_CHROMIUM` / `TTS_CHROMEDRIVER` override.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The hint when the browser is missing: these tests fail, they never skip.
pub const INSTALL_HINT: &str = "the browser tests need Debian's Chromium and ChromeDriver: \
     `sudo apt-get install -y chromium chromium-driver` (scripts/setup.sh and .ci/run install them)";

fn binary(var: &str, default: &str) -> String {
    let path = std::env::var(var).unwrap_or_else(|_| default.to_string());
    assert!(std::path::Path::new(&path).exists(), "{path} not found: {INSTALL_HINT}");
    path
}

/// Where screenshots go: `target/ui-screenshots/` of the workspace.
pub fn screenshot_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/ui-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

/// A chromedriver process, stopped on drop.
pub struct Driver {
    child: Child,
    url: String,
    profiles: tempfile::TempDir,
}

impl Drop for Driver {
    /// Stops chromedriver and every browser it started (its process group), also when a test failed
    /// before closing its windows: no Chromium outlives the test.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads Chrome's log of one type (`browser` or `performance`): ChromeDriver's
/// `POST /session/{id}/se/log`, which fantoccini has no method for.
#[derive(Debug)]
struct GetLog(&'static str);

impl WebDriverCompatibleCommand for GetLog {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({ "type": self.0 }).to_string()))
    }
}

impl Driver {
    /// Starts chromedriver on a free port and waits until it answers.
    pub async fn start() -> Driver {
        let _ = binary("TTS_CHROMIUM", CHROMIUM);
        let driver = binary("TTS_CHROMEDRIVER", CHROMEDRIVER);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        // A process group of its own, which the browsers it starts join: `Drop` stops them all.
        let mut child = Command::new(driver)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("chromedriver: {e}: {INSTALL_HINT}"));
        let url = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Ok(r) = reqwest::get(format!("{url}/status")).await
                && r.status().is_success()
            {
                return Driver {
                    child,
                    url,
                    profiles: tempfile::tempdir().expect("profile directory"),
                };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("chromedriver did not answer in 20 s: {INSTALL_HINT}");
    }

    /// A new headless browser window, with JavaScript on or off.
    pub async fn browser(&self, origin: &str, javascript: bool) -> Tab {
        let profile = tempfile::tempdir_in(self.profiles.path()).expect("profile");
        let mut options = json!({
            "binary": binary("TTS_CHROMIUM", CHROMIUM),
            "args": [
                "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1360,1000", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--metrics-recording-only", "--no-default-browser-check",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        });
        if !javascript {
            options["prefs"] = json!({ "profile.managed_default_content_settings.javascript": 2 });
        }
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": options,
            "goog:loggingPrefs": { "browser": "ALL", "performance": "ALL" },
        });
        let Value::Object(caps) = caps else {
            unreachable!("capabilities are an object")
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("a Chromium session: {e}: {INSTALL_HINT}"));
        Tab {
            client,
            origin: origin.trim_end_matches('/').to_string(),
            _profile: profile,
        }
    }
}

/// One browser window on the server at `origin`.
pub struct Tab {
    pub client: Client,
    pub origin: String,
    _profile: tempfile::TempDir,
}

impl Tab {
    /// Opens `path` of the server.
    pub async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.origin))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// The current URL's path and query.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current URL");
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// The text of the first element matching a CSS selector.
    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .text()
            .await
            .expect("text")
    }

    /// Whether an element matches.
    pub async fn has(&self, css: &str) -> bool {
        !self.client.find_all(Locator::Css(css)).await.expect("find").is_empty()
    }

    /// An attribute of the first element matching `css`.
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        let el = self.client.find(Locator::Css(css)).await.expect(css);
        el.attr(name).await.expect("attribute")
    }

    /// Types into the field matching `css` (clearing it first).
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no field {css}: {e}"));
        el.clear().await.expect("clear");
        el.send_keys(text).await.expect("type");
    }

    /// Chooses the option with this visible text in the select matching `css`.
    pub async fn choose(&self, css: &str, option_text: &str) {
        let el = self.client.find(Locator::Css(css)).await.expect(css);
        el.select_by_label(option_text)
            .await
            .unwrap_or_else(|e| panic!("{css}: no option {option_text}: {e}"));
    }

    /// Clicks the element matching `css` and waits until the page it leads to has loaded (the old
    /// document is gone and the new one is complete).
    pub async fn submit(&self, css: &str) {
        let old = self.client.find(Locator::Css("html")).await.expect("a page");
        self.click(css).await;
        let start = Instant::now();
        while old.tag_name().await.is_ok() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{css} led to no new page within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.loaded().await;
    }

    /// Waits until the current document has loaded.
    pub async fn loaded(&self) {
        let start = Instant::now();
        loop {
            let state = self.client.execute("return document.readyState", vec![]).await;
            if matches!(state, Ok(Value::String(ref s)) if s == "complete") {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the page did not load within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("nothing to click at {css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Waits (up to 10 s) until `css` matches an element whose text contains `text`.
    pub async fn wait_for_text(&self, css: &str, text: &str) {
        let start = Instant::now();
        loop {
            if let Ok(els) = self.client.find_all(Locator::Css(css)).await {
                for el in els {
                    if el.text().await.is_ok_and(|t| t.contains(text)) {
                        return;
                    }
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no {css} with {text:?} within 10 s on {}",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves a PNG of the whole page (up to 3,000 pixels tall) as `target/ui-screenshots/{name}.png`.
    pub async fn screenshot(&self, name: &str) {
        let height = self
            .eval("return document.documentElement.scrollHeight")
            .await
            .as_u64()
            .unwrap_or(1000)
            .clamp(600, 3000) as u32;
        let (width, old_height) = {
            let (w, h) = self.client.get_window_size().await.expect("window size");
            (w as u32, h as u32)
        };
        // The window's outer height includes the (headless) frame: add what the viewport lacks.
        self.client.set_window_size(width, height + 200).await.expect("resize");
        let png = self.client.screenshot().await.expect("screenshot");
        self.client
            .set_window_size(width, old_height)
            .await
            .expect("resize back");
        std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// Runs a script in the page (WebDriver's, which the page's CSP does not apply to).
    pub async fn eval(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.expect("script")
    }

    async fn log(&self, kind: &'static str) -> Vec<Value> {
        match self.client.issue_cmd(GetLog(kind)).await.expect("Chrome's log") {
            Value::Array(entries) => entries,
            other => panic!("a log is a list, not {other}"),
        }
    }

    /// Every request the pages made since the last audit left nothing but the server's origin, and
    /// the console has no error (a script error, a refused resource, a CSP violation). `allowed`
    /// console errors (substrings) are expected ones, such as the status of a page shown on purpose.
    pub async fn audit_allowing(&self, allowed: &[&str]) {
        let host = self.origin.trim_start_matches("http://");
        for entry in self.log("performance").await {
            let message: Value = entry["message"]
                .as_str()
                .and_then(|m| serde_json::from_str(m).ok())
                .unwrap_or(Value::Null);
            let method = message["message"]["method"].as_str().unwrap_or("");
            let url = match method {
                "Network.requestWillBeSent" => message["message"]["params"]["request"]["url"].as_str(),
                "Network.webSocketCreated" => message["message"]["params"]["url"].as_str(),
                _ => None,
            };
            // Browser-internal pages (the new-tab page before the first navigation) are no requests.
            let url = url.filter(|u| ["http:", "https:", "ws:", "wss:"].iter().any(|s| u.starts_with(s)));
            if let Some(url) = url {
                let same_origin = url.starts_with(&format!("http://{host}/"))
                    || url.starts_with(&format!("ws://{host}/"))
                    || url.starts_with("data:");
                assert!(same_origin, "a request left the origin {}: {url}", self.origin);
            }
        }
        for entry in self.log("browser").await {
            let level = entry["level"].as_str().unwrap_or("");
            let text = entry["message"].as_str().unwrap_or("");
            if level == "SEVERE" && !allowed.iter().any(|a| text.contains(a)) {
                panic!("console error on {}: {text}", self.path().await);
            }
        }
    }

    /// `audit_allowing` with no expected console error.
    pub async fn audit(&self) {
        self.audit_allowing(&[]).await;
    }

    /// Ends the browser session.
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
