#!/usr/bin/env bash
# A throwaway Postgres cluster for one test run, never the system service.
#
#   tests/pg_cluster.sh start DIR [BIN]
#                                   initdb into DIR/data, start on a free port
#                                   of 127.0.0.1, create role pguser (CREATEDB,
#                                   so tests can make a database each) and
#                                   database periscope, write DIR/env; with BIN
#                                   (the periscope binary) also the database
#                                   periscope_template, migrated by `BIN migrate`
#                                   once, which tests clone (CREATE DATABASE …
#                                   TEMPLATE) instead of migrating each their own
#                                   (POSTGRES_TEMPLATE in DIR/env)
#   tests/pg_cluster.sh stop DIR    stop it (fast) and remove DIR
#
# For the fault tests (tests/e2e/test_faults.py), on a cluster of their own:
#   tests/pg_cluster.sh halt DIR MODE   pg_ctl stop -m MODE (fast|immediate), DIR kept
#   tests/pg_cluster.sh restart DIR     start it again on the same port and data
#   tests/pg_cluster.sh pause DIR       SIGSTOP the postmaster and every backend (a hang)
#   tests/pg_cluster.sh resume DIR      SIGCONT them
#
# Durability is off (fsync, synchronous_commit, full_page_writes; initdb
# does not sync either): the data lives only as long as the test run.
# PG_DURABLE=1 at start keeps them on. PG_DURABLE=commit keeps only
# synchronous_commit: a commit's WAL is written to the kernel before COMMIT
# returns, so it survives the Postgres processes dying (stop -m immediate),
# which is all a crash short of the machine's own can take; nothing is fsynced.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
bin=${3:-}
if [[ -z $cmd || -z $dir ]]; then
  echo "usage: $0 start DIR [BIN] | stop DIR" >&2
  exit 2
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [[ -z $bindir || ! -x $bindir/initdb ]]; then
  echo "pg_cluster: no initdb under /usr/lib/postgresql/*/bin" >&2
  exit 1
fi

# Postgres refuses to run as root: run its tools as the postgres user then.
as_pg() {
  if [[ $(id -u) == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# The postmaster and its children (backends, checkpointer, walwriter …).
cluster_pids() {
  local pm
  pm=$(head -n 1 "$dir/data/postmaster.pid")
  echo "$pm"
  pgrep -P "$pm" || true
}

stop_cluster() {
  if [[ -f $dir/data/postmaster.pid ]]; then
    kill -CONT $(cluster_pids) 2>/dev/null || true # a paused cluster cannot stop
    as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  fi
  if [[ -f $dir/sockdir ]]; then
    rm -rf -- "$(cat "$dir/sockdir")"
  fi
  rm -rf -- "$dir"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_cluster() {
  stop_cluster
  mkdir -p "$dir"
  # A Unix socket path must fit in 107 bytes; fall back to a short temp dir.
  local sock=$dir
  if ((${#dir} > 80)); then
    sock=$(mktemp -d /tmp/pgsock.XXXXXX)
    echo "$sock" >"$dir/sockdir"
  fi
  if [[ $(id -u) == 0 ]]; then
    chown postgres: "$dir" "$sock"
  fi

  local pwfile password
  password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  pwfile=$dir/pwfile
  echo "$password" >"$pwfile"
  [[ $(id -u) == 0 ]] && chown postgres: "$pwfile"
  local nosync=--no-sync
  [[ ${PG_DURABLE:-0} == 1 ]] && nosync=""
  as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth-local=trust $nosync \
    --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth-local=trust $nosync \
      --auth-host=scram-sha-256 -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
  }

  local port attempt started=0 durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  case ${PG_DURABLE:-0} in
    1) durability="-c fsync=on -c synchronous_commit=on" ;;
    commit) durability="-c fsync=off -c synchronous_commit=on -c full_page_writes=off" ;;
  esac
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    echo "-p $port -k $sock -c listen_addresses=127.0.0.1 $durability -c max_connections=200" >"$dir/pg_opts"
    if as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "$(cat "$dir/pg_opts")" start >/dev/null; then
      started=1
      break
    fi
    echo "pg_cluster: start on port $port failed (attempt $attempt)" >&2
  done
  if ((!started)); then
    cat "$dir/server.log" >&2 || true
    exit 1
  fi

  as_pg "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres -d postgres \
    -c "CREATE ROLE pguser LOGIN CREATEDB PASSWORD '$password'" \
    -c "CREATE DATABASE periscope OWNER pguser" >/dev/null
  rm -f "$pwfile"

  # The migrated template: built by the server's own `migrate`, so it is
  # exactly what store_open makes; no connection stays open on it (a clone
  # needs that).
  local template_line=""
  if [[ -n $bin ]]; then
    as_pg "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres -d postgres \
      -c "CREATE DATABASE periscope_template OWNER pguser" >/dev/null
    mkdir -p "$dir/template-data"
    if ! env -i PATH="$PATH" ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
      DATA_DIR="$dir/template-data" POSTGRES_ENABLED=true POSTGRES_HOST=127.0.0.1 \
      POSTGRES_PORT="$port" POSTGRES_USER=pguser POSTGRES_PASSWORD="$password" \
      POSTGRES_DATABASE=periscope_template LOG_FORMAT=text \
      "$bin" migrate >"$dir/template.log" 2>&1; then
      cat "$dir/template.log" >&2
      exit 1
    fi
    rm -rf -- "$dir/template-data"
    # Frozen and closed to connections, so no autovacuum worker ever sits
    # in it (a clone waits for every session to leave its template, and a
    # test's CREATE DATABASE runs under a statement timeout).
    as_pg "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres \
      -d periscope_template -c "VACUUM (FREEZE, ANALYZE)" >/dev/null
    as_pg "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres -d postgres \
      -c "ALTER DATABASE periscope_template WITH IS_TEMPLATE true ALLOW_CONNECTIONS false" >/dev/null
    template_line="POSTGRES_TEMPLATE=periscope_template"
  fi

  cat >"$dir/env.tmp" <<EOF
POSTGRES_HOST=127.0.0.1
POSTGRES_PORT=$port
POSTGRES_USER=pguser
POSTGRES_PASSWORD=$password
POSTGRES_DATABASE=periscope
$template_line
EOF
  chmod 0644 "$dir/env.tmp"
  mv "$dir/env.tmp" "$dir/env"
  echo "pg_cluster: started on 127.0.0.1:$port ($dir)"
}

case $cmd in
  start) start_cluster ;;
  stop) stop_cluster ;;
  halt) as_pg "$bindir/pg_ctl" -D "$dir/data" -m "${3:-fast}" -w -t 30 stop >/dev/null ;;
  restart)
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "$(cat "$dir/pg_opts")" start >/dev/null
    ;;
  pause) kill -STOP $(cluster_pids) ;;
  resume) kill -CONT $(cluster_pids) ;;
  *)
    echo "usage: $0 start|stop|halt|restart|pause|resume DIR" >&2
    exit 2
    ;;
esac
