//! `GET /metrics` on a real port during a small load: the token guards it, and the series of
//! `tts_http::metrics` are there with plausible values (route templates, not concrete paths; every
//! created ticket counted, allocated and timed). Also `/readyz` with each dependency.

mod process;

use process::{EMPLOYEE, PASSWORD};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tts_http::server::{Durability, open_backends, serve_on};
use tts_http::{HttpConfig, RateLimits};

const TOKEN: &str = "scrape-token-0123456789";
const TICKETS: usize = 20;

/// The value of the series whose line starts with `series ` (exact labels), if present.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
}

async fn scrape(client: &reqwest::Client, base: &str) -> String {
    let r = client
        .get(format!("{base}/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    r.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_guarded_and_plausible_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let backends = open_backends(&format!("sqlite://{}/tts.db", dir.path().display()), Durability::Normal)
        .await
        .unwrap();
    tts_http::demo::seed(&backends.engine, PASSWORD).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut http = HttpConfig::new(vec![5u8; 32]);
    http.rate_limits = RateLimits::disabled();
    http.metrics_token = Some(TOKEN.into());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_on(backends, http, listener, true, async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();

    for bearer in [None, Some("wrong-token")] {
        let mut r = client.get(format!("{base}/metrics"));
        if let Some(b) = bearer {
            r = r.bearer_auth(b);
        }
        assert_eq!(
            r.send().await.unwrap().status().as_u16(),
            401,
            "the token guards the metrics"
        );
    }
    let ready: Value = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ok");
    assert_eq!(ready["checks"]["database"], "ok", "{ready}");

    let employee = process::token(&client, &base, EMPLOYEE).await;
    let mut ids = Vec::new();
    for i in 0..TICKETS {
        let r: Value = client
            .post(format!("{base}/tickets/"))
            .bearer_auth(&employee)
            .json(&json!({"subject": format!("Metered {i}"), "category": "Technical Support", "priority": "high"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(r["id"].as_i64().unwrap());
    }
    let r = client
        .get(format!("{base}/tickets/{}/", ids[0]))
        .bearer_auth(&employee)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);

    // Allocation runs in the workers: wait until every ticket was assigned and its message is gone.
    let started = Instant::now();
    let text = loop {
        let text = scrape(&client, &base).await;
        let allocated = value(&text, "tts_allocation_latency_seconds_count").unwrap_or(0.0) >= TICKETS as f64;
        let waiting = value(&text, r#"tts_outbox_messages{queue="TICKET_TASKS_PRODUCTION"}"#);
        if allocated && waiting == Some(0.0) {
            break text;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "allocation was not counted:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let n = TICKETS as f64;
    assert_eq!(
        value(
            &text,
            r#"tts_http_requests_total{method="POST",route="/tickets/",status="201"}"#
        ),
        Some(n),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            r#"tts_http_requests_total{method="GET",route="/tickets/{id}/",status="200"}"#
        ),
        Some(1.0),
        "route templates, not concrete paths:\n{text}"
    );
    assert!(
        !text.contains(&format!("/tickets/{}/", ids[0])),
        "no concrete path becomes a label"
    );
    assert_eq!(
        value(
            &text,
            r#"tts_http_request_duration_seconds_count{method="POST",route="/tickets/"}"#
        ),
        Some(n)
    );
    assert_eq!(
        value(&text, r#"tts_events_total{type="ticket.created"}"#),
        Some(n),
        "{text}"
    );
    assert!(
        value(&text, r#"tts_commands_total{outcome="ok"}"#).unwrap_or(0.0) >= n,
        "{text}"
    );
    assert!(value(&text, "tts_command_retries_total").is_some(), "{text}");
    let latency = value(&text, "tts_allocation_latency_seconds_sum").unwrap_or(-1.0);
    assert!(
        latency > 0.0 && latency < n * 20.0,
        "allocation took {latency} s in all: {text}"
    );
    assert_eq!(value(&text, "tts_live_feeds"), Some(0.0));
    let tickets_queue = r#"{queue="TICKET_TASKS_PRODUCTION"}"#;
    assert_eq!(
        value(&text, &format!("tts_dead_letters{tickets_queue}")),
        Some(0.0),
        "per queue, at zero: {text}"
    );
    assert_eq!(
        value(&text, &format!("tts_outbox_messages{tickets_queue}")),
        Some(0.0),
        "drained:\n{text}"
    );
    assert_eq!(
        value(&text, &format!("tts_outbox_lag_seconds{tickets_queue}")),
        Some(0.0)
    );
    assert_eq!(
        value(&text, r#"tts_sla_events_total{kind="breach"}"#),
        Some(0.0),
        "{text}"
    );
    let max = value(&text, r#"tts_db_pool_connections{pool="reader",state="max"}"#).unwrap_or(0.0);
    assert!(max >= 1.0, "the SQLite reader pool is reported: {text}");
    assert!(value(&text, r#"tts_db_pool_connections{pool="writer",state="idle"}"#).is_some());
    let traffic = |kind: &str| value(&text, &format!(r#"tts_db_traffic_total{{kind="{kind}"}}"#)).unwrap_or(0.0);
    let (statements, calls, commits, units) = (
        traffic("statements"),
        traffic("round_trips"),
        traffic("commits"),
        traffic("units"),
    );
    assert!(units >= n && commits >= 1.0, "every create is a unit: {text}");
    // A group opens with three statements in one call, and a command's held-back writes go in one call.
    assert!(statements > calls && calls > commits, "{text}");
    assert!(!text.contains(&employee), "no token in the metrics");

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(20), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

/// `tts-server worker --bind`: a process without the API still answers its probes and is scraped. The
/// tickets were written by "another process" (straight through the engine, waiting in the outbox); this
/// process's workers allocate them, and its metrics count the allocations and show the drained queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_only_process_serves_its_probes_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let backends = open_backends(&format!("sqlite://{}/tts.db", dir.path().display()), Durability::Normal)
        .await
        .unwrap();
    tts_http::demo::seed(&backends.engine, PASSWORD).await.unwrap();
    let requester = tts_http::server::find_user(&backends.engine, EMPLOYEE)
        .await
        .unwrap()
        .expect("the demo requester");
    for i in 0..5 {
        backends
            .engine
            .create_ticket(
                tts_core::Actor::user(requester.id),
                tts_core::NewTicket::new(format!("Queued {i}"), "Technical Support"),
                None,
            )
            .await
            .unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut http = HttpConfig::new(vec![7u8; 32]);
    http.metrics_token = Some(TOKEN.into());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(tts_http::server::work_on(backends, Some((listener, http)), async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let status = |path: &'static str| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            client
                .get(format!("{base}{path}"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(status("/healthz").await, 200);
    assert_eq!(status("/readyz").await, 200);
    assert_eq!(status("/metrics").await, 401, "the token guards the metrics here too");
    assert_eq!(status("/tickets/").await, 404, "no API on the probe port");
    let started = Instant::now();
    let text = loop {
        let text = scrape(&client, &base).await;
        let allocated = value(&text, "tts_allocation_latency_seconds_count") == Some(5.0);
        let waiting = value(&text, r#"tts_outbox_messages{queue="TICKET_TASKS_PRODUCTION"}"#);
        if allocated && waiting == Some(0.0) {
            break text;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the worker did not allocate:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        value(&text, r#"tts_commands_total{outcome="ok"}"#).unwrap_or(0.0) >= 5.0,
        "{text}"
    );
    assert_eq!(
        value(&text, r#"tts_dead_letters{queue="TICKET_TASKS_PRODUCTION"}"#),
        Some(0.0)
    );
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(20), worker)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
