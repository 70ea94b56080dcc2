//! Benchmarks of TTS.
