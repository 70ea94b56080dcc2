//! # tts-http
//!
//! The reference server of TTS: the documented REST API on axum (JWT, object-level authorization, rate
//! limits, OpenAPI, WebSocket) and the `tts-server` binary. It assembles [`tts_core::Engine`] with the
//! adapters of `tts-adapters`; this crate holds no domain rules of its own.
//!
//! Status: the HTTP layer is built in its own issue; until then this crate only fixes the layering
//! (`tts-http -> tts-adapters -> tts-core`).
