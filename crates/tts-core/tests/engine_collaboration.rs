//! Comments and attachments through the engine on the memory adapters: who may read and write what,
//! replies, edits in the history, soft deletes, who is notified (mentions of people who may not see the
//! comment are ignored), and when an attachment's blob may be deleted.

use tts_core::ports::store::PageRequest;
use tts_core::testkit::fixture::{Fixture, three_step};
use tts_core::*;

struct World {
    engine: Engine,
    mailer: std::sync::Arc<tts_core::memory::MemoryMailer>,
    fx: Fixture,
    ticket: Ticket,
    /// The agent who holds the Resolve step.
    holder: Actor,
    /// An agent of the same role who never held the ticket.
    outsider: User,
}

/// A ticket of the requester's, submitted by the admin at Triage so that an agent holds Resolve.
async fn world() -> World {
    let mailer = std::sync::Arc::new(tts_core::memory::MemoryMailer::new());
    let engine = Engine::in_memory().mailer(mailer.clone()).build().expect("engine");
    let fx = three_step(&engine, 2, 3).await.expect("fixture");
    let new = NewTicket::new("Laptop screen flickers", "Asset Check In")
        .department("Asset Department")
        .priority(Priority::High);
    let ticket = engine
        .create_ticket(fx.requester_actor(), new, None)
        .await
        .expect("create")
        .ticket;
    let Allocation::Allocated { task, assignment } = engine.allocate(ticket.id).await.expect("allocate") else {
        panic!("the ticket was allocated");
    };
    let admin = fx.actor(
        fx.admins
            .iter()
            .find(|a| a.id == assignment.user)
            .expect("an admin holds Triage"),
    );
    engine
        .perform_action(admin, task.id, fx.submit, "over to the asset team")
        .await
        .expect("submit");
    let view = engine.task(admin, task.id).await.expect("task");
    let resolve = view.assignments.last().expect("Resolve is assigned");
    let holder = fx.actor(
        fx.agents
            .iter()
            .find(|a| a.id == resolve.user)
            .expect("an agent holds Resolve"),
    );
    let outsider = fx
        .agents
        .iter()
        .find(|a| a.id != resolve.user)
        .expect("another agent")
        .clone();
    World {
        engine,
        mailer,
        fx,
        ticket,
        holder,
        outsider,
    }
}

fn said(content: &str) -> NewComment {
    NewComment {
        content: content.into(),
        is_internal: false,
        parent_id: None,
    }
}

fn note(content: &str) -> NewComment {
    NewComment {
        is_internal: true,
        ..said(content)
    }
}

async fn thread(w: &World, actor: Actor) -> Result<Vec<String>> {
    let page = w
        .engine
        .comments(actor, w.ticket.id.into(), PageRequest::default())
        .await?;
    Ok(page.items.into_iter().map(|c| c.content).collect())
}

/// The notifications of `user` (after delivering everything waiting), as (type, subject).
async fn notified(w: &World, user: UserId) -> Vec<(NotificationType, String)> {
    w.engine
        .drain(Consumer::Notifications)
        .await
        .expect("deliver notifications");
    let page = w
        .engine
        .notifications(Actor::user(user), None, PageRequest::default())
        .await
        .expect("notifications");
    page.items.into_iter().map(|n| (n.kind, n.subject)).collect()
}

fn kinds(list: &[(NotificationType, String)], kind: NotificationType) -> usize {
    list.iter().filter(|(k, _)| *k == kind).count()
}

