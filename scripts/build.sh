#!/usr/bin/env bash
# Configures and builds cqrsd into build/ (the server ends up at build/cqrsd,
# its web pages at build/web, with Swagger UI from npm: scripts/lib/swagger_ui.sh).
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

# Swagger UI for /docs (npm). Without it cqrsd still builds and serves;
# /docs then says that Swagger UI is missing.
# shellcheck source=scripts/lib/swagger_ui.sh
source scripts/lib/swagger_ui.sh
swagger_ui=()
if cqrsd_swagger_ui; then
  swagger_ui=(-DCQRSD_SWAGGER_UI_DIR="$CQRSD_SWAGGER_UI_DIR")
else
  echo "build.sh: WARNING: cannot install Swagger UI (npm); /docs will say it is missing" >&2
fi

echo "build.sh: configuring build/ ($build_type)"
cmake -S . -B build -DCMAKE_BUILD_TYPE="$build_type" "${swagger_ui[@]}"

echo "build.sh: building with $jobs job(s)${*:+ (targets: $*)}"
cmake --build build -j "$jobs" "${targets[@]}"

echo "build.sh: done"
