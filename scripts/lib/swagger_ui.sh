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

# shellcheck source=scripts/lib/npm_install.sh
source "$(dirname "${BASH_SOURCE[0]}")/npm_install.sh"

CQRSD_SWAGGER_UI_VERSION=5.36.0

# Installs the package unless a finished install is there, then exports
# CQRSD_SWAGGER_UI_DIR. Returns non-zero, saying why, on failure.
cqrsd_swagger_ui() {
  local dir
  dir="${CQRSD_NPM_DIR:-${HOME:-/tmp}/.cache/cqrsd-npm}/swagger-ui-dist-$CQRSD_SWAGGER_UI_VERSION"
  cqrsd_npm_install swagger_ui.sh "$dir" \
    "swagger-ui-dist@$CQRSD_SWAGGER_UI_VERSION" \
    -- swagger-ui-dist/swagger-ui-bundle.js || return 1
  export CQRSD_SWAGGER_UI_DIR="$dir/node_modules/swagger-ui-dist"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  cqrsd_swagger_ui || exit 1
  echo "CQRSD_SWAGGER_UI_DIR=$CQRSD_SWAGGER_UI_DIR"
fi
