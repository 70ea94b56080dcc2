//! `tts-server`: see `tts-server --help`.

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// jemalloc instead of glibc's malloc: glibc keeps a heap per thread that allocated and returns little of
/// what it frees, so the SQLite reader connections' threads (sorts, grouping) grew the server by about
/// 100 MB over a round of reports at 100,000 tickets; with jemalloc it stays under 100 MB, and
/// mimalloc did no better than glibc (benches/README.md, "Session 10"). Its options are compiled in
/// from `.cargo/config.toml` (`percpu_arena`: one arena per CPU; "Session 13").
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let filter = EnvFilter::try_from_env("TTS_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // `TTS_LOG_FORMAT=json`: one JSON object per line, with the request's fields (request id, user id,
    // ticket) beside the event's own.
    if std::env::var("TTS_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        logs.json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        logs.init();
    }
    let cli = tts_http::cli::Cli::parse();
    match cli.run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
