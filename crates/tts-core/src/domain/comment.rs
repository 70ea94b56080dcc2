//! Comments on a ticket: public replies and the agents' internal notes, one level of replies, edits
//! and soft deletes, and the `@e-mail` mentions that notify someone.
//!
//! Content is Markdown kept as text: clients render it (and escape it); the server never takes HTML.

use super::notification::NotificationType;
use crate::error::{Error, Problems, Result};
use crate::ids::{CommentId, TicketId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 10_000;
/// Most mentions one comment notifies; further ones are ignored.
pub const MAX_MENTIONS: usize = 20;

/// A comment as stored. A deleted comment keeps its place in the thread (id, author, parent, times)
/// with its content emptied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// Identifier.
    pub id: CommentId,
    /// The ticket it is on.
    pub ticket: TicketId,
    /// Who wrote it.
    pub author: UserId,
    /// The author's display name when they wrote it.
    pub author_name: String,
    /// Markdown text; empty once deleted.
    pub content: String,
    /// An internal note: only staff on the ticket see it (see [`super::visibility`]).
    pub is_internal: bool,
    /// The top-level comment this replies to; replies nest one level.
    pub parent_id: Option<CommentId>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When its text last changed.
    pub edited_at: Option<DateTime<Utc>>,
    /// When it was deleted.
    pub deleted_at: Option<DateTime<Utc>>,
    /// Optimistic-lock version, 1 when written.
    pub version: u32,
}

/// What a client sends to comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewComment {
    /// Markdown text, 1..=10,000 characters (not only spaces).
    pub content: String,
    /// Whether it is an internal note (staff on the ticket only).
    #[serde(default)]
    pub is_internal: bool,
    /// The comment it replies to.
    #[serde(default)]
    pub parent_id: Option<CommentId>,
}

/// Checks a comment's text: not blank, at most [`MAX_COMMENT_CHARS`] characters.
pub fn check_content(content: &str) -> Result<()> {
    let mut p = Problems::default();
    if content.trim().is_empty() {
        p.push("content", "must not be empty");
    } else if content.chars().count() > MAX_COMMENT_CHARS {
        p.push("content", format!("must be at most {MAX_COMMENT_CHARS} characters"));
    }
    p.finish(())
}

impl NewComment {
    /// Checks the text and the reply rules against `parent` (the comment `parent_id` names, if found on
    /// the same ticket): replies nest one level, never under a deleted comment, and a reply to an
    /// internal note is internal too (it would otherwise show an answer to a question nobody sees).
    pub fn check(&self, parent: Option<&Comment>) -> Result<()> {
        check_content(&self.content)?;
        let Some(parent_id) = self.parent_id else {
            return Ok(());
        };
        let parent = parent
            .filter(|p| p.id == parent_id)
            .ok_or_else(|| Error::invalid("parent_id", "no such comment on this ticket"))?;
        if parent.parent_id.is_some() {
            return Err(Error::invalid(
                "parent_id",
                "replies nest one level: reply to the comment this one replies to",
            ));
        }
        if parent.deleted_at.is_some() {
            return Err(Error::invalid("parent_id", "that comment was deleted"));
        }
        if parent.is_internal && !self.is_internal {
            return Err(Error::invalid(
                "is_internal",
                "a reply to an internal note must be internal too",
            ));
        }
        Ok(())
    }
}

impl Comment {
    /// Whether `user` (an admin when `is_admin`) may edit or delete it: its author or an admin.
    pub fn may_change(&self, user: UserId, is_admin: bool) -> bool {
        is_admin || self.author == user
    }

    /// Replaces the text; a deleted comment cannot be edited.
    pub fn edit(&mut self, content: String, now: DateTime<Utc>) -> Result<()> {
        if self.deleted_at.is_some() {
            return Err(Error::not_found("comment", self.id));
        }
        check_content(&content)?;
        self.content = content;
        self.edited_at = Some(now);
        self.version += 1;
        Ok(())
    }

