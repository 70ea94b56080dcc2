//! The live feed over a real port: users get the events of tickets they may see and their own
//! notifications, nothing else; the feed needs a valid access token, never in the URL; it closes with
//! 4003 within a second or two of logout; a user holds at most 8 feeds.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tts_http::server::{Durability, open_backends, serve_on};
use tts_http::{HttpConfig, RateLimits};

mod feed;

use feed::next_event;

const PASSWORD: &str = "live-pass-123";

async fn login(client: &reqwest::Client, base: &str, email: &str) -> String {
    let r: Value = client
        .post(format!("{base}/api/v1/users/token/"))
        .json(&json!({"username": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access"].as_str().unwrap().to_string()
}

/// A request for `/ws/` on `addr` with `header: value`.
fn ws_request(
    addr: std::net::SocketAddr,
    header: &str,
    value: &str,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut req =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!("ws://{addr}/ws/"))
            .unwrap();
    req.headers_mut().insert(
        tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(header.as_bytes()).unwrap(),
        value.parse().unwrap(),
    );
    req
}

async fn create(client: &reqwest::Client, base: &str, token: &str, subject: &str) -> i64 {
    let r: Value = client
        .post(format!("{base}/tickets/"))
        .bearer_auth(token)
        .json(&json!({"subject": subject, "category": "Technical Support"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["id"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_carry_only_what_each_user_may_see() {
    let dir = tempfile::tempdir().unwrap();
    let backends = open_backends(&format!("sqlite://{}/tts.db", dir.path().display()), Durability::Normal)
        .await
        .unwrap();
    tts_http::demo::seed(&backends.engine, PASSWORD).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut http = HttpConfig::new(vec![9u8; 32]);
    http.rate_limits = RateLimits::disabled();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_on(backends, http, listener, true, async {
        let _ = stopped.await;
    }));
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();

    let r = client.get(format!("{base}/ws/")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(
        tokio_tungstenite::connect_async(ws_request(addr, "authorization", "Bearer forged"))
            .await
            .is_err()
    );

    let employee = login(&client, &base, "employee@demo.tts.example").await;
    let admin = login(&client, &base, "admin@demo.tts.example").await;
    let stranger = login(&client, &base, "budget.manager@demo.tts.example").await;
    // A token in the URL is refused (URLs end up in logs), even a good one.
    let r = client.get(format!("{base}/ws/?token={employee}")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(body["fields"]["token"].is_array(), "the body names the field: {body}");
    // A browser offers the token as a protocol; the server answers with `tts.bearer`.
    let (mut employee_ws, answer) = tokio_tungstenite::connect_async(ws_request(
        addr,
        "sec-websocket-protocol",
        &format!("tts.bearer, {employee}"),
    ))
    .await
    .unwrap();
    assert_eq!(answer.headers()["sec-websocket-protocol"], "tts.bearer");
    let (mut admin_ws, _) =
        tokio_tungstenite::connect_async(ws_request(addr, "authorization", &format!("Bearer {admin}")))
            .await
            .unwrap();
    let (mut stranger_ws, _) =
        tokio_tungstenite::connect_async(ws_request(addr, "authorization", &format!("Bearer {stranger}")))
            .await
            .unwrap();

    let id = create(&client, &base, &employee, "Live one").await;
    let first = next_event(&mut employee_ws).await;
    assert_eq!(first["type"], "ticket.created", "{first}");
    assert_eq!(first["ticket"], id);
    // The admin (who triages every ticket) sees the ticket's events and gets the assignment notification.
    let mut admin_saw_notification = false;
    for _ in 0..10 {
        let e = next_event(&mut admin_ws).await;
        if e["type"] == "notification" {
            admin_saw_notification = true;
            break;
        }
        assert_eq!(e["ticket"], id, "{e}");
    }
    assert!(admin_saw_notification);
    // The stranger saw none of that: the first thing they get is about their own ticket.
    let own = create(&client, &base, &stranger, "Mine").await;
    let e = next_event(&mut stranger_ws).await;
    assert_eq!(e["ticket"], own, "{e}");

    // An internal note reaches staff feeds only; a public comment reaches the requester too, with the
    // message id and time a reconnecting client catches up from.
    for (content, internal) in [("staff only words", true), ("public words", false)] {
        let r = client
            .post(format!("{base}/tickets/{id}/comments/"))
            .bearer_auth(&admin)
            .json(&json!({"content": content, "is_internal": internal}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
    }
    let comment = loop {
        let e = next_event(&mut employee_ws).await;
        if e["type"] == "comment.added" {
            break e;
        }
    };
    assert_eq!(
        comment["is_internal"], false,
        "the requester's feed skipped the note: {comment}"
    );
    assert!(comment["id"].is_string() && comment["at"].is_string(), "{comment}");
    let since: Value = client
        .get(format!("{base}/tickets/{id}/events/"))
        .query(&[("after", comment["at"].as_str().unwrap())])
        .bearer_auth(&employee)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        since["results"].as_array().map(Vec::len),
        Some(0),
        "nothing after the last event: {since}"
    );
    let all: Value = client
        .get(format!("{base}/tickets/{id}/events/"))
        .query(&[("after", "2000-01-01T00:00:00Z")])
        .bearer_auth(&employee)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = all.to_string();
    assert!(text.contains("public words") && !text.contains("staff only"), "{text}");

    employee_ws.send(Message::Close(None)).await.unwrap();

    // Logout ends the session: the admin's feed closes with 4003 within a second or two.
    let r = client
        .post(format!("{base}/api/v1/users/logout/"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let started = std::time::Instant::now();
    let code = loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), admin_ws.next())
            .await
            .expect("closed within 5 s")
            .expect("a close frame")
            .expect("frame");
        if let Message::Close(Some(close)) = frame {
            break u16::from(close.code);
        }
    };
    assert_eq!(code, 4003);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "closed after {:?}",
        started.elapsed()
    );
    drop(admin_ws);

    // At most 8 feeds per user: the ninth is refused with 429.
    let mut feeds = Vec::new();
    for _ in 0..tts_http::live::SOCKETS_PER_USER {
        let (ws, _) =
            tokio_tungstenite::connect_async(ws_request(addr, "authorization", &format!("Bearer {employee}")))
                .await
                .unwrap();
        feeds.push(ws);
    }
    let refused = tokio_tungstenite::connect_async(ws_request(addr, "authorization", &format!("Bearer {employee}")))
        .await
        .expect_err("a ninth feed");
    match refused {
        tokio_tungstenite::tungstenite::Error::Http(r) => assert_eq!(r.status().as_u16(), 429),
        other => panic!("expected 429, got {other:?}"),
    }
    drop(feeds);
    // The stranger stays connected: shutdown closes the feed instead of waiting for the client.
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(20), server)
        .await
        .expect("the server stops while a feed is open")
        .unwrap()
        .unwrap();
    drop(stranger_ws);
}
