#!/usr/bin/env bash
# The test command's fuzzing step: runs scripts/fuzz for a short bounded
# time per target and turns its table into figure lines
# ("[reliability] fuzz (<target>): N inputs tried, no crash"), also appended
# to $CASFS_FIGURES_FILE when set. Fails when any target crashed.
#   tests/reliability/run_fuzz.sh SECONDS_PER_TARGET
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-20}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
scripts/fuzz "$seconds" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
while read -r target runs result; do
  [[ $target == fuzz_* ]] || continue
  if [[ $result == ok ]]; then
    line="[reliability] fuzz ($target, ${seconds} s): $runs inputs tried, no crash"
  else
    line="[reliability] fuzz ($target, ${seconds} s): $runs inputs tried, CRASHED"
  fi
  echo "$line"
  [[ -n ${CASFS_FIGURES_FILE:-} ]] && echo "$line" >>"$CASFS_FIGURES_FILE"
done <"$out"
exit "$rc"
