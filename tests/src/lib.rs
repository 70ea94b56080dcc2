//! End-to-end tests of TTS.
