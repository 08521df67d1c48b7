#!/usr/bin/env bash
# Resident memory per service after a 50,000-row educator import, each
# service in its own process (BENCHMARKS.md, "Memory per service").
# Needs the platform set up once by up.sh (demo region, secrets); stops
# the up.sh instance (start it again with up.sh).
#   ./deploy/local/rss-per-service.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/local/lib.sh
ROWS="${1:-50000}"
PD="$(pwd)/target/release/pd"
[ -x "$PD" ] && [ -s "$STATE_DIR/db.env" ] || { echo "run ./deploy/local/up.sh first" >&2; exit 1; }
ensure_db_secrets
set -a; source "$STATE_DIR/keys.env"; set +a
export PD__LOG__FORMAT=json
./deploy/local/down.sh >/dev/null

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
# PD_PROFILE_IDENTITY="valgrind --tool=massif --massif-out-file=F" runs
# identity under a heap profiler (ms_print F shows where the heap goes).
for svc in identity registry gateway; do
  wrapper=""
  [ "$svc" = identity ] && wrapper="${PD_PROFILE_IDENTITY:-}"
  $wrapper "$PD" serve "$svc" >"$STATE_DIR/rss-$svc.log" 2>&1 &
  pids+=($!)
done
wait_port 8080 "the gateway"
wait_port 9101 "identity" || true
for _ in $(seq 1 300); do curl -sf http://127.0.0.1:9101/readyz >/dev/null && break; sleep 0.5; done
rss() { curl -s "http://127.0.0.1:$1/metrics" | awk '/^pd_process_resident_memory_bytes/ {printf "%.0f", $2/1048576}'; }
sleep 2
echo "at start (MB):        gateway $(rss 9100)  identity $(rss 9101)  registry $(rss 9103)"

API=http://127.0.0.1:8080/api/v1
PW=$(awk '$1=="admin"{print $2}' "$STATE_DIR/demo-logins.txt")
TOKEN=$(curl -s $API/auth/login -H 'content-type: application/json' \
  -d "{\"login\":\"admin\",\"password\":\"$PW\"}" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
INNS=$(curl -s "$API/organizations?limit=100" -H "authorization: Bearer $TOKEN" \
  | python3 -c 'import json,sys; print(" ".join(o["inn"] for o in json.load(sys.stdin)["items"] if o["kind"] != "provider"))')
CSV="$STATE_DIR/rss-import.csv"
# Valid SNILS (checksum) from a range the demo does not use, spread over the demo's organizations.
python3 - "$ROWS" "$CSV" $INNS <<'PY'
import sys, time
rows, path, inns = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
# Another range on every run: a second run imports new educators.
base = 300_000_000 + (int(time.time()) % 1000) * 350_000
def snils(body):
    d = f"{body:09d}"
    s = sum(int(c) * (9 - i) for i, c in enumerate(d))
    c = s % 101
    c = 0 if c == 100 else c
    return f"{d[:3]}-{d[3:6]}-{d[6:]} {c:02d}"
with open(path, "w", encoding="utf-8") as f:
    f.write("snils;last_name;first_name;middle_name;position;subjects;organization_inn;last_pd_completed_on\n")
    for i in range(rows):
        f.write(f"{snils(base + i * 7)};Фамилия{i};Имя;Отчество;учитель;Математика;{inns[i % len(inns)]};2021-05-1{i % 10}\n")
PY
start=$(date +%s.%N)
LOCATION=$(curl -s -D - -o /dev/null "$API/educators/imports" -H "authorization: Bearer $TOKEN" \
  -H 'content-type: text/csv' --data-binary @"$CSV" | awk -F': ' 'tolower($1)=="location" {print $2}' | tr -d '\r')
status=""
for _ in $(seq 1 3600); do
  status=$(curl -s "http://127.0.0.1:8080$LOCATION" -H "authorization: Bearer $TOKEN" \
    | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["status"], j.get("imported_rows", 0))')
  case "$status" in completed*|rejected*|failed*) break ;; esac
  sleep 0.5
done
echo "import: $status in $(python3 -c "import time; print(round(time.time() - $start, 1))") s"
echo "after import (MB):    gateway $(rss 9100)  identity $(rss 9101)  registry $(rss 9103)"
sleep 30
echo "at rest, 30 s (MB):   gateway $(rss 9100)  identity $(rss 9101)  registry $(rss 9103)"
cleanup
trap - EXIT
echo "stopped; ./deploy/local/up.sh starts the platform again"
