//! The `tts-server` command line: flags and `TTS_*` environment variables, one subcommand per job.

use crate::client::TrustedProxies;
use crate::config::{HttpConfig, Limit, RateLimits};
use crate::server::{self, Backends, Durability};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;

/// TTS: the ticket tracking system server.
#[derive(Debug, Parser)]
#[command(name = "tts-server", version, about)]
pub struct Cli {
    /// Database: `sqlite://path` (created if missing) or `postgres://user@host/db` (its value is never
    /// shown here, since it may hold a password).
    #[arg(
        long,
        env = "TTS_DATABASE_URL",
        default_value = "sqlite://tts.db",
        global = true,
        hide_env_values = true
    )]
    pub database_url: String,
    /// Directory for blobs and the generated JWT secret.
    #[arg(long, env = "TTS_DATA_DIR", default_value = "tts-data", global = true)]
    pub data_dir: PathBuf,
    /// SQLite commit durability: `full` survives power loss; `normal` is faster.
    #[arg(long, env = "TTS_SQLITE_SYNC", value_enum, default_value_t = SqliteSync::Full, global = true)]
    pub sqlite_sync: SqliteSync,
    /// Share of an assignment's SLA time (1-100 %) after which the holder is warned.
    #[arg(
        long,
        env = "TTS_SLA_WARNING_PERCENT",
        default_value_t = tts_core::domain::sla::DEFAULT_WARNING_SHARE_PERCENT,
        value_parser = clap::value_parser!(u8).range(1..=100),
        global = true
    )]
    pub sla_warning_percent: u8,
    /// RabbitMQ, `amqp://user:password@host:5672/%2f`: workers consume its queues and every server's
    /// live feed sees every event. Unset: the database's outbox is the queue (one machine or many
    /// workers on one PostgreSQL). Its value is never shown here.
    #[arg(long, env = "TTS_AMQP_URL", global = true, hide_env_values = true)]
    pub amqp_url: Option<String>,
    /// The URL users reach the service at (e.g. `https://tts.example.com`): the links in e-mails, and
    /// the absolute `next` and `previous` links of lists (default: from each request's Host header).
    #[arg(long, env = "TTS_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// SMTP server for notification e-mails: `smtps://user:password@host:465`,
    /// `smtp://user:password@host:587?tls=required` or `smtp://host:25`. Unset: no e-mail (in-app
    /// notifications only). Its value is never shown here.
    #[arg(long, env = "TTS_SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of notification e-mails.
    #[arg(long, env = "TTS_MAIL_FROM", default_value = "TTS <tts@localhost>", global = true)]
    pub mail_from: String,
    /// Put before every RabbitMQ queue and exchange name (several deployments on one broker).
    #[arg(long, env = "TTS_AMQP_PREFIX", default_value = "", global = true)]
    pub amqp_prefix: String,
    /// Escalate a breached assignment automatically when its step names an escalation role.
    #[arg(long, env = "TTS_SLA_AUTO_ESCALATE", global = true)]
    pub sla_auto_escalate: bool,
    /// Worker loops per consumer queue (allocation, notifications, e-mail), 1-64: more work on several
    /// messages at once under load; fewer gather more messages into each transaction at low load.
    #[arg(
        long,
        env = "TTS_CONSUMERS_PER_QUEUE",
        default_value_t = tts_adapters::worker::CONSUMERS_PER_QUEUE as u8,
        value_parser = clap::value_parser!(u8).range(1..=64),
        global = true
    )]
    pub consumers_per_queue: u8,
    /// Milliseconds (0-1000) a consumer woken by a new message waits before it takes what is ready,
    /// so that the messages of several commits share one transaction; 0 takes each at once.
    #[arg(
        long,
        env = "TTS_CONSUMER_LINGER_MS",
        default_value_t = tts_adapters::worker::CONSUMER_LINGER.as_millis() as u16,
        value_parser = clap::value_parser!(u16).range(0..=1000),
        global = true
    )]
    pub consumer_linger_ms: u16,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// SQLite durability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SqliteSync {
    /// `synchronous=FULL`.
    Full,
    /// `synchronous=NORMAL`.
    Normal,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (with the workers in-process unless `--no-worker`).
    Serve(Box<ServeArgs>),
    /// Run only the workers (outbox relay, allocation, notifications, SLA sweep).
    Worker(WorkerArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Seed demo roles, users and workflows and print the demo credentials.
    Demo(DemoArgs),
    /// Create an admin (or make an existing user admin); the password may come from stdin.
    CreateAdmin(CreateAdminArgs),
}

/// Options of `worker`.
#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// Where to serve `/healthz`, `/readyz` and `/metrics` (e.g. `127.0.0.1:9100`); unset: no port.
    #[arg(long, env = "TTS_WORKER_BIND")]
    pub bind: Option<SocketAddr>,
    /// The bearer token Prometheus sends to `GET /metrics` on that port; unset: no metrics endpoint.
    #[arg(long, env = "TTS_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
}

