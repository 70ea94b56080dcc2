//! A runtime-free "something new was written to the outbox" signal, so a relay in the same process can
//! publish at once instead of waiting for its next poll.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

/// Counts outbox commits and wakes whoever waits for the next one.
#[derive(Debug, Default)]
pub struct OutboxSignal {
    commits: AtomicU64,
    wakers: Mutex<Vec<Waker>>,
}

impl OutboxSignal {
    /// How many outbox-writing commits this process has seen; pass it to [`OutboxSignal::after`].
    pub fn current(&self) -> u64 {
        self.commits.load(Ordering::Acquire)
    }

    /// Records a commit that wrote outbox messages and wakes the waiters.
    pub fn notify(&self) {
        self.commits.fetch_add(1, Ordering::AcqRel);
        let wakers = std::mem::take(&mut *self.wakers.lock().unwrap_or_else(|p| p.into_inner()));
        for w in wakers {
            w.wake();
        }
    }

    /// Resolves once a commit happened after `seen` was read from [`OutboxSignal::current`].
    pub fn after(&self, seen: u64) -> impl Future<Output = ()> + '_ {
        After { signal: self, seen }
    }
}

struct After<'a> {
    signal: &'a OutboxSignal,
    seen: u64,
}

impl Future for After<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.signal.current() != self.seen {
            return Poll::Ready(());
        }
        {
            let mut wakers = self.signal.wakers.lock().unwrap_or_else(|p| p.into_inner());
            if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
                wakers.push(cx.waker().clone());
            }
        }
        // A notify between the first check and the registration must not be lost.
        if self.signal.current() != self.seen {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::Wake;

    struct Flag(std::sync::atomic::AtomicBool);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn wakes_after_a_notify_and_not_before() {
        let signal = OutboxSignal::default();
        let seen = signal.current();
        let flag = Arc::new(Flag(false.into()));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let mut fut = Box::pin(signal.after(seen));
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        signal.notify();
        assert!(flag.0.load(Ordering::SeqCst));
        assert!(fut.as_mut().poll(&mut cx).is_ready());
        // Waiting from an older count resolves at once.
        assert!(Box::pin(signal.after(seen)).as_mut().poll(&mut cx).is_ready());
    }
}
