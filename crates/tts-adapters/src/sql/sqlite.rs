//! The SQLite store: the embedded default (one file, WAL, no server).

use super::checkpoint::Checkpointer;
use super::dialect::sqlite::SqliteTx;
use super::dialect::{Conn, Reader};
use super::error::db_err;
use super::group::{GroupWriter, Priority};
use super::traffic::Traffic;
use super::unit::{SqlUnit, VersionCache};
use crate::redact::redact_url;
use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tts_core::Result;
use tts_core::ports::store::{Store, UnitOfWork, UnitOptions, UnitPriority};

/// How durable a commit is. `Full` (the default) syncs the WAL on every commit, so a committed ticket
/// survives power loss; `Normal` syncs at checkpoints only (a crash of the machine may lose the last
/// commits, never corrupt the database), and is several times faster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=FULL`.
    #[default]
    Full,
    /// `synchronous=NORMAL`.
    Normal,
}

/// How to open the SQLite database.
#[derive(Clone)]
pub struct SqliteConfig {
    /// `sqlite://path/to/tts.db` (created if missing) or `sqlite::memory:`.
    pub url: String,
    /// Commit durability.
    pub durability: Durability,
    /// How long a writer waits for the write lock before failing.
    pub busy_timeout: Duration,
    /// Reader connections at most (readers run in parallel; writes have a connection of their own).
    /// Each holds a thread, a parsed schema, prepared statements and a page cache.
    pub max_connections: u32,
    /// How long a reader connection may sit unused before it is closed (the pool keeps one open).
    pub idle_timeout: Duration,
    /// How often, at most, a background task checkpoints the WAL (see `sql/checkpoint.rs`); `None`
    /// leaves it to SQLite, which checkpoints inside the commit that fills the WAL past 1,000 pages.
    pub checkpoint_interval: Option<Duration>,
    /// How long to wait for a free connection.
    pub acquire_timeout: Duration,
    /// Let concurrent write units share one durable commit (see [`SqliteStore`]); on by default.
    pub group_commit: bool,
    /// Page cache of each reader connection, in KiB (SQLite's default is 2,000 per connection). The
    /// operating system caches the file too, so readers need little of their own: at 512 KiB the
    /// reports at 100,000 tickets ran as fast as at the default, and the server held 68 MiB instead of
    /// 103 MiB after them (benches/README.md, "Session 10").
    pub reader_cache_kib: u32,
}

impl fmt::Debug for SqliteConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteConfig")
            .field("url", &redact_url(&self.url))
            .field("durability", &self.durability)
            .field("busy_timeout", &self.busy_timeout)
            .field("max_connections", &self.max_connections)
            .field("idle_timeout", &self.idle_timeout)
            .field("checkpoint_interval", &self.checkpoint_interval)
            .field("group_commit", &self.group_commit)
            .field("reader_cache_kib", &self.reader_cache_kib)
            .finish()
    }
}

impl SqliteConfig {
    /// The defaults for a database file: durable commits, 5 s busy timeout, two reader connections per
    /// CPU (at least 2, at most 8: a reader is a thread busy on the CPU, so more than two per core only
    /// add memory), closed after a minute unused, 512 KiB of page cache per reader.
    pub fn new(url: impl Into<String>) -> Self {
        let cpus = std::thread::available_parallelism().map_or(4, |n| n.get());
        SqliteConfig {
            url: url.into(),
            durability: Durability::Full,
            busy_timeout: Duration::from_secs(5),
            max_connections: u32::try_from(cpus * 2).unwrap_or(8).clamp(2, 8),
            idle_timeout: Duration::from_secs(60),
            checkpoint_interval: Some(Duration::from_millis(100)),
            acquire_timeout: Duration::from_secs(10),
            group_commit: true,
            reader_cache_kib: 512,
        }
    }
}

