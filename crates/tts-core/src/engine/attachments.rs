//! Attachment commands: files on a ticket or on one of its comments, listed in the ticket's document,
//! their blobs counted in [`BlobRefs`](crate::ports::store::BlobRefs) and swept when nothing uses them.
//!
//! An upload is checked first ([`Engine::may_attach`], before any byte is read), streamed to the blob
//! store as a staged blob, recorded by [`Engine::attach`] in one unit (ticket, blob reference, audit,
//! event), and only then kept; a failed record leaves no blob, a failed keep is undone.

use super::Engine;
use super::command::Cmd;
use super::tickets::{TicketRef, visible_ticket_as};
use crate::domain::attachment::{AttachmentMeta, MAX_ATTACHMENTS_PER_TICKET, safe_file_name};
use crate::domain::event::DomainEvent;
use crate::domain::ticket::Ticket;
use crate::domain::user::Actor;
use crate::domain::visibility::Audience;
use crate::error::{Error, Result};
use crate::ids::{AttachmentId, CommentId};
use crate::ports::blob::{BlobRef, BlobStore};
use chrono::Duration;
use serde_json::json;

/// How long a blob nothing uses waits before the sweep deletes it: longer than any upload takes, so a
/// file being uploaded again is never swept from under it.
pub const BLOB_GRACE: Duration = Duration::hours(1);

/// A stored upload to record: what [`Engine::attach`] takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The bytes' hash and size.
    pub blob: BlobRef,
    /// The client's file name (made safe when recorded).
    pub file_name: String,
    /// The type decided from the bytes.
    pub content_type: String,
    /// The comment it belongs to.
    pub comment_id: Option<CommentId>,
}

impl Engine {
    /// Whether `actor` may attach a file to the ticket (and to `comment`, which must be theirs or the
    /// actor an admin), asked before the bytes are read: "not found" for a ticket or comment they do not
    /// see, "forbidden" for someone else's comment, a conflict when the ticket holds the most files.
    pub async fn may_attach(&self, actor: Actor, r: TicketRef, comment: Option<CommentId>) -> Result<()> {
        self.read(actor, async move |cmd| {
            let (ticket, seen) = visible_ticket_as(cmd.tx.as_mut(), actor, r).await?;
            attach_target(cmd, actor, &ticket, seen, comment).await.map(|_| ())
        })
        .await
    }

    /// Records a stored upload on the ticket, in one unit with its blob reference, audit entry and event.
    pub async fn attach(&self, actor: Actor, r: TicketRef, upload: Upload) -> Result<AttachmentMeta> {
        self.write(actor, async move |cmd| attach_in(cmd, actor, r, &upload).await)
            .await
    }

    /// The files of a ticket the actor sees (those of internal notes for staff only), oldest first.
    pub async fn attachments(&self, actor: Actor, r: TicketRef) -> Result<Vec<AttachmentMeta>> {
        self.read(actor, async move |cmd| {
            let (ticket, seen) = visible_ticket_as(cmd.tx.as_mut(), actor, r).await?;
            Ok(ticket
                .attachments
                .into_iter()
                .filter(|a| seen.sees_attachment(a))
                .collect())
        })
        .await
    }

    /// One file of a ticket, if the actor sees it.
    pub async fn attachment(&self, actor: Actor, r: TicketRef, id: AttachmentId) -> Result<AttachmentMeta> {
        self.attachments(actor, r)
            .await?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| Error::not_found("attachment", id))
    }

    /// Removes a file (its uploader or an admin); its blob is deleted by the sweep once nothing uses it.
    pub async fn remove_attachment(&self, actor: Actor, r: TicketRef, id: AttachmentId) -> Result<AttachmentMeta> {
        self.write(actor, async move |cmd| remove_in(cmd, actor, r, id).await)
            .await
    }

    /// Puts a blob on the orphan list unless an attachment uses it: for an upload whose record failed
    /// after its bytes were kept.
    pub async fn release_blob(&self, sha256: &str) -> Result<()> {
        let sha256 = sha256.to_string();
        self.background(async move |cmd| cmd.tx.release_blob(&sha256, cmd.now).await)
            .await
    }

    /// Deletes up to `limit` blobs that nothing has used for [`BLOB_GRACE`] (sparing any written since);
    /// returns how many were deleted. The shells run it on a timer.
    pub async fn sweep_blobs(&self, blobs: &dyn BlobStore, limit: usize) -> Result<usize> {
        let before = self.clock.now() - BLOB_GRACE;
        let taken = self
            .background(async move |cmd| cmd.tx.take_orphan_blobs(before, limit).await)
            .await?;
        let mut deleted = 0;
        for sha256 in taken {
            match blobs.delete_stale(&sha256, before).await {
                Ok(true) => deleted += 1,
                Ok(false) => {}
                Err(e) => {
                    // Back on the list for the next sweep.
                    self.release_blob(&sha256).await?;
                    return Err(e);
                }
            }
        }
        Ok(deleted)
    }
}