/// Options of `serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TTS_BIND", default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,
    /// HS256 secret shared by all instances (at least 32 bytes); generated into the data dir when unset.
    #[arg(long, env = "TTS_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Run no workers in this process (run `tts-server worker` separately).
    #[arg(long)]
    pub no_worker: bool,
    /// Switch rate limits off (benchmarks, trusted networks).
    #[arg(long, env = "TTS_NO_RATE_LIMITS")]
    pub no_rate_limits: bool,
    /// Token endpoint limit per client address, as N/second, N/minute, N/hour or N/day.
    #[arg(long, env = "TTS_RATE_LIMIT_TOKEN", default_value = "5/minute")]
    pub rate_limit_token: Limit,
    /// `POST /tickets/` limit per user.
    #[arg(long, env = "TTS_RATE_LIMIT_CREATE_TICKET", default_value = "30/hour")]
    pub rate_limit_create_ticket: Limit,
    /// Limit of every other request, per user (per client address when anonymous).
    #[arg(long, env = "TTS_RATE_LIMIT_DEFAULT", default_value = "60/minute")]
    pub rate_limit_default: Limit,
    /// Proxies whose X-Forwarded-For / -Proto / -Host headers are believed, as comma-separated addresses
    /// or CIDR blocks (e.g. `127.0.0.1,10.0.0.0/8`); default none: the socket peer is the client.
    #[arg(long, env = "TTS_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: TrustedProxies,
    /// Refresh token rotation: `on` (default) spends each refresh token and answers a new one (a spent
    /// token presented again ends the session); `off` answers `{"access"}` only and accepts the same
    /// refresh token until it expires, as the seed system did.
    #[arg(long, env = "TTS_REFRESH_ROTATION", default_value = "on", value_parser = ["on", "off"])]
    pub refresh_rotation: String,
    /// Largest attachment accepted, in bytes (larger uploads get 413).
    #[arg(long, env = "TTS_MAX_UPLOAD_BYTES", default_value_t = tts_core::domain::attachment::DEFAULT_MAX_UPLOAD_BYTES)]
    pub max_upload_bytes: u64,
    /// The bearer token Prometheus sends to `GET /metrics`; unset: no metrics endpoint.
    #[arg(long, env = "TTS_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Most tickets concurrent creates share in one command (1: every create is its own command).
    #[arg(long, env = "TTS_CREATE_BATCH", default_value_t = 64,
        value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub create_batch: u16,
    /// Batches of creates written at once (2: the next batch prepares while the last one commits).
    #[arg(long, env = "TTS_CREATE_BATCHES_IN_FLIGHT", default_value_t = 1,
        value_parser = clap::value_parser!(u8).range(1..=8))]
    pub create_batches_in_flight: u8,
    /// Most live feeds (WebSockets) one user may hold.
    #[arg(long, env = "TTS_LIVE_FEEDS_PER_USER", default_value_t = crate::live::SOCKETS_PER_USER)]
    pub live_feeds_per_user: usize,
    /// Most live feeds this process holds.
    #[arg(long, env = "TTS_LIVE_FEEDS_PER_PROCESS", default_value_t = crate::live::SOCKETS_PER_PROCESS)]
    pub live_feeds_per_process: usize,
    /// Allowed CORS origins, comma-separated (`*` for any).
    #[arg(long, env = "TTS_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origin: Vec<String>,
    /// Seed the demo data first and print its credentials.
    #[arg(long)]
    pub demo: bool,
    /// Password for the demo accounts (random when unset).
    #[arg(long, env = "TTS_DEMO_PASSWORD", hide_env_values = true)]
    pub demo_password: Option<String>,
    /// E-mail of the first admin, created at start when no admin exists.
    #[arg(long, env = "TTS_ADMIN_EMAIL")]
    pub admin_email: Option<String>,
    /// Password of the first admin.
    #[arg(long, env = "TTS_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
}

/// Options of `demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Password for the demo accounts (random when unset).
    #[arg(long, env = "TTS_DEMO_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
}

/// Options of `create-admin`.
#[derive(Debug, clap::Args)]
pub struct CreateAdminArgs {
    /// Login e-mail.
    #[arg(long)]
    pub email: String,
    /// Password; read from the first line of stdin when not given.
    #[arg(long, hide_env_values = true)]
    pub password: Option<String>,
    /// Display name.
    #[arg(long, default_value = "Administrator")]
    pub name: String,
}

/// What went wrong, for the exit message.
pub type CliResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

impl Cli {
    fn durability(&self) -> Durability {
        match self.sqlite_sync {
            SqliteSync::Full => Durability::Full,
            SqliteSync::Normal => Durability::Normal,
        }
    }

    /// The engine configuration these options ask for.
    pub fn engine_config(&self) -> tts_core::EngineConfig {
        let mut engine = server::engine_config();
        engine.email_notifications = self.smtp_url.as_deref().is_some_and(|u| !u.is_empty());
        engine.public_url.clone_from(&self.public_url);
        engine.sla_warning_percent = self.sla_warning_percent;
        engine.auto_escalate_on_breach = self.sla_auto_escalate;
        engine
    }

