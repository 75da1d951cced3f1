#!/usr/bin/env bash
# The Markdown report of bench/run.sh, from its results file: the machine, the
# set-up, per domain and backend the figures of every run (and with
# --compare, new against old with their ratios), and the targets. Sourced by
# run.sh once the load has ended; write_report prints the report.
# shellcheck disable=SC2154  # run.sh's parameters and results

# The scenarios of domain $1, in the order of the report.
report_keys() {
  if [[ "$1" == objects ]]; then
    echo healthz hot zipf nocache writes mixed
  else
    echo healthz hot zipf writes creates mixed
  fi
}

# An awk function for the two medians below: the median of v[1..n], which
# it sorts in place (insertion sort: a handful of rounds).
awk_median='
function median_of(v, n,    i, j, x) {
  for (i = 2; i <= n; i++) {
    x = v[i]
    for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]
    v[j + 1] = x
  }
  return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}'

# The median over the rounds of field $5 of the wrk results of domain $1,
# backend $2, scenario $3 and binary $4; nothing when it was not measured.
median() {
  awk -F '\t' -v d="$1" -v db="$2" -v k="$3" -v b="$4" -v f="$5" "$awk_median"'
    $1 == "wrk" && $2 == d && $3 == db && $4 == k && $5 == b { v[++n] = $f + 0 }
    END { if (n > 0) print median_of(v, n) }' "$results"
}

# The median over its runs of the anchor of domain $1's runs on backend $2
# (per second: SQLite commits or pgbench tps); nothing when not measured.
anchor_median() {
  awk -F '\t' -v d="$1" -v db="$2" "$awk_median"'
    $1 == "anchor" && $2 == d && $3 == db { v[++n] = $8 + 0 }
    END { if (n > 0) printf "%.0f\n", median_of(v, n) }' "$results"
}

# The lowest and highest anchor of domain $1's runs on backend $2, as
# "low–high"; nothing when not measured.
anchor_range() {
  awk -F '\t' -v d="$1" -v db="$2" '
    $1 == "anchor" && $2 == d && $3 == db {
      v = $8 + 0
      if (n++ == 0 || v < lo) lo = v
      if (n == 1 || v > hi) hi = v
    }
    END { if (n > 0) printf "%.0f–%.0f\n", lo, hi }' "$results"
}

# The anchor's name on backend $1.
anchor_name() {
  if [[ "$1" == sqlite ]]; then
    echo "SQLite single-row commits/s (1 connection)"
  else
    echo "pgbench -N -M prepared tps ($write_connections connections)"
  fi
}

# The anchor's target on backend $1: PUT req/s ÷ anchor ≥ this.
anchor_target() {
  if [[ "$1" == sqlite ]]; then echo 6; else echo 2; fi
}

# Median req/s, p50 and p99 of domain $1, backend $2, scenario $3, binary $4.
rps() { median "$1" "$2" "$3" "$4" 10 | awk '{ printf "%.0f", $1 }'; }
p50() { median "$1" "$2" "$3" "$4" 11 | awk '{ printf "%.3f", $1 }'; }
p99() { median "$1" "$2" "$3" "$4" 12 | awk '{ printf "%.3f", $1 }'; }

# Field $4 of the seed or visibility line ($1) of domain $2, backend $3 and
# binary $5.
line_field() {
  awk -F '\t' -v kind="$1" -v d="$2" -v db="$3" -v f="$4" -v b="$5" \
    '$1 == kind && $2 == d && $3 == db && $4 == b { print $f }' "$results" | tail -n 1
}

# a ÷ b with two decimals; nothing when either is missing or b is 0.
ratio() {
  [[ -n "$1" && -n "$2" ]] || return 0
  awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b }'
}

# Whether any run of scenario $3 of domain $1 on backend $2 (by binary $4,
# or by any) had non-2xx answers or socket errors.
had_errors() {
  awk -F '\t' -v d="$1" -v db="$2" -v k="$3" -v b="${4:-}" '
    $1 == "wrk" && $2 == d && $3 == db && $4 == k && (b == "" || $5 == b) && $14 + $15 > 0 { bad = 1 }
    END { exit !bad }' "$results"
}

# The binaries that ran domain $1.
report_bins() {
  awk -F '\t' -v d="$1" '$1 == "wrk" && $2 == d && !seen[$5]++ { print $5 }' "$results"
}

