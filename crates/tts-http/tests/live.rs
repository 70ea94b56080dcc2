//! The live feed over a real port: users get the events of tickets they may see and their own
//! notifications, nothing else; the feed needs a valid access token.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tts_http::server::{Durability, open_backends, serve_on};
use tts_http::{HttpConfig, RateLimits};

const PASSWORD: &str = "live-pass-123";

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

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

async fn next_event(ws: &mut Socket) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("an event within 20 s")
            .expect("open socket")
            .expect("frame");
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).unwrap();
        }
    }
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
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws/?token=forged"))
            .await
            .is_err()
    );

    let employee = login(&client, &base, "employee@demo.tts.example").await;
    let admin = login(&client, &base, "admin@demo.tts.example").await;
    let stranger = login(&client, &base, "budget.manager@demo.tts.example").await;
    let (mut employee_ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/?token={employee}"))
        .await
        .unwrap();
    let mut req =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!("ws://{addr}/ws/"))
            .unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {admin}").parse().unwrap());
    let (mut admin_ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let (mut stranger_ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/?token={stranger}"))
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

    employee_ws.send(Message::Close(None)).await.unwrap();
    drop(admin_ws);
    // The stranger stays connected: shutdown closes the feed instead of waiting for the client.
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(20), server)
        .await
        .expect("the server stops while a feed is open")
        .unwrap()
        .unwrap();
    drop(stranger_ws);
}
