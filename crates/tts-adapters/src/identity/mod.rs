//! Identity adapters: how passwords are hashed and checked.
//!
//! [`Argon2Passwords`] implements [`tts_core::ports::Passwords`] with argon2id. It needs no database:
//! credentials (e-mail and hash) and login throttles live in the store, in the same unit as the user
//! they belong to.

mod passwords;

pub use argon2::Params as Argon2Params;
pub use passwords::Argon2Passwords;
