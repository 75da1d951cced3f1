#!/usr/bin/env bash
# Shared by bench/run.sh and bench/scale.sh: clean-up on exit, the machine
# description, the Release build (and that of another revision, for
# --compare), starting and stopping cqrsd, bulk requests with curl, and wrk
# runs with their parsed results. Source it from the repository root after
# setting bench_who (the name in messages).
# shellcheck disable=SC2034  # the variables set here are read by the callers

bench_who="${bench_who:-bench}"

fail() {
  echo "$bench_who: FAILED: $*" >&2
  exit 1
}

# -- cleanup on exit ----------------------------------------------------------

cleanup_who="$bench_who"
# shellcheck source=scripts/lib/cleanup.sh
source scripts/lib/cleanup.sh

scratch_dir="$(mktemp -d "${TMPDIR:-/tmp}/cqrsd-bench.XXXXXX")"
on_exit "rm -rf '$scratch_dir'"

# The throw-away PostgreSQL server's functions (started only when needed).
# Unlike the tests' server it keeps fsync on: acknowledged writes are durable.
pg_dir="$scratch_dir/pg"
pg_who="$bench_who"
pg_server_options="-c max_connections=200"
# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh

# -- the machine --------------------------------------------------------------

# Describes the machine and the checkout (call it before the load starts).
bench_describe_machine() {
  load_before="$(cut -d ' ' -f 1-3 /proc/loadavg)"
  cpu_model="$(grep -m 1 '^model name' /proc/cpuinfo | cut -d : -f 2- | sed 's/^ *//' || true)"
  cpu_model="${cpu_model:-unknown}"
  cores="$(nproc)"
  mem_total="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  kernel="$(uname -srm)"
  commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
    commit="$commit (with uncommitted changes)"
  fi
  started_at="$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
}

# Prints the machine table of a report (call it once the load has ended).
bench_machine_table() {
  local load_after
  load_after="$(cut -d ' ' -f 1-3 /proc/loadavg)"
  echo "| | |"
  echo "|---|---|"
  echo "| CPU | $cpu_model |"
  echo "| cores | $cores |"
  echo "| memory | $mem_total |"
  echo "| kernel | $kernel |"
  echo "| load average (1, 5, 15 min) before the run | $load_before |"
  echo "| load average after the run | $load_after |"
  echo "| git commit | $commit |"
  echo "| build | Release (\`build-release/\`, tests off) |"
  if [[ -n "${old_bin:-}" ]]; then
    echo "| compared with | $old_short ($old_subject), Release (\`${old_bin#"$PWD/"}\`) |"
  fi
}

# The 1-minute load average now.
load_1min() {
  cut -d ' ' -f 1 /proc/loadavg
}

# -- dependencies and the Release build ---------------------------------------

# Installs what is missing and builds cqrsd and cqrsd-probe into
# build-release/ (JOBS parallel jobs, default 2).
bench_build() {
  local jobs="${JOBS:-2}"
  [[ "$jobs" =~ ^[1-9][0-9]*$ ]] || fail "JOBS must be a positive integer, got '$jobs'"
  bash scripts/deps.sh
  echo "$bench_who: building build-release/ (Release, with the bench tools)"
  cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DCQRSD_BUILD_TESTS=OFF \
    -DCQRSD_BUILD_BENCH=ON >/dev/null
  cmake --build build-release -j "$jobs" --target cqrsd cqrsd-probe
  server_bin="$PWD/build-release/cqrsd"
  probe_bin="$PWD/build-release/cqrsd-probe"
  wrk_dir="$PWD/bench/wrk"
}

old_bin=""
old_sha=""
old_short=""
old_subject=""

# Builds cqrsd at revision $1 the way bench_build builds this checkout
# (Release, tests and bench tools off), in a git worktree of it at
# build-release/compare/<short hash>/src, into .../build (JOBS parallel jobs).
# An existing worktree of that commit is reused, so ccache and make only
# redo what changed. Sets old_bin, old_sha, old_short and old_subject.
bench_build_rev() {
  local jobs="${JOBS:-2}" tree build
  old_sha="$(git rev-parse --verify --quiet "$1^{commit}")" \
    || fail "--compare: '$1' is not a commit of this repository"
  old_short="$(git rev-parse --short "$old_sha")"
  old_subject="$(git log -1 --format=%s "$old_sha")"
  tree="$PWD/build-release/compare/$old_short/src"
  build="$PWD/build-release/compare/$old_short/build"
  if [[ -e "$tree/.git" ]]; then
    [[ "$(git -C "$tree" rev-parse HEAD)" == "$old_sha" ]] \
      || fail "$tree is not at $old_sha; remove it (git worktree remove --force $tree) and run again"
  else
    mkdir -p "$(dirname "$tree")"
    # --force: a worktree whose folder was deleted with build-release/ is
    # still registered; it is replaced.
    git worktree add --force --detach "$tree" "$old_sha" >/dev/null \
      || fail "cannot add a git worktree of $old_sha at $tree"
  fi
  echo "$bench_who: building $old_short ($old_subject) in ${build#"$PWD/"} (Release)"
  cmake -S "$tree" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCQRSD_BUILD_TESTS=OFF \
    -DCQRSD_BUILD_BENCH=OFF >/dev/null
  cmake --build "$build" -j "$jobs" --target cqrsd
  old_bin="$build/cqrsd"
}

