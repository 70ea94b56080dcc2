//! The [`Notifications`](crate::ports::store::Notifications) contract: notifications read back equal,
//! updates replace them, and marking all of a user's unread ones read.

use super::support::{at, commit, id, notification, read, write, write_error};
use crate::error::ErrorKind;
use crate::ids::UserId;
use crate::ports::store::Store;

/// A notification reads back equal; `update_notification` replaces it; unknown ids read as none.
pub async fn notifications_read_back_and_updates_replace(store: &dyn Store) {
    let n = notification(id(), "Assigned", 1);
    let mut tx = write(store).await;
    tx.insert_notification(&n).await.expect("insert a notification");
    commit(tx, "a notification").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.notification(n.id).await.expect("read").as_ref(),
        Some(&n),
        "a notification reads back equal"
    );
    assert_eq!(
        tx.notification(id()).await.expect("read a missing one"),
        None,
        "an unknown id reads as none"
    );
    drop(tx);
    let mut read_one = n.clone();
    read_one.is_read = true;
    read_one.read_at = Some(at(5));
    let mut tx = write(store).await;
    tx.update_notification(&read_one).await.expect("update a notification");
    commit(tx, "a notification update").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.notification(n.id).await.expect("read").as_ref(),
        Some(&read_one),
        "an update replaces the notification"
    );
}

/// Updating a notification that does not exist is "not found".
pub async fn update_of_a_missing_notification_is_not_found(store: &dyn Store) {
    let mut tx = write(store).await;
    let written = tx.update_notification(&notification(id(), "Ghost", 1)).await;
    let err = write_error(tx.as_mut(), written, "updating a missing notification fails").await;
    assert_eq!(
        err.kind(),
        ErrorKind::NotFound,
        "updating a missing notification is not found: {err}"
    );
}

/// `mark_all_notifications_read` marks only the user's unread notifications read with `read_at`, says
/// how many changed, keeps the first `read_at` of those read already, and leaves other users' alone.
pub async fn mark_all_read_marks_only_the_users_unread_ones_and_counts_them(store: &dyn Store) {
    let (me, other) = (id::<UserId>(), id::<UserId>());
    let mine: Vec<_> = (0..3).map(|i| notification(me, &format!("n{i}"), i)).collect();
    let mut already = notification(me, "read before", 9);
    already.is_read = true;
    already.read_at = Some(at(10));
    let theirs = notification(other, "theirs", 1);
    let mut tx = write(store).await;
    for n in mine.iter().chain([&already, &theirs]) {
        tx.insert_notification(n).await.expect("insert a notification");
    }
    commit(tx, "notifications").await;
    let mut tx = write(store).await;
    assert_eq!(
        tx.mark_all_notifications_read(me, at(50)).await.expect("mark all read"),
        3,
        "three were unread"
    );
    assert_eq!(
        tx.mark_all_notifications_read(me, at(60))
            .await
            .expect("mark all read again"),
        0,
        "none are left unread, in the same unit"
    );
    commit(tx, "marking read").await;
    let mut tx = read(store).await;
    for n in &mine {
        let stored = tx.notification(n.id).await.expect("read").expect("kept");
        assert_eq!(
            (stored.is_read, stored.read_at),
            (true, Some(at(50))),
            "marked read at the given time"
        );
        assert_eq!(stored.subject, n.subject, "marking read changes nothing else");
    }
    assert_eq!(
        tx.notification(already.id).await.expect("read").as_ref(),
        Some(&already),
        "a notification read before keeps its read_at"
    );
    assert_eq!(
        tx.notification(theirs.id).await.expect("read").as_ref(),
        Some(&theirs),
        "other users' notifications are untouched"
    );
}
