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
//! command again. So a batch of creates is one statement and one round trip, and numbers stay exact:
//! a number is used only if the counter moved over it in the same statement.
//!
//! **Chained.** While other units of the store that moved the counters are still running (foreseen
//! keys or the usual way), the next one takes the keys after the last of them: it foresees that they
//! commit. Its statement then waits in PostgreSQL on the counters' row locks that they hold, and under
//! READ COMMITTED checks the counters again once they committed, so two batches of creates are written
//! back to back instead of one after the other's answer. Nothing is lent while a usual-way statement
//! is under way (where it leaves the counters is not known yet). When a unit before it did not commit,
//! or its statement reached the database first, the check fails and the command runs again: chaining
//! stops until a usual-way statement has said where the counters are (or every running unit ended).
//!
//! A unit at the head of a chain that did not commit pauses forecasting for [`MISS_PAUSE`] (another
//! server is probably creating too; each miss costs a statement that is rolled back).

use std::sync::{Arc, Mutex};
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

impl Counters {
    /// Where the counters stand after `n` more keys, if the number still fits.
    fn after(self, n: u32) -> Option<Counters> {
        let last_seq = self.last_seq.checked_add(i64::from(n))?;
        u32::try_from(last_seq).ok()?;
        Some(Counters {
            year: self.year,
            last_seq,
            last_id: self.last_id.checked_add(i64::from(n))?,
        })
    }

    /// The later of two places (the counters only move forward).
    fn later(a: Option<Counters>, b: Counters) -> Counters {
        match a {
            Some(a) if a.year == b.year && a.last_id >= b.last_id => a,
            _ => b,
        }
    }
}

/// Foreseen keys lent to a unit: the counters are checked to stand at `now` and moved to `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lent {
    pub(crate) now: Counters,
    pub(crate) after: Counters,
    /// Another unit that moved the counters was running when these were lent (they follow its keys).
    pub(crate) chained: bool,
    /// The chain they belong to (see `State::chain`).
    chain: u64,
}

/// A store's forecast of its ticket counters, shared by its units.
#[derive(Debug, Default)]
pub(crate) struct KeyForecast(Mutex<State>);

#[derive(Debug, Default)]
struct State {
    /// The counters as last seen committed.
    known: Option<Counters>,
    /// Where the counters will stand once every running unit committed.
    tip: Option<Counters>,
    /// Units that moved the counters (or will, with foreseen keys) and have not ended.
    running: u32,
    /// Units whose usual-way counter statement is under way.
    pending: u32,
    /// Which chain lends extend: a new one starts where a usual-way statement left the counters, since
    /// every unit lent before it either wrote before it or will find the counters moved.
    chain: u64,
    /// A unit of the current chain did not commit: nothing is lent until a usual-way statement says
    /// where the counters are, or every unit ended.
    broken: bool,
    /// No forecast until then (a unit at the head of a chain did not commit).
    paused_until: Option<Instant>,
}

impl KeyForecast {
    /// The next `n` keys of `year` if this store foresees them: after the last running unit's, or else
    /// where the counters were last seen. The unit holds them until it drops the answer.
    pub(crate) fn lend(self: &Arc<Self>, year: i32, n: u32) -> Option<KeysTaken> {
        let mut state = self.state();
        if state.paused_until.is_some_and(|until| Instant::now() < until) || state.broken || state.pending > 0 {
            return None;
        }
        state.paused_until = None;
        let chained = state.running > 0;
        let now = if chained { state.tip } else { state.known }.filter(|c| c.year == year)?;
        let after = now.after(n)?;
        state.tip = Some(after);
        state.running += 1;
        let chain = state.chain;
        Some(KeysTaken {
            forecast: Arc::clone(self),
            after: Some(after),
            lent: Some(Lent {
                now,
                after,
                chained,
                chain,
            }),
            committed: false,
        })
    }

    /// A unit is about to move the counters the usual way; nothing is lent until it knows where to.
    pub(crate) fn take_usual(self: &Arc<Self>) -> KeysTaken {
        self.state().pending += 1;
        KeysTaken {
            forecast: Arc::clone(self),
            after: None,
            lent: None,
            committed: false,
        }
    }

