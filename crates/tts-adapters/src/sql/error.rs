//! Mapping sqlx errors into the core's error kinds, without leaking SQL or credentials.

use tts_core::{Error, ErrorKind};

/// Maps a sqlx error to a core error: unique violation -> conflict, foreign-key violation -> not found,
/// lock conflicts (serialization failure, deadlock, busy) -> retryable conflict, pool timeout or I/O ->
/// unavailable, anything else -> internal. Messages name constraints, never SQL text or values.
pub(crate) fn db_err(backend: &'static str, e: sqlx::Error) -> Error {
    use sqlx::error::ErrorKind as K;
    let backend_err = |kind, message: String| Error::Backend { backend, kind, message };
    match e {
        sqlx::Error::RowNotFound => Error::not_found("row", "?"),
        sqlx::Error::Database(d) => {
            let constraint = d.constraint().unwrap_or("?").to_string();
            let code = d.code().map(|c| c.to_string()).unwrap_or_default();
            match d.kind() {
                K::UniqueViolation => Error::Conflict(format!("a row with the same key exists ({constraint})")),
                K::ForeignKeyViolation => Error::NotFound {
                    entity: "referenced row",
                    id: constraint,
                },
                K::CheckViolation | K::NotNullViolation => {
                    backend_err(ErrorKind::Internal, format!("constraint {constraint} rejected a row"))
                }
                _ if matches!(code.as_str(), "40001" | "40P01" | "55P03") => {
                    backend_err(ErrorKind::Conflict, format!("transaction conflict ({code}); retry"))
                }
                _ if matches!(code.as_str(), "5" | "6" | "261" | "262" | "517") => {
                    backend_err(ErrorKind::Conflict, format!("database busy ({code}); retry"))
                }
                // The server is going away or not taking connections (shutdown, crash recovery, too many
                // connections, a broken connection): nothing is wrong with the request; try again later.
                _ if code.starts_with("08") || matches!(code.as_str(), "57P01" | "57P02" | "57P03" | "53300") => {
                    backend_err(ErrorKind::Unavailable, format!("database unavailable ({code})"))
                }
                _ => backend_err(ErrorKind::Internal, format!("database error {code}")),
            }
        }
        sqlx::Error::PoolTimedOut => backend_err(ErrorKind::Unavailable, "connection pool exhausted".into()),
        sqlx::Error::PoolClosed => backend_err(ErrorKind::Unavailable, "connection pool closed".into()),
        sqlx::Error::Io(io) => backend_err(ErrorKind::Unavailable, format!("database unreachable: {}", io.kind())),
        sqlx::Error::Tls(_) => backend_err(ErrorKind::Unavailable, "database TLS failure".into()),
        sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => {
            backend_err(ErrorKind::Unavailable, "database connection failed".into())
        }
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            backend_err(ErrorKind::Internal, "a stored row could not be decoded".into())
        }
        sqlx::Error::Migrate(m) => backend_err(ErrorKind::Internal, format!("migration failed: {m}")),
        other => backend_err(ErrorKind::Internal, format!("database failure: {}", kind_name(&other))),
    }
}

fn kind_name(e: &sqlx::Error) -> &'static str {
    match e {
        sqlx::Error::Configuration(_) => "configuration",
        sqlx::Error::TypeNotFound { .. } => "type not found",
        sqlx::Error::ColumnNotFound(_) => "column not found",
        sqlx::Error::ColumnIndexOutOfBounds { .. } => "column index",
        _ => "other",
    }
}
