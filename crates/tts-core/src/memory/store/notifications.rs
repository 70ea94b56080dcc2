//! [`Notifications`] in memory.

use super::MemoryUnit;
use crate::domain::notification::Notification;
use crate::error::{Error, Result};
use crate::ids::{NotificationId, UserId};
use crate::ports::store::Notifications;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
impl Notifications for MemoryUnit {
    async fn insert_notification(&mut self, n: &Notification) -> Result<()> {
        if self.s().notifications.contains_key(&n.id) {
            return Err(Error::conflict(format!("notification {} exists", n.id)));
        }
        self.set(|s| &mut s.notifications, n.id, Box::new(n.clone()));
        self.push_index(|s| &mut s.user_notifications, n.user_id, n.id);
        Ok(())
    }

    async fn update_notification(&mut self, n: &Notification) -> Result<()> {
        if !self.s().notifications.contains_key(&n.id) {
            return Err(Error::not_found("notification", n.id));
        }
        self.set(|s| &mut s.notifications, n.id, Box::new(n.clone()));
        Ok(())
    }

    async fn notification(&mut self, id: NotificationId) -> Result<Option<Notification>> {
        Ok(self.s().notifications.get(&id).map(|n| (**n).clone()))
    }

    async fn mark_all_notifications_read(&mut self, user: UserId, at: DateTime<Utc>) -> Result<u64> {
        let ids: Vec<NotificationId> = self.s().user_notifications.get(&user).cloned().unwrap_or_default();
        let mut changed = 0;
        for id in ids {
            if let Some(mut n) = self.s().notifications.get(&id).cloned().filter(|n| !n.is_read) {
                n.is_read = true;
                n.read_at = Some(at);
                self.set(|s| &mut s.notifications, id, n);
                changed += 1;
            }
        }
        Ok(changed)
    }
}
