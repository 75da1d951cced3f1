#!/usr/bin/env bash
# Installs the Debian 12 packages cqrsd needs to build, test and run, and only
# those that are missing. Run it (`bash scripts/deps.sh`) or source it; either
# way it installs on the spot and, when sourced, leaves the caller's shell
# options alone.

# The packages, in one place: toolchain, libraries, test tools and the
# database servers and clients that the scripts and tests use (clang and its
# runtimes build the fuzz targets of scripts/fuzz.sh).
CQRSD_DEB_PACKAGES=(
  build-essential cmake ccache pkg-config
  libcaf-dev libcaf-openssl0.17
  libsoci-dev libsoci-sqlite3-4.0 libsoci-postgresql4.0
  libsqlite3-dev libpq-dev
  libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev
  libyaml-cpp-dev libboost-test-dev nlohmann-json3-dev
  postgresql sqlite3 curl wrk ca-certificates openssl
  prometheus # promtool checks /metrics (tests/system/metrics.cpp)
  clang libclang-rt-14-dev # libFuzzer and the sanitizer runtimes (scripts/fuzz.sh)
  nodejs # Swagger UI for /docs (scripts/lib/swagger_ui.sh); Redocly and Prism check the OpenAPI documents (scripts/lib/npm_tools.sh)
  chromium # the browser tests of /docs and /console (tests/browser), through playwright-core
)
# npm is a package of its own with Debian's nodejs, and part of NodeSource's
# nodejs, which conflicts with Debian's npm: ask for it only when the
# command is missing.
command -v npm >/dev/null 2>&1 || CQRSD_DEB_PACKAGES+=(npm)

# Prints the packages of CQRSD_DEB_PACKAGES that are not installed, one a line.
cqrsd_missing_packages() {
  local pkg status
  for pkg in "${CQRSD_DEB_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    if [[ "$status" != "install ok installed" ]]; then
      printf '%s\n' "$pkg"
    fi
  done
}

# Installs whatever is missing. Runs in a subshell so that `set -euo pipefail`
# does not leak into a shell that sourced this file.
cqrsd_install_deps() (
  set -euo pipefail

  fail() {
    printf 'deps.sh: ERROR: %s\n' "$*" >&2
    exit 1
  }

  command -v dpkg-query >/dev/null 2>&1 \
    || fail "dpkg-query not found: these scripts support Debian 12 only"
  command -v apt-get >/dev/null 2>&1 \
    || fail "apt-get not found: these scripts support Debian 12 only"

  local -a missing
  mapfile -t missing < <(cqrsd_missing_packages)
  if ((${#missing[@]} == 0)); then
    echo "deps.sh: all ${#CQRSD_DEB_PACKAGES[@]} packages are installed"
    return 0
  fi

  local -a as_root=()
  if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 \
      || fail "missing packages (${missing[*]}) and not root, and sudo is not installed; run this script as root"
    as_root=(sudo env DEBIAN_FRONTEND=noninteractive)
  fi
  export DEBIAN_FRONTEND=noninteractive

  echo "deps.sh: installing ${#missing[@]} missing package(s): ${missing[*]}"
  "${as_root[@]}" apt-get update \
    || fail "apt-get update failed (no network or broken apt sources?)"
  "${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}" \
    || fail "apt-get install failed for: ${missing[*]}"

  mapfile -t missing < <(cqrsd_missing_packages)
  if ((${#missing[@]} != 0)); then
    fail "still missing after apt-get install: ${missing[*]}"
  fi
  echo "deps.sh: all ${#CQRSD_DEB_PACKAGES[@]} packages are installed"
)

cqrsd_install_deps
