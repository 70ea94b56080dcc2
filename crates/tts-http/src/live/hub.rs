//! The hub: fans committed events out to the connected feeds, and counts sockets per user and per
//! process so neither can grow without bound.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;
use tts_core::ports::EventFeed;
use tts_core::{DomainEvent, UserId};

/// Most open feeds one user may hold (tabs, devices).
pub const SOCKETS_PER_USER: usize = 8;
/// Most open feeds one process holds.
pub const SOCKETS_PER_PROCESS: usize = 10_000;

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_user: HashMap<UserId, usize>,
}

/// Fans published events out to every connected feed.
#[derive(Debug, Clone)]
pub struct LiveHub {
    tx: broadcast::Sender<Arc<DomainEvent>>,
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
        LiveHub {
            tx: broadcast::channel(capacity.max(1)).0,
            closed: tokio::sync::watch::channel(false).0,
            counts: Arc::default(),
        }
    }

    /// Ends every open feed (on shutdown, so draining connections does not wait for WebSocket clients).
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Publishes an event to the connected feeds (nothing happens when none is connected).
    pub fn send(&self, event: DomainEvent) {
        let _ = self.tx.send(Arc::new(event));
    }

    /// A new subscription.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<DomainEvent>> {
        self.tx.subscribe()
    }

    /// Open feeds in this process.
    pub fn open_feeds(&self) -> usize {
        self.counts.lock().unwrap_or_else(|p| p.into_inner()).total
    }

    /// Takes a place for one more feed of `user`, unless a cap is reached.
    pub(super) fn take_slot(&self, user: UserId) -> Result<Slot, Full> {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.total >= SOCKETS_PER_PROCESS {
            return Err(Full::Process);
        }
        let mine = counts.per_user.entry(user).or_default();
        if *mine >= SOCKETS_PER_USER {
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
    fn publish(&self, events: &[DomainEvent]) {
        for event in events {
            self.send(event.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_user_and_slots_come_back() {
        let hub = LiveHub::new(4);
        let (ada, bob) = (UserId(uuid::Uuid::from_u128(1)), UserId(uuid::Uuid::from_u128(2)));
        let slots: Vec<Slot> = (0..SOCKETS_PER_USER)
            .map(|_| hub.take_slot(ada).expect("slot"))
            .collect();
        assert_eq!(hub.take_slot(ada).unwrap_err(), Full::User);
        let other = hub.take_slot(bob).expect("another user");
        assert_eq!(hub.open_feeds(), SOCKETS_PER_USER + 1);
        drop(slots);
        drop(other);
        assert_eq!(hub.open_feeds(), 0);
        hub.take_slot(ada).expect("free again");
    }
}
