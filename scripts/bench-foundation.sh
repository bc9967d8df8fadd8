#!/usr/bin/env bash
# Prints the foundation's figures for the README's performance section:
#   - time from process start to a healthy /api/health, on an existing database (median of runs)
#   - idle resident memory after start-up and a little traffic
#   - release binary size
#   - requests per second for `/` with keep-alive, the server pinned to one core and the load
#     generator (wrk) to the other
# Usage: scripts/bench-foundation.sh [--database-url postgres://...]
set -euo pipefail
cd "$(dirname "$0")/.."

DB_ARGS=("$@")
PORT="${BENCH_PORT:-3917}"
RUNS="${BENCH_RUNS:-7}"
DATA_DIR="$(mktemp -d)"
trap 'kill "${SERVER_PID:-0}" 2>/dev/null || true; rm -rf "$DATA_DIR"' EXIT

command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet
BIN=target/release/aipasta
[ -n "${CARGO_TARGET_DIR:-}" ] && BIN="$CARGO_TARGET_DIR/release/aipasta"

now_ms() { date +%s%3N; }

start_server() {
  AIPASTA_LOG=warn taskset -c 1 "$BIN" serve --bind "127.0.0.1:$PORT" --data-dir "$DATA_DIR" "${DB_ARGS[@]}" &
  SERVER_PID=$!
}

wait_healthy() {
  for _ in $(seq 1 2000); do
    if curl -fs "http://127.0.0.1:$PORT/api/health" >/dev/null 2>&1; then return 0; fi
    sleep 0.005
  done
  echo "server did not become healthy" >&2; exit 1
}

stop_server() { kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; }

# First start creates and migrates the database; it is not measured.
start_server; wait_healthy; stop_server

startups=()
for _ in $(seq 1 "$RUNS"); do
  t0=$(now_ms); start_server; wait_healthy; t1=$(now_ms)
  startups+=($((t1 - t0)))
  stop_server
done
median_startup=$(printf '%s\n' "${startups[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")

start_server; wait_healthy
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT/" >/dev/null; done
sleep 2
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status")

# Warm up, then measure.
taskset -c 0 wrk -t1 -c32 -d2s "http://127.0.0.1:$PORT/" >/dev/null
wrk_out=$(taskset -c 0 wrk -t1 -c32 -d10s --latency "http://127.0.0.1:$PORT/")
rps=$(awk '/Requests\/sec/ {print $2}' <<<"$wrk_out")
p50=$(awk '$1 == "50%" {print $2}' <<<"$wrk_out")
p99=$(awk '$1 == "99%" {print $2}' <<<"$wrk_out")
stop_server

size_bytes=$(stat -c %s "$BIN")
backend="sqlite"; [[ " ${DB_ARGS[*]:-} " == *postgres* ]] && backend="postgres"

printf '\n%-44s %s\n' "figure ($backend)" "value"
printf '%-44s %s\n' "start to healthy /api/health (median of $RUNS)" "${median_startup} ms  (runs: ${startups[*]})"
printf '%-44s %s\n' "idle resident memory" "$((rss_kb / 1024)) MB (${rss_kb} kB)"
printf '%-44s %s\n' "release binary size" "$((size_bytes / 1024 / 1024)) MB (${size_bytes} bytes)"
printf '%-44s %s\n' "GET / on one core, 32 keep-alive conns" "${rps} req/s  (p50 ${p50}, p99 ${p99})"
