//! Collaboration (issue 12, item 6). A plain `main`: `cargo bench -p tts-benches --bench collaboration
//! [-- PART...]` with `PART` `fanout` and/or `files` (default both); `--test` is a smoke run. Runs the
//! release `tts-server` (see `tts_benches::server`) on SQLite in a temporary directory.
//!
//! **fanout**: `TTS_BENCH_FEEDS` (default 1,000) live feeds of one admin (the per-user cap raised with
//! `TTS_LIVE_FEEDS_PER_USER`), then `TTS_BENCH_EVENTS` (default 50) comments posted one after another,
//! each waited for on every feed: delivery latency from the moment the comment's `201` arrived to each
//! feed's receipt (p50, p99, max over all feeds and events), and the server's RSS before and after the
//! feeds connected.
//!
//! **files**: a 10 MiB file (`TTS_BENCH_FILE_MIB`) uploaded `TTS_BENCH_FILE_ROUNDS` (default 5) times
//! over HTTP (multipart, streamed to the file blob store, SHA-256, sniffed, recorded) and downloaded as
//! many times; next to the file system's own copy of the same bytes in the same directory, measured in
//! the same run (`std::fs::copy` plus `fsync`, the durability an upload gets). MiB/s are best of rounds.

use futures_util::StreamExt;
use reqwest::Client;
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tts_benches::server::{free_port, rss_kib, server_binary};

const PASSWORD: &str = "bench-pass-123";
const ADMIN: &str = "admin@demo.tts.example";

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A release server on SQLite in `dir`, killed on drop.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn start(dir: &Path, feeds_per_user: u64) -> Server {
        let binary = server_binary();
        let command = || {
            let mut c = Command::new(&binary);
            c.env("TTS_DATABASE_URL", format!("sqlite://{}/tts.db", dir.display()))
                .env("TTS_DATA_DIR", dir.join("data"))
                .env("TTS_NO_RATE_LIMITS", "true")
                .env("TTS_LOG", "error")
                .env("TTS_LIVE_FEEDS_PER_USER", feeds_per_user.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit());
            c
        };
        let seeded = command().args(["demo", "--password", PASSWORD]).status().expect("demo");
        assert!(seeded.success(), "seeding the demo failed");
        let port = free_port();
        let child = command()
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .spawn()
            .expect("start tts-server");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = Client::new();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if let Ok(r) = client.get(format!("{}/readyz", server.base)).send().await
                && r.status().is_success()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server was not ready in 60 s");
    }

    async fn token(&self, client: &Client) -> String {
        let r: Value = client
            .post(format!("{}/api/v1/users/token/", self.base))
            .json(&serde_json::json!({"username": ADMIN, "password": PASSWORD}))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("token");
        r["access"].as_str().expect("access").to_string()
    }

    async fn ticket(&self, client: &Client, token: &str) -> i64 {
        let r: Value = client
            .post(format!("{}/tickets/", self.base))
            .bearer_auth(token)
            .json(&serde_json::json!({"subject": "Bench ticket", "category": "Technical Support"}))
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("ticket");
        r["id"].as_i64().expect("id")
    }
}

async fn open_feed(base: &str, token: &str) -> Socket {
    let url = format!("{}/ws/", base.replacen("http", "ws", 1));
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url).expect("request");
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().expect("header"));
    tokio_tungstenite::connect_async(req).await.expect("a feed").0
}

/// Waits on one feed for the next comment event (the feed carries ids, not texts); returns when it
/// arrived.
async fn wait_for(mut ws: Socket) -> (Socket, Instant) {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) if t.contains("\"comment.added\"") => return (ws, Instant::now()),
            Ok(Some(Ok(_))) => {}
            other => panic!("a feed ended: {other:?}"),
        }
    }
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

