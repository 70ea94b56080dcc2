//! Per-queue consumers: a task per queue keeps a `basic.consume` open (with prefetch) and buffers what
//! the broker pushes; `receive` takes from the buffer without waiting. When the channel or connection
//! dies the buffer is dropped (the broker gives those deliveries back to the queue) and the task
//! reconnects with back-off.

use super::link::{Link, amqp_err};
use super::topology::declare_work_queue;
use futures_util::StreamExt;
use lapin::options::{BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tts_core::Result;

/// What the broker pushed for one queue, not yet received.
#[derive(Debug, Default)]
pub(super) struct Lane {
    buffer: Mutex<VecDeque<lapin::message::Delivery>>,
    arrived: Notify,
}

impl Lane {
    pub(super) fn pop(&self) -> Option<lapin::message::Delivery> {
        self.lock().pop_front()
    }

    /// Resolves when the buffer is not empty (at once if it is not now).
    pub(super) async fn ready(&self) {
        let notified = self.arrived.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if !self.lock().is_empty() {
            return;
        }
        notified.await;
    }

    fn push(&self, delivery: lapin::message::Delivery) {
        self.lock().push_back(delivery);
        self.arrived.notify_waiters();
    }

    fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<lapin::message::Delivery>> {
        self.buffer.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A lane and the task that fills it; the task stops when this is dropped.
#[derive(Debug)]
pub(super) struct Consumer {
    pub(super) lane: Arc<Lane>,
    task: JoinHandle<()>,
}

impl Drop for Consumer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Consumer {
    /// Starts consuming `queue` on the current tokio runtime.
    pub(super) fn start(link: Arc<Link>, queue: String) -> Self {
        let lane = Arc::new(Lane::default());
        let task = tokio::spawn(run(link, queue, Arc::clone(&lane)));
        Self { lane, task }
    }
}

async fn run(link: Arc<Link>, queue: String, lane: Arc<Lane>) {
    let mut failures = 0;
    loop {
        match consume(&link, &queue, &lane, &mut failures).await {
            Ok(()) => tracing::warn!(queue, "RabbitMQ cancelled the consumer; consuming again"),
            Err(e) => tracing::warn!(queue, error = %e, "RabbitMQ consumer stopped; reconnecting"),
        }
        lane.clear();
        failures += 1;
        tokio::time::sleep(link.backoff(failures)).await;
    }
}

async fn consume(link: &Link, queue: &str, lane: &Lane, failures: &mut u32) -> Result<()> {
    let live = link.live().await?;
    declare_work_queue(&live, queue, link.config.queue_kind).await?;
    let channel = live.connection.create_channel().await.map_err(amqp_err)?;
    channel
        .basic_qos(link.config.prefetch, BasicQosOptions::default())
        .await
        .map_err(amqp_err)?;
    let tag = format!("{}-{}", link.config.connection_name, uuid::Uuid::now_v7().simple());
    let mut stream = channel
        .basic_consume(
            queue.into(),
            tag.into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(amqp_err)?;
    *failures = 0;
    while let Some(delivery) = stream.next().await {
        lane.push(delivery.map_err(amqp_err)?);
    }
    Ok(())
}
