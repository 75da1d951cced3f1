#!/usr/bin/env bash
# The benchmark suite: builds cqrsd in Release and runs the load scenarios
# with wrk on loopback, on SQLite and on PostgreSQL, for the built-in objects
# domain and for domains/library.yaml. With --compare it builds another
# revision too and runs every scenario on both binaries in turn. It writes a
# Markdown report with req/s, p50, p99, errors, the ratios new/old, the
# targets and the machine it ran on.
#
#   bench/run.sh [--quick] [--backend sqlite|postgresql|both]
#                [--domain objects|library|both] [--compare REV]
#                [--compare-setting SECTION.KEY=VALUE] [--rounds N]
#                [--out FILE]
#
# objects: 10,000 objects over 100 categories, seeded through the API by
# cqrsd-probe. library: 20 countries, 200 authors, 20 branches, 1,000 members
# and 10,000 books of 3 copies with 2 loans each, seeded through the API by
# curl. --quick runs each scenario for 3 s (1 s warm-up) instead of 10 s
# (3 s) and probes 50 samples instead of 200.
#
# Beside the writes it measures the backend's own limit in the same run, on
# the same disk and server: on SQLite single-row durable commits per second
# (cqrsd-probe sqlite-commits), on PostgreSQL pgbench -N -M prepared at the
# writes' connection count, right before each writes run and once after the
# last. The report gives cqrsd's PUT req/s as a ratio to them.
#
# --compare REV builds the commit REV like this checkout (Release) in a git
# worktree under build-release/compare/ and runs each scenario on this
# checkout's cqrsd ("new") and on REV's ("old") alternately, each on a fresh
# process with a database of its own: new, old, new, old... (--rounds N
# times each; default 2 with --compare, else 1). A domain that REV cannot
# serve runs on the new binary only. The report goes to
# bench/results/<YYYY-MM-DD>[-quick][-vs-<REV>].md unless --out says
# otherwise.
#
# --compare-setting SECTION.KEY=VALUE (a query.* or command.* setting)
# runs this checkout's cqrsd twice
# instead, the same way: "new" with its defaults and "old" with that one
# setting, e.g. query.session_consistency=none. The report's ratios are then
# defaults ÷ setting. Environment: JOBS (build jobs, default 2). Works from
# any directory.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
caller_dir="$PWD"
cd "$repo_root"

usage() {
  echo "usage: bench/run.sh [--quick] [--backend sqlite|postgresql|both] [--domain objects|library|both]" >&2
  echo "                    [--compare REV | --compare-setting SECTION.KEY=VALUE]" >&2
  echo "                    [--rounds N] [--out FILE]" >&2
  exit 2
}

