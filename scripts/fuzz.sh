#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang, ASan and UBSan into
# build-fuzz/ and runs each for a bounded time from its seed corpus
# (fuzz/corpus/<name>/, copied to a scratch folder, so the repo is never
# changed). Fails on any crash, leak, timeout or undefined behaviour and
# prints the crashing input; the last line is "tests: N passed, N failed"
# with one test per target.
#
#   scripts/fuzz.sh                     # every target, $CQRSD_FUZZ_SECONDS (60) s each
#   scripts/fuzz.sh --seconds 3600      # longer
#   scripts/fuzz.sh --runs 10000000     # a number of executions instead of a time
#   scripts/fuzz.sh --target config     # one target (request, config or domain)
#   scripts/fuzz.sh --keep-corpus DIR   # grow DIR/<name>/ across runs
#
# Works from any directory. JOBS sets the build's parallelism (default 2).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

usage() {
  sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

seconds="${CQRSD_FUZZ_SECONDS:-60}"
max_runs=""
targets=(request config domain)
keep_corpus=""
while (($#)); do
  case "$1" in
  --seconds)
    seconds="${2:-}"
    shift 2 || { usage >&2; exit 2; }
    ;;
  --runs)
    max_runs="${2:-}"
    shift 2 || { usage >&2; exit 2; }
    [[ "$max_runs" =~ ^[1-9][0-9]*$ ]] || {
      echo "fuzz.sh: --runs must be a positive integer, got '$max_runs'" >&2
      exit 2
    }
    ;;
  --target)
    targets=("${2:-}")
    shift 2 || { usage >&2; exit 2; }
    ;;
  --keep-corpus)
    keep_corpus="${2:-}"
    shift 2 || { usage >&2; exit 2; }
    ;;
  -h | --help)
    usage
    exit 0
    ;;
  *)
    echo "fuzz.sh: unknown argument '$1'" >&2
    usage >&2
    exit 2
    ;;
  esac
done
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || {
  echo "fuzz.sh: --seconds (or CQRSD_FUZZ_SECONDS) must be a positive integer, got '$seconds'" >&2
  exit 2
}
for name in "${targets[@]}"; do
  [[ -d "fuzz/corpus/$name" ]] || {
    echo "fuzz.sh: unknown target '$name' (have: request, config, domain)" >&2
    exit 2
  }
done

# -- build --------------------------------------------------------------------

command -v clang++ >/dev/null || {
  echo "fuzz.sh: FAILED: clang++ not found; install Debian's clang and libclang-rt-14-dev (scripts/deps.sh does)" >&2
  echo "tests: 0 passed, ${#targets[@]} failed"
  exit 1
}
build_dir="$repo_root/build-fuzz"
if ! CC=clang CXX=clang++ cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCQRSD_FUZZ=ON -DCQRSD_BUILD_TESTS=OFF >"$build_dir.configure.log" 2>&1 \
  || ! cmake --build "$build_dir" -j "${JOBS:-2}" \
    --target "${targets[@]/%/_fuzzer}"; then
  cat "$build_dir.configure.log" >&2 || true
  echo "fuzz.sh: FAILED: cannot build the fuzz targets" >&2
  echo "tests: 0 passed, ${#targets[@]} failed"
  exit 1
fi
rm -f "$build_dir.configure.log"

# -- run ----------------------------------------------------------------------

scratch_dir="$(mktemp -d "${TMPDIR:-/tmp}/cqrsd-fuzz.XXXXXX")"
trap 'rm -rf "$scratch_dir"' EXIT

# Sanitizer reports go to the fuzzer's log; leaks and UB are failures.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:check_initialization_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

passed=0
failed=0
for name in "${targets[@]}"; do
  corpus="$scratch_dir/$name/corpus"
  if [[ -n "$keep_corpus" ]]; then
    corpus="$keep_corpus/$name"
  fi
  mkdir -p "$corpus" "$scratch_dir/$name/artifacts"
  cp -n "fuzz/corpus/$name/"* "$corpus/"
  log="$scratch_dir/$name/fuzz.log"
  # -max_total_time bounds the whole run (seeds included); --runs bounds
  # the executions instead.
  bound=(-max_total_time="$seconds")
  what="for $seconds s"
  if [[ -n "$max_runs" ]]; then
    bound=(-runs="$max_runs")
    what="for $max_runs executions"
  fi
  echo "fuzz.sh: $name: fuzzing $what from $(find "$corpus" -type f | wc -l) inputs"
  started=$SECONDS
  set +e
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb: a blow-up.
  "$build_dir/${name}_fuzzer" "$corpus" \
    -dict="fuzz/$name.dict" "${bound[@]}" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -print_pcs=0 \
    -artifact_prefix="$scratch_dir/$name/artifacts/" >"$log" 2>&1
  status=$?
  set -e
  runs="$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo '?')"
  coverage="$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || true)"
  if ((status == 0)) && ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
    echo "fuzz.sh: $name: PASSED, $runs executions in $((SECONDS - started)) s ($coverage)"
    passed=$((passed + 1))
    continue
  fi
  failed=$((failed + 1))
  echo "fuzz.sh: $name: FAILED (exit status $status) after $runs executions; the fuzzer's report:" >&2
  grep -vE '^#[0-9]+' "$log" | tail -n 80 >&2
  kept="$build_dir/artifacts/$name"
  mkdir -p "$kept"
  for input in "$scratch_dir/$name/artifacts/"*; do
    [[ -f "$input" ]] || continue
    cp "$input" "$kept/"
    echo "fuzz.sh: $name: crashing input $(basename "$input") ($(wc -c <"$input") bytes), kept in $kept/; base64:" >&2
    base64 "$input" >&2
    echo "fuzz.sh: reproduce with: $build_dir/${name}_fuzzer $kept/$(basename "$input")" >&2
  done
done

echo "tests: $passed passed, $failed failed"
((failed == 0))
