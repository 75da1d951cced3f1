#!/usr/bin/env bash
# Installs what is missing (Debian packages, and Redocly, Prism and
# playwright-core from npm),
# builds everything (tests included) and runs the whole test suite with
# ctest, then lints the generated OpenAPI documents of both shipped domains
# (scripts/lint-openapi.sh). Extra arguments go to ctest, e.g.
# `scripts/test.sh -R store`; `scripts/test.sh --quick` leaves out the slow
# entries (see below). A full run (no arguments, as in CI) then runs
# scripts/fuzz.sh (each fuzz target for CQRSD_FUZZ_SECONDS, default 60,
# seconds) and scripts/sanitize.sh (the unit and end-to-end suites under
# ASan and UBSan, in build-asan/). CQRSD_SANITIZERS=1 runs both jobs even
# with arguments; CQRSD_SKIP_SANITIZERS=1 skips both. Exits non-zero if
# anything failed; the last line is a summary "tests: N passed, N failed"
# over the ctest entries, the fuzz targets and the sanitizer run's entries.
# Works from any directory.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

# --quick, for development: every suite but the cluster, Prism and browser
# entries, and neither fuzzing nor the sanitizer run. CI runs everything.
if [[ "${1:-}" == --quick ]]; then
  shift
  set -- -LE '^(cluster|prism|browser)$' "$@"
  export CQRSD_SKIP_SANITIZERS=1
  echo "test.sh: --quick: without the cluster, prism and browser entries, fuzzing and sanitizers"
fi

# -- cleanup on exit ----------------------------------------------------------

cleanup_who=test.sh
# shellcheck source=scripts/lib/cleanup.sh
source scripts/lib/cleanup.sh

# Scratch space for this run: the ctest log and the PostgreSQL server.
scratch_dir="$(mktemp -d "${TMPDIR:-/tmp}/cqrsd-test.XXXXXX")"
on_exit "rm -rf '$scratch_dir'"

# -- dependencies and build ---------------------------------------------------

bash scripts/deps.sh
bash scripts/build.sh

# Redocly's linter, Stoplight's Prism proxy and playwright-core (npm):
# scripts/lint-openapi.sh and the suites that run through Prism
# (openapi_prism, and the e2e suites' `_prism` entries) find the first two
# through CQRSD_REDOCLY and CQRSD_PRISM; the browser tests (ctest entry
# `browser`) find playwright-core through CQRSD_PLAYWRIGHT_DIR.
# shellcheck source=scripts/lib/npm_tools.sh
source scripts/lib/npm_tools.sh
if ! cqrsd_npm_tools; then
  echo "test.sh: FAILED: cannot install the npm tools (Redocly, Prism, playwright-core)" >&2
  echo "tests: 0 passed, 0 failed"
  exit 1
fi

# -- throw-away PostgreSQL server --------------------------------------------
#
# Every run gets its own server: initdb into "$scratch_dir/pg/data", socket in
# "$scratch_dir/pg", TCP on a free loopback port. The suites reach it through
# CQRSD_TEST_POSTGRESQL (see tests/fixtures/temp_db.hpp); ctest entries named
# <suite>_postgresql run against it. If it cannot be started, this script fails:
# the PostgreSQL suites are never skipped.

pg_dir="$scratch_dir/pg"
# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
# The last line stays the summary, as for every other failure.
pg_on_fail() {
  echo "tests: 0 passed, 0 failed"
}
pg_start_primary

export CQRSD_TEST_POSTGRESQL="host=127.0.0.1 port=$pg_port user=cqrsd dbname=postgres"
# Suites that stop and start a server of their own (db_trouble) run these.
export CQRSD_TEST_PG_BIN="$pg_bin"
echo "test.sh: PostgreSQL $pg_major running on 127.0.0.1:$pg_port (socket and data in $pg_dir, log $pg_dir/server.log)"
echo "test.sh: CQRSD_TEST_POSTGRESQL=\"$CQRSD_TEST_POSTGRESQL\""

# -- its streaming replica ----------------------------------------------------
#
# The `replica` suite lags a real hot standby (pg_wal_replay_pause) behind the
# primary. The standby gets the data folder "$pg_dir/replica", the same socket
# folder and its own loopback port; the suites reach it through
# CQRSD_TEST_POSTGRESQL_REPLICA. Databases the fixtures create on the primary
# replicate to it.

pg_start_replica

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

# -- jobs beside ctest --------------------------------------------------------
#
# The OpenAPI lint runs on every run. Hostile input, bounded for CI: each
# fuzz target runs CQRSD_FUZZ_SECONDS (60) seconds, and
# the sanitizer run (a second, instrumented build of everything) leaves out
# the cluster-based suites. Each job ends with its own "tests: N passed,
# N failed" line, added to ours.

# Runs one job script ($1) with its arguments and adds its counts.
run_job() {
  local job="$1" job_log job_status line
  job_log="$scratch_dir/$(basename "$1").log"
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

# The generated OpenAPI documents of both shipped domains, linted.
run_job scripts/lint-openapi.sh

if [[ "${CQRSD_SKIP_SANITIZERS:-0}" == 1 ]]; then
  echo "test.sh: skipping fuzzing and sanitizers (CQRSD_SKIP_SANITIZERS=1)"
elif (($# == 0)) || [[ "${CQRSD_SANITIZERS:-0}" == 1 ]]; then
  run_job scripts/fuzz.sh --seconds "${CQRSD_FUZZ_SECONDS:-60}"
  run_job scripts/sanitize.sh
fi

if ((status == 0)); then
  echo "test.sh: PASSED"
else
  echo "test.sh: FAILED" >&2
fi
echo "tests: $passed passed, $failed failed"
exit "$status"
