#!/usr/bin/env bash
# Prints the dashboard's figures (crates/aipasta/benches/dashboard.rs) for both databases: one
# account with 1,000,000 generations among 10,000,000; history pages (first, 10,000 rows deep),
# searches, a year's stats, a 100,000-row export and GET /dashboard, each beside its goal.
# Seeding takes a while (about 15 minutes on SQLite and 35 on PostgreSQL on 2 cores); set
# AIPASTA_BENCH_KEEP to a directory to keep the seeded databases for later runs, and
# AIPASTA_BENCH_GENERATIONS / AIPASTA_BENCH_ACCOUNT_GENERATIONS for a smaller scale.
# SQLite always; PostgreSQL too when a server answers on 127.0.0.1:5432 (or at
# AIPASTA_BENCH_DATABASE_URL, which must name a server database such as .../postgres: a
# throw-away database is created there and dropped afterwards, unless kept).
# Usage: scripts/bench-dashboard.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${AIPASTA_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

# Build once, so the first run's timing is not mixed with compiling.
cargo bench -p aipasta --bench dashboard --no-run

echo "== SQLite"
env -u AIPASTA_BENCH_DATABASE_URL cargo bench -q -p aipasta --bench dashboard

if pg_isready -q -d "$PG_URL" 2>/dev/null; then
  echo
  echo "== PostgreSQL"
  AIPASTA_BENCH_DATABASE_URL="$PG_URL" cargo bench -q -p aipasta --bench dashboard
else
  echo
  # The URL may hold a password, so it is not printed.
  echo "PostgreSQL is not reachable (127.0.0.1:5432 or AIPASTA_BENCH_DATABASE_URL); skipped."
fi