    /// A usual-way statement moved the counters to `after`: a new chain starts there. The place is
    /// exact: the statement waited for every unit that held the counters before it, and its unit holds
    /// them until it ends, so no other usual-way statement of this store can report a later place first.
    fn placed(&self, after: Counters) {
        let mut state = self.state();
        state.pending = state.pending.saturating_sub(1);
        state.running += 1;
        state.tip = Some(after);
        state.chain += 1;
        state.broken = false;
    }

    /// A unit that moved the counters moved them again: where its first move left them no longer says
    /// where the chain ends.
    fn moved_again(&self) {
        self.state().broken = true;
    }

    /// A unit ended, `committed` or not, having moved the counters to `after` (`None`: its usual-way
    /// statement never answered), with foreseen keys (`lent`) or the usual way.
    fn ended(&self, after: Option<Counters>, committed: bool, lent: Option<Lent>) {
        let mut state = self.state();
        match after {
            None => state.pending = state.pending.saturating_sub(1),
            Some(after) => {
                state.running = state.running.saturating_sub(1);
                if committed {
                    state.known = Some(Counters::later(state.known, after));
                } else if lent.is_none_or(|l| l.chain == state.chain) {
                    state.broken = true;
                    if lent.is_some_and(|l| !l.chained) {
                        state.known = None;
                        state.paused_until = Some(Instant::now() + MISS_PAUSE);
                    }
                }
            }
        }
        if state.running == 0 && state.pending == 0 {
            state.tip = None;
            state.broken = false;
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What a unit did with the ticket counters, reported to its store's forecast when the unit ends.
#[derive(Debug)]
pub(crate) struct KeysTaken {
    forecast: Arc<KeyForecast>,
    /// Where the counters stand after this unit's moves (`None` while its usual-way statement runs).
    after: Option<Counters>,
    /// The foreseen keys the unit holds, if it took them so.
    lent: Option<Lent>,
    /// Whether the unit committed.
    committed: bool,
}

impl KeysTaken {
    /// The foreseen keys this unit holds, if it took them so.
    pub(crate) fn lent(&self) -> Option<Lent> {
        self.lent
    }

    /// The unit's usual-way statement moved the counters to `after`.
    pub(crate) fn moved(&mut self, after: Counters) {
        if self.after.is_some() {
            self.forecast.moved_again();
        } else {
            self.forecast.placed(after);
        }
        self.after = Some(after);
    }

    /// The unit committed: the forecast learns where it left the counters.
    pub(crate) fn committed(mut self) {
        self.committed = true;
    }
}

impl Drop for KeysTaken {
    /// Tells the forecast how the unit ended: a unit that moved the counters and did not commit breaks
    /// the chain, and pauses the forecast if it held foreseen keys at its head.
    fn drop(&mut self) {
        self.forecast.ended(self.after, self.committed, self.lent);
    }
}

#[cfg(test)]
mod tests {
    use super::{Counters, KeyForecast, KeysTaken, Lent};
    use std::sync::Arc;

    const AT: Counters = Counters {
        year: 2026,
        last_seq: 7,
        last_id: 40,
    };

    fn plus(c: Counters, n: i64) -> Counters {
        Counters {
            last_seq: c.last_seq + n,
            last_id: c.last_id + n,
            ..c
        }
    }

    /// A unit that moved the counters to `at` the usual way, still running.
    fn usual(f: &Arc<KeyForecast>, at: Counters) -> KeysTaken {
        let mut taken = f.take_usual();
        taken.moved(at);
        taken
    }

    /// What the next lend would be, the unit then committing (so it pauses and breaks nothing).
    fn next(f: &Arc<KeyForecast>, n: u32) -> Option<Lent> {
        let taken = f.lend(2026, n)?;
        let lent = taken.lent();
        taken.committed();
        lent
    }

    #[test]
    fn nothing_is_lent_before_the_counters_were_seen_nor_for_another_year() {
        let f = Arc::new(KeyForecast::default());
        assert!(f.lend(2026, 1).is_none());
        usual(&f, AT).committed();
        assert!(f.lend(2027, 1).is_none());
        assert_eq!(
            next(&f, 3),
            Some(Lent {
                now: AT,
                after: plus(AT, 3),
                chained: false,
                chain: 1,
            })
        );
    }

    #[test]
    fn a_unit_taken_while_another_runs_follows_its_keys() {
        let f = Arc::new(KeyForecast::default());
        usual(&f, AT).committed();
        let first = f.lend(2026, 3).expect("lent");
        let second = f.lend(2026, 2).expect("chained");
        let lent = second.lent().expect("foreseen");
        assert_eq!((lent.now, lent.after, lent.chained), (plus(AT, 3), plus(AT, 5), true));
        first.committed();
        let third = f.lend(2026, 1).and_then(|t| t.lent()).map(|l| (l.now, l.chained));
        assert_eq!(third, Some((plus(AT, 5), true)), "after the running one");
        second.committed();
    }

    #[test]
    fn a_unit_follows_one_that_moved_the_counters_the_usual_way_but_not_while_its_statement_runs() {
        let f = Arc::new(KeyForecast::default());
        usual(&f, AT).committed();
        let mut running = f.take_usual();
        assert!(
            f.lend(2026, 1).is_none(),
            "where it leaves the counters is not known yet"
        );
        running.moved(plus(AT, 4));
        let lent = f.lend(2026, 1).and_then(|t| t.lent()).map(|l| (l.now, l.chained));
        assert_eq!(lent, Some((plus(AT, 4), true)));
    }

    #[test]
    fn a_usual_way_statement_that_failed_ends_without_breaking_anything() {
        let f = Arc::new(KeyForecast::default());
        usual(&f, AT).committed();
        drop(f.take_usual());
        assert_eq!(next(&f, 1).map(|l| (l.now, l.chained)), Some((AT, false)));
    }

    #[test]
    fn a_slower_commit_never_moves_the_forecast_back() {
        let f = Arc::new(KeyForecast::default());
        usual(&f, plus(AT, 5)).committed();
        usual(&f, AT).committed();
        assert_eq!(next(&f, 1).map(|l| l.now), Some(plus(AT, 5)));
    }

    #[test]
    fn a_head_that_did_not_commit_pauses_the_forecast() {
        let f = Arc::new(KeyForecast::default());
        usual(&f, AT).committed();
        drop(f.lend(2026, 1).expect("lent"));
        usual(&f, AT).committed();
        assert!(f.lend(2026, 1).is_none(), "paused after a miss");
    }

    #[test]
    fn a_chained_unit_that_did_not_commit_stops_chaining_until_the_chain_ended_without_a_pause() {
        let f = Arc::new(KeyForecast::default());
        usual(&f, AT).committed();
        let first = f.lend(2026, 2).expect("lent");
        drop(f.lend(2026, 2).expect("chained"));
        assert!(f.lend(2026, 1).is_none(), "the chain is broken while the first runs");
        first.committed();
        assert_eq!(
            next(&f, 1).map(|l| (l.now, l.chained)),
            Some((plus(AT, 2), false)),
            "from where the first left the counters, no pause"
        );
    }

    #[test]
    fn after_a_broken_chain_a_usual_way_statement_starts_a_new_one_and_the_old_ones_failures_are_stale() {
        let f = Arc::new(KeyForecast::default());
        usual(&f, AT).committed();
        let first = f.lend(2026, 2).expect("lent");
        drop(f.lend(2026, 2).expect("chained, overtook the first"));
        let mut retried = f.take_usual();
        retried.moved(plus(AT, 4));
        let next = f.lend(2026, 1).expect("a new chain after the retried unit");
        assert_eq!(next.lent().map(|l| (l.now, l.chained)), Some((plus(AT, 4), true)));
        drop(first);
        let after = f.lend(2026, 1).and_then(|t| t.lent()).map(|l| l.now);
        assert_eq!(after, Some(plus(AT, 5)), "the first's failure belongs to the old chain");
        retried.committed();
        next.committed();
    }

    #[test]
    fn keys_past_the_years_last_number_are_never_lent() {
        let f = Arc::new(KeyForecast::default());
        let end = Counters {
            last_seq: i64::from(u32::MAX) - 1,
            ..AT
        };
        usual(&f, end).committed();
        assert!(f.lend(2026, 2).is_none());
        assert!(next(&f, 1).is_some(), "the last number still fits");
    }

    #[test]
    fn a_unit_that_moves_the_counters_again_stops_chaining_until_it_ended() {
        let f = Arc::new(KeyForecast::default());
        usual(&f, AT).committed();
        let mut held = f.lend(2026, 1).expect("lent");
        held.moved(plus(AT, 3));
        assert!(f.lend(2026, 1).is_none(), "where the chain ends is not known");
        held.committed();
        assert_eq!(
            next(&f, 1).map(|l| (l.now, l.chained)),
            Some((plus(AT, 3), false)),
            "no pause: the unit committed"
        );
    }
}
