//! Authentication: login, refresh rotation with reuse detection, logout, deactivation, the JWT misuse
//! suite, and rate limits.

mod common;

use axum::body::Body;
use axum::http::{Method, Request};
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::time::Duration;
use tts_http::{Limit, RateLimits};

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    let bytes = base64_url_decode(payload);
    serde_json::from_slice(&bytes).expect("claims json")
}

fn base64_url_decode(s: &str) -> Vec<u8> {
    let table = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'-' => 62,
            _ => 63,
        }
    };
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0);
    for c in s.bytes() {
        buf = (buf << 6) | table(c);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

fn base64_url_encode(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

fn sign(claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(key)).expect("sign")
}

#[tokio::test]
async fn login_returns_the_seed_shape_and_claims() {
    let api = Api::new().await;
    let pair = api.login_pair(ADMIN).await;
    for k in ["access", "refresh", "user"] {
        assert!(pair.get(k).is_some(), "missing {k}");
    }
    assert_eq!(pair["user"]["email"], ADMIN);
    assert!(
        pair["user"]["roles"]
            .as_array()
            .unwrap()
            .contains(&json!({"system": "tts", "role": "Admin"}))
    );
    let c = claims_of(pair["access"].as_str().unwrap());
    for k in [
        "sub",
        "user_id",
        "email",
        "username",
        "full_name",
        "roles",
        "token_type",
        "exp",
        "iat",
        "jti",
    ] {
        assert!(c.get(k).is_some(), "claim {k} missing in {c}");
    }
    assert_eq!(c["token_type"], "access");
    assert_eq!(claims_of(pair["refresh"].as_str().unwrap())["token_type"], "refresh");
    // Wrong password and unknown user look the same.
    let wrong = api
        .call(
            Method::POST,
            "/api/v1/users/token/",
            None,
            Some(json!({"username": ADMIN, "password": "nope-nope"})),
        )
        .await
        .expect(401);
    let unknown = api
        .call(
            Method::POST,
            "/api/v1/users/token/",
            None,
            Some(json!({"username": "ghost@example.com", "password": "nope-nope"})),
        )
        .await
        .expect(401);
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);
    assert!(wrong.headers.contains_key("www-authenticate"));
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_revokes_the_family() {
    let api = Api::new().await;
    let pair = api.login_pair(EMPLOYEE).await;
    let first = pair["refresh"].as_str().unwrap().to_string();
    let refresh = |token: String| {
        let api = &api;
        async move {
            api.call(
                Method::POST,
                "/api/v1/users/token/refresh/",
                None,
                Some(json!({"refresh": token})),
            )
            .await
        }
    };
    let rotated = refresh(first.clone()).await.expect(200).body;
    let second = rotated["refresh"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    api.get("/api/v1/users/profile/", rotated["access"].as_str().unwrap())
        .await
        .expect(200);
    // The spent token is refused, and the family with it: the newest token dies too.
    refresh(first).await.expect(401);
    refresh(second).await.expect(401);
    // An access token is never a refresh token.
    refresh(pair["access"].as_str().unwrap().into()).await.expect(401);
}

#[tokio::test]
async fn logout_and_deactivation_end_sessions() {
    let api = Api::new().await;
    let admin = api.login(ADMIN).await;
    let pair = api.login_pair(EMPLOYEE).await;
    let access = pair["access"].as_str().unwrap();
    api.get("/api/v1/users/profile/", access).await.expect(200);
    api.call(Method::POST, "/api/v1/users/logout/", Some(access), None)
        .await
        .expect(204);
    // The access token stops at once, not when it expires.
    let r = api.get("/api/v1/users/profile/", access).await.expect(401);
    assert!(
        r.body["detail"].as_str().unwrap().contains("session has ended"),
        "{}",
        r.body
    );
    api.call(
        Method::POST,
        "/api/v1/users/token/refresh/",
        None,
        Some(json!({"refresh": pair["refresh"]})),
    )
    .await
    .expect(401);

    let pair = api.login_pair(EMPLOYEE).await;
    let id = pair["user"]["id"].as_str().unwrap();
    api.call(
        Method::PATCH,
        &format!("/api/v1/users/{id}/"),
        Some(&admin),
        Some(json!({"is_active": false})),
    )
    .await
    .expect(200);
    api.get("/api/v1/users/profile/", pair["access"].as_str().unwrap())
        .await
        .expect(401);
    api.call(
        Method::POST,
        "/api/v1/users/token/refresh/",
        None,
        Some(json!({"refresh": pair["refresh"]})),
    )
    .await
    .expect(401);
    api.call(
        Method::POST,
        "/api/v1/users/token/",
        None,
        Some(json!({"username": EMPLOYEE, "password": PASSWORD})),
    )
    .await
    .expect(401);
}

#[tokio::test]
async fn a_password_change_or_a_role_change_stops_the_other_tokens_at_once() {
    let api = Api::new().await;
    let admin = api.login(ADMIN).await;
    let (phone, laptop) = (api.login(IT1).await, api.login(IT1).await);
    api.call(
        Method::PATCH,
        "/api/v1/users/profile/",
        Some(&laptop),
        Some(json!({"password": "new-pass-456", "current_password": PASSWORD})),
    )
    .await
    .expect(200);
    api.get("/api/v1/users/profile/", &phone).await.expect(401);
    api.get("/api/v1/users/profile/", &laptop).await.expect(200);
    // A role change: the member's tokens carry their roles, so they stop and a new login has the new ones.
    let me = api.get("/api/v1/users/profile/", &laptop).await.expect(200).body;
    let roles = api
        .get("/api/v1/tts/roles/?page_size=100", &admin)
        .await
        .expect(200)
        .body;
    let role = roles["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "Admin")
        .expect("admin role")["id"]
        .clone();
    let path = format!(
        "/api/v1/tts/roles/{}/users/{}/",
        role.as_str().unwrap(),
        me["id"].as_str().unwrap()
    );
    api.call(Method::PUT, &path, Some(&admin), None).await.expect(200);
    api.get("/api/v1/users/profile/", &laptop).await.expect(401);
    let pair = api
        .call(
            Method::POST,
            "/api/v1/users/token/",
            None,
            Some(json!({"username": IT1, "password": "new-pass-456"})),
        )
        .await
        .expect(200)
        .body;
    assert!(
        claims_of(pair["access"].as_str().unwrap())["roles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["role"] == "Admin")
    );
}

#[tokio::test]
async fn without_rotation_the_refresh_token_keeps_working_and_answers_access_only() {
    let api = Api::with(|c| {
        c.rate_limits = RateLimits::disabled();
        c.refresh_rotation = false;
    })
    .await;
    let pair = api.login_pair(EMPLOYEE).await;
    for _ in 0..3 {
        let r = api
            .call(
                Method::POST,
                "/api/v1/users/token/refresh/",
                None,
                Some(json!({"refresh": pair["refresh"]})),
            )
            .await
            .expect(200)
            .body;
        assert!(r["access"].is_string());
        assert!(
            r.get("refresh").is_none(),
            "the seed's answer is {{\"access\"}} only: {r}"
        );
        api.get("/api/v1/users/profile/", r["access"].as_str().unwrap())
            .await
            .expect(200);
    }
}

#[tokio::test]
async fn failed_logins_throttle_the_guessing_client_not_the_owner() {
    let api = Api::new().await;
    let login = |peer: &'static str, password: &'static str| {
        let mut req = axum::http::Request::builder()
            .method(Method::POST)
            .uri("/api/v1/users/token/")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(
                json!({"username": EMPLOYEE, "password": password}).to_string(),
            ))
            .unwrap();
        req.extensions_mut().insert(axum::extract::ConnectInfo(
            peer.parse::<std::net::SocketAddr>().unwrap(),
        ));
        api.send(req)
    };
    let free = tts_core::ThrottlePolicy::default().free_failures;
    for _ in 0..=free {
        login("203.0.113.7:5000", "a wrong guess").await.expect(401);
    }
    let r = login("203.0.113.7:5001", PASSWORD).await.expect(429);
    assert!(r.headers.get("retry-after").is_some(), "{:?}", r.headers);
    // The owner, logging in from their own address, is not affected.
    login("198.51.100.20:7000", PASSWORD).await.expect(200);
}

#[tokio::test]
async fn profile_password_change_needs_the_current_password() {
    let api = Api::new().await;
    let token = api.login(EMPLOYEE).await;
    let r = api
        .call(
            Method::PATCH,
            "/api/v1/users/profile/",
            Some(&token),
            Some(json!({"password": "new-pass-456"})),
        )
        .await
        .expect(422);
    assert!(r.body["fields"]["current_password"].is_array());
    api.call(
        Method::PATCH,
        "/api/v1/users/profile/",
        Some(&token),
        Some(json!({"password": "new-pass-456", "current_password": PASSWORD, "full_name": "Renamed"})),
    )
    .await
    .expect(200);
    api.call(
        Method::POST,
        "/api/v1/users/token/",
        None,
        Some(json!({"username": EMPLOYEE, "password": "new-pass-456"})),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn jwt_misuse_is_always_401() {
    let api = Api::new().await;
    let pair = api.login_pair(ADMIN).await;
    let good = pair["access"].as_str().unwrap().to_string();
    let claims = claims_of(&good);
    let now = chrono::Utc::now().timestamp();

    let mut expired = claims.clone();
    expired["exp"] = json!(now - 3600);
    expired["iat"] = json!(now - 7200);
    let mut no_sub = claims.clone();
    no_sub.as_object_mut().unwrap().remove("sub");
    let mut no_exp = claims.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    let mut no_type = claims.clone();
    no_type.as_object_mut().unwrap().remove("token_type");
    let mut other_sub = claims.clone();
    other_sub["sub"] = json!(uuid::Uuid::new_v4().to_string());
    let header_none = base64_url_encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = base64_url_encode(claims.to_string().as_bytes());
    let parts: Vec<&str> = good.split('.').collect();
    let mut elevated = claims.clone();
    elevated["roles"] = json!([{"system": "tts", "role": "Admin"}, {"system": "tts", "role": "Root"}]);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        base64_url_encode(elevated.to_string().as_bytes()),
        parts[2]
    );
    let hs512 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS512),
        &claims,
        &EncodingKey::from_secret(SECRET),
    )
    .expect("hs512");

    let cases: Vec<(&str, String)> = vec![
        ("alg none", format!("{header_none}.{body}.")),
        ("wrong key", sign(&claims, b"another-secret-another-secret-!!")),
        ("expired", sign(&expired, SECRET)),
        ("tampered payload", tampered),
        ("refresh as access", pair["refresh"].as_str().unwrap().into()),
        ("missing sub", sign(&no_sub, SECRET)),
        ("missing exp", sign(&no_exp, SECRET)),
        ("missing token_type", sign(&no_type, SECRET)),
        ("sub and user_id disagree", sign(&other_sub, SECRET)),
        ("other algorithm", hs512),
        ("garbage", "not.a.jwt".into()),
        ("empty", String::new()),
    ];
    for (why, token) in cases {
        let req = Request::builder()
            .uri("/api/v1/users/profile/")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let r = api.send(req).await;
        assert_eq!(r.status.as_u16(), 401, "{why}: {}", r.body);
        assert_eq!(r.headers["www-authenticate"], "Bearer", "{why}");
        assert!(r.body["detail"].is_string(), "{why}: error body");
    }
    for header in ["Basic YWRtaW46YWRtaW4=", "Bearer", "Token abc"] {
        let req = Request::builder()
            .uri("/tickets/")
            .header("authorization", header)
            .body(Body::empty())
            .unwrap();
        assert_eq!(api.send(req).await.status.as_u16(), 401, "{header}");
    }
    api.call(Method::GET, "/tickets/", None, None).await.expect(401);
    // The good token still works.
    api.get("/api/v1/users/profile/", &good).await.expect(200);
}

#[tokio::test]
async fn rate_limits_answer_429_with_headers() {
    let api = Api::with(|c| {
        c.rate_limits = RateLimits {
            enabled: true,
            token: Limit {
                requests: 2,
                window: Duration::from_secs(60),
            },
            create_ticket: Limit {
                requests: 1,
                window: Duration::from_secs(3600),
            },
            default: Limit::per_minute(1000),
        };
    })
    .await;
    let employee = api.login(EMPLOYEE).await;
    let admin = api.login(ADMIN).await;
    let third = api
        .call(
            Method::POST,
            "/api/v1/users/token/",
            None,
            Some(json!({"username": EMPLOYEE, "password": PASSWORD})),
        )
        .await
        .expect(429);
    assert_eq!(third.body["code"], "throttled");
    let retry: u64 = third.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(third.headers["x-ratelimit-limit"], "2");
    assert_eq!(third.headers["x-ratelimit-remaining"], "0");

    let body = json!({"subject": "s", "category": "c"});
    let ok = api.post("/tickets/", &employee, body.clone()).await.expect(201);
    assert_eq!(ok.headers["x-ratelimit-remaining"], "0");
    api.post("/tickets/", &employee, body.clone()).await.expect(429);
    // Per user: another user still may.
    api.post("/tickets/", &admin, body).await.expect(201);
    // Other endpoints count separately.
    api.get("/tickets/", &employee).await.expect(200);
    // Probes are never limited.
    for _ in 0..5 {
        api.call(Method::GET, "/healthz", None, None).await.expect(200);
    }
}
