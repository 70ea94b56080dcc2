//! Counting what a SQL store's units send to the database ([`tts_core::ports::StoreTraffic`]): the
//! statements per command are what the performance work measures, so they are counted where every
//! unit's call passes, not estimated.

use std::sync::atomic::{AtomicU64, Ordering};
use tts_core::ports::StoreTraffic;

/// A store's running counts, shared by its units (relaxed atomics: they are totals, not a protocol).
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    statements: AtomicU64,
    round_trips: AtomicU64,
    commits: AtomicU64,
    units: AtomicU64,
    /// Commits of write units (a SQLite group's `COMMIT` once): what the WAL checkpointer watches.
    write_commits: AtomicU64,
}

impl Traffic {
    /// One call carrying `statements` statements.
    pub(crate) fn call(&self, statements: usize) {
        self.statements.fetch_add(statements as u64, Ordering::Relaxed);
        self.round_trips.fetch_add(1, Ordering::Relaxed);
    }

    /// A `COMMIT` sent (its call is counted by [`Traffic::call`]), of a unit that may have written.
    pub(crate) fn commit(&self, writes: bool) {
        self.commits.fetch_add(1, Ordering::Relaxed);
        if writes {
            self.write_commits.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Commits of write units so far.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub(crate) fn write_commits(&self) -> u64 {
        self.write_commits.load(Ordering::Relaxed)
    }

    /// A unit of work opened.
    pub(crate) fn unit(&self) {
        self.units.fetch_add(1, Ordering::Relaxed);
    }

    /// The totals now.
    pub(crate) fn totals(&self) -> StoreTraffic {
        StoreTraffic {
            statements: self.statements.load(Ordering::Relaxed),
            round_trips: self.round_trips.load(Ordering::Relaxed),
            commits: self.commits.load(Ordering::Relaxed),
            units: self.units.load(Ordering::Relaxed),
        }
    }
}
