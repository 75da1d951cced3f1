#!/usr/bin/env bash
# The scale benchmark: one cqrsd node with `query.actors: 100000` against the
# same node with 8, on SQLite. For each it measures the spawn time (launch
# until /readyz answers), the idle resident memory, the fan-out of one
# invalidation batch to every query actor, and hot reads with wrk; then it
# writes a Markdown report with the targets.
#
#   bench/scale.sh [--quick] [--actors N] [--spawn-limit S] [--compare REV]
#                  [--out FILE]
#
# --quick: 3 s of hot reads (1 s warm-up) and 5 fan-out samples instead of
# 10 s (3 s) and 20. A node whose actors are not all spawned within
# --spawn-limit seconds (default 60 with --quick, else 180) misses the spawn
# target and is not measured further. --compare REV builds the commit REV
# like bench/run.sh --compare does and measures its nodes too, alternately
# (8 actors new, old, then N actors new, old), each on a database of its
# own. The report goes to bench/results/<YYYY-MM-DD>[-quick]-scale.md
# unless --out says otherwise. Environment: JOBS (build jobs, default 2).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
caller_dir="$PWD"
cd "$repo_root"

usage() {
  echo "usage: bench/scale.sh [--quick] [--actors N] [--spawn-limit S] [--compare REV] [--out FILE]" >&2
  exit 2
}

