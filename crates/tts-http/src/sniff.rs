//! What an upload's bytes are, decided from the bytes and never from the client's `Content-Type`: magic
//! numbers by the `infer` crate (including the ZIP-based office formats), plain UTF-8 text without NUL
//! bytes as `text/plain`; only the core's allow-list ([`ALLOWED_TYPES`]) is accepted.

use tts_core::domain::attachment::ALLOWED_TYPES;

/// How many leading bytes decide the type.
pub const HEAD: usize = 8 * 1024;

/// The type of a file starting with `head` (its first [`HEAD`] bytes, or all of a shorter file):
/// `Ok(type)` when accepted, `Err(what it looks like)` when not.
pub fn sniff(head: &[u8]) -> Result<&'static str, String> {
    if let Some(kind) = infer::get(head) {
        let mime = kind.mime_type();
        return ALLOWED_TYPES
            .iter()
            .copied()
            .find(|allowed| *allowed == mime)
            .ok_or_else(|| mime.to_string());
    }
    if looks_like_text(head) {
        Ok("text/plain")
    } else {
        Err("binary data of an unknown type".into())
    }
}

/// Whether bytes are UTF-8 text without NUL: a sequence cut at the end of `head` still counts.
pub fn looks_like_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Ok("image/png"));
        assert_eq!(sniff(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), Ok("application/pdf"));
        assert_eq!(sniff("Grüße, the printer is on fire\n".as_bytes()), Ok("text/plain"));
        assert_eq!(
            sniff(&"é".repeat(10).as_bytes()[..7]),
            Ok("text/plain"),
            "a cut sequence is still text"
        );
        assert!(
            sniff(b"MZ\x90\0\x03\0\0\0\x04\0\0\0").is_err(),
            "a Windows executable is refused"
        );
        assert!(sniff(b"\0\x01\x02\x03garbage").is_err(), "unknown binary is refused");
        assert!(sniff(b"\x7fELF\x02\x01\x01\0").is_err(), "an ELF binary is refused");
    }
}
