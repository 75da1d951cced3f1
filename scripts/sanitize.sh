#!/usr/bin/env bash
# Builds the library, the servers and the suites listed below with
# AddressSanitizer and UndefinedBehaviorSanitizer into build-asan/ and runs
# them there.
# The end-to-end suites start the ASan server of that build, so a memory
# error, leak or undefined behaviour in the server fails them too. The last
# line is "tests: N passed, N failed".
#
#   scripts/sanitize.sh                 # the suites below, on SQLite
#   scripts/sanitize.sh --all           # those suites on both backends
#                                       # (PostgreSQL needs
#                                       # CQRSD_TEST_POSTGRESQL, as
#                                       # scripts/test.sh sets it)
#   scripts/sanitize.sh -R e2e_api      # other arguments go to ctest
#
# Works from any directory. JOBS sets the build's parallelism (default 2).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

# The suites this build compiles and runs (25 of the 42): those that
# exercise concurrency (actors, caches, the admission server, sessions,
# shutdown and crash recovery) and parsing (config and domain files,
# requests, bodies, routes), where memory errors and undefined behaviour
# hide. The normal run covers the rest: the stores on their own, the
# second domain's lifecycle, metrics, TLS, the cluster suites (several nodes
# at once: slow under ASan, and their code paths are the e2e suites' plus
# CAF's middleman) and the _prism entries. Each runs on SQLite here.
sanitized_suites=(
  # parsing
  config domain_file domain_rules domain_tables model routes web_assets
  hostile_input e2e_library_errors
  # concurrency
  actor_bridge cluster_link command_actor invalidation_hub query_actor
  supervision query_cache restart_budget e2e_api freshness domain_freshness
  idempotency overload sessions stopping crashes
)
ctest_args=(-LE postgresql)
if (($#)); then
  if [[ "$1" == --all ]]; then
    shift
  fi
  ctest_args=("$@")
fi

build_dir="$repo_root/build-asan"
suite_list="$(IFS=';' && echo "${sanitized_suites[*]}")"
# -O1 and line tables only (-g1): what AddressSanitizer's reports need (file
# and line of every frame), at half the compile time of -O2 -g (e2e_api.cpp:
# 133 s against 271 s on a busy 2-core machine). The sanitizer build is the
# largest part of a cold CI run.
if ! cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DCQRSD_SANITIZE=ON -DCQRSD_TEST_SUITES="$suite_list" \
  >"$build_dir.configure.log" 2>&1 \
  || ! cmake --build "$build_dir" -j "${JOBS:-2}" --target cqrsd_tests; then
  cat "$build_dir.configure.log" >&2 || true
  echo "sanitize.sh: FAILED: cannot build the sanitizer build in $build_dir" >&2
  echo "tests: 0 passed, 1 failed"
  exit 1
fi
rm -f "$build_dir.configure.log"

# Stop at the first error of any kind, in the tests and in every server they
# start (the variables are inherited). Reports go to files in $reports, one
# per process: a server's report would otherwise end up in its log, which
# the test deletes, and a leak found when a server exits fails no test.
# Every report fails this run and is printed below.
scratch_dir="$(mktemp -d "${TMPDIR:-/tmp}/cqrsd-sanitize.XXXXXX")"
trap 'rm -rf "$scratch_dir"' EXIT
reports="$scratch_dir/reports"
mkdir -p "$reports"
# ASan keeps freed memory in a quarantine (256 MB by default) to catch uses
# after free; a server under load fills it within seconds, which overload's
# check that RSS stays flat under load would take for a leak. 32 MB still
# holds thousands of requests' worth of frees.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:check_initialization_order=1:quarantine_size_mb=32:log_path=$reports/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
export LSAN_OPTIONS="suppressions=$repo_root/scripts/lsan.supp:print_suppressions=0"

log="$scratch_dir/ctest.log"
set +e
ctest --test-dir "$build_dir" --output-on-failure "${ctest_args[@]}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

summary="$(grep -Eo '[0-9]+ tests failed out of [0-9]+' "$log" | tail -n 1 || true)"
if [[ -z "$summary" ]]; then
  echo "sanitize.sh: FAILED: ctest exited with status $status and printed no summary" >&2
  echo "tests: 0 passed, 1 failed"
  exit 1
fi
read -r failed _ _ _ _ total <<<"$summary"
if compgen -G "$reports/*" >/dev/null; then
  for report in "$reports"/*; do
    echo "---- sanitizer report $(basename "$report") ----" >&2
    cat "$report" >&2
  done
  echo "sanitize.sh: a sanitizer reported errors (above); a test binary or a server it started is broken" >&2
  ((status != 0)) || status=1
  ((failed > 0)) || failed=1
fi
if ((status == 0)); then
  echo "sanitize.sh: PASSED"
else
  echo "sanitize.sh: FAILED (ctest exit status $status)" >&2
fi
echo "tests: $((total - failed)) passed, $failed failed"
exit "$status"