    /// Soft-deletes it: the text goes, the place in the thread stays. Deleting twice is "not found".
    pub fn delete(&mut self, now: DateTime<Utc>) -> Result<()> {
        if self.deleted_at.is_some() {
            return Err(Error::not_found("comment", self.id));
        }
        self.content.clear();
        self.deleted_at = Some(now);
        self.version += 1;
        Ok(())
    }
}

/// The e-mail addresses mentioned as `@user@example.com`, lower-case, first mention first, each once,
/// at most [`MAX_MENTIONS`]. A mention starts with `@` at the start of the text or after a character
/// that cannot be part of an address, so `me@example.com` alone is not one.
pub fn mentions(content: &str) -> Vec<String> {
    let chars: Vec<char> = content.chars().collect();
    let mut found: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() && found.len() < MAX_MENTIONS {
        let starts = chars[i] == '@' && (i == 0 || !is_address_char(chars[i - 1]));
        if !starts {
            i += 1;
            continue;
        }
        let end = (i + 1..chars.len())
            .find(|&j| !is_address_char(chars[j]))
            .unwrap_or(chars.len());
        let candidate: String = chars[i + 1..end].iter().collect();
        let candidate = candidate.trim_end_matches(['.', '-']).to_lowercase();
        if looks_like_address(&candidate) && !found.contains(&candidate) {
            found.push(candidate);
        }
        i = end.max(i + 1);
    }
    found
}

fn is_address_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-' | '@')
}

fn looks_like_address(s: &str) -> bool {
    let mut parts = s.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) => {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.contains("..")
        }
        _ => false,
    }
}

