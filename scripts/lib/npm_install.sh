#!/usr/bin/env bash
# The one npm installer of the scripts (scripts/lib/npm_tools.sh,
# scripts/lib/swagger_ui.sh): pinned packages into a folder of their own,
# with the machine's npm (Node.js comes from scripts/deps.sh), only when that
# folder holds no finished install. Source it; it defines a function only.
#
#   cqrsd_npm_install WHO DIR NAME@VERSION... -- FILE...
#
# installs the packages into DIR/node_modules unless DIR/.installed exists,
# then checks that each FILE (relative to DIR/node_modules) is there. WHO
# names the caller in messages. Returns non-zero, saying why, on failure;
# runs in a subshell, so `set -e` does not leak into the caller.
cqrsd_npm_install() (
  set -euo pipefail
  local who="$1" dir="$2"
  shift 2
  fail() {
    printf '%s: ERROR: %s\n' "$who" "$*" >&2
    exit 1
  }
  [[ -f "$dir/.installed" ]] && exit 0
  local -a packages=() files=()
  while (($#)) && [[ "$1" != -- ]]; do
    packages+=("$1")
    shift
  done
  (($#)) && shift
  files=("$@")
  command -v node >/dev/null 2>&1 ||
    fail "node not found: run scripts/deps.sh (it installs nodejs)"
  command -v npm >/dev/null 2>&1 ||
    fail "npm not found: run scripts/deps.sh (it installs npm)"
  echo "$who: installing ${packages[*]} into $dir" \
    "(node $(node --version), npm $(npm --version))"
  rm -rf "$dir"
  mkdir -p "$dir"
  # A package.json of exact pins: npm installs what it names and nothing newer.
  local deps="" package
  for package in "${packages[@]}"; do
    deps+="${deps:+,}\"${package%@*}\": \"${package##*@}\""
  done
  printf '{"name": "cqrsd-npm", "private": true, "dependencies": {%s}}\n' \
    "$deps" >"$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error \
    >"$dir/npm-install.log" 2>&1) || {
    cat "$dir/npm-install.log" >&2
    fail "npm install failed in $dir (log above)"
  }
  local file
  for file in "${files[@]}"; do
    [[ -e "$dir/node_modules/$file" ]] ||
      fail "npm install left no $file in $dir/node_modules"
  done
  touch "$dir/.installed"
)
