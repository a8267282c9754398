#!/usr/bin/env bash
# notenlp's two set-up commands:
#   ./run.sh demo   install everything, then run the nightly job end to end on bundled demo data into DuckDB
#   ./run.sh test   install everything, then run the test suite
# Anything after the command is passed on (to `notenlp nightly` or to pytest).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD

log() { printf '[run.sh] %s\n' "$*" >&2; }

ensure_java() {
  if command -v java >/dev/null 2>&1; then return; fi
  log "java not found: installing OpenJDK 17 through apt-get"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq openjdk-17-jre-headless >/dev/null
}

ensure_chromium() {
  # The data-quality report test renders the page in headless Chromium (Debian's package).
  if command -v chromium >/dev/null 2>&1; then return; fi
  log "chromium not found: installing Debian's chromium through apt-get (for the report test)"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  ($sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null) \
    || log "could not install chromium; the report rendering test will be skipped"
}

ensure_compose_client() {
  # The compose-file test validates docker/compose.yaml with Debian's docker-compose (no engine is needed for that).
  if command -v docker-compose >/dev/null 2>&1; then return; fi
  log "docker-compose not found: installing Debian's docker-compose through apt-get (for the compose-file test)"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  ($sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq docker-compose >/dev/null) \
    || log "could not install docker-compose; the compose-file test will be skipped"
}

ensure_venv() {
  local py=${PYTHON:-python3}
  if ! command -v uv >/dev/null 2>&1; then
    log "installing uv"
    "$py" -m pip install -q uv || true
  fi
  local stamp=.venv/.notenlp-synced
  if [ -f "$stamp" ] && [ "$stamp" -nt requirements.lock ] && [ "$stamp" -nt pyproject.toml ]; then return; fi
  log "creating .venv from requirements.lock (first run takes a few minutes)"
  if command -v uv >/dev/null 2>&1; then
    [ -x .venv/bin/python ] || uv venv -q --python "$py" .venv
    VIRTUAL_ENV=.venv uv pip sync -q --compile-bytecode requirements.lock  # .pyc at install: faster starts
    VIRTUAL_ENV=.venv uv pip install -q --no-deps -e .
  else
    [ -x .venv/bin/python ] || "$py" -m venv .venv
    .venv/bin/pip install -q -r requirements.lock
    .venv/bin/pip install -q --no-deps -e .
  fi
  touch "$stamp"
}

ensure_java
ensure_venv
export PATH="$ROOT/.venv/bin:$PATH"
export PYSPARK_PYTHON="$ROOT/.venv/bin/python" PYSPARK_DRIVER_PYTHON="$ROOT/.venv/bin/python"
export SPARK_LOCAL_IP=${SPARK_LOCAL_IP:-127.0.0.1}
export PYTHONUNBUFFERED=1
# Bytecode caching keeps every Spark Python worker from recompiling the package and its dependencies.
unset PYTHONDONTWRITEBYTECODE

cmd=${1:-help}
shift || true
case "$cmd" in
  demo)
    exec notenlp nightly --demo "$@"
    ;;
  test)
    ensure_chromium
    ensure_compose_client
    exec python -m pytest "$@"
    ;;
  *)
    echo "usage: ./run.sh demo|test [args...]" >&2
    exit 2
    ;;
esac
