#!/usr/bin/env bash
# Installs what is missing, builds everything (tests included) and runs the
# whole test suite with ctest. Extra arguments go to ctest, e.g.
# `scripts/test.sh -R store`. A full run (no arguments, as in CI) then runs
# scripts/fuzz.sh: each fuzz target for CQRSD_FUZZ_SECONDS (default 60)
# seconds. CQRSD_SANITIZERS=1 also runs scripts/sanitize.sh (the unit and
# end-to-end suites under ASan and UBSan, in build-asan/) and runs both jobs
# even with arguments; CQRSD_SKIP_SANITIZERS=1 skips both. Exits non-zero if
# anything failed; the last line is a summary "tests: N passed, N failed"
# over the ctest entries, the fuzz targets and the sanitizer run's entries.
# Works from any directory.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

# -- cleanup on exit ----------------------------------------------------------

# Commands run by `cleanup` on exit, newest first. Register with `on_exit`.
cleanup_steps=()

# Registers a command (one string, evaluated at exit) to run when this script
# ends, however it ends. Later registrations run first.
on_exit() {
  cleanup_steps+=("$1")
}

# Runs every registered step once; a failing step does not stop the others.
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local status=$? i
  trap - EXIT
  for ((i = ${#cleanup_steps[@]} - 1; i >= 0; i--)); do
    eval "${cleanup_steps[i]}" || echo "test.sh: cleanup step failed: ${cleanup_steps[i]}" >&2
  done
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Scratch space for this run: the ctest log and the PostgreSQL server.
scratch_dir="$(mktemp -d "${TMPDIR:-/tmp}/cqrsd-test.XXXXXX")"
on_exit "rm -rf '$scratch_dir'"

# -- dependencies and build ---------------------------------------------------

bash scripts/deps.sh
bash scripts/build.sh

# -- throw-away PostgreSQL server --------------------------------------------
#
# Every run gets its own server: initdb into "$scratch_dir/pg/data", socket in
# "$scratch_dir/pg", TCP on a free loopback port. The suites reach it through
# CQRSD_TEST_POSTGRESQL (see tests/fixtures/temp_db.hpp); ctest entries named
# <suite>_postgresql run against it. If it cannot be started, this script fails:
# the PostgreSQL suites are never skipped.

pg_dir="$scratch_dir/pg"
pg_bin=""
pg_major=0
pg_port=""

# Prints what went wrong with PostgreSQL and the logs that tell why (initdb's
# only while the server never ran; the replica's once it was tried), and
# exits.
pg_fail() {
  local log_file logs=("$pg_dir/pg_ctl.log" "$pg_dir/server.log"
    "$pg_dir/basebackup.log" "$pg_dir/replica_ctl.log" "$pg_dir/replica.log")
  echo "test.sh: FAILED: cannot start the throw-away PostgreSQL server: $*" >&2
  [[ -e "$pg_dir/server.log" ]] || logs=("$pg_dir/initdb.log" "${logs[@]}")
  for log_file in "${logs[@]}"; do
    if [[ -s "$log_file" ]]; then
      echo "---- $log_file ----" >&2
      cat "$log_file" >&2 || true
    fi
  done
  echo "tests: 0 passed, 0 failed"
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
      echo "test.sh: pg_ctl stop failed; killing postmaster $pid" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  echo "test.sh: $what stopped"
}

# Whether nothing accepts connections on 127.0.0.1:$1.
pg_port_is_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

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
    -o "-h 127.0.0.1 -p $pg_port -k '$pg_dir' -c fsync=off -c full_page_writes=off -c max_connections=200" \
    start >>"$pg_dir/pg_ctl.log" 2>&1; then
    break
  fi
  if ((attempt == 5)) \
    || ! tail -n "+$((log_lines + 1))" "$pg_dir/server.log" 2>/dev/null | grep -q 'could not bind'; then
    pg_fail "pg_ctl start failed (port $pg_port)"
  fi
  echo "test.sh: port $pg_port was taken meanwhile; trying another" >&2
  pg_stop >/dev/null 2>&1 || true
done
if pg_port_is_free "$pg_port"; then
  pg_fail "pg_ctl reported a running server, but nothing accepts connections on 127.0.0.1:$pg_port"
fi

export CQRSD_TEST_POSTGRESQL="host=127.0.0.1 port=$pg_port user=cqrsd dbname=postgres"
echo "test.sh: PostgreSQL $pg_major running on 127.0.0.1:$pg_port (socket and data in $pg_dir, log $pg_dir/server.log)"
echo "test.sh: CQRSD_TEST_POSTGRESQL=\"$CQRSD_TEST_POSTGRESQL\""

# -- its streaming replica ----------------------------------------------------
#
# The `replica` suite lags a real hot standby (pg_wal_replay_pause) behind the
# primary. initdb --auth=trust lets `replication` connect from 127.0.0.1, and
# PostgreSQL's defaults (wal_level=replica, max_wal_senders=10) allow
# streaming; both are checked so that a failure names its cause. The standby
# gets the data folder "$pg_dir/replica", the same socket folder and its own
# loopback port; the suites reach it through CQRSD_TEST_POSTGRESQL_REPLICA.
# Databases the fixtures create on the primary replicate to it.

pg_psql() {
  pg_run "$pg_bin/psql" -X -q -A -t -h 127.0.0.1 -U cqrsd -d postgres "$@"
}

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

replica_port=""
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
  echo "test.sh: port $replica_port was taken meanwhile; trying another for the replica" >&2
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

export CQRSD_TEST_POSTGRESQL_REPLICA="host=127.0.0.1 port=$replica_port user=cqrsd dbname=postgres"
echo "test.sh: PostgreSQL replica streaming on 127.0.0.1:$replica_port (data in $pg_dir/replica, log $pg_dir/replica.log)"
echo "test.sh: CQRSD_TEST_POSTGRESQL_REPLICA=\"$CQRSD_TEST_POSTGRESQL_REPLICA\""

# -- tests --------------------------------------------------------------------

log="$scratch_dir/ctest.log"
set +e
ctest --test-dir build --output-on-failure "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# ctest closes with e.g. "100% tests passed, 0 tests failed out of 12".
summary="$(grep -Eo '[0-9]+ tests failed out of [0-9]+' "$log" | tail -n 1 || true)"
if [[ -z "$summary" ]]; then
  if grep -q 'No tests were found' "$log"; then
    echo "test.sh: FAILED: ctest found no tests (is build/ configured with CQRSD_BUILD_TESTS=ON?)" >&2
    echo "tests: 0 passed, 0 failed"
    exit 1
  fi
  echo "test.sh: FAILED: ctest exited with status $status and printed no summary" >&2
  exit $((status == 0 ? 1 : status))
fi

read -r failed _ _ _ _ total <<<"$summary"
passed=$((total - failed))
if ((status == 0)); then
  echo "test.sh: ctest PASSED (exit status 0)"
else
  echo "test.sh: ctest FAILED (exit status $status)" >&2
fi

# -- hostile input: fuzzing and sanitizers ------------------------------------
#
# Bounded for CI: each fuzz target runs CQRSD_FUZZ_SECONDS (60) seconds. The
# sanitizer run (a second, instrumented build of everything) is opt-in with
# CQRSD_SANITIZERS=1. Each job ends with its own "tests: N passed, N failed"
# line, added to ours.

# Runs one job script ($1) with its arguments and adds its counts.
run_job() {
  local job="$1" job_log="$scratch_dir/$(basename "$1").log" job_status line
  shift
  echo "test.sh: running $job $*"
  set +e
  bash "$job" "$@" 2>&1 | tee "$job_log"
  job_status=${PIPESTATUS[0]}
  set -e
  line="$(grep -E '^tests: [0-9]+ passed, [0-9]+ failed$' "$job_log" | tail -n 1 || true)"
  if [[ -z "$line" ]]; then
    line="tests: 0 passed, 1 failed"
  fi
  read -r _ job_passed _ job_failed _ <<<"$line"
  if ((job_status != 0 && job_failed == 0)); then
    job_failed=1
  fi
  passed=$((passed + job_passed))
  failed=$((failed + job_failed))
  if ((job_status != 0)); then
    echo "test.sh: FAILED: $job (exit status $job_status)" >&2
    ((status != 0)) || status=1
  fi
}

if [[ "${CQRSD_SKIP_SANITIZERS:-0}" == 1 ]]; then
  echo "test.sh: skipping fuzzing and sanitizers (CQRSD_SKIP_SANITIZERS=1)"
elif (($# == 0)) || [[ "${CQRSD_SANITIZERS:-0}" == 1 ]]; then
  run_job scripts/fuzz.sh --seconds "${CQRSD_FUZZ_SECONDS:-60}"
  if [[ "${CQRSD_SANITIZERS:-0}" == 1 ]]; then
    run_job scripts/sanitize.sh
  fi
fi

if ((status == 0)); then
  echo "test.sh: PASSED"
else
  echo "test.sh: FAILED" >&2
fi
echo "tests: $passed passed, $failed failed"
exit "$status"
