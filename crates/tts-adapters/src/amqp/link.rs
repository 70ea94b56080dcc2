//! The connection to the broker: opened on first use, reopened with back-off when the broker goes away.
//!
//! Callers never wait on a dead broker: between attempts, [`Link::live`] fails at once with an
//! `Unavailable` error, so a request or a relay step fails fast and its caller retries later.

use super::config::AmqpConfig;
use lapin::options::ConfirmSelectOptions;
use lapin::{Channel, Connection, ConnectionProperties};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tts_core::{Error, ErrorKind, Result};

/// The longest wait for the broker to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest wait for the broker to confirm a batch of messages.
pub(super) const CONFIRM_TIMEOUT: Duration = Duration::from_secs(10);

/// One open connection with its publishing channel (in confirm mode).
#[derive(Clone)]
pub(super) struct Live {
    pub(super) connection: Arc<Connection>,
    pub(super) publisher: Channel,
    /// Queues declared on this connection (declared again after a reconnect: the broker may be new).
    pub(super) declared: Arc<Mutex<HashSet<String>>>,
}

impl Live {
    fn usable(&self) -> bool {
        self.connection.status().connected() && self.publisher.status().connected()
    }
}

#[derive(Default)]
struct State {
    current: Option<Live>,
    failures: u32,
    next_attempt: Option<Instant>,
}

/// The shared connection of one [`super::AmqpQueue`] or [`super::AmqpFeed`].
pub(super) struct Link {
    pub(super) config: AmqpConfig,
    state: tokio::sync::Mutex<State>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Link {
    pub(super) fn new(config: AmqpConfig) -> Self {
        Self {
            config,
            state: tokio::sync::Mutex::new(State::default()),
        }
    }

    /// The open connection, opening one if there is none and the back-off allows an attempt.
    pub(super) async fn live(&self) -> Result<Live> {
        let mut state = self.state.lock().await;
        if let Some(live) = &state.current {
            if live.usable() {
                return Ok(live.clone());
            }
            tracing::warn!(url = %self.shown_url(), "RabbitMQ connection lost; reconnecting");
            state.current = None;
        }
        if let Some(at) = state.next_attempt
            && Instant::now() < at
        {
            return Err(unavailable(format!(
                "RabbitMQ at {} is unreachable; retrying",
                self.shown_url()
            )));
        }
        match self.open().await {
            Ok(live) => {
                if state.failures > 0 {
                    tracing::info!(url = %self.shown_url(), "RabbitMQ connection restored");
                }
                state.failures = 0;
                state.next_attempt = None;
                state.current = Some(live.clone());
                Ok(live)
            }
            Err(e) => {
                state.failures += 1;
                state.next_attempt = Some(Instant::now() + self.backoff(state.failures));
                Err(e)
            }
        }
    }

    /// The wait after `failures` consecutive failed attempts: doubling from the minimum to the maximum.
    pub(super) fn backoff(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(20);
        self.config
            .reconnect_min
            .saturating_mul(1 << doublings)
            .min(self.config.reconnect_max)
    }

    async fn open(&self) -> Result<Live> {
        let properties =
            ConnectionProperties::default().with_connection_name(self.config.connection_name.clone().into());
        // A broker that accepts the connection but does not answer (starting up) must not hold every
        // caller, which wait on this link, for ever.
        let connection = tokio::time::timeout(CONNECT_TIMEOUT, Connection::connect(&self.config.url, properties))
            .await
            .map_err(|_| unavailable(format!("RabbitMQ at {} did not answer in time", self.shown_url())))?
            .map_err(|e| unavailable(format!("cannot reach RabbitMQ at {}: {e}", self.shown_url())))?;
        let publisher = connection.create_channel().await.map_err(amqp_err)?;
        publisher
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(amqp_err)?;
        Ok(Live {
            connection: Arc::new(connection),
            publisher,
            declared: Arc::default(),
        })
    }

    /// Closes the connection (unacked deliveries go back to their queues at once).
    pub(super) async fn close(&self) {
        if let Some(live) = self.state.lock().await.current.take() {
            let _ = live.connection.close(200, "closing".into()).await;
        }
    }

    pub(super) fn shown_url(&self) -> String {
        crate::redact::redact_url(&self.config.url)
    }
}

/// A broker failure: unavailable, so callers retry later.
pub(super) fn unavailable(message: String) -> Error {
    Error::Backend {
        backend: "amqp",
        kind: ErrorKind::Unavailable,
        message,
    }
}

/// Maps a lapin error; none carries credentials. By value, to fit `map_err`.
#[allow(clippy::needless_pass_by_value)]
pub(super) fn amqp_err(e: lapin::Error) -> Error {
    unavailable(e.to_string())
}
