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

/// A database URL with every password replaced by `***`, for messages and logs: the password of the
/// userinfo (`postgres://user:secret@host/db`) and the values of query parameters named `password`,
/// `pass` or `passwd` in any case (`?Password=secret`, as libpq and sqlx accept). Input that is not a
/// URL comes back unchanged.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_string();
    };
    let mut changed = false;
    if parsed.password().is_some() && parsed.set_password(Some("***")).is_ok() {
        changed = true;
    }
    if parsed.query().is_some() {
        let secret = |k: &str| ["password", "pass", "passwd"].iter().any(|p| k.eq_ignore_ascii_case(p));
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if secret(&k) { "***".to_string() } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        if parsed.query_pairs().any(|(k, _)| secret(&k)) {
            parsed.query_pairs_mut().clear().extend_pairs(pairs);
            changed = true;
        }
    }
    if changed {
        // `url` writes the `***` of the userinfo percent-encoded.
        parsed.to_string().replacen("%2A%2A%2A@", "***@", 1)
    } else {
        url.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact_url("postgres://tts:s3cret@db:5432/tts"),
            "postgres://tts:***@db:5432/tts"
        );
        assert_eq!(redact_url("postgres://tts@db/tts"), "postgres://tts@db/tts");
        assert_eq!(redact_url("sqlite://tts.db"), "sqlite://tts.db");
        assert_eq!(redact_url("sqlite://tts.db?mode=rwc"), "sqlite://tts.db?mode=rwc");
    }

    #[test]
    fn query_passwords_are_redacted_in_any_case() {
        for (input, want) in [
            (
                "postgres://tts@db/tts?password=hunter2&sslmode=require",
                "postgres://tts@db/tts?password=***&sslmode=require",
            ),
            (
                "postgres://db/tts?sslmode=disable&PASSWORD=hunter2",
                "postgres://db/tts?sslmode=disable&PASSWORD=***",
            ),
            ("postgresql://db/tts?Pass=hunter2", "postgresql://db/tts?Pass=***"),
            (
                "postgres://db/tts?passwd=hunter2&pass=again",
                "postgres://db/tts?passwd=***&pass=***",
            ),
            (
                "postgres://u:p%40ss@db/tts?password=x",
                "postgres://u:***@db/tts?password=***",
            ),
        ] {
            let got = redact_url(input);
            assert_eq!(got, want, "{input}");
            assert!(!got.contains("hunter2"), "{got}");
        }
    }

    #[test]
    fn odd_forms() {
        // A password with `@` and `:` in it, IPv6 hosts, an empty password.
        let got = redact_url("postgres://tts:a:b@c@[::1]:5432/tts");
        assert!(!got.contains("a:b") && got.contains("[::1]:5432"), "{got}");
        assert_eq!(redact_url("postgres://tts:@db/tts"), "postgres://tts:@db/tts");
        // Not URLs: unchanged.
        assert_eq!(redact_url("tts.db"), "tts.db");
        assert_eq!(redact_url(""), "");
        assert_eq!(redact_url("host=db password=x"), "host=db password=x");
    }
}
