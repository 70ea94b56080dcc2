//! Keyed rate limits on `governor`'s GCRA (a token bucket without windows: the limit holds over any
//! span, never twice the limit across a window edge), answered with 429, `Retry-After` and
//! `X-RateLimit-*` headers. State lives in this process: with several servers, each counts its own.
//!
//! A limit of `N` per `window` lets a burst of `N` through and then one request every `window / N`.
//! Keys are the user id for authenticated requests (the bearer token's, or for the web UI, its pages
//! and its live feed's handshake, the session cookie's) and the client address
//! ([`crate::client::client_key`]) for the token endpoint and anonymous requests. Idle keys are dropped every minute
//! (`retain_recent` + `shrink_to_fit`), so memory follows the number of recently active clients.

use crate::auth::caller::{Verified, verify_bearer};
use crate::client::client_key;
use crate::config::{Limit, RateLimits};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock, Reference};
use governor::middleware::StateInformationMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DashMapStateStore;
use governor::{NotUntil, Quota};
use std::net::{Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

/// How often idle keys are dropped.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

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

/// The verdict for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// The limit (requests per window).
    pub limit: u32,
    /// Requests that could follow this one right away.
    pub remaining: u32,
    /// Seconds (rounded up) until the full limit is available again; for a refused request, until the
    /// next request is allowed (`Retry-After`).
    pub reset_after: u64,
}

type Keyed<C> = governor::RateLimiter<String, DashMapStateStore<String>, C, StateInformationMiddleware>;

/// One GCRA limiter per bucket, keyed by caller.
pub struct RateLimiter<C: Clock = DefaultClock> {
    limits: RateLimits,
    token: Keyed<C>,
    create_ticket: Keyed<C>,
    default: Keyed<C>,
    clock: C,
    next_prune: Mutex<C::Instant>,
}

impl<C: Clock + Clone> std::fmt::Debug for RateLimiter<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limits", &self.limits)
            .field("keys", &self.len())
            .finish_non_exhaustive()
    }
}

/// The GCRA quota of a limit: a burst of `requests`, refilled one per `window / requests`.
pub fn quota(limit: Limit) -> Quota {
    let burst = NonZeroU32::new(limit.requests).unwrap_or(NonZeroU32::MIN);
    let period = (limit.window / burst.get()).max(Duration::from_nanos(1));
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(burst))
        .allow_burst(burst)
}

impl RateLimiter {
    /// A limiter enforcing `limits` on the monotonic clock.
    pub fn new(limits: RateLimits) -> Self {
        RateLimiter::with_clock(limits, DefaultClock::default())
    }
}

impl<C: Clock + Clone> RateLimiter<C> {
    /// A limiter on `clock` (tests use `governor::clock::FakeRelativeClock`).
    pub fn with_clock(limits: RateLimits, clock: C) -> Self {
        let keyed = |limit: Limit| {
            governor::RateLimiter::dashmap_with_clock(quota(limit), clock.clone())
                .with_middleware::<StateInformationMiddleware>()
        };
        RateLimiter {
            token: keyed(limits.token),
            create_ticket: keyed(limits.create_ticket),
            default: keyed(limits.default),
            next_prune: Mutex::new(clock.now() + Nanos::from(PRUNE_EVERY)),
            clock,
            limits,
        }
    }

    fn bucket(&self, bucket: Bucket) -> (&Keyed<C>, Limit) {
        match bucket {
            Bucket::Token => (&self.token, self.limits.token),
            Bucket::CreateTicket => (&self.create_ticket, self.limits.create_ticket),
            Bucket::Default => (&self.default, self.limits.default),
        }
    }

