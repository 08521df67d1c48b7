#!/usr/bin/env bash
# Writes deploy/compose/.env once: the PostgreSQL administrator's password,
# one password per service role, and the token signing key pair (made by
# the image's own `pd admin gen-keys`). Never committed; keep a copy where
# the region keeps its secrets. Run again: it keeps what exists.
set -euo pipefail
cd "$(dirname "$0")"
[ -s .env ] && { echo ".env exists; nothing changed"; exit 0; }
secret() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
# The image, built here because compose.yaml cannot be read before .env.
docker build -q -f ../Dockerfile -t pd-platform:latest ../.. >/dev/null
keys="$(docker run --rm pd-platform:latest admin gen-keys)"
(
  umask 077
  {
    echo "PD_PG_ADMIN_PASSWORD=$(secret)"
    for s in IDENTITY REGISTRY SURVEYS ALLOCATION ENROLLMENT MONITORING; do
      echo "PD_PASSWORD_$s=$(secret)"
    done
    echo "$keys" | sed -n 's/^PD__AUTH__SIGNING_KEY=/PD_SIGNING_KEY=/p; s/^PD__AUTH__VERIFYING_KEY=/PD_VERIFYING_KEY=/p'
  } >.env
)
echo "wrote $(pwd)/.env"
