//! A runtime-free "something new was written to the outbox" signal, so a relay or a consumer in the same
//! process can act at once instead of waiting for its next poll. Waiting is an `event_listener` listener,
//! which unregisters itself when the wait is dropped: a loop that gives up waiting (its poll timer fired)
//! leaves nothing behind.
//!
//! Two kinds of waits: the relay's ([`OutboxSignal::after`]) wakes on every outbox commit; a consumer's
//! ([`OutboxSignal::queue`]) only on commits that wrote to its queue, and one waiting loop per commit,
//! because one loop takes a whole batch: waking every idle loop of every queue on every commit cost
//! each of them a look at the outbox for nothing (benches/README.md, "Session 13").

use event_listener::Event;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Counts commits and wakes whoever waits for the next one.
#[derive(Debug, Default)]
pub struct Wakeup {
    commits: AtomicU64,
    event: Event,
}

impl Wakeup {
    /// How many commits this wake-up has seen; pass it to [`Wakeup::after`].
    pub fn current(&self) -> u64 {
        self.commits.load(Ordering::Acquire)
    }

    /// Records a commit and wakes `waiters` of the loops waiting (`usize::MAX`: all of them). A loop
    /// that was busy meanwhile sees the count moved when it next waits, so no commit goes unnoticed.
    fn notify(&self, waiters: usize) {
        self.commits.fetch_add(1, Ordering::AcqRel);
        self.event.notify(waiters);
    }

    /// Resolves once a commit happened after `seen` was read from [`Wakeup::current`].
    pub async fn after(&self, seen: u64) {
        loop {
            if self.current() != seen {
                return;
            }
            let listener = self.event.listen();
            // A notify between the first check and the registration must not be lost.
            if self.current() != seen {
                return;
            }
            listener.await;
        }
    }

    /// Waits registered right now (for tests that check cancelled waits leave nothing behind).
    pub fn waiters(&self) -> usize {
        self.event.total_listeners()
    }
}

/// Outbox commits of this process: every one (for the relay) and per queue (for its consumers).
#[derive(Debug, Default)]
pub struct OutboxSignal {
    any: Wakeup,
    queues: RwLock<HashMap<String, Arc<Wakeup>>>,
}

impl OutboxSignal {
    /// How many outbox-writing commits this process has seen; pass it to [`OutboxSignal::after`].
    pub fn current(&self) -> u64 {
        self.any.current()
    }

    /// Resolves once any outbox commit happened after `seen` was read from [`OutboxSignal::current`].
    pub async fn after(&self, seen: u64) {
        self.any.after(seen).await;
    }

    /// The wake-up of one queue's consumers: it moves on commits that wrote a message to `queue`.
    pub fn queue(&self, queue: &str) -> Arc<Wakeup> {
        if let Some(w) = self.queues.read().unwrap_or_else(|p| p.into_inner()).get(queue) {
            return Arc::clone(w);
        }
        let mut queues = self.queues.write().unwrap_or_else(|p| p.into_inner());
        Arc::clone(queues.entry(queue.to_string()).or_default())
    }

    /// Records a commit that wrote messages to `queues` (repeats are fine): wakes the relay and one
    /// waiting consumer loop of each queue.
    pub fn notify_queues<'a>(&self, queues: impl IntoIterator<Item = &'a str>) {
        self.any.notify(usize::MAX);
        let mut woken: Vec<&str> = Vec::new();
        for q in queues {
            if !woken.contains(&q) {
                woken.push(q);
                self.queue(q).notify(1);
            }
        }
    }

    /// Records a commit that may concern any queue (a replayed dead letter): wakes every waiting loop.
    pub fn notify(&self) {
        self.any.notify(usize::MAX);
        for w in self.queues.read().unwrap_or_else(|p| p.into_inner()).values() {
            w.notify(usize::MAX);
        }
    }

    /// Waits on the any-commit signal registered right now (for tests).
    pub fn waiters(&self) -> usize {
        self.any.waiters()
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    struct Flag(std::sync::atomic::AtomicBool);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn wakes_after_a_notify_and_not_before_and_cancelled_waits_leave_nothing() {
        let signal = OutboxSignal::default();
        let seen = signal.current();
        let flag = Arc::new(Flag(false.into()));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        for _ in 0..1_000 {
            // A relay polls its wait and gives up (its timer fired): nothing piles up.
            let mut fut = Box::pin(signal.after(seen));
            assert!(fut.as_mut().poll(&mut cx).is_pending());
            assert!(fut.as_mut().poll(&mut cx).is_pending());
        }
        assert_eq!(signal.waiters(), 0, "dropped waits unregister");
        let mut fut = Box::pin(signal.after(seen));
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        assert_eq!(signal.waiters(), 1);
        signal.notify();
        assert!(flag.0.load(Ordering::SeqCst));
        assert!(matches!(fut.as_mut().poll(&mut cx), Poll::Ready(())));
        // Waiting from an older count resolves at once.
        assert!(Box::pin(signal.after(seen)).as_mut().poll(&mut cx).is_ready());
    }

    #[test]
    fn a_queue_commit_wakes_one_waiting_loop_of_that_queue_and_the_relay_only() {
        let signal = OutboxSignal::default();
        let flags: Vec<Arc<Flag>> = (0..4).map(|_| Arc::new(Flag(false.into()))).collect();
        let tickets = signal.queue("tickets");
        let notes = signal.queue("notifications");
        let (t_seen, n_seen, any_seen) = (tickets.current(), notes.current(), signal.current());
        let mut waits: Vec<std::pin::Pin<Box<dyn Future<Output = ()>>>> = vec![
            Box::pin(tickets.after(t_seen)),
            Box::pin(tickets.after(t_seen)),
            Box::pin(notes.after(n_seen)),
            Box::pin(signal.after(any_seen)),
        ];
        for (wait, flag) in waits.iter_mut().zip(&flags) {
            let waker = Waker::from(Arc::clone(flag));
            assert!(wait.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
        }
        signal.notify_queues(["tickets", "tickets"]);
        let woken: Vec<bool> = flags.iter().map(|f| f.0.load(Ordering::SeqCst)).collect();
        assert_eq!(woken, [true, false, false, true], "one tickets loop and the relay");
        assert_eq!(notes.current(), n_seen, "the notifications queue did not move");
        assert_eq!(tickets.current(), t_seen + 1, "a repeated queue counts once");
        // The tickets loop that was not woken still sees the commit when it next waits.
        assert!(
            Box::pin(tickets.after(t_seen))
                .as_mut()
                .poll(&mut Context::from_waker(&Waker::from(Arc::clone(&flags[1]))))
                .is_ready()
        );
        // A dead letter's replay may concern any queue: it wakes everyone.
        signal.notify();
        assert!(flags[2].0.load(Ordering::SeqCst));
        drop(waits);
        assert_eq!(tickets.waiters() + notes.waiters() + signal.waiters(), 0);
    }
}
