//! Benchmarks of TTS, and what the benches that drive a real `tts-server` share.

pub mod server {
    //! Finding (or building) the release `tts-server`, free ports and a process's resident memory.

    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// The release `tts-server` (`TTS_LOAD_SERVER` overrides it), built with `cargo build --release -j2
    /// -p tts-http --bin tts-server` when missing; an existing binary is used as it is, so rebuild it
    /// after changing the server.
    pub fn server_binary() -> PathBuf {
        if let Some(path) = std::env::var_os("TTS_LOAD_SERVER") {
            return PathBuf::from(path);
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the workspace root");
        let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |t| root.join(t));
        let binary = target.join("release").join("tts-server");
        if !binary.exists() {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            eprintln!(
                "{} is missing; building it: cargo build --release -j2 -p tts-http --bin tts-server",
                binary.display()
            );
            let status = Command::new(cargo)
                .current_dir(root)
                .args(["build", "--release", "-j2", "-p", "tts-http", "--bin", "tts-server"])
                .status()
                .expect("running cargo");
            assert!(status.success(), "building tts-server failed ({status})");
        }
        binary
    }

    /// A port nothing listens on right now.
    pub fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("address")
            .port()
    }

    /// A process's resident memory in KiB (`VmRSS` of `/proc/<pid>/status`).
    pub fn rss_kib(pid: u32) -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
            .unwrap_or(0)
    }
}
