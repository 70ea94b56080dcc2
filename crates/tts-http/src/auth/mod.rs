//! Who is calling: JWT issue and verification ([`jwt`]) and the [`Caller`] extractor every protected
//! handler takes.

pub mod caller;
pub mod jwt;

pub use caller::{Caller, ClientKey};
pub use jwt::{Claims, RoleClaim, TokenKeys, TokenType};
