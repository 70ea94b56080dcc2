//! placeholder for sql
