//! Prometheus metrics at `GET /metrics`, in the text format, with the `prometheus-client` crate.
//!
//! Three sources: a middleware counts every request and its latency by route template and status; the
//! engine's committed events (this is also an [`EventFeed`]) give allocation latency, SLA warnings and
//! breaches, and counts per event type; a scrape reads the rest when asked: the engine's command and
//! retry counters, the outbox backlog and lag per queue, dead letters, and the open live feeds.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `tts_http_requests_total` | counter | `method`, `route`, `status` |
//! | `tts_http_request_duration_seconds` | histogram | `method`, `route` |
//! | `tts_commands_total` | counter | `outcome` (`ok`, `failed`) |
//! | `tts_command_retries_total` | counter | |
//! | `tts_events_total` | counter | `type` |
//! | `tts_allocation_latency_seconds` | histogram (ticket opened -> first assignment) | |
//! | `tts_sla_events_total` | counter | `kind` (`warning`, `breach`) |
//! | `tts_outbox_messages` | gauge | `queue` |
//! | `tts_outbox_lag_seconds` | gauge (age of the oldest waiting message) | `queue` |
//! | `tts_queue_messages` | gauge (messages ready on the broker; with RabbitMQ only) | `queue` |
//! | `tts_dead_letters` | gauge | `queue` |
//! | `tts_live_feeds` | gauge | |
//! | `tts_db_pool_connections` | gauge | `pool`, `state` (`busy`, `idle`, `max`) |
//! | `tts_db_traffic_total` | counter (what the store's units sent: `Store::traffic`) | `kind` (`statements`, `round_trips`, `commits`, `units`) |
//!
//! Event metrics count what this process committed or, with a broker, what its live feed hears.

use crate::state::AppState;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::time::Instant;
use tts_core::ports::EventFeed;
use tts_core::{DomainEvent, Engine, OutboxMessage};

/// Labels of a request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

/// Labels of a latency.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// One label.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Kind {
    kind: String,
}

/// An event type.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventType {
    r#type: String,
}

/// A command outcome.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: String,
}

/// A connection pool and a state of its connections.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: String,
    state: String,
}

/// A queue (`relay` for events only a relay publishes).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QueueLabel {
    queue: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.000_5, 2.0, 16))
}

