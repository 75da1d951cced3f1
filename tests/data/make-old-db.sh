#!/usr/bin/env bash
# Makes the old-database fixtures of the domain_schema suite: what a cqrsd of
# an earlier release (built-in domain only) leaves behind after a few writes.
#
#   tests/data/make-old-db.sh [CQRSD_BINARY] [RELEASE]
#
# CQRSD_BINARY defaults to /work/old/build/cqrsd (a build of commit 57c8098),
# RELEASE (the name in the file names) to 57c8098. It writes, next to itself:
#   objects-<RELEASE>.db              the SQLite file, WAL checkpointed
#   objects-<RELEASE>.postgresql.sql  pg_dump --inserts of a PostgreSQL
#                                     database the same binary wrote
# Both get the same writes: 2 categories, 2 related objects, 3 objects (one of
# them replaced, one deleted), one write with an Idempotency-Key.
set -euo pipefail

data_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$data_dir/../.." && pwd)"
binary="${1:-/work/old/build/cqrsd}"
release="${2:-57c8098}"
[[ -x "$binary" ]] || {
  echo "make-old-db.sh: no cqrsd binary at $binary" >&2
  exit 1
}

cleanup_who=make-old-db.sh
# shellcheck source=scripts/lib/cleanup.sh
source "$repo_root/scripts/lib/cleanup.sh"
scratch_dir="$(mktemp -d "${TMPDIR:-/tmp}/cqrsd-old-db.XXXXXX")"
on_exit "rm -rf '$scratch_dir'"

# -- one run of the old binary ------------------------------------------------

# A free loopback port for the HTTP listener.
free_port() {
  local candidate
  for ((probe = 0; probe < 100; probe++)); do
    candidate=$((40001 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
  echo "make-old-db.sh: found no free port" >&2
  exit 1
}

# POSTs/PUTs/DELETEs $3 (may be empty) to path $2 with method $1 and checks
# the status is $4; extra curl arguments follow.
call() {
  local method="$1" path="$2" body="$3" want="$4" status
  shift 4
  status="$(curl -sS -o "$scratch_dir/answer" -w '%{http_code}' -X "$method" \
    -H 'Content-Type: application/json' "$@" ${body:+-d "$body"} \
    "http://127.0.0.1:$port$path")"
  if [[ "$status" != "$want" ]]; then
    echo "make-old-db.sh: $method $path answered $status, not $want: $(cat "$scratch_dir/answer")" >&2
    exit 1
  fi
}

# Runs the old binary with the database section $1 (YAML, indented), makes
# the writes and stops it with SIGTERM.
run_old_cqrsd() {
  local database="$1" pid
  port="$(free_port)"
  cat >"$scratch_dir/config.yaml" <<EOF
http:
  listen: "127.0.0.1:$port"
database:
$database
EOF
  "$binary" --config "$scratch_dir/config.yaml" >"$scratch_dir/cqrsd.log" 2>&1 &
  pid=$!
  on_exit "kill $pid 2>/dev/null || true"
  for ((i = 0; i < 100; i++)); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && break
    kill -0 "$pid" 2>/dev/null || {
      cat "$scratch_dir/cqrsd.log" >&2
      exit 1
    }
    sleep 0.1
  done
  call POST /categories '{"description":"Books"}' 201
  call POST /categories '{"description":"Music"}' 201
  call POST /related-objects '{"content_description":"A novel","content_type":"text/plain"}' 201
  call POST /related-objects '{"content_description":"An album","content_type":"audio/flac"}' 201
  call POST /objects '{"name":"first","child":{"access_code":"a1","related_object_id":1,"category_id":1}}' 201
  call POST /objects '{"name":"second","child":{"access_code":"b2","related_object_id":2,"category_id":2}}' 201 \
    -H 'Idempotency-Key: make-old-db-2'
  call POST /objects '{"name":"third","child":{"access_code":"c3","related_object_id":1,"category_id":2}}' 201
  call PUT /objects/1 '{"name":"first, renamed","child":{"access_code":"a9","related_object_id":2,"category_id":1}}' 200
  call DELETE /objects/3 '' 200
  kill -TERM "$pid"
  wait "$pid" || {
    echo "make-old-db.sh: cqrsd exited with status $? after SIGTERM" >&2
    cat "$scratch_dir/cqrsd.log" >&2
    exit 1
  }
}

# -- SQLite -------------------------------------------------------------------

run_old_cqrsd "  backend: sqlite
  sqlite_path: \"$scratch_dir/old.db\""
sqlite3 "$scratch_dir/old.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
cp "$scratch_dir/old.db" "$data_dir/objects-$release.db"
echo "make-old-db.sh: wrote $data_dir/objects-$release.db"

# -- PostgreSQL ---------------------------------------------------------------

pg_dir="$scratch_dir/pg"
# shellcheck source=scripts/lib/postgres.sh
source "$repo_root/scripts/lib/postgres.sh"
pg_start_primary
pg_psql -p "$pg_port" -c 'CREATE DATABASE old'
run_old_cqrsd "  backend: postgresql
  postgresql: \"host=127.0.0.1 port=$pg_port user=cqrsd dbname=old\""
pg_run "$pg_bin/pg_dump" -h 127.0.0.1 -p "$pg_port" -U cqrsd -d old \
  --no-owner --no-privileges --inserts >"$data_dir/objects-$release.postgresql.sql"
echo "make-old-db.sh: wrote $data_dir/objects-$release.postgresql.sql"
