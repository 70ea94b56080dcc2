//! A thousand idle live feeds on a real `tts-server` process: its resident memory grows by a bounded
//! amount per feed (small socket buffers, no per-feed copies of events), and one event reaches all of
//! them. Prints the numbers.

mod process;

use futures_util::StreamExt;
use process::{ADMIN, EMPLOYEE, Site};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const FEEDS: usize = 1_000;
/// The bound: 64 KiB per idle feed (with the default 128 KiB read buffers of tungstenite, a thousand
/// feeds would take over 128 MiB).
/// Measured: 8.4 KiB per feed with the feed's 4 KiB buffers, 130 KiB with tungstenite's defaults.
const MAX_GROWTH_KIB: u64 = 64 * FEEDS as u64;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("process status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

async fn open_feed(base: &str, token: &str) -> Socket {
    let url = format!("{}/ws/", base.replacen("http", "ws", 1));
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url).expect("request");
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().expect("header"));
    tokio_tungstenite::connect_async(req).await.expect("a feed").0
}

async fn next_text(ws: &mut Socket) -> String {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return t.to_string(),
            Ok(Some(Ok(_))) => {}
            other => panic!("a feed ended early: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_idle_feeds_hold_bounded_memory_and_all_get_an_event() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut site = Site::new(
        &format!("sqlite://{}/tts.db", dir.path().display()),
        &dir.path().join("data"),
    );
    site.env.push(("TTS_LIVE_FEEDS_PER_USER".into(), FEEDS.to_string()));
    process::seed(&site);
    let server = Killed(process::start(&site).await);
    let pid = server.0.child.id();
    let client = reqwest::Client::new();
    let admin = process::token(&client, &server.0.base, ADMIN).await;
    let employee = process::token(&client, &server.0.base, EMPLOYEE).await;
    let bearer = format!("Bearer {employee}");
    let process::Sent::Created(ticket) = process::create(&client, &server.0.base, &bearer, "Watched").await else {
        panic!("a ticket");
    };

    // Warm up (runtime, TLS-free handshake paths, allocator pools), then measure.
    let warm: Vec<Socket> = futures_util::future::join_all((0..20).map(|_| open_feed(&server.0.base, &admin))).await;
    drop(warm);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(pid);
    let mut feeds = Vec::with_capacity(FEEDS);
    for _ in 0..FEEDS / 50 {
        let batch = futures_util::future::join_all((0..50).map(|_| open_feed(&server.0.base, &admin))).await;
        feeds.extend(batch);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = rss_kib(pid);
    let growth = after.saturating_sub(before);
    println!(
        "{FEEDS} idle feeds: server RSS {before} KiB -> {after} KiB, +{growth} KiB ({:.1} KiB per feed)",
        growth as f64 / FEEDS as f64
    );
    assert!(
        growth <= MAX_GROWTH_KIB,
        "{FEEDS} idle feeds took {growth} KiB (bound {MAX_GROWTH_KIB} KiB)"
    );

    // One comment reaches every feed.
    let sent = Instant::now();
    let r = client
        .post(format!("{}/tickets/{ticket}/comments/", server.0.base))
        .header("Authorization", &bearer)
        .json(&serde_json::json!({"content": "hello, everyone"}))
        .send()
        .await
        .expect("comment");
    assert_eq!(r.status().as_u16(), 201);
    let mut last = Duration::ZERO;
    for ws in &mut feeds {
        loop {
            let text = next_text(ws).await;
            if text.contains("\"comment.added\"") {
                break;
            }
        }
        last = last.max(sent.elapsed());
    }
    println!("one comment reached all {FEEDS} feeds within {last:?} (debug build, same machine)");
    drop(feeds);
}

/// The server, killed when the test ends (also when an assertion fails).
struct Killed(process::Running);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.child.kill();
        let _ = self.0.child.wait();
    }
}
