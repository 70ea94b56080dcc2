//! What a backend hands the suite: fresh stores ([`Fresh`]), and for the locking cases two handles on one
//! database plus the async runtime to race them on ([`Handles`], [`Runtime`]), sized by [`Scale`].

use crate::ports::store::Store;
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A boxed, spawnable unit of concurrent work.
pub type BoxTask = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// The async runtime the locking cases race on. tts-core has none of its own: the
/// [`store_conformance!`](crate::store_conformance) macro implements this with tokio in the calling crate.
pub trait Runtime: Send + Sync + 'static {
    /// Starts `task` at once, in parallel with the caller where the runtime allows; the returned future
    /// completes when the task has, and re-raises its panic.
    fn spawn(&self, task: BoxTask) -> BoxTask;
    /// Waits for `duration` without blocking the thread.
    fn sleep(&self, duration: Duration) -> BoxTask;
}

/// How much work the locking cases do. The defaults suit a 2-core CI machine and still show fairness
/// and the absence of deadlocks; [`Scale::THOROUGH`] is what the adapters used to run (1,000 tickets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    /// Tickets created and allocated by the round-robin and batch cases; rounded down to a multiple of
    /// 10 (two roles of 5 users get exact shares).
    pub tickets: usize,
    /// Concurrent tasks per handle creating tickets (and taking ticket numbers).
    pub workers: usize,
    /// Rounds of the two-contender races (actions, idempotency keys, refreshes, first picks...).
    pub rounds: usize,
}

impl Scale {
    /// The default: 200 tickets, 4 workers per handle, 5 rounds per race.
    pub const CI: Scale = Scale {
        tickets: 200,
        workers: 4,
        rounds: 5,
    };

    /// A deeper run: 1,000 tickets, 8 workers per handle, 20 rounds per race.
    pub const THOROUGH: Scale = Scale {
        tickets: 1_000,
        workers: 8,
        rounds: 20,
    };

    /// Tickets, rounded down to a multiple of 10 and at least 10.
    pub fn tickets(&self) -> usize {
        (self.tickets / 10).max(1) * 10
    }
}

impl Default for Scale {
    fn default() -> Self {
        Scale::CI
    }
}

/// A fresh, empty database opened for one case: one handle (a store), or two handles on the same
/// database for the locking cases, plus whatever must live as long as the case (a temporary directory,
/// a throw-away PostgreSQL database). Handles are dropped before what is kept.
pub struct Fresh {
    a: Arc<dyn Store>,
    b: Option<Arc<dyn Store>>,
    keep: Vec<Box<dyn Any + Send>>,
}

impl fmt::Debug for Fresh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fresh")
            .field("a", &self.a)
            .field("b", &self.b)
            .field("kept", &self.keep.len())
            .finish()
    }
}

impl Fresh {
    /// One store.
    pub fn new(store: impl Store) -> Self {
        Fresh::from_arc(Arc::new(store))
    }

    /// One store, already shared.
    pub fn from_arc(store: Arc<dyn Store>) -> Self {
        Fresh {
            a: store,
            b: None,
            keep: Vec::new(),
        }
    }

    /// Two handles on one database (two connection pools: two "servers").
    pub fn two(a: impl Store, b: impl Store) -> Self {
        Fresh {
            a: Arc::new(a),
            b: Some(Arc::new(b)),
            keep: Vec::new(),
        }
    }

    /// One handle that serves as both, for stores whose state lives in the handle (the memory store).
    /// A store that can open a second handle on the same database must use [`Fresh::two`], or the locking
    /// cases never race two servers.
    pub fn shared(store: Arc<dyn Store>) -> Self {
        Fresh {
            b: Some(Arc::clone(&store)),
            a: store,
            keep: Vec::new(),
        }
    }

    /// Keeps `guard` alive until the case ends (dropped after the handles).
    pub fn keep(mut self, guard: impl Any + Send) -> Self {
        self.keep.push(Box::new(guard));
        self
    }

    /// The (first) store.
    pub fn store(&self) -> &dyn Store {
        &*self.a
    }

    /// The (first) store, shared.
    pub fn arc(&self) -> Arc<dyn Store> {
        Arc::clone(&self.a)
    }

    /// Both handles with the runtime and scale the locking cases take.
    ///
    /// # Panics
    /// When this was made with one handle ([`Fresh::new`], [`Fresh::from_arc`]).
    pub fn handles(&self, runtime: Arc<dyn Runtime>, scale: Scale) -> Handles {
        let b = self.b.clone().unwrap_or_else(|| {
            panic!("the locking cases need two handles on one database: make them with Fresh::two (or Fresh::shared)")
        });
        Handles {
            a: Arc::clone(&self.a),
            b,
            runtime,
            scale,
        }
    }
}

/// What every locking case takes: two handles on one fresh database, the runtime, and the scale.
#[derive(Clone)]
pub struct Handles {
    /// The first handle ("server A").
    pub a: Arc<dyn Store>,
    /// The second handle on the same database ("server B").
    pub b: Arc<dyn Store>,
    /// Where to spawn and sleep.
    pub runtime: Arc<dyn Runtime>,
    /// How much work to do.
    pub scale: Scale,
}

impl fmt::Debug for Handles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handles")
            .field("a", &self.a)
            .field("b", &self.b)
            .field("scale", &self.scale)
            .finish_non_exhaustive()
    }
}

impl Handles {
    /// Handle `i % 2`: spreads workers over both servers.
    pub fn handle(&self, i: usize) -> Arc<dyn Store> {
        Arc::clone(if i.is_multiple_of(2) { &self.a } else { &self.b })
    }

    /// Spawns `task` now and returns a future of its output (re-raising its panic).
    pub fn spawn<T: Send + 'static>(
        &self,
        task: impl Future<Output = T> + Send + 'static,
    ) -> impl Future<Output = T> + Send + 'static {
        let slot = Arc::new(Mutex::new(None));
        let filled = Arc::clone(&slot);
        let join = self.runtime.spawn(Box::pin(async move {
            let value = task.await;
            *filled.lock().unwrap_or_else(|p| p.into_inner()) = Some(value);
        }));
        async move {
            join.await;
            let value = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
            value.expect("a spawned task that completed left its output")
        }
    }

    /// Sleeps on the runtime.
    pub async fn sleep(&self, duration: Duration) {
        self.runtime.sleep(duration).await;
    }
}
