//! Picking an assignee: strict round-robin after the role's last assignee, or least loaded.
//!
//! The role's cursor stores the *last assigned user id*; the next assignee is the first candidate with a
//! greater id, wrapping around. Adding or removing members therefore never skews or repeats the rotation
//! (the seed stored an index modulo a changing list size). Candidates are the role's active holders.

use crate::ids::UserId;

/// One holder of a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Candidate {
    /// The user.
    pub user: UserId,
    /// Inactive holders never receive work.
    pub active: bool,
    /// Open assignments the user holds now (for `least_loaded`).
    pub open_assignments: u32,
}

/// The next user after `last` in id order among the active candidates, wrapping around.
pub fn round_robin(candidates: &[Candidate], last: Option<UserId>) -> Option<UserId> {
    let active = candidates.iter().filter(|c| c.active).map(|c| c.user);
    let mut first: Option<UserId> = None;
    let mut next: Option<UserId> = None;
    for u in active {
        first = Some(first.map_or(u, |f| f.min(u)));
        if last.is_none_or(|l| u > l) {
            next = Some(next.map_or(u, |n| n.min(u)));
        }
    }
    next.or(first)
}

/// The active candidate with the fewest open assignments; ties go to the one the rotation reaches first.
pub fn least_loaded(candidates: &[Candidate], last: Option<UserId>) -> Option<UserId> {
    let min = candidates
        .iter()
        .filter(|c| c.active)
        .map(|c| c.open_assignments)
        .min()?;
    let tied: Vec<Candidate> = candidates
        .iter()
        .filter(|c| c.active && c.open_assignments == min)
        .copied()
        .collect();
    round_robin(&tied, last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeSet, HashMap};
    use uuid::Uuid;

    fn user(n: u128) -> UserId {
        UserId(Uuid::from_u128(n))
    }

    fn members(ids: &BTreeSet<u128>) -> Vec<Candidate> {
        ids.iter()
            .map(|&n| Candidate {
                user: user(n),
                active: true,
                open_assignments: 0,
            })
            .collect()
    }

    #[test]
    fn seed_sequence_1_2_3_1() {
        let c = members(&[1, 2, 3].into());
        let mut last = None;
        let picks: Vec<_> = (0..4)
            .map(|_| {
                last = round_robin(&c, last);
                last.unwrap()
            })
            .collect();
        assert_eq!(picks, [user(1), user(2), user(3), user(1)]);
        assert_eq!(round_robin(&[], None), None);
    }

    proptest! {
        #[test]
        fn every_window_of_k_n_is_fair(ids in proptest::collection::btree_set(0u128..1000, 1..8), k in 1usize..5, skip in 0usize..20) {
            let c = members(&ids);
            let n = c.len();
            let mut last = None;
            for _ in 0..skip { last = round_robin(&c, last); }
            let mut counts: HashMap<UserId, usize> = HashMap::new();
            for _ in 0..k * n {
                last = round_robin(&c, last);
                *counts.entry(last.unwrap()).or_default() += 1;
            }
            prop_assert_eq!(counts.len(), n);
            prop_assert!(counts.values().all(|&v| v == k));
        }

        #[test]
        fn inactive_never_chosen(flags in proptest::collection::vec(any::<bool>(), 0..10), last in proptest::option::of(0u128..12)) {
            let c: Vec<Candidate> = flags.iter().enumerate()
                .map(|(i, &a)| Candidate { user: user(i as u128), active: a, open_assignments: 0 }).collect();
            match round_robin(&c, last.map(user)) {
                Some(u) => prop_assert!(c.iter().any(|x| x.user == u && x.active)),
                None => prop_assert!(c.iter().all(|x| !x.active)),
            }
        }

        // Membership changes between picks: within one pass (ids increasing from the cursor) nobody
        // present is skipped and nobody is picked twice.
        #[test]
        fn membership_changes_never_skip_or_repeat(
            initial in proptest::collection::btree_set(0u128..50, 1..10),
            changes in proptest::collection::vec((any::<bool>(), 0u128..50), 0..20),
        ) {
            let mut set = initial;
            let mut last: Option<UserId> = None;
            let mut picked_this_cycle: BTreeSet<u128> = BTreeSet::new();
            for (add, id) in changes {
                let Some(u) = round_robin(&members(&set), last) else { break };
                let un = u.0.as_u128();
                if let Some(l) = last {
                    if u > l {
                        // no current member lies strictly between the cursor and the pick
                        prop_assert!(!set.iter().any(|&m| user(m) > l && user(m) < u));
                    } else {
                        // wrapped: the pick is the smallest member and nobody above the cursor remains
                        prop_assert_eq!(Some(&un), set.iter().next());
                        prop_assert!(!set.iter().any(|&m| user(m) > l));
                        picked_this_cycle.clear();
                    }
                }
                prop_assert!(picked_this_cycle.insert(un), "repeated within a cycle");
                last = Some(u);
                if add { set.insert(id); } else if set.len() > 1 { set.remove(&id); }
            }
        }

        #[test]
        fn least_loaded_picks_a_minimum(loads in proptest::collection::vec((any::<bool>(), 0u32..5), 0..10), last in proptest::option::of(0u128..12)) {
            let c: Vec<Candidate> = loads.iter().enumerate()
                .map(|(i, &(a, l))| Candidate { user: user(i as u128), active: a, open_assignments: l }).collect();
            let min = c.iter().filter(|x| x.active).map(|x| x.open_assignments).min();
            match least_loaded(&c, last.map(user)) {
                Some(u) => {
                    let chosen = c.iter().find(|x| x.user == u).unwrap();
                    prop_assert!(chosen.active);
                    prop_assert_eq!(Some(chosen.open_assignments), min);
                }
                None => prop_assert!(min.is_none()),
            }
        }
    }
}
