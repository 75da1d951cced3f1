#!/usr/bin/env bash
# Configures and builds cqrsd into build/ (the server ends up at build/cqrsd).
#
#   scripts/build.sh            # everything: server, library and tests
#   scripts/build.sh cqrsd      # only the named target(s)
#
# Environment: JOBS (parallel jobs, default 2), BUILD_TYPE (CMake build type,
# default RelWithDebInfo). Expects the packages of scripts/deps.sh.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

jobs="${JOBS:-2}"
build_type="${BUILD_TYPE:-RelWithDebInfo}"
if ! [[ "$jobs" =~ ^[1-9][0-9]*$ ]]; then
  echo "build.sh: ERROR: JOBS must be a positive integer, got '$jobs'" >&2
  exit 1
fi

targets=()
for target in "$@"; do
  targets+=(--target "$target")
done

echo "build.sh: configuring build/ ($build_type)"
cmake -S . -B build -DCMAKE_BUILD_TYPE="$build_type"

echo "build.sh: building with $jobs job(s)${*:+ (targets: $*)}"
cmake --build build -j "$jobs" "${targets[@]}"

echo "build.sh: done"
