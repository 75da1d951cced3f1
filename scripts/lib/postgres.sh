#!/usr/bin/env bash
# A throw-away PostgreSQL server (and optionally its streaming replica) on
# loopback, for scripts/test.sh and bench/run.sh. Source it; it defines
# functions only and starts nothing by itself.
#
# The caller sets, before calling pg_start_primary:
#   pg_dir       an empty folder for the data, socket and logs (created here)
#   scratch_dir  the private folder pg_dir lives in (opened to the `postgres`
#                user when running as root)
# and defines `on_exit CMD` (runs CMD when the caller exits: the servers are
# stopped through it). Optional:
#   pg_who             name in messages (default: the caller's file name)
#   pg_server_options  postgres options for the primary (default: the test
#                      settings, fsync off)
#   pg_on_fail         a function pg_fail calls before it exits
#
# pg_start_primary sets pg_bin, pg_major and pg_port; pg_start_replica sets
# replica_port. Every failure goes through pg_fail, which prints the logs
# that tell why and exits 1.

# shellcheck disable=SC2154  # pg_dir, scratch_dir: set by the caller
pg_who="${pg_who:-$(basename "$0")}"
pg_server_options="${pg_server_options:--c fsync=off -c full_page_writes=off -c max_connections=200}"
pg_bin=""
pg_major=0
pg_port=""
replica_port=""

# Prints what went wrong with PostgreSQL and the logs that tell why (initdb's
# only while the server never ran; the replica's once it was tried), and
# exits.
pg_fail() {
  local log_file logs=("$pg_dir/pg_ctl.log" "$pg_dir/server.log"
    "$pg_dir/basebackup.log" "$pg_dir/replica_ctl.log" "$pg_dir/replica.log")
  echo "$pg_who: FAILED: cannot start the throw-away PostgreSQL server: $*" >&2
  [[ -e "$pg_dir/server.log" ]] || logs=("$pg_dir/initdb.log" "${logs[@]}")
  for log_file in "${logs[@]}"; do
    if [[ -s "$log_file" ]]; then
      echo "---- $log_file ----" >&2
      cat "$log_file" >&2 || true
    fi
  done
  if declare -F pg_on_fail >/dev/null; then
    pg_on_fail
  fi
  exit 1
}

# Runs a PostgreSQL tool from "$pg_dir". initdb and postgres refuse to run as
# root, so as root (CI) they run as the `postgres` system user of Debian's
# postgresql package.
pg_run() {
  if ((EUID == 0)); then
    (cd "$pg_dir" && runuser -u postgres -- "$@")
  else
    (cd "$pg_dir" && "$@")
  fi
}

# Stops a server if it runs (registered with on_exit): immediate shutdown,
# and SIGKILL to the postmaster if even that does not end it. $1 is the data
# folder under "$pg_dir" (default data, the primary), $2 its name in messages.
# shellcheck disable=SC2317  # invoked through on_exit
pg_stop() {
  local data="$pg_dir/${1:-data}" what="${2:-PostgreSQL server}" pid
  local pid_file="$data/postmaster.pid"
  [[ -f "$pid_file" ]] || return 0
  pid="$(head -n 1 "$pid_file" 2>/dev/null || true)"
  if ! pg_run "$pg_bin/pg_ctl" -D "$data" -m immediate -w -t 30 stop \
    >>"$pg_dir/pg_ctl.log" 2>&1; then
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
      echo "$pg_who: pg_ctl stop failed; killing postmaster $pid" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  echo "$pg_who: $what stopped"
}

# Whether nothing accepts connections on 127.0.0.1:$1.
pg_port_is_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Runs psql against the server on port $1... (pass -p PORT first).
pg_psql() {
  pg_run "$pg_bin/psql" -X -q -A -t -h 127.0.0.1 -U cqrsd -d postgres "$@"
}

