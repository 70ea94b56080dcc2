#!/usr/bin/env bash
# One-time set-up of a development machine for TTS: the Rust toolchain must already be installed
# (rustup); this makes sure PostgreSQL is installed and running on 127.0.0.1:5432 for the postgres
# tests, RabbitMQ on 127.0.0.1:5672 (guest/guest) for the amqp tests, aiosmtpd for the SMTP tests, that python3 can import `requests` (the seed's Python client test) and that schemathesis is
# installed for scripts/api-fuzz.sh, installs Debian's Chromium and ChromeDriver for the web UI's browser tests, then builds everything once.
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
# The amqp tests and the broker variants of the fault tests use RabbitMQ.
if ! command -v rabbitmqctl >/dev/null 2>&1; then
  echo "installing RabbitMQ (Debian package)"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q && $sudo_cmd apt-get install -y -q rabbitmq-server
fi
if ! rabbitmqctl -q await_startup >/dev/null 2>&1; then
  rabbitmqctl -q status >/dev/null 2>&1 && rabbitmqctl -q start_app || rabbitmq-server -detached
  for _ in $(seq 1 60); do rabbitmqctl -q await_startup >/dev/null 2>&1 && break; sleep 1; done
fi
# tests/tests/python_client.rs runs the seed's Python client: it needs python3 with `requests`.
if ! command -v python3 >/dev/null 2>&1; then
  echo "installing Python 3 (Debian package)"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q && $sudo_cmd apt-get install -y -q python3 python3-pip
fi
if ! python3 -c 'import requests' >/dev/null 2>&1; then
  echo "installing the Python package requests"
  python3 -m pip install --user requests || python3 -m pip install --user --break-system-packages requests
fi
# scripts/api-fuzz.sh (run by .ci/run) uses schemathesis from PyPI, in a virtualenv under target/.
if ! command -v python3 >/dev/null 2>&1 || ! python3 -m venv --help >/dev/null 2>&1; then
  echo "installing python3-venv (Debian package)"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q && $sudo_cmd apt-get install -y -q python3-venv
fi
# The SMTP tests start aiosmtpd (PyPI) from a virtualenv under target/.
AIOSMTPD_VERSION=1.4.6
if ! target/py-venv/bin/python -c 'import aiosmtpd' >/dev/null 2>&1; then
  echo "installing aiosmtpd $AIOSMTPD_VERSION into target/py-venv"
  python3 -m venv target/py-venv
  target/py-venv/bin/python -m pip install -q "aiosmtpd==$AIOSMTPD_VERSION"
fi
# The web UI's browser tests (feature `browser-tests`, on with --all-features) drive Debian's Chromium.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  echo "installing Chromium and ChromeDriver (Debian packages)"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q chromium chromium-driver
fi
st_version=$(sed -n 's/^SCHEMATHESIS_VERSION=//p' scripts/api-fuzz.sh)
if ! target/schemathesis-venv/bin/schemathesis --version 2>/dev/null | grep -q "$st_version"; then
  echo "installing schemathesis $st_version into target/schemathesis-venv"
  python3 -m venv target/schemathesis-venv
  target/schemathesis-venv/bin/python -m pip install -q "schemathesis==$st_version"
fi
cargo build --workspace --all-targets --all-features -j2
