#!/usr/bin/env bash
# Fails on an #include that points upward in the layering of the product's
# source folders (README, "Architecture": which folder may include which).
# From the bottom up:
#
#   common   plumbing every layer uses
#   model    the domain declaration and what is derived from it; no I/O
#   config   settings and the domain file loader
#   db       SOCI sessions, migrations, the write and read stores
#   actors   the command actor, query actors, hub, supervisors, node
#   http     the gateway and its server
#   app      main
#
# A file may include its own folder and any folder below it. Prints each
# offending line as FILE:LINE: and exits 1; exits 0 when there is none.
# ctest runs it as the `layers` entry. Works from any directory.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

layers=(common model config db actors http app)

declare -A rank
for i in "${!layers[@]}"; do
  rank[${layers[$i]}]=$i
done

bad=0
checked=0
for folder in "${layers[@]}"; do
  [[ -d "$folder" ]] || continue
  while IFS= read -r -d '' file; do
    checked=$((checked + 1))
    while IFS=: read -r line target; do
      [[ -n "${rank[$target]+set}" ]] || continue
      if ((rank[$target] > rank[$folder])); then
        echo "$file:$line: $folder/ includes $target/, a layer above it" >&2
        bad=$((bad + 1))
      fi
    done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[a-z_]+/' "$file" \
      | sed -E 's/^([0-9]+):[^"]*"([a-z_]+)\/.*/\1:\2/')
  done < <(find "$folder" -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.in' \) -print0)
done

if ((checked == 0)); then
  echo "check-layers.sh: FAILED: found no source files under ${layers[*]}" >&2
  exit 1
fi
if ((bad != 0)); then
  echo "check-layers.sh: FAILED: $bad upward include(s) in $checked files" >&2
  exit 1
fi
echo "check-layers.sh: PASSED: $checked files, no upward include"
