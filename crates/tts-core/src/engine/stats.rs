//! Counters of the commands this engine ran: what a metrics endpoint exports (the engine depends on no
//! metrics library; the shell reads [`Engine::stats`] when scraped).

use super::Engine;
use std::sync::atomic::{AtomicU64, Ordering};

/// The counters, updated by the command runner.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    committed: AtomicU64,
    failed: AtomicU64,
    retries: AtomicU64,
}

/// What the engine's commands did since it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EngineStats {
    /// Commands that succeeded (committed, or read what they asked for).
    pub commands_ok: u64,
    /// Commands that ended in an error (refused input included).
    pub commands_failed: u64,
    /// Runs of a command again after it lost a race (a retryable conflict).
    pub retries: u64,
}

impl Counters {
    /// Records one finished command and how many times it was run again.
    pub(crate) fn finished(&self, ok: bool, retries: u32) {
        let counter = if ok { &self.committed } else { &self.failed };
        counter.fetch_add(1, Ordering::Relaxed);
        if retries > 0 {
            self.retries.fetch_add(u64::from(retries), Ordering::Relaxed);
        }
    }
}

impl Engine {
    /// The command counters since this engine started.
    pub fn stats(&self) -> EngineStats {
        EngineStats {
            commands_ok: self.counters.committed.load(Ordering::Relaxed),
            commands_failed: self.counters.failed.load(Ordering::Relaxed),
            retries: self.counters.retries.load(Ordering::Relaxed),
        }
    }
}
