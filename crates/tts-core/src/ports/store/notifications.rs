//! In-app notifications.

use crate::domain::notification::Notification;
use crate::error::Result;
use crate::ids::{NotificationId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Notifications.
///
/// Contract (checked by `tts_core::testkit::store::notifications`): notifications read back equal;
/// updating a missing one is "not found"; `mark_all_notifications_read` marks only the user's unread
/// ones, sets `read_at`, and says how many changed.
#[async_trait]
pub trait Notifications: Send {
    /// Inserts a notification.
    async fn insert_notification(&mut self, notification: &Notification) -> Result<()>;
    /// Replaces a notification.
    async fn update_notification(&mut self, notification: &Notification) -> Result<()>;
    /// A notification by id.
    async fn notification(&mut self, id: NotificationId) -> Result<Option<Notification>>;
    /// Marks all of a user's unread notifications read; returns how many changed.
    async fn mark_all_notifications_read(&mut self, user: UserId, at: DateTime<Utc>) -> Result<u64>;
}