quick=0
many=100000
spawn_limit_arg=""
compare_rev=""
out=""
while (($# > 0)); do
  case "$1" in
    --quick) quick=1 ;;
    --actors)
      (($# >= 2)) || usage
      many="$2"
      shift
      ;;
    --spawn-limit)
      (($# >= 2)) || usage
      spawn_limit_arg="$2"
      shift
      ;;
    --compare)
      (($# >= 2)) || usage
      compare_rev="$2"
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
      echo "scale.sh: unknown argument '$1'" >&2
      usage
      ;;
  esac
  shift
done
# query.actors accepts 1..100000 (config/settings.cpp).
if ! [[ "$many" =~ ^[1-9][0-9]*$ ]] || ((many > 100000)); then
  echo "scale.sh: --actors must be an integer in 1..100000, got '$many'" >&2
  usage
fi

few=8
hot_ids=1000
categories=100
read_connections=16
wrk_threads=2
http_threads=64
if ((quick)); then
  duration=3 warmup=1 fanout_samples=5 spawn_limit=60 suffix="-quick"
else
  duration=10 warmup=3 fanout_samples=20 spawn_limit=180 suffix=""
fi
if [[ -n "$spawn_limit_arg" ]]; then
  if ! [[ "$spawn_limit_arg" =~ ^[1-9][0-9]*$ ]] || ((spawn_limit_arg > 3600)); then
    echo "scale.sh: --spawn-limit must be an integer in 1..3600 seconds, got '$spawn_limit_arg'" >&2
    usage
  fi
  spawn_limit="$spawn_limit_arg"
fi
run_date="$(date -u +%F)"
[[ -z "$compare_rev" ]] || compare_suffix="-vs-${compare_rev//[^A-Za-z0-9._-]/_}"
out="${out:-bench/results/${run_date}${suffix}-scale${compare_suffix:-}.md}"

bench_who="scale.sh"
# shellcheck source=bench/lib.sh
source bench/lib.sh

bench_describe_machine
bench_build
new_bin="$server_bin"
bins=(new)
if [[ -n "$compare_rev" ]]; then
  bench_build_rev "$compare_rev"
  bins+=(old)
fi
# Each binary's results, one line per node measured.
for bin in "${bins[@]}"; do
  : >"$scratch_dir/results-$bin.tsv"
  mkdir -p "$scratch_dir/sqlite-$bin"
done

# The configuration of a node with $1 query actors of binary $2, but for
# http. Info level: the node logs when it has spawned its actors.
server_yaml() {
  echo "node: {name: scale}"
  echo "database: {backend: sqlite, sqlite_path: \"$scratch_dir/sqlite-$2/cqrsd.db\"}"
  echo "query: {actors: $1, routing: key_affinity, cache_enabled: true}"
  echo "log: {level: info}"
}

# Prints the seconds from the launch (server_launched) to the node's
# "started ... node" line of log file $1 (UTC timestamps
# "2026-11-28T04:30:00.123Z"), or nothing when the line is missing.
logged_start_seconds() {
  awk -v launched="$server_launched" '
    $1 ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T/ && $0 ~ /started .* node/ {
      t = substr($1, 12)
      sub(/Z$/, "", t)
      split(t, hms, ":")
      d = hms[1] * 3600 + hms[2] * 60 + hms[3] - (launched % 86400)
      if (d < 0) d += 86400
      printf "%.3f", d
      exit
    }' "$1"
}

# Polls /metrics until cqrsd_query_actors reaches $1 (the supervisor sets it
# once it has spawned them all) and prints the seconds since the launch, or
# "timeout" when that takes over spawn_limit seconds.
spawned_seconds() {
  local now n
  while true; do
    n="$(curl -fsS "http://127.0.0.1:$server_port/metrics" 2>/dev/null \
      | awk '$1 == "cqrsd_query_actors" { print $2 }')"
    now="$(date +%s.%N)"
    if [[ "${n:-0}" -ge "$1" ]]; then
      awk -v a="$server_launched" -v b="$now" 'BEGIN { printf "%.3f", b - a }'
      return
    fi
    if awk -v a="$server_launched" -v b="$now" -v l="$spawn_limit" 'BEGIN { exit !(b - a > l) }'; then
      echo timeout
      return
    fi
    sleep 0.01
  done
}

# Waits (at most 120 s) until cqrsd_invalidations_applied_total holds still
# for a second: a fan-out that overran the probe has then drained and does
# not load the hot reads that follow.
settle() {
  local last=-1 now i
  for ((i = 0; i < 120; i++)); do
    now="$(server_metric cqrsd_invalidations_applied_total)"
    if [[ "$now" == "$last" ]]; then
      return
    fi
    last="$now"
    sleep 1
  done
  echo "- The fan-out had not drained 120 s later; the hot reads ran alongside it." >>"$scratch_dir/notes.md"
}

# Measures a node of binary $2 ("new" or "old") with $1 query actors and
# appends its line to that binary's results: actors, spawn s (the later of
# ready and all spawned), logged start s, idle RSS MiB, fan-out p50/p99/max
# ms, poll round trip p50 ms, hot req/s, p50, p99, non-2xx, socket errors.
measure() {
  local actors="$1" bin="$2" ready spawned logged rss output line timeout_seq write_status
  local fan_p50 fan_p99 fan_max results="$scratch_dir/results-$2.tsv" who=""
  ((${#bins[@]} == 1)) || who=" ($bin binary)"
  echo "scale.sh: ===== $actors query actors$who ====="
  if [[ "$bin" == new ]]; then server_bin="$new_bin"; else server_bin="$old_bin"; fi
  start_server "actors-$actors-$bin" "$(server_yaml "$actors" "$bin")" "$spawn_limit"
  ready="$server_ready_seconds"
  spawned="$(spawned_seconds "$actors")"
  logged="$(logged_start_seconds "$server_log")"
  if [[ "$spawned" == timeout ]]; then
    rss="$(server_rss_mib)"
    echo "scale.sh:   NOT all $actors actors spawned within $spawn_limit s (RSS then $rss MiB); skipping this node's other measurements" >&2
    stop_server
    printf '%s\t>%s\t%s\t%s\t—\t—\t—\t—\t—\t—\t—\t—\t0\t0\n' "$actors" "$spawn_limit" \
      "${logged:-}" "$rss" >>"$results"
    return
  fi
  echo "scale.sh:   ready after $ready s, $actors actors spawned after $spawned s (log: node started after ${logged:-?} s)"
  if [[ ! -e "$scratch_dir/seeded-$bin" ]]; then
    output="$scratch_dir/seed.txt"
    "$probe_bin" seed --port "$server_port" --objects "$hot_ids" \
      --categories "$categories" --connections "$read_connections" >"$output" \
      || fail "seeding failed"
    echo "scale.sh:   seeded $hot_ids objects in $(probe_value seed_seconds "$output") s"
    touch "$scratch_dir/seeded-$bin"
  fi
  # Idle: nothing has been read yet, so the caches are empty.
  sleep 2
  rss="$(server_rss_mib)"
  echo "scale.sh:   idle RSS $rss MiB"

  output="$scratch_dir/fanout-$actors.txt"
  "$probe_bin" fanout --port "$server_port" --samples "$fanout_samples" >"$output" \
    || fail "the fan-out probe failed"
  timeout_seq="$(probe_value fanout_timeout_seq "$output")"
  write_status="$(probe_value fanout_write_status "$output")"
  [[ "$(probe_value fanout_actors "$output")" == "$actors" ]] \
    || fail "/metrics shows $(probe_value fanout_actors "$output") query actors, expected $actors"
  if [[ -n "$write_status" ]]; then
    fan_p99="not measured" fan_p50="—" fan_max="—"
    echo "- With $actors actors$who, the fan-out probe's write answered $write_status (see the node's log)." \
      >>"$scratch_dir/notes.md"
    echo "scale.sh:   fan-out: the probe's write answered $write_status" >&2
    settle
  elif [[ -n "$timeout_seq" ]]; then
    fan_p99="> 5000" fan_p50="—" fan_max="—"
    echo "- With $actors actors$who, the batch of seq $timeout_seq had reached $(probe_value fanout_timeout_reached "$output") of them 5 s after its acknowledgement." \
      >>"$scratch_dir/notes.md"
    echo "scale.sh:   fan-out: seq $timeout_seq reached $(probe_value fanout_timeout_reached "$output") of $actors actors in 5 s" >&2
    settle
  else
    fan_p50="$(awk -v x="$(probe_value fanout_p50_us "$output")" 'BEGIN { printf "%.3f", x / 1000 }')"
    fan_p99="$(awk -v x="$(probe_value fanout_p99_us "$output")" 'BEGIN { printf "%.3f", x / 1000 }')"
    fan_max="$(awk -v x="$(probe_value fanout_max_us "$output")" 'BEGIN { printf "%.3f", x / 1000 }')"
  fi
  echo "scale.sh:   fan-out p99 $(probe_value fanout_p99_us "$output") us" \
    "(by $(probe_value fanout_method "$output"), poll round trip p50 $(probe_value poll_round_trip_p50_us "$output") us)"

  wrk_run "$scratch_dir/wrk-$actors-$bin.warmup" "$warmup" "$read_connections" / hot.lua "$hot_ids"
  wrk_run "$scratch_dir/wrk-$actors-$bin.txt" "$duration" "$read_connections" / hot.lua "$hot_ids"
  check_server
  line="$(wrk_summary "$scratch_dir/wrk-$actors-$bin.txt")"
  echo "scale.sh:   hot reads: $line (req/s, p50, p99, requests, non-2xx, socket errors)"
  stop_server
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$actors" \
    "$(awk -v a="$ready" -v b="$spawned" 'BEGIN { printf "%.3f", (a > b ? a : b) }')" "${logged:-}" "$rss" \
    "$fan_p50" "$fan_p99" "$fan_max" \
    "$(awk -v x="$(probe_value poll_round_trip_p50_us "$output")" 'BEGIN { printf "%.3f", x / 1000 }')" \
    "$line" >>"$results"
}

# New, old, new, old: drift on the shared machine hits both binaries.
for actors in "$few" "$many"; do
  for bin in "${bins[@]}"; do
    measure "$actors" "$bin"
  done
done

# -- the report ---------------------------------------------------------------

# Field $2 of the results line for $1 actors of binary $3 (default new).
field() {
  awk -F '\t' -v a="$1" -v f="$2" '$1 == a { print $f }' "$scratch_dir/results-${3:-new}.tsv"
}

errors_of() {
  echo $(($(field "$1" 13 "${2:-new}") + $(field "$1" 14 "${2:-new}")))
}

# a ÷ b with two decimals, or — unless both are numbers and b > 0.
ratio_of() {
  awk -v a="$1" -v b="$2" \
    'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else printf "—" }'
}

# One line of the targets table: label, measured, comparison, target, unit.
# A measured value that is not a number (a timeout, or nothing measured) is
# shown as it is and misses.
target_line() {
  local result
  if [[ "$2" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
    result="$(verdict "$2" "$3" "$4")"
  elif [[ "$2" == ">"* ]]; then
    result="MISS"
  else
    result="MISS (not measured)"
  fi
  printf '| %s | %s%s | %s %s%s | %s |\n' "$1" "${2:-—}" "$5" \
    "$([[ "$3" == ge ]] && echo "≥" || echo "≤")" "$4" "$5" "$result"
}

p99_ratio="$(awk -v a="$(field "$many" 11)" -v b="$(field "$few" 11)" \
  'BEGIN { if (a ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b }')"
mkdir -p "$(dirname "$out")"
{
  echo "# cqrsd scale benchmark, $run_date$([[ -n "$suffix" ]] && echo " (quick)")"
  echo
  echo "Produced by \`bench/scale.sh$( ((quick)) && echo " --quick") --actors $many --spawn-limit $spawn_limit$(
    [[ -n "$compare_rev" ]] && echo " --compare $compare_rev")\`, started $started_at."
  echo
  echo "## Machine"
  echo
  bench_machine_table
  echo
  echo "wrk runs on the same machine as cqrsd ($wrk_threads wrk threads): both share the $cores cores."
  echo
  echo "## Set-up"
  echo
  echo "One standalone node on SQLite, \`routing: key_affinity\`, \`http.threads: $http_threads\`,"
  echo "$hot_ids objects over $categories categories. Each node is measured from a fresh start:"
  echo
  echo "- **spawn**: from launching the process until both \`/readyz\` answers 200 and \`/metrics\`"
  echo "  shows \`cqrsd_query_actors\` at the configured count (the supervisor sets it once it has"
  echo "  spawned every actor), each polled every 10 ms;"
  echo "  **logged**: from the launch to the node's \"started\" log line (written once the query"
  echo "  supervisor is spawned; its actors may still be starting)."
  echo "- **idle RSS**: VmRSS 2 s after ready, before any read (empty caches)."
  echo "- **fan-out**: \`cqrsd-probe fanout\`, $fanout_samples samples: one write, then \`/metrics\` until"
  echo "  \`cqrsd_invalidations_applied_total\` (batches applied, summed over the query actors) grew"
  echo "  by the number of actors, i.e. the batch reached every actor (a server without that"
  echo "  series: \`/status\` until every actor reports the write's seq). An upper bound whose"
  echo "  resolution is one poll; the poll's round trip is shown next to it."
  echo "- **hot reads**: wrk, ${duration} s after a ${warmup} s warm-up, $read_connections connections, over $hot_ids ids."
  if [[ -n "$compare_rev" ]]; then
    echo "- **new** is this checkout's cqrsd, **old** is $old_short's, built the same way, each node"
    echo "  with a database of its own; measured in the order $few actors new, old, then $many new, old."
    echo
    echo "| binary | query actors | spawn s | logged s | idle RSS MiB | fan-out p50 ms | fan-out p99 ms | fan-out max ms | poll round trip p50 ms | hot req/s | hot p50 ms | hot p99 ms | non-2xx | socket errors |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    for actors in "$few" "$many"; do
      for bin in "${bins[@]}"; do
        awk -F '\t' -v a="$actors" -v bin="$bin" '$1 == a {
          printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
            bin, $1, $2, ($3 == "" ? "—" : $3), $4, $5, $6, $7, $8, $9, $10, $11, $13, $14 }' \
          "$scratch_dir/results-$bin.tsv"
      done
    done
    echo
    echo "New ÷ old (below 1: the new binary is faster or smaller, but for hot req/s):"
    echo
    echo "| query actors | spawn | idle RSS | fan-out p99 | hot req/s | hot p99 |"
    echo "|---|---|---|---|---|---|"
    for actors in "$few" "$many"; do
      printf '| %s | %s | %s | %s | %s | %s |\n' "$actors" \
        "$(ratio_of "$(field "$actors" 2)" "$(field "$actors" 2 old)")" \
        "$(ratio_of "$(field "$actors" 4)" "$(field "$actors" 4 old)")" \
        "$(ratio_of "$(field "$actors" 6)" "$(field "$actors" 6 old)")" \
        "$(ratio_of "$(field "$actors" 9)" "$(field "$actors" 9 old)")" \
        "$(ratio_of "$(field "$actors" 11)" "$(field "$actors" 11 old)")"
    done
  else
    echo
    echo "| query actors | spawn s | logged s | idle RSS MiB | fan-out p50 ms | fan-out p99 ms | fan-out max ms | poll round trip p50 ms | hot req/s | hot p50 ms | hot p99 ms | non-2xx | socket errors |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    awk -F '\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
      $1, $2, ($3 == "" ? "—" : $3), $4, $5, $6, $7, $8, $9, $10, $11, $13, $14 }' "$scratch_dir/results-new.tsv"
  fi
  echo
  echo "## Targets"
  echo
  if [[ -n "$compare_rev" ]]; then
    echo "The new binary's figures; the old one's are in the table above."
    echo
  fi
  echo "| target ($many actors) | measured | target | result |"
  echo "|---|---|---|---|"
  spawn="$(field "$many" 2)"
  if [[ "$spawn" == ">"* ]]; then
    echo "| spawn (launch → ready, all actors spawned) | not within ${spawn#>} s | ≤ 2 s | MISS |"
  else
    target_line "spawn (launch → ready, all actors spawned)" "$spawn" le 2 " s"
  fi
  target_line "idle RSS" "$(awk -v m="$(field "$many" 4)" 'BEGIN { if (m != "") printf "%.3f", m / 1024 }')" le 1 " GiB"
  target_line "fan-out of one batch, p99 (upper bound)" "$(field "$many" 6)" le 100 " ms"
  target_line "hot-read p99 ÷ p99 with $few actors" "$p99_ratio" le 1.2 ""
  if [[ -s "$scratch_dir/notes.md" ]]; then
    echo
    cat "$scratch_dir/notes.md"
  fi
  errors=0
  for bin in "${bins[@]}"; do
    errors=$((errors + $(errors_of "$many" "$bin") + $(errors_of "$few" "$bin")))
  done
  if ((errors > 0)); then
    echo
    echo "⚠ The hot reads had non-2xx answers or socket errors (see the table): the p99 line does not count."
  fi
} >"$out.tmp"
mv "$out.tmp" "$out"
echo "scale.sh: report written to $out"
cat "$out"
