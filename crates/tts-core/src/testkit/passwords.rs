//! The [`Passwords`] contract.

use crate::ports::Passwords;

/// Runs every check of the [`Passwords`] contract.
pub async fn run_all(passwords: &dyn Passwords) {
    hashes_verify_and_differ(passwords).await;
    unknown_accounts_never_match(passwords).await;
    malformed_hashes_are_errors(passwords).await;
}

/// A hash verifies its password and no other; two hashes of one password differ (salted) and do not
/// contain it.
pub async fn hashes_verify_and_differ(passwords: &dyn Passwords) {
    let secret = "correct horse battery staple";
    let a = passwords.hash(secret).await.expect("hash");
    let b = passwords.hash(secret).await.expect("hash");
    assert_ne!(a, b, "hashes are salted");
    assert!(!a.contains(secret), "a hash never contains the password");
    assert!(
        passwords.verify(Some(&a), secret).await.expect("verify"),
        "the password matches"
    );
    assert!(
        passwords.verify(Some(&b), secret).await.expect("verify"),
        "so does the second hash"
    );
    assert!(
        !passwords
            .verify(Some(&a), "correct horse battery stapl")
            .await
            .expect("verify"),
        "another password does not"
    );
    assert!(
        !passwords.verify(Some(&a), "").await.expect("verify"),
        "nor an empty one"
    );
}

/// Checking against no hash (an unknown e-mail) is a refusal, not an error.
pub async fn unknown_accounts_never_match(passwords: &dyn Passwords) {
    assert!(
        !passwords.verify(None, "anything").await.expect("verify without a hash"),
        "no hash never matches"
    );
}

/// A stored value that is not a hash of the adapter is an error, never a match.
pub async fn malformed_hashes_are_errors(passwords: &dyn Passwords) {
    for bad in [
        "",
        "plain-text-password",
        "$argon2id$v=19$broken",
        "$tts-test-sha256$zz$zz",
    ] {
        assert!(
            !matches!(passwords.verify(Some(bad), bad).await, Ok(true)),
            "a malformed hash {bad:?} never matches"
        );
    }
}
