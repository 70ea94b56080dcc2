//! The imperative shell of `tts-server`: open the backends named by the configuration, make sure an
//! admin can log in, run the workers, serve HTTP until a shutdown signal, then drain.

use crate::config::HttpConfig;
use crate::live::LiveHub;
use crate::metrics::Metrics;
use crate::state::AppState;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tts_adapters::identity::Argon2Passwords;
use tts_adapters::worker::{WorkerConfig, Workers};
use tts_core::ports::BlobStore;
use tts_core::ports::feed::{EventFeed, Feeds};
use tts_core::{Actor, Engine, EngineConfig, Error, NewUser, Result};

/// The backends of one process: the engine over the store (which also keeps credentials and sessions),
/// the queue, and argon2id password hashing.
#[derive(Debug, Clone)]
pub struct Backends {
    /// The engine.
    pub engine: Arc<Engine>,
    /// The live feed, fed by the engine after every commit.
    pub live: LiveHub,
    /// The process's metrics, fed by the engine's committed events and the HTTP layer.
    pub metrics: Arc<Metrics>,
    /// Where attachment bytes are kept (`BackendConfig::blob_dir`); none when this process keeps no
    /// files (the attachment routes then answer 503).
    pub blobs: Option<Arc<dyn BlobStore>>,
    /// Worker loops per consumer queue ([`BackendConfig::consumers_per_queue`]).
    pub consumers_per_queue: usize,
    /// How long a woken consumer waits for more messages ([`BackendConfig::consumer_linger`]).
    pub consumer_linger: std::time::Duration,
    closer: Closer,
    #[cfg(feature = "amqp")]
    broker: Option<Arc<tts_adapters::amqp::AmqpQueue>>,
}

/// Where the backends are and how the engine behaves: what [`open`] needs.
#[derive(Debug, Clone)]
pub struct BackendConfig {
    /// `sqlite://path` or `postgres://...`.
    pub database_url: String,
    /// SQLite commit durability (ignored for PostgreSQL).
    pub durability: Durability,
    /// The engine's settings.
    pub engine: EngineConfig,
    /// RabbitMQ (`amqp://...`): when set, the outbox is relayed to its queues, workers consume from
    /// them, and the live feed spans every server on the broker. When unset, the outbox is the queue.
    pub amqp_url: Option<String>,
    /// Put before every queue and exchange name on the broker, so several deployments (or tests) share
    /// one broker without sharing messages; empty for the seed's names.
    pub amqp_prefix: String,
    /// Whether this process serves WebSocket clients: with a broker, only such processes listen to the
    /// other servers' events (a worker only publishes its own).
    pub serves_sockets: bool,
    /// SMTP server for notification e-mails; set it together with `engine.email_notifications`.
    pub smtp_url: Option<String>,
    /// The sender of notification e-mails.
    pub mail_from: String,
    /// The directory of attachment blobs (`<data dir>/blobs` for `tts-server`); none keeps no files.
    pub blob_dir: Option<std::path::PathBuf>,
    /// Worker loops per consumer queue (`WorkerConfig::consumers_per_queue`, default 4): more take
    /// several messages at once under load; fewer gather more messages per transaction at low load.
    pub consumers_per_queue: usize,
    /// How long a consumer woken by a new message waits before it takes what is ready
    /// (`WorkerConfig::consumer_linger`, default 5 ms): the messages of several commits then share one
    /// unit of work; zero takes each at once.
    pub consumer_linger: std::time::Duration,
}

impl BackendConfig {
    /// The database at `database_url` with full durability, the server's engine defaults, no broker.
    pub fn new(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            durability: Durability::Full,
            engine: engine_config(),
            amqp_url: None,
            amqp_prefix: String::new(),
            serves_sockets: true,
            smtp_url: None,
            mail_from: "TTS <tts@localhost>".into(),
            blob_dir: None,
            consumers_per_queue: tts_adapters::worker::CONSUMERS_PER_QUEUE,
            consumer_linger: tts_adapters::worker::CONSUMER_LINGER,
        }
    }
}

/// The fan-out exchange that carries the live feed between servers.
pub const LIVE_EXCHANGE: &str = "tts.live";

#[derive(Debug, Clone)]
enum Closer {
    Sqlite(tts_adapters::sql::sqlite::SqliteStore),
    #[cfg(feature = "postgres")]
    Postgres(tts_adapters::sql::postgres::PgStore),
}

/// Longest wait for a PostgreSQL connection before a request is answered 503.
#[cfg(feature = "postgres")]
const PG_ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Durability of SQLite commits (ignored for PostgreSQL).
pub use tts_adapters::sql::sqlite::Durability;

