//! What every handler shares: the engine, the token keys, the rate limiter, the live hub, the blob
//! store and the create batcher.

use crate::auth::TokenKeys;
use crate::batch::CreateBatcher;
use crate::config::HttpConfig;
use crate::live::LiveHub;
use crate::metrics::Metrics;
use crate::rate_limit::RateLimiter;
use std::sync::{Arc, OnceLock};
use tts_core::Engine;
use tts_core::ports::BlobStore;

/// The state of the router; cheap to clone (`Arc`s inside), `Send + Sync`.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The engine every command goes through.
    pub engine: Arc<Engine>,
    /// Token signing and checking (behind an `Arc`: axum clones the state for every request, and the
    /// keys and their validation rules are several allocations).
    pub keys: Arc<TokenKeys>,
    /// Per-key request counters.
    pub limiter: Arc<RateLimiter>,
    /// The settings the router was built with.
    pub config: Arc<HttpConfig>,
    /// The live feed's hub, when the engine's queue feeds one (see [`crate::live`]).
    pub live: Option<LiveHub>,
    /// Where attachment bytes go; without one the attachment routes answer 503.
    pub blobs: Option<Arc<dyn BlobStore>>,
    /// The process's metrics (see [`crate::metrics`]); without them nothing is counted.
    pub metrics: Option<Arc<Metrics>>,
    /// The create batch task, started by the first create (see [`crate::batch`]).
    creates: Arc<OnceLock<CreateBatcher>>,
}

impl AppState {
    /// Shared state from the engine (which keeps users, credentials and sessions) and the settings.
    pub fn new(engine: Arc<Engine>, config: HttpConfig) -> Self {
        AppState {
            keys: Arc::new(TokenKeys::new(
                &config.jwt_secret,
                config.access_ttl,
                config.refresh_ttl,
                config.leeway,
            )),
            limiter: Arc::new(RateLimiter::new(config.rate_limits)),
            engine,
            config: Arc::new(config),
            live: None,
            blobs: None,
            metrics: None,
            creates: Arc::default(),
        }
    }

    /// The create batcher, started on first use (it needs the runtime the server runs on).
    pub fn creates(&self) -> &CreateBatcher {
        self.creates.get_or_init(|| {
            CreateBatcher::start(
                Arc::clone(&self.engine),
                self.config.create_batch,
                self.config.create_batches_in_flight,
            )
        })
    }

    /// Counts requests into `metrics` and serves them at `GET /metrics` (see [`crate::metrics`]).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Keeps attachment bytes in `blobs`.
    pub fn with_blobs(mut self, blobs: Arc<dyn BlobStore>) -> Self {
        self.blobs = Some(blobs);
        self
    }

    /// Serves `GET /ws/` from `hub` (the engine's [`tts_core::ports::EventFeed`]).
    pub fn with_live(mut self, hub: LiveHub) -> Self {
        self.live = Some(hub);
        self
    }
}
