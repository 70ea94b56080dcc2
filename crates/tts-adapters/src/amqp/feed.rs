//! The live feed across processes: every server publishes the events it commits to a fan-out exchange
//! and hands the events other servers published to its local feed (the WebSocket hub).
//!
//! A process shows its own events straight away, without the broker (they are tagged with its
//! instance id and skipped when they come back). The feed is not durable: while the broker is away,
//! other servers' sockets miss those events, as a socket misses what happens while it is closed; work
//! that must not miss an event goes through the queues.

use super::config::AmqpConfig;
use super::link::{Link, amqp_err};
use futures_util::StreamExt;
use lapin::options::{
    BasicConsumeOptions, BasicPublishOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, ExchangeKind};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tts_core::Result;
use tts_core::domain::event::OutboxMessage;
use tts_core::ports::feed::EventFeed;

/// Batches of events waiting to be published; beyond this the feed drops (and logs) rather than grow.
const BACKLOG: usize = 1024;

/// An [`EventFeed`] shared by every server on one broker through a fan-out exchange.
pub struct AmqpFeed {
    local: Option<Arc<dyn EventFeed>>,
    outgoing: mpsc::Sender<Vec<OutboxMessage>>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for AmqpFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqpFeed")
            .field("local", &self.local)
            .finish_non_exhaustive()
    }
}

impl Drop for AmqpFeed {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl AmqpFeed {
    /// Connects (an unreachable broker is an error naming the URL without its password) and starts
    /// publishing to and listening on `exchange`; events from other servers go to `local`.
    pub async fn start(config: AmqpConfig, exchange: &str, local: Arc<dyn EventFeed>) -> Result<Self> {
        Self::open(config, exchange, Some(local)).await
    }

    /// Only publishes to `exchange`, for a process without sockets (a worker): the broker then fans
    /// events out to the servers alone.
    pub async fn publisher(config: AmqpConfig, exchange: &str) -> Result<Self> {
        Self::open(config, exchange, None).await
    }

    async fn open(config: AmqpConfig, exchange: &str, local: Option<Arc<dyn EventFeed>>) -> Result<Self> {
        let link = Arc::new(Link::new(config));
        link.live().await?;
        let instance = uuid::Uuid::now_v7().to_string();
        let (outgoing, rx) = mpsc::channel(BACKLOG);
        let mut tasks = vec![tokio::spawn(publish_loop(
            Arc::clone(&link),
            exchange.to_string(),
            instance.clone(),
            rx,
        ))];
        if let Some(local) = &local {
            let listener = listen_loop(link, exchange.to_string(), instance, Arc::clone(local));
            tasks.push(tokio::spawn(listener));
        }
        Ok(Self { local, outgoing, tasks })
    }
}

impl EventFeed for AmqpFeed {
    fn publish(&self, events: &[OutboxMessage]) {
        if let Some(local) = &self.local {
            local.publish(events);
        }
        if self.outgoing.try_send(events.to_vec()).is_err() {
            tracing::warn!(
                events = events.len(),
                "live feed backlog full; other servers miss these events"
            );
        }
    }
}

async fn declare_exchange(channel: &lapin::Channel, exchange: &str) -> Result<()> {
    channel
        .exchange_declare(
            exchange.into(),
            ExchangeKind::Fanout,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(amqp_err)
}

async fn publish_loop(link: Arc<Link>, exchange: String, instance: String, mut rx: mpsc::Receiver<Vec<OutboxMessage>>) {
    let mut declared_on: Option<usize> = None;
    while let Some(events) = rx.recv().await {
        let sent = async {
            let live = link.live().await?;
            let key = Arc::as_ptr(&live.connection) as usize;
            if declared_on != Some(key) {
                declare_exchange(&live.publisher, &exchange).await?;
                declared_on = Some(key);
            }
            let body = serde_json::to_vec(&events).unwrap_or_default();
            let properties = BasicProperties::default()
                .with_app_id(instance.as_str().into())
                .with_content_type("application/json".into());
            live.publisher
                .basic_publish(
                    exchange.as_str().into(),
                    "".into(),
                    BasicPublishOptions::default(),
                    &body,
                    properties,
                )
                .await
                .map_err(amqp_err)?;
            Ok::<(), tts_core::Error>(())
        };
        if let Err(e) = sent.await {
            tracing::debug!(error = %e, "live feed event not shared with other servers");
        }
    }
}

async fn listen_loop(link: Arc<Link>, exchange: String, instance: String, local: Arc<dyn EventFeed>) {
    let mut failures = 0;
    loop {
        if let Err(e) = listen(&link, &exchange, &instance, local.as_ref(), &mut failures).await {
            tracing::warn!(error = %e, "live feed listener stopped; reconnecting");
        }
        failures += 1;
        tokio::time::sleep(link.backoff(failures)).await;
    }
}

async fn listen(link: &Link, exchange: &str, instance: &str, local: &dyn EventFeed, failures: &mut u32) -> Result<()> {
    let live = link.live().await?;
    let channel = live.connection.create_channel().await.map_err(amqp_err)?;
    declare_exchange(&channel, exchange).await?;
    let exclusive = QueueDeclareOptions {
        exclusive: true,
        auto_delete: true,
        ..QueueDeclareOptions::default()
    };
    let queue = channel
        .queue_declare("".into(), exclusive, FieldTable::default())
        .await
        .map_err(amqp_err)?;
    channel
        .queue_bind(
            queue.name().clone(),
            exchange.into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(amqp_err)?;
    let no_ack = BasicConsumeOptions {
        no_ack: true,
        ..BasicConsumeOptions::default()
    };
    let mut stream = channel
        .basic_consume(queue.name().clone(), "".into(), no_ack, FieldTable::default())
        .await
        .map_err(amqp_err)?;
    *failures = 0;
    while let Some(delivery) = stream.next().await {
        let delivery = delivery.map_err(amqp_err)?;
        if delivery.properties.app_id().as_ref().map(|a| a.as_str()) == Some(instance) {
            continue;
        }
        match serde_json::from_slice::<Vec<OutboxMessage>>(&delivery.data) {
            Ok(events) => local.publish(&events),
            Err(e) => tracing::warn!(error = %e, "live feed message is not a list of events; skipped"),
        }
    }
    Ok(())
}
