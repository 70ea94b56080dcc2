//! WAL checkpoints off the write path (SQLite). By default SQLite checkpoints inside the commit that
//! pushes the WAL past 1,000 pages: that commit copies the pages into the database file and syncs it
//! while every request queued behind the writer waits. With a checkpoint interval the writer never
//! checkpoints (`wal_autocheckpoint=0`); a task checkpoints from a reader connection instead, at most
//! once per interval and only after write commits, in `PASSIVE` mode: it copies what no reader still
//! needs and never waits for, or blocks, the writer or the readers. Durability is unchanged: a commit is
//! durable once its WAL frames are synced, which the writer still does. Each checkpoint logs how long it
//! took at `debug` level.

use super::group::micros;
use super::traffic::Traffic;
use sqlx::SqlitePool;
use std::sync::Arc;
use std::time::Duration;

/// The running checkpoint task; dropping it stops the task.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    task: tokio::task::JoinHandle<()>,
}

impl Checkpointer {
    /// Checkpoints `readers`' database every `interval` while `traffic` shows new write commits.
    pub(crate) fn start(readers: SqlitePool, traffic: Arc<Traffic>, interval: Duration) -> Self {
        let task = tokio::spawn(async move {
            let mut seen = traffic.write_commits();
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if readers.is_closed() {
                    return;
                }
                let now = traffic.write_commits();
                if now == seen {
                    continue;
                }
                seen = now;
                let started = tokio::time::Instant::now();
                let done = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&readers).await;
                tracing::debug!(took_us = micros(started.elapsed()), "WAL checkpoint");
                if let Err(e) = done
                    && !readers.is_closed()
                {
                    tracing::warn!(error = %e, "SQLite WAL checkpoint failed; retrying at the next interval");
                }
            }
        });
        Checkpointer { task }
    }
}

impl Checkpointer {
    /// Stops the task (before the pools close).
    pub(crate) fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}
