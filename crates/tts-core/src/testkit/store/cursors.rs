//! The [`Cursors`](crate::ports::store::Cursors) contract: candidates of a role (order, active flag,
//! load), `lock_pick_state` and the cursor. That two units never pick from the same cursor position is
//! in [`locking`](super::locking).

use super::support::{commit, id, insert_role_with, insert_users, read, seed_task, t0, write};
use crate::domain::assignment::Candidate;
use crate::domain::task::{Assignment, AssignmentStatus, Origin};
use crate::domain::user::Membership;
use crate::ports::store::{PickState, Store};

/// Candidates are a role's holders ordered by user id, active only when both the membership and the
/// user are; members of other roles are not candidates.
pub async fn candidates_are_ordered_by_user_id_and_active_when_membership_and_user_are(store: &dyn Store) {
    let users = insert_users(store, "Agent", 4).await;
    let others = insert_users(store, "Other", 1).await;
    let role = insert_role_with(store, "Agents", &[]).await;
    let _other_role = insert_role_with(store, "Other", &others).await;
    let mut tx = write(store).await;
    for (i, u) in users.iter().enumerate().rev() {
        tx.set_membership(Membership {
            role: role.id,
            user: u.id,
            is_active: i != 1,
        })
        .await
        .expect("set a membership");
    }
    let mut inactive = users[3].clone();
    inactive.is_active = false;
    tx.update_user(&inactive).await.expect("deactivate a user");
    commit(tx, "memberships").await;
    let mut tx = read(store).await;
    let candidates = tx.candidates(role.id, false).await.expect("candidates");
    assert_eq!(
        candidates.iter().map(|c| c.user).collect::<Vec<_>>(),
        users.iter().map(|u| u.id).collect::<Vec<_>>(),
        "candidates are the role's holders ordered by user id"
    );
    assert_eq!(
        candidates.iter().map(|c| c.active).collect::<Vec<_>>(),
        [true, false, true, false],
        "a candidate is active only when both the membership and the user are"
    );
    assert_eq!(
        tx.candidates(id(), false).await.expect("candidates"),
        Vec::new(),
        "an unknown role has none"
    );
}

/// `open_assignments` counts a candidate's open assignments (new, in progress, breached) when asked
/// `with_load`, and is 0 otherwise.
pub async fn candidates_count_open_assignments_only_with_load(store: &dyn Store) {
    let seeded = seed_task(store).await;
    let (task, role, users) = (&seeded.task, &seeded.role, &seeded.users);
    let assignment = |user, status: AssignmentStatus| {
        let mut a = Assignment::new(
            id(),
            task.id,
            user,
            role.id,
            task.current_step,
            Origin::System,
            t0(),
            None,
        );
        if status != AssignmentStatus::New {
            a.move_to(status, None, t0()).expect("move the assignment");
        }
        a
    };
    let mut tx = write(store).await;
    for a in [
        assignment(users[0].id, AssignmentStatus::New),
        assignment(users[0].id, AssignmentStatus::InProgress),
        assignment(users[0].id, AssignmentStatus::Breached),
        assignment(users[0].id, AssignmentStatus::Resolved),
        assignment(users[1].id, AssignmentStatus::Reassigned),
    ] {
        tx.insert_assignment(&a).await.expect("insert an assignment");
    }
    commit(tx, "assignments").await;
    let mut tx = read(store).await;
    let loads = |c: Vec<Candidate>| c.iter().map(|c| (c.user, c.open_assignments)).collect::<Vec<_>>();
    assert_eq!(
        loads(tx.candidates(role.id, true).await.expect("candidates with load")),
        vec![(users[0].id, 3), (users[1].id, 0)],
        "with load, open assignments are counted (new, in progress, breached) and closed ones are not"
    );
    assert_eq!(
        loads(tx.candidates(role.id, false).await.expect("candidates without load")),
        vec![(users[0].id, 0), (users[1].id, 0)],
        "without load, the count is 0"
    );
}

/// `lock_pick_state` reads the same candidates as `candidates` together with the cursor: none for a role
/// never assigned (also after a unit locked it and wrote nothing), then the last user set.
pub async fn lock_pick_state_reads_the_candidates_and_the_cursor(store: &dyn Store) {
    let users = insert_users(store, "Agent", 3).await;
    let role = insert_role_with(store, "Agents", &users).await;
    let mut tx = write(store).await;
    for with_load in [false, true] {
        let state = tx
            .lock_pick_state(role.id, with_load)
            .await
            .expect("lock the pick state");
        assert_eq!(
            state,
            PickState {
                candidates: tx.candidates(role.id, with_load).await.expect("candidates"),
                last: None,
            },
            "lock_pick_state reads the candidates (with_load = {with_load}) and no cursor for a role never assigned"
        );
    }
    commit(tx, "a unit that locked a new cursor and wrote nothing").await;
    let mut tx = write(store).await;
    assert_eq!(
        tx.lock_pick_state(role.id, false)
            .await
            .expect("lock the pick state")
            .last,
        None,
        "locking a role's cursor (creating it) does not invent a last user"
    );
    tx.set_cursor(role.id, users[1].id).await.expect("set the cursor");
    assert_eq!(
        tx.lock_pick_state(role.id, false)
            .await
            .expect("lock the pick state")
            .last,
        Some(users[1].id),
        "a unit reads the cursor it set"
    );
    commit(tx, "a cursor").await;
    let empty = insert_role_with(store, "Nobody", &[]).await;
    let mut tx = write(store).await;
    assert_eq!(
        tx.lock_pick_state(empty.id, true).await.expect("lock an empty role"),
        PickState::default(),
        "a role without members has no candidates and no cursor"
    );
}

/// `set_cursor` moves a role's cursor for the next `lock_pick_state` after commit; cursors are per role.
pub async fn set_cursor_moves_the_cursor_after_commit(store: &dyn Store) {
    let users = insert_users(store, "Agent", 3).await;
    let role = insert_role_with(store, "Agents", &users).await;
    let other = insert_role_with(store, "Others", &users).await;
    for next in [users[0].id, users[2].id, users[1].id] {
        let mut tx = write(store).await;
        tx.lock_pick_state(role.id, false).await.expect("lock the pick state");
        tx.set_cursor(role.id, next).await.expect("move the cursor");
        commit(tx, "a cursor move").await;
        let mut tx = write(store).await;
        assert_eq!(
            tx.lock_pick_state(role.id, false)
                .await
                .expect("lock the pick state")
                .last,
            Some(next),
            "the next unit sees the committed cursor"
        );
        assert_eq!(
            tx.lock_pick_state(other.id, false)
                .await
                .expect("lock another role")
                .last,
            None,
            "cursors are per role"
        );
    }
}
