//! placeholder for the identity
