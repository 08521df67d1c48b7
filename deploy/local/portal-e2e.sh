#!/usr/bin/env bash
# The portal's browser tests: `pd demo sandbox` brings up a platform of
# its own (every service and the gateway serving the built portal, fresh
# databases and subjects, the demo region seeded), Playwright drives
# Debian's Chromium against it, and the sandbox is dropped afterwards.
# Screenshots of each screen land in portal/screenshots/.
#   portal-e2e.sh PD_BINARY
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/local/lib.sh
pd=${1:?the pd binary}
ensure_postgres
ensure_nats
ensure_chromium
# The sandbox makes its databases as the tests do.
PD_TEST_DATABASE_URL="${PD_TEST_DATABASE_URL:-$(pg_admin_url)}"
export PD_TEST_DATABASE_URL
[ -f portal/dist/index.html ] || build_portal "$pd"
info=$(mktemp)
log=$(mktemp)
"$pd" demo sandbox --info-file "$info" >"$log" 2>&1 &
sandbox=$!
trap 'kill "$sandbox" 2>/dev/null; wait "$sandbox" 2>/dev/null; rm -f "$info" "$info.logins" "$log"' EXIT
for _ in $(seq 1 600); do
  [ -s "$info" ] && break
  kill -0 "$sandbox" 2>/dev/null || { tail -30 "$log" >&2; exit 1; }
  sleep 0.2
done
[ -s "$info" ] || { echo "the sandbox did not start" >&2; tail -30 "$log" >&2; exit 1; }
set -a
# shellcheck disable=SC1090
source "$info"
set +a
cd portal
# On a failure the platform's side of it is shown too.
npx playwright test --reporter=line || { echo "--- the sandbox's log:" >&2; tail -60 "$log" >&2; exit 1; }
