#!/usr/bin/env bash
# Runs the whole test suite against real PostgreSQL and NATS (started the
# same way as up.sh when absent). Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/local/lib.sh
mkdir -p "$STATE_DIR"

ensure_rust
ensure_postgres
ensure_nats
# The OpenAPI document is checked by a real validator (tests/api/docs.rs).
PD_OPENAPI_VALIDATOR=$(ensure_openapi_validator)
export PD_OPENAPI_VALIDATOR

# Databases left by interrupted earlier runs.
# Tests sign in as the administrator (ensure_postgres exported PGPASSWORD).
PD_TEST_DATABASE_URL="${PD_TEST_DATABASE_URL:-$(pg_admin_url)}"
export PD_TEST_DATABASE_URL
leftovers=$(psql -h 127.0.0.1 -U postgres -d postgres -Atc \
  "SELECT datname FROM pg_database WHERE datname LIKE 'pd\_t\_%'" 2>/dev/null || true)
for db in $leftovers; do
  psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
done
for role in $(psql -h 127.0.0.1 -U postgres -d postgres -Atc \
  "SELECT rolname FROM pg_roles WHERE rolname LIKE 'pd\_t\_%'" 2>/dev/null || true); do
  psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP ROLE IF EXISTS \"$role\"" >/dev/null 2>&1 || true
done

log "running the test suite"
out="$STATE_DIR/test-output.log"
set +e
# `--tests`: every target with tests (not --all-targets, which would build
# the test-less ones Cargo.toml marks `test = false`; no doctests).
cargo test --workspace --tests "$@" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e

# The portal: its type check against the API as it is now, its unit
# tests, its build, then the browser tests (Playwright driving Debian's
# Chromium) against a throw-away platform with the demo region. Only with
# the whole suite (no arguments to pass to `cargo test`).
portal_suite() {
  cargo build -q -p pd
  build_portal "$(pwd)/target/debug/pd"
  (cd portal && npx vitest run)
  ./deploy/local/portal-e2e.sh "$(pwd)/target/debug/pd"
}
if [ "$status" -eq 0 ] && [ $# -eq 0 ]; then
  log "the portal: type check, unit tests, build, browser tests"
  set +e
  (set -e; portal_suite) 2>&1 | tee "$STATE_DIR/portal-output.log"
  portal_status=${PIPESTATUS[0]}
  set -e
  [ "$portal_status" -eq 0 ] || status=1
fi
# One closing line for the whole suite: the sum over every test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$out"
exit "$status"
