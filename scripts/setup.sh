#!/usr/bin/env bash
# One-time set-up of a development machine for TTS: the Rust toolchain must already be installed
# (rustup); this makes sure PostgreSQL is installed and running on 127.0.0.1:5432 for the postgres
# tests, then builds everything once.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v pg_isready >/dev/null 2>&1; then
  echo "installing PostgreSQL (Debian package)"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q && $sudo_cmd apt-get install -y -q postgresql
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
fi
if ! psql -h 127.0.0.1 -U postgres -d postgres -Atc 'select 1' >/dev/null 2>&1; then
  cat <<'MSG'
PostgreSQL runs, but `postgres@127.0.0.1` cannot log in without a password. Either allow trust auth for
127.0.0.1 in pg_hba.conf (development machines only), or point the tests at an admin URL that works:
  export TTS_TEST_PG_ADMIN_URL=postgres://postgres:PASSWORD@127.0.0.1:5432/postgres
MSG
fi
cargo build --workspace --all-targets --all-features -j2
