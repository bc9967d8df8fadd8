#!/usr/bin/env bash
# Prints the catalog's figures (crates/aipasta/benches/catalog.rs) for both databases: 50,000
# generated models; search and listing latency at p50/p95/p99 (the store call, server side);
# the weight of /models with its CSS and JavaScript; each beside its goal.
# SQLite always; PostgreSQL too when a server answers on 127.0.0.1:5432 (or at
# AIPASTA_BENCH_DATABASE_URL, which must name a server database such as .../postgres: a
# throw-away database is created there and dropped afterwards).
# Usage: scripts/bench-catalog.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${AIPASTA_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

# Build once, so the first run's timing is not mixed with compiling.
cargo bench -p aipasta --bench catalog --no-run

echo "== SQLite"
env -u AIPASTA_BENCH_DATABASE_URL cargo bench -q -p aipasta --bench catalog

if pg_isready -q -d "$PG_URL" 2>/dev/null; then
  echo
  echo "== PostgreSQL"
  AIPASTA_BENCH_DATABASE_URL="$PG_URL" cargo bench -q -p aipasta --bench catalog
else
  echo
  # The URL may hold a password, so it is not printed.
  echo "PostgreSQL is not reachable (127.0.0.1:5432 or AIPASTA_BENCH_DATABASE_URL); skipped."
fi
