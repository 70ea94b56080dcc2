//! RabbitMQ (through `lapin`): the [`Queue`] port for several worker processes, and a fan-out
//! [`EventFeed`](tts_core::ports::feed::EventFeed) so every server's live sockets see every event.
//!
//! - Work queues are durable, quorum by default ([`QueueKind`]), with the seed's names; messages are
//!   persistent and carry the outbox id as `message-id` (consumers deduplicate by it).
//! - Publishing waits for publisher confirms, a batch at a time ([`Queue::publish_all`]): the relay removes
//!   outbox rows only after the broker confirmed them.
//! - Consumers ack manually after the effect committed, with prefetch ([`AmqpConfig::prefetch`]).
//! - A retry goes through `q.retry.<n>` with a per-message TTL and comes back to `q` by dead-lettering
//!   ([`topology`]); after the last attempt the engine writes a dead-letter row and acks.
//! - The connection reopens with back-off ([`AmqpConfig::reconnect_min`]); while the broker is away,
//!   calls fail at once with `Unavailable`.

mod codec;
mod config;
mod feed;
mod lanes;
mod link;
pub mod topology;

pub use codec::ATTEMPT_HEADER;
pub use config::{AmqpConfig, QueueKind};
pub use feed::AmqpFeed;

use async_trait::async_trait;
use lanes::Consumer;
use lapin::Acker;
use lapin::options::{BasicAckOptions, BasicPublishOptions};
use link::{Link, Live, amqp_err, unavailable};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tts_core::Result;
use tts_core::ports::queue::{Delivery, Queue, QueueMessage};

/// Work queues on RabbitMQ. Cheap to share (`Arc`); consumers start on the first `receive` or `wait`
/// of a queue and stop when the handle is dropped.
pub struct AmqpQueue {
    link: Arc<Link>,
    consumers: Mutex<HashMap<String, Consumer>>,
    unacked: Mutex<HashMap<u64, Acker>>,
    next_tag: AtomicU64,
}

impl std::fmt::Debug for AmqpQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpQueue")
            .field("link", &self.link)
            .finish_non_exhaustive()
    }
}

impl AmqpQueue {
    /// Connects to the broker; an unreachable broker is an error naming the URL without its password.
    pub async fn connect(config: AmqpConfig) -> Result<Self> {
        let link = Arc::new(Link::new(config));
        link.live().await?;
        Ok(Self {
            link,
            consumers: Mutex::default(),
            unacked: Mutex::default(),
            next_tag: AtomicU64::new(1),
        })
    }

    /// The settings in use.
    pub fn config(&self) -> &AmqpConfig {
        &self.link.config
    }

    /// Stops consuming `queue` here and deletes it with its retry queues (tests and teardown).
    pub async fn delete_queue(&self, queue: &str) -> Result<()> {
        self.lock_consumers().remove(queue);
        // The stopped consumer's cancel can cross the deletion on the wire, and lapin then closes the
        // connection ("unexpected basic cancel-ok"): try again on the reconnected link.
        let mut attempt = 0;
        loop {
            let result = match self.link.live().await {
                Ok(live) => topology::delete_work_queue(&live, queue).await,
                Err(e) => Err(e),
            };
            match result {
                Err(e) if e.kind() == tts_core::ErrorKind::Unavailable && attempt < 3 => {
                    attempt += 1;
                    tracing::debug!(queue, error = %e, "deleting the queue again");
                    tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await;
                }
                other => return other,
            }
        }
    }

    /// Deletes an exchange (the live feed's, in tests and teardown).
    pub async fn delete_exchange(&self, exchange: &str) -> Result<()> {
        let live = self.link.live().await?;
        let channel = live.connection.create_channel().await.map_err(amqp_err)?;
        channel
            .exchange_delete(exchange.into(), lapin::options::ExchangeDeleteOptions::default())
            .await
            .map_err(amqp_err)?;
        let _ = channel.close(200, "deleted".into()).await;
        Ok(())
    }

    /// Stops the consumers and closes the connection; unacked deliveries go back to their queues.
    pub async fn close(&self) {
        self.lock_consumers().clear();
        self.link.close().await;
    }

