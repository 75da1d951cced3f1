#!/usr/bin/env bash
# Scale runs, outside CI: the same checks as the test suite, a thousand
# times longer. Installs what is missing, builds, then
# - runs the differential freshness test (tests/system/freshness.cpp) for
#   --ops operations in all (default 1,000,000: seven tenths one at a time,
#   three tenths as concurrent writes under three reader threads), and the
#   one over generated domains (tests/system/domain_freshness.cpp) for
#   --domains random domains (default 300), on SQLite and on a throw-away
#   PostgreSQL server;
# - runs each fuzz target for --runs executions (default 10,000,000) with
#   scripts/fuzz.sh.
# Prints each job's figures (operations, executions, seconds) and ends with
# "soak: N passed, N failed"; exits non-zero if anything failed. Hours, not
# minutes: CI does not run it.
#
#   scripts/soak.sh                          # everything
#   scripts/soak.sh --ops 100000 --domains 30 --runs 1000000
#   scripts/soak.sh --only freshness         # or: --only fuzz
#   scripts/soak.sh --backend sqlite         # freshness on one backend
#
# Works from any directory.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

usage() {
  sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

ops=1000000
domains=300
runs=10000000
only=all
backend=both
while (($#)); do
  case "$1" in
  --ops | --domains | --runs | --only | --backend)
    (($# >= 2)) || { usage >&2; exit 2; }
    case "$1" in
    --ops) ops="$2" ;;
    --domains) domains="$2" ;;
    --runs) runs="$2" ;;
    --only) only="$2" ;;
    --backend) backend="$2" ;;
    esac
    shift 2
    ;;
  -h | --help)
    usage
    exit 0
    ;;
  *)
    echo "soak.sh: unknown argument '$1'" >&2
    usage >&2
    exit 2
    ;;
  esac
done
for n in "$ops" "$domains" "$runs"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || {
    echo "soak.sh: --ops, --domains and --runs take positive integers, got '$n'" >&2
    exit 2
  }
done
((ops >= 10)) || { echo "soak.sh: --ops must be at least 10" >&2; exit 2; }
[[ "$only" =~ ^(all|freshness|fuzz)$ ]] || {
  echo "soak.sh: --only takes freshness or fuzz, got '$only'" >&2
  exit 2
}
[[ "$backend" =~ ^(both|sqlite|postgresql)$ ]] || {
  echo "soak.sh: --backend takes sqlite, postgresql or both, got '$backend'" >&2
  exit 2
}

cleanup_who=soak.sh
# shellcheck source=scripts/lib/cleanup.sh
source scripts/lib/cleanup.sh
scratch_dir="$(mktemp -d "${TMPDIR:-/tmp}/cqrsd-soak.XXXXXX")"
on_exit "rm -rf '$scratch_dir'"

bash scripts/deps.sh

passed=0
failed=0
# Runs one job ($1: its name; the rest: the command), timing it.
job() {
  local name="$1" started=$SECONDS status
  shift
  echo "soak.sh: $name: $*"
  set +e
  "$@"
  status=$?
  set -e
  if ((status == 0)); then
    passed=$((passed + 1))
    echo "soak.sh: $name: PASSED in $((SECONDS - started)) s"
  else
    failed=$((failed + 1))
    echo "soak.sh: $name: FAILED (exit status $status) after $((SECONDS - started)) s" >&2
  fi
}

if [[ "$only" != fuzz ]]; then
  bash scripts/build.sh cqrsd_tests
  # Seven tenths of the operations one at a time, three tenths as writes
  # racing three readers: the test's own proportions (3,000 and 1,500).
  export CQRSD_FRESHNESS_OPS=$((ops * 7 / 10))
  export CQRSD_FRESHNESS_WRITES=$((ops - CQRSD_FRESHNESS_OPS))
  # A different seed each run, printed, so that a failure can be replayed
  # with CQRSD_FRESHNESS_SEED.
  export CQRSD_FRESHNESS_SEED="${CQRSD_FRESHNESS_SEED:-$(date +%s)}"
  export CQRSD_DOMAIN_FRESHNESS_DOMAINS="$domains"
  export CQRSD_DOMAIN_FRESHNESS_SEED="${CQRSD_DOMAIN_FRESHNESS_SEED:-$CQRSD_FRESHNESS_SEED}"
  echo "soak.sh: freshness: $CQRSD_FRESHNESS_OPS operations one at a time, then $CQRSD_FRESHNESS_WRITES concurrent writes, seed $CQRSD_FRESHNESS_SEED"
  echo "soak.sh: generated domains: $domains, seeds $CQRSD_DOMAIN_FRESHNESS_SEED and on"
  # Both differential tests on one backend ($1), with the rest of the
  # arguments as its environment.
  freshness_jobs() {
    local backend="$1"
    shift
    job "freshness on $backend" env CQRSD_TEST_BACKEND="$backend" "$@" \
      build/tests/cqrsd_tests --run_test=freshness --log_level=message
    job "generated domains on $backend" env CQRSD_TEST_BACKEND="$backend" "$@" \
      build/tests/cqrsd_tests \
      --run_test=domain_freshness/reads_equal_the_oracle_on_generated_domains \
      --log_level=message
  }
  if [[ "$backend" != postgresql ]]; then
    freshness_jobs sqlite
  fi
  if [[ "$backend" != sqlite ]]; then
    pg_dir="$scratch_dir/pg"
    # shellcheck source=scripts/lib/postgres.sh
    source scripts/lib/postgres.sh
    pg_start_primary
    freshness_jobs postgresql \
      CQRSD_TEST_POSTGRESQL="host=127.0.0.1 port=$pg_port user=cqrsd dbname=postgres"
  fi
fi

if [[ "$only" != freshness ]]; then
  job "fuzz, $runs executions per target" bash scripts/fuzz.sh --runs "$runs"
fi

echo "soak: $passed passed, $failed failed"
((failed == 0))
