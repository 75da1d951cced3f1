#!/usr/bin/env bash
# The benchmark suite: builds cqrsd in Release, seeds 10,000 objects over 100
# categories and runs the load scenarios with wrk on loopback, on SQLite and
# on PostgreSQL, then writes a Markdown report with req/s, p50, p99, errors,
# the target ratios and the machine it ran on.
#
#   bench/run.sh [--quick] [--backend sqlite|postgresql|both] [--out FILE]
#
# --quick runs each scenario for 3 s (1 s warm-up) instead of 10 s (3 s) and
# probes 50 samples instead of 200. The report goes to
# bench/results/<YYYY-MM-DD>[-quick].md unless --out says otherwise.
# Environment: JOBS (build jobs, default 2). Works from any directory.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
caller_dir="$PWD"
cd "$repo_root"

usage() {
  echo "usage: bench/run.sh [--quick] [--backend sqlite|postgresql|both] [--out FILE]" >&2
  exit 2
}

quick=0
backend=both
out=""
while (($# > 0)); do
  case "$1" in
    --quick) quick=1 ;;
    --backend)
      (($# >= 2)) || usage
      backend="$2"
      shift
      ;;
    --out)
      (($# >= 2)) || usage
      out="$2"
      [[ "$out" == /* ]] || out="$caller_dir/$out"
      shift
      ;;
    -h | --help) usage ;;
    *)
      echo "run.sh: unknown argument '$1'" >&2
      usage
      ;;
  esac
  shift
done
case "$backend" in
  sqlite) backends=(sqlite) ;;
  postgresql) backends=(postgresql) ;;
  both) backends=(sqlite postgresql) ;;
  *)
    echo "run.sh: --backend must be sqlite, postgresql or both, got '$backend'" >&2
    usage
    ;;
esac

# -- parameters ---------------------------------------------------------------

objects=10000
categories=100
hot_ids=1000
read_connections=16
write_connections=32
wrk_threads=2
http_threads=64
query_actors=8
if ((quick)); then
  duration=3 warmup=1 probe_samples=50 suffix="-quick"
else
  duration=10 warmup=3 probe_samples=200 suffix=""
fi
run_date="$(date -u +%F)"
out="${out:-bench/results/${run_date}${suffix}.md}"

bench_who="run.sh"
# shellcheck source=bench/lib.sh
source bench/lib.sh
results="$scratch_dir/results.tsv"
: >"$results"

bench_describe_machine
bench_build

# Runs scenario $2 ("$3" in the report) of backend $1: a warm-up of $4
# seconds (0: none), then the measured run; the rest as for wrk_run after
# the output file and duration. Appends one line to the results.
scenario() {
  local db="$1" key="$2" label="$3" warm="$4" conns="$5" line hits misses
  shift 5
  local output="$scratch_dir/wrk-$db-$key.txt"
  if ((warm > 0)); then
    wrk_run "$output.warmup" "$warm" "$conns" "$@"
  fi
  echo "run.sh: [$db] $label: ${duration} s, $conns connections"
  hits="$(server_metric cqrsd_cache_hits_total)"
  misses="$(server_metric cqrsd_cache_misses_total)"
  wrk_run "$output" "$duration" "$conns" "$@"
  check_server
  hits=$(($(server_metric cqrsd_cache_hits_total) - hits))
  misses=$(($(server_metric cqrsd_cache_misses_total) - misses))
  line="$(wrk_summary "$output")"
  printf 'wrk\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$db" "$key" "$label" "$conns" "$line" \
    "$hits" "$misses" >>"$results"
  awk -F '\t' -v hits="$hits" -v misses="$misses" '{
    printf "run.sh:   %s req/s, p50 %s ms, p99 %s ms, %s requests, %s non-2xx, %s socket errors, %s cache hits, %s misses\n",
      $1, $2, $3, $4, $5, $6, hits, misses }' <<<"$line"
}

# The cqrsd configuration of backend $1 with cache_enabled $2, but for http.
server_yaml() {
  echo "node: {name: bench}"
  if [[ "$1" == sqlite ]]; then
    echo "database: {backend: sqlite, sqlite_path: \"$scratch_dir/sqlite/cqrsd.db\"}"
  else
    echo "database: {backend: postgresql, postgresql: \"host=127.0.0.1 port=$pg_port user=cqrsd dbname=cqrsd_bench\"}"
  fi
  echo "query: {actors: $query_actors, routing: key_affinity, cache_enabled: $2}"
  echo "log: {level: warning}"
}

# Reads each hot id once, which caches its view in its query actor.
fill_hot_ids() {
  "$probe_bin" fill --port "$server_port" --from 1 --to "$hot_ids" \
    --connections "$read_connections" >/dev/null || fail "reading the hot ids failed"
}

# -- one backend --------------------------------------------------------------

pg_started=0

run_backend() {
  local db="$1" output
  echo "run.sh: ===== $db ====="
  if [[ "$db" == sqlite ]]; then
    rm -rf "$scratch_dir/sqlite"
    mkdir -p "$scratch_dir/sqlite"
  else
    if ((!pg_started)); then
      pg_start_primary
      pg_started=1
      echo "run.sh: PostgreSQL $pg_major running on 127.0.0.1:$pg_port (fsync on)"
    fi
    pg_psql -p "$pg_port" -c 'DROP DATABASE IF EXISTS cqrsd_bench' -c 'CREATE DATABASE cqrsd_bench' \
      || fail "cannot create the database cqrsd_bench"
  fi

  start_server "$db-cached" "$(server_yaml "$db" true)"
  output="$scratch_dir/seed-$db.txt"
  echo "run.sh: [$db] seeding $objects objects over $categories categories ($read_connections connections)"
  "$probe_bin" seed --port "$server_port" --objects "$objects" --categories "$categories" \
    --connections "$read_connections" >"$output" || fail "seeding failed"
  [[ "$(probe_value seed_max_object_id "$output")" == "$objects" ]] \
    || fail "seeding gave object ids up to $(probe_value seed_max_object_id "$output"), not 1..$objects"
  printf 'seed\t%s\t%s\t%s\n' "$db" "$(probe_value seed_seconds "$output")" \
    "$(probe_value seed_objects_per_second "$output")" >>"$results"
  echo "run.sh:   seeded in $(probe_value seed_seconds "$output") s"

  scenario "$db" healthz "GET /healthz (HTTP stack ceiling)" "$warmup" \
    "$read_connections" /healthz -
  fill_hot_ids
  scenario "$db" hot "hot reads: $hot_ids ids, all cached" "$warmup" \
    "$read_connections" / hot.lua "$hot_ids"

  output="$scratch_dir/visibility-$db.txt"
  echo "run.sh: [$db] invalidation visibility: $probe_samples samples"
  "$probe_bin" visibility --port "$server_port" --samples "$probe_samples" \
    --actors "$query_actors" --routing key_affinity \
    --miss-ids-from $((objects / 2 + 1)) >"$output" \
    || fail "the visibility probe failed"
  printf 'visibility\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$db" \
    "$(probe_value visibility_samples "$output")" \
    "$(probe_value visibility_p50_us "$output")" \
    "$(probe_value visibility_p99_us "$output")" \
    "$(probe_value visibility_max_us "$output")" \
    "$(probe_value visibility_stale_reads "$output")" \
    "$(probe_value visibility_samples_with_stale "$output")" \
    "$(probe_value miss_round_trip_p50_us "$output")" \
    "$(probe_value miss_round_trip_p99_us "$output")" >>"$results"
  echo "run.sh:   p50 $(probe_value visibility_p50_us "$output") us, p99 $(probe_value visibility_p99_us "$output") us"

  # A fresh process: the Zipf reads start from a cold cache.
  stop_server
  start_server "$db-cached" "$(server_yaml "$db" true)"
  scenario "$db" zipf "Zipf reads over all $objects ids, cold cache" 0 \
    "$read_connections" / zipf.lua "$objects" 110
  scenario "$db" writes "writes: PUT /objects/{id}" "$warmup" \
    "$write_connections" / put.lua "$objects" "$categories"
  # Cache the hot ids first, so that the writes invalidate cached views.
  fill_hot_ids
  scenario "$db" mixed "mixed 95% reads / 5% writes over $hot_ids ids" "$warmup" \
    "$read_connections" / mixed.lua "$hot_ids" "$categories" 5
  stop_server

  start_server "$db-uncached" "$(server_yaml "$db" false)"
  scenario "$db" nocache "Zipf reads, cache_enabled: false" "$warmup" \
    "$read_connections" / zipf.lua "$objects" 110
  stop_server
}

for db in "${backends[@]}"; do
  run_backend "$db"
done

# -- the report ---------------------------------------------------------------

# Prints field $3 of the results line of kind $1, backend $2 and (for wrk)
# scenario $4.
result() {
  awk -F '\t' -v kind="$1" -v db="$2" -v f="$3" -v key="${4:-}" \
    '$1 == kind && $2 == db && (kind != "wrk" || $3 == key) { print $f }' "$results" | tail -n 1
}

# Whether scenario $2 of backend $1 had non-2xx answers or socket errors.
had_errors() {
  local non2xx socket
  non2xx="$(result wrk "$1" 10 "$2")"
  socket="$(result wrk "$1" 11 "$2")"
  ((${non2xx:-0} + ${socket:-0} > 0))
}

# One line of the targets table: label, backend, measured value, comparison
# ("ge" or "le"), target, unit, and the scenarios the value comes from.
target_line() {
  local label="$1" db="$2" value="$3" cmp="$4" target="$5" unit="$6" verdict s
  shift 6
  if [[ -z "$value" ]]; then
    printf '| %s | %s | not measured | %s %s%s | — |\n' "$label" "$db" \
      "$([[ "$cmp" == ge ]] && echo "≥" || echo "≤")" "$target" "$unit"
    return
  fi
  verdict="$(verdict "$value" "$cmp" "$target")"
  for s in "$@"; do
    if had_errors "$db" "$s"; then
      verdict="$verdict (errors in $s: not valid)"
    fi
  done
  printf '| %s | %s | %s%s | %s %s%s | %s |\n' "$label" "$db" "$value" "$unit" \
    "$([[ "$cmp" == ge ]] && echo "≥" || echo "≤")" "$target" "$unit" "$verdict"
}

ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b }'
}

mkdir -p "$(dirname "$out")"
{
  echo "# cqrsd benchmark, $run_date$([[ -n "$suffix" ]] && echo " (quick)")"
  echo
  echo "Produced by \`bench/run.sh$( ((quick)) && echo " --quick") --backend $backend\`, started $started_at."
  echo
  echo "## Machine"
  echo
  bench_machine_table
  echo
  echo "wrk runs on the same machine as cqrsd ($wrk_threads wrk threads): both share"
  echo "the $cores cores, and so do whatever else ran at the time (see the load average)."
  echo "Everything talks over loopback."
  echo
  echo "## Set-up"
  echo
  echo "- Data: $objects objects over $categories categories and $categories related objects, seeded through the API."
  echo "- cqrsd: \`http.threads: $http_threads\`, \`query.actors: $query_actors\`, \`routing: key_affinity\`, \`log.level: warning\`, other settings at their defaults (SQLite WAL with \`synchronous=FULL\`)."
  echo "- PostgreSQL: a throw-away server on loopback with fsync on (default durability), \`max_connections=200\`."
  echo "- Each scenario: ${duration} s measured after a ${warmup} s warm-up (none for the cold-cache run), $read_connections connections for reads and mixed, $write_connections for writes."
  echo "- Before the hot and the mixed runs each of the $hot_ids hot ids is read once (\`cqrsd-probe fill\`), which caches it."
  echo "- The cold Zipf run starts on a freshly started cqrsd. The cache-disabled run is warmed up like the others (database page cache warm)."
  echo "- Latencies are wrk's (\`--latency\`); p50 and p99 in milliseconds. Cache hits and misses are the growth of \`cqrsd_cache_hits_total\` and \`cqrsd_cache_misses_total\` over the measured run (hot reads should have no misses)."
  for db in "${backends[@]}"; do
    echo
    echo "## $db"
    echo
    echo "Seeding: $objects objects in $(result seed "$db" 3) s ($(result seed "$db" 4) objects/s)."
    echo
    echo "| # | scenario | connections | req/s | p50 ms | p99 ms | requests | non-2xx | socket errors | cache hits | cache misses |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    n=1
    for key in healthz hot zipf nocache writes mixed; do
      awk -F '\t' -v db="$db" -v key="$key" -v n="$n" \
        '$1 == "wrk" && $2 == db && $3 == key {
           printf "| %s | %s | %s | %s | %s | %s | %s | %s%s | %s%s | %s | %s |\n", n, $4, $5, $6, $7, $8, $9,
             $10, ($10 > 0 ? " ⚠" : ""), $11, ($11 > 0 ? " ⚠" : ""), $12, $13 }' "$results"
      n=$((n + 1))
    done
    echo
    echo "Invalidation visibility (7), $(result visibility "$db" 3) samples: the time from a write's"
    echo "acknowledgement until a poll without \`X-Min-Seq\` is answered with the new view, measured by"
    echo "\`cqrsd-probe visibility\` (key_affinity: the key's one query actor serves every poll)."
    echo "It is an upper bound: the fresh answer is a cache miss, so it includes one round trip"
    echo "and one fill from the database; a cold read's round trip (a fill) is shown for comparison."
    echo
    echo "| p50 ms | p99 ms | max ms | stale reads after the ack | samples with a stale read | cold read p50 ms | cold read p99 ms |"
    echo "|---|---|---|---|---|---|---|"
    awk -F '\t' -v db="$db" '$1 == "visibility" && $2 == db {
      printf "| %.3f | %.3f | %.3f | %s | %s | %.3f | %.3f |\n", $4 / 1000, $5 / 1000, $6 / 1000, $7, $8,
        $9 / 1000, $10 / 1000 }' "$results"
  done
  echo
  echo "## Targets"
  echo
  echo "| target | backend | measured | target | result |"
  echo "|---|---|---|---|---|"
  for db in "${backends[@]}"; do
    target_line "hot reads ÷ healthz" "$db" \
      "$(ratio "$(result wrk "$db" 6 hot)" "$(result wrk "$db" 6 healthz)")" ge 0.85 "" hot healthz
  done
  for db in "${backends[@]}"; do
    if [[ "$db" == postgresql ]]; then want=3; else want=1.2; fi
    target_line "hot ÷ cache-disabled" "$db" \
      "$(ratio "$(result wrk "$db" 6 hot)" "$(result wrk "$db" 6 nocache)")" ge "$want" "" hot nocache
  done
  for db in "${backends[@]}"; do
    target_line "mixed 95/5 p99, $read_connections connections" "$db" \
      "$(result wrk "$db" 8 mixed)" le 5 " ms" mixed
  done
  for db in "${backends[@]}"; do
    if [[ "$db" == sqlite ]]; then
      target_line "acknowledged durable writes/s, synchronous=FULL, $write_connections connections" "$db" \
        "$(result wrk "$db" 6 writes)" ge 10000 "" writes
    fi
  done
  for db in "${backends[@]}"; do
    target_line "invalidation visibility p99, one node (upper bound)" "$db" \
      "$(awk -F '\t' -v db="$db" '$1 == "visibility" && $2 == db { printf "%.3f", $5 / 1000 }' "$results")" \
      le 1 " ms"
  done
  echo
  echo "The 100,000-actor targets are measured by \`bench/scale.sh\` (its own report)."
  echo "A line marked \"errors … not valid\" came from a scenario with non-2xx answers or"
  echo "socket errors: its figure does not count."
} >"$out.tmp"
mv "$out.tmp" "$out"
echo "run.sh: report written to $out"
cat "$out"
