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
#   scripts/cluster-demo.sh            # builds build/cqrsd first if it is missing
#   scripts/cluster-demo.sh --rebuild  # runs scripts/build.sh cqrsd first
#
# Environment: CQRSD_BINARY (the server to run, default build/cqrsd),
# TMPDIR (where the temporary folder goes). As root, the PostgreSQL server runs
# as the `postgres` system user (initdb and postgres refuse to run as root).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

rebuild=false
case "${1:-}" in
  "") ;;
  --rebuild) rebuild=true ;;
  -h | --help)
    sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "cluster-demo.sh: unknown argument '$1' (try --help)" >&2
    exit 2
    ;;
esac

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
node_pids=()
node_names=()

# Stops the nodes (SIGTERM, then SIGKILL after 10 s), then the server, then
# removes the temporary folder. Runs once, on every exit path.
# shellcheck disable=SC2317  # invoked through the EXIT trap
cleanup() {
  local status=$? i pid deadline
  trap - EXIT INT TERM
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

# -- configurations -----------------------------------------------------------

cluster_port="$(free_port)"
command_http="$(free_port)"
q1_http="$(free_port)"
q2_http="$(free_port)"

# Writes a node's configuration: the shipped example with its own name,
# HTTP address and cluster addresses. The example keeps
# `postgresql: "${CQRSD_POSTGRESQL}"`, which the node reads from the
# environment.
write_config() { # template name http_port out
  local template=$1 name=$2 http_port=$3 out=$4
  sed -e "s|^  name: .*|  name: $name|" \
    -e "s|^  listen: \"127.0.0.1:8[0-9]*\"|  listen: \"127.0.0.1:$http_port\"|" \
    -e "s|^  listen: \"127.0.0.1:7070\"|  listen: \"127.0.0.1:$cluster_port\"|" \
    -e "s|^  command_node: .*|  command_node: \"127.0.0.1:$cluster_port\"|" \
    "$template" >"$out"
  grep -q "127.0.0.1:$http_port" "$out" \
    || die "could not set the HTTP address in $out (did $template change?)"
  "$cqrsd" --check-config "$out" >/dev/null \
    || die "generated configuration $out is invalid"
}

write_config config/cluster-command.yaml command-1 "$command_http" \
  "$demo_dir/command.yaml"
grep -q "127.0.0.1:$cluster_port" "$demo_dir/command.yaml" \
  || die "could not set cluster.listen in $demo_dir/command.yaml"
write_config config/cluster-query.yaml query-1 "$q1_http" "$demo_dir/query-1.yaml"
write_config config/cluster-query.yaml query-2 "$q2_http" "$demo_dir/query-2.yaml"

# -- nodes --------------------------------------------------------------------

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

start_node command-1 "$demo_dir/command.yaml"
wait_ready command-1 "$command_http" '"status":"ready"'
start_node query-1 "$demo_dir/query-1.yaml"
start_node query-2 "$demo_dir/query-2.yaml"
linked='"caches":"in_use".*"command_node":"linked"|"command_node":"linked".*"caches":"in_use"'
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
with 503 + Retry-After. (This demo does not restart it.)

Press Ctrl-C to stop everything and remove $demo_dir.
EOF

# Waits for Ctrl-C; reports a node that ends by itself.
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