    /// Keys currently held, over all buckets.
    pub fn len(&self) -> usize {
        self.token.len() + self.create_ticket.len() + self.default.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops the keys whose bucket is full again (they would behave as new keys) and gives the memory
    /// back. Runs by itself once a minute from [`RateLimiter::check`].
    pub fn prune(&self) {
        for l in [&self.token, &self.create_ticket, &self.default] {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }

    fn prune_when_due(&self) {
        // `try_lock`: one request does the pruning, the others never wait for it.
        let due = match self.next_prune.try_lock() {
            Ok(mut next) => {
                let now = self.clock.now();
                let due = now >= *next;
                if due {
                    *next = now + Nanos::from(PRUNE_EVERY);
                }
                due
            }
            Err(_) => false,
        };
        if due {
            self.prune();
        }
    }

    /// Counts one request of `key` against `bucket`.
    pub fn check(&self, bucket: Bucket, key: &str) -> Decision {
        self.prune_when_due();
        let (limiter, limit) = self.bucket(bucket);
        let quota = quota(limit);
        let period = quota.replenish_interval();
        let requests = quota.burst_size().get();
        match limiter.check_key(&key.to_string()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity().min(requests);
                // Every spent request comes back one period after the previous one: an upper bound
                // that is off by less than one period.
                let until_full = period * (requests - remaining);
                Decision {
                    allowed: true,
                    limit: requests,
                    remaining,
                    reset_after: ceil_secs(until_full),
                }
            }
            Err(not_until) => {
                let wait = wait_time(&not_until, &self.clock);
                Decision {
                    allowed: false,
                    limit: requests,
                    remaining: 0,
                    reset_after: ceil_secs(wait).max(1),
                }
            }
        }
    }
}

fn wait_time<C: Clock>(not_until: &NotUntil<C::Instant>, clock: &C) -> Duration {
    let now = clock.now();
    let earliest = not_until.earliest_possible();
    Duration::from(earliest.duration_since(now))
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// The web UI's live feed under the `/ui` mount: limited per session user like its pages, refused with
/// the API's JSON 429 rather than a page.
#[cfg(feature = "ui")]
const UI_LIVE: &str = "/ui/live";

fn bucket_of(method: &Method, path: &str) -> Option<Bucket> {
    match (method, path) {
        (_, "/healthz" | "/readyz" | "/metrics" | "/api/openapi.json") => None,
        (_, p) if p.starts_with("/api/docs") || p.starts_with("/ui/assets/") => None,
        // The web UI's sign-in and new-ticket forms count as the API's token and create requests.
        (&Method::POST, "/api/v1/users/token/" | "/ui/signin") => Some(Bucket::Token),
        (&Method::POST, "/tickets/" | "/ui/tickets/new") => Some(Bucket::CreateTicket),
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
    let user = verified.as_ref().and_then(|v| v.as_ref().ok()).map(|c| c.user_id);
    // A web UI request is keyed by its session's user, as an API request by its token's.
    #[cfg(feature = "ui")]
    let user = user.or_else(|| crate::ui::session_user(&parts.headers, &state));
    let user = user.map(|u| u.to_string());
    if let Some(v) = verified {
        parts.extensions.insert(Verified(v));
    }
    if let Some(user) = &user {
        tracing::Span::current().record("user_id", user.as_str());
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
    let key = match (bucket, user) {
        (Bucket::Token, _) | (_, None) => {
            let peer = parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)), |c| c.0);
            format!("ip:{}", client_key(peer, &parts.headers, &state.config.trusted_proxies))
        }
        (_, Some(user)) => format!("user:{user}"),
    };
    let decision = state.limiter.check(bucket, &key);
    let mut response = if decision.allowed {
        next.run(Request::from_parts(parts, body)).await
    } else {
        let refusal = ApiError::RateLimited {
            retry_after: decision.reset_after,
        };
        // A page (the dashboard at `/ui` too) gets a page; the UI's live feed handshake (counted like
        // any request of the session's user, so a reconnecting script is held to the user's limit) is
        // read by a script: JSON, as `/ws/` answers.
        #[cfg(feature = "ui")]
        {
            let path = parts.uri.path();
            if (path == "/ui" || path.starts_with("/ui/")) && path != UI_LIVE {
                return crate::ui::too_many_requests(&refusal);
            }
        }
        refusal.into_response()
    };
    set_headers(response.headers_mut(), decision);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    fn limiter(requests: u32, window: u64) -> (RateLimiter<FakeRelativeClock>, FakeRelativeClock) {
        let limits = RateLimits {
            token: Limit {
                requests,
                window: Duration::from_secs(window),
            },
            ..RateLimits::default()
        };
        let clock = FakeRelativeClock::default();
        (RateLimiter::with_clock(limits, clock.clone()), clock)
    }

    #[test]
    fn counts_per_key_and_refills_over_the_window() {
        let (l, clock) = limiter(2, 60);
        let first = l.check(Bucket::Token, "a");
        assert!(first.allowed);
        assert_eq!((first.limit, first.remaining, first.reset_after), (2, 1, 30));
        let second = l.check(Bucket::Token, "a");
        assert!(second.allowed);
        assert_eq!((second.remaining, second.reset_after), (0, 60));
        clock.advance(Duration::from_secs(10));
        let third = l.check(Bucket::Token, "a");
        assert!(!third.allowed);
        assert_eq!(third.reset_after, 20, "one request comes back 30 s after the first");
        assert!(l.check(Bucket::Token, "b").allowed, "keys are independent");
        assert!(l.check(Bucket::Default, "a").allowed, "buckets are independent");
        clock.advance(Duration::from_secs(20));
        assert!(l.check(Bucket::Token, "a").allowed, "refilled after window / limit");
        assert!(!l.check(Bucket::Token, "a").allowed);
        clock.advance(Duration::from_secs(60));
        assert!(l.check(Bucket::Token, "a").allowed);
        assert!(
            l.check(Bucket::Token, "a").allowed,
            "a full window refills the whole burst"
        );
    }

    #[test]
    fn no_burst_of_twice_the_limit_across_a_window_edge() {
        // A fixed window starting at t=0 would allow 5 at t=59 s and 5 more at t=61 s.
        let (l, clock) = limiter(5, 60);
        assert!(l.check(Bucket::Token, "a").allowed);
        clock.advance(Duration::from_secs(59));
        let mut allowed = 0;
        for _ in 0..10 {
            allowed += u32::from(l.check(Bucket::Token, "a").allowed);
        }
        clock.advance(Duration::from_secs(2));
        for _ in 0..10 {
            allowed += u32::from(l.check(Bucket::Token, "a").allowed);
        }
        assert_eq!(allowed, 5, "at most the limit within the two seconds around t=60 s");
        // Over any full window, at most the limit plus what refilled in it.
        clock.advance(Duration::from_secs(12));
        assert!(l.check(Bucket::Token, "a").allowed);
        assert!(!l.check(Bucket::Token, "a").allowed);
    }

    #[test]
    fn idle_keys_are_pruned_once_a_minute_not_per_request() {
        let (l, clock) = limiter(5, 60);
        for i in 0..1000 {
            l.check(Bucket::Token, &format!("k{i}"));
        }
        assert_eq!(l.len(), 1000);
        clock.advance(Duration::from_secs(30));
        l.check(Bucket::Token, "fresh");
        assert_eq!(l.len(), 1001, "not pruned before a minute passed");
        clock.advance(Duration::from_secs(31));
        l.check(Bucket::Token, "fresh");
        assert_eq!(l.len(), 1, "idle keys were dropped; the one just used is back");
    }
}
