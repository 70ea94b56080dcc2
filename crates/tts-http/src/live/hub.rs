//! The hub: decides once per committed event who may see it and renders it once, fans it out to the
//! connected feeds (each checks its viewer against the event's [`Reach`] without reading anything), and
//! counts sockets per user and per process so neither can grow without bound.

use axum::extract::ws::Utf8Bytes;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tts_core::domain::visibility::Reach;
use tts_core::ports::EventFeed;
use tts_core::{DomainEvent, Engine, OutboxMessage, UserId};

/// Batches of committed events waiting for their reach to be decided; beyond this the feed drops them
/// (and logs) rather than grow.
const BACKLOG: usize = 1024;

/// One event as every feed shows it: its JSON text, rendered once, and who may see it.
#[derive(Debug)]
pub struct LiveEvent {
    /// The message: the event's fields with its `type`, `id` and `at` (shared by every feed, not
    /// copied).
    pub text: Utf8Bytes,
    /// Who may see it.
    pub reach: Reach,
}

/// Most open feeds one user may hold (tabs, devices), unless configured otherwise.
pub const SOCKETS_PER_USER: usize = 8;
/// Most open feeds one process holds, unless configured otherwise.
pub const SOCKETS_PER_PROCESS: usize = 10_000;

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_user: HashMap<UserId, usize>,
}

/// Fans published events out to every connected feed.
#[derive(Debug, Clone)]
pub struct LiveHub {
    tx: broadcast::Sender<Arc<LiveEvent>>,
    incoming: mpsc::Sender<Vec<OutboxMessage>>,
    waiting: Arc<Mutex<Option<mpsc::Receiver<Vec<OutboxMessage>>>>>,
    pub(super) closed: tokio::sync::watch::Sender<bool>,
    counts: Arc<Mutex<Counts>>,
}

/// An open feed's place in the counts; given back when dropped.
#[derive(Debug)]
pub(super) struct Slot {
    counts: Arc<Mutex<Counts>>,
    user: UserId,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_user.get_mut(&self.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.per_user.remove(&self.user);
            }
        }
    }
}

/// Why a feed was refused.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Full {
    /// The user holds [`SOCKETS_PER_USER`] feeds.
    User,
    /// The process holds [`SOCKETS_PER_PROCESS`] feeds.
    Process,
}

impl LiveHub {
    /// A hub keeping up to `capacity` events for each feed; a feed that falls further behind is closed.
    pub fn new(capacity: usize) -> Self {
        let (incoming, waiting) = mpsc::channel(BACKLOG);
        LiveHub {
            tx: broadcast::channel(capacity.max(1)).0,
            incoming,
            waiting: Arc::new(Mutex::new(Some(waiting))),
            closed: tokio::sync::watch::channel(false).0,
            counts: Arc::default(),
        }
    }

    /// Ends every open feed (on shutdown, so draining connections does not wait for WebSocket clients).
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Starts deciding who may see each published event, with `engine`'s one read per event (none while
    /// no feed is connected). The first call starts it; later calls do nothing and return `None`.
    pub fn attach(&self, engine: Arc<Engine>) -> Option<JoinHandle<()>> {
        let waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner()).take()?;
        Some(tokio::spawn(decide(engine, waiting, self.tx.clone())))
    }

    /// A new subscription.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.tx.subscribe()
    }

    /// Open feeds in this process.
    pub fn open_feeds(&self) -> usize {
        self.counts.lock().unwrap_or_else(|p| p.into_inner()).total
    }

    /// Takes a place for one more feed of `user`, unless a cap (`per_user`, `per_process`) is reached.
    pub(super) fn take_slot(&self, user: UserId, per_user: usize, per_process: usize) -> Result<Slot, Full> {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.total >= per_process {
            return Err(Full::Process);
        }
        let mine = counts.per_user.entry(user).or_default();
        if *mine >= per_user {
            return Err(Full::User);
        }
        *mine += 1;
        counts.total += 1;
        Ok(Slot {
            counts: Arc::clone(&self.counts),
            user,
        })
    }
}

impl EventFeed for LiveHub {
    fn publish(&self, events: &[OutboxMessage]) {
        if self.tx.receiver_count() == 0 {
            return;
        }
        if self.incoming.try_send(events.to_vec()).is_err() {
            tracing::warn!(
                events = events.len(),
                "live feed backlog full; connected feeds miss these events"
            );
        }
    }
}

/// Decides each event's reach once and sends it, rendered, to every feed.
async fn decide(
    engine: Arc<Engine>,
    mut waiting: mpsc::Receiver<Vec<OutboxMessage>>,
    tx: broadcast::Sender<Arc<LiveEvent>>,
) {
    while let Some(batch) = waiting.recv().await {
        for message in batch {
            if tx.receiver_count() == 0 {
                break;
            }
            match engine.event_reach(&message.event).await {
                Ok(Some(reach)) => {
                    let text = Utf8Bytes::from(render(&message).to_string());
                    let _ = tx.send(Arc::new(LiveEvent { text, reach }));
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, kind = message.event.kind(), "live feed skipped an event"),
            }
        }
    }
}

/// The JSON a feed sends for a message: a notification as `{"type": "notification", ...}`, any other
/// event with its own fields; both with the message `id` and its time `at`.
pub(super) fn render(message: &OutboxMessage) -> Value {
    let mut value = match &message.event {
        DomainEvent::NotificationRequested { request } => json!({
            "type": "notification",
            "kind": request.kind,
            "subject": request.subject,
            "message": request.message,
            "related_ticket": request.related_ticket,
            "related_task": request.related_task,
        }),
        event => serde_json::to_value(event).unwrap_or(Value::Null),
    };
    if let Some(fields) = value.as_object_mut() {
        fields.insert("id".into(), json!(message.id));
        fields.insert("at".into(), json!(message.created_at));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_user_and_slots_come_back() {
        let hub = LiveHub::new(4);
        let (ada, bob) = (UserId(uuid::Uuid::from_u128(1)), UserId(uuid::Uuid::from_u128(2)));
        let slots: Vec<Slot> = (0..SOCKETS_PER_USER)
            .map(|_| hub.take_slot(ada, SOCKETS_PER_USER, SOCKETS_PER_PROCESS).expect("slot"))
            .collect();
        assert_eq!(
            hub.take_slot(ada, SOCKETS_PER_USER, SOCKETS_PER_PROCESS).unwrap_err(),
            Full::User
        );
        let other = hub
            .take_slot(bob, SOCKETS_PER_USER, SOCKETS_PER_PROCESS)
            .expect("another user");
        assert_eq!(hub.open_feeds(), SOCKETS_PER_USER + 1);
        drop(slots);
        drop(other);
        assert_eq!(hub.open_feeds(), 0);
        hub.take_slot(ada, SOCKETS_PER_USER, SOCKETS_PER_PROCESS)
            .expect("free again");
    }
}
