//! An in-process queue: the reference [`Queue`] for tests and single-process embedders that want the
//! broker code path without a broker (the embedded default needs no queue: the outbox is the queue).
//!
//! Waiting consumers are `event_listener` listeners: a wait that is dropped (a consumer's poll timer
//! fired first) unregisters itself, so an idle server accumulates nothing.

use crate::error::{Error, Result};
use crate::ports::queue::{Delivery, Queue, QueueMessage};
use async_trait::async_trait;
use event_listener::Event;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
struct Lane {
    ready: VecDeque<(QueueMessage, u32)>,
    unacked: HashMap<u64, (QueueMessage, u32)>,
    /// Retried messages with the instant they are due.
    delayed: Vec<(Instant, QueueMessage, u32)>,
    /// Wakes consumers waiting on this lane; shared so a waiter can listen after the state lock is gone.
    arrived: Arc<Event>,
}

impl Lane {
    fn push(&mut self, message: QueueMessage, attempt: u32, front: bool) {
        if front {
            self.ready.push_front((message, attempt));
        } else {
            self.ready.push_back((message, attempt));
        }
        self.arrived.notify(usize::MAX);
    }

    /// Moves retried messages that fell due to the front of the line.
    fn promote_due(&mut self) {
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.delayed)
            .into_iter()
            .partition(|(at, _, _)| *at <= now);
        self.delayed = later;
        for (_, message, attempt) in due.into_iter().rev() {
            self.push(message, attempt, true);
        }
    }
}

#[derive(Debug, Default)]
struct State {
    lanes: HashMap<String, Lane>,
    next_tag: u64,
}

/// Queues in process memory: at-least-once with acks and delayed redelivery. Messages do not survive the
/// process (the outbox does: unsent messages are relayed again on start). A retry's delay is kept by a
/// short-lived timer thread that wakes the waiting consumers when it falls due.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    state: Mutex<State>,
}

impl MemoryQueue {
    /// Empty queues.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Messages ready (not in flight) on a queue.
    pub fn ready_len(&self, queue: &str) -> usize {
        self.state().lanes.get(queue).map_or(0, |l| l.ready.len())
    }

    /// Consumers waiting on a queue right now (cancelled waits do not count: they unregister).
    pub fn waiters(&self, queue: &str) -> usize {
        self.state().lanes.get(queue).map_or(0, |l| l.arrived.total_listeners())
    }
}

fn unknown_delivery(d: &Delivery) -> Error {
    Error::not_found("delivery", format!("{}#{}", d.queue, d.tag))
}

#[async_trait]
impl Queue for MemoryQueue {
    async fn publish(&self, queue: &str, message: &QueueMessage) -> Result<()> {
        self.state()
            .lanes
            .entry(queue.to_string())
            .or_default()
            .push(message.clone(), 1, false);
        Ok(())
    }

    async fn receive(&self, queue: &str) -> Result<Option<Delivery>> {
        let mut state = self.state();
        state.next_tag += 1;
        let tag = state.next_tag;
        let Some(lane) = state.lanes.get_mut(queue) else {
            return Ok(None);
        };
        lane.promote_due();
        let Some((message, attempt)) = lane.ready.pop_front() else {
            return Ok(None);
        };
        lane.unacked.insert(tag, (message.clone(), attempt));
        Ok(Some(Delivery {
            queue: queue.to_string(),
            tag,
            attempt,
            message,
        }))
    }

    async fn wait(&self, queue: &str) {
        let listener = {
            let mut state = self.state();
            let lane = state.lanes.entry(queue.to_string()).or_default();
            lane.promote_due();
            if !lane.ready.is_empty() {
                return;
            }
            // Registered under the state lock: a publish after this point notifies it.
            lane.arrived.listen()
        };
        listener.await;
    }

    async fn ack(&self, delivery: &Delivery) -> Result<()> {
        let mut state = self.state();
        let lane = state
            .lanes
            .get_mut(&delivery.queue)
            .ok_or_else(|| unknown_delivery(delivery))?;
        lane.unacked
            .remove(&delivery.tag)
            .map(|_| ())
            .ok_or_else(|| unknown_delivery(delivery))
    }

    async fn retry(&self, delivery: &Delivery, delay: Duration) -> Result<()> {
        let mut state = self.state();
        let lane = state
            .lanes
            .get_mut(&delivery.queue)
            .ok_or_else(|| unknown_delivery(delivery))?;
        let (message, attempt) = lane
            .unacked
            .remove(&delivery.tag)
            .ok_or_else(|| unknown_delivery(delivery))?;
        if delay.is_zero() {
            lane.push(message, attempt + 1, true);
            return Ok(());
        }
        lane.delayed.push((Instant::now() + delay, message, attempt + 1));
        let arrived = Arc::clone(&lane.arrived);
        std::thread::spawn(move || {
            std::thread::sleep(delay);
            arrived.notify(usize::MAX);
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::task::{Context, Waker};

    /// A consumer that waits 250 ms at a time and gives up, for an idle minute: nothing piles up.
    #[test]
    fn cancelled_waits_leave_no_waker_behind() {
        let queue = MemoryQueue::new();
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..240 {
            let mut wait = Box::pin(queue.wait("q"));
            assert!(wait.as_mut().poll(&mut cx).is_pending());
            assert!(wait.as_mut().poll(&mut cx).is_pending(), "polling twice registers once");
            assert_eq!(queue.waiters("q"), 1);
        }
        assert_eq!(queue.waiters("q"), 0, "every dropped wait unregistered");
        let mut wait = Box::pin(queue.wait("q"));
        assert!(wait.as_mut().poll(&mut cx).is_pending());
        let message = QueueMessage {
            id: crate::ids::MessageId(uuid::Uuid::now_v7()),
            kind: "k".into(),
            payload: serde_json::Value::Null,
        };
        futures_ready(queue.publish("q", &message)).expect("publish");
        assert!(wait.as_mut().poll(&mut cx).is_ready(), "a publish wakes the waiter");
    }

    fn futures_ready<F: Future>(f: F) -> F::Output {
        let mut f = Box::pin(f);
        match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("the memory queue never waits to publish"),
        }
    }
}
