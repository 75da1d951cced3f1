#!/usr/bin/env bash
# Lints the OpenAPI documents of cqrsd with Redocly's CLI: the document that
# cqrsd generates for each shipped domain (domains/*.yaml), and
# docs/openapi.yaml. The rules are Redocly's `recommended-strict` (every
# warning fails) less `info-license`: cqrsd cannot know the licence of a
# user's API. Installs the pinned Redocly CLI when it is missing
# (scripts/lib/npm_tools.sh).
#
#   scripts/lint-openapi.sh        # after scripts/build.sh
#
# Environment: CQRSD_BINARY (the cqrsd that generates the documents,
# default build/cqrsd). Works from any directory. The last line is a
# summary "tests: N passed, N failed", one test per document.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

binary="${CQRSD_BINARY:-build/cqrsd}"
if [[ ! -x "$binary" ]]; then
  echo "lint-openapi.sh: FAILED: $binary not found; build it first (scripts/build.sh cqrsd)" >&2
  echo "tests: 0 passed, 1 failed"
  exit 1
fi

# shellcheck source=scripts/lib/npm_tools.sh
source scripts/lib/npm_tools.sh
if ! cqrsd_npm_tools; then
  echo "lint-openapi.sh: FAILED: cannot install Redocly's CLI" >&2
  echo "tests: 0 passed, 1 failed"
  exit 1
fi
# No telemetry (it also waits seconds for a server it cannot reach), no
# update check.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

scratch_dir="$(mktemp -d "${TMPDIR:-/tmp}/cqrsd-lint-openapi.XXXXXX")"
trap 'rm -rf "$scratch_dir"' EXIT

passed=0
failed=0

# Lints the document $1, named $2 in messages.
lint() {
  if "$CQRSD_REDOCLY" lint --extends=recommended-strict \
    --skip-rule=info-license --format=codeframe "$1"; then
    echo "lint-openapi.sh: $2: PASSED"
    passed=$((passed + 1))
  else
    echo "lint-openapi.sh: $2: FAILED" >&2
    failed=$((failed + 1))
  fi
}

for domain_file in domains/*.yaml; do
  name="$(basename "$domain_file" .yaml)"
  config="$scratch_dir/$name.config.yaml"
  document="$scratch_dir/$name.openapi.yaml"
  printf 'domain: "%s"\n' "$repo_root/$domain_file" >"$config"
  if ! "$binary" --config "$config" --openapi "$document"; then
    echo "lint-openapi.sh: $domain_file: FAILED: $binary --config $config --openapi $document failed" >&2
    failed=$((failed + 1))
    continue
  fi
  lint "$document" "the document of $domain_file"
done
lint docs/openapi.yaml docs/openapi.yaml

if ((failed == 0)); then
  echo "lint-openapi.sh: PASSED"
else
  echo "lint-openapi.sh: FAILED" >&2
fi
echo "tests: $passed passed, $failed failed"
((failed == 0))
