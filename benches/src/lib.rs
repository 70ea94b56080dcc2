//! Benchmarks of TTS, and what the benches that drive a real `tts-server` share.

pub mod auth_echo;

pub mod server {
    //! Finding (or building) the release `tts-server`, free ports and a process's resident memory.

    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// The release `tts-server` (`TTS_LOAD_SERVER` overrides it), built with `cargo build --release -j2
    /// -p tts-http --bin tts-server` when missing; an existing binary is used as it is, so rebuild it
    /// after changing the server.
    pub fn server_binary() -> PathBuf {
        if let Some(path) = std::env::var_os("TTS_LOAD_SERVER") {
            return PathBuf::from(path);
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the workspace root");
        let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |t| root.join(t));
        let binary = target.join("release").join("tts-server");
        if !binary.exists() {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            eprintln!(
                "{} is missing; building it: cargo build --release -j2 -p tts-http --bin tts-server",
                binary.display()
            );
            let status = Command::new(cargo)
                .current_dir(root)
                .args(["build", "--release", "-j2", "-p", "tts-http", "--bin", "tts-server"])
                .status()
                .expect("running cargo");
            assert!(status.success(), "building tts-server failed ({status})");
        }
        binary
    }

    /// A port nothing listens on right now.
    pub fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("address")
            .port()
    }

    /// A process's resident memory in KiB (`VmRSS` of `/proc/<pid>/status`).
    pub fn rss_kib(pid: u32) -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
            .unwrap_or(0)
    }
}

pub mod pg {
    //! A throw-away PostgreSQL database per bench run, on the server `TTS_BENCH_PG_URL` names (default
    //! the local `postgres` database, trust auth).

    use sqlx::Connection;
    use tts_adapters::sql::redact_url;
    use tts_core::uuid::Uuid;

    /// The server and database the benches connect to first.
    pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

    /// `TTS_BENCH_PG_URL`, or [`DEFAULT_PG_URL`].
    pub fn pg_admin_url() -> String {
        std::env::var("TTS_BENCH_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.into())
    }

    /// Connects to the PostgreSQL server, or exits with a message saying how to proceed.
    pub async fn pg_admin() -> sqlx::PgConnection {
        let url = pg_admin_url();
        match sqlx::PgConnection::connect(&url).await {
            Ok(conn) => conn,
            Err(e) => {
                eprintln!(
                    "PostgreSQL is unreachable at {}: {e}\n  start it, point TTS_BENCH_PG_URL at a server, or \
                     run the bench's SQLite part only (`-- sqlite`)",
                    redact_url(&url)
                );
                std::process::exit(1);
            }
        }
    }

    /// A database created for this run; dropped by [`PgDb::drop_now`] or, on a panic, by `Drop`.
    #[derive(Debug)]
    pub struct PgDb {
        /// Its name.
        pub name: String,
        /// Its URL.
        pub url: String,
        dropped: bool,
    }

    impl PgDb {
        /// Creates an empty database with a fresh name.
        pub async fn create() -> PgDb {
            let admin = pg_admin_url();
            let mut conn = pg_admin().await;
            let name = format!("tts_bench_{}", Uuid::now_v7().simple());
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .expect("CREATE DATABASE (the role needs CREATEDB)");
            let _ = conn.close().await;
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            PgDb {
                url: format!("{base}/{name}"),
                name,
                dropped: false,
            }
        }

        /// `VACUUM ANALYZE` on the database: what autovacuum does to a database in steady use (the
        /// visibility map that index-only scans need, and the planner's statistics), done at once after
        /// a bulk load.
        pub async fn settle(&self) {
            let mut conn = sqlx::PgConnection::connect(&self.url).await.expect("connect");
            sqlx::query("VACUUM ANALYZE")
                .execute(&mut conn)
                .await
                .expect("VACUUM ANALYZE");
            let _ = conn.close().await;
        }

        fn drop_sql(&self) -> String {
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)
        }

        /// Drops the database now.
        pub async fn drop_now(mut self) {
            let mut conn = pg_admin().await;
            sqlx::query(sqlx::AssertSqlSafe(self.drop_sql()))
                .execute(&mut conn)
                .await
                .expect("DROP DATABASE");
            let _ = conn.close().await;
            self.dropped = true;
        }
    }

    impl Drop for PgDb {
        fn drop(&mut self) {
            if self.dropped {
                return;
            }
            // Reached on a panic, possibly inside the runtime: drop it from a thread with its own runtime.
            let (admin, sql) = (pg_admin_url(), self.drop_sql());
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await;
                    }
                });
            })
            .join();
        }
    }
}