/// Who is notified of a new comment, and how: each mentioned user who may see it gets a `mention`;
/// the requester (for a public comment) and the current assignees get `comment_added`; the author is
/// never notified, and nobody twice.
///
/// `mentioned_who_see` must already be filtered to users who may see this comment (a mention of
/// anyone else is ignored, never leaked).
pub fn recipients(
    author: UserId,
    is_internal: bool,
    requester: UserId,
    assignees: &[UserId],
    mentioned_who_see: &[UserId],
) -> Vec<(UserId, NotificationType)> {
    let mut out: Vec<(UserId, NotificationType)> = Vec::new();
    let mut add = |user: UserId, kind: NotificationType| {
        if user != author && !out.iter().any(|(u, _)| *u == user) {
            out.push((user, kind));
        }
    };
    for &user in mentioned_who_see {
        add(user, NotificationType::Mention);
    }
    if !is_internal {
        add(requester, NotificationType::CommentAdded);
    }
    for &user in assignees {
        add(user, NotificationType::CommentAdded);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn user(n: u8) -> UserId {
        UserId(uuid::Uuid::from_u128(u128::from(n) + 1))
    }

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).expect("time")
    }

    fn comment(parent: Option<CommentId>, internal: bool) -> Comment {
        Comment {
            id: CommentId(uuid::Uuid::from_u128(7)),
            ticket: TicketId(1),
            author: user(1),
            author_name: "Ann".into(),
            content: "hello".into(),
            is_internal: internal,
            parent_id: parent,
            created_at: at(0),
            edited_at: None,
            deleted_at: None,
            version: 1,
        }
    }

    fn field(checked: Result<()>) -> String {
        match checked {
            Err(Error::Validation(problems)) => problems[0].field.clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    fn reply_to(parent: &Comment, internal: bool) -> NewComment {
        NewComment {
            content: "reply".into(),
            is_internal: internal,
            parent_id: Some(parent.id),
        }
    }

    #[test]
    fn replies_nest_one_level_and_follow_internal_notes() {
        let top = comment(None, false);
        assert!(reply_to(&top, false).check(Some(&top)).is_ok());
        let nested = comment(Some(CommentId(uuid::Uuid::from_u128(9))), false);
        assert_eq!(field(reply_to(&nested, false).check(Some(&nested))), "parent_id");
        let note = comment(None, true);
        assert_eq!(field(reply_to(&note, false).check(Some(&note))), "is_internal");
        assert!(reply_to(&note, true).check(Some(&note)).is_ok());
        assert_eq!(field(reply_to(&top, false).check(None)), "parent_id");
        let mut gone = comment(None, false);
        gone.delete(at(5)).expect("delete");
        assert_eq!(field(reply_to(&gone, false).check(Some(&gone))), "parent_id");
    }

    #[test]
    fn blank_and_oversized_content_is_refused() {
        assert!(check_content("  \n ").is_err());
        assert!(check_content(&"x".repeat(MAX_COMMENT_CHARS)).is_ok());
        assert!(check_content(&"x".repeat(MAX_COMMENT_CHARS + 1)).is_err());
    }

    #[test]
    fn edits_and_deletes_move_the_version_and_a_deleted_comment_is_gone() {
        let mut c = comment(None, false);
        c.edit("new text".into(), at(3)).expect("edit");
        assert_eq!(
            (c.content.as_str(), c.edited_at, c.version),
            ("new text", Some(at(3)), 2)
        );
        c.delete(at(4)).expect("delete");
        assert_eq!((c.content.as_str(), c.deleted_at, c.version), ("", Some(at(4)), 3));
        assert!(c.edit("again".into(), at(5)).is_err());
        assert!(c.delete(at(6)).is_err());
    }

    #[test]
    fn mentions_are_addresses_after_an_at_sign() {
        assert_eq!(
            mentions("Hi @Ann@Example.com, see @bob@x.org. Mail me@home.net or @nobody or @a@b."),
            vec!["ann@example.com".to_string(), "bob@x.org".to_string()]
        );
        assert_eq!(mentions("(@c@d.io) @c@d.io"), vec!["c@d.io".to_string()]);
        assert!(mentions("@@x.io @ a@b.io").is_empty());
    }

    proptest! {
        /// Any address written as a mention anywhere in any text is found, lower-cased, once.
        #[test]
        fn every_written_mention_is_found(
            before in "[ -~]{0,30}",
            local in "[a-z0-9]{1,10}",
            domain in "[a-z]{1,8}\\.[a-z]{2,4}",
            after in "[ ,;!?)]{1}[ -~]{0,30}",
        ) {
            let address = format!("{local}@{domain}");
            let text = format!("{before} @{} {after} @{address}", address.to_uppercase());
            let found = mentions(&text);
            prop_assert!(found.contains(&address), "{text:?} -> {found:?}");
            prop_assert_eq!(found.iter().filter(|a| **a == address).count(), 1);
        }

        /// Text without an at sign never mentions anyone, and no input panics.
        #[test]
        fn no_at_sign_no_mention(text in "[^@]{0,200}", any in "\\PC{0,100}") {
            prop_assert!(mentions(&text).is_empty());
            let _ = mentions(&any);
        }

        /// The author is never notified, nobody twice, the requester never of an internal note unless
        /// they hold the work, and every mentioned user who may see it gets a mention.
        #[test]
        fn recipients_rules(
            author in 0u8..6,
            internal: bool,
            requester in 0u8..6,
            assignees in proptest::collection::vec(0u8..6, 0..3),
            mentioned in proptest::collection::vec(0u8..6, 0..3),
        ) {
            let assignees: Vec<UserId> = assignees.into_iter().map(user).collect();
            let mentioned: Vec<UserId> = mentioned.into_iter().map(user).collect();
            let out = recipients(user(author), internal, user(requester), &assignees, &mentioned);
            prop_assert!(out.iter().all(|(u, _)| *u != user(author)));
            for (i, (u, _)) in out.iter().enumerate() {
                prop_assert!(out[i + 1..].iter().all(|(v, _)| v != u));
            }
            let requester_told = out.iter().any(|(u, _)| *u == user(requester));
            if internal && !assignees.contains(&user(requester)) && !mentioned.contains(&user(requester)) {
                prop_assert!(!requester_told);
            }
            for m in &mentioned {
                if *m != user(author) {
                    prop_assert!(out.contains(&(*m, NotificationType::Mention)));
                }
            }
        }
    }
}
