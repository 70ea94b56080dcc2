//! URLs made safe to show: passwords out of messages and logs.

/// A database or broker URL with every password replaced by `***`, for messages and logs: the password of the
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
        assert_eq!(
            redact_url("amqp://guest:guest@127.0.0.1:5672/%2f"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
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