#[tokio::test]
async fn internal_notes_are_for_staff_and_mentions_reach_only_who_may_see() {
    let w = world().await;
    let requester = w.fx.requester_actor();
    let admin = w.fx.actor(&w.fx.admins[1]);
    let before_requester = notified(&w, requester.user).await;
    let text = format!(
        "Screen cable? cc @{} @{} @{}",
        w.fx.requester.email.to_uppercase(),
        w.outsider.email,
        w.fx.admins[1].email
    );
    let n = w
        .engine
        .add_comment(w.holder, w.ticket.id.into(), note(&text))
        .await
        .expect("note");
    assert!(n.is_internal);
    assert_eq!(thread(&w, w.holder).await.expect("holder reads"), vec![text.clone()]);
    assert_eq!(thread(&w, admin).await.expect("admin reads"), vec![text.clone()]);
    assert!(
        thread(&w, requester).await.expect("requester reads").is_empty(),
        "the requester sees no note"
    );
    let outsider = w.fx.actor(&w.outsider);
    let err = thread(&w, outsider).await.expect_err("the outsider reads nothing");
    assert_eq!(err.kind(), ErrorKind::NotFound);

    assert_eq!(
        kinds(&notified(&w, admin.user).await, NotificationType::Mention),
        1,
        "the admin may see it"
    );
    let outsider_got = notified(&w, w.outsider.id).await;
    assert_eq!(
        outsider_got.len(),
        0,
        "a mention of someone who may not see the ticket is ignored"
    );
    assert_eq!(
        notified(&w, requester.user).await,
        before_requester,
        "the requester hears nothing of an internal note, mention or not"
    );
    w.engine.drain(Consumer::Mail).await.expect("send e-mails");
    let mails = w.mailer.sent();
    assert!(
        mails
            .iter()
            .any(|m| m.to == w.fx.admins[1].email && m.body.contains("Screen cable?")),
        "the mentioned admin gets the note by e-mail"
    );
    assert!(
        mails
            .iter()
            .all(|m| m.to != w.fx.requester.email || !m.body.contains("Screen cable?")),
        "no e-mail carries the note to the requester"
    );

    let err = w
        .engine
        .add_comment(requester, w.ticket.id.into(), note("let me in"))
        .await
        .expect_err("a requester writes no notes");
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let reply = NewComment {
        parent_id: Some(n.id),
        ..said("what note?")
    };
    let err = w
        .engine
        .add_comment(requester, w.ticket.id.into(), reply)
        .await
        .expect_err("the note is not there for the requester");
    assert!(
        matches!(&err, Error::Validation(p) if p[0].field == "parent_id"),
        "{err:?}"
    );
    let err = w
        .engine
        .add_comment(outsider, w.ticket.id.into(), said("hello?"))
        .await
        .expect_err("the outsider cannot comment");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn public_comments_notify_the_requester_and_the_holder_but_never_the_author() {
    let w = world().await;
    let requester = w.fx.requester_actor();
    let holder_before = kinds(&notified(&w, w.holder.user).await, NotificationType::CommentAdded);
    let asked = w
        .engine
        .add_comment(requester, w.ticket.id.into(), said("Any news? **It got worse.**"))
        .await
        .expect("the requester comments");
    let holder_now = notified(&w, w.holder.user).await;
    assert_eq!(
        kinds(&holder_now, NotificationType::CommentAdded),
        holder_before + 1,
        "the holder is told"
    );
    assert_eq!(
        kinds(&notified(&w, requester.user).await, NotificationType::CommentAdded),
        0,
        "not the author"
    );

    let reply = NewComment {
        parent_id: Some(asked.id),
        ..said("Replacing the cable today.")
    };
    let answer = w
        .engine
        .add_comment(w.holder, w.ticket.id.into(), reply)
        .await
        .expect("reply");
    assert_eq!(answer.parent_id, Some(asked.id));
    let got = notified(&w, requester.user).await;
    assert_eq!(
        kinds(&got, NotificationType::CommentAdded),
        1,
        "the requester is told of the answer"
    );
    let nested = NewComment {
        parent_id: Some(answer.id),
        ..said("Thanks")
    };
    let err = w
        .engine
        .add_comment(requester, w.ticket.id.into(), nested)
        .await
        .expect_err("replies nest one level");
    assert!(
        matches!(&err, Error::Validation(p) if p[0].field == "parent_id"),
        "{err:?}"
    );
    assert_eq!(
        thread(&w, requester).await.expect("thread"),
        vec![
            "Any news? **It got worse.**".to_string(),
            "Replacing the cable today.".to_string()
        ]
    );
}

#[tokio::test]
async fn edits_keep_the_previous_text_in_the_history_and_deletes_keep_the_place() {
    let w = world().await;
    let requester = w.fx.requester_actor();
    let mine = w
        .engine
        .add_comment(requester, w.ticket.id.into(), said("first words"))
        .await
        .expect("comment");
    let secret = w
        .engine
        .add_comment(w.holder, w.ticket.id.into(), note("secret words"))
        .await
        .expect("note");
    let err = w
        .engine
        .edit_comment(w.holder, w.ticket.id.into(), mine.id, "not yours".into())
        .await
        .expect_err("only the author or an admin edits");
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let edited = w
        .engine
        .edit_comment(requester, w.ticket.id.into(), mine.id, "second words".into())
        .await
        .expect("edit");
    assert_eq!((edited.content.as_str(), edited.version), ("second words", 2));
    assert!(edited.edited_at.is_some());
    w.engine
        .edit_comment(w.holder, w.ticket.id.into(), secret.id, "still secret".into())
        .await
        .expect("edit the note");
    let err = w
        .engine
        .edit_comment(requester, w.ticket.id.into(), secret.id, "x".into())
        .await
        .expect_err("the note does not exist for the requester");
    assert_eq!(err.kind(), ErrorKind::NotFound);

    let history = w
        .engine
        .ticket_history(w.holder, w.ticket.id.into())
        .await
        .expect("history");
    let edit = history
        .iter()
        .find(|e| e.action == "comment.edited" && e.after["content"] == "second words")
        .expect("the edit is in the history");
    assert_eq!(edit.before["content"], "first words", "with the previous text");
    let seen_by_requester = w
        .engine
        .ticket_history(requester, w.ticket.id.into())
        .await
        .expect("history");
    let text = serde_json::to_string(&seen_by_requester).expect("json");
    assert!(text.contains("second words") && text.contains("first words"));
    assert!(
        !text.contains("secret"),
        "no trace of the note for the requester: {text}"
    );

    let admin = w.fx.actor(&w.fx.admins[0]);
    let gone = w
        .engine
        .delete_comment(admin, w.ticket.id.into(), mine.id)
        .await
        .expect("an admin deletes");
    assert!(gone.deleted_at.is_some() && gone.content.is_empty());
    let err = w
        .engine
        .delete_comment(requester, w.ticket.id.into(), mine.id)
        .await
        .expect_err("deleting twice");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let page = w
        .engine
        .comments(requester, w.ticket.id.into(), PageRequest::default())
        .await
        .expect("thread");
    assert_eq!(page.total, 1, "the deleted comment keeps its place");
    assert_eq!(page.items[0].id, mine.id);
}

/// A blob is deleted only when no attachment uses it and it has waited out the grace period; one
/// released after a failed record goes the same way.
#[tokio::test]
async fn blobs_are_swept_only_when_unused_and_old_enough() {
    use std::sync::Arc;
    use tts_core::memory::{ManualClock, MemoryBlobStore};
    use tts_core::ports::BlobStore;

    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let engine = Engine::in_memory().clock(clock.clone()).build().expect("engine");
    let fx = three_step(&engine, 1, 1).await.expect("fixture");
    let requester = fx.requester_actor();
    let ticket = engine
        .create_ticket(requester, NewTicket::new("Files", "Asset Check In"), None)
        .await
        .expect("create")
        .ticket;
    let blobs = MemoryBlobStore::new();
    let blob = blobs.put(b"%PDF-1.7 shared bytes").await.expect("put");
    let upload = |name: &str| Upload {
        blob: blob.clone(),
        file_name: name.into(),
        content_type: "application/pdf".into(),
        comment_id: None,
    };
    let a = engine
        .attach(requester, ticket.id.into(), upload("a.pdf"))
        .await
        .expect("attach a");
    let b = engine
        .attach(requester, ticket.id.into(), upload("../b.pdf"))
        .await
        .expect("attach b");
    assert_eq!(b.file_name, "b.pdf");
    assert_eq!(
        engine
            .ticket(requester, ticket.id.into())
            .await
            .expect("ticket")
            .attachments
            .len(),
        2
    );

    engine
        .remove_attachment(requester, ticket.id.into(), a.id)
        .await
        .expect("remove a");
    clock.advance(chrono::Duration::hours(2));
    assert_eq!(
        engine.sweep_blobs(&blobs, 100).await.expect("sweep"),
        0,
        "b still uses the blob"
    );
    engine
        .remove_attachment(requester, ticket.id.into(), b.id)
        .await
        .expect("remove b");
    assert_eq!(
        engine.sweep_blobs(&blobs, 100).await.expect("sweep"),
        0,
        "not before the grace period"
    );
    assert!(blobs.get(&blob.sha256).await.expect("get").is_some());
    clock.advance(chrono::Duration::hours(2));
    assert_eq!(engine.sweep_blobs(&blobs, 100).await.expect("sweep"), 1);
    assert!(
        blobs.get(&blob.sha256).await.expect("get").is_none(),
        "the unused blob is gone"
    );

    let stray = blobs.put(b"bytes whose record failed").await.expect("put");
    engine.release_blob(&stray.sha256).await.expect("release");
    clock.advance(chrono::Duration::hours(2));
    assert_eq!(engine.sweep_blobs(&blobs, 100).await.expect("sweep"), 1);
    assert!(blobs.get(&stray.sha256).await.expect("get").is_none());

    // A deleted comment takes its files with it; their blob waits for the sweep like any other.
    let said = engine
        .add_comment(
            requester,
            ticket.id.into(),
            NewComment {
                content: "see the scan".into(),
                is_internal: false,
                parent_id: None,
            },
        )
        .await
        .expect("comment");
    blobs
        .put(b"%PDF-1.7 shared bytes")
        .await
        .expect("the bytes stored again");
    let scan = Upload {
        comment_id: Some(said.id),
        ..upload("scan.pdf")
    };
    let file = engine
        .attach(requester, ticket.id.into(), scan)
        .await
        .expect("attach to the comment");
    assert_eq!(file.comment_id, Some(said.id));
    engine
        .delete_comment(requester, ticket.id.into(), said.id)
        .await
        .expect("delete the comment");
    assert!(
        engine
            .attachments(requester, ticket.id.into())
            .await
            .expect("files")
            .is_empty(),
        "the comment's file went with it"
    );
    clock.advance(chrono::Duration::hours(2));
    assert_eq!(
        engine.sweep_blobs(&blobs, 100).await.expect("sweep"),
        1,
        "and its blob after the grace period"
    );

    let other = fx.actor(&fx.agents[0]);
    let err = engine
        .attach(other, ticket.id.into(), upload("x.pdf"))
        .await
        .expect_err("an agent who never held the ticket");
    assert_eq!(err.kind(), ErrorKind::NotFound);
}
