//! `Argon2Passwords`: the core's `Passwords` contract, argon2id PHC strings with the OWASP parameters,
//! verification by the parameters stored in each hash, unknown e-mails costing as much as wrong
//! passwords, and the bound on concurrent hashes.

use tts_adapters::identity::{Argon2Params, Argon2Passwords};
use tts_core::ErrorKind;
use tts_core::ports::Passwords;

const OWASP_PREFIX: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

fn cheap() -> Argon2Params {
    Argon2Params::new(1024, 1, 1, None).expect("params")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conforms_to_the_passwords_contract() {
    tts_core::testkit::passwords::run_all(&Argon2Passwords::new()).await;
}

/// `$argon2id$v=19$m=19456,t=2,p=1$<16-byte salt>$<32-byte hash>`, never the password; Debug shows the
/// parameters only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hashes_are_owasp_argon2id_phc_strings() {
    let passwords = Argon2Passwords::new();
    let password = "s3cret pass phrase";
    let hash = passwords.hash(password).await.expect("hash");
    assert!(hash.starts_with(OWASP_PREFIX), "unexpected hash format: {hash}");
    let parts: Vec<&str> = hash.split('$').collect();
    assert_eq!(parts.len(), 6, "{hash}");
    assert_eq!(parts[4].len(), 22, "a 16-byte salt in unpadded base64: {hash}");
    assert_eq!(parts[5].len(), 43, "a 32-byte hash in unpadded base64: {hash}");
    assert!(!hash.contains(password));
    let debug = format!("{passwords:?}");
    assert!(debug.contains("19456") && !debug.contains("$argon2id"), "{debug}");
}

/// Hashes made with other parameters keep verifying: the parameters come from the stored hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_uses_the_parameters_of_the_stored_hash() {
    let old = Argon2Passwords::with_params(cheap());
    let hash = old.hash("an older password").await.expect("hash");
    assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{hash}");
    let current = Argon2Passwords::new();
    assert!(current.verify(Some(&hash), "an older password").await.expect("verify"));
    assert!(!current.verify(Some(&hash), "another password").await.expect("verify"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_hash_is_an_error_not_a_match() {
    let passwords = Argon2Passwords::with_params(cheap());
    for bad in ["", "plain-text", "$argon2id$v=19$m=19456,t=2,p=1$broken"] {
        let err = passwords.verify(Some(bad), bad).await.expect_err("malformed");
        assert_eq!(err.kind(), ErrorKind::Internal, "{bad:?}: {err}");
    }
}
