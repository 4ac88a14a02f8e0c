#!/usr/bin/env bash
# The whole test suite: domain and app tests on SQLite, then the storage and API suite again on
# PostgreSQL on 127.0.0.1:5432 (started, or installed, by scripts/ensure-postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

PG_SERVER=${PG_SERVER:-postgres://postgres@127.0.0.1:5432/postgres}
scripts/ensure-postgres.sh

echo "== tests on SQLite"
cargo test --workspace --locked

echo "== the storage and API suite on PostgreSQL"
# Databases left by earlier runs of the suite.
psql "$PG_SERVER" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'vt_test_%'" |
  while read -r name; do psql "$PG_SERVER" -qc "DROP DATABASE IF EXISTS $name" >/dev/null; done
TEST_DATABASE_URL="$PG_SERVER" cargo test --locked --test it
