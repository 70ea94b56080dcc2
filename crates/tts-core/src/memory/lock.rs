//! A runtime-free async mutex: the memory store's one lock, held for a whole unit of work.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};

#[derive(Debug)]
struct Slot<T> {
    value: Option<T>,
    waiters: VecDeque<Waker>,
}

/// An async lock that owns its value; the guard carries the value out and puts it back on drop.
#[derive(Debug)]
pub(crate) struct AsyncLock<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

fn lock_slot<T>(slot: &Mutex<Slot<T>>) -> MutexGuard<'_, Slot<T>> {
    slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<T: Send> AsyncLock<T> {
    pub(crate) fn new(value: T) -> Self {
        AsyncLock {
            slot: Arc::new(Mutex::new(Slot {
                value: Some(value),
                waiters: VecDeque::new(),
            })),
        }
    }

    /// Waits until the value is free and takes it.
    pub(crate) async fn lock(&self) -> LockGuard<T> {
        poll_fn(|cx| {
            let mut slot = lock_slot(&self.slot);
            match slot.value.take() {
                Some(value) => Poll::Ready(LockGuard {
                    value: Some(value),
                    slot: Arc::clone(&self.slot),
                }),
                None => {
                    if !slot.waiters.iter().any(|w| w.will_wake(cx.waker())) {
                        slot.waiters.push_back(cx.waker().clone());
                    }
                    Poll::Pending
                }
            }
        })
        .await
    }
}

/// Exclusive access to the locked value until dropped.
#[derive(Debug)]
pub(crate) struct LockGuard<T> {
    value: Option<T>,
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T> Deref for LockGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value.as_ref().expect("value present until drop")
    }
}

impl<T> DerefMut for LockGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value.as_mut().expect("value present until drop")
    }
}

impl<T> Drop for LockGuard<T> {
    fn drop(&mut self) {
        let mut slot = lock_slot(&self.slot);
        slot.value = self.value.take();
        // Wake every waiter: a woken future that was cancelled must not strand the others.
        for w in slot.waiters.drain(..) {
            w.wake();
        }
    }
}
