//! The web UI's live feed over a real port: `GET /ui/live` opens with the session cookie from the UI's
//! own origin and carries the events of tickets the user may see (a comment, a step move), which the
//! ticket page's markers let the script match; another origin or none gets 403, no session 401 JSON
//! (not the sign-in redirect); signing out closes the open feed with 4003; the handshake counts against
//! the session user's rate limit and is refused as JSON.

#![cfg(feature = "ui")]

use futures_util::StreamExt;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tts_http::server::{Durability, open_backends, serve_on};
use tts_http::{HttpConfig, Limit, RateLimits};

mod feed;

use feed::{Socket, next_event};

const PASSWORD: &str = "ui-live-pass-123";
const EMPLOYEE: &str = "employee@demo.tts.example";
const ADMIN: &str = "admin@demo.tts.example";
const STRANGER: &str = "budget.manager@demo.tts.example";

/// A server on a real port with the demo data, its workers running.
struct Server {
    addr: SocketAddr,
    client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(limits: RateLimits) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let backends = open_backends(&format!("sqlite://{}/tts.db", dir.path().display()), Durability::Normal)
            .await
            .unwrap();
        tts_http::demo::seed(&backends.engine, PASSWORD).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut http = HttpConfig::new(vec![7u8; 32]);
        http.rate_limits = limits;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve_on(backends, http, listener, true, async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Server {
            addr,
            client,
            stop: Some(stop),
            task,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The origin the UI's pages have.
    fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Signs in through the form; the session cookie (`tts_session=...`).
    async fn sign_in(&self, email: &str) -> String {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("email", email), ("password", PASSWORD)])
            .finish();
        let r = self
            .client
            .post(self.url("/ui/signin"))
            .header("origin", self.origin())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303);
        let set = r.headers()["set-cookie"].to_str().unwrap();
        let pair = set.split(';').next().unwrap().to_string();
        assert!(pair.starts_with("tts_session=") && pair.len() > 20, "{set}");
        pair
    }

    /// A page as text, with the session cookie.
    async fn page(&self, path: &str, cookie: &str) -> (u16, String) {
        let r = self
            .client
            .get(self.url(path))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// An access token for the REST API.
    async fn token(&self, email: &str) -> String {
        let r: Value = self
            .client
            .post(self.url("/api/v1/users/token/"))
            .json(&json!({"username": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["access"].as_str().unwrap().to_string()
    }

    async fn post_json(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// The handshake for `/ui/live` with an optional `Origin` and session cookie.
    fn handshake(&self, origin: Option<&str>, cookie: Option<&str>) -> Request {
        let mut req = format!("ws://{}/ui/live", self.addr).into_client_request().unwrap();
        if let Some(o) = origin {
            req.headers_mut().insert("origin", o.parse().unwrap());
        }
        if let Some(c) = cookie {
            req.headers_mut().insert("cookie", c.parse().unwrap());
        }
        req
    }

    /// Opens the UI's feed as a page of this site with `cookie`.
    async fn feed(&self, cookie: &str) -> Socket {
        let (ws, answer) = tokio_tungstenite::connect_async(self.handshake(Some(&self.origin()), Some(cookie)))
            .await
            .expect("the feed opens");
        assert_eq!(answer.status().as_u16(), 101);
        ws
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(20), &mut self.task)
            .await
            .expect("the server stops")
            .unwrap()
            .unwrap();
    }
}

/// The status and body of a refused handshake.
async fn refused(request: Request) -> (u16, Option<String>, Value) {
    match tokio_tungstenite::connect_async(request).await {
        Err(WsError::Http(r)) => {
            let ctype = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = r
                .body()
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(Value::Null);
            (r.status().as_u16(), ctype, body)
        }
        Err(other) => panic!("expected an HTTP refusal, got {other:?}"),
        Ok(_) => panic!("the handshake was accepted"),
    }
}

/// The next event whose `type` is one of `types` (others are skipped).
async fn next_of(ws: &mut Socket, types: &[&str]) -> Value {
    loop {
        let e = next_event(ws).await;
        if types.iter().any(|t| e["type"] == *t) {
            return e;
        }
    }
}

/// The close code the feed ends with, within `within`.
async fn close_code(ws: &mut Socket, within: Duration) -> u16 {
    loop {
        let frame = tokio::time::timeout(within, ws.next())
            .await
            .expect("closed in time")
            .expect("a close frame")
            .expect("frame");
        if let Message::Close(Some(close)) = frame {
            return u16::from(close.code);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cookie_opens_a_feed_with_the_events_of_visible_tickets() {
    let server = Server::start(RateLimits::disabled()).await;
    let cookie = server.sign_in(EMPLOYEE).await;
    let stranger_cookie = server.sign_in(STRANGER).await;
    let mut ws = server.feed(&cookie).await;
    let mut stranger_ws = server.feed(&stranger_cookie).await;
    let employee = server.token(EMPLOYEE).await;
    let admin = server.token(ADMIN).await;

    let (status, ticket) = server
        .post_json(
            "/tickets/",
            &employee,
            json!({"subject": "Live on the page", "category": "Technical Support"}),
        )
        .await;
    assert_eq!(status, 201, "{ticket}");
    let id = ticket["id"].as_i64().unwrap();
    let number = ticket["ticket_id"].as_str().unwrap().to_string();
    let created = next_of(&mut ws, &["ticket.created"]).await;
    assert_eq!(created["ticket"], id, "{created}");
    // Allocation (the server's workers) assigns the triage step; the requester's feed is told.
    let assigned = next_of(&mut ws, &["task.assigned"]).await;
    assert_eq!(assigned["ticket"], id, "{assigned}");
    let task = assigned["task"].as_str().unwrap().to_string();

    // The page carries what the script matches events with, and the regions it replaces.
    let (status, page) = server.page(&format!("/ui/tickets/{number}/"), &cookie).await;
    assert_eq!(status, 200, "{page}");
    for marker in [
        "data-live=\"/ui/live\"".to_string(),
        format!("data-live-ticket=\"{id}\""),
        format!("data-live-number=\"{number}\""),
        format!("data-live-task=\"{task}\""),
    ] {
        assert!(page.contains(&marker), "{marker} missing: {page}");
    }
    for region in [
        "ticket-title",
        "ticket-fields",
        "ticket-workflow",
        "ticket-actions",
        "ticket-files",
        "comment-list",
        "ticket-history",
    ] {
        assert!(
            page.contains(&format!("id=\"{region}\"")),
            "region {region} missing: {page}"
        );
    }
    assert!(
        !page[page.find("id=\"comment-list\"").unwrap()..]
            .split("</div>")
            .next()
            .unwrap()
            .contains("<form"),
        "the comment form stays outside the replaced list"
    );

    // Another user comments: an internal note stays off the requester's feed, the public comment
    // arrives with the ticket's id.
    for (content, internal) in [("staff only words", true), ("public words", false)] {
        let (status, body) = server
            .post_json(
                &format!("/tickets/{id}/comments/"),
                &admin,
                json!({"content": content, "is_internal": internal}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let comment = next_of(&mut ws, &["comment.added"]).await;
    assert_eq!(comment["ticket"], id, "{comment}");
    assert_eq!(comment["is_internal"], false, "the note was skipped: {comment}");

    // Another user acts on the task: the step move reaches the requester's feed.
    let actions: Value = server
        .client
        .get(server.url(&format!("/tasks/{task}/available-actions/")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let action = actions["actions"][0]["action_id"].clone();
    assert!(action.is_string(), "{actions}");
    let (status, body) = server
        .post_json(
            &format!("/tasks/{task}/action/"),
            &admin,
            json!({"action_id": action, "comment": "moving on"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let moved = next_of(&mut ws, &["task.transitioned", "task.completed"]).await;
    assert_eq!(moved["ticket"], id, "{moved}");
    assert_eq!(moved["task"], task.as_str(), "{moved}");

    // The stranger's feed carried none of it: the first event it gets is about their own ticket.
    let stranger = server.token(STRANGER).await;
    let (status, own) = server
        .post_json(
            "/tickets/",
            &stranger,
            json!({"subject": "Mine", "category": "Technical Support"}),
        )
        .await;
    assert_eq!(status, 201, "{own}");
    let first = next_event(&mut stranger_ws).await;
    assert_eq!(first["ticket"], own["id"], "{first}");
    drop((ws, stranger_ws));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handshake_needs_this_site_s_origin_and_a_live_session() {
    let server = Server::start(RateLimits::disabled()).await;
    let cookie = server.sign_in(EMPLOYEE).await;
    let own = server.origin();

    // Cross-site WebSocket hijacking: another site's page would send the cookie along.
    let other_port = format!("http://127.0.0.1:{}", server.addr.port().wrapping_add(1));
    for origin in [
        Some("https://evil.example"),
        Some("null"),
        Some(other_port.as_str()),
        None,
    ] {
        let (status, ctype, body) = refused(server.handshake(origin, Some(&cookie))).await;
        assert_eq!(status, 403, "origin {origin:?}: {body}");
        assert_eq!(body["code"], "forbidden", "a JSON error: {ctype:?} {body}");
    }

    // No session, a forged one: 401 JSON, not the sign-in redirect a page gets.
    for cookie in [None, Some("tts_session=forged.token.here")] {
        let (status, ctype, body) = refused(server.handshake(Some(&own), cookie)).await;
        assert_eq!(status, 401, "{body}");
        assert!(ctype.is_some_and(|c| c.starts_with("application/json")));
        assert_eq!(body["code"], "not_authenticated", "{body}");
    }
    let r = server
        .client
        .get(server.url("/ui"))
        .header("cookie", "tts_session=forged.token.here")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), r.headers()["location"].to_str().unwrap()),
        (303, "/ui/signin"),
        "a page still redirects to sign in"
    );

    // A bearer token is not a session: the UI's feed takes the cookie only.
    let token = server.token(EMPLOYEE).await;
    let mut req = server.handshake(Some(&own), None);
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    assert_eq!(refused(req).await.0, 401);

    // With both, from this site's origin, it opens (and a plain GET is not an upgrade: 400).
    let ws = server.feed(&cookie).await;
    let r = server
        .client
        .get(server.url("/ui/live"))
        .header("origin", &own)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    drop(ws);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_closes_the_open_feed_with_4003() {
    let server = Server::start(RateLimits::disabled()).await;
    let cookie = server.sign_in(EMPLOYEE).await;
    let other_session = server.sign_in(EMPLOYEE).await;
    let mut ws = server.feed(&cookie).await;
    let mut other_ws = server.feed(&other_session).await;

    let (_, page) = server.page("/ui", &cookie).await;
    let at = page.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    let csrf = &page[at..at + 64];
    let r = server
        .client
        .post(server.url("/ui/signout"))
        .header("origin", server.origin())
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let started = std::time::Instant::now();
    assert_eq!(close_code(&mut ws, Duration::from_secs(5)).await, 4003);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "closed after {:?}",
        started.elapsed()
    );
    // The ended session cannot open another feed; the user's other session keeps its feed.
    assert_eq!(
        refused(server.handshake(Some(&server.origin()), Some(&cookie))).await.0,
        401
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), other_ws.next())
            .await
            .is_err(),
        "the other session's feed stays open and quiet"
    );
    drop(other_ws);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handshake_counts_against_the_session_user_s_limit_and_is_refused_as_json() {
    let server = Server::start(RateLimits {
        default: Limit::per_minute(3),
        ..RateLimits::default()
    })
    .await;
    let cookie = server.sign_in(EMPLOYEE).await;
    let admin_cookie = server.sign_in(ADMIN).await;
    let mut feeds = Vec::new();
    for _ in 0..3 {
        feeds.push(server.feed(&cookie).await);
    }
    let request = server.handshake(Some(&server.origin()), Some(&cookie));
    let (status, ctype, body) = refused(request).await;
    assert_eq!(status, 429, "{body}");
    assert!(
        ctype.as_deref().is_some_and(|c| c.starts_with("application/json")),
        "a script reads it: JSON, not a page ({ctype:?})"
    );
    assert_eq!(body["code"], "throttled", "{body}");
    // Keyed by the session's user: their pages share the budget, another user's feed does not.
    let (status, page) = server.page("/ui", &cookie).await;
    assert_eq!(status, 429);
    assert!(page.starts_with("<!doctype html>"), "a page gets a page: {page}");
    feeds.push(server.feed(&admin_cookie).await);
    drop(feeds);
    server.stop().await;
}
