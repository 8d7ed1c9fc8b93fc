#!/usr/bin/env bash
# Runs the whole test suite (`pnpm test`, every package) while CPU hogs keep every core busy, as on a shared
# CI machine. A test that fails here depends on an idle machine: that is a defect to fix, not a run to repeat.
# Usage: scripts/stress-test.sh [runs]   (default 1; stops at the first failing run and exits with its status)
# Each run's output is kept in .stress/run-N.log; the last line printed is a one-line summary.
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1}
if ! [[ $runs =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/stress-test.sh [runs]" >&2
  exit 2
fi
cores=$(nproc 2>/dev/null || echo 2)
logs=.stress
mkdir -p "$logs"

hogs=()
test_group=""
stop_hogs() {
  for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${hogs[@]}"; do wait "$pid" 2>/dev/null || true; done
  hogs=()
}
stop_all() {
  # A run cut short by a signal: its whole process group (pnpm, turbo, vitest workers) goes too.
  if [ -n "$test_group" ]; then kill -TERM -- "-$test_group" 2>/dev/null || true; fi
  stop_hogs
}
trap stop_all EXIT
# A signal ends the script (and so runs the EXIT trap) instead of leaving the hogs spinning.
trap 'exit 130' INT
trap 'exit 143' TERM
for _ in $(seq "$cores"); do
  node -e 'for (;;) {}' &
  hogs+=("$!")
done
echo "stress: $cores CPU hogs running (pids ${hogs[*]})"

# A run's log without colours and without turbo's "package:task: " prefixes.
plain() { sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^[^ ]*:test: //' "$1"; }

# Sums vitest's "Tests  N passed | M failed | K skipped" lines of a run's log: "N passed, M failed, K skipped".
count_tests() {
  plain "$1" | awk '
    /^ *Tests +[0-9]/ {
      for (i = 1; i <= NF; i++) {
        if ($(i) ~ /^passed/) passed += $(i - 1)
        if ($(i) ~ /^failed/) failed += $(i - 1)
        if ($(i) ~ /^skipped/) skipped += $(i - 1)
      }
    }
    END { printf "%d passed, %d failed, %d skipped", passed, failed, skipped }'
}

status=0
passed_runs=0
summary=""
for run in $(seq "$runs"); do
  log="$logs/run-$run.log"
  echo "=== stress run $run of $runs ($(date -u +%H:%M:%S) UTC)"
  start=$SECONDS
  # In its own process group, waited for in the background: a signal reaches the traps at once.
  set -m
  (
    pnpm test 2>&1 | tee "$log"
    exit "${PIPESTATUS[0]}"
  ) &
  test_group=$!
  set +m
  wait "$test_group"
  status=$?
  test_group=""
  load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?')
  summary="run $run of $runs $([ "$status" -eq 0 ] && echo passed || echo "FAILED (exit $status)") in $((SECONDS - start)) s: $(count_tests "$log"); load $load with $cores hogs"
  echo "stress: $summary"
  if [ "$status" -ne 0 ]; then
    plain "$log" | grep -E '^ *(FAIL|×) ' | sort -u | head -20 || true
    break
  fi
  passed_runs=$((passed_runs + 1))
done
stop_hogs
echo "stress summary: $passed_runs of $runs runs passed under load; last: $summary"
exit "$status"