    async fn open(&self) -> Result<Backends, tts_core::Error> {
        server::open(&server::BackendConfig {
            database_url: self.database_url.clone(),
            durability: self.durability(),
            engine: self.engine_config(),
            amqp_url: self.amqp_url.clone().filter(|u| !u.is_empty()),
            amqp_prefix: self.amqp_prefix.clone(),
            serves_sockets: matches!(self.command, Command::Serve(_)),
            smtp_url: self.smtp_url.clone().filter(|u| !u.is_empty()),
            mail_from: self.mail_from.clone(),
            blob_dir: Some(self.data_dir.join("blobs")),
            consumers_per_queue: usize::from(self.consumers_per_queue),
            consumer_linger: std::time::Duration::from_millis(u64::from(self.consumer_linger_ms)),
        })
        .await
    }

    /// Runs the chosen subcommand.
    pub async fn run(self) -> CliResult {
        match &self.command {
            Command::Migrate => {
                let b = self.open().await?;
                b.close().await;
                println!("migrations applied");
            }
            Command::CreateAdmin(args) => {
                let password = match &args.password {
                    Some(p) => p.clone(),
                    None => {
                        eprintln!("password (one line on stdin):");
                        let mut line = String::new();
                        std::io::stdin().lock().read_line(&mut line)?;
                        line.trim_end_matches(['\r', '\n']).to_string()
                    }
                };
                let b = self.open().await?;
                let user = server::create_admin(&b.engine, &args.email, &password, &args.name).await?;
                b.close().await;
                println!("admin {} ready", user.email);
            }
            Command::Demo(args) => {
                let b = self.open().await?;
                let password = args.password.clone().unwrap_or_else(crate::demo::random_password);
                let accounts = crate::demo::seed(&b.engine, &password).await?;
                b.close().await;
                print!("{accounts}");
            }
            Command::Worker(args) => {
                let b = self.open().await?;
                let probes = match args.bind {
                    Some(bind) => {
                        // The probe port verifies no user tokens: its secret is never used.
                        let mut http = HttpConfig::new(tts_core::uuid::Uuid::now_v7().simple().to_string());
                        http.metrics_token = args.metrics_token.clone().filter(|t| !t.is_empty());
                        Some((tokio::net::TcpListener::bind(bind).await?, http))
                    }
                    None => None,
                };
                server::work_on(b, probes, server::shutdown_signal()).await?;
            }
            Command::Serve(args) => self.serve(args).await?,
        }
        Ok(())
    }

    async fn serve(&self, args: &ServeArgs) -> CliResult {
        let b = self.open().await?;
        if args.demo {
            let password = args.demo_password.clone().unwrap_or_else(crate::demo::random_password);
            print!("{}", crate::demo::seed(&b.engine, &password).await?);
        }
        if !server::admin_exists(&b.engine).await? {
            match (&args.admin_email, &args.admin_password) {
                (Some(email), Some(password)) => {
                    server::create_admin(&b.engine, email, password, "Administrator").await?;
                    tracing::info!(%email, "first admin created");
                }
                _ => tracing::warn!(
                    "no admin exists yet: run `tts-server create-admin --email you@example.com` \
                     or start with TTS_ADMIN_EMAIL and TTS_ADMIN_PASSWORD set"
                ),
            }
        }
        let secret = match &args.jwt_secret {
            Some(s) => s.clone().into_bytes(),
            None => server::load_or_create_secret(&self.data_dir).await?,
        };
        let mut http = HttpConfig::new(secret);
        http.rate_limits = RateLimits {
            enabled: !args.no_rate_limits,
            token: args.rate_limit_token,
            create_ticket: args.rate_limit_create_ticket,
            default: args.rate_limit_default,
        };
        http.cors_origins.clone_from(&args.cors_origin);
        http.trusted_proxies = args.trusted_proxies.clone();
        http.public_url.clone_from(&self.public_url);
        http.refresh_rotation = args.refresh_rotation == "on";
        http.max_upload_bytes = args.max_upload_bytes;
        http.metrics_token = args.metrics_token.clone().filter(|t| !t.is_empty());
        http.live_feeds_per_user = args.live_feeds_per_user;
        http.live_feeds_per_process = args.live_feeds_per_process;
        http.create_batch = usize::from(args.create_batch);
        http.create_batches_in_flight = usize::from(args.create_batches_in_flight);
        http.validate()?;
        server::serve(b, http, args.bind, !args.no_worker, server::shutdown_signal()).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sla_options_reach_the_engine() {
        let cli = Cli::try_parse_from([
            "tts-server",
            "--sla-warning-percent",
            "60",
            "--sla-auto-escalate",
            "worker",
        ])
        .expect("parse");
        let config = cli.engine_config();
        assert_eq!((config.sla_warning_percent, config.auto_escalate_on_breach), (60, true));
        let defaults = Cli::try_parse_from(["tts-server", "worker"])
            .expect("parse")
            .engine_config();
        assert_eq!(
            (defaults.sla_warning_percent, defaults.auto_escalate_on_breach),
            (75, false)
        );
        assert!(Cli::try_parse_from(["tts-server", "--sla-warning-percent", "0", "worker"]).is_err());
    }
}