# One line of a targets table: label, domain, backend, measured value,
# comparison ("ge" or "le"), target, unit, a note for the measured column,
# then the scenarios whose errors void the figure.
target_line() {
  local label="$1" dom="$2" db="$3" value="$4" cmp="$5" target="$6" unit="$7" note="$8"
  local sign verdict s
  shift 8
  sign="$([[ "$cmp" == ge ]] && echo "≥" || echo "≤")"
  if [[ -z "$value" ]]; then
    printf '| %s | %s | not measured | %s %s%s | — |\n' "$label" "$db" "$sign" "$target" "$unit"
    return
  fi
  verdict="$(verdict "$value" "$cmp" "$target")"
  for s in "$@"; do
    if had_errors "$dom" "$db" "$s"; then
      verdict="$verdict (errors in $s: not valid)"
    fi
  done
  printf '| %s | %s | %s%s%s | %s %s%s | %s |\n' "$label" "$db" "$value" "$unit" "$note" \
    "$sign" "$target" "$unit" "$verdict"
}

# The tables of domain $1 on backend $2.
domain_tables() {
  local dom="$1" db="$2" key n bin a b
  local -a dbins
  mapfile -t dbins < <(report_bins "$dom")
  echo
  echo "## $dom on $db"
  echo
  for bin in "${dbins[@]}"; do
    echo "Seeding ($bin): $(line_field seed "$dom" "$db" 5 "$bin") s," \
      "$(line_field seed "$dom" "$db" 6 "$bin") $([[ "$dom" == objects ]] && echo objects || echo books)/s."
  done
  if ((${#dbins[@]} > 1)); then
    a="$(line_field seed "$dom" "$db" 6 new)"
    b="$(line_field seed "$dom" "$db" 6 old)"
    echo "Seeding rate new ÷ old: $(ratio "$a" "$b")."
    echo
    echo "Medians over $rounds round(s); ratios are new ÷ old (above 1: the new binary serves more, or waits longer for p99)."
    echo
    echo "| # | scenario | connections | req/s new | req/s old | req/s new ÷ old | p50 ms new | p50 ms old | p99 ms new | p99 ms old | p99 new ÷ old |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    n=1
    for key in $(report_keys "$dom"); do
      a="$(rps "$dom" "$db" "$key" new)"
      b="$(rps "$dom" "$db" "$key" old)"
      if [[ -n "$a$b" ]]; then
        printf '| %s | %s%s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$n" \
          "$(awk -F '\t' -v d="$dom" -v db="$db" -v k="$key" '$1 == "wrk" && $2 == d && $3 == db && $4 == k { print $7; exit }' "$results")" \
          "$(if had_errors "$dom" "$db" "$key"; then echo " ⚠ errors"; fi)" \
          "$(awk -F '\t' -v d="$dom" -v db="$db" -v k="$key" '$1 == "wrk" && $2 == d && $3 == db && $4 == k { print $8; exit }' "$results")" \
          "$a" "$b" "$(ratio "$a" "$b")" \
          "$(p50 "$dom" "$db" "$key" new)" "$(p50 "$dom" "$db" "$key" old)" \
          "$(p99 "$dom" "$db" "$key" new)" "$(p99 "$dom" "$db" "$key" old)" \
          "$(ratio "$(p99 "$dom" "$db" "$key" new)" "$(p99 "$dom" "$db" "$key" old)")"
      fi
      n=$((n + 1))
    done
    echo
    echo "Every run:"
  fi
  echo
  echo "| # | scenario | binary | round | load (1 min) | connections | req/s | p50 ms | p99 ms | requests | non-2xx | socket errors | cache hits | cache misses |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  n=1
  for key in $(report_keys "$dom"); do
    awk -F '\t' -v d="$dom" -v db="$db" -v k="$key" -v n="$n" '
      $1 == "wrk" && $2 == d && $3 == db && $4 == k {
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s%s | %s%s | %s | %s |\n", n, $7, $5, $6, $9, $8,
          $10, $11, $12, $13, $14, ($14 > 0 ? " ⚠" : ""), $15, ($15 > 0 ? " ⚠" : ""), $16, $17 }' "$results"
    n=$((n + 1))
  done
  if [[ -n "$(anchor_median "$dom" "$db")" ]]; then
    echo
    echo "The anchor, $(anchor_name "$db"), measured right before each writes run and once after the"
    echo "last (cqrsd idle meanwhile):"
    echo
    echo "| anchor | when | load (1 min) | connections | per second | transactions | mean latency ms |"
    echo "|---|---|---|---|---|---|---|"
    awk -F '\t' -v d="$dom" -v db="$db" '$1 == "anchor" && $2 == d && $3 == db {
      printf "| %s | %s | %s | %s | %s | %s | %s |\n",
        ($4 == "sqlite" ? "SQLite single-row commits" : "pgbench -N -M prepared"), $5, $6, $7, $8, $9, $10 }' "$results"
    echo
    a="$(anchor_median "$dom" "$db")"
    for bin in "${dbins[@]}"; do
      b="$(rps "$dom" "$db" writes "$bin")"
      echo "PUT req/s ($bin) ÷ the anchor's median: $b ÷ $a = $(ratio "$b" "$a") (target ≥ $(anchor_target "$db");"
      echo "the anchor ranged over $(anchor_range "$dom" "$db"))."
      b="$(rps "$dom" "$db" creates "$bin")"
      if [[ -n "$b" ]]; then
        echo "POST req/s ($bin) ÷ the anchor's median: $b ÷ $a = $(ratio "$b" "$a")."
      fi
    done
  fi
  if [[ "$dom" == objects ]]; then
    echo
    echo "Invalidation visibility (7), the time from a write's acknowledgement until a poll without"
    echo "\`X-Min-Seq\` is answered with the new view, measured by \`cqrsd-probe visibility\`"
    echo "(key_affinity: the key's one query actor serves every poll). It is an upper bound: it"
    echo "includes one round trip, and the fresh answer comes from a fill (the read again that the"
    echo "write's invalidation started, with query.refresh_on_invalidation, or else the poll's own"
    echo "miss); a cold read's round trip (a fill) is shown for comparison."
    echo
    echo "| binary | samples | p50 ms | p99 ms | max ms | stale reads after the ack | samples with a stale read | cold read p50 ms | cold read p99 ms |"
    echo "|---|---|---|---|---|---|---|---|---|"
    awk -F '\t' -v d="$dom" -v db="$db" '$1 == "visibility" && $2 == d && $3 == db {
      printf "| %s | %s | %.3f | %.3f | %.3f | %s | %s | %.3f | %.3f |\n", $4, $5, $6 / 1000, $7 / 1000,
        $8 / 1000, $9, $10, $11 / 1000, $12 / 1000 }' "$results"
  fi
}

# The old binary's figure $1 (unit $2) as a note for the measured column,
# when the old binary ran (nothing otherwise).
old_note() {
  if [[ -n "$old_short" && -n "$1" ]]; then echo " (old: $1${2:-})"; fi
}

# The targets of the objects domain (and with --compare, the old binary's
# figures beside them), then the library's figures for reference.
targets() {
  local db want old note
  local -a dbins
  mapfile -t dbins < <(report_bins objects)
  echo
  echo "## Targets"
  echo
  echo "On the objects domain, the new binary's medians (with --compare, the old binary's figure in brackets)."
  echo
  echo "| target | backend | measured | target | result |"
  echo "|---|---|---|---|---|"
  for db in "${backends[@]}"; do
    old="$(ratio "$(rps objects "$db" hot old)" "$(rps objects "$db" healthz old)")"
    target_line "hot reads ÷ healthz" objects "$db" \
      "$(ratio "$(rps objects "$db" hot new)" "$(rps objects "$db" healthz new)")" ge 0.95 "" \
      "$(old_note "$old")" hot healthz
  done
  for db in "${backends[@]}"; do
    if [[ "$db" == postgresql ]]; then want=3; else want=1.2; fi
    old="$(ratio "$(rps objects "$db" hot old)" "$(rps objects "$db" nocache old)")"
    target_line "hot ÷ cache-disabled" objects "$db" \
      "$(ratio "$(rps objects "$db" hot new)" "$(rps objects "$db" nocache new)")" ge "$want" "" \
      "$(old_note "$old")" hot nocache
  done
  for db in "${backends[@]}"; do
    target_line "mixed 95/5 p99, $read_connections connections (on a quiet machine)" objects "$db" \
      "$(p99 objects "$db" mixed new)" le 5 " ms" "$(old_note "$(p99 objects "$db" mixed old)" " ms")" mixed
  done
  for db in "${backends[@]}"; do
    if [[ "$db" == sqlite ]]; then
      target_line "acknowledged durable writes/s, synchronous=FULL, $write_connections connections" objects "$db" \
        "$(rps objects "$db" writes new)" ge 10000 "" "$(old_note "$(rps objects "$db" writes old)")" writes
    fi
  done
  for db in "${backends[@]}"; do
    want="$(anchor_target "$db")"
    old="$(ratio "$(rps objects "$db" writes old)" "$(anchor_median objects "$db")")"
    note=" ($(rps objects "$db" writes new) ÷ $(anchor_median objects "$db"), anchor runs $(anchor_range objects "$db"))$(old_note "$old")"
    target_line "PUT /objects/{id} req/s ÷ $(anchor_name "$db"), same run" objects "$db" \
      "$(ratio "$(rps objects "$db" writes new)" "$(anchor_median objects "$db")")" ge "$want" "" \
      "$note" writes
  done
  if ((${#dbins[@]} > 1)); then
    for db in "${backends[@]}"; do
      note=" ($(rps objects "$db" writes new) ÷ $(rps objects "$db" writes old) req/s)"
      target_line "PUT /objects/{id} req/s, new ÷ old ($old_short)" objects "$db" \
        "$(ratio "$(rps objects "$db" writes new)" "$(rps objects "$db" writes old)")" ge 0.90 "" "$note" writes
    done
  fi
  for db in "${backends[@]}"; do
    note=""
    if ((${#dbins[@]} > 1)); then
      note="$(awk -F '\t' -v db="$db" '$1 == "visibility" && $2 == "objects" && $3 == db && $4 == "old" {
        printf " (old: %.3f ms)", $7 / 1000 }' "$results")"
    fi
    target_line "invalidation visibility p99, one node (upper bound)" objects "$db" \
      "$(awk -F '\t' -v db="$db" '$1 == "visibility" && $2 == "objects" && $3 == db && $4 == "new" {
        printf "%.3f", $7 / 1000 }' "$results")" le 1 " ms" "$note"
  done
  ceiling_notes
}

# After the targets table: a note for each backend whose anchor target asks
# for more PUT/s than the HTTP stack served in the same run with GET
# /healthz, which does no work. No PUT is served faster than that, so on
# this machine that target is out of reach, whatever the write path does.
ceiling_notes() {
  local db want anchor asked healthz
  for db in "${backends[@]}"; do
    want="$(anchor_target "$db")"
    anchor="$(anchor_median objects "$db")"
    healthz="$(rps objects "$db" healthz new)"
    asked="$(awk -v a="$anchor" -v w="$want" \
      'BEGIN { if (a > 0) printf "%.0f", a * w }')"
    [[ -n "$asked" && -n "$healthz" ]] || continue
    if ((asked > healthz)); then
      echo
      echo "On $db the anchor target asks for $want × $anchor = $asked PUT/s,"
      echo "more than this run's HTTP stack ceiling (GET /healthz, no work at all: $healthz req/s)."
      echo "No PUT is answered faster than that, so this target is out of reach on this machine."
    fi
  done
}

# The library's ratios, for reference: it has no targets of its own.
library_figures() {
  local db
  echo
  echo "## library, for reference"
  echo
  echo "| figure | backend | new |"
  echo "|---|---|---|"
  for db in "${backends[@]}"; do
    echo "| hot reads of GET /books/{id} ÷ healthz | $db | $(ratio "$(rps library "$db" hot new)" "$(rps library "$db" healthz new)") |"
  done
  for db in "${backends[@]}"; do
    echo "| hot ÷ cold Zipf reads | $db | $(ratio "$(rps library "$db" hot new)" "$(rps library "$db" zipf new)") |"
  done
  for db in "${backends[@]}"; do
    echo "| mixed 95/5 p99 | $db | $(p99 library "$db" mixed new) ms |"
  done
  for db in "${backends[@]}"; do
    echo "| writes: PUT /books/{id} with $copies copies of $loans loans, req/s (p99) | $db | $(rps library "$db" writes new) ($(p99 library "$db" writes new) ms)$(
      if had_errors library "$db" writes new; then echo " ⚠ errors"; fi) |"
    echo "| creates: POST /books with $copies copies of $loans loans, req/s (p99) | $db | $(rps library "$db" creates new) ($(p99 library "$db" creates new) ms)$(
      if had_errors library "$db" creates new; then echo " ⚠ errors"; fi) |"
  done
  for db in "${backends[@]}"; do
    echo "| PUT /books/{id} req/s ÷ $(anchor_name "$db") (objects' target: ≥ $(anchor_target "$db")) | $db | $(
      ratio "$(rps library "$db" writes new)" "$(anchor_median library "$db")") ($(rps library "$db" writes new) ÷ $(anchor_median library "$db")) |"
  done
}

# Prints the report.
write_report() {
  local db dom
  echo "# cqrsd benchmark, $run_date$( ((quick)) && echo " (quick)")$([[ -n "$old_short" ]] && echo ", against $old_short")"
  echo
  echo "Produced by \`bench/run.sh$( ((quick)) && echo " --quick") --backend $backend --domain $domain$(
    [[ -n "$compare_rev" ]] && echo " --compare $compare_rev")$(
    [[ -n "$compare_setting" ]] && echo " --compare-setting $compare_setting") --rounds $rounds\`, started $started_at."
  echo
  echo "## Machine"
  echo
  bench_machine_table
  echo
  echo "wrk runs on the same machine as cqrsd ($wrk_threads wrk threads): both share"
  echo "the $cores cores, and so do whatever else ran at the time (see the load averages;"
  echo "each run's 1-minute load average when it started is in its row)."
  echo "Everything talks over loopback."
  echo
  echo "## Set-up"
  echo
  if [[ -n "$old_short" ]]; then
    echo "- **new** is this checkout's cqrsd, **old** is $old_short's, built the same way. Each scenario"
    echo "  runs on new, then on old, $rounds time(s) (new, old, new, old...), each run on a freshly"
    echo "  started process with the same configuration and a database of its own, seeded the same way."
  fi
  if [[ " ${domains[*]} " == *" objects "* ]]; then
    echo "- objects (the built-in domain): $objects objects over $categories categories and $categories related objects, seeded through the API (\`cqrsd-probe seed\`)."
  fi
  if [[ " ${domains[*]} " == *" library "* ]]; then
    echo "- library (\`domains/library.yaml\`): $countries countries, $authors authors, $branches branches, $members members (each with a card)"
    echo "  and $books books, each with $copies copies of $loans loans, seeded through the API with curl ($read_connections parallel connections)."
    echo "  Its reads are \`GET /books/{id}\`: the book joined to its author and the author's country, with"
    echo "  the copies (each joined to its branch) and each copy's loans (each joined to its member)."
    echo "  Its writes are \`PUT /books/{id}\` with $copies new copies of $loans loans each (fresh title, ISBN and barcodes),"
    echo "  which replaces the book's owned arrays, and its creates \`POST /books\` with as many (inserts only)."
  fi
  echo "- cqrsd: \`http.threads: $http_threads\`, \`query.actors: $query_actors\`, \`routing: key_affinity\`, \`log.level: warning\`, other settings at their defaults (SQLite WAL with \`synchronous=FULL\`)."
  if [[ " ${backends[*]} " == *" postgresql "* ]]; then
    echo "- PostgreSQL: a throw-away server on loopback with fsync on (default durability), \`max_connections=200\`."
  fi
  echo "- Anchors, the backend's own limit, measured in the same run on the same disk and server, right before each writes run and once after the last (cqrsd idle meanwhile), each for ${duration} s:"
  if [[ " ${backends[*]} " == *" sqlite "* ]]; then
    echo "  on SQLite, \`cqrsd-probe sqlite-commits\`: single-row INSERTs, one transaction each, on one connection, into a fresh file"
    echo "  in the folder of cqrsd's database, with cqrsd's pragmas (WAL, \`synchronous=FULL\`) and SQLite's automatic checkpoint;"
  fi
  if [[ " ${backends[*]} " == *" postgresql "* ]]; then
    echo "  on PostgreSQL, \`pgbench -N -M prepared -c $write_connections -j $wrk_threads\` (scale 1) on the same server over TCP loopback, at the writes' connection count, after a ${warmup} s warm-up;"
  fi
  echo "  the targets compare the median PUT req/s with the median anchor."
  echo "- Each scenario: ${duration} s measured after a ${warmup} s warm-up (none for the cold-cache run), $read_connections connections for reads and mixed, $write_connections for writes."
  echo "- healthz and hot reads run on one process; before the hot and the mixed runs each of the $hot_ids hot ids is read once, which caches it."
  echo "- The cold Zipf run starts on a freshly started cqrsd, then the writes and the mixed run follow on it."
  if [[ " ${domains[*]} " == *" objects "* ]]; then
    echo "  The cache-disabled run (objects) is warmed up like the others (database page cache warm)."
  fi
  echo "- Latencies are wrk's (\`--latency\`); p50 and p99 in milliseconds. Cache hits and misses are the growth of \`cqrsd_cache_hits_total\` and \`cqrsd_cache_misses_total\` over the measured run (hot reads should have no misses)."
  for dom in "${domains[@]}"; do
    for db in "${backends[@]}"; do
      domain_tables "$dom" "$db"
    done
  done
  if [[ " ${domains[*]} " == *" objects "* ]]; then
    targets
  fi
  if [[ " ${domains[*]} " == *" library "* ]]; then
    library_figures
  fi
  echo
  echo "The 100,000-actor targets are measured by \`bench/scale.sh\` (its own report)."
  echo "A line marked \"errors … not valid\" came from a scenario with non-2xx answers or"
  echo "socket errors: its figure does not count."
  if [[ -s "$notes" ]]; then
    echo
    cat "$notes"
  fi
}