/// Opens the database named by `url` (`sqlite://path` or `postgres://...`), applying migrations; the
/// database's outbox is the queue (no broker), no e-mail.
/// [`open`] takes every option.
pub async fn open_backends(url: &str, durability: Durability) -> Result<Backends> {
    open_backends_with(url, durability, engine_config()).await
}

/// The server's engine configuration before command-line options: the engine's defaults with e-mail
/// off (it goes on with an SMTP server).
pub fn engine_config() -> EngineConfig {
    EngineConfig {
        email_notifications: false,
        ..EngineConfig::default()
    }
}

/// [`open_backends`] with an engine configuration (SLA warning share, automatic escalation, ...).
pub async fn open_backends_with(url: &str, durability: Durability, config: EngineConfig) -> Result<Backends> {
    open(&BackendConfig {
        durability,
        engine: config,
        ..BackendConfig::new(url)
    })
    .await
}

/// Opens the database (applying migrations) and, when configured, the broker.
pub async fn open(config: &BackendConfig) -> Result<Backends> {
    config.engine.validate()?;
    let live = LiveHub::new(1024);
    let (store, closer) = open_store(config).await?;
    let mut engine = config.engine.clone();
    if config.amqp_url.is_some() {
        let queues = &mut engine.queues;
        let prefix = &config.amqp_prefix;
        queues.tickets = format!("{prefix}{}", queues.tickets);
        queues.notifications = format!("{prefix}{}", queues.notifications);
        queues.events = queues.events.take().map(|q| format!("{prefix}{q}"));
    }
    let mut builder = Engine::builder(store)
        .config(engine)
        .passwords(Arc::new(Argon2Passwords::new()));
    match &config.smtp_url {
        None => {}
        #[cfg(feature = "smtp")]
        Some(url) => {
            use tts_adapters::mail::smtp::{SmtpConfig, SmtpMailer};
            let mailer = SmtpMailer::connect(SmtpConfig::new(url, config.mail_from.clone())).await?;
            builder = builder.mailer(Arc::new(mailer));
        }
        #[cfg(not(feature = "smtp"))]
        Some(_) => {
            return Err(Error::invalid(
                "smtp_url",
                "this server was built without the smtp feature",
            ));
        }
    }
    #[cfg(feature = "amqp")]
    let mut broker = None;
    let metrics = Arc::new(Metrics::new());
    let local: Arc<dyn EventFeed> = Arc::new(Feeds(vec![metrics.clone(), Arc::new(live.clone())]));
    match &config.amqp_url {
        None => builder = builder.feed(local),
        #[cfg(feature = "amqp")]
        Some(url) => {
            use tts_adapters::amqp::{AmqpConfig, AmqpFeed, AmqpQueue};
            let queue = Arc::new(AmqpQueue::connect(AmqpConfig::new(url)).await?);
            let exchange = format!("{}{LIVE_EXCHANGE}", config.amqp_prefix);
            let feed = if config.serves_sockets {
                AmqpFeed::start(AmqpConfig::new(url), &exchange, local).await?
            } else {
                AmqpFeed::publisher(AmqpConfig::new(url), &exchange).await?
            };
            builder = builder.queue(queue.clone()).feed(Arc::new(feed));
            broker = Some(queue);
        }
        #[cfg(not(feature = "amqp"))]
        Some(_) => {
            return Err(Error::invalid(
                "amqp_url",
                "this server was built without the amqp feature",
            ));
        }
    }
    let engine = Arc::new(builder.build()?);
    live.attach(Arc::clone(&engine));
    let blobs: Option<Arc<dyn BlobStore>> = match &config.blob_dir {
        Some(dir) => Some(Arc::new(tts_adapters::blob::FileBlobStore::new(dir.clone()).await?)),
        None => None,
    };
    Ok(Backends {
        engine,
        live,
        metrics,
        blobs,
        consumers_per_queue: config.consumers_per_queue.max(1),
        consumer_linger: config.consumer_linger,
        closer,
        #[cfg(feature = "amqp")]
        broker,
    })
}

