#!/usr/bin/env bash
# Prints the gateway's figures (the engine issue's benchmark) beside their goals:
#   1. one client, non-streaming: p50/p99 straight to the mock and through AI Pasta; added p50
#   2. a fixed 1,000 requests per second: p99 both ways; added p99
#   3. requests per second through AI Pasta with enough connections to saturate its core
#   v1. the same three through the OpenAI-compatible `/v1/chat/completions`, with an API key
#   4. streaming time to first token, added (crates/aipasta/benches/gateway.rs)
#   5. AI Pasta's memory per open stream, with 5,000 slow streams open (gateway.rs)
#   6. the rows in `generations` against the requests AI Pasta answered
#   and, for reference, 1–3 through a bare axum + reqwest proxy (gateway.rs `proxy`, on core 1
#   while AI Pasta idles): the floor that any gateway on this stack pays on this machine
#   (each added latency of AI Pasta is also printed beyond it: what AI Pasta's own work adds)
# `aipasta-mock` and the load generator (oha) run on core 0, `aipasta serve` (release build) on
# core 1. SQLite (a fresh data directory) always; PostgreSQL too when AIPASTA_BENCH_DATABASE_URL
# names a server database such as postgres://postgres@127.0.0.1:5432/postgres (a throw-away
# database is created there and dropped afterwards). The PostgreSQL server's processes are
# moved to core 0 for the run, beside the mock (BENCH_PIN_POSTGRES=0 leaves them where they
# are): like the provider, the database is a service the gateway talks to, which in production
# runs on cores or machines of its own; left free, its backends run on AI Pasta's core and the
# figures measure the two sharing one core. Their own affinity is restored on exit.
#
# The bench account's API rate limit is lifted with AIPASTA_API_RATE_LIMIT; an admin raises its
# monthly token limit. Every process started here is stopped on exit, and a process that does
# not start within 30 s fails the run with its log.
#
# Usage: scripts/bench-gateway.sh
# Knobs (environment): BENCH_BACKENDS ("sqlite", "postgres" or both), BENCH_DURATION (seconds
# per oha run, 10), BENCH_STREAMS (5000), BENCH_TTFT_SAMPLES (2000), BENCH_CONNECTIONS
# (throughput connections, 64), BENCH_LOG (AI Pasta's log filter; its default when unset),
# BENCH_PORT (the first of four ports, 28100: below the ephemeral range, where a client's own
# port could collide with a listener's).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${BENCH_DURATION:-10}"
STREAMS="${BENCH_STREAMS:-5000}"
TTFT_SAMPLES="${BENCH_TTFT_SAMPLES:-2000}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
BASE_PORT="${BENCH_PORT:-28100}"
AIPASTA_PORT=$BASE_PORT
MOCK_PORT=$((BASE_PORT + 1))
SLOW_MOCK_PORT=$((BASE_PORT + 2))
BARE_PORT=$((BASE_PORT + 3))
# A model of the mock's OpenRouter list: the server syncs OpenRouter at start (it has a key),
# which deprecates the seeded models the mock does not list.
MODEL="mistralai/mistral-brio-2"
PROMPT="Say something short about pasta."
PASSWORD="bench-password-for-the-gateway"
ADMIN_EMAIL="gateway-bench-admin@example.com"
USER_EMAIL="gateway-bench@example.com"
# Slow streams: 60 deltas a second apart, so every stream stays open for a minute.
SLOW_DELAY_MS=1000
SLOW_CHUNKS=60

TARGET="${CARGO_TARGET_DIR:-target}"
WORK="$(mktemp -d)"
PIDS=()
PG_DB=""

fail() { echo "bench-gateway: $*" >&2; exit 1; }

