//! Ticket keys foreseen: where a PostgreSQL store last saw the ticket counters stand, so that its next
//! create can take the keys that follow without a statement of its own.
//!
//! Taking keys the usual way is a statement whose rows the unit needs at once, so the unit opens its
//! transaction for it: `BEGIN`, the counters, the tickets' rows, `COMMIT`, four round trips for a batch
//! of creates. A store that has just seen the counters move (its own last create) knows the next keys
//! unless another server took some meanwhile. It hands them out and the unit writes the counters'
//! move with its tickets, checked inside that one statement
//! ([`super::dialect::Dialect::take_foretold_ticket_keys`]): when another unit moved a counter first,
//! the statement aborts as a serialization failure, nothing of it is kept, and the engine runs the
//! command again, which then takes its keys the usual way. So a batch of creates is one statement
//! and one round trip, and numbers stay exact: a number is used only if the counter moved over it in
//! the same statement.
//!
//! One unit at a time holds the forecast; a unit that held it and did not commit pauses forecasting
//! for [`MISS_PAUSE`] (another server is probably creating too; each miss costs a statement that is
//! rolled back).

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a store takes its keys the usual way after a unit that used the forecast did not commit.
pub(crate) const MISS_PAUSE: Duration = Duration::from_secs(1);

/// Where the ticket counters stood after a unit moved them: the last number of `year` and the last id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counters {
    pub(crate) year: i32,
    pub(crate) last_seq: i64,
    pub(crate) last_id: i64,
}

/// A store's forecast of its ticket counters, shared by its units.
#[derive(Debug, Default)]
pub(crate) struct KeyForecast(Mutex<State>);

#[derive(Debug, Default)]
struct State {
    /// The counters as last seen, unless a unit holds them.
    known: Option<Counters>,
    /// No forecast until then (a unit that used one did not commit).
    paused_until: Option<Instant>,
}

impl KeyForecast {
    /// Where the counters of `year` stand, if this store knows and no other unit of it holds them: the
    /// caller then holds them until it [`Self::learn`]s their next place or [`Self::miss`]es.
    pub(crate) fn lend(&self, year: i32) -> Option<Counters> {
        let mut state = self.state();
        if state.paused_until.is_some_and(|until| Instant::now() < until) {
            return None;
        }
        state.paused_until = None;
        match state.known {
            Some(c) if c.year == year => state.known.take(),
            _ => None,
        }
    }

    /// Where a committed unit left the counters; the later of two reports wins, so a slow unit's commit
    /// never moves the forecast back.
    pub(crate) fn learn(&self, seen: Counters) {
        let mut state = self.state();
        match state.known {
            Some(k) if k.year == seen.year && k.last_id >= seen.last_id => {}
            _ => state.known = Some(seen),
        }
    }

    /// A unit that held the forecast did not commit: forget it and pause.
    pub(crate) fn miss(&self) {
        let mut state = self.state();
        state.known = None;
        state.paused_until = Some(Instant::now() + MISS_PAUSE);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What a unit did with the ticket counters, reported to its store's forecast when the unit ends.
#[derive(Debug)]
pub(crate) struct KeysTaken {
    forecast: std::sync::Arc<KeyForecast>,
    /// Where the counters stand after this unit's moves.
    pub(crate) after: Counters,
    /// Whether the unit holds the forecast (it took foreseen keys).
    lent: bool,
    /// Whether the unit committed.
    committed: bool,
}

impl KeysTaken {
    /// A unit moved the counters to `after`, with foreseen keys (`lent`) or the usual way.
    pub(crate) fn new(forecast: std::sync::Arc<KeyForecast>, after: Counters, lent: bool) -> Self {
        KeysTaken {
            forecast,
            after,
            lent,
            committed: false,
        }
    }

    /// The same unit moved the counters again (the usual way), to `after`; it still holds the forecast
    /// if it did.
    pub(crate) fn moved(mut self, after: Counters) -> Self {
        self.after = after;
        self
    }

    /// The unit committed: the forecast learns where it left the counters.
    pub(crate) fn committed(mut self) {
        self.committed = true;
        self.forecast.learn(self.after);
    }
}

impl Drop for KeysTaken {
    /// A unit that held the forecast and did not commit makes it miss.
    fn drop(&mut self) {
        if self.lent && !self.committed {
            self.forecast.miss();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Counters, KeyForecast, KeysTaken};
    use std::sync::Arc;

    const AT: Counters = Counters {
        year: 2026,
        last_seq: 7,
        last_id: 40,
    };

    #[test]
    fn one_unit_at_a_time_holds_the_forecast_of_its_year() {
        let f = KeyForecast::default();
        assert_eq!(f.lend(2026), None, "nothing is known before a unit moved the counters");
        f.learn(AT);
        assert_eq!(f.lend(2027), None, "another year's counter is not known");
        assert_eq!(f.lend(2026), Some(AT));
        assert_eq!(f.lend(2026), None, "held by the first unit");
    }

    #[test]
    fn a_slower_commit_never_moves_the_forecast_back() {
        let f = KeyForecast::default();
        f.learn(Counters { last_id: 45, ..AT });
        f.learn(AT);
        assert_eq!(f.lend(2026).map(|c| c.last_id), Some(45));
    }

    #[test]
    fn a_unit_that_held_the_forecast_and_did_not_commit_pauses_it() {
        let f = Arc::new(KeyForecast::default());
        f.learn(AT);
        let held = f.lend(2026).expect("lent");
        drop(KeysTaken::new(Arc::clone(&f), held, true));
        f.learn(AT);
        assert_eq!(f.lend(2026), None, "paused after a miss");
    }

    #[test]
    fn a_committed_unit_teaches_the_forecast_where_it_left_the_counters() {
        let f = Arc::new(KeyForecast::default());
        let after = Counters { last_seq: 9, ..AT };
        KeysTaken::new(Arc::clone(&f), after, false).committed();
        assert_eq!(f.lend(2026), Some(after));
        drop(KeysTaken::new(Arc::clone(&f), AT, false));
        f.learn(after);
        assert_eq!(
            f.lend(2026),
            Some(after),
            "a unit that took keys the usual way never pauses it"
        );
    }

    #[test]
    fn a_unit_that_moves_the_counters_again_still_holds_the_forecast_until_it_commits() {
        let f = Arc::new(KeyForecast::default());
        f.learn(AT);
        let held = f.lend(2026).expect("lent");
        let after = Counters {
            last_seq: 9,
            last_id: 42,
            ..AT
        };
        KeysTaken::new(Arc::clone(&f), held, true).moved(after).committed();
        assert_eq!(f.lend(2026), Some(after), "no pause: the unit committed");
    }
}