async fn open_store(config: &BackendConfig) -> Result<(Arc<dyn tts_core::ports::Store>, Closer)> {
    let url = config.database_url.as_str();
    if url.starts_with("sqlite:") {
        use tts_adapters::sql::sqlite::{SqliteConfig, SqliteStore};
        let mut cfg = SqliteConfig::new(url);
        cfg.durability = config.durability;
        let store = SqliteStore::connect(&cfg).await?;
        return Ok((Arc::new(store.clone()), Closer::Sqlite(store)));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        #[cfg(feature = "postgres")]
        {
            use tts_adapters::sql::postgres::{PgConfig, PgStore};
            let mut pg = PgConfig::new(url);
            // While the database is down, answer 503 within a few seconds instead of queueing requests
            // on the pool for the driver's default ten.
            pg.acquire_timeout = PG_ACQUIRE_TIMEOUT;
            let store = PgStore::connect(&pg).await?;
            return Ok((Arc::new(store.clone()), Closer::Postgres(store)));
        }
    }
    Err(Error::invalid(
        "database_url",
        "must start with sqlite: or postgres:// (and the matching feature must be built in)",
    ))
}

impl Backends {
    /// The workers' settings for these backends (the blob sweep when files are kept).
    pub fn worker_config(&self) -> WorkerConfig {
        WorkerConfig {
            blobs: self.blobs.clone(),
            consumers_per_queue: self.consumers_per_queue,
            consumer_linger: self.consumer_linger,
            ..WorkerConfig::default()
        }
    }

    /// Closes the database pools (after the server and workers stopped).
    pub async fn close(&self) {
        #[cfg(feature = "amqp")]
        if let Some(broker) = &self.broker {
            broker.close().await;
        }
        match &self.closer {
            Closer::Sqlite(s) => s.close().await,
            #[cfg(feature = "postgres")]
            Closer::Postgres(s) => s.close().await,
        }
    }
}

/// Whether any active user holds an active `tts:Admin` membership.
pub async fn admin_exists(engine: &Engine) -> Result<bool> {
    let Some(role) = engine.roles().await?.into_iter().find(|r| r.is_admin()) else {
        return Ok(false);
    };
    let members = engine.role_members(Actor::system(), role.id).await?;
    Ok(members.iter().any(|m| m.is_active && m.user.is_active))
}

/// Finds or creates the role `system:name`.
pub async fn ensure_role(engine: &Engine, system: &str, name: &str) -> Result<tts_core::Role> {
    if let Some(r) = engine
        .roles()
        .await?
        .into_iter()
        .find(|r| r.system == system && r.name == name)
    {
        return Ok(r);
    }
    engine.create_role(Actor::system(), system, name).await
}

/// Creates an admin (or makes an existing user with that e-mail an admin and resets their password).
pub async fn create_admin(engine: &Engine, email: &str, password: &str, full_name: &str) -> Result<tts_core::User> {
    let sys = Actor::system();
    tts_core::engine::check_password(password)?;
    let role = ensure_role(engine, "tts", "Admin").await?;
    let existing = find_user(engine, email).await?;
    let user = match existing {
        Some(u) => {
            let change = tts_core::UserChange {
                password: Some(password.into()),
                is_active: Some(true),
                ..tts_core::UserChange::default()
            };
            engine.update_user(sys, u.id, change).await?
        }
        None => {
            engine
                .create_user(
                    sys,
                    NewUser {
                        email: email.into(),
                        full_name: full_name.into(),
                        password: Some(password.into()),
                    },
                )
                .await?
        }
    };
    engine.set_membership(sys, role.id, user.id, true).await?;
    Ok(user)
}

/// A user by e-mail (case-insensitive), scanning the user list.
pub async fn find_user(engine: &Engine, email: &str) -> Result<Option<tts_core::User>> {
    let email = email.trim().to_lowercase();
    let mut page = 1;
    loop {
        let users = engine
            .list_users(Actor::system(), tts_core::ports::PageRequest::new(page, 100)?)
            .await?;
        if let Some(u) = users.items.iter().find(|u| u.email == email) {
            return Ok(Some(u.clone()));
        }
        if u64::from(page) * 100 >= users.total {
            return Ok(None);
        }
        page += 1;
    }
}

/// Reads the JWT secret from `data_dir/jwt_secret`, creating a random one the first time, so a single
/// embedded server keeps its tokens valid across restarts. Several servers must share a configured
/// secret instead.
///
/// The file is created with `create_new` and mode 0600 in one step (never through an existing file or
/// symlink, never readable by others even for a moment); when another process wins the race to create
/// it, its secret is read instead. An existing file that group or others may access is refused, with
/// the `chmod 600` that fixes it.
pub async fn load_or_create_secret(data_dir: &Path) -> Result<Vec<u8>> {
    let dir = data_dir.to_path_buf();
    tokio::task::spawn_blocking(move || secret_file(&dir))
        .await
        .map_err(|e| Error::Backend {
            backend: "fs",
            kind: tts_core::ErrorKind::Internal,
            message: format!("reading the JWT secret: {e}"),
        })?
}