/// The process's metrics; cheap to share (`Arc`).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Histograms<RouteLabels>,
    commands: Family<Outcome, Counter>,
    retries: Counter,
    events: Family<EventType, Counter>,
    allocation: Histogram,
    sla: Family<Kind, Counter>,
    outbox: Family<QueueLabel, Gauge>,
    outbox_lag: Family<QueueLabel, Gauge<f64, AtomicU64>>,
    queue_depth: Family<QueueLabel, Gauge>,
    dead_letters: Family<QueueLabel, Gauge>,
    live_feeds: Gauge,
    pools: Family<PoolLabels, Gauge>,
    traffic: Family<Kind, Counter>,
    scrape: tokio::sync::Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric, registered and at zero.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "tts_http_requests",
            "HTTP requests by route template and status",
            requests.clone(),
        );
        let durations: Histograms<RouteLabels> = Family::new_with_constructor(latency_buckets);
        registry.register(
            "tts_http_request_duration_seconds",
            "HTTP request latency",
            durations.clone(),
        );
        let commands = Family::<Outcome, Counter>::default();
        registry.register("tts_commands", "Engine commands by outcome", commands.clone());
        let retries = Counter::default();
        registry.register(
            "tts_command_retries",
            "Commands run again after losing a race",
            retries.clone(),
        );
        let events = Family::<EventType, Counter>::default();
        registry.register("tts_events", "Committed domain events by type", events.clone());
        let allocation = latency_buckets();
        registry.register(
            "tts_allocation_latency_seconds",
            "From a ticket's creation to its first assignment",
            allocation.clone(),
        );
        let sla = Family::<Kind, Counter>::default();
        for kind in ["warning", "breach"] {
            let _zero = sla.get_or_create(&Kind { kind: kind.into() });
        }
        registry.register("tts_sla_events", "SLA warnings and breaches", sla.clone());
        let outbox = Family::<QueueLabel, Gauge>::default();
        registry.register(
            "tts_outbox_messages",
            "Messages waiting in the outbox per queue",
            outbox.clone(),
        );
        let outbox_lag = Family::<QueueLabel, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "tts_outbox_lag_seconds",
            "Age of the oldest message waiting in the outbox per queue",
            outbox_lag.clone(),
        );
        let queue_depth = Family::<QueueLabel, Gauge>::default();
        registry.register(
            "tts_queue_messages",
            "Messages ready on the broker per queue (with RabbitMQ)",
            queue_depth.clone(),
        );
        let dead_letters = Family::<QueueLabel, Gauge>::default();
        registry.register(
            "tts_dead_letters",
            "Messages that will not be delivered again, per queue",
            dead_letters.clone(),
        );
        let live_feeds = Gauge::default();
        registry.register(
            "tts_live_feeds",
            "Open live feeds (WebSockets) in this process",
            live_feeds.clone(),
        );
        let pools = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "tts_db_pool_connections",
            "Database connections by pool and state",
            pools.clone(),
        );
        let traffic = Family::<Kind, Counter>::default();
        registry.register(
            "tts_db_traffic",
            "Statements, calls (round trips), commits and units of work the store sent to its database",
            traffic.clone(),
        );
        Metrics {
            registry,
            requests,
            durations,
            commands,
            retries,
            events,
            allocation,
            sla,
            outbox,
            outbox_lag,
            queue_depth,
            dead_letters,
            live_feeds,
            pools,
            traffic,
            scrape: tokio::sync::Mutex::new(()),
        }
    }

    /// Counts one answered request.
    fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let (method, route) = (method.to_string(), route.to_string());
        self.requests
            .get_or_create(&RequestLabels {
                method: method.clone(),
                route: route.clone(),
                status,
            })
            .inc();
        self.durations
            .get_or_create(&RouteLabels { method, route })
            .observe(seconds);
    }

    /// Reads what is known only when asked, then renders every metric in the text format.
    pub async fn render(&self, engine: &Engine, live_feeds: usize) -> tts_core::Result<String> {
        let _one_at_a_time = self.scrape.lock().await;
        let stats = engine.stats();
        for (outcome, value) in [("ok", stats.commands_ok), ("failed", stats.commands_failed)] {
            let counter = self.commands.get_or_create(&Outcome {
                outcome: outcome.into(),
            });
            counter.inc_by(value.saturating_sub(counter.get()));
        }
        self.retries.inc_by(stats.retries.saturating_sub(self.retries.get()));
        let backlog = engine.store().outbox_backlog().await?;
        let now = engine.clock().now();
        self.outbox.clear();
        self.outbox_lag.clear();
        // The consumers' queues are always shown, at zero when nothing waits.
        let queues = &engine.config().queues;
        for queue in [&queues.tickets, &queues.notifications, &queues.mail] {
            let label = QueueLabel { queue: queue.clone() };
            self.outbox.get_or_create(&label).set(0);
            self.outbox_lag.get_or_create(&label).set(0.0);
        }
        for q in backlog {
            let label = QueueLabel {
                queue: q.queue.unwrap_or_else(|| "relay".into()),
            };
            self.outbox
                .get_or_create(&label)
                .set(i64::try_from(q.messages).unwrap_or(i64::MAX));
            let lag = q
                .oldest
                .map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
            self.outbox_lag.get_or_create(&label).set(lag);
        }
        if let Some(queue) = engine.queue() {
            for name in [&queues.tickets, &queues.notifications, &queues.mail] {
                // A broker that does not answer leaves the last values; the scrape still succeeds.
                if let Ok(Some(depth)) = queue.depth(name).await {
                    let label = QueueLabel { queue: name.clone() };
                    self.queue_depth
                        .get_or_create(&label)
                        .set(i64::try_from(depth).unwrap_or(i64::MAX));
                }
            }
        }
        self.dead_letters.clear();
        for queue in [&queues.tickets, &queues.notifications, &queues.mail] {
            self.dead_letters
                .get_or_create(&QueueLabel { queue: queue.clone() })
                .set(0);
        }
        for q in engine.store().dead_letter_backlog().await? {
            let label = QueueLabel {
                queue: q.queue.unwrap_or_default(),
            };
            self.dead_letters
                .get_or_create(&label)
                .set(i64::try_from(q.messages).unwrap_or(i64::MAX));
        }
        self.live_feeds.set(i64::try_from(live_feeds).unwrap_or(i64::MAX));
        for pool in engine.store().pools() {
            let busy = pool.open.saturating_sub(pool.idle);
            for (state, value) in [("busy", busy), ("idle", pool.idle), ("max", pool.max)] {
                let labels = PoolLabels {
                    pool: pool.name.into(),
                    state: state.into(),
                };
                self.pools.get_or_create(&labels).set(i64::from(value));
            }
        }
        if let Some(t) = engine.store().traffic() {
            let counts = [
                ("statements", t.statements),
                ("round_trips", t.round_trips),
                ("commits", t.commits),
                ("units", t.units),
            ];
            for (kind, total) in counts {
                let counter = self.traffic.get_or_create(&Kind { kind: kind.into() });
                counter.inc_by(total.saturating_sub(counter.get()));
            }
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).map_err(|e| tts_core::Error::Backend {
            backend: "metrics",
            kind: tts_core::ErrorKind::Internal,
            message: e.to_string(),
        })?;
        Ok(text)
    }
}

impl EventFeed for Metrics {
    fn publish(&self, events: &[OutboxMessage]) {
        for m in events {
            self.events
                .get_or_create(&EventType {
                    r#type: m.event.kind().into(),
                })
                .inc();
            match &m.event {
                DomainEvent::TaskCreated {
                    opened_at: Some(opened),
                    ..
                } => {
                    let latency = (m.created_at - *opened).num_microseconds().unwrap_or(0).max(0);
                    self.allocation.observe(latency as f64 / 1e6);
                }
                DomainEvent::SlaWarning { .. } => {
                    self.sla.get_or_create(&Kind { kind: "warning".into() }).inc();
                }
                DomainEvent::SlaBreached { .. } => {
                    self.sla.get_or_create(&Kind { kind: "breach".into() }).inc();
                }
                _ => {}
            }
        }
    }
}

/// Middleware: counts each request by its route template (`/tickets/{id}/`, never the concrete path, so
/// the number of series stays bounded) and status, with its latency.
pub async fn track(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(metrics) = state.metrics.clone() else {
        return next.run(request).await;
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
