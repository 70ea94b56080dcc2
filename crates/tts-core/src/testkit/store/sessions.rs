//! The [`Sessions`](crate::ports::store::Sessions) contract: sessions read back as started, unique ids,
//! saves, ending one or all of a user's, and `Queries::sessions_ended_since`. The row lock that serializes
//! two refreshes is in [`locking`](super::locking).

use super::support::{at, commit, id, insert_users, read, session, t0, write, write_error};
use crate::domain::session::EndSessions;
use crate::error::ErrorKind;
use crate::ids::{SessionId, TokenId};
use crate::ports::store::Store;
use chrono::Duration;

/// A session reads back as started; unknown ids read as none.
pub async fn sessions_read_back_as_started(store: &dyn Store) {
    let users = insert_users(store, "Session", 1).await;
    let s = session(users[0].id, at(3600));
    let mut tx = write(store).await;
    tx.start_session(&s).await.expect("start a session");
    assert_eq!(
        tx.session(s.id).await.expect("read"),
        Some(s),
        "a unit reads the session it started"
    );
    commit(tx, "a session").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.session(s.id).await.expect("read"),
        Some(s),
        "a session reads back as started"
    );
    assert_eq!(
        tx.session(id()).await.expect("read a missing one"),
        None,
        "an unknown id reads as none"
    );
}

/// Starting a session with an id already used is a conflict, and the first stays.
pub async fn starting_a_session_with_a_used_id_is_a_conflict(store: &dyn Store) {
    let users = insert_users(store, "Session", 2).await;
    let s = session(users[0].id, at(3600));
    let mut tx = write(store).await;
    tx.start_session(&s).await.expect("start a session");
    commit(tx, "a session").await;
    let mut again = session(users[1].id, at(7200));
    again.id = s.id;
    let mut tx = write(store).await;
    let written = tx.start_session(&again).await;
    let err = write_error(tx.as_mut(), written, "starting a session with a used id").await;
    assert_eq!(
        err.kind(),
        ErrorKind::Conflict,
        "a used session id is a conflict: {err}"
    );
    drop(tx);
    let mut tx = read(store).await;
    assert_eq!(
        tx.session(s.id).await.expect("read"),
        Some(s),
        "the first session stays"
    );
}

/// `save_session` replaces the current token, expiry and end of a session; saving a missing one is
/// "not found".
pub async fn save_session_replaces_token_expiry_and_end(store: &dyn Store) {
    let users = insert_users(store, "Session", 1).await;
    let s = session(users[0].id, at(3600));
    let mut tx = write(store).await;
    tx.start_session(&s).await.expect("start a session");
    commit(tx, "a session").await;
    let mut rotated = s;
    rotated.current = id::<TokenId>();
    rotated.expires_at = at(7200);
    let mut tx = write(store).await;
    tx.save_session(&rotated).await.expect("save a rotation");
    commit(tx, "a rotation").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.session(s.id).await.expect("read"),
        Some(rotated),
        "a save replaces token and expiry"
    );
    drop(tx);
    let ended = crate::domain::session::RefreshSession {
        ended_at: Some(at(100)),
        ..rotated
    };
    let mut tx = write(store).await;
    tx.save_session(&ended).await.expect("save an end");
    commit(tx, "an end").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.session(s.id).await.expect("read"),
        Some(ended),
        "a save replaces the end"
    );
    drop(tx);
    let mut tx = write(store).await;
    let written = tx.save_session(&session(users[0].id, at(1))).await;
    let err = write_error(tx.as_mut(), written, "saving a missing session").await;
    assert_eq!(
        err.kind(),
        ErrorKind::NotFound,
        "saving a missing session is not found: {err}"
    );
}

/// `end_sessions(One)` ends that live session only and returns its id; ending it again returns nothing
/// and keeps the first end.
pub async fn ending_one_session_ends_only_it_once(store: &dyn Store) {
    let users = insert_users(store, "Session", 1).await;
    let (s, other) = (session(users[0].id, at(3600)), session(users[0].id, at(3600)));
    let mut tx = write(store).await;
    tx.start_session(&s).await.expect("start a session");
    tx.start_session(&other).await.expect("start another");
    commit(tx, "sessions").await;
    let mut tx = write(store).await;
    assert_eq!(
        tx.end_sessions(EndSessions::One(s.id), at(10)).await.expect("end"),
        vec![s.id],
        "the ended id"
    );
    commit(tx, "an end").await;
    let mut tx = write(store).await;
    assert_eq!(
        tx.end_sessions(EndSessions::One(s.id), at(20))
            .await
            .expect("end again"),
        Vec::<SessionId>::new(),
        "ending an ended session ends nothing"
    );
    assert_eq!(
        tx.end_sessions(EndSessions::One(id()), at(20))
            .await
            .expect("end a missing one"),
        Vec::<SessionId>::new(),
        "ending an unknown session ends nothing"
    );
    commit(tx, "ending again").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.session(s.id).await.expect("read").and_then(|x| x.ended_at),
        Some(at(10)),
        "the first end stays"
    );
    assert_eq!(
        tx.session(other.id).await.expect("read"),
        Some(other),
        "other sessions stay live"
    );
}

