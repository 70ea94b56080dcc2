//! What the HTTP layer can be told: token lifetimes, rate limits, body limit, timeout, CORS, trusted
//! proxies and the public URL.

use crate::client::TrustedProxies;
use std::str::FromStr;
use std::time::Duration;

/// Settings of the router built by [`crate::router`]. `HttpConfig::new(secret)` gives the documented
/// defaults; change fields as needed.
#[derive(Clone)]
pub struct HttpConfig {
    /// HS256 secret shared by every instance (at least 32 bytes).
    pub jwt_secret: Vec<u8>,
    /// Lifetime of access tokens.
    pub access_ttl: Duration,
    /// Lifetime of refresh tokens (each rotation starts a new lifetime).
    pub refresh_ttl: Duration,
    /// Refresh token rotation (default on): each refresh spends the presented token and answers a new
    /// one, and presenting a spent one ends the session. Off answers `{"access"}` only and accepts the
    /// same refresh token until it expires, as the seed system did.
    pub refresh_rotation: bool,
    /// Clock skew tolerated when checking `exp`.
    pub leeway: Duration,
    /// Rate limits.
    pub rate_limits: RateLimits,
    /// Largest request body accepted, in bytes (larger ones get 413); uploads have their own limit.
    pub body_limit: usize,
    /// The bearer token `GET /metrics` asks for (`TTS_METRICS_TOKEN`); without one the endpoint is off
    /// (404), so metrics never leak on a public port.
    pub metrics_token: Option<String>,
    /// Most live feeds one user may hold (`TTS_LIVE_FEEDS_PER_USER`, default 8; 429 beyond).
    pub live_feeds_per_user: usize,
    /// Most live feeds one process holds (`TTS_LIVE_FEEDS_PER_PROCESS`, default 10,000; 429 beyond).
    pub live_feeds_per_process: usize,
    /// Largest attachment accepted, in bytes (`TTS_MAX_UPLOAD_BYTES`, default 10 MiB; larger ones get
    /// 413).
    pub max_upload_bytes: u64,
    /// Longest a request may take before it is answered 503.
    pub request_timeout: Duration,
    /// Origins allowed by CORS; empty = no CORS headers; `*` = any origin.
    pub cors_origins: Vec<String>,
    /// Proxies whose `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host` are believed
    /// (`TTS_TRUSTED_PROXIES`); none by default.
    pub trusted_proxies: TrustedProxies,
    /// The URL clients reach the API at (`TTS_PUBLIC_URL`, e.g. `https://tts.example.com`), used for
    /// the absolute `next` / `previous` links of lists; unset = from the request's `Host` header.
    pub public_url: Option<String>,
    /// Most tickets one batch of concurrent creates writes in one command (`TTS_CREATE_BATCH`, default
    /// 64; 1 = every create is its own command). See [`crate::batch`].
    pub create_batch: usize,
    /// Batches of creates written at once (`TTS_CREATE_BATCHES_IN_FLIGHT`, default 1): with 2 the next
    /// batch reads and prepares while the last one commits. See [`crate::batch`].
    pub create_batches_in_flight: usize,
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("jwt_secret", &"<redacted>")
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("refresh_rotation", &self.refresh_rotation)
            .field("rate_limits", &self.rate_limits)
            .field("body_limit", &self.body_limit)
            .field("max_upload_bytes", &self.max_upload_bytes)
            .field("metrics_token", &self.metrics_token.as_ref().map(|_| "<redacted>"))
            .field("live_feeds_per_user", &self.live_feeds_per_user)
            .field("live_feeds_per_process", &self.live_feeds_per_process)
            .field("request_timeout", &self.request_timeout)
            .field("cors_origins", &self.cors_origins)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("public_url", &self.public_url)
            .field("create_batch", &self.create_batch)
            .field("create_batches_in_flight", &self.create_batches_in_flight)
            .finish_non_exhaustive()
    }
}

/// The shortest JWT secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

