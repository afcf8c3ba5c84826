#!/bin/bash
# Replay every recorded stream in tests/fixtures through `diagnose --input`
# and compare, attempt by attempt, with its .expect file: a JSON array of
# {outcome, class, phase, status?, reason?} in output order. Milliseconds, no root.
set -u
cd "$(dirname "$0")/.."
bin=build/cifstrace
rc=0
for rec in tests/fixtures/*.jsonl; do
	name=$(basename "$rec" .jsonl)
	want=tests/fixtures/$name.expect
	if [ ! -f "$want" ]; then
		echo "not ok - replay $name: no $want"
		rc=1
		continue
	fi
	got=$("$bin" diagnose --input "$rec" --json 2>&1 |
		jq -c -s '[.[] | {outcome, class, phase} + (if .status then {status} else {} end)
			       + (if .reason then {reason} else {} end)]' 2>&1)
	if jq -e --argjson got "$got" '. == $got' "$want" >/dev/null 2>&1; then
		echo "ok - replay $name: $(jq length "$want") attempt(s) diagnosed as recorded"
	else
		echo "not ok - replay $name"
		echo "#   want: $(jq -c . "$want")"
		echo "#   got:  $got"
		rc=1
	fi
done
exit $rc