quick=0
backend=both
domain=both
compare_rev=""
compare_setting=""
rounds=""
out=""
while (($# > 0)); do
  case "$1" in
    --quick) quick=1 ;;
    --backend | --domain | --compare | --compare-setting | --rounds | --out)
      (($# >= 2)) || usage
      case "$1" in
        --backend) backend="$2" ;;
        --domain) domain="$2" ;;
        --compare) compare_rev="$2" ;;
        --compare-setting) compare_setting="$2" ;;
        --rounds) rounds="$2" ;;
        --out)
          out="$2"
          [[ "$out" == /* ]] || out="$caller_dir/$out"
          ;;
      esac
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
  sqlite | postgresql) backends=("$backend") ;;
  both) backends=(sqlite postgresql) ;;
  *)
    echo "run.sh: --backend must be sqlite, postgresql or both, got '$backend'" >&2
    usage
    ;;
esac
case "$domain" in
  objects | library) domains=("$domain") ;;
  both) domains=(objects library) ;;
  *)
    echo "run.sh: --domain must be objects, library or both, got '$domain'" >&2
    usage
    ;;
esac
if [[ -n "$compare_rev" && -n "$compare_setting" ]]; then
  echo "run.sh: --compare and --compare-setting exclude each other" >&2
  usage
fi
if [[ -n "$compare_setting" ]] &&
  ! [[ "$compare_setting" =~ ^(query|command)\.([a-z_]+)=([A-Za-z0-9_.:-]+)$ ]]; then
  echo "run.sh: --compare-setting takes a query.* or command.* setting, e.g. query.session_consistency=none; got '$compare_setting'" >&2
  usage
fi
rounds="${rounds:-$([[ -n "$compare_rev$compare_setting" ]] && echo 2 || echo 1)}"
if ! [[ "$rounds" =~ ^[1-9]$ ]]; then
  echo "run.sh: --rounds must be an integer in 1..9, got '$rounds'" >&2
  usage
fi

# -- parameters ---------------------------------------------------------------

objects=10000
categories=100
hot_ids=1000
countries=20
authors=200
branches=20
members=1000
books=10000
copies=3
loans=2
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
[[ -z "$compare_rev" ]] || suffix="$suffix-vs-${compare_rev//[^A-Za-z0-9._-]/_}"
[[ -z "$compare_setting" ]] || suffix="$suffix-vs-${compare_setting//[^A-Za-z0-9._-]/_}"
out="${out:-bench/results/${run_date}${suffix}.md}"

bench_who="run.sh"
# shellcheck source=bench/lib.sh
source bench/lib.sh
results="$scratch_dir/results.tsv"
: >"$results"

bench_describe_machine
bench_build
new_bin="$server_bin"
bins=(new)
if [[ -n "$compare_rev" ]]; then
  bench_build_rev "$compare_rev"
  bins+=(old)
elif [[ -n "$compare_setting" ]]; then
  # The same binary; "old" runs with the setting.
  old_bin="$new_bin"
  old_sha="$(git rev-parse HEAD)"
  old_short="this checkout with $compare_setting"
  old_subject="the same binary"
  bins+=(old)
fi

# -- servers ------------------------------------------------------------------

# The cqrsd configuration, but for http, of domain $1 on backend $2 for
# binary $3 (each binary has its own database) with cache_enabled $4; "old"
# gets --compare-setting.
server_yaml() {
  local section="" key="" value="" query_extra=""
  if [[ "$3" == old && -n "$compare_setting" ]]; then
    section="${compare_setting%%.*}"
    key="${compare_setting#*.}"
    value="${key#*=}"
    key="${key%%=*}"
    if [[ "$section" == query ]]; then
      query_extra=", $key: $value"
    else
      echo "$section: {$key: $value}"
    fi
  fi
  echo "node: {name: bench}"
  if [[ "$1" != objects ]]; then
    echo "domain: \"$repo_root/domains/$1.yaml\""
  fi
  if [[ "$2" == sqlite ]]; then
    echo "database: {backend: sqlite, sqlite_path: \"$scratch_dir/sqlite-$1-$3/cqrsd.db\"}"
  else
    echo "database: {backend: postgresql, postgresql: \"host=127.0.0.1 port=$pg_port user=cqrsd dbname=cqrsd_bench_$1_$3\"}"
  fi
  echo "query: {actors: $query_actors, routing: key_affinity, cache_enabled: $4$query_extra}"
  echo "log: {level: warning}"
}

# Stops the running cqrsd and starts binary $1 ("new" or "old") afresh for
# domain $2 on backend $3 with cache_enabled $4.
fresh_server() {
  stop_server
  if [[ "$1" == new ]]; then server_bin="$new_bin"; else server_bin="$old_bin"; fi
  start_server "$2-$3-$1-$4" "$(server_yaml "$2" "$3" "$1" "$4")"
}

# Empties the database of domain $1 on backend $2 for binary $3.
reset_database() {
  if [[ "$2" == sqlite ]]; then
    rm -rf "$scratch_dir/sqlite-$1-$3"
    mkdir -p "$scratch_dir/sqlite-$1-$3"
  else
    pg_psql -p "$pg_port" -c "DROP DATABASE IF EXISTS cqrsd_bench_$1_$3" \
      -c "CREATE DATABASE cqrsd_bench_$1_$3" >/dev/null \
      || fail "cannot create the database cqrsd_bench_$1_$3"
  fi
}

notes="$scratch_dir/notes.md"
: >"$notes"

# The binaries that serve each domain: "new", and "old" if its
# --check-config accepts a config naming that domain.
declare -A domain_bins
for dom in "${domains[@]}"; do
  domain_bins[$dom]="${bins[*]}"
  if [[ "$dom" != objects && -n "$old_bin" ]]; then
    config="$scratch_dir/check-$dom.yaml"
    mkdir -p "$scratch_dir/sqlite-$dom-old"
    server_yaml "$dom" sqlite old true >"$config"
    if ! "$old_bin" --check-config "$config" >"$config.out" 2>&1; then
      domain_bins[$dom]=new
      {
        echo "- $old_short cannot serve the $dom domain, so $dom ran on the new binary only. Its"
        echo "  \`--check-config\` said: $(head -c 300 "$config.out" | tr '\n' ' ')"
      } >>"$notes"
    fi
  fi
done

# -- scenarios ----------------------------------------------------------------

# Runs scenario $4 ("$7" in the report) of domain $1 on backend $2 against
# the running binary $3, round $5: a warm-up of $6 seconds (0: none), then the
# measured run with $8 connections; the rest as for wrk_run after the output
# file, duration and connections. Appends one line to the results.
scenario() {
  local dom="$1" db="$2" bin="$3" key="$4" round="$5" warm="$6" label="$7" conns="$8"
  local line hits misses load output
  shift 8
  output="$scratch_dir/wrk-$dom-$db-$key-$bin-$round.txt"
  if ((warm > 0)); then
    wrk_run "$output.warmup" "$warm" "$conns" "$@"
  fi
  echo "run.sh: [$dom, $db, $bin, round $round] $label: ${duration} s, $conns connections"
  load="$(load_1min)"
  hits="$(server_metric cqrsd_cache_hits_total)"
  misses="$(server_metric cqrsd_cache_misses_total)"
  wrk_run "$output" "$duration" "$conns" "$@"
  check_server
  hits=$(($(server_metric cqrsd_cache_hits_total) - hits))
  misses=$(($(server_metric cqrsd_cache_misses_total) - misses))
  line="$(wrk_summary "$output")"
  printf 'wrk\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$dom" "$db" "$key" "$bin" "$round" \
    "$label" "$conns" "$load" "$line" "$hits" "$misses" >>"$results"
  awk -F '\t' -v hits="$hits" -v misses="$misses" '{
    printf "run.sh:   %s req/s, p50 %s ms, p99 %s ms, %s requests, %s non-2xx, %s socket errors, %s cache hits, %s misses\n",
      $1, $2, $3, $4, $5, $6, hits, misses }' <<<"$line"
}

# Seeds the objects domain on the running server; sets seed_line to seconds
# and objects per second.
seed_objects() {
  local output="$scratch_dir/seed.txt"
  "$probe_bin" seed --port "$server_port" --objects "$objects" --categories "$categories" \
    --connections "$read_connections" >"$output" || fail "seeding failed"
  [[ "$(probe_value seed_max_object_id "$output")" == "$objects" ]] \
    || fail "seeding gave object ids up to $(probe_value seed_max_object_id "$output"), not 1..$objects"
  seed_line="$(probe_value seed_seconds "$output")"$'\t'"$(probe_value seed_objects_per_second "$output")"
}

# POSTs file $2's bodies to /$1 and checks that the view /$1 then holds the
# ids 1..lines and no more.
post_table() {
  local n
  n="$(wc -l <"$2")"
  post_all "/$1" "$2" "$read_connections"
  [[ "$(http_status "/$1/$n")" == 200 && "$(http_status "/$1/$((n + 1))")" == 404 ]] \
    || fail "seeding /$1 did not give the ids 1..$n"
}

# Seeds the library domain on the running server; sets seed_line to seconds
# and books per second.
seed_library() {
  local start end f="$scratch_dir/bodies"
  awk -v n="$countries" 'BEGIN { for (i = 1; i <= n; i++)
    printf "{\"code\":\"%c%c\",\"name\":\"country %d\"}\n", 65 + int((i - 1) / 26), 65 + (i - 1) % 26, i }' >"$f-countries"
  awk -v n="$authors" -v countries="$countries" 'BEGIN { for (i = 1; i <= n; i++)
    printf "{\"name\":\"author %d\",\"born\":%d,\"country_id\":%d}\n", i, 1900 + i % 100, 1 + (i - 1) % countries }' >"$f-authors"
  awk -v n="$branches" 'BEGIN { for (i = 1; i <= n; i++)
    printf "{\"name\":\"branch %d\",\"city\":\"city %d\"}\n", i, 1 + (i - 1) % 5 }' >"$f-branches"
  awk -v n="$members" -v branches="$branches" 'BEGIN { for (i = 1; i <= n; i++)
    printf "{\"name\":\"member %d\",\"email\":\"member%d@example.org\",\"home_branch_id\":%d,\"card\":{\"number\":\"%08d\"}}\n",
      i, i, 1 + (i - 1) % branches, i }' >"$f-members"
  awk -v n="$books" -v authors="$authors" -v branches="$branches" -v members="$members" \
    -v copies="$copies" -v loans="$loans" 'BEGIN {
    split("hardcover paperback ebook", formats, " ")
    for (b = 1; b <= n; b++) {
      line = sprintf("{\"title\":\"book %d\",\"isbn\":\"isbn-%d\",\"format\":\"%s\",\"price\":%d.%02d,\"in_print\":%s,\"author_id\":%d,\"copies\":[",
        b, b, formats[1 + b % 3], 1 + b % 80, b % 100, (b % 4 ? "true" : "false"), 1 + (b - 1) % authors)
      for (c = 1; c <= copies; c++) {
        line = line sprintf("%s{\"barcode\":\"s%d-%d\",\"branch_id\":%d,\"loans\":[", (c > 1 ? "," : ""), b, c, 1 + (b + c) % branches)
        for (l = 1; l <= loans; l++)
          line = line sprintf("%s{\"member_id\":%d,\"due_on\":\"2026-12-%02d\",\"returned\":%s}", (l > 1 ? "," : ""),
            1 + (b * 7 + c * 13 + l * 31) % members, 1 + (b + l) % 28, ((b + c + l) % 2 ? "true" : "false"))
        line = line "]}"
      }
      print line "]}"
    }
  }' >"$f-books"
  start="$(date +%s.%N)"
  post_table countries "$f-countries"
  post_table authors "$f-authors"
  post_table branches "$f-branches"
  post_table members "$f-members"
  post_table books "$f-books"
  end="$(date +%s.%N)"
  seed_line="$(awk -v a="$start" -v b="$end" -v n="$books" 'BEGIN { printf "%.2f\t%.0f", b - a, n / (b - a) }')"
}

# Runs every scenario of domain $1 on backend $2: for each block of
# scenarios and each round, on each binary in turn, a fresh process.
run_domain() {
  local dom="$1" db="$2" bin round base key
  local -a dbins
  read -r -a dbins <<<"${domain_bins[$dom]}"
  for bin in "${dbins[@]}"; do
    reset_database "$dom" "$db" "$bin"
  done
  if [[ "$dom" == objects ]]; then base=/objects; else base=/books; fi
  # The write scripts and their arguments.
  local -a put mixed
  if [[ "$dom" == objects ]]; then
    put=(put.lua "$objects" "$categories")
    mixed=(mixed.lua "$hot_ids" "$categories" 5)
  else
    put=(library_put.lua "$books" @run "$authors" "$branches" "$members" "$copies" "$loans")
    mixed=(library_mixed.lua "$hot_ids" @run "$authors" "$branches" "$members" "$copies" "$loans" 5)
  fi

  for bin in "${dbins[@]}"; do
    fresh_server "$bin" "$dom" "$db" true
    echo "run.sh: [$dom, $db, $bin] seeding"
    "seed_$dom"
    printf 'seed\t%s\t%s\t%s\t%s\n' "$dom" "$db" "$bin" "$seed_line" >>"$results"
    echo "run.sh:   seeded in ${seed_line%%$'\t'*} s"
  done

  # The ceiling and the hit path, on the same process one after the other.
  for ((round = 1; round <= rounds; round++)); do
    for bin in "${dbins[@]}"; do
      fresh_server "$bin" "$dom" "$db" true
      scenario "$dom" "$db" "$bin" healthz "$round" "$warmup" "GET /healthz (HTTP stack ceiling)" \
        "$read_connections" /healthz -
      get_all "$base" 1 "$hot_ids"
      scenario "$dom" "$db" "$bin" hot "$round" "$warmup" "hot reads: GET $base/{id}, $hot_ids ids, all cached" \
        "$read_connections" / hot.lua "$hot_ids" "$base"
      if [[ "$dom" == objects ]] && ((round == 1)); then
        visibility "$dom" "$db" "$bin"
      fi
    done
  done

  # A fresh process: the Zipf reads start from a cold cache.
  for ((round = 1; round <= rounds; round++)); do
    for bin in "${dbins[@]}"; do
      fresh_server "$bin" "$dom" "$db" true
      key="$([[ "$dom" == objects ]] && echo "$objects ids" || echo "$books books")"
      scenario "$dom" "$db" "$bin" zipf "$round" 0 "Zipf reads of GET $base/{id} over all $key, cold cache" \
        "$read_connections" / zipf.lua "${key%% *}" 110 "$base"
      # The backend's own limit, on the same disk and server, right before
      # each writes run and once more right after the last.
      anchor "$dom" "$db" "before writes ($bin, round $round)"
      scenario "$dom" "$db" "$bin" writes "$round" "$warmup" "writes: PUT $base/{id}$(
        [[ "$dom" == library ]] && echo ", $copies copies of $loans loans each")" "$write_connections" / "${put[@]}"
      if ((round == rounds)) && [[ "$bin" == "${dbins[-1]}" ]]; then
        anchor "$dom" "$db" "after writes ($bin, round $round)"
      fi
      if [[ "$dom" == library ]]; then
        scenario "$dom" "$db" "$bin" creates "$round" "$warmup" \
          "creates: POST /books, $copies copies of $loans loans each" "$write_connections" / \
          library_post.lua @run "$authors" "$branches" "$members" "$copies" "$loans"
      fi
      # Cache the hot ids first, so that the writes invalidate cached views.
      get_all "$base" 1 "$hot_ids"
      scenario "$dom" "$db" "$bin" mixed "$round" "$warmup" "mixed 95% reads / 5% writes over $hot_ids ids" \
        "$read_connections" / "${mixed[@]}"
    done
  done

  if [[ "$dom" == objects ]]; then
    for ((round = 1; round <= rounds; round++)); do
      for bin in "${dbins[@]}"; do
        fresh_server "$bin" "$dom" "$db" false
        scenario "$dom" "$db" "$bin" nocache "$round" "$warmup" "Zipf reads, cache_enabled: false" \
          "$read_connections" / zipf.lua "$objects" 110
      done
    done
  fi
  stop_server
}

# -- anchors ------------------------------------------------------------------

# The limits of the backends themselves, measured in the same run as cqrsd's
# writes so that the report can give cqrsd's durable writes per second as a
# ratio to them. cqrsd is running but idle meanwhile.

# Creates the pgbench database on the PostgreSQL server (scale 1: 100,000
# accounts), once per bench run.
pgbench_database=cqrsd_bench_anchor
pgbench_ready=0
pgbench_init() {
  ((pgbench_ready)) && return 0
  [[ -x "$pg_bin/pgbench" ]] \
    || fail "no pgbench beside the PostgreSQL server ($pg_bin/pgbench); install Debian's postgresql-client package"
  pg_psql -p "$pg_port" -c "DROP DATABASE IF EXISTS $pgbench_database" \
    -c "CREATE DATABASE $pgbench_database" >/dev/null \
    || fail "cannot create the pgbench database $pgbench_database"
  echo "run.sh: pgbench -i -s 1 on $pgbench_database"
  pg_run "$pg_bin/pgbench" -i -q -s 1 -h 127.0.0.1 -p "$pg_port" -U cqrsd "$pgbench_database" \
    >"$scratch_dir/pgbench-init.txt" 2>&1 || {
    cat "$scratch_dir/pgbench-init.txt" >&2
    fail "pgbench -i on $pgbench_database failed"
  }
  pgbench_ready=1
}

anchor_runs=0

# Runs the anchor of backend $2 beside the writes of domain $1 (the report
# calls the run "$3") for as long as a measured writes run and appends one
# line to the results: per second, transactions, mean latency in ms.
#   sqlite: cqrsd-probe sqlite-commits, single-row INSERTs, one transaction
#     each, one connection, into a fresh file in the folder of cqrsd's
#     database (the same disk), WAL with synchronous=FULL like cqrsd.
#   postgresql: pgbench -N -M prepared on the same server at the writes'
#     connection count, over TCP loopback like cqrsd, after a warm-up as long
#     as the writes'.
anchor() {
  local dom="$1" db="$2" when="$3" output load rate count latency file
  anchor_runs=$((anchor_runs + 1))
  output="$scratch_dir/anchor-$dom-$db-$anchor_runs.txt"
  load="$(load_1min)"
  if [[ "$db" == sqlite ]]; then
    file="$scratch_dir/sqlite-$dom-new/anchor-$anchor_runs.db"
    echo "run.sh: [$dom, $db] anchor $when: single-row commits, ${duration} s, 1 connection"
    "$probe_bin" sqlite-commits --path "$file" --seconds "$duration" >"$output" \
      || fail "the SQLite anchor (cqrsd-probe sqlite-commits --path $file) failed"
    rm -f "$file" "$file-wal" "$file-shm"
    rate="$(probe_value sqlite_commits_per_second "$output")"
    count="$(probe_value sqlite_commits "$output")"
    latency="$(awk -v s="$(probe_value sqlite_seconds "$output")" -v n="$count" \
      'BEGIN { if (n > 0) printf "%.3f", 1000 * s / n }')"
    printf 'anchor\t%s\t%s\tsqlite\t%s\t%s\t1\t%s\t%s\t%s\n' "$dom" "$db" "$when" "$load" \
      "$rate" "$count" "$latency" >>"$results"
    echo "run.sh:   $rate commits/s ($count commits, mean $latency ms)"
  else
    pgbench_init
    echo "run.sh: [$dom, $db] anchor $when: pgbench -N -M prepared, ${duration} s, $write_connections connections"
    # A warm-up like the writes' (its figures are dropped): the first run
    # after pgbench -i, or after cqrsd's writes, starts on cold caches.
    if ((warmup > 0)) && ! pg_run "$pg_bin/pgbench" -N -M prepared -c "$write_connections" \
      -j "$wrk_threads" -T "$warmup" -h 127.0.0.1 -p "$pg_port" -U cqrsd "$pgbench_database" \
      >"$output.warmup" 2>&1; then
      cat "$output.warmup" >&2
      fail "pgbench -N -M prepared (warm-up) on $pgbench_database failed"
    fi
    if ! pg_run "$pg_bin/pgbench" -N -M prepared -c "$write_connections" -j "$wrk_threads" \
      -T "$duration" -h 127.0.0.1 -p "$pg_port" -U cqrsd "$pgbench_database" >"$output" 2>&1; then
      cat "$output" >&2
      fail "pgbench -N -M prepared on $pgbench_database failed"
    fi
    # "tps = 1234.5 (without initial connection time)"; older pgbench also
    # prints the rate including connections first.
    rate="$(sed -n 's/^tps = \([0-9.]*\) (without initial connection.*/\1/p;s/^tps = \([0-9.]*\) (excluding connections.*/\1/p' \
      "$output" | tail -n 1)"
    count="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$output")"
    latency="$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$output")"
    [[ -n "$rate" && -n "$count" ]] || {
      cat "$output" >&2
      fail "cannot read tps and transactions from pgbench's output"
    }
    rate="$(awk -v r="$rate" 'BEGIN { printf "%.0f", r }')"
    printf 'anchor\t%s\t%s\tpgbench\t%s\t%s\t%s\t%s\t%s\t%s\n' "$dom" "$db" "$when" "$load" \
      "$write_connections" "$rate" "$count" "$latency" >>"$results"
    echo "run.sh:   $rate tps ($count transactions, mean $latency ms)"
  fi
}