# -- the server under test ----------------------------------------------------

server_pid=""
server_port=""
server_log=""
# When cqrsd was launched (date +%s.%N), and the seconds from then until
# /readyz answered 200.
server_launched=""
server_ready_seconds=""

# Stops the running cqrsd (SIGTERM, then SIGKILL after 30 s).
# shellcheck disable=SC2317  # also invoked through on_exit
stop_server() {
  [[ -n "$server_pid" ]] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 300; i++)); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    echo "$bench_who: cqrsd $server_pid did not stop within 30 s; killing it" >&2
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
on_exit stop_server

# Starts cqrsd named $1 on a free loopback port with the YAML lines $2 (every
# section but http) and waits until /readyz answers 200, for at most $3
# seconds (default 120). Sets server_pid, server_port, server_log and
# server_launched and server_ready_seconds.
start_server() {
  local name="$1" yaml="$2" limit="${3:-120}" config attempt probe candidate
  local now
  config="$scratch_dir/cqrsd-$name.yaml"
  for ((attempt = 1; attempt <= 5; attempt++)); do
    server_port=""
    for ((probe = 0; probe < 100; probe++)); do
      candidate=$((40001 + RANDOM % 20000))
      if pg_port_is_free "$candidate"; then
        server_port=$candidate
        break
      fi
    done
    [[ -n "$server_port" ]] || fail "found no free loopback port in 40001..60000"
    printf 'http: {listen: "127.0.0.1:%s", threads: %s}\n%s\n' \
      "$server_port" "${http_threads:-64}" "$yaml" >"$config"
    server_log="$scratch_dir/cqrsd-$name-$attempt.log"
    server_launched="$(date +%s.%N)"
    "$server_bin" --config "$config" 2>"$server_log" &
    server_pid=$!
    while kill -0 "$server_pid" 2>/dev/null; do
      if curl -fsS -o /dev/null "http://127.0.0.1:$server_port/readyz" 2>/dev/null; then
        now="$(date +%s.%N)"
        server_ready_seconds="$(awk -v a="$server_launched" -v b="$now" 'BEGIN { printf "%.3f", b - a }')"
        return 0
      fi
      now="$(date +%s.%N)"
      if awk -v a="$server_launched" -v b="$now" -v l="$limit" 'BEGIN { exit !(b - a > l) }'; then
        stop_server
        cat "$server_log" >&2
        fail "cqrsd ($name) was not ready within $limit s"
      fi
      sleep 0.01
    done
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
    if ! grep -qi 'in use\|bind' "$server_log"; then
      cat "$server_log" >&2
      fail "cqrsd ($name) exited during start-up (config $config)"
    fi
    echo "$bench_who: port $server_port was taken meanwhile; trying another" >&2
  done
  fail "cqrsd could not bind a free port in 5 attempts"
}

# Fails when the server died (its log is printed).
check_server() {
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$server_log" >&2
    fail "cqrsd died during the run"
  fi
}

# The server's resident memory in MiB (VmRSS).
server_rss_mib() {
  awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"
}

# The value of the series $1 on the server's /metrics (0 when absent),
# summed over its labels if it has any.
server_metric() {
  curl -fsS "http://127.0.0.1:$server_port/metrics" 2>/dev/null \
    | awk -v name="$1" '$1 == name || index($1, name "{") == 1 { v += $2 } END { printf "%.0f\n", v }'
}

# -- bulk requests with curl --------------------------------------------------

# The HTTP status of GET $1 on the server.
http_status() {
  curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$server_port$1"
}

# Reads $1/{id} for every id in $2..$3 once, in order on one keep-alive
# connection, and fails unless each answers 200. With key_affinity routing
# that caches each view in its query actor.
get_all() {
  local codes="$scratch_dir/get-all.txt" ok
  curl -sS -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$server_port$1/[$2-$3]" >"$codes" \
    || fail "reading $1/{$2..$3} failed"
  ok="$(grep -c '^200$' "$codes" || true)"
  ((ok == $3 - $2 + 1)) \
    || fail "reading $1/{$2..$3}: $ok of $(($3 - $2 + 1)) answered 200 (first other: $(grep -v -m 1 '^200$' "$codes"))"
}