    fn lock_consumers(&self) -> MutexGuard<'_, HashMap<String, Consumer>> {
        self.consumers.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lane(&self, queue: &str) -> Arc<lanes::Lane> {
        let mut consumers = self.lock_consumers();
        let consumer = consumers
            .entry(queue.to_string())
            .or_insert_with(|| Consumer::start(Arc::clone(&self.link), queue.to_string()));
        Arc::clone(&consumer.lane)
    }

    fn take_acker(&self, delivery: &Delivery) -> Result<Acker> {
        self.unacked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&delivery.tag)
            .ok_or_else(|| tts_core::Error::not_found("delivery", format!("{}#{}", delivery.queue, delivery.tag)))
    }

    /// Publishes every message, then waits for all their confirms.
    async fn publish_confirmed(
        &self,
        live: &Live,
        messages: Vec<(String, Vec<u8>, lapin::BasicProperties)>,
    ) -> Result<()> {
        let options = BasicPublishOptions {
            mandatory: true,
            ..BasicPublishOptions::default()
        };
        let mut confirms = Vec::with_capacity(messages.len());
        for (queue, body, properties) in messages {
            let confirm = live
                .publisher
                .basic_publish("".into(), queue.as_str().into(), options, &body, properties)
                .await
                .map_err(amqp_err)?;
            confirms.push((queue, confirm));
        }
        for (queue, confirm) in confirms {
            let confirmation = tokio::time::timeout(link::CONFIRM_TIMEOUT, confirm)
                .await
                .map_err(|_| unavailable(format!("RabbitMQ did not confirm a message for {queue} in time")))?
                .map_err(amqp_err)?;
            if !confirmation.is_ack() {
                return Err(unavailable(format!("RabbitMQ refused a message for {queue}")));
            }
            if confirmation.take_message().is_some() {
                return Err(unavailable(format!("RabbitMQ had no queue {queue} to route to")));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Queue for AmqpQueue {
    async fn ready(&self) -> Result<()> {
        self.link.live().await.map(|_| ())
    }

    async fn depth(&self, queue: &str) -> Result<Option<u64>> {
        let live = self.link.live().await?;
        topology::queue_depth(&live, queue).await
    }

    async fn publish(&self, queue: &str, message: &QueueMessage) -> Result<()> {
        self.publish_all(&[(queue, message.clone())]).await
    }

    async fn publish_all(&self, messages: &[(&str, QueueMessage)]) -> Result<()> {
        let live = self.link.live().await?;
        let mut encoded = Vec::with_capacity(messages.len());
        for (queue, message) in messages {
            topology::declare_work_queue(&live, queue, self.link.config.queue_kind).await?;
            let (body, properties) = codec::encode(message, 1, None);
            encoded.push((queue.to_string(), body, properties));
        }
        self.publish_confirmed(&live, encoded).await
    }

    async fn receive(&self, queue: &str) -> Result<Option<Delivery>> {
        let Some(raw) = self.lane(queue).pop() else {
            return Ok(None);
        };
        let (message, attempt) = codec::decode(&raw);
        let tag = self.next_tag.fetch_add(1, Ordering::Relaxed);
        self.unacked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(tag, raw.acker);
        Ok(Some(Delivery {
            queue: queue.to_string(),
            tag,
            attempt,
            message,
        }))
    }

    async fn wait(&self, queue: &str) {
        self.lane(queue).ready().await;
    }

    async fn ack(&self, delivery: &Delivery) -> Result<()> {
        let acker = self.take_acker(delivery)?;
        acker.ack(BasicAckOptions::default()).await.map_err(amqp_err)?;
        Ok(())
    }

    async fn retry(&self, delivery: &Delivery, delay: Duration) -> Result<()> {
        let live = self.link.live().await?;
        let next = delivery.attempt.saturating_add(1);
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        let target = if ms == 0 {
            delivery.queue.clone()
        } else {
            let name = topology::retry_queue(&delivery.queue, delivery.attempt);
            topology::declare_retry_queue(&live, &name, &delivery.queue).await?;
            name
        };
        let (body, properties) = codec::encode(&delivery.message, next, (ms > 0).then_some(ms));
        // The copy is held by the broker before the original goes: a crash in between delivers it twice
        // (consumers deduplicate), never zero times.
        self.publish_confirmed(&live, vec![(target, body, properties)]).await?;
        self.ack(delivery).await
    }
}
