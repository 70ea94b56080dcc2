//! Keyed rate limits (fixed windows per user or client address), answered with 429, `Retry-After` and
//! `X-RateLimit-*` headers. Counters live in this process: with several servers, each counts its own.

use crate::auth::caller::{Verified, verify_bearer};
use crate::config::{Limit, RateLimits};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;

const SHARDS: usize = 16;
const PRUNE_ABOVE: usize = 4096;

/// Which limit a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// The token endpoint, per client address.
    Token,
    /// `POST /tickets/`, per user.
    CreateTicket,
    /// Everything else, per user (per address when anonymous).
    Default,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    count: u32,
}

/// The verdict for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// The window's limit.
    pub limit: u32,
    /// Requests left in the window after this one.
    pub remaining: u32,
    /// Seconds until the window resets.
    pub reset_after: u64,
}

/// Fixed-window counters keyed by bucket and caller.
#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    hasher: RandomState,
    shards: Vec<Mutex<HashMap<(Bucket, String), Window>>>,
}

impl RateLimiter {
    /// A limiter enforcing `limits`.
    pub fn new(limits: RateLimits) -> Self {
        RateLimiter {
            limits,
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    fn limit_of(&self, bucket: Bucket) -> Limit {
        match bucket {
            Bucket::Token => self.limits.token,
            Bucket::CreateTicket => self.limits.create_ticket,
            Bucket::Default => self.limits.default,
        }
    }

    /// Counts one request of `key` against `bucket` at `now`.
    pub fn check(&self, bucket: Bucket, key: &str, now: Instant) -> Decision {
        let limit = self.limit_of(bucket);
        let shard = &self.shards[(self.hasher.hash_one((bucket, key)) as usize) % SHARDS];
        let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > PRUNE_ABOVE {
            map.retain(|(b, _), w| now.duration_since(w.started) < self.limit_of(*b).window);
        }
        let w = map
            .entry((bucket, key.to_string()))
            .or_insert(Window { started: now, count: 0 });
        if now.duration_since(w.started) >= limit.window {
            *w = Window { started: now, count: 0 };
        }
        let reset_after = limit
            .window
            .saturating_sub(now.duration_since(w.started))
            .as_secs_f64()
            .ceil() as u64;
        if w.count >= limit.requests {
            return Decision {
                allowed: false,
                limit: limit.requests,
                remaining: 0,
                reset_after: reset_after.max(1),
            };
        }
        w.count += 1;
        Decision {
            allowed: true,
            limit: limit.requests,
            remaining: limit.requests - w.count,
            reset_after,
        }
    }
}

fn bucket_of(method: &Method, path: &str) -> Option<Bucket> {
    match (method, path) {
        (_, "/healthz" | "/readyz" | "/api/openapi.json") => None,
        (_, p) if p.starts_with("/api/docs") => None,
        (&Method::POST, "/api/v1/users/token/") => Some(Bucket::Token),
        (&Method::POST, "/tickets/") => Some(Bucket::CreateTicket),
        _ => Some(Bucket::Default),
    }
}

fn set_headers(headers: &mut HeaderMap, d: Decision) {
    headers.insert("x-ratelimit-limit", HeaderValue::from(d.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(d.remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(d.reset_after));
}

/// Middleware: verifies the bearer token once (handlers reuse the result) and applies the limits.
pub async fn authenticate_and_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let verified = verify_bearer(&parts, &state);
    let user = verified
        .as_ref()
        .and_then(|v| v.as_ref().ok())
        .map(|c| c.user_id.to_string());
    if let Some(v) = verified {
        parts.extensions.insert(Verified(v));
    }
    let bucket = state
        .config
        .rate_limits
        .enabled
        .then(|| bucket_of(&parts.method, parts.uri.path()))
        .flatten();
    let Some(bucket) = bucket else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let address = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string());
    let key = match (bucket, user) {
        (Bucket::Token, _) | (_, None) => format!("ip:{address}"),
        (_, Some(user)) => format!("user:{user}"),
    };
    let decision = state.limiter.check(bucket, &key, Instant::now());
    let mut response = if decision.allowed {
        next.run(Request::from_parts(parts, body)).await
    } else {
        ApiError::RateLimited {
            retry_after: decision.reset_after,
        }
        .into_response()
    };
    set_headers(response.headers_mut(), decision);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn counts_per_key_and_resets_with_the_window() {
        let limits = RateLimits {
            token: Limit {
                requests: 2,
                window: Duration::from_secs(60),
            },
            ..RateLimits::default()
        };
        let l = RateLimiter::new(limits);
        let t0 = Instant::now();
        assert!(l.check(Bucket::Token, "a", t0).allowed);
        let second = l.check(Bucket::Token, "a", t0);
        assert!(second.allowed);
        assert_eq!(second.remaining, 0);
        let third = l.check(Bucket::Token, "a", t0 + Duration::from_secs(10));
        assert!(!third.allowed);
        assert_eq!(third.reset_after, 50);
        assert!(l.check(Bucket::Token, "b", t0).allowed, "keys are independent");
        assert!(l.check(Bucket::Default, "a", t0).allowed, "buckets are independent");
        assert!(
            l.check(Bucket::Token, "a", t0 + Duration::from_secs(60)).allowed,
            "new window"
        );
    }
}
