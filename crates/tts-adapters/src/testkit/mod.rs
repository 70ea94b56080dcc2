//! Test support for applications and this workspace (feature `testkit`, with `postgres`): a fresh
//! PostgreSQL database per test, dropped afterwards even when the test panics; with `smtp`, a real SMTP
//! server process per test ([`smtp::SmtpServer`]).

#[cfg(feature = "smtp")]
pub mod smtp;

use sqlx::Connection;
use tts_core::uuid::Uuid;

/// The server the tests use; `TTS_TEST_PG_ADMIN_URL` overrides it.
pub fn admin_url() -> String {
    std::env::var("TTS_TEST_PG_ADMIN_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database created for one test.
#[derive(Debug)]
pub struct TestDb {
    /// Its name, `tts_test_<uuid>`.
    pub name: String,
    /// The URL to connect to it.
    pub url: String,
}

impl TestDb {
    /// Creates `tts_test_<uuid>`; panics (fails the test) when PostgreSQL is unreachable.
    pub async fn create() -> TestDb {
        let admin = admin_url();
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL is required for this test and is unreachable at {admin}: {e}"));
        let name = format!("tts_test_{}", Uuid::now_v7().simple());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create database");
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b).to_string();
        TestDb {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, name) = (admin_url(), self.name.clone());
        // Drop runs outside any runtime we may block; use a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await;
                }
            });
        })
        .join();
    }
}
