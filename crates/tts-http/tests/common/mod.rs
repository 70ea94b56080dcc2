//! A test harness: the router over an in-memory engine seeded with the demo data, driven in-process.

#![allow(dead_code, missing_docs)]

pub mod browser;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;
use tts_core::memory::{MemoryPasswords, MemoryStore};
use tts_core::testkit::faults::FaultyStore;
use tts_core::{Consumer, Engine, EngineConfig};
use tts_http::{AppState, HttpConfig, RateLimits};

pub const PASSWORD: &str = "test-pass-123";
pub const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";
pub const ADMIN: &str = "admin@demo.tts.example";
pub const EMPLOYEE: &str = "employee@demo.tts.example";
pub const IT1: &str = "it.agent1@demo.tts.example";
pub const IT2: &str = "it.agent2@demo.tts.example";
pub const ASSET1: &str = "asset.manager1@demo.tts.example";

/// One response, with the body parsed as JSON (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Panics unless the status is `want`, showing the body.
    pub fn expect(self, want: u16) -> Self {
        assert_eq!(self.status.as_u16(), want, "unexpected status; body: {}", self.body);
        self
    }
}

/// The path and query of an absolute URL (`next` / `previous` links), to send in-process.
pub fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or("/", |i| &rest[i..])
}

pub struct Api {
    pub app: Router,
    pub engine: Arc<Engine>,
    pub state: AppState,
    /// The store under the engine: arm it to make the second half of a command fail.
    pub faults: FaultyStore,
    /// The attachments' blob files (a real file store in a temporary directory).
    pub blob_dir: Arc<tempfile::TempDir>,
}

impl Api {
    /// The router with rate limits off and the demo data seeded.
    pub async fn new() -> Api {
        Api::with(|c| c.rate_limits = RateLimits::disabled()).await
    }

    /// The router with a custom configuration.
    pub async fn with(tune: impl FnOnce(&mut HttpConfig)) -> Api {
        let faults = FaultyStore::new(Arc::new(MemoryStore::new()));
        let engine = Arc::new(
            Engine::builder(Arc::new(faults.clone()))
                .passwords(Arc::new(MemoryPasswords::new()))
                .config(EngineConfig {
                    email_notifications: false,
                    ..EngineConfig::default()
                })
                .build()
                .expect("engine"),
        );
        tts_http::demo::seed(&engine, PASSWORD).await.expect("demo seed");
        let mut config = HttpConfig::new(SECRET.to_vec());
        tune(&mut config);
        let blob_dir = Arc::new(tempfile::tempdir().expect("blob dir"));
        let blobs = tts_adapters::blob::FileBlobStore::new(blob_dir.path().join("blobs"))
            .await
            .expect("blob store");
        let state = AppState::new(engine.clone(), config).with_blobs(Arc::new(blobs));
        Api {
            app: tts_http::router(state.clone()),
            engine,
            state,
            faults,
            blob_dir,
        }
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .expect("request");
        self.send(req).await
    }

    /// Sends a prepared request; a 5xx answer fails the test.
    pub async fn send(&self, req: Request<Body>) -> Reply {
        let reply = self.send_unchecked(req).await;
        assert!(
            reply.status.as_u16() < 500,
            "server error {}: {}",
            reply.status,
            reply.body
        );
        reply
    }

    /// Sends a request whose answer may be a 5xx (a failure a test injected on purpose).
    pub async fn call_unchecked(&self, method: Method, path: &str, token: Option<&str>, body: Value) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        self.send_unchecked(req.body(Body::from(body.to_string())).expect("request"))
            .await
    }

    async fn send_unchecked(&self, req: Request<Body>) -> Reply {
        let res = self.app.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply { status, headers, body }
    }

    /// GETs raw bytes (a download): status, headers and the body as it came.
    pub async fn download(&self, path: &str, token: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
        let req = Request::builder()
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        let res = self.app.clone().oneshot(req).await.expect("infallible");
        let (status, headers) = (res.status(), res.headers().clone());
        let bytes = res.into_body().collect().await.expect("body").to_bytes().to_vec();
        (status, headers, bytes)
    }

    /// Files under the blob directory, temp files included (relative paths, sorted).
    pub fn blob_files(&self) -> Vec<String> {
        let root = self.blob_dir.path().join("blobs");
        let mut out = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read_dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    out.push(
                        path.strip_prefix(&root)
                            .expect("under root")
                            .to_string_lossy()
                            .into_owned(),
                    );
                }
            }
        }
        out.sort();
        out
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    /// Logs in and returns the whole token answer.
    pub async fn login_pair(&self, email: &str) -> Value {
        self.call(
            Method::POST,
            "/api/v1/users/token/",
            None,
            Some(json!({"username": email, "password": PASSWORD})),
        )
        .await
        .expect(200)
        .body
    }

    /// Logs in and returns the access token.
    pub async fn login(&self, email: &str) -> String {
        self.login_pair(email).await["access"]
            .as_str()
            .expect("access")
            .to_string()
    }

    /// Uploads `bytes` as the multipart field `file` named `name` (declared type `declared`, which the
    /// server ignores) to `path`.
    pub async fn upload(&self, path: &str, token: &str, name: &str, declared: &str, bytes: &[u8]) -> Reply {
        let boundary = "tts-test-boundary-7d1c";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {declared}\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", format!("multipart/form-data; boundary={boundary}"))
            .body(Body::from(body))
            .expect("request");
        self.send(req).await
    }

    /// Runs the outbox relay and both consumers until idle (what the workers do in a server).
    pub async fn settle(&self) {
        loop {
            let moved = self.engine.pump_all().await.expect("relay")
                + self.engine.drain(Consumer::Allocation).await.expect("allocation")
                + self.engine.drain(Consumer::Notifications).await.expect("notifications");
            if moved == 0 {
                break;
            }
        }
    }

    /// Opens a ticket as `token` and lets allocation run; returns the ticket JSON.
    pub async fn open_ticket(&self, token: &str, subject: &str) -> Value {
        let t = self
            .post(
                "/tickets/",
                token,
                json!({"subject": subject, "category": "Technical Support", "priority": "high"}),
            )
            .await
            .expect(201)
            .body;
        self.settle().await;
        t
    }

    /// The open task ids of the caller.
    pub async fn open_tasks(&self, token: &str) -> Vec<String> {
        self.get("/tasks/?open=true", token).await.expect(200).body["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|a| a["task_id"].as_str().expect("task_id").to_string())
            .collect()
    }
}
