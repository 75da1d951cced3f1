#!/usr/bin/env bash
# Clean-up on exit, shared by scripts/test.sh and bench/lib.sh. Source it after
# setting cleanup_who (the name in messages). It installs the EXIT, INT and
# TERM traps.

cleanup_who="${cleanup_who:-cqrsd}"

# Commands run by `cleanup` on exit, newest first. Register with `on_exit`.
cleanup_steps=()

# Registers a command (one string, evaluated at exit) to run when the script
# ends, however it ends. Later registrations run first.
on_exit() {
  cleanup_steps+=("$1")
}

# Runs every registered step once; a failing step does not stop the others.
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local status=$? i
  trap - EXIT
  for ((i = ${#cleanup_steps[@]} - 1; i >= 0; i--)); do
    eval "${cleanup_steps[i]}" || echo "$cleanup_who: cleanup step failed: ${cleanup_steps[i]}" >&2
  done
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