# POSTs every line of file $2 (one JSON object per line) to path $1, over $3
# parallel keep-alive connections, and fails unless each answers 201. On a
# fresh table the rows get the ids 1..lines, in some order.
post_all() {
  local path="$1" bodies="$2" conns="$3" config="$scratch_dir/post-all.curl"
  local codes="$scratch_dir/post-all.txt" n ok
  n="$(wc -l <"$bodies")"
  # A curl config file: one block per request. Inside double quotes \ and "
  # are escaped (by hand: awks differ on backslashes in gsub).
  awk -v url="http://127.0.0.1:$server_port$path" '{
      rest = $0
      body = ""
      while ((i = match(rest, /[\\"]/)) > 0) {
        body = body substr(rest, 1, i - 1) "\\" substr(rest, i, 1)
        rest = substr(rest, i + 1)
      }
      body = body rest
      if (NR > 1) print "next"
      print "silent\nshow-error\nurl = \"" url "\"\noutput = \"/dev/null\""
      print "header = \"Content-Type: application/json\""
      print "data = \"" body "\""
      print "write-out = \"%{http_code}\\n\""
    }' "$bodies" >"$config"
  # In parallel mode curl draws its progress meter even when silent: its
  # stderr is kept for errors only.
  if ! curl --parallel --parallel-max "$conns" -K "$config" >"$codes" 2>"$codes.err"; then
    tr '\r' '\n' <"$codes.err" | grep -v '^ *\(DL%\|--\|[0-9]\)' >&2 || true
    fail "POST $path failed"
  fi
  ok="$(grep -c '^201$' "$codes" || true)"
  ((ok == n)) \
    || fail "POST $path: $ok of $n answered 201 (first other: $(grep -v -m 1 '^201$' "$codes"))"
}

# -- wrk ----------------------------------------------------------------------

# wrk runs so far: an argument @run of wrk_run becomes this number.
wrk_runs=0

# Runs wrk (wrk_threads threads, default 2) for $2 seconds with $3
# connections against path $4, with the Lua script $5 of bench/wrk (or "-"
# for none) and its arguments after; the output goes to the file $1. An
# argument "@run" is replaced by a number unique to this wrk run within the
# bench run (the library scripts build unique values from it).
wrk_run() {
  local output="$1" seconds="$2" conns="$3" path="$4" script="$5" arg
  shift 5
  wrk_runs=$((wrk_runs + 1))
  local -a cmd=(wrk -t "${wrk_threads:-2}" -c "$conns" -d "${seconds}s" --latency --timeout 10s)
  if [[ "$script" != "-" ]]; then
    cmd+=(-s "$wrk_dir/$script")
  fi
  cmd+=("http://127.0.0.1:$server_port$path")
  if (($# > 0)); then
    cmd+=(--)
    for arg in "$@"; do
      [[ "$arg" == "@run" ]] && arg="$wrk_runs"
      cmd+=("$arg")
    done
  fi
  if ! "${cmd[@]}" >"$output" 2>&1 || ! grep -q '^Requests/sec' "$output"; then
    cat "$output" >&2
    fail "wrk failed: ${cmd[*]}"
  fi
}

# Prints wrk's output file $1 as one tab-separated line: req/s, p50 ms,
# p99 ms, requests, non-2xx answers, socket errors (connect, read, write and
# timeout summed).
wrk_summary() {
  awk '
    function ms(x) {
      if (x ~ /us$/) return x / 1000
      if (x ~ /ms$/) return x + 0
      if (x ~ /m$/) return x * 60000
      if (x ~ /s$/) return x * 1000
      return x + 0
    }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    / requests in / { requests = $1 }
    /Socket errors:/ { gsub(/,/, ""); socket = $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    /^Requests\/sec:/ { rps = $2 }
    END {
      printf "%.0f\t%.3f\t%.3f\t%d\t%d\t%d\n", rps, p50, p99, requests, non2xx + 0, socket + 0
    }' "$1"
}

# Prints the value of key $1 from the probe's key=value output in file $2.
probe_value() {
  sed -n "s/^$1=//p" "$2" | tail -n 1
}

# Prints "PASS" or "MISS": whether value $1 is ≥ (cmp "ge") or ≤ ("le") $3.
verdict() {
  awk -v v="$1" -v c="$2" -v t="$3" \
    'BEGIN { ok = (c == "ge") ? (v >= t) : (v <= t); print ok ? "PASS" : "MISS" }'
}
