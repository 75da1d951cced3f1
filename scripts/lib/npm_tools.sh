#!/usr/bin/env bash
# The npm tools of cqrsd's tests: Redocly's linter (scripts/lint-openapi.sh)
# and Stoplight's Prism validation proxy (the e2e suites with
# CQRSD_TEST_PRISM=1, tests/fixtures/prism.hpp), which check its OpenAPI
# documents, and playwright-core, the library that drives Debian's chromium
# in the browser tests (tests/browser/pages.mjs; it downloads no browser).
# Installs pinned versions with the machine's npm (Node.js comes from
# scripts/deps.sh), only when they are missing, into
#   ${CQRSD_NPM_DIR:-$HOME/.cache/cqrsd-npm}/<pins>/node_modules
# and exports CQRSD_REDOCLY and CQRSD_PRISM, the paths of their commands,
# and CQRSD_PLAYWRIGHT_DIR, that node_modules folder (where playwright-core is).
#
#   source scripts/lib/npm_tools.sh && cqrsd_npm_tools   # from a script
#   bash scripts/lib/npm_tools.sh                        # install; print paths
#
# All pins run on Debian 12's Node.js 18.20 as well as on newer ones: later
# Prism releases need Node.js 24, and Redocly CLI 2 needs Node.js 20.19;
# playwright-core 1.56.1 needs Node.js 18.

# shellcheck source=scripts/lib/npm_install.sh
source "$(dirname "${BASH_SOURCE[0]}")/npm_install.sh"

CQRSD_REDOCLY_VERSION=1.34.20
CQRSD_PRISM_VERSION=5.14.2
CQRSD_PLAYWRIGHT_VERSION=1.56.1

# The folder of this set of pins; a change of pins gets a fresh folder.
cqrsd_npm_tools_dir() {
  local base="${CQRSD_NPM_DIR:-${HOME:-/tmp}/.cache/cqrsd-npm}"
  printf '%s/redocly-%s_prism-%s_playwright-%s\n' "$base" \
    "$CQRSD_REDOCLY_VERSION" "$CQRSD_PRISM_VERSION" "$CQRSD_PLAYWRIGHT_VERSION"
}

# Installs the tools unless a finished install is there, then exports
# CQRSD_REDOCLY, CQRSD_PRISM and CQRSD_PLAYWRIGHT_DIR. Returns non-zero,
# saying why, on failure.
cqrsd_npm_tools() {
  local dir
  dir="$(cqrsd_npm_tools_dir)"
  cqrsd_npm_install npm_tools.sh "$dir" \
    "@redocly/cli@$CQRSD_REDOCLY_VERSION" \
    "@stoplight/prism-cli@$CQRSD_PRISM_VERSION" \
    "playwright-core@$CQRSD_PLAYWRIGHT_VERSION" \
    -- .bin/redocly .bin/prism playwright-core/package.json || return 1
  export CQRSD_REDOCLY="$dir/node_modules/.bin/redocly"
  export CQRSD_PRISM="$dir/node_modules/.bin/prism"
  export CQRSD_PLAYWRIGHT_DIR="$dir/node_modules"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  cqrsd_npm_tools || exit 1
  echo "CQRSD_REDOCLY=$CQRSD_REDOCLY"
  echo "CQRSD_PRISM=$CQRSD_PRISM"
  echo "CQRSD_PLAYWRIGHT_DIR=$CQRSD_PLAYWRIGHT_DIR"
fi
