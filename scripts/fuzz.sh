#!/usr/bin/env bash
# The long fuzz run: the gateway's fuzz suites (apps/gateway/test/fuzz) with many more cases than `pnpm test`.
#   scripts/fuzz.sh                      # FUZZ_RUNS=20000 cases per property, a new random seed
#   FUZZ_RUNS=500 scripts/fuzz.sh        # a shorter run
#   FUZZ_SEED=1234 scripts/fuzz.sh       # replay the seed a failure report printed
# Extra arguments go to vitest (e.g. `-t polling` to run only the polling properties).
set -euo pipefail
cd "$(dirname "$0")/../apps/gateway"
export FUZZ_RUNS="${FUZZ_RUNS:-20000}"
echo "fuzzing with FUZZ_RUNS=${FUZZ_RUNS}${FUZZ_SEED:+ FUZZ_SEED=${FUZZ_SEED}}" >&2
exec pnpm exec vitest run test/fuzz --no-file-parallelism "$@"
