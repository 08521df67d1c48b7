#!/usr/bin/env bash
# Stops what up.sh started (PostgreSQL and NATS keep running).
set -euo pipefail
cd "$(dirname "$0")/../.."
pidfile=deploy/local/.state/pd.pid
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  kill "$(cat "$pidfile")"
  for _ in $(seq 1 100); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.1; done
  echo "stopped"
else
  echo "not running"
fi
rm -f "$pidfile"
