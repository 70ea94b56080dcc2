//! The PostgreSQL store: several servers and workers on one database.

use super::dialect::postgres::WriteUnit;
use super::dialect::{Conn, Reader};
use super::error::db_err;
use super::forecast::KeyForecast;
use super::traffic::Traffic;
use super::unit::{SqlUnit, VersionCache};
use crate::redact::redact_url;
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tts_core::Result;
use tts_core::ports::store::{Store, UnitOfWork, UnitOptions};

/// How to reach PostgreSQL.
#[derive(Clone)]
pub struct PgConfig {
    /// `postgres://user:password@host:5432/database`.
    pub url: String,
    /// Connections in the pool.
    pub max_connections: u32,
    /// How long to wait for a free connection (and for the server when connecting).
    pub acquire_timeout: Duration,
}

impl fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgConfig")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish()
    }
}

impl PgConfig {
    /// Defaults: 16 connections, 10 s acquire timeout.
    pub fn new(url: impl Into<String>) -> Self {
        PgConfig {
            url: url.into(),
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// The [`Store`] on PostgreSQL. Cloning shares the pool.
///
/// Write units lock every row they read (`FOR UPDATE`) and claim outbox rows with `FOR UPDATE SKIP
/// LOCKED`; the lists of [`tts_core::ports::Queries`] run on pooled connections outside any unit. A
/// write unit opens its transaction at its first statement that must run before its commit; one that
/// only writes sends its writes at the commit as one statement without a transaction. The store
/// foresees the next ticket keys (see `sql/forecast.rs`), so a batch of creates is one statement.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    versions: Arc<VersionCache>,
    traffic: Arc<Traffic>,
    forecast: Arc<KeyForecast>,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("connections", &self.pool.size())
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects and applies the embedded migrations. An unreachable server gives an error naming the URL
    /// (password redacted) after the acquire timeout, never a hang.
    pub async fn connect(config: &PgConfig) -> tts_core::Result<Self> {
        let shown = redact_url(&config.url);
        let unavailable = |what: String| tts_core::Error::Backend {
            backend: "postgres",
            kind: tts_core::ErrorKind::Unavailable,
            message: format!("cannot connect to PostgreSQL at {shown}: {what}"),
        };
        let options = PgConnectOptions::from_str(&config.url).map_err(|e| unavailable(e.to_string()))?;
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .acquire_timeout(config.acquire_timeout)
            .connect_with(options)
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let store = PgStore {
            pool,
            versions: Default::default(),
            traffic: Default::default(),
            forecast: Default::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the embedded migrations (idempotent; concurrent servers wait on the migrator's lock).
    pub async fn migrate(&self) -> tts_core::Result<()> {
        sqlx::migrate!("./migrations/postgres")
            .run(&self.pool)
            .await
            .map_err(|e| db_err("postgres", e.into()))
    }

    /// The connection pool, for tools that use the same database (such as the store benchmark's
    /// baseline).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(crate) fn reader(&self) -> Reader<'_> {
        Reader::Postgres(&self.pool)
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[async_trait]
impl Store for PgStore {
    fn pools(&self) -> Vec<tts_core::ports::PoolUse> {
        vec![super::pool_use("connections", &self.pool)]
    }

    fn traffic(&self) -> Option<tts_core::ports::StoreTraffic> {
        Some(self.traffic.totals())
    }

    /// A write unit is a transaction, opened at its first statement that cannot wait for the commit
    /// (see `WriteUnit`); a read unit is a pooled connection without one (see `Conn::PostgresRead`):
    /// one round trip per read instead of three.
    async fn begin(&self, options: UnitOptions) -> Result<Box<dyn UnitOfWork>> {
        let conn = if options.writes() {
            Conn::Postgres(WriteUnit::new(self.pool.clone(), Arc::clone(&self.traffic)))
        } else {
            Conn::PostgresRead(self.pool.acquire().await.map_err(|e| db_err("postgres", e))?)
        };
        self.traffic.unit();
        Ok(Box::new(SqlUnit::new(
            conn,
            options.writes(),
            Arc::clone(&self.versions),
            Arc::clone(&self.traffic),
            Some(Arc::clone(&self.forecast)),
        )))
    }
}