fn secret_file(data_dir: &Path) -> Result<Vec<u8>> {
    use std::io::{Read, Write};
    let path = data_dir.join("jwt_secret");
    let fail = |what: String| Error::Backend {
        backend: "fs",
        kind: tts_core::ErrorKind::Unavailable,
        message: what,
    };
    let io = |e: std::io::Error| fail(format!("JWT secret file {}: {e}", path.display()));
    std::fs::create_dir_all(data_dir).map_err(io)?;
    let secret: String = (0..4).map(|_| uuid::Uuid::new_v4().simple().to_string()).collect();
    let mut create = std::fs::OpenOptions::new();
    create.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        create.mode(0o600);
    }
    match create.open(&path) {
        Ok(mut file) => {
            file.write_all(secret.as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
            return Ok(secret.into_bytes());
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(e)),
    }
    // The file exists (from an earlier start, or another process just created it): read it, waiting
    // briefly for a racing creator to finish writing.
    let mut bytes = Vec::new();
    for attempt in 0..50 {
        let mut file = std::fs::File::open(&path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        if !meta.is_file() {
            return Err(fail(format!("{} is not a regular file", path.display())));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(Error::invalid(
                    "jwt_secret",
                    format!(
                        "{} has mode {mode:03o}, which lets group or others read the JWT secret; \
                         run `chmod 600 {}` (and replace the secret if others may have read it)",
                        path.display(),
                        path.display()
                    ),
                ));
            }
        }
        bytes.clear();
        file.read_to_end(&mut bytes).map_err(io)?;
        if bytes.len() >= crate::config::MIN_SECRET_BYTES {
            return Ok(bytes);
        }
        if attempt < 49 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    Err(Error::invalid(
        "jwt_secret",
        format!(
            "{} holds {} bytes, fewer than {}; delete it to have a new secret generated, or set TTS_JWT_SECRET",
            path.display(),
            bytes.len(),
            crate::config::MIN_SECRET_BYTES
        ),
    ))
}

/// Serves the API on `bind` until `shutdown` completes, with the workers in-process when `with_workers`;
/// then stops accepting, finishes in-flight requests, stops the workers and closes the database.
pub async fn serve(
    backends: Backends,
    http: HttpConfig,
    bind: SocketAddr,
    with_workers: bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    serve_on(backends, http, listener, with_workers, shutdown).await
}

/// [`serve`] on a listener the caller already bound (for example to port 0, reading the port from
/// `listener.local_addr()` first).
pub async fn serve_on(
    backends: Backends,
    http: HttpConfig,
    listener: tokio::net::TcpListener,
    with_workers: bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let workers = with_workers.then(|| Workers::spawn(backends.engine.clone(), backends.worker_config()));
    let mut state = AppState::new(backends.engine.clone(), http)
        .with_live(backends.live.clone())
        .with_metrics(backends.metrics.clone());
    if let Some(blobs) = &backends.blobs {
        state = state.with_blobs(Arc::clone(blobs));
    }
    let app = crate::router(state);
    tracing::info!(address = %listener.local_addr()?, workers = with_workers, "serving");
    let live = backends.live.clone();
    let result = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown.await;
            live.close();
        })
        .await;
    tracing::info!("stopped accepting; draining workers");
    if let Some(w) = workers {
        w.stop().await;
    }
    backends.close().await;
    result
}

/// Runs the workers alone (no API) until `shutdown` completes; with `probes`, also serves `/healthz`,
/// `/readyz` and `/metrics` (see [`crate::probe_router`]) on that listener, the metrics guarded by the
/// configuration's token as on the API.
pub async fn work_on(
    backends: Backends,
    probes: Option<(tokio::net::TcpListener, HttpConfig)>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let workers = Workers::spawn(backends.engine.clone(), backends.worker_config());
    tracing::info!("workers running; Ctrl-C or SIGTERM stops them");
    let result = match probes {
        Some((listener, http)) => {
            let state = AppState::new(backends.engine.clone(), http).with_metrics(backends.metrics.clone());
            tracing::info!(address = %listener.local_addr()?, "serving probes and metrics");
            axum::serve(listener, crate::probe_router(state))
                .with_graceful_shutdown(shutdown)
                .await
        }
        None => {
            shutdown.await;
            Ok(())
        }
    };
    workers.stop().await;
    backends.close().await;
    result
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutdown signal received");
}
