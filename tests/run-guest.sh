#!/bin/bash
# Run every guest test (tests/guest/*.sh) on each kernel, in a qemu guest with
# a real cifs.ko and Samba. Prints TAP lines; a guest that does not boot or
# times out is a failed test, never a skipped one.
set -u
cd "$(dirname "$0")/.."
KERNELS=${CIFSTRACE_KERNELS:-"5.10 6.1 6.12"}
rc=0
# What the guests run from the test cache is fetched here, on the host: the
# guest has no network and sees the host's files read-only.
for fetch in tests/prometheus-fetch.sh tests/ksmbd-fetch.sh tests/addc-prepare.sh; do
	if ! "$fetch" >/dev/null; then
		echo "not ok - $fetch: the guest tests' tools are in the test cache"
		rc=1
	fi
done
for k in $KERNELS; do
	for t in tests/guest/*.sh; do
		[ "$(basename "$t")" = lib.sh ] && continue
		name=$(basename "$t" .sh)
		# a test may name the kernels it is for: "# kernels: 6.12"
		only=$(sed -n 's/^# kernels: //p' "$t" | head -1)
		if [ -n "$only" ] && [[ " $only " != *" $k "* ]]; then
			echo "# guest $k: $name is for $only only (not run, not counted)"
			continue
		fi
		echo "# guest $k: $name"
		out=$(mktemp)
		tests/vm/run --kernel "$k" --timeout 900 "$t" </dev/null 2>&1 | tee "$out" |
			grep -E '^(ok|not ok|#)'
		status=${PIPESTATUS[0]}
		if ! grep -qE '^(ok|not ok) ' "$out"; then
			echo "not ok - [$k] $name: guest produced no results (exit $status)"
			tail -n 20 "$out" | sed 's/^/#   /'
			rc=1
		elif [ "$status" -ne 0 ] && ! grep -q '^not ok ' "$out"; then
			# it stopped early (a timeout, a crash): the tests after
			# its last result did not run, which is a failure
			echo "not ok - [$k] $name: the guest exited $status after $(grep -cE '^(ok|not ok) ' "$out") results, without a failed one (timeout or crash)"
			tail -n 20 "$out" | sed 's/^/#   /'
			rc=1
		elif [ "$status" -ne 0 ]; then
			rc=1
		fi
		rm -f "$out"
	done
done
exit $rc
