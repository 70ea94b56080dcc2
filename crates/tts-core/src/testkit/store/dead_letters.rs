//! The [`DeadLetters`](crate::ports::store::DeadLetters) contract: letters kept whole until deleted, one
//! per message id. Their list is in [`queries`](super::queries).

use super::support::{at, commit, id, write};
use crate::domain::delivery::DeadLetter;
use crate::ids::MessageId;
use crate::ports::store::Store;
use serde_json::json;

/// A dead letter of queue `queue` that failed at `at(secs)`.
pub(crate) fn letter(queue: &str, secs: i64) -> DeadLetter {
    DeadLetter {
        id: id::<MessageId>(),
        queue: queue.to_string(),
        kind: "ticket.created".into(),
        payload: json!({"type": "ticket.created", "ticket": secs, "odd": [1, "two", null]}),
        error: "ticket 7 not found".into(),
        attempts: 3,
        created_at: at(secs - 5),
        failed_at: at(secs),
    }
}

/// A letter reads back whole until it is deleted; a second letter with its id changes nothing; deleting
/// says whether there was one.
pub async fn dead_letters_read_back_whole_until_deleted(store: &dyn Store) {
    let kept = letter("tickets", 10);
    let mut tx = write(store).await;
    assert!(
        tx.insert_dead_letter(&kept).await.expect("keep a letter"),
        "a new letter is kept"
    );
    commit(tx, "a dead letter").await;
    let mut tx = write(store).await;
    let twin = DeadLetter {
        error: "another failure".into(),
        ..kept.clone()
    };
    assert!(
        !tx.insert_dead_letter(&twin).await.expect("keep it again"),
        "a second letter with the same id is refused"
    );
    assert_eq!(
        tx.dead_letter(kept.id).await.expect("read"),
        Some(kept.clone()),
        "the first letter stays whole"
    );
    assert_eq!(
        tx.dead_letter(id()).await.expect("read"),
        None,
        "an unknown id has none"
    );
    assert!(
        tx.delete_dead_letter(kept.id).await.expect("delete"),
        "deleting a letter says so"
    );
    commit(tx, "deleting it").await;
    let mut tx = write(store).await;
    assert_eq!(
        tx.dead_letter(kept.id).await.expect("read"),
        None,
        "a deleted letter is gone"
    );
    assert!(
        !tx.delete_dead_letter(kept.id).await.expect("delete again"),
        "deleting it again finds nothing"
    );
}

/// Dead letters are counted per queue, ordered by queue, with each queue's earliest failure.
pub async fn dead_letters_are_counted_per_queue(store: &dyn Store) {
    assert!(
        store.dead_letter_backlog().await.expect("count").is_empty(),
        "none at first"
    );
    let mut tx = write(store).await;
    for (queue, secs) in [("tickets", 30), ("mail", 20), ("tickets", 10)] {
        tx.insert_dead_letter(&letter(queue, secs))
            .await
            .expect("keep a letter");
    }
    commit(tx, "three dead letters").await;
    let counts: Vec<_> = store
        .dead_letter_backlog()
        .await
        .expect("count")
        .into_iter()
        .map(|q| (q.queue, q.messages, q.oldest))
        .collect();
    assert_eq!(
        counts,
        vec![
            (Some("mail".to_string()), 1, Some(at(20))),
            (Some("tickets".to_string()), 2, Some(at(10))),
        ],
        "per queue, ordered, with the earliest failure"
    );
}