# Finds the newest server binaries, runs initdb into "$pg_dir/data" and starts
# the primary on a free loopback port (pg_port), retrying when the port is
# taken before the server binds it. Registers its stop with on_exit.
pg_start_primary() {
  local candidate major attempt probe log_lines
  for candidate in /usr/lib/postgresql/*/bin; do
    major="${candidate#/usr/lib/postgresql/}"
    major="${major%/bin}"
    [[ "$major" =~ ^[0-9]+$ ]] || continue
    [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" && -x "$candidate/postgres" ]] || continue
    if ((major > pg_major)); then
      pg_major=$major
      pg_bin=$candidate
    fi
  done
  [[ -n "$pg_bin" ]] \
    || pg_fail "no server binaries (initdb, pg_ctl, postgres) in /usr/lib/postgresql/<major>/bin; install Debian's postgresql package (scripts/deps.sh does)"

  mkdir -p "$pg_dir"
  if ((EUID == 0)); then
    id -u postgres >/dev/null 2>&1 \
      || pg_fail "running as root and there is no 'postgres' system user to run the server as (Debian's postgresql package creates it)"
    # mktemp -d made the scratch folder private; the server user must reach pg/.
    chmod 755 "$scratch_dir"
    chown postgres: "$pg_dir"
    pg_run test -w "$pg_dir" \
      || pg_fail "user postgres cannot write to $pg_dir (is a parent folder of TMPDIR=${TMPDIR:-/tmp} closed to other users?)"
  fi

  pg_run "$pg_bin/initdb" -D "$pg_dir/data" --auth=trust -U cqrsd -E UTF8 \
    --locale=C --no-sync >"$pg_dir/initdb.log" 2>&1 \
    || pg_fail "initdb failed ($pg_bin/initdb)"
  on_exit pg_stop

  # A port that refuses connections now may be taken before the server binds
  # it, so a failed start is retried on another port.
  for ((attempt = 1; attempt <= 5; attempt++)); do
    pg_port=""
    for ((probe = 0; probe < 100; probe++)); do
      candidate=$((20000 + RANDOM % 20001))
      if pg_port_is_free "$candidate"; then
        pg_port=$candidate
        break
      fi
    done
    [[ -n "$pg_port" ]] || pg_fail "found no free loopback port in 20000..40000"
    log_lines=0
    if [[ -f "$pg_dir/server.log" ]]; then
      log_lines="$(wc -l <"$pg_dir/server.log")"
    fi
    if pg_run "$pg_bin/pg_ctl" -D "$pg_dir/data" -w -t 60 -l "$pg_dir/server.log" \
      -o "-h 127.0.0.1 -p $pg_port -k '$pg_dir' $pg_server_options" \
      start >>"$pg_dir/pg_ctl.log" 2>&1; then
      break
    fi
    if ((attempt == 5)) \
      || ! tail -n "+$((log_lines + 1))" "$pg_dir/server.log" 2>/dev/null | grep -q 'could not bind'; then
      pg_fail "pg_ctl start failed (port $pg_port)"
    fi
    echo "$pg_who: port $pg_port was taken meanwhile; trying another" >&2
    pg_stop >/dev/null 2>&1 || true
  done
  if pg_port_is_free "$pg_port"; then
    pg_fail "pg_ctl reported a running server, but nothing accepts connections on 127.0.0.1:$pg_port"
  fi
}

# Starts a streaming hot standby of the running primary in "$pg_dir/replica"
# on its own free loopback port (replica_port) and checks that it streams.
# Registers its stop with on_exit.
#
# initdb --auth=trust lets `replication` connect from 127.0.0.1, and
# PostgreSQL's defaults (wal_level=replica, max_wal_senders=10) allow
# streaming; both are checked so that a failure names its cause.
pg_start_replica() {
  local setting attempt probe candidate log_lines replica_state
  setting="$(pg_psql -p "$pg_port" -c 'SHOW max_wal_senders' 2>>"$pg_dir/pg_ctl.log")" \
    || pg_fail "cannot ask the primary on port $pg_port for max_wal_senders"
  ((setting > 0)) || pg_fail "the primary has max_wal_senders=$setting; streaming needs > 0"
  setting="$(pg_psql -p "$pg_port" -c 'SHOW wal_level' 2>>"$pg_dir/pg_ctl.log")" \
    || pg_fail "cannot ask the primary on port $pg_port for wal_level"
  [[ "$setting" == replica || "$setting" == logical ]] \
    || pg_fail "the primary has wal_level=$setting; streaming needs replica"
  grep -Eq '^[[:space:]]*host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' \
    "$pg_dir/data/pg_hba.conf" \
    || pg_fail "$pg_dir/data/pg_hba.conf does not let 'replication' connect from 127.0.0.1 with trust"

  # --checkpoint=fast: the default spread checkpoint would add seconds.
  pg_run "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$pg_port" -U cqrsd \
    -D "$pg_dir/replica" -R -X stream --checkpoint=fast --no-sync \
    >"$pg_dir/basebackup.log" 2>&1 \
    || pg_fail "pg_basebackup from the primary on port $pg_port failed"
  on_exit "pg_stop replica 'PostgreSQL replica'"

  for ((attempt = 1; attempt <= 5; attempt++)); do
    replica_port=""
    for ((probe = 0; probe < 100; probe++)); do
      candidate=$((20000 + RANDOM % 20001))
      if ((candidate != pg_port)) && pg_port_is_free "$candidate"; then
        replica_port=$candidate
        break
      fi
    done
    [[ -n "$replica_port" ]] || pg_fail "found no free loopback port in 20000..40000 for the replica"
    log_lines=0
    if [[ -f "$pg_dir/replica.log" ]]; then
      log_lines="$(wc -l <"$pg_dir/replica.log")"
    fi
    # A hot standby needs max_connections >= the primary's.
    if pg_run "$pg_bin/pg_ctl" -D "$pg_dir/replica" -w -t 60 -l "$pg_dir/replica.log" \
      -o "-h 127.0.0.1 -p $replica_port -k '$pg_dir' -c fsync=off -c full_page_writes=off -c max_connections=200" \
      start >>"$pg_dir/replica_ctl.log" 2>&1; then
      break
    fi
    if ((attempt == 5)) \
      || ! tail -n "+$((log_lines + 1))" "$pg_dir/replica.log" 2>/dev/null | grep -q 'could not bind'; then
      pg_fail "pg_ctl start of the replica failed (port $replica_port)"
    fi
    echo "$pg_who: port $replica_port was taken meanwhile; trying another for the replica" >&2
    pg_stop replica 'PostgreSQL replica' >/dev/null 2>&1 || true
  done

  # pg_ctl -w returns once the standby accepts connections; check that it is
  # one, and that it streams from the primary (bounded: 10 s).
  replica_state=""
  for ((probe = 0; probe < 100; probe++)); do
    replica_state="$(pg_psql -p "$replica_port" \
      -c "SELECT pg_is_in_recovery()::text || ' ' || (SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming')" \
      2>>"$pg_dir/replica_ctl.log" || true)"
    [[ "$replica_state" == "true 1" ]] && break
    sleep 0.1
  done
  [[ "$replica_state" == "true 1" ]] \
    || pg_fail "the replica on port $replica_port is not a streaming standby after 10 s (pg_is_in_recovery, streaming receivers: '$replica_state')"
}