PG_AFFINITY=()  # "pid list" pairs to restore
cleanup() {
  local pid entry
  for entry in "${PG_AFFINITY[@]}"; do taskset -pc "${entry#* }" "${entry%% *}" >/dev/null 2>&1 || true; done
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$PG_DB" ]; then
    psql -q -d "$AIPASTA_BENCH_DATABASE_URL" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools ---------------------------------------------------------------------------------
for tool in taskset curl python3; do
  command -v "$tool" >/dev/null || fail "$tool is required"
done
if ! command -v oha >/dev/null; then
  echo "installing oha (cargo install oha --locked)"
  cargo install oha --locked --quiet || fail "could not install oha"
fi
[ "$(nproc)" -ge 2 ] || fail "needs two cores (one for AI Pasta, one for the mock and the load)"
# Every open stream holds a socket on each side of AI Pasta.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -ge $((2 * STREAMS + 1000)) ] || fail "ulimit -n is $(ulimit -n); $((2 * STREAMS + 1000)) descriptors are needed"

echo "building (release)…"
cargo build --release --quiet -p aipasta -p aipasta-mock
BENCH_EXE=$(cargo bench --no-run -p aipasta --bench gateway 2>&1 \
  | sed -n 's/.*Executable benches\/gateway.rs (\(.*\))$/\1/p' | tail -1)
[ -x "$BENCH_EXE" ] || fail "could not build crates/aipasta/benches/gateway.rs"
AIPASTA="$TARGET/release/aipasta"
MOCK="$TARGET/release/aipasta-mock"

# --- processes -----------------------------------------------------------------------------
# Waits until $2 answers (any HTTP status) while process $1 lives; fails clearly otherwise.
wait_up() {
  local pid=$1 url=$2 name=$3 log=$4
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || { tail -20 "$log" >&2; fail "$name exited during start-up (log above)"; }
    curl -s -o /dev/null --max-time 1 "$url" && return 0
    sleep 0.1
  done
  tail -20 "$log" >&2
  fail "$name did not answer $url within 30 s (log above)"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

MOCK_PID=""
start_mock() { # port, extra flags...
  local port=$1; shift
  port_free "$port" || fail "port $port is taken (set BENCH_PORT)"
  taskset -c 0 "$MOCK" --bind "127.0.0.1:$port" "$@" >"$WORK/mock-$port.log" 2>&1 &
  MOCK_PID=$!
  PIDS+=("$MOCK_PID")
  wait_up "$MOCK_PID" "http://127.0.0.1:$port/api/v1/models" "aipasta-mock on $port" "$WORK/mock-$port.log"
}

AIPASTA_PID=""
start_aipasta() { # upstream port
  port_free "$AIPASTA_PORT" || fail "port $AIPASTA_PORT is taken (set BENCH_PORT)"
  local log_env=()
  [ -n "${BENCH_LOG:-}" ] && log_env=(AIPASTA_LOG="$BENCH_LOG")
  env "${log_env[@]}" \
    AIPASTA_OPENROUTER_BASE_URL="http://127.0.0.1:$1/api/v1" \
    AIPASTA_OPENROUTER_API_KEY=bench \
    AIPASTA_ADMIN_EMAILS="$ADMIN_EMAIL" \
    AIPASTA_API_RATE_LIMIT="100000000/s" \
    taskset -c 1 "$AIPASTA" serve --bind "127.0.0.1:$AIPASTA_PORT" --data-dir "$DATA_DIR" \
      "${DB_ARGS[@]}" >>"$WORK/aipasta.log" 2>&1 &
  AIPASTA_PID=$!
  PIDS+=("$AIPASTA_PID")
  wait_up "$AIPASTA_PID" "http://127.0.0.1:$AIPASTA_PORT/api/health" "aipasta serve" "$WORK/aipasta.log"
}

stop_aipasta() { # SIGTERM, then wait for the queued writes (bounded)
  kill -TERM "$AIPASTA_PID"
  for _ in $(seq 1 600); do
    kill -0 "$AIPASTA_PID" 2>/dev/null || { wait "$AIPASTA_PID" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  fail "aipasta serve did not stop within 60 s of SIGTERM"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# --- load ----------------------------------------------------------------------------------
# Runs oha on core 0; sets LAST to "p50_ms p99_ms rps ok other".
LAST=""
run_oha() { # url, auth, body, oha flags...
  local url=$1 auth=$2 body=$3; shift 3
  # -w waits for the requests still running at the deadline; `timeout` bounds that wait.
  timeout 300 taskset -c 0 oha --no-tui --output-format json -w -m POST -T application/json \
    -H "Authorization: Bearer $auth" -d "$body" "$@" "$url" >"$WORK/oha.json" \
    || fail "oha failed against $url"
  LAST=$(python3 - "$WORK/oha.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
p = r["latencyPercentiles"]
codes = r.get("statusCodeDistribution", {})
ok = sum(n for c, n in codes.items() if c.startswith("2"))
other = sum(n for c, n in codes.items() if not c.startswith("2")) + sum(r.get("errorDistribution", {}).values())
print(f'{p["p50"]*1000:.3f} {p["p99"]*1000:.3f} {r["summary"]["requestsPerSec"]:.0f} {ok} {other}')
EOF
)
}

ANSWERED=0
through() { # oha flags...; counts the answers
  local ok other
  run_oha "http://127.0.0.1:$AIPASTA_PORT/api/ai/generate" "$TOKEN" "$AP_BODY" "$@"
  read -r _ _ _ ok other <<<"$LAST"
  ANSWERED=$((ANSWERED + ok))
  [ "$other" -eq 0 ] || echo "  note: $other requests through AI Pasta did not answer 2xx" >&2
}
through_v1() { # oha flags...; the OpenAI-compatible gateway, with a personal API key
  local ok other
  run_oha "http://127.0.0.1:$AIPASTA_PORT/v1/chat/completions" "$API_KEY" "$MOCK_BODY" "$@"
  read -r _ _ _ ok other <<<"$LAST"
  ANSWERED=$((ANSWERED + ok))
  [ "$other" -eq 0 ] || echo "  note: $other requests through /v1 did not answer 2xx" >&2
}
straight() { run_oha "http://127.0.0.1:$MOCK_PORT/api/v1/chat/completions" bench "$MOCK_BODY" "$@"; }
bare() { run_oha "http://127.0.0.1:$BARE_PORT/proxy" bench "$MOCK_BODY" "$@"; }

api() { # method path token body → JSON on stdout
  curl -s --max-time 30 -X "$1" "http://127.0.0.1:$AIPASTA_PORT$2" -H 'Content-Type: application/json' \
    ${3:+-H "Authorization: Bearer $3"} ${4:+-d "$4"}
}
json_get() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval('d'+sys.argv[1]))" "$1"; }

verdict() { python3 -c "import sys; print('PASS' if eval(sys.argv[1]) else '**MISS**')" "$1"; }

# Moves every process of the local PostgreSQL server to core 0 (new backends inherit it from
# the postmaster); remembers their affinity for cleanup. Fails (and the run goes on unpinned)
# when the server is not local or its processes cannot be moved.
pin_postgres() {
  local pid list
  local pids; pids=$(pgrep -x postgres || true)
  [ -n "$pids" ] || { echo "  note: no local postgres processes to pin; PostgreSQL runs unpinned" >&2; return 1; }
  for pid in $pids; do
    list=$(taskset -pc "$pid" 2>/dev/null | sed 's/.*: //') || continue
    if taskset -pc 0 "$pid" >/dev/null 2>&1; then
      PG_AFFINITY+=("$pid $list")
    else
      echo "  note: could not pin postgres process $pid to core 0; PostgreSQL runs unpinned" >&2
      return 1
    fi
  done
}

# --- one backend -----------------------------------------------------------------------------
run_backend() { # sqlite | postgres
  local backend=$1
  DATA_DIR="$WORK/data-$backend"; mkdir -p "$DATA_DIR"
  DB_ARGS=()
  if [ "$backend" = postgres ]; then
    PG_DB="aipasta_gwbench_$$"
    psql -q -d "$AIPASTA_BENCH_DATABASE_URL" -c "CREATE DATABASE $PG_DB" >/dev/null \
      || fail "could not create the PostgreSQL database"
    PG_URL=$(python3 -c "import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path='/'+sys.argv[2])))" "$AIPASTA_BENCH_DATABASE_URL" "$PG_DB")
    DB_ARGS=(--database-url "$PG_URL")
  fi
  ANSWERED=0
  echo
  echo "== $backend  (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
  local placement=""
  if [ "$backend" = postgres ]; then
    placement=", PostgreSQL's processes wherever the kernel put them"
    [ "${BENCH_PIN_POSTGRES:-1}" = 1 ] && pin_postgres && placement=", PostgreSQL's server on core 0"
  fi

  local mock_pid
  start_mock "$MOCK_PORT"; mock_pid=$MOCK_PID
  start_aipasta "$MOCK_PORT"

  # The accounts: an admin (listed in AIPASTA_ADMIN_EMAILS) raises the bench account's monthly
  # token limit so that it never trips.
  local admin_token user_json user_id
  admin_token=$(api POST /api/auth/signup "" "{\"name\":\"Bench Admin\",\"email\":\"$ADMIN_EMAIL\",\"password\":\"$PASSWORD\"}" | json_get "['token']") \
    || fail "could not sign up the admin account"
  user_json=$(api POST /api/auth/signup "" "{\"name\":\"Bench\",\"email\":\"$USER_EMAIL\",\"password\":\"$PASSWORD\"}")
  TOKEN=$(json_get "['token']" <<<"$user_json") || fail "could not sign up the bench account: $user_json"
  user_id=$(json_get "['user']['id']" <<<"$user_json")
  api PUT "/api/admin/users/$user_id" "$admin_token" '{"monthlyLimit": 1000000000000}' | grep -q '"success":true' \
    || fail "could not raise the bench account's monthly token limit"

  # /v1 takes a personal API key with the generate scope, as developers' code does.
  API_KEY=$(api POST /api/users/api-keys "$TOKEN" '{"name":"bench","scopes":["read","generate"]}' | json_get "['data']['key']") \
    || fail "could not create the bench API key"

  AP_BODY="{\"model\":\"$MODEL\",\"prompt\":\"$PROMPT\",\"stream\":false}"
  MOCK_BODY="{\"model\":\"$MODEL\",\"messages\":[{\"role\":\"user\",\"content\":\"$PROMPT\"}],\"stream\":false}"
  local check
  check=$(api POST /api/ai/generate "$TOKEN" "$AP_BODY")
  grep -q '"success":true' <<<"$check" || fail "a generation through AI Pasta failed: $check"
  ANSWERED=$((ANSWERED + 1))
  check=$(curl -s --max-time 30 "http://127.0.0.1:$AIPASTA_PORT/v1/chat/completions" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $API_KEY" -d "$MOCK_BODY")
  grep -q '"chat.completion"' <<<"$check" || fail "a /v1/chat/completions call failed: $check"
  ANSWERED=$((ANSWERED + 1))

  echo "warming up…"
  straight -z 2s -c 8
  through -z 2s -c 8
  through_v1 -z 2s -c 8

  echo "1. one client, ${DURATION} s each way…"
  straight -z "${DURATION}s" -c 1; read -r m1_p50 m1_p99 m1_rps _ <<<"$LAST"
  through -z "${DURATION}s" -c 1; read -r a1_p50 a1_p99 a1_rps _ <<<"$LAST"

  echo "2. 1,000 requests per second, ${DURATION} s each way…"
  straight -z "${DURATION}s" -c 50 -q 1000 --latency-correction; read -r m2_p50 m2_p99 _ <<<"$LAST"
  through -z "${DURATION}s" -c 50 -q 1000 --latency-correction; read -r a2_p50 a2_p99 _ <<<"$LAST"

  echo "3. throughput, $CONNECTIONS connections, ${DURATION} s each way…"
  local t0 c0 m0 t1 c1 m1
  t0=$(date +%s%N); m0=$(cpu_ticks "$mock_pid")
  straight -z "${DURATION}s" -c "$CONNECTIONS"; read -r m3_p50 m3_p99 m3_rps _ <<<"$LAST"
  t1=$(date +%s%N); m1=$(cpu_ticks "$mock_pid")
  local mock_cpu_alone; mock_cpu_alone=$(( (m1 - m0) * 1000000000 / (t1 - t0) ))  # percent (ticks are 1/100 s)
  local a3_ok
  t0=$(date +%s%N); c0=$(cpu_ticks "$AIPASTA_PID"); m0=$(cpu_ticks "$mock_pid")
  through -z "${DURATION}s" -c "$CONNECTIONS"; read -r a3_p50 a3_p99 a3_rps a3_ok _ <<<"$LAST"
  t1=$(date +%s%N); c1=$(cpu_ticks "$AIPASTA_PID"); m1=$(cpu_ticks "$mock_pid")
  local ap_cpu mock_cpu ap_us
  ap_cpu=$(( (c1 - c0) * 1000000000 / (t1 - t0) ))
  mock_cpu=$(( (m1 - m0) * 1000000000 / (t1 - t0) ))
  ap_us=$(( (c1 - c0) * 10000 / (a3_ok > 0 ? a3_ok : 1) ))  # CPU time per answer, µs
  # oha asks for compressed answers (gzip, br) as most HTTP clients do; the same run without
  # shows what compressing each small JSON answer costs.
  local a4_rps a4_ok
  c0=$(cpu_ticks "$AIPASTA_PID")
  through -z "${DURATION}s" -c "$CONNECTIONS" -H "Accept-Encoding: identity"; read -r _ _ a4_rps a4_ok _ <<<"$LAST"
  c1=$(cpu_ticks "$AIPASTA_PID")
  local ap_us_identity; ap_us_identity=$(( (c1 - c0) * 10000 / (a4_ok > 0 ? a4_ok : 1) ))

  echo "v1. /v1/chat/completions: one client, 1,000 req/s, $CONNECTIONS connections, ${DURATION} s each…"
  through_v1 -z "${DURATION}s" -c 1; read -r v1_p50 v1_p99 _ <<<"$LAST"
  through_v1 -z "${DURATION}s" -c 50 -q 1000 --latency-correction; read -r v2_p50 v2_p99 _ <<<"$LAST"
  local v3_ok
  c0=$(cpu_ticks "$AIPASTA_PID")
  through_v1 -z "${DURATION}s" -c "$CONNECTIONS"; read -r v3_p50 v3_p99 v3_rps v3_ok _ <<<"$LAST"
  c1=$(cpu_ticks "$AIPASTA_PID")
  local v1_us; v1_us=$(( (c1 - c0) * 10000 / (v3_ok > 0 ? v3_ok : 1) ))

  echo "0. the bare proxy (reference): one client, 1,000 req/s, $CONNECTIONS connections…"
  port_free "$BARE_PORT" || fail "port $BARE_PORT is taken (set BENCH_PORT)"
  taskset -c 1 "$BENCH_EXE" --bench proxy --bind "127.0.0.1:$BARE_PORT" \
    --upstream "http://127.0.0.1:$MOCK_PORT/api/v1/chat/completions" >"$WORK/bare.log" 2>&1 &
  local bare_pid=$!
  PIDS+=("$bare_pid")
  wait_up "$bare_pid" "http://127.0.0.1:$BARE_PORT/proxy" "the bare proxy" "$WORK/bare.log"
  bare -z 2s -c 8
  bare -z "${DURATION}s" -c 1; read -r b1_p50 b1_p99 _ <<<"$LAST"
  bare -z "${DURATION}s" -c 50 -q 1000 --latency-correction; read -r b2_p50 b2_p99 _ <<<"$LAST"
  local b3_ok c0b c1b
  c0b=$(cpu_ticks "$bare_pid")
  bare -z "${DURATION}s" -c "$CONNECTIONS"; read -r b3_p50 b3_p99 b3_rps b3_ok _ <<<"$LAST"
  c1b=$(cpu_ticks "$bare_pid")
  local bare_us; bare_us=$(( (c1b - c0b) * 10000 / (b3_ok > 0 ? b3_ok : 1) ))
  kill "$bare_pid" 2>/dev/null || true
  wait "$bare_pid" 2>/dev/null || true

  echo "4. time to first token…"
  timeout 300 taskset -c 0 "$BENCH_EXE" --bench ttft --aipasta "127.0.0.1:$AIPASTA_PORT" --mock "127.0.0.1:$MOCK_PORT" \
    --token "$TOKEN" --model "$MODEL" --samples "$TTFT_SAMPLES" --warmup 200 | tee "$WORK/ttft.out" \
    || fail "the time-to-first-token run failed"
  local ttft_line; ttft_line=$(grep '^RESULT ' "$WORK/ttft.out" | sed 's/^RESULT //')
  for kv in $ttft_line; do declare "${kv%%=*}=${kv#*=}"; done
  ANSWERED=$((ANSWERED + ttft_answered))

  echo "5. $STREAMS slow streams (a delta every ${SLOW_DELAY_MS} ms)…"
  stop_aipasta
  local slow_mock_pid
  start_mock "$SLOW_MOCK_PORT" --chunks "$SLOW_CHUNKS" --chunk-delay-ms "$SLOW_DELAY_MS"; slow_mock_pid=$MOCK_PID
  start_aipasta "$SLOW_MOCK_PORT"
  timeout 300 taskset -c 0 "$BENCH_EXE" --bench streams --aipasta "127.0.0.1:$AIPASTA_PORT" --token "$TOKEN" \
    --model "$MODEL" --pid "$AIPASTA_PID" --count "$STREAMS" --warmup 50 --timeout-s 90 | tee "$WORK/streams.out" \
    || fail "the open-streams run failed"
  for kv in $(grep '^RESULT ' "$WORK/streams.out" | sed 's/^RESULT //'); do declare "${kv%%=*}=${kv#*=}"; done
  ANSWERED=$((ANSWERED + streams_answered))

  echo "6. stopping AI Pasta (running streams end as interrupted; every write is flushed)…"
  stop_aipasta
  local rows statuses
  if [ "$backend" = sqlite ]; then
    command -v sqlite3 >/dev/null || fail "sqlite3 is needed to count the rows"
    rows=$(sqlite3 "$DATA_DIR/aipasta.db" "SELECT COUNT(*) FROM generations")
    statuses=$(sqlite3 -separator ' ' "$DATA_DIR/aipasta.db" "SELECT status, COUNT(*) FROM generations GROUP BY status" | paste -sd, -)
  else
    rows=$(psql -At -d "$PG_URL" -c "SELECT COUNT(*) FROM generations")
    statuses=$(psql -At -F ' ' -d "$PG_URL" -c "SELECT status, COUNT(*) FROM generations GROUP BY status" | paste -sd, -)
  fi
  kill "$mock_pid" "$slow_mock_pid" 2>/dev/null || true
  wait "$mock_pid" "$slow_mock_pid" 2>/dev/null || true

  local load_after; load_after=$(cut -d' ' -f1-3 /proc/loadavg)
  local added1 added2 v1_added1 v1_added2
  added1=$(python3 -c "print(f'{$a1_p50 - $m1_p50:.3f}')")
  added2=$(python3 -c "print(f'{$a2_p99 - $m2_p99:.3f}')")
  v1_added1=$(python3 -c "print(f'{$v1_p50 - $m1_p50:.3f}')")
  v1_added2=$(python3 -c "print(f'{$v2_p99 - $m2_p99:.3f}')")
  local bare_added1 bare_added2
  bare_added1=$(python3 -c "print(f'{$b1_p50 - $m1_p50:.3f}')")
  bare_added2=$(python3 -c "print(f'{$b2_p99 - $m2_p99:.3f}')")
  # What AI Pasta adds beyond the bare proxy of the same run: its own work, with the host's
  # share (loopback, cross-core wake-ups) taken out. Less host-dependent than the added
  # figures, though still a difference of two noisy measurements.
  local own1 own2 v1_own1 v1_own2
  own1=$(python3 -c "print(f'{$added1 - $bare_added1:+.3f}')")
  own2=$(python3 -c "print(f'{$added2 - $bare_added2:+.3f}')")
  v1_own1=$(python3 -c "print(f'{$v1_added1 - $bare_added1:+.3f}')")
  v1_own2=$(python3 -c "print(f'{$v1_added2 - $bare_added2:+.3f}')")
  local kb_per_stream; kb_per_stream=$(python3 -c "print(f'{$bytes_per_stream / 1024:.1f}')")

  cat <<EOF

Gateway ($backend$placement, $(date -u +%Y-%m-%d), load average $load_after after the run)

| figure | straight to the mock | through AI Pasta | added / result | goal | |
|---|---|---|---|---|---|
| one client, non-streaming: p50 / p99 | $m1_p50 / $m1_p99 ms | $a1_p50 / $a1_p99 ms | +$added1 ms at p50 ($own1 beyond the bare proxy) | < 0.2 ms | $(verdict "$added1 < 0.2") |
| 1,000 req/s fixed rate: p50 / p99 | $m2_p50 / $m2_p99 ms | $a2_p50 / $a2_p99 ms | +$added2 ms at p99 ($own2 beyond the bare proxy) | < 1 ms | $(verdict "$added2 < 1") |
| throughput, $CONNECTIONS connections (AI Pasta on one core) | $m3_rps req/s | $a3_rps req/s (p50 $a3_p50, p99 $a3_p99 ms) | AI Pasta ${ap_cpu}% of its core, ${ap_us} µs CPU per answer (the bare proxy ${bare_us}) | ≥ 10,000 req/s | $(verdict "$a3_rps >= 10000") |
| \`/v1/chat/completions\`, one client: p50 / p99 | $m1_p50 / $m1_p99 ms | $v1_p50 / $v1_p99 ms | +$v1_added1 ms at p50 ($v1_own1 beyond the bare proxy) | < 0.2 ms | $(verdict "$v1_added1 < 0.2") |
| \`/v1/chat/completions\` at 1,000 req/s: p50 / p99 | $m2_p50 / $m2_p99 ms | $v2_p50 / $v2_p99 ms | +$v1_added2 ms at p99 ($v1_own2 beyond the bare proxy) | < 1 ms | $(verdict "$v1_added2 < 1") |
| \`/v1/chat/completions\` throughput, $CONNECTIONS connections | $m3_rps req/s | $v3_rps req/s (p50 $v3_p50, p99 $v3_p99 ms) | ${v1_us} µs CPU per answer | ≥ 10,000 req/s | $(verdict "$v3_rps >= 10000") |
| streaming time to first token: p50 / p99 | $ttft_mock_p50_ms / $ttft_mock_p99_ms ms | $ttft_aipasta_p50_ms / $ttft_aipasta_p99_ms ms | +$ttft_added_p50_ms ms at p50 (+$ttft_added_p99_ms at p99) | < 1 ms | $(verdict "$ttft_added_p50_ms < 1") |
| memory per open stream ($streams_streaming of $STREAMS streaming) | | RSS $((rss_before_kb / 1024)) → $((rss_with_kb / 1024)) MB | $kb_per_stream KB per stream | < 64 KB | $(verdict "$bytes_per_stream < 65536 and $streams_streaming == $STREAMS") |
| generations recorded | | $ANSWERED answered | $rows rows ($statuses) | all | $(verdict "$rows == $ANSWERED") |
| reference: a bare axum + reqwest proxy, one client p50 / p99 | $m1_p50 / $m1_p99 ms | $b1_p50 / $b1_p99 ms | +$bare_added1 ms at p50 | (the floor) | |
| reference: the bare proxy at 1,000 req/s, p50 / p99 | $m2_p50 / $m2_p99 ms | $b2_p50 / $b2_p99 ms | +$bare_added2 ms at p99 | (the floor) | |
| reference: the bare proxy, $CONNECTIONS connections | $m3_rps req/s | $b3_rps req/s (p50 $b3_p50, p99 $b3_p99 ms) | ${bare_us} µs CPU per answer | (the ceiling) | |

Notes: one client, the mock alone answers $m1_rps req/s, through AI Pasta $a1_rps req/s. At
$CONNECTIONS connections the mock used ${mock_cpu_alone}% of core 0 (shared with oha) alone and
${mock_cpu}% behind AI Pasta. oha asks for compressed answers (gzip, br), as most clients do;
without (Accept-Encoding: identity) AI Pasta answers $a4_rps req/s at ${ap_us_identity} µs CPU
per answer.
EOF
  if [ "$backend" = postgres ]; then
    psql -q -d "$AIPASTA_BENCH_DATABASE_URL" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null || true
    PG_DB=""
  fi
}

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"
BACKENDS="${BENCH_BACKENDS:-sqlite${AIPASTA_BENCH_DATABASE_URL:+ postgres}}"
for backend in $BACKENDS; do
  case $backend in
    sqlite) ;;
    postgres) [ -n "${AIPASTA_BENCH_DATABASE_URL:-}" ] || fail "postgres needs AIPASTA_BENCH_DATABASE_URL" ;;
    *) fail "unknown backend $backend (sqlite or postgres)" ;;
  esac
  run_backend "$backend"
done
if [ -z "${AIPASTA_BENCH_DATABASE_URL:-}" ]; then
  echo
  echo "PostgreSQL: set AIPASTA_BENCH_DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) to measure it too."
fi