/// Checks where a file may go: the ticket has room, and the comment (if any) is one the actor sees and
/// wrote (or the actor is an admin). Returns whether the file is internal (on an internal note).
async fn attach_target(
    cmd: &mut Cmd<'_>,
    actor: Actor,
    ticket: &Ticket,
    seen: Audience,
    comment: Option<CommentId>,
) -> Result<bool> {
    if ticket.attachments.len() >= MAX_ATTACHMENTS_PER_TICKET {
        return Err(Error::conflict(format!(
            "a ticket holds at most {MAX_ATTACHMENTS_PER_TICKET} files; remove one first"
        )));
    }
    let Some(id) = comment else {
        return Ok(false);
    };
    let c = cmd
        .tx
        .comment(id)
        .await?
        .filter(|c| c.ticket == ticket.id && seen.sees_comment(c) && c.deleted_at.is_none())
        .ok_or_else(|| Error::invalid("comment_id", "no such comment on this ticket"))?;
    if !c.may_change(actor.user, actor.is_admin) {
        return Err(Error::Forbidden("files go on your own comments only".into()));
    }
    Ok(c.is_internal)
}

async fn attach_in(cmd: &mut Cmd<'_>, actor: Actor, r: TicketRef, upload: &Upload) -> Result<AttachmentMeta> {
    let (mut ticket, seen) = visible_ticket_as(cmd.tx.as_mut(), actor, r).await?;
    let is_internal = attach_target(cmd, actor, &ticket, seen, upload.comment_id).await?;
    let meta = AttachmentMeta {
        id: cmd.id(),
        sha256: upload.blob.sha256.clone(),
        file_name: safe_file_name(&upload.file_name),
        content_type: upload.content_type.clone(),
        size: upload.blob.size,
        uploaded_by: actor.user,
        created_at: cmd.now,
        comment_id: upload.comment_id,
        is_internal,
    };
    ticket.attachments.push(meta.clone());
    ticket.touch(cmd.now);
    cmd.tx.update_ticket(&ticket).await?;
    cmd.tx.add_blob_ref(meta.id, &meta.sha256).await?;
    let after = json!({
        "attachment": meta.id, "file_name": meta.file_name, "content_type": meta.content_type,
        "size": meta.size, "comment": meta.comment_id, "is_internal": meta.is_internal,
    });
    cmd.audit(
        "attachment.added",
        Some(ticket.id),
        None,
        serde_json::Value::Null,
        after,
    )
    .await?;
    cmd.emit(DomainEvent::AttachmentAdded {
        ticket: ticket.id,
        attachment: meta.id,
        is_internal,
    });
    Ok(meta)
}

async fn remove_in(cmd: &mut Cmd<'_>, actor: Actor, r: TicketRef, id: AttachmentId) -> Result<AttachmentMeta> {
    let (mut ticket, seen) = visible_ticket_as(cmd.tx.as_mut(), actor, r).await?;
    let at = ticket
        .attachments
        .iter()
        .position(|a| a.id == id && seen.sees_attachment(a))
        .ok_or_else(|| Error::not_found("attachment", id))?;
    if !ticket.attachments[at].may_remove(actor.user, actor.is_admin) {
        return Err(Error::Forbidden(
            "only the uploader or an admin may remove a file".into(),
        ));
    }
    let meta = detach(cmd, &mut ticket, at).await?;
    ticket.touch(cmd.now);
    cmd.tx.update_ticket(&ticket).await?;
    Ok(meta)
}

/// Takes the file at `at` off `ticket` (the caller saves the ticket): forgets its blob reference, writes
/// the audit entry and the event.
pub(crate) async fn detach(cmd: &mut Cmd<'_>, ticket: &mut Ticket, at: usize) -> Result<AttachmentMeta> {
    let meta = ticket.attachments.remove(at);
    cmd.tx.remove_blob_ref(meta.id, cmd.now).await?;
    let before = json!({
        "attachment": meta.id, "file_name": meta.file_name, "is_internal": meta.is_internal,
    });
    cmd.audit(
        "attachment.removed",
        Some(ticket.id),
        None,
        before,
        serde_json::Value::Null,
    )
    .await?;
    cmd.emit(DomainEvent::AttachmentRemoved {
        ticket: ticket.id,
        attachment: meta.id,
        is_internal: meta.is_internal,
    });
    Ok(meta)
}
