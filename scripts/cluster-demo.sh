#!/usr/bin/env bash
# Runs a small cqrsd cluster on this machine until Ctrl-C:
#
#   - a throw-away PostgreSQL server (initdb into a temporary folder, TCP on a
#     free loopback port, socket in that folder),
#   - one command node and two query nodes on loopback, with configurations
#     generated from config/cluster-command.yaml and config/cluster-query.yaml,
#
# then prints how to talk to them. Ctrl-C (or SIGTERM) stops the nodes and the
# server and removes the temporary folder.
#
# With --failover it runs, on the same kind of server, two command-capable
# nodes and one query node instead (configurations generated from
# config/failover-command-1.yaml, config/failover-command-2.yaml and
# config/failover-query.yaml), and shows a takeover: it writes through the
# query node in a loop, one Idempotency-Key per write (a 503 is retried with
# the same key), kills the leader with kill -9 once a quarter of the writes
# are acknowledged, and prints which node leads after, the time from the kill
# to the first write acknowledged after it, and whether commit_log is gapless
# (psql). It then waits for Ctrl-C as above; the killed node stays down.
#
#   scripts/cluster-demo.sh             # builds build/cqrsd first if it is missing
#   scripts/cluster-demo.sh --rebuild   # runs scripts/build.sh cqrsd first
#   scripts/cluster-demo.sh --failover  # the takeover run (also with --rebuild)
#
# Environment: CQRSD_BINARY (the server to run, default build/cqrsd),
# TMPDIR (where the temporary folder goes), FAILOVER_WRITES (writes of the
# --failover run, 8..100000, default 200). As root, the PostgreSQL server runs
# as the `postgres` system user (initdb and postgres refuse to run as root).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

rebuild=false
failover=false
for arg in "$@"; do
  case "$arg" in
    --rebuild) rebuild=true ;;
    --failover) failover=true ;;
    -h | --help)
      # The comment block at the top of this file, without its '#'.
      sed -n '2,/^[^#]/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "cluster-demo.sh: unknown argument '$arg' (try --help)" >&2
      exit 2
      ;;
  esac
