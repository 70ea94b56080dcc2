//! placeholder for the blob store