async fn fanout(feeds: usize, events: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), feeds as u64).await;
    let client = Client::new();
    let token = server.token(&client).await;
    let ticket = server.ticket(&client, &token).await;
    let pid = server.child.id();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(pid);
    let mut sockets = Vec::with_capacity(feeds);
    for chunk in 0..feeds.div_ceil(50) {
        let n = 50.min(feeds - chunk * 50);
        sockets.extend(futures_util::future::join_all((0..n).map(|_| open_feed(&server.base, &token))).await);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kib(pid);
    let mut latencies = Vec::with_capacity(feeds * events);
    for e in 0..events {
        let marker = format!("fan-out event {e}");
        let waiting: Vec<_> = sockets.drain(..).map(|ws| tokio::spawn(wait_for(ws))).collect();
        let r = client
            .post(format!("{}/tickets/{ticket}/comments/", server.base))
            .bearer_auth(&token)
            .json(&serde_json::json!({"content": marker}))
            .send()
            .await
            .expect("comment");
        let answered = Instant::now();
        assert_eq!(r.status().as_u16(), 201);
        for w in waiting {
            let (ws, at) = w.await.expect("a feed task");
            latencies.push(at.saturating_duration_since(answered));
            sockets.push(ws);
        }
    }
    latencies.sort();
    println!("\n## fan-out: one event to {feeds} live feeds, {events} events (release server, SQLite)\n");
    println!("| feeds | events | delivery p50 | p99 | max | server RSS before feeds | with feeds | per feed |");
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| {feeds} | {events} | {:.1} ms | {:.1} ms | {:.1} ms | {} MiB | {} MiB | {:.1} KiB |",
        pct(&latencies, 0.5),
        pct(&latencies, 0.99),
        pct(&latencies, 1.0),
        before / 1024,
        after / 1024,
        after.saturating_sub(before) as f64 / feeds as f64
    );
}

fn mib_per_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / d.as_secs_f64()
}

async fn files(mib: usize, rounds: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), 8).await;
    let client = Client::new();
    let token = server.token(&client).await;
    let ticket = server.ticket(&client, &token).await;
    let bytes: Vec<u8> = (0..mib * 1024 * 1024)
        .map(|i| b"The quick brown fox jumps over the lazy dog.\n"[i % 45])
        .collect();
    let source = dir.path().join("source.txt");
    std::fs::write(&source, &bytes).expect("source file");
    let (mut copy, mut upload, mut download) = (Duration::MAX, Duration::MAX, Duration::MAX);
    for round in 0..rounds {
        let target = dir.path().join(format!("copy-{round}.txt"));
        let started = Instant::now();
        std::fs::copy(&source, &target).expect("copy");
        std::fs::File::open(&target).and_then(|f| f.sync_all()).expect("fsync");
        copy = copy.min(started.elapsed());
        std::fs::remove_file(&target).expect("remove copy");

        // A different file each round (one changed byte), so every upload stores new bytes.
        let mut body = bytes.clone();
        body[0] = b'A' + (round % 26) as u8;
        let part = reqwest::multipart::Part::bytes(body).file_name(format!("big-{round}.txt"));
        let form = reqwest::multipart::Form::new().part("file", part);
        let started = Instant::now();
        let r = client
            .post(format!("{}/tickets/{ticket}/attachments/", server.base))
            .bearer_auth(&token)
            .multipart(form)
            .send()
            .await
            .expect("upload");
        assert_eq!(
            r.status().as_u16(),
            201,
            "upload: {}",
            r.text().await.unwrap_or_default()
        );
        upload = upload.min(started.elapsed());
        let id = r.json::<Value>().await.expect("attachment")["id"]
            .as_str()
            .expect("id")
            .to_string();

        let started = Instant::now();
        let got = client
            .get(format!("{}/tickets/{ticket}/attachments/{id}/", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .expect("download")
            .bytes()
            .await
            .expect("bytes");
        download = download.min(started.elapsed());
        assert_eq!(got.len(), bytes.len());
    }
    let size = bytes.len();
    println!("\n## files: {mib} MiB, best of {rounds} rounds (release server, file blob store, same disk)\n");
    println!("| operation | time | MiB/s | share of the file system's copy |");
    println!("|---|---|---|---|");
    let fs = mib_per_s(size, copy);
    println!(
        "| fs copy + fsync | {:.1} ms | {fs:.0} | 100% |",
        copy.as_secs_f64() * 1000.0
    );
    for (name, d) in [("HTTP upload (multipart)", upload), ("HTTP download", download)] {
        let rate = mib_per_s(size, d);
        println!(
            "| {name} | {:.1} ms | {rate:.0} | {:.0}% |",
            d.as_secs_f64() * 1000.0,
            rate / fs * 100.0
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let smoke = args.iter().any(|a| a == "--test");
    let parts: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| matches!(*a, "fanout" | "files"))
        .collect();
    let wants = |p: &str| parts.is_empty() || parts.contains(&p);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        if wants("fanout") {
            let (feeds, events) = if smoke {
                (20, 2)
            } else {
                (
                    env_or("TTS_BENCH_FEEDS", 1_000) as usize,
                    env_or("TTS_BENCH_EVENTS", 50) as usize,
                )
            };
            fanout(feeds, events).await;
        }
        if wants("files") {
            let (mib, rounds) = if smoke {
                (1, 1)
            } else {
                (
                    env_or("TTS_BENCH_FILE_MIB", 10) as usize,
                    env_or("TTS_BENCH_FILE_ROUNDS", 5) as usize,
                )
            };
            files(mib, rounds).await;
        }
    });
}
