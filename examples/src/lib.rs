//! Examples of embedding TTS.
