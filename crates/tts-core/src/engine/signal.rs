//! A runtime-free "something new was written to the outbox" signal, so a relay in the same process can
//! publish at once instead of waiting for its next poll. Waiting is an `event_listener` listener, which
//! unregisters itself when the wait is dropped: a relay that gives up waiting (its poll timer fired)
//! leaves nothing behind.

use event_listener::Event;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counts outbox commits and wakes whoever waits for the next one.
#[derive(Debug, Default)]
pub struct OutboxSignal {
    commits: AtomicU64,
    event: Event,
}

impl OutboxSignal {
    /// How many outbox-writing commits this process has seen; pass it to [`OutboxSignal::after`].
    pub fn current(&self) -> u64 {
        self.commits.load(Ordering::Acquire)
    }

    /// Records a commit that wrote outbox messages and wakes the waiters.
    pub fn notify(&self) {
        self.commits.fetch_add(1, Ordering::AcqRel);
        self.event.notify(usize::MAX);
    }

    /// Resolves once a commit happened after `seen` was read from [`OutboxSignal::current`].
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
}
