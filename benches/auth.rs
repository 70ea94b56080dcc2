//! The cost of the session gate on an authenticated request (issue 10, item 6: "measure the cost on the
//! authenticated echo and keep it under 5%").
//!
//! Two in-process axum routers over the same in-memory engine and keys, driven with `oneshot` (no
//! sockets, so the difference is not drowned in network time), each with one `POST /echo` route that
//! authenticates the bearer token and returns the JSON body:
//! - `auth/echo/jwt_only`: the handler verifies the access token (HS256 signature, expiry, claims) and
//!   nothing else: the authentication the server did before the gate;
//! - `auth/echo/with_session_gate`: the handler takes tts-http's `Caller` extractor, which verifies the
//!   token the same way and then asks the engine whether the token's session has ended.
//!
//! Plus the two parts alone: `auth/jwt_verify` and `auth/session_gate` (a warm lookup). The gate polls the
//! store once per second at most; over a measurement of several seconds that poll is included.
//!
//! `cargo bench -p tts-benches --bench auth`

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Request};
use axum::routing::post;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::Value;
use std::time::Duration;
use tokio::runtime::Runtime;
use tower::ServiceExt;
use tts_benches::auth_echo::{authenticated_router, signed_in};
use tts_http::AppState;
use tts_http::auth::TokenType;

const BODY: &str = r#"{"subject":"Login issue","description":"Cannot access system","category":"Technical Support","priority":"high"}"#;

async fn jwt_only(State(state): State<AppState>, headers: HeaderMap, body: axum::Json<Value>) -> axum::Json<Value> {
    let token = headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .expect("bearer");
    state.keys.verify(token, TokenType::Access).expect("a valid token");
    body
}

fn request(token: &str) -> Request<Body> {
    Request::post("/echo")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(BODY))
        .expect("request")
}

fn bench(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let s = rt.block_on(signed_in());
    let plain = Router::new().route("/echo", post(jwt_only)).with_state(s.state.clone());
    let gated = authenticated_router(&s);
    let mut group = c.benchmark_group("auth");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("jwt_verify", |b| {
        b.iter(|| s.state.keys.verify(&s.token, TokenType::Access).expect("valid"));
    });
    group.bench_function("session_gate", |b| {
        b.to_async(&rt)
            .iter(|| async { assert!(!s.state.engine.session_ended(s.sid).await.expect("gate")) });
    });
    group.bench_function("echo/jwt_only", |b| {
        b.to_async(&rt).iter(|| async {
            let r = plain.clone().oneshot(request(&s.token)).await.expect("response");
            assert!(r.status().is_success());
        });
    });
    group.bench_function("echo/with_session_gate", |b| {
        b.to_async(&rt).iter(|| async {
            let r = gated.clone().oneshot(request(&s.token)).await.expect("response");
            assert!(r.status().is_success());
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