/// `end_sessions(OfUser)` ends every live session of the user but the one kept, returns their ids, and
/// leaves ended sessions (with their first end) and other users' sessions alone.
pub async fn ending_a_users_sessions_spares_the_kept_one_and_others(store: &dyn Store) {
    let users = insert_users(store, "Session", 2).await;
    let mine: Vec<_> = (0..4).map(|_| session(users[0].id, at(3600))).collect();
    let theirs = session(users[1].id, at(3600));
    let mut tx = write(store).await;
    for s in mine.iter().chain([&theirs]) {
        tx.start_session(s).await.expect("start a session");
    }
    tx.end_sessions(EndSessions::One(mine[3].id), at(5))
        .await
        .expect("end one early");
    commit(tx, "sessions").await;
    let mut tx = write(store).await;
    let mut ended = tx
        .end_sessions(
            EndSessions::OfUser {
                user: users[0].id,
                keep: Some(mine[1].id),
            },
            at(10),
        )
        .await
        .expect("end the user's sessions");
    ended.sort();
    let mut expected = vec![mine[0].id, mine[2].id];
    expected.sort();
    assert_eq!(
        ended, expected,
        "the user's live sessions but the kept one are ended, and only they are returned"
    );
    commit(tx, "ending a user's sessions").await;
    let mut tx = read(store).await;
    let end_of = async |tx: &mut Box<dyn crate::ports::store::UnitOfWork>, s: SessionId| {
        tx.session(s).await.expect("read").expect("kept").ended_at
    };
    assert_eq!(
        end_of(&mut tx, mine[0].id).await,
        Some(at(10)),
        "ended at the given time"
    );
    assert_eq!(end_of(&mut tx, mine[1].id).await, None, "the kept session stays live");
    assert_eq!(
        end_of(&mut tx, mine[3].id).await,
        Some(at(5)),
        "an ended session keeps its first end"
    );
    assert_eq!(
        end_of(&mut tx, theirs.id).await,
        None,
        "other users' sessions stay live"
    );
    drop(tx);
    let mut tx = write(store).await;
    let mut all = tx
        .end_sessions(
            EndSessions::OfUser {
                user: users[0].id,
                keep: None,
            },
            at(20),
        )
        .await
        .expect("end all");
    all.sort();
    assert_eq!(
        all,
        vec![mine[1].id],
        "without a kept one, the last live session ends too"
    );
}

/// Ended sessions show in `sessions_ended_since(since)` with their end, when it is after `since`, oldest
/// first; live sessions never do; ends are visible there after commit.
pub async fn ended_sessions_show_in_sessions_ended_since_oldest_first(store: &dyn Store) {
    let users = insert_users(store, "Session", 1).await;
    let s: Vec<_> = (0..3).map(|_| session(users[0].id, at(3600))).collect();
    let mut tx = write(store).await;
    for x in &s {
        tx.start_session(x).await.expect("start a session");
    }
    tx.end_sessions(EndSessions::One(s[1].id), at(30)).await.expect("end");
    commit(tx, "sessions").await;
    let mut tx = write(store).await;
    tx.end_sessions(EndSessions::One(s[0].id), at(20)).await.expect("end");
    commit(tx, "another end").await;
    assert_eq!(
        store.sessions_ended_since(t0()).await.expect("ended since"),
        vec![(s[0].id, at(20)), (s[1].id, at(30))],
        "ended sessions with their end, oldest first; live ones never"
    );
    assert_eq!(
        store.sessions_ended_since(at(20)).await.expect("ended since"),
        vec![(s[1].id, at(30))],
        "only ends after `since`"
    );
    assert_eq!(
        store
            .sessions_ended_since(at(30) + Duration::seconds(1))
            .await
            .expect("ended since"),
        Vec::new(),
        "nothing ended after the last end"
    );
}
