//! The HTTP side of hardening: client addresses behind (only trusted) proxies and IPv6 /64 keys, rate
//! limits keyed by them, 503s that never carry backend text, the timeout's JSON answer, and absolute
//! `next` / `previous` links from the public URL, the `Host` header or trusted forwarding headers.

mod common;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request};
use axum::response::IntoResponse;
use common::*;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;
use tts_http::client::{TrustedProxies, client_key};
use tts_http::{ApiError, Limit, RateLimits};

fn xff(chain: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-forwarded-for", chain.parse().unwrap());
    h
}

fn peer(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

#[test]
fn forwarded_for_is_ignored_from_untrusted_peers() {
    let none = TrustedProxies::none();
    assert_eq!(
        client_key(peer("203.0.113.9:5000"), &xff("1.1.1.1"), &none),
        "203.0.113.9"
    );
    let trusted: TrustedProxies = "10.0.0.0/8".parse().unwrap();
    // A client that is not a trusted proxy cannot pick its key by sending the header itself.
    assert_eq!(
        client_key(peer("203.0.113.9:5000"), &xff("1.1.1.1, 10.0.0.1"), &trusted),
        "203.0.113.9"
    );
}

#[test]
fn trusted_chains_give_the_right_most_untrusted_hop() {
    let trusted: TrustedProxies = "10.0.0.0/8, 192.0.2.7".parse().unwrap();
    let via = peer("10.0.0.5:443");
    assert_eq!(client_key(via, &xff("198.51.100.4"), &trusted), "198.51.100.4");
    // Left of the real client the chain is whatever the client sent: never believed.
    assert_eq!(
        client_key(via, &xff("6.6.6.6, 198.51.100.4, 192.0.2.7"), &trusted),
        "198.51.100.4"
    );
    // Several headers form one chain, in order.
    let mut h = xff("6.6.6.6");
    h.append("x-forwarded-for", "198.51.100.4, 10.1.1.1".parse().unwrap());
    assert_eq!(client_key(via, &h, &trusted), "198.51.100.4");
    // Every hop trusted: the left-most; no header: the peer itself; junk: the last trusted hop.
    assert_eq!(client_key(via, &xff("10.9.9.9, 10.0.0.1"), &trusted), "10.9.9.9");
    assert_eq!(client_key(via, &HeaderMap::new(), &trusted), "10.0.0.5");
    assert_eq!(client_key(via, &xff("nonsense, 10.0.0.1"), &trusted), "10.0.0.1");
    // Ports are allowed on hops; IPv4-mapped peers count as IPv4.
    assert_eq!(client_key(via, &xff("198.51.100.4:1234"), &trusted), "198.51.100.4");
    assert_eq!(
        client_key(peer("[::ffff:10.0.0.5]:443"), &xff("198.51.100.4"), &trusted),
        "198.51.100.4"
    );
}

#[test]
fn ipv6_clients_are_keyed_by_their_64() {
    let none = TrustedProxies::none();
    let a = client_key(peer("[2001:db8:1:2:aaaa::1]:80"), &HeaderMap::new(), &none);
    let b = client_key(peer("[2001:db8:1:2:ffff:1:2:3]:80"), &HeaderMap::new(), &none);
    let c = client_key(peer("[2001:db8:1:3::1]:80"), &HeaderMap::new(), &none);
    assert_eq!(a, "2001:db8:1:2::/64");
    assert_eq!(a, b, "one /64, one key");
    assert_ne!(a, c);
    let trusted: TrustedProxies = "::1".parse().unwrap();
    assert_eq!(
        client_key(peer("[::1]:80"), &xff("2001:db8:1:2:aaaa::1"), &trusted),
        "2001:db8:1:2::/64"
    );
}

async fn token_request(api: &Api, from: &str, forwarded: Option<&str>) -> Reply {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/users/token/")
        .header("content-type", "application/json");
    if let Some(f) = forwarded {
        req = req.header("x-forwarded-for", f);
    }
    let mut req = req
        .body(Body::from(
            json!({"username": EMPLOYEE, "password": PASSWORD}).to_string(),
        ))
        .unwrap();
    req.extensions_mut().insert(ConnectInfo(peer(from)));
    api.send(req).await
}

#[tokio::test]
async fn the_token_limit_counts_clients_not_proxies_nor_forged_headers() {
    let api = Api::with(|c| {
        c.rate_limits = RateLimits {
            token: Limit::per_minute(1),
            ..RateLimits::default()
        };
        c.trusted_proxies = "127.0.0.1".parse().unwrap();
    })
    .await;
    // Behind the trusted proxy, each client has its own budget.
    token_request(&api, "127.0.0.1:1000", Some("198.51.100.1"))
        .await
        .expect(200);
    let r = token_request(&api, "127.0.0.1:1001", Some("198.51.100.1"))
        .await
        .expect(429);
    assert!(r.headers.contains_key("retry-after"));
    token_request(&api, "127.0.0.1:1002", Some("198.51.100.2"))
        .await
        .expect(200);
    // A direct client cannot escape by forging X-Forwarded-For.
    token_request(&api, "203.0.113.5:1", Some("1.1.1.1")).await.expect(200);
    token_request(&api, "203.0.113.5:2", Some("2.2.2.2")).await.expect(429);
    // Nor by hopping addresses inside its IPv6 /64.
    token_request(&api, "[2001:db8::1]:1", None).await.expect(200);
    token_request(&api, "[2001:db8::2]:1", None).await.expect(429);
    token_request(&api, "[2001:db8:0:1::1]:1", None).await.expect(200);
}

async fn body_json(response: axum::response::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn unavailable_answers_never_carry_backend_text() {
    let secret = "connecting to db.internal:5432 as tts with password hunter2: connection refused";
    let e = ApiError::Core(tts_core::Error::Backend {
        backend: "postgres",
        kind: tts_core::ErrorKind::Unavailable,
        message: secret.into(),
    });
    let (status, body) = body_json(e.into_response()).await;
    assert_eq!(status, 503);
    assert_eq!(body["code"], "unavailable");
    assert_eq!(body["detail"], tts_http::error::UNAVAILABLE_DETAIL);
    let text = body.to_string();
    assert!(!text.contains("hunter2") && !text.contains("db.internal"), "{text}");
}

#[tokio::test]
async fn a_request_over_the_timeout_gets_the_json_503() {
    let api = Api::with(|c| {
        c.rate_limits = RateLimits::disabled();
        c.request_timeout = Duration::from_millis(200);
    })
    .await;
    let t = api.login(EMPLOYEE).await;
    // A body that never arrives keeps the handler waiting.
    let stalled = futures_util::stream::pending::<Result<Bytes, std::io::Error>>();
    let req = Request::builder()
        .method(Method::POST)
        .uri("/tickets/")
        .header("authorization", format!("Bearer {t}"))
        .header("content-type", "application/json")
        .body(Body::from_stream(stalled))
        .unwrap();
    let res = tokio::time::timeout(Duration::from_secs(10), api.app.clone().oneshot_req(req))
        .await
        .expect("answered in time");
    assert_eq!(res.headers()["content-type"], "application/json");
    let (status, body) = body_json(res).await;
    assert_eq!(status, 503);
    assert_eq!(body["code"], "timeout", "{body}");
}

trait Oneshot {
    async fn oneshot_req(self, req: Request<Body>) -> axum::response::Response;
}

impl Oneshot for axum::Router {
    async fn oneshot_req(self, req: Request<Body>) -> axum::response::Response {
        use tower::ServiceExt;
        self.oneshot(req).await.unwrap()
    }
}

async fn list_with(api: &Api, token: &str, from: &str, headers: &[(&str, &str)]) -> Value {
    let mut req = Request::builder()
        .method(Method::GET)
        .uri("/api/v1/tts/roles/?page_size=1&x=%C3%A9")
        .header("authorization", format!("Bearer {token}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut req = req.body(Body::empty()).unwrap();
    req.extensions_mut().insert(ConnectInfo(peer(from)));
    api.send(req).await.expect(200).body
}

#[tokio::test]
async fn links_are_absolute_from_the_host_or_trusted_forwarding() {
    let api = Api::with(|c| {
        c.rate_limits = RateLimits::disabled();
        c.trusted_proxies = "10.0.0.0/8".parse().unwrap();
    })
    .await;
    let t = api.login(ADMIN).await;
    let forwarded = [
        ("host", "internal:8000"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "tts.example.com"),
    ];
    let direct = list_with(&api, &t, "203.0.113.5:1", &forwarded).await;
    let next = direct["next"].as_str().unwrap();
    assert!(next.starts_with("http://internal:8000/api/v1/tts/roles/?"), "{next}");
    assert!(
        next.contains("page_size=1") && next.contains("page=2") && next.contains("x=%C3%A9"),
        "{next}"
    );
    let proxied = list_with(&api, &t, "10.0.0.2:1", &forwarded).await;
    let next = proxied["next"].as_str().unwrap();
    assert!(next.starts_with("https://tts.example.com/api/v1/tts/roles/?"), "{next}");
    // The link leads to the next page.
    let second = api.get(path_of(next), &t).await.expect(200).body;
    assert!(second["previous"].as_str().unwrap().ends_with("page=1"), "{second}");
    assert_ne!(second["results"][0], proxied["results"][0]);
}

#[tokio::test]
async fn links_start_from_the_public_url_when_configured() {
    let api = Api::with(|c| {
        c.rate_limits = RateLimits::disabled();
        c.public_url = Some("https://tts.example.com/helpdesk/".into());
    })
    .await;
    let t = api.login(ADMIN).await;
    let page = list_with(&api, &t, "203.0.113.5:1", &[("host", "internal:8000")]).await;
    let next = page["next"].as_str().unwrap();
    assert!(
        next.starts_with("https://tts.example.com/helpdesk/api/v1/tts/roles/?"),
        "{next}"
    );
    let mut bad = tts_http::HttpConfig::new(SECRET.to_vec());
    for url in ["tts.example.com", "ftp://x", "https://x/?a=1"] {
        bad.public_url = Some(url.into());
        assert!(bad.validate().is_err(), "{url}");
    }
}

#[tokio::test]
async fn every_list_is_paginated_the_drf_way() {
    let api = Api::new().await;
    let admin = api.login(ADMIN).await;
    let employee = api.login(EMPLOYEE).await;
    let ticket = api.open_ticket(&employee, "Paged").await;
    let id = ticket["id"].as_i64().unwrap();
    let task = api.open_tasks(&admin).await.pop().unwrap();
    let role = api.get("/api/v1/tts/roles/", &admin).await.expect(200).body["results"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let workflow = api.get("/workflows/", &admin).await.expect(200).body["results"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for path in [
        "/tickets/".to_string(),
        "/tasks/".into(),
        "/notifications/".into(),
        "/api/v1/users/".into(),
        "/api/v1/tts/roles/".into(),
        format!("/api/v1/tts/roles/{role}/users/"),
        "/workflows/".into(),
        format!("/transitions/?workflow_id={workflow}"),
        format!("/tickets/{id}/history/"),
        format!("/tasks/{task}/history/"),
    ] {
        let body = api.get(&path, &admin).await.expect(200).body;
        let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["count", "next", "previous", "results"], "{path}: {body}");
        assert!(body["results"].is_array(), "{path}");
        let sep = if path.contains('?') { '&' } else { '?' };
        for bad in ["page=0", "page_size=0", "page_size=101"] {
            let r = api.get(&format!("{path}{sep}{bad}"), &admin).await.expect(400);
            let field = bad.split('=').next().unwrap();
            assert!(r.body["fields"][field].is_array(), "{path} {bad}: {}", r.body);
        }
    }
}

#[tokio::test]
async fn membership_put_works_with_and_without_a_body() {
    let api = Api::new().await;
    let admin = api.login(ADMIN).await;
    let roles = api.get("/api/v1/tts/roles/", &admin).await.expect(200).body;
    let role = roles["results"][0]["id"].as_str().unwrap();
    // Someone else than the admin: a role change ends the member's sessions.
    let me = api
        .get("/api/v1/users/profile/", &api.login(EMPLOYEE).await)
        .await
        .expect(200)
        .body;
    let user = me["id"].as_str().unwrap();
    let path = format!("/api/v1/tts/roles/{role}/users/{user}/");
    let m = api.call(Method::PUT, &path, Some(&admin), None).await.expect(200).body;
    assert_eq!(m["is_active"], true);
    let m = api
        .call(Method::PUT, &path, Some(&admin), Some(json!({"is_active": false})))
        .await
        .expect(200)
        .body;
    assert_eq!(m["is_active"], false);
    // And the document says the body is optional.
    let doc = serde_json::to_value(tts_http::openapi()).unwrap();
    let put = &doc["paths"]["/api/v1/tts/roles/{role_id}/users/{user_id}/"]["put"];
    assert_ne!(put["requestBody"]["required"], true, "{put}");
}
