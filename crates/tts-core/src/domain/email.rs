//! The e-mail a notification becomes: a subject, a plain-text body and an HTML body, each with a line
//! saying what happened, the notification's own text, and a link to the ticket's page.

use crate::domain::notification::{Notification, NotificationType};
use crate::ports::mailer::Email;

/// The path of a ticket's page under the public URL (the web UI's ticket screen).
pub fn ticket_path(number: &str) -> String {
    format!("/ui/tickets/{number}/")
}

/// A heading per notification type: what the recipient should know at a glance.
fn headline(kind: NotificationType) -> &'static str {
    match kind {
        NotificationType::TaskAssignment => "A ticket was assigned to you",
        NotificationType::TaskTransferIn => "A ticket was transferred to you",
        NotificationType::TaskTransferOut => "A ticket of yours was transferred to someone else",
        NotificationType::TaskEscalationIn => "An escalated ticket arrived for you",
        NotificationType::TaskEscalationOut => "A ticket of yours was escalated",
        NotificationType::TaskCompleted => "A ticket's work is complete",
        NotificationType::TicketStatusUpdate => "A ticket's status changed",
        NotificationType::SlaWarning => "A ticket is close to its SLA target",
        NotificationType::SlaBreach => "A ticket passed its SLA target",
        NotificationType::CommentAdded => "A ticket has a new comment",
        NotificationType::Mention => "You were mentioned on a ticket",
        NotificationType::TicketUnroutable => "A ticket matches no workflow and waits for an admin",
        NotificationType::System => "A notification from the ticket tracking system",
    }
}

/// The e-mail for `notification` to `to`. `public_url` (e.g. `https://tts.example.com`) makes the link
/// to the ticket; without it the e-mail names the ticket without a link.
pub fn compose(notification: &Notification, to: &str, public_url: Option<&str>) -> Email {
    let number = notification.related_ticket.map(|n| n.to_string());
    let link = match (&number, public_url) {
        (Some(n), Some(base)) => Some(format!("{}{}", base.trim_end_matches('/'), ticket_path(n))),
        _ => None,
    };
    let headline = headline(notification.kind);
    let mut text = format!("{headline}.\n\n{}\n", notification.message);
    let mut html = format!(
        "<!DOCTYPE html>\n<html><body>\n<h2>{}</h2>\n<p>{}</p>\n",
        escape(headline),
        escape(&notification.message).replace('\n', "<br>\n")
    );
    match (&number, &link) {
        (Some(n), Some(url)) => {
            text.push_str(&format!("\nOpen ticket {n}: {url}\n"));
            html.push_str(&format!(
                "<p><a href=\"{}\">Open ticket {}</a></p>\n",
                escape(url),
                escape(n)
            ));
        }
        (Some(n), None) => {
            text.push_str(&format!("\nTicket {n}\n"));
            html.push_str(&format!("<p>Ticket {}</p>\n", escape(n)));
        }
        _ => {}
    }
    let footer = "You get these e-mails because e-mail notifications are on in your profile.";
    text.push_str(&format!("\n--\n{footer}\n"));
    html.push_str(&format!("<p><small>{footer}</small></p>\n</body></html>\n"));
    Email {
        to: to.to_string(),
        subject: notification.subject.clone(),
        body: text,
        html: Some(html),
    }
}

/// Text made safe inside HTML elements and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ticket_number::TicketNumber;
    use crate::ids::{NotificationId, UserId};

    fn notification(message: &str) -> Notification {
        Notification {
            id: NotificationId(uuid::Uuid::nil()),
            user_id: UserId(uuid::Uuid::nil()),
            kind: NotificationType::TaskAssignment,
            subject: "TKT-2026-0007 assigned to you".into(),
            message: message.into(),
            related_ticket: Some(TicketNumber::new(2026, 7).expect("number")),
            related_task: None,
            is_read: false,
            read_at: None,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn both_bodies_link_to_the_ticket() {
        let e = compose(
            &notification("Step \"Triage\" is yours."),
            "a@example.com",
            Some("https://tts.example.com/"),
        );
        let url = "https://tts.example.com/ui/tickets/TKT-2026-0007/";
        assert_eq!(
            (e.to.as_str(), e.subject.as_str()),
            ("a@example.com", "TKT-2026-0007 assigned to you")
        );
        assert!(
            e.body.contains("A ticket was assigned to you") && e.body.contains(url),
            "{}",
            e.body
        );
        let html = e.html.expect("html");
        assert!(html.contains(&format!("<a href=\"{url}\">")), "{html}");
        assert!(html.contains("Step &quot;Triage&quot; is yours."), "{html}");
    }

    #[test]
    fn html_never_carries_markup_from_the_text() {
        let e = compose(&notification("<script>alert(1)</script> & co"), "a@example.com", None);
        let html = e.html.expect("html");
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"),
            "{html}"
        );
        assert!(e.body.contains("<script>"), "plain text stays as written");
        assert!(!e.body.contains("http"), "no public URL, no link");
    }
}
