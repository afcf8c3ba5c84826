#!/bin/bash
# make test: unit tests on the host, then guest tests under qemu; ends with
# the one summary line "N passed, N failed" counted from the TAP lines.
set -u
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== unit tests"
tests/run-unit.sh "$@" 2>&1 | tee -a "$log"
echo "== replay of recorded streams"
tests/run-replay.sh 2>&1 | tee -a "$log"
echo "== bad input and a hostile environment"
tests/run-badinput.sh 2>&1 | tee -a "$log"
echo "== exporter surroundings: Prometheus rules, config, exposition, service unit"
tests/run-contrib.sh 2>&1 | tee -a "$log"
echo "== packaging: lintian, make install, the man page"
tests/run-package.sh 2>&1 | tee -a "$log"
echo "== fuzzing the recording reader"
tests/run-fuzz.sh build/fuzz_stream 2>&1 | tee -a "$log"
echo "== guest tests"
tests/run-guest.sh 2>&1 | tee -a "$log"

passed=$(grep -cE '^ok ' "$log")
failed=$(grep -cE '^not ok ' "$log")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
