//! [`Argon2Passwords`]: argon2id password hashes in PHC strings, computed off the async runtime.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};
use async_trait::async_trait;
use std::fmt;
use std::num::NonZero;
use std::sync::{Arc, LazyLock, OnceLock};
use tokio::sync::Semaphore;
use tts_core::ports::Passwords;
use tts_core::{Error, ErrorKind, Result};

/// argon2id parameters recommended by OWASP: 19 MiB of memory, 2 passes, 1 lane.
const OWASP: Params = match Params::new(19_456, 2, 1, None) {
    Ok(params) => params,
    Err(_) => panic!("invalid argon2 parameters"),
};

/// Hashes running at once, process-wide by default: one per CPU (each takes ~19 MiB).
static CPU_SLOTS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| {
    Arc::new(Semaphore::new(
        std::thread::available_parallelism().map_or(2, NonZero::get),
    ))
});

/// A [`Passwords`] adapter hashing with argon2id.
///
/// - Hashes are argon2id v19 PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`) with a random
///   16-byte salt and, by default, the OWASP parameters. Verification reads the parameters from the
///   stored hash, so hashes made with other parameters (or an older default) keep working.
/// - Hashing and verifying run on tokio's blocking pool, at most one per CPU at a time across every
///   `Argon2Passwords` of the process, so logins never stall the async runtime and a login flood
///   cannot exhaust memory (callers queue for a slot instead).
/// - `verify(None, _)` (an unknown e-mail) verifies against a fixed hash of the same parameters, so it
///   takes as long as a wrong password and answers `false`.
/// - A stored value that is not a PHC string of argon2 is an error ([`ErrorKind::Internal`]), never a
///   match.
///
/// It needs no database: credentials live in the store (`tts_core::ports::Credentials`).
#[derive(Clone)]
pub struct Argon2Passwords {
    params: Params,
    slots: Arc<Semaphore>,
    /// A hash of nothing anyone uses, with `params`, verified when there is no stored hash (made at its
    /// first use).
    dummy: Arc<OnceLock<std::result::Result<String, String>>>,
}

impl fmt::Debug for Argon2Passwords {
    /// The parameters; never a hash.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Argon2Passwords")
            .field("m_cost_kib", &self.params.m_cost())
            .field("t_cost", &self.params.t_cost())
            .field("p_cost", &self.params.p_cost())
            .finish_non_exhaustive()
    }
}

impl Default for Argon2Passwords {
    fn default() -> Self {
        Self::new()
    }
}

impl Argon2Passwords {
    /// The OWASP parameters: m = 19456 KiB, t = 2, p = 1.
    pub const OWASP: Params = OWASP;

    /// argon2id with the OWASP parameters (m = 19456 KiB, t = 2, p = 1), one hash per CPU at a time.
    pub fn new() -> Self {
        Self::with_params(OWASP)
    }

    /// argon2id with other parameters (for example cheaper ones in tests), sharing the process-wide
    /// limit of one hash per CPU.
    pub fn with_params(params: Params) -> Self {
        Self::build(params, Arc::clone(&CPU_SLOTS))
    }

    /// The same, with at most `concurrent` hashes at a time for this adapter (at least one) instead of
    /// the process-wide limit.
    pub fn with_limit(params: Params, concurrent: usize) -> Self {
        Self::build(params, Arc::new(Semaphore::new(concurrent.max(1))))
    }

    fn build(params: Params, slots: Arc<Semaphore>) -> Self {
        Argon2Passwords {
            params,
            slots,
            dummy: Arc::default(),
        }
    }

    /// The parameters new hashes are made with.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Runs `f` on the blocking pool once a hashing slot is free.
    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let permit = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(|_| internal("password hashing is shut down"))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f()
        })
        .await
        .map_err(|_| internal("password hashing task failed"))
    }
}

fn hasher(params: Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash with `params` that no password anyone chooses matches.
fn dummy_hash(params: Params) -> std::result::Result<String, String> {
    hasher(params)
        .hash_password_with_salt(b"not the password of anyone", b"tts-dummy-salt!!")
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot compute the dummy password hash: {e}"))
}

/// Whether `password` matches the PHC string `stored`, with the parameters stored in it.
fn check(password: &[u8], stored: &str) -> Result<bool> {
    let parsed = PasswordHash::new(stored).map_err(|_| internal("a stored password hash is malformed"))?;
    match Argon2::default().verify_password(password, &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
        Err(e) => Err(internal(format!("a stored password hash cannot be verified: {e}"))),
    }
}

fn internal(message: impl Into<String>) -> Error {
    Error::Backend {
        backend: "argon2",
        kind: ErrorKind::Internal,
        message: message.into(),
    }
}

#[async_trait]
impl Passwords for Argon2Passwords {
    async fn hash(&self, password: &str) -> Result<String> {
        let (password, params) = (password.to_owned(), self.params.clone());
        self.run(move || {
            hasher(params)
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| internal(format!("could not hash the password: {e}")))
        })
        .await?
    }

    async fn verify(&self, hash: Option<&str>, password: &str) -> Result<bool> {
        let password = password.to_owned();
        match hash {
            Some(stored) => {
                let stored = stored.to_owned();
                self.run(move || check(password.as_bytes(), &stored)).await?
            }
            None => {
                let (dummy, params) = (Arc::clone(&self.dummy), self.params.clone());
                self.run(move || {
                    let dummy = dummy.get_or_init(|| dummy_hash(params)).as_ref().map_err(internal)?;
                    std::hint::black_box(check(password.as_bytes(), dummy)?);
                    Ok(false)
                })
                .await?
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn cheap() -> Params {
        Params::new(1024, 1, 1, None).expect("params")
    }

    /// The work behind an unknown e-mail is the work behind a wrong password: the dummy hash has the
    /// adapter's own parameters, so verifying against it costs what a real verification costs.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_dummy_hash_has_the_parameters_of_real_hashes() {
        for params in [OWASP, cheap()] {
            let passwords = Argon2Passwords::with_params(params.clone());
            let real = passwords.hash("a password").await.expect("hash");
            let dummy = dummy_hash(params).expect("dummy");
            let parsed = |s: &str| {
                let h = PasswordHash::new(s).expect("phc");
                (h.algorithm.to_string(), Params::try_from(&h).expect("params"))
            };
            let ((alg_a, a), (alg_b, b)) = (parsed(&real), parsed(&dummy));
            assert_eq!(alg_a, alg_b);
            assert_eq!(
                (a.m_cost(), a.t_cost(), a.p_cost()),
                (b.m_cost(), b.t_cost(), b.p_cost())
            );
            assert!(
                !passwords
                    .verify(None, "not the password of anyone")
                    .await
                    .expect("verify")
            );
        }
    }

    /// However many hashes are asked for at once, no more than the limit run at a time (each holds
    /// ~19 MiB): the others wait for a slot.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_hashes_run_at_once_than_the_limit() {
        let passwords = Argon2Passwords::with_limit(cheap(), 2);
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let jobs = (0..8).map(|_| {
            let (p, running, peak) = (passwords.clone(), Arc::clone(&running), Arc::clone(&peak));
            tokio::spawn(async move {
                p.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
                .expect("run");
            })
        });
        for job in jobs.collect::<Vec<_>>() {
            job.await.expect("job");
        }
        let peak = peak.load(Ordering::SeqCst);
        assert!((1..=2).contains(&peak), "{peak} ran at once with a limit of 2");
    }
}