/// The [`Store`] on SQLite. Cloning shares the pools.
///
/// Write units run on a dedicated one-connection pool, so writers queue in the pool (first come, first
/// served) instead of sleeping in SQLite's busy handler, and the writer's page cache stays warm; read
/// units and the lists of [`tts_core::ports::Queries`] use the reader pool and run in parallel under WAL.
///
/// With [`SqliteConfig::group_commit`] (the default), write units that arrive while another one runs
/// share its transaction, each in its own savepoint, and one `COMMIT` (one fsync) makes the whole group
/// durable; every unit's `commit()` returns only after that. Atomicity and isolation per unit are the
/// same as with a transaction each; the difference is throughput under concurrency. Background units
/// ([`UnitPriority::Background`]) let waiting requests take the writer first (at most a few
/// milliseconds), so a burst of background work does not sit in front of a client's request.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: SqlitePool,
    group: Option<Arc<GroupWriter>>,
    versions: Arc<VersionCache>,
    traffic: Arc<Traffic>,
    /// Stops with the last clone of the store.
    checkpointer: Option<Arc<Checkpointer>>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("connections", &self.pool.size())
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database in WAL mode and applies the embedded migrations.
    /// A database that cannot be opened gives an error naming the URL (never a password).
    pub async fn connect(config: &SqliteConfig) -> tts_core::Result<Self> {
        let shown = redact_url(&config.url);
        let unavailable = |what: String| tts_core::Error::Backend {
            backend: "sqlite",
            kind: tts_core::ErrorKind::Unavailable,
            message: format!("cannot open SQLite database {shown}: {what}"),
        };
        let options = SqliteConnectOptions::from_str(&config.url)
            .map_err(|e| unavailable(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match config.durability {
                Durability::Full => SqliteSynchronous::Full,
                Durability::Normal => SqliteSynchronous::Normal,
            })
            .busy_timeout(config.busy_timeout)
            .foreign_keys(true);
        // With a checkpoint task, no commit checkpoints on its own.
        let options = match config.checkpoint_interval {
            Some(_) => options.pragma("wal_autocheckpoint", "0"),
            None => options,
        };
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(config.acquire_timeout)
            .connect_with(options.clone())
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let pool = SqlitePoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .min_connections(1)
            .idle_timeout(config.idle_timeout)
            .acquire_timeout(config.acquire_timeout)
            .connect_with(options.pragma("cache_size", format!("-{}", config.reader_cache_kib.max(64))))
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let traffic = Arc::new(Traffic::default());
        let checkpointer = config
            .checkpoint_interval
            .map(|every| Arc::new(Checkpointer::start(pool.clone(), Arc::clone(&traffic), every)));
        let store = SqliteStore {
            checkpointer,
            pool,
            group: config
                .group_commit
                .then(|| Arc::new(GroupWriter::new(writer.clone(), Arc::clone(&traffic)))),
            writer,
            versions: Default::default(),
            traffic,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the embedded migrations (idempotent).
    pub async fn migrate(&self) -> tts_core::Result<()> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.writer)
            .await
            .map_err(|e| db_err("sqlite", e.into()))
    }

    /// The writer pool (one connection), for tools that write the same database (such as the store
    /// benchmark's baseline): sharing it keeps one writer at a time without busy waits.
    pub fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    pub(crate) fn reader(&self) -> Reader<'_> {
        Reader::Sqlite(&self.pool)
    }

    /// Closes every connection.
    pub async fn close(&self) {
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.stop();
        }
        self.writer.close().await;
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn pools(&self) -> Vec<tts_core::ports::PoolUse> {
        vec![
            super::pool_use("reader", &self.pool),
            super::pool_use("writer", &self.writer),
        ]
    }

    fn traffic(&self) -> Option<tts_core::ports::StoreTraffic> {
        Some(self.traffic.totals())
    }

    async fn begin(&self, options: UnitOptions) -> Result<Box<dyn UnitOfWork>> {
        let err = |e| db_err("sqlite", e);
        let priority = match options.priority {
            UnitPriority::Foreground => Priority::Foreground,
            UnitPriority::Background => Priority::Background,
        };
        // The group counts the call that opens a grouped unit.
        let tx = match (&self.group, options.writes()) {
            (Some(group), true) => SqliteTx::Grouped(Box::new(group.begin(priority).await?)),
            (None, true) => SqliteTx::Own(self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(err)?),
            (_, false) => SqliteTx::Own(self.pool.begin().await.map_err(err)?),
        };
        if let SqliteTx::Own(_) = tx {
            self.traffic.call(1);
        }
        self.traffic.unit();
        Ok(Box::new(SqlUnit::new(
            Conn::Sqlite(tx),
            options.writes(),
            Arc::clone(&self.versions),
            Arc::clone(&self.traffic),
            None,
        )))
    }
}
