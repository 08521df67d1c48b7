# Shared by up.sh and test.sh: make sure PostgreSQL and NATS (with
# JetStream) answer on their standard ports, installing and starting the
# Debian packages when they do not. Idempotent: running services are used
# as they are.

STATE_DIR="${STATE_DIR:-$(pwd)/deploy/local/.state}"
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local port=$1 what=$2
  for _ in $(seq 1 100); do
    port_open "$port" && return 0
    sleep 0.2
  done
  echo "$what did not start on port $port" >&2
  return 1
}

apt_install() {
  log "installing $*"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

random_secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# This machine's database secrets, made once and never committed: the
# PostgreSQL administrator's password (PD_PG_ADMIN_PASSWORD) and, once pd
# is built, one password per service role (ensure_service_passwords).
# A PD_PG_ADMIN_PASSWORD set by the caller (a PostgreSQL this script does
# not manage) wins over the file's.
ensure_db_secrets() {
  local given="${PD_PG_ADMIN_PASSWORD:-}"
  mkdir -p "$STATE_DIR"
  if [ ! -s "$STATE_DIR/db.env" ]; then
    (umask 077; echo "PD_PG_ADMIN_PASSWORD=${given:-$(random_secret)}" >"$STATE_DIR/db.env")
  fi
  set -a
  # shellcheck disable=SC1091
  source "$STATE_DIR/db.env"
  set +a
  [ -n "$given" ] && PD_PG_ADMIN_PASSWORD="$given"
  export PD_PG_ADMIN_PASSWORD PGPASSWORD="$PD_PG_ADMIN_PASSWORD"
}

# The services never see the administrator's password.
forget_admin_secrets() { unset PD_PG_ADMIN_PASSWORD PGPASSWORD; }

# PD__DATABASE__PASSWORDS__<SERVICE> for every service `pd services` names.
ensure_service_passwords() {
  local pd=$1 svc var
  for svc in $("$pd" services); do
    var="PD__DATABASE__PASSWORDS__$(echo "$svc" | tr '[:lower:]' '[:upper:]')"
    grep -q "^$var=" "$STATE_DIR/db.env" || echo "$var=$(random_secret)" >>"$STATE_DIR/db.env"
  done
  ensure_db_secrets
}

# The administrator URL: for `pd migrate` (roles, databases) and the tests.
pg_admin_url() { echo "postgres://postgres:${PD_PG_ADMIN_PASSWORD}@127.0.0.1:5432"; }

pg_login_works() {
  PGPASSWORD="$PD_PG_ADMIN_PASSWORD" PGCONNECT_TIMEOUT=3 psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1
}

set_postgres_password() {
  $SUDO runuser -u postgres -- psql -q -c "ALTER USER postgres PASSWORD '$PD_PG_ADMIN_PASSWORD'" >/dev/null
}

ensure_postgres() {
  ensure_db_secrets
  if port_open 5432; then
    log "PostgreSQL is running on 127.0.0.1:5432"
    if command -v psql >/dev/null 2>&1 && ! pg_login_works && id postgres >/dev/null 2>&1; then
      log "giving the postgres user this machine's administrator password ($STATE_DIR/db.env)"
      set_postgres_password || true
    fi
    return 0
  fi
  command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql
  local version
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  if [ -z "$version" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -1)
    $SUDO pg_createcluster "$version" main
  fi
  log "starting PostgreSQL $version"
  # No init system on these machines; exit code 2 means "already running".
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_port 5432 PostgreSQL
  # The package's default auth wants a password over TCP: give postgres one.
  set_postgres_password
}

ensure_nats() {
  if port_open 4222; then
    log "NATS is running on 127.0.0.1:4222"
    return 0
  fi
  command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || apt_install nats-server
  local bin
  bin=$(command -v nats-server || echo /usr/sbin/nats-server)
  mkdir -p "$STATE_DIR/nats"
  log "starting NATS with JetStream (data in $STATE_DIR/nats)"
  nohup "$bin" -a 127.0.0.1 -p 4222 -js -sd "$STATE_DIR/nats" >"$STATE_DIR/nats.log" 2>&1 &
  wait_port 4222 NATS
}

ensure_rust() {
  # Some crates (ring, used by the NATS client) compile C.
  command -v cc >/dev/null 2>&1 || apt_install gcc libc6-dev
  if command -v cargo >/dev/null 2>&1; then return 0; fi
  if [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
    return 0
  fi
  echo "cargo is not installed: install Rust 1.94 or newer (https://rustup.rs) and run this again" >&2
  exit 1
}

# openapi-spec-validator (PyPI) in a virtualenv of our own, for the test
# that checks the OpenAPI document. Prints the validator's path.
ensure_openapi_validator() {
  local venv="$STATE_DIR/venv"
  if [ -x "$venv/bin/openapi-spec-validator" ]; then
    echo "$venv/bin/openapi-spec-validator"
    return 0
  fi
  command -v python3 >/dev/null 2>&1 || apt_install python3
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    apt_install python3-venv
    python3 -m venv "$venv" >/dev/null
  fi
  log "installing openapi-spec-validator into $venv"
  "$venv/bin/pip" install -q "openapi-spec-validator>=0.7,<1" >&2
  echo "$venv/bin/openapi-spec-validator"
}

# Node.js and npm (Debian's packages when absent) for the portal.
# Vite needs Node.js 20.19 or newer (Debian 12's own package is 18).
ensure_node() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || apt_install nodejs npm
  if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
    echo "Node.js $(node --version) is too old for the portal's build: install Node.js 20.19+ (e.g. from nodesource.com) and run this again" >&2
    return 1
  fi
}

# Debian's Chromium for the portal's browser tests (Playwright cannot
# download browsers here).
ensure_chromium() {
  [ -x /usr/bin/chromium ] || apt_install chromium chromium-driver
}

# Builds the portal with the machine's Node.js: its dependencies as the
# lock file pins them, its API types from the gateway's OpenAPI document
# (`$1`: the pd binary), the type check, then the static files in
# portal/dist that the gateway serves at /.
build_portal() {
  local pd="$1"
  ensure_node
  (
    cd portal
    [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] \
      || npm ci --no-audit --no-fund --loglevel=error
    "$pd" openapi >openapi.json
    npm run -s api >/dev/null
    npm run -s typecheck
    npm run -s build >/dev/null
  )
}