# Invalidation visibility of domain $1 (objects) on backend $2, binary $3.
visibility() {
  local output="$scratch_dir/visibility-$2-$3.txt" k
  echo "run.sh: [$1, $2, $3] invalidation visibility: $probe_samples samples"
  "$probe_bin" visibility --port "$server_port" --samples "$probe_samples" \
    --actors "$query_actors" --routing key_affinity \
    --miss-ids-from $((objects / 2 + 1)) >"$output" \
    || fail "the visibility probe failed"
  printf 'visibility\t%s\t%s\t%s' "$1" "$2" "$3" >>"$results"
  for k in visibility_samples visibility_p50_us visibility_p99_us visibility_max_us \
    visibility_stale_reads visibility_samples_with_stale miss_round_trip_p50_us miss_round_trip_p99_us; do
    printf '\t%s' "$(probe_value "$k" "$output")" >>"$results"
  done
  echo >>"$results"
  echo "run.sh:   p50 $(probe_value visibility_p50_us "$output") us, p99 $(probe_value visibility_p99_us "$output") us"
}

pg_started=0
for db in "${backends[@]}"; do
  echo "run.sh: ===== $db ====="
  if [[ "$db" == postgresql ]] && ((!pg_started)); then
    pg_start_primary
    pg_started=1
    echo "run.sh: PostgreSQL $pg_major running on 127.0.0.1:$pg_port (fsync on)"
  fi
  for dom in "${domains[@]}"; do
    run_domain "$dom" "$db"
  done
done

# -- the report ---------------------------------------------------------------

# shellcheck source=bench/report.sh
source bench/report.sh
mkdir -p "$(dirname "$out")"
write_report >"$out.tmp"
mv "$out.tmp" "$out"
echo "run.sh: report written to $out"
cat "$out"
