#!/usr/bin/env bash
# Checks what deploy/ ships for Prometheus and Grafana with promtool (Debian
# package prometheus, which scripts/deps.sh installs):
# - deploy/prometheus/prometheus.yml and alerts.yml load;
# - alerts.test.yml, the unit tests of every alert, pass;
# - every expression of deploy/grafana/cqrsd.json is valid PromQL, with the
#   dashboard's variables ($instance, $__rate_interval) filled in.
# That every metric they name is served is the metrics suite's job
# (tests/system/metrics.cpp). Run by ctest as `monitoring`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v promtool >/dev/null 2>&1; then
  echo "check-monitoring.sh: promtool is missing: install the Debian package prometheus (scripts/deps.sh)" >&2
  exit 1
fi
promtool check config deploy/prometheus/prometheus.yml
(cd deploy/prometheus && promtool test rules alerts.test.yml)

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
rules="$scratch/dashboard-rules.yml"
{
  echo "groups:"
  echo "  - name: dashboard"
  echo "    rules:"
  n=0
  # One "expr" per line in the dashboard's JSON; JSON's \" is a plain quote.
  while IFS= read -r expr; do
    n=$((n + 1))
    expr="${expr//\\\"/\"}"
    expr="${expr//\$__rate_interval/5m}"
    expr="${expr//\$instance/.*}"
    echo "      - record: cqrsd:dashboard:expr$n"
    echo "        expr: '${expr//\'/\'\'}'"
  done < <(sed -n 's/^ *"expr": "\(.*\)",\{0,1\}$/\1/p' deploy/grafana/cqrsd.json | sed 's/",$//; s/"$//')
} >"$rules"
count="$(grep -c 'record:' "$rules" || true)"
if ((count < 20)); then
  echo "check-monitoring.sh: found only $count expressions in deploy/grafana/cqrsd.json" >&2
  exit 1
fi
promtool check rules "$rules"
echo "check-monitoring.sh: PASSED ($count dashboard expressions)"
