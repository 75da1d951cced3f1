#!/usr/bin/env bash
# Shared by bench/run.sh and bench/scale.sh: clean-up on exit, the machine
# description, the Release build, starting and stopping cqrsd, and wrk runs
# with their parsed results. Source it from the repository root after
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

# The value of the series $1 on the server's /metrics (0 when absent).
server_metric() {
  curl -fsS "http://127.0.0.1:$server_port/metrics" 2>/dev/null \
    | awk -v name="$1" '$1 == name { v = $2 } END { print v + 0 }'
}

# -- wrk ----------------------------------------------------------------------

# Runs wrk (wrk_threads threads, default 2) for $2 seconds with $3
# connections against path $4, with the Lua script $5 of bench/wrk (or "-"
# for none) and its arguments after; the output goes to the file $1.
wrk_run() {
  local output="$1" seconds="$2" conns="$3" path="$4" script="$5"
  shift 5
  local -a cmd=(wrk -t "${wrk_threads:-2}" -c "$conns" -d "${seconds}s" --latency --timeout 10s)
  if [[ "$script" != "-" ]]; then
    cmd+=(-s "$wrk_dir/$script")
  fi
  cmd+=("http://127.0.0.1:$server_port$path")
  if (($# > 0)); then
    cmd+=(-- "$@")
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
