#!/usr/bin/env bash
# Private PostgreSQL and NATS servers for the crash-safety tests: they are
# stopped and restarted under load, so they must never be the machine's
# own servers that every other test uses.
#
#   test-servers.sh start|stop  pg|nats  DIR PORT
#
# `start` creates the server's files under DIR on first use and starts it
# on 127.0.0.1:PORT (trust authentication, JetStream stored under DIR);
# both commands are idempotent. PostgreSQL runs as the `postgres` user.
set -euo pipefail
action=${1:?start|stop} kind=${2:?pg|nats} dir=${3:?directory} port=${4:?port}
mkdir -p "$dir"

pg_bin() {
  local v
  v=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1)
  [ -n "$v" ] || { echo "PostgreSQL binaries not found (Debian package postgresql)" >&2; exit 1; }
  echo "/usr/lib/postgresql/$v/bin"
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$kind:$action" in
  pg:start)
    bin=$(pg_bin)
    data="$dir/pgdata"
    if [ ! -f "$data/PG_VERSION" ]; then
      mkdir -p "$data"
      [ "$(id -u)" = 0 ] && chown -R postgres: "$dir"
      as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >/dev/null
    fi
    if ! as_postgres "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      as_postgres "$bin/pg_ctl" -D "$data" -w -t 30 -l "$dir/pg.log" \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" start >/dev/null
    fi
    ;;
  pg:stop)
    bin=$(pg_bin)
    if [ -f "$dir/pgdata/PG_VERSION" ]; then
      # Immediate: what a crash of the server looks like to its clients.
      as_postgres "$bin/pg_ctl" -D "$dir/pgdata" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    ;;
  nats:start)
    if ! { [ -f "$dir/nats.pid" ] && kill -0 "$(cat "$dir/nats.pid")" 2>/dev/null; }; then
      nats-server -a 127.0.0.1 -p "$port" -js -sd "$dir/jetstream" -P "$dir/nats.pid" \
        >>"$dir/nats.log" 2>&1 &
      for _ in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.05
      done
    fi
    ;;
  nats:stop)
    if [ -f "$dir/nats.pid" ]; then
      pid=$(cat "$dir/nats.pid")
      kill -9 "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
      rm -f "$dir/nats.pid"
    fi
    ;;
  *) echo "usage: $0 start|stop pg|nats DIR PORT" >&2; exit 2 ;;
esac
