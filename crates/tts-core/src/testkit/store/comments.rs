//! The [`Comments`](crate::ports::store::Comments) contract, and `Queries::list_comments`: comments read
//! back equal, updates check the version, and a ticket's thread lists oldest first with or without
//! internal notes.

use super::support::{at, commit, id, insert_ticket, read, write, write_error};
use crate::domain::comment::Comment;
use crate::domain::ticket::{NewTicket, Ticket};
use crate::error::ErrorKind;
use crate::ids::{CommentId, UserId};
use crate::ports::store::{CommentQuery, PageRequest, Store};

fn comment(ticket: &Ticket, text: &str, internal: bool, secs: i64) -> Comment {
    Comment {
        id: id::<CommentId>(),
        ticket: ticket.id,
        author: id::<UserId>(),
        author_name: "Agent Ann".into(),
        content: text.into(),
        is_internal: internal,
        parent_id: None,
        created_at: at(secs),
        edited_at: None,
        deleted_at: None,
        version: 1,
    }
}

/// A comment reads back equal; an unknown id reads as none; a duplicate id is a conflict.
pub async fn comments_read_back_equal_and_ids_are_unique(store: &dyn Store) {
    let ticket = insert_ticket(store, NewTicket::new("Commented", "C"), id(), at(0)).await;
    let mut c = comment(&ticket, "Hello **world** <b>not html</b> ünïcode", false, 1);
    c.parent_id = Some(id());
    let mut tx = write(store).await;
    tx.insert_comment(&c).await.expect("insert a comment");
    commit(tx, "a comment").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.comment(c.id).await.expect("read").as_ref(),
        Some(&c),
        "a comment reads back equal"
    );
    assert_eq!(
        tx.comment(id()).await.expect("read a missing one"),
        None,
        "an unknown id reads as none"
    );
    drop(tx);
    let mut tx = write(store).await;
    let written = tx.insert_comment(&c).await;
    let err = write_error(tx.as_mut(), written, "a second comment with the same id").await;
    assert_eq!(
        err.kind(),
        ErrorKind::Conflict,
        "a duplicate comment id is a conflict: {err}"
    );
}

/// `update_comment` needs the next version (a stale one is a conflict) and a missing comment is "not
/// found".
pub async fn update_comment_requires_the_next_version(store: &dyn Store) {
    let ticket = insert_ticket(store, NewTicket::new("Edited", "C"), id(), at(0)).await;
    let c = comment(&ticket, "first", false, 1);
    let mut tx = write(store).await;
    tx.insert_comment(&c).await.expect("insert a comment");
    commit(tx, "a comment").await;
    let mut edited = c.clone();
    edited.edit("second".into(), at(2)).expect("edit");
    let mut tx = write(store).await;
    tx.update_comment(&edited).await.expect("update with the next version");
    commit(tx, "an edit").await;
    let mut tx = read(store).await;
    assert_eq!(
        tx.comment(c.id).await.expect("read").as_ref(),
        Some(&edited),
        "the edit replaced it"
    );
    drop(tx);
    let mut stale = c.clone();
    stale.edit("lost update".into(), at(3)).expect("edit");
    let mut tx = write(store).await;
    let written = tx.update_comment(&stale).await;
    let err = write_error(tx.as_mut(), written, "an update from a stale version").await;
    assert_eq!(err.kind(), ErrorKind::Conflict, "a stale version is a conflict: {err}");
    drop(tx);
    let mut tx = write(store).await;
    let mut ghost = comment(&ticket, "ghost", false, 4);
    ghost.version = 2;
    let written = tx.update_comment(&ghost).await;
    let err = write_error(tx.as_mut(), written, "updating a missing comment").await;
    assert_eq!(
        err.kind(),
        ErrorKind::NotFound,
        "updating a missing comment is not found: {err}"
    );
}

/// A ticket's comments list oldest first (ties by id), only its own, internal notes only when asked,
/// deleted ones in place; pages never overlap and the total counts what the filter admits.
pub async fn comment_list_is_the_tickets_thread_oldest_first(store: &dyn Store) {
    let ticket = insert_ticket(store, NewTicket::new("Thread", "C"), id(), at(0)).await;
    let other = insert_ticket(store, NewTicket::new("Other thread", "C"), id(), at(0)).await;
    let mut thread = [
        comment(&ticket, "c3", false, 30),
        comment(&ticket, "c1", false, 10),
        comment(&ticket, "note", true, 20),
        comment(&ticket, "c4", false, 40),
    ];
    thread[3].delete(at(41)).expect("delete");
    let mut tx = write(store).await;
    for c in thread.iter().chain([&comment(&other, "elsewhere", false, 5)]) {
        tx.insert_comment(c).await.expect("insert a comment");
    }
    commit(tx, "a thread").await;
    let list = async |include_internal: bool, page: u32, size: u32| {
        let query = CommentQuery {
            ticket: ticket.id,
            include_internal,
            page: PageRequest::new(page, size).expect("a valid page"),
        };
        let page = store.list_comments(&query).await.expect("list comments");
        let texts: Vec<String> = page.items.iter().map(|c| c.content.clone()).collect();
        (texts, page.total)
    };
    let strings = |v: &[&str]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
    assert_eq!(
        list(true, 1, 10).await,
        (strings(&["c1", "note", "c3", ""]), 4),
        "staff read all, oldest first"
    );
    assert_eq!(
        list(false, 1, 10).await,
        (strings(&["c1", "c3", ""]), 3),
        "without internal notes"
    );
    assert_eq!(
        list(true, 2, 3).await,
        (strings(&[""]), 4),
        "the second page continues the first"
    );
    assert_eq!(list(true, 3, 3).await, (Vec::new(), 4), "a page past the end is empty");
}
