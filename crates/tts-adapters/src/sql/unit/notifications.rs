//! [`Notifications`] in SQL: the `notifications` table.

use super::{Deferred, Expect, SqlUnit};
use crate::sql::values::Arg;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tts_core::ports::Notifications;
use tts_core::{Notification, NotificationId, Result, UserId};

#[async_trait]
impl Notifications for SqlUnit {
    async fn insert_notification(&mut self, n: &Notification) -> Result<()> {
        let data = self.json(n)?;
        self.defer(Deferred::any(
            "INSERT INTO notifications (id, user_id, is_read, created_at, data) VALUES ($1, $2, $3, $4, $5)",
            vec![
                Arg::Uuid(n.id.0),
                Arg::Uuid(n.user_id.0),
                Arg::Bool(n.is_read),
                Arg::Time(n.created_at),
                data,
            ],
            Some(format!("notifications:{}", n.id.0)),
        ))
        .await
    }

    async fn update_notification(&mut self, n: &Notification) -> Result<()> {
        let data = self.json(n)?;
        self.defer(Deferred {
            sql: "UPDATE notifications SET is_read = $2, data = $3 WHERE id = $1".into(),
            args: vec![Arg::Uuid(n.id.0), Arg::Bool(n.is_read), data],
            expect: Expect::Found {
                entity: "notification",
                shown: n.id.to_string(),
            },
            row: Some(format!("notifications:{}", n.id.0)),
        })
        .await
    }

    async fn notification(&mut self, id: NotificationId) -> Result<Option<Notification>> {
        self.one_doc("SELECT data FROM notifications WHERE id = $1", vec![Arg::Uuid(id.0)])
            .await
    }

    async fn mark_all_notifications_read(&mut self, user: UserId, at: DateTime<Utc>) -> Result<u64> {
        let sql = format!(
            "SELECT data FROM notifications WHERE user_id = $1 AND NOT is_read{}",
            self.lock()
        );
        let unread: Vec<Notification> = self.all_docs(sql, vec![Arg::Uuid(user.0)]).await?;
        let changed = unread.len() as u64;
        for mut n in unread {
            n.is_read = true;
            n.read_at = Some(at);
            self.update_notification(&n).await?;
        }
        Ok(changed)
    }
}
