#!/usr/bin/env bash
# Brings the whole platform up on this machine: PostgreSQL and NATS
# (installed and started if absent), build, migrations, the demo region
# (once), then `pd serve all` in the background. Prints where to go.
#   ./deploy/local/up.sh              start (or restart) in the background
#   ./deploy/local/up.sh --foreground  run in this terminal (Ctrl-C stops)
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/local/lib.sh
mkdir -p "$STATE_DIR"

ensure_rust
ensure_postgres
ensure_nats

log "building pd (release; the first build takes a few minutes)"
cargo build --release -q -p pd
PD="$(pwd)/target/release/pd"

log "building the portal (portal, with Node.js)"
build_portal "$PD"

# Signing keys are made once per machine and never committed.
if [ ! -s "$STATE_DIR/keys.env" ]; then
  log "generating token signing keys in $STATE_DIR/keys.env"
  (umask 077; "$PD" admin gen-keys >"$STATE_DIR/keys.env")
fi
set -a
# shellcheck disable=SC1091
source "$STATE_DIR/keys.env"
set +a
export PD__LOG__FORMAT="${PD__LOG__FORMAT:-json}"

if [ -f "$STATE_DIR/pd.pid" ] && kill -0 "$(cat "$STATE_DIR/pd.pid")" 2>/dev/null; then
  log "stopping the running instance"
  kill "$(cat "$STATE_DIR/pd.pid")"
  for _ in $(seq 1 100); do kill -0 "$(cat "$STATE_DIR/pd.pid")" 2>/dev/null || break; sleep 0.1; done
fi

# Each service signs in as its own role with its own password (db.env);
# only `pd migrate` gets the administrator URL, to create them.
ensure_service_passwords "$PD"

log "migrating (a role and a database per service)"
PD__DATABASE__ADMIN_URL="$(pg_admin_url)" PD__ADMIN__BASE_PORT=0 "$PD" migrate >/dev/null 2>"$STATE_DIR/migrate.log" \
  || { tail -20 "$STATE_DIR/migrate.log"; exit 1; }

forget_admin_secrets

log "seeding the demo region (once)"
PD__ADMIN__BASE_PORT=0 "$PD" demo seed --logins-file "$STATE_DIR/demo-logins.txt" >"$STATE_DIR/seed.out" 2>"$STATE_DIR/seed.log" \
  || { tail -20 "$STATE_DIR/seed.log"; exit 1; }

if [ "${1:-}" = "--foreground" ]; then
  cat "$STATE_DIR/seed.out"
  exec "$PD" serve all
fi

log "starting pd serve all (log: $STATE_DIR/pd.log)"
nohup "$PD" serve all >"$STATE_DIR/pd.log" 2>&1 &
echo $! >"$STATE_DIR/pd.pid"
LISTEN="${PD__GATEWAY__LISTEN:-127.0.0.1:8080}"
wait_port "${LISTEN##*:}" "the gateway" || { tail -20 "$STATE_DIR/pd.log"; exit 1; }

cat <<MSG

PD Platform is up.
  Portal:   http://$LISTEN/
  API:      http://$LISTEN/api/v1
  Docs:     http://$LISTEN/api/v1/docs   (OpenAPI: http://$LISTEN/api/v1/openapi.json)
  Health:   http://127.0.0.1:9100/readyz (gateway), :9101 (identity), :9102 (surveys), :9103 (registry), :9104 (allocation), :9105 (enrollment), :9106 (monitoring); /metrics on each
  Log:      $STATE_DIR/pd.log
  Stop:     ./deploy/local/down.sh

MSG
cat "$STATE_DIR/seed.out"
cat <<MSG

Try:
  curl -s http://$LISTEN/api/v1/auth/login -H 'content-type: application/json' \\
       -d '{"login":"admin","password":"<password above>"}'
MSG
