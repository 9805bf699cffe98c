#!/usr/bin/env bash
# `npm test`: everything from a fresh machine (root) to a test verdict, idempotent.
#   setup → services → typecheck → unit tests → base + frontend images (if stale) → e2e tests
# Setup/services/image failures stop at once; typecheck and test failures are collected so every
# phase reports, and the exit status is non-zero if any failed. Prints node's test summaries and a
# table of phase times. Environment: CF_FRONTEND_IMAGE (tag the e2e tests use), CF_* of services.sh.
set -uo pipefail
set +m
cd "$(dirname "$0")/.."
ROOT=$PWD
NODE="$ROOT/node_modules/.bin/node"
FRONTEND_IMAGE="${CF_FRONTEND_IMAGE:-127.0.0.1:5000/compose-frontend:test}"
export CF_FRONTEND_IMAGE="$FRONTEND_IMAGE"

[ "$(id -u)" = 0 ] || { echo "[test] must run as root (installs packages, starts daemons)" >&2; exit 1; }

phases=() failed=()
now() { date +%s.%N; }
# phase NAME fatal|collect COMMAND... : runs, times and records one phase.
phase() {
  local name=$1 mode=$2; shift 2
  printf '\n[test] === %s ===\n' "$name" >&2
  local t0 rc
  t0=$(now)
  "$@"; rc=$?
  local secs
  secs=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
  phases+=("$(printf '%-12s %7ss  %s' "$name" "$secs" "$([ $rc = 0 ] && echo ok || echo "FAILED (exit $rc)")")")
  if [ $rc != 0 ]; then
    failed+=("$name")
    if [ "$mode" = fatal ]; then summary; exit $rc; fi
  fi
  return 0
}
summary() {
  printf '\n[test] phase         time  result\n' >&2
  local l
  for l in "${phases[@]}"; do printf '[test] %s\n' "$l" >&2; done
}

images() {
  bash scripts/base-image.sh || return
  if [ -f src/main.ts ]; then
    bash scripts/image.sh "$FRONTEND_IMAGE" >/dev/null
  else
    echo "[test] WARNING: src/main.ts does not exist yet; frontend image not built" >&2
  fi
}

phase setup fatal bash scripts/setup.sh
phase services fatal bash scripts/services.sh start
phase typecheck collect "$NODE" node_modules/typescript/bin/tsc -p .
phase unit collect "$NODE" --test --test-concurrency=2 'test/unit/**/*.test.ts'
phase images fatal images
phase e2e collect "$NODE" --test --test-concurrency=1 'test/e2e/**/*.test.ts'

summary
if [ ${#failed[@]} -gt 0 ]; then
  echo "[test] FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "[test] all phases passed" >&2
