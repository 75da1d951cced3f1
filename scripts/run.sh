#!/usr/bin/env bash
# Installs what is missing, builds the server and serves with
# config/default.yaml (127.0.0.1:8080, SQLite at data/cqrsd.db relative to the
# repo). Extra arguments go to cqrsd. Works from any directory.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

bash scripts/deps.sh
bash scripts/build.sh cqrsd

echo "run.sh: starting build/cqrsd --config config/default.yaml $*"
exec build/cqrsd --config config/default.yaml "$@"
