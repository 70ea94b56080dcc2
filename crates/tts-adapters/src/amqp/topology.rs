//! The broker objects behind one work queue `q`:
//!
//! - `q`: durable, quorum (or classic), where messages wait for a consumer;
//! - `q.retry.<n>`: durable classic queues where a message that failed delivery `n` waits out its
//!   back-off (a per-message TTL); on expiry the broker dead-letters it through the default exchange
//!   back onto `q`. One queue per attempt number keeps a long delay from holding up a short one behind
//!   it (a queue expires messages only at its head); attempts past [`RETRY_LEVELS`] share the last.

use super::config::QueueKind;
use super::link::{Live, amqp_err};
use lapin::options::{QueueDeclareOptions, QueueDeleteOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use tts_core::Result;

/// How many retry queues a work queue has.
pub const RETRY_LEVELS: u32 = 8;

/// The retry queue for a message that failed delivery number `attempt`.
pub fn retry_queue(queue: &str, attempt: u32) -> String {
    format!("{queue}.retry.{}", attempt.clamp(1, RETRY_LEVELS))
}

fn string(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s.as_bytes().to_vec()))
}

/// Declares `queue` (once per connection).
pub(super) async fn declare_work_queue(live: &Live, queue: &str, kind: QueueKind) -> Result<()> {
    if is_declared(live, queue) {
        return Ok(());
    }
    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), string(kind.as_str()));
    declare(live, queue, args).await?;
    mark_declared(live, queue);
    Ok(())
}

/// Declares the retry queue `name` that feeds `queue` (once per connection).
pub(super) async fn declare_retry_queue(live: &Live, name: &str, queue: &str) -> Result<()> {
    if is_declared(live, name) {
        return Ok(());
    }
    let mut args = FieldTable::default();
    args.insert("x-queue-type".into(), string("classic"));
    args.insert("x-dead-letter-exchange".into(), string(""));
    args.insert("x-dead-letter-routing-key".into(), string(queue));
    declare(live, name, args).await?;
    mark_declared(live, name);
    Ok(())
}

/// Declares on a channel of its own: a refused declaration closes the channel it was sent on. A queue
/// that exists with other arguments (a classic queue made by an older deployment) is used as it is.
async fn declare(live: &Live, queue: &str, args: FieldTable) -> Result<()> {
    let channel = live.connection.create_channel().await.map_err(amqp_err)?;
    let name = ShortString::from(queue);
    let declared = channel
        .queue_declare(name.clone(), QueueDeclareOptions::durable(), args)
        .await;
    if let Err(e) = declared {
        if !e.is_amqp_soft_error() {
            return Err(amqp_err(e));
        }
        tracing::warn!(queue, error = %e, "queue exists with other arguments; using it as it is");
        let channel = live.connection.create_channel().await.map_err(amqp_err)?;
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        channel
            .queue_declare(name, passive, FieldTable::default())
            .await
            .map_err(amqp_err)?;
        let _ = channel.close(200, "declared".into()).await;
        return Ok(());
    }
    let _ = channel.close(200, "declared".into()).await;
    Ok(())
}

/// How many messages `queue` holds ready for delivery (a passive declaration: the queue is not
/// created); `None` when it does not exist.
pub(super) async fn queue_depth(live: &Live, queue: &str) -> Result<Option<u64>> {
    let channel = live.connection.create_channel().await.map_err(amqp_err)?;
    let passive = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    let depth = match channel
        .queue_declare(queue.into(), passive, FieldTable::default())
        .await
    {
        Ok(q) => Some(u64::from(q.message_count())),
        // A missing queue closes the channel (404): nothing to count yet.
        Err(e) if e.is_amqp_soft_error() => return Ok(None),
        Err(e) => return Err(amqp_err(e)),
    };
    let _ = channel.close(200, "counted".into()).await;
    Ok(depth)
}

/// Deletes `queue` and its retry queues.
pub(super) async fn delete_work_queue(live: &Live, queue: &str) -> Result<()> {
    let channel = live.connection.create_channel().await.map_err(amqp_err)?;
    let mut names = vec![queue.to_string()];
    names.extend((1..=RETRY_LEVELS).map(|n| retry_queue(queue, n)));
    for name in names {
        channel
            .queue_delete(name.as_str().into(), QueueDeleteOptions::default())
            .await
            .map_err(amqp_err)?;
        live.declared.lock().unwrap_or_else(|p| p.into_inner()).remove(&name);
    }
    let _ = channel.close(200, "deleted".into()).await;
    Ok(())
}

fn is_declared(live: &Live, queue: &str) -> bool {
    live.declared.lock().unwrap_or_else(|p| p.into_inner()).contains(queue)
}

fn mark_declared(live: &Live, queue: &str) {
    live.declared
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(queue.to_string());
}