impl HttpConfig {
    /// Defaults: access tokens 15 min, refresh tokens 7 days, 30 s leeway, the seed's rate limits,
    /// 1 MiB bodies, 10 MiB uploads, 30 s timeout, no CORS, creates in batches of up to 64.
    pub fn new(jwt_secret: impl Into<Vec<u8>>) -> Self {
        HttpConfig {
            jwt_secret: jwt_secret.into(),
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(7 * 24 * 3600),
            refresh_rotation: true,
            leeway: Duration::from_secs(30),
            rate_limits: RateLimits::default(),
            body_limit: 1024 * 1024,
            max_upload_bytes: tts_core::domain::attachment::DEFAULT_MAX_UPLOAD_BYTES,
            metrics_token: None,
            live_feeds_per_user: crate::live::SOCKETS_PER_USER,
            live_feeds_per_process: crate::live::SOCKETS_PER_PROCESS,
            request_timeout: Duration::from_secs(30),
            cors_origins: Vec::new(),
            trusted_proxies: TrustedProxies::none(),
            public_url: None,
            create_batch: 64,
            create_batches_in_flight: 1,
        }
    }

    /// Refuses settings the server cannot run safely with (a short secret, a public URL that is not
    /// an absolute `http(s)` URL without query).
    pub fn validate(&self) -> tts_core::Result<()> {
        if self.jwt_secret.len() < MIN_SECRET_BYTES {
            return Err(tts_core::Error::invalid(
                "jwt_secret",
                format!("must be at least {MIN_SECRET_BYTES} bytes"),
            ));
        }
        if let Some(public) = &self.public_url {
            let ok = url::Url::parse(public).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https") && u.has_host() && u.query().is_none() && u.fragment().is_none()
            });
            if !ok {
                return Err(tts_core::Error::invalid(
                    "public_url",
                    "must be an absolute http(s) URL without query, e.g. https://tts.example.com",
                ));
            }
        }
        Ok(())
    }
}

/// Rate limits (`TTS_RATE_LIMIT_*`). The seed's defaults: the token endpoint 5/min per client address,
/// `POST /tickets/` 30/hour per user, everything else 60/min per user (per address when anonymous).
/// Limits are counted per server process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// False switches every limit off (benchmarks, trusted embedding).
    pub enabled: bool,
    /// `POST /api/v1/users/token/` per client address.
    pub token: Limit,
    /// `POST /tickets/` per user.
    pub create_ticket: Limit,
    /// Everything else, per user.
    pub default: Limit,
}

/// At most `requests` per `window`, over any span: a burst of `requests`, then one more every
/// `window / requests` (governor's GCRA; see [`crate::rate_limit`]). Parsed from `5/minute` and the like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Requests allowed in one window.
    pub requests: u32,
    /// The window.
    pub window: Duration,
}

impl Limit {
    /// `requests` per minute.
    pub const fn per_minute(requests: u32) -> Self {
        Limit {
            requests,
            window: Duration::from_secs(60),
        }
    }

    /// `requests` per hour.
    pub const fn per_hour(requests: u32) -> Self {
        Limit {
            requests,
            window: Duration::from_secs(3600),
        }
    }
}

impl FromStr for Limit {
    type Err = String;

    /// Parses `N/second`, `N/minute`, `N/hour` or `N/day` (also `s`, `sec`, `m`, `min`, `h`, `d`), e.g.
    /// `5/min`; `N` is at least 1.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not a limit like 5/min (N/second, N/minute, N/hour or N/day)");
        let (n, unit) = s.split_once('/').ok_or_else(bad)?;
        let requests: u32 = n.trim().parse().map_err(|_| bad())?;
        if requests == 0 {
            return Err(bad());
        }
        let secs = match unit.trim().to_ascii_lowercase().as_str() {
            "s" | "sec" | "second" => 1,
            "m" | "min" | "minute" => 60,
            "h" | "hour" => 3600,
            "d" | "day" => 86_400,
            _ => return Err(bad()),
        };
        Ok(Limit {
            requests,
            window: Duration::from_secs(secs),
        })
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.window.as_secs() {
            1 => write!(f, "{}/second", self.requests),
            60 => write!(f, "{}/minute", self.requests),
            3600 => write!(f, "{}/hour", self.requests),
            86_400 => write!(f, "{}/day", self.requests),
            s => write!(f, "{} per {s} s", self.requests),
        }
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            enabled: true,
            token: Limit::per_minute(5),
            create_ticket: Limit::per_hour(30),
            default: Limit::per_minute(60),
        }
    }
}

impl RateLimits {
    /// Every limit off.
    pub fn disabled() -> Self {
        RateLimits {
            enabled: false,
            ..RateLimits::default()
        }
    }
}
