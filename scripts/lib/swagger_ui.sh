#!/usr/bin/env bash
# Swagger UI for /docs: the npm package swagger-ui-dist at a pinned version,
# installed with the machine's npm (Node.js comes from scripts/deps.sh) only
# when it is missing, into
#   ${CQRSD_NPM_DIR:-$HOME/.cache/cqrsd-npm}/swagger-ui-dist-<version>
# and exported as CQRSD_SWAGGER_UI_DIR, the package's folder. scripts/build.sh
# passes it to CMake, which copies the files /docs needs into build/web/docs.
#
#   source scripts/lib/swagger_ui.sh && cqrsd_swagger_ui   # from a script
#   bash scripts/lib/swagger_ui.sh                         # install; print path

CQRSD_SWAGGER_UI_VERSION=5.36.0

# Installs the package unless a finished install is there, then exports
# CQRSD_SWAGGER_UI_DIR. Returns non-zero, saying why, on failure. Runs the
# install in a subshell so that `set -e` does not leak into the caller.
cqrsd_swagger_ui() {
  local dir
  dir="${CQRSD_NPM_DIR:-${HOME:-/tmp}/.cache/cqrsd-npm}/swagger-ui-dist-$CQRSD_SWAGGER_UI_VERSION"
  if [[ ! -f "$dir/.installed" ]]; then
    (
      set -euo pipefail
      fail() {
        printf 'swagger_ui.sh: ERROR: %s\n' "$*" >&2
        exit 1
      }
      command -v npm >/dev/null 2>&1 ||
        fail "npm not found: run scripts/deps.sh (it installs nodejs and npm)"
      echo "swagger_ui.sh: installing swagger-ui-dist@$CQRSD_SWAGGER_UI_VERSION into $dir"
      rm -rf "$dir"
      mkdir -p "$dir"
      cat >"$dir/package.json" <<JSON
{
  "name": "cqrsd-swagger-ui",
  "private": true,
  "description": "Swagger UI for cqrsd's /docs, installed by scripts/lib/swagger_ui.sh",
  "dependencies": { "swagger-ui-dist": "$CQRSD_SWAGGER_UI_VERSION" }
}
JSON
      (cd "$dir" && npm install --no-audit --no-fund --loglevel=error \
        >"$dir/npm-install.log" 2>&1) || {
        cat "$dir/npm-install.log" >&2
        fail "npm install failed in $dir (log above)"
      }
      [[ -f "$dir/node_modules/swagger-ui-dist/swagger-ui-bundle.js" ]] ||
        fail "npm install left no swagger-ui-bundle.js in $dir/node_modules/swagger-ui-dist"
      touch "$dir/.installed"
    ) || return 1
  fi
  export CQRSD_SWAGGER_UI_DIR="$dir/node_modules/swagger-ui-dist"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  cqrsd_swagger_ui || exit 1
  echo "CQRSD_SWAGGER_UI_DIR=$CQRSD_SWAGGER_UI_DIR"
fi
