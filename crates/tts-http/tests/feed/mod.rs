//! Reading a live feed in tests (`live.rs`, `ui_live.rs`): the socket type and its next JSON event.

#![allow(dead_code)]

use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// A client's WebSocket.
pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next JSON message, within 20 s.
pub async fn next_event(ws: &mut Socket) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("an event within 20 s")
            .expect("open socket")
            .expect("frame");
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).expect("a JSON event");
        }
    }
}