done
failover_writes="${FAILOVER_WRITES:-200}"
if [[ ! "$failover_writes" =~ ^[0-9]{1,6}$ ]] \
  || ((10#$failover_writes < 8 || 10#$failover_writes > 100000)); then
  echo "cluster-demo.sh: FAILOVER_WRITES must be 8..100000, got '$failover_writes'" >&2
  exit 2
fi
failover_writes=$((10#$failover_writes))

say() { echo "cluster-demo.sh: $*"; }
die() {
  echo "cluster-demo.sh: ERROR: $*" >&2
  exit 1
}

command -v curl >/dev/null 2>&1 || die "curl is not installed"

# -- clean-up -----------------------------------------------------------------

demo_dir=""
pg_dir=""
pg_bin=""
node_pids=()   # "" for a node that has ended (or that --failover killed)
node_names=()
writer_pid=""  # --failover: the background write loop while it runs

# Stops the write loop, the nodes (SIGTERM, then SIGKILL after 10 s), then the
# server, then removes the temporary folder. Runs once, on every exit path.
# shellcheck disable=SC2317  # invoked through the EXIT trap
cleanup() {
  local status=$? i pid deadline
  trap - EXIT INT TERM
  if [[ -n "$writer_pid" ]]; then
    # Reaped after the nodes: its curl ends when the query node stops.
    kill -TERM "$writer_pid" 2>/dev/null || true
  fi
  if ((${#node_pids[@]} > 0)); then
    say "stopping the nodes"
    # Query nodes first, so they do not spend their shutdown reconnecting.
    for ((i = ${#node_pids[@]} - 1; i >= 0; i--)); do
      if [[ -n "${node_pids[i]}" ]]; then
        kill -TERM "${node_pids[i]}" 2>/dev/null || true
      fi
    done
    deadline=$((SECONDS + 10))
    for pid in "${node_pids[@]}"; do
      [[ -n "$pid" ]] || continue
      while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.1
      done
      if kill -0 "$pid" 2>/dev/null; then
        say "node $pid did not stop within 10 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
      fi
      wait "$pid" 2>/dev/null || true
    done
  fi
  if [[ -n "$writer_pid" ]]; then
    wait "$writer_pid" 2>/dev/null || true
  fi
  if [[ -n "$pg_dir" && -f "$pg_dir/data/postmaster.pid" ]]; then
    say "stopping PostgreSQL"
    pg_run "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w -t 30 stop \
      >>"$pg_dir/pg_ctl.log" 2>&1 || {
      local pg_pid
      pg_pid="$(head -n 1 "$pg_dir/data/postmaster.pid" 2>/dev/null || true)"
      if [[ "$pg_pid" =~ ^[0-9]+$ ]]; then
        kill -KILL "$pg_pid" 2>/dev/null || true
      fi
    }
  fi
  if [[ -n "$demo_dir" && -d "$demo_dir" ]]; then
    rm -rf "$demo_dir"
    say "removed $demo_dir"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs a PostgreSQL server tool; as root, as the `postgres` user.
pg_run() {
  if ((EUID == 0)); then
    (cd "$pg_dir" && runuser -u postgres -- "$@")
  else
    (cd "$pg_dir" && "$@")
  fi
}

# Whether nothing accepts connections on 127.0.0.1:$1.
port_is_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Prints a loopback port in 20000..40000 that nobody listens on and that was
# not handed out before.
taken_ports=" "
free_port() {
  local probe candidate
  for ((probe = 0; probe < 200; probe++)); do
    candidate=$((20000 + RANDOM % 20001))
    if [[ "$taken_ports" != *" $candidate "* ]] && port_is_free "$candidate"; then
      taken_ports+="$candidate "
      echo "$candidate"
      return 0
    fi
  done
  die "found no free loopback port in 20000..40000"
}

# -- the binary ---------------------------------------------------------------

cqrsd="${CQRSD_BINARY:-$repo_root/build/cqrsd}"
if [[ "$rebuild" == true || ( -z "${CQRSD_BINARY:-}" && ! -x "$cqrsd" ) ]]; then
  say "building cqrsd (scripts/build.sh cqrsd)"
  bash scripts/build.sh cqrsd
fi
[[ -x "$cqrsd" ]] || die "no cqrsd binary at $cqrsd"

# -- PostgreSQL ---------------------------------------------------------------

pg_major=0
for candidate in /usr/lib/postgresql/*/bin; do
  major="${candidate#/usr/lib/postgresql/}"
  major="${major%/bin}"
  [[ "$major" =~ ^[0-9]+$ ]] || continue
  [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]] || continue
  if ((major > pg_major)); then
    pg_major=$major
    pg_bin=$candidate
  fi
done
[[ -n "$pg_bin" ]] \
  || die "no PostgreSQL server binaries in /usr/lib/postgresql/<major>/bin (install Debian's postgresql package; scripts/deps.sh does)"

demo_dir="$(mktemp -d "${TMPDIR:-/tmp}/cqrsd-cluster-demo.XXXXXX")"
pg_dir="$demo_dir/pg"
mkdir -p "$pg_dir"
if ((EUID == 0)); then
  id -u postgres >/dev/null 2>&1 \
    || die "running as root and there is no 'postgres' user to run the server as"
  # mktemp -d made the folder private; the server user must reach pg/.
  chmod 755 "$demo_dir"
  chown postgres: "$pg_dir"
fi

say "initdb into $pg_dir/data (PostgreSQL $pg_major)"
pg_run "$pg_bin/initdb" -D "$pg_dir/data" --auth=trust -U cqrsd -E UTF8 \
  --locale=C --no-sync >"$pg_dir/initdb.log" 2>&1 \
  || die "initdb failed; see $pg_dir/initdb.log: $(tail -n 5 "$pg_dir/initdb.log")"

pg_port="$(free_port)"
pg_run "$pg_bin/pg_ctl" -D "$pg_dir/data" -w -t 60 -l "$pg_dir/server.log" \
  -o "-h 127.0.0.1 -p $pg_port -k '$pg_dir'" start >"$pg_dir/pg_ctl.log" 2>&1 \
  || die "pg_ctl start failed on port $pg_port: $(tail -n 5 "$pg_dir/server.log" 2>/dev/null)"
"$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U cqrsd cqrsd \
  || die "createdb failed"
export CQRSD_POSTGRESQL="host=127.0.0.1 port=$pg_port user=cqrsd dbname=cqrsd"
say "PostgreSQL running on 127.0.0.1:$pg_port (database cqrsd)"

# -- configurations and nodes -------------------------------------------------

cluster_port=""   # cluster.listen of the command node (--failover: command-1)
cluster_port_2="" # --failover: cluster.listen of command-2

# Writes a node's configuration: the shipped example with its own name,
# HTTP address and cluster addresses (127.0.0.1:7070 becomes
# 127.0.0.1:$cluster_port and 127.0.0.1:7071 becomes 127.0.0.1:$cluster_port_2,
# in cluster.listen and cluster.command_node, string or list). The example
# keeps `postgresql: "${CQRSD_POSTGRESQL}"`, which the node reads from the
# environment.
write_config() { # template name http_port out
  local template=$1 name=$2 http_port=$3 out=$4
  sed -e "s|^  name: .*|  name: $name|" \
    -e "s|^  listen: \"127.0.0.1:8[0-9]*\"|  listen: \"127.0.0.1:$http_port\"|" \
    -e "/^ *#/!s|127\.0\.0\.1:7070|127.0.0.1:$cluster_port|g" \
    -e "/^ *#/!s|127\.0\.0\.1:7071|127.0.0.1:${cluster_port_2:-7071}|g" \
    "$template" >"$out"
  grep -q "127.0.0.1:$http_port" "$out" \
    || die "could not set the HTTP address in $out (did $template change?)"
  local settings
  settings="$(grep -v '^ *#' "$out" || true)"
  if grep -Eq '127\.0\.0\.1:(7[0-9]{3}|8[0-9]{3})([^0-9]|$)' <<<"$settings"; then
    die "a shipped address is left in $out (did $template change?)"
  fi
  "$cqrsd" --check-config "$out" >/dev/null \
    || die "generated configuration $out is invalid"
}

# Starts a node in the background; its output goes to <demo_dir>/<name>.log.
start_node() { # name config
  "$cqrsd" --config "$2" >"$demo_dir/$1.log" 2>&1 &
  node_pids+=("$!")
  node_names+=("$1")
}

# Waits (at most 20 s) until node $1 on HTTP port $2 answers /readyz with
# JSON matching the extended regex $3.
wait_ready() { # name port pattern
  local name=$1 port=$2 pattern=$3 body="" i
  for ((i = 0; i < 200; i++)); do
    body="$(curl -fsS --max-time 2 "http://127.0.0.1:$port/readyz" 2>/dev/null || true)"
    if [[ -n "$body" ]] && grep -Eq "$pattern" <<<"$body"; then
      say "$name ready: $body"
      return 0
    fi
    sleep 0.1
  done
  echo "---- $demo_dir/$name.log ----" >&2
  tail -n 30 "$demo_dir/$name.log" >&2 || true
  die "$name did not get ready on 127.0.0.1:$port within 20 s (last /readyz: ${body:-none})"
}

# Waits for Ctrl-C; reports a node that ends by itself.
watch_nodes() {
  local i pid rc
  while true; do
    for i in "${!node_pids[@]}"; do
      pid="${node_pids[i]}"
      if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null && rc=0 || rc=$?
        say "${node_names[i]} (pid $pid) ended with status $rc; see $demo_dir/${node_names[i]}.log"
        node_pids[i]=""
      fi
    done
    sleep 1
  done
}

linked='"caches":"in_use".*"command_node":"linked"|"command_node":"linked".*"caches":"in_use"'

# -- the cluster (default) ----------------------------------------------------

run_cluster() {
  cluster_port="$(free_port)"
  command_http="$(free_port)"
  q1_http="$(free_port)"
  q2_http="$(free_port)"

  write_config config/cluster-command.yaml command-1 "$command_http" \
    "$demo_dir/command.yaml"
  grep -q "127.0.0.1:$cluster_port" "$demo_dir/command.yaml" \
    || die "could not set cluster.listen in $demo_dir/command.yaml"
  write_config config/cluster-query.yaml query-1 "$q1_http" "$demo_dir/query-1.yaml"
  write_config config/cluster-query.yaml query-2 "$q2_http" "$demo_dir/query-2.yaml"

  start_node command-1 "$demo_dir/command.yaml"
  wait_ready command-1 "$command_http" '"status":"ready"'
  start_node query-1 "$demo_dir/query-1.yaml"
  start_node query-2 "$demo_dir/query-2.yaml"
  wait_ready query-1 "$q1_http" "$linked"
  wait_ready query-2 "$q2_http" "$linked"

  cat <<EOF

The cluster is up (folder $demo_dir):

  command node  http://127.0.0.1:$command_http   cluster.listen 127.0.0.1:$cluster_port
  query node 1  http://127.0.0.1:$q1_http
  query node 2  http://127.0.0.1:$q2_http
  PostgreSQL    $CQRSD_POSTGRESQL
  logs          $demo_dir/{command-1,query-1,query-2}.log

Write through query node 1 (each answer carries the commit's "seq"):

  curl -s -X POST http://127.0.0.1:$q1_http/categories \\
       -H 'Content-Type: application/json' -d '{"description":"books"}'
  curl -s -X POST http://127.0.0.1:$q1_http/related-objects \\
       -H 'Content-Type: application/json' \\
       -d '{"content_description":"cover","content_type":"image/png"}'
  curl -s -X POST http://127.0.0.1:$q1_http/objects \\
       -H 'Content-Type: application/json' \\
       -d '{"name":"dune","child":{"access_code":"A-1","related_object_id":1,"category_id":1}}'

Read your write on query node 2 (X-Min-Seq: the seq of the write above):

  curl -si http://127.0.0.1:$q2_http/objects/1 -H 'X-Min-Seq: 3'
  curl -s 'http://127.0.0.1:$q2_http/objects?category_id=1&limit=10'

State of a node (link to the command node, caches, seqs, query actors):

  curl -s http://127.0.0.1:$q2_http/status
  curl -s http://127.0.0.1:$q1_http/readyz
  curl -s http://127.0.0.1:$q1_http/metrics | grep -E 'cqrsd_(command_node_linked|caches_in_use|catch_ups_total|cache_hits_total)'

Try a fault: kill -9 the command node (pid ${node_pids[0]}); query nodes then
show "command_node":"unreachable", read from the database and answer writes
with 503 + Retry-After. (This demo does not restart it; for a standby that
takes over, run scripts/cluster-demo.sh --failover.)

Press Ctrl-C to stop everything and remove $demo_dir.
EOF
}

# -- the takeover (--failover) ------------------------------------------------

now_ms() { date +%s%3N; }

# Writes $2 categories through the node on HTTP port $1, one after the other,
# each with its own Idempotency-Key. A 503, or no answer at all, is retried
# with the same key every 50 ms, for at most 60 s per write; anything else
# but 200 or 201 stops the loop (the reason goes to $3.err). Appends one line
# per acknowledged write to $3:
#   <write> <sent_ms> <acked_ms> <status> <attempts> <seq> <replayed yes|no>
# where sent_ms is when the acknowledged attempt was sent. Runs in the
# background.
failover_writer() { # http_port count log
  local port=$1 count=$2 log=$3 i key status seq replayed sent acked attempts
  local give_up headers="$demo_dir/writer.headers" body="$demo_dir/writer.body"
  for ((i = 1; i <= count; i++)); do
    key="cluster-demo-failover-$i"
    attempts=0
    give_up=$(($(now_ms) + 60000))
    while true; do
      attempts=$((attempts + 1))
      sent="$(now_ms)"
      status="$(curl -sS -o "$body" -D "$headers" -w '%{http_code}' --max-time 10 \
        -X POST "http://127.0.0.1:$port/categories" \
        -H 'Content-Type: application/json' -H "Idempotency-Key: $key" \
        -d "{\"description\":\"failover demo $i\"}" 2>/dev/null || true)"
      acked="$(now_ms)"
      case "$status" in
        200 | 201) break ;;
        503 | 000) ;;
        *)
          echo "write $i answered $status: $(head -c 300 "$body" 2>/dev/null)" >"$log.err"
          return 1
          ;;
      esac
      if ((acked > give_up)); then
        echo "write $i still got no answer but 503 after 60 s" >"$log.err"
        return 1
      fi
      sleep 0.05
    done
    seq="$(sed -n 's/.*"seq":\([0-9][0-9]*\).*/\1/p' "$body")"
    replayed=no
    if grep -qi '^Idempotent-Replayed: *true' "$headers"; then replayed=yes; fi
    echo "$i $sent $acked $status $attempts ${seq:-?} $replayed" >>"$log"
  done
}

# Prints a /status field of the node on HTTP port $1: a string, a number or
# null, as JSON ("" when the node does not answer).
status_field() { # http_port field
  curl -fsS --max-time 2 "http://127.0.0.1:$1/status" 2>/dev/null \
    | grep -Eo "\"$2\":(\"[^\"]*\"|[0-9]+|null)" | head -n 1 | cut -d: -f2- || true
}

run_failover() {
  local -a http_ports
  local writes_log="$demo_dir/writes.log" kill_after=$((failover_writes / 4))
  local i leader="" victim="" victim_pid="" kill_ms acked rc psql rows lo hi

  cluster_port="$(free_port)"
  cluster_port_2="$(free_port)"
  http_ports=("$(free_port)" "$(free_port)" "$(free_port)")

  write_config config/failover-command-1.yaml command-1 "${http_ports[0]}" \
    "$demo_dir/command-1.yaml"
  write_config config/failover-command-2.yaml command-2 "${http_ports[1]}" \
    "$demo_dir/command-2.yaml"
  write_config config/failover-query.yaml query-1 "${http_ports[2]}" \
    "$demo_dir/query-1.yaml"
  if ! grep -q "listen: \"127.0.0.1:$cluster_port\"" "$demo_dir/command-1.yaml" \
    || ! grep -q "listen: \"127.0.0.1:$cluster_port_2\"" "$demo_dir/command-2.yaml"; then
    die "could not set cluster.listen in $demo_dir/command-{1,2}.yaml"
  fi

  # command-1 first, so that it leads; command-2 is then a standby linked to
  # it. node_pids[i] and http_ports[i] belong to the same node.
  start_node command-1 "$demo_dir/command-1.yaml"
  wait_ready command-1 "${http_ports[0]}" '"leadership":"leader"'
  start_node command-2 "$demo_dir/command-2.yaml"
  wait_ready command-2 "${http_ports[1]}" '"leadership":"standby"'
  start_node query-1 "$demo_dir/query-1.yaml"
  wait_ready query-1 "${http_ports[2]}" "$linked"

  for i in 0 1; do
    if [[ "$(status_field "${http_ports[i]}" leadership)" == '"leader"' ]]; then
      leader="${node_names[i]}"
      victim=$i
    fi
  done
  [[ -n "$leader" ]] || die "neither command node says \"leadership\":\"leader\" in /status"

  say "writing $failover_writes categories through query-1; kill -9 of the leader ($leader) after $kill_after"
  : >"$writes_log"
  failover_writer "${http_ports[2]}" "$failover_writes" "$writes_log" &
  writer_pid=$!
  while (($(wc -l <"$writes_log") < kill_after)); do
    if ! kill -0 "$writer_pid" 2>/dev/null; then
      die "the write loop stopped before the kill: $(cat "$writes_log.err" 2>/dev/null || echo 'no reason given')"
    fi
    sleep 0.01
  done

  victim_pid="${node_pids[victim]}"
  acked="$(wc -l <"$writes_log")"
  kill_ms="$(now_ms)"
  kill -KILL "$victim_pid"
  wait "$victim_pid" 2>/dev/null || true
  node_pids[victim]=""
  say "killed $leader (pid $victim_pid) with kill -9 after $acked acknowledged writes"

  wait "$writer_pid" && rc=0 || rc=$?
  writer_pid=""
  ((rc == 0)) || die "the write loop stopped: $(cat "$writes_log.err" 2>/dev/null || echo "status $rc")"

  # Which node leads now: the surviving command node and the query node say.
  local survivor=$((1 - victim))
  local new_leadership new_takeovers query_leader
  new_leadership="$(status_field "${http_ports[survivor]}" leadership)"
  new_takeovers="$(status_field "${http_ports[survivor]}" takeovers)"
  query_leader="$(status_field "${http_ports[2]}" leader)"

  # The first write acknowledged whose (last) attempt was sent after the
  # kill: no answer of the dead leader can be counted as one.
  local first_after="" first_write first_ms first_seq retried replayed
  read -r first_write first_ms first_seq < <(awk -v k="$kill_ms" \
    '$2 >= k { print $1, $3 - k, $6; exit }' "$writes_log") || true
  if [[ -n "${first_write:-}" ]]; then
    first_after="write $first_write, acknowledged $first_ms ms after the kill (seq $first_seq)"
  fi
  retried="$(awk '$5 > 1' "$writes_log" | wc -l)"
  replayed="$(awk '$7 == "yes"' "$writes_log" | wc -l)"

  # commit_log: one row per acknowledged write, seqs without a gap.
  psql="$pg_bin/psql"
  [[ -x "$psql" ]] || psql="$(command -v psql || true)"
  [[ -n "$psql" ]] || die "no psql to read commit_log (install Debian's postgresql-client)"
  read -r rows lo hi < <("$psql" -h 127.0.0.1 -p "$pg_port" -U cqrsd -d cqrsd -AqtX -F ' ' \
    -c 'SELECT count(*), coalesce(min(seq), 0), coalesce(max(seq), 0) FROM commit_log') \
    || die "psql could not read commit_log"
  local distinct_seqs
  distinct_seqs="$(awk '{ print $6 }' "$writes_log" | sort -u | wc -l)"

  cat <<EOF

Takeover (folder $demo_dir):

  killed        $leader (kill -9 after $acked acknowledged writes)
  leads now     ${node_names[survivor]}: "leadership":${new_leadership:-?}, "takeovers":${new_takeovers:-?}
  query-1       "leader":${query_leader:-?}
  first write   ${first_after:-none sent and acknowledged after the kill}
  writes        $failover_writes acknowledged, $retried of them after at least one 503 (retried with their key), $replayed replayed
  commit_log    $rows rows, seq $lo..$hi
  log line      $(grep -m 1 'took the lead' "$demo_dir/${node_names[survivor]}.log" 2>/dev/null || echo "(no 'took the lead' in ${node_names[survivor]}.log)")

EOF
  [[ -n "$first_after" ]] || die "no write was sent and acknowledged after the kill"
  [[ "$new_leadership" == '"leader"' ]] \
    || die "${node_names[survivor]} does not lead after the kill (\"leadership\":${new_leadership:-none})"
  ((rows == hi - lo + 1 && (rows == 0 || lo == 1))) \
    || die "commit_log has a gap: $rows rows for seq $lo..$hi"
  ((rows == failover_writes && distinct_seqs == failover_writes)) \
    || die "commit_log has $rows rows and the answers $distinct_seqs distinct seqs for $failover_writes writes (expected one commit per write)"
  say "commit_log is gapless: seq 1..$hi, one commit per acknowledged write"

  cat <<EOF

The cluster is still up, without $leader:

  leader      ${node_names[survivor]}  http://127.0.0.1:${http_ports[survivor]}
  query node  query-1    http://127.0.0.1:${http_ports[2]}
  PostgreSQL  $CQRSD_POSTGRESQL
  writes      $writes_log (write sent_ms acked_ms status attempts seq replayed)
  logs        $demo_dir/{command-1,command-2,query-1}.log

  curl -s http://127.0.0.1:${http_ports[survivor]}/status
  curl -s http://127.0.0.1:${http_ports[2]}/metrics | grep -E 'cqrsd_(leader|standby|takeovers_total|command_node_linked)'
  psql "$CQRSD_POSTGRESQL" -c 'SELECT max(seq), count(*) FROM commit_log'

Press Ctrl-C to stop everything and remove $demo_dir.
EOF
}

if [[ "$failover" == true ]]; then
  run_failover
else
  run_cluster
fi
watch_nodes
