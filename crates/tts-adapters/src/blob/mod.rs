//! Blob stores: attachment bytes, content-addressed by SHA-256.
//!
//! [`FileBlobStore`] keeps every blob as one immutable file under a data directory, named by its hash and
//! written atomically (temp file, `fsync`, rename), so a reader sees all bytes or none.

mod fs;

pub use fs::FileBlobStore;
