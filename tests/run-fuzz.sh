#!/bin/bash
# Fuzz the recording reader and everything behind it for a bounded time
# (FUZZ_SECONDS, default 30). One TAP line: a crash, leak or sanitizer
# report is a failure, with the reproducer kept under build/fuzz/.
set -u
bin=$1
secs=${FUZZ_SECONDS:-30}
dir=$(dirname "$bin")/fuzz
mkdir -p "$dir/corpus"
cp tests/fixtures/*.jsonl "$dir/corpus/" 2>/dev/null
log=$dir/fuzz.log
if "$bin" -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
	-artifact_prefix="$dir/" "$dir/corpus" >"$log" 2>&1; then
	runs=$(grep -oE 'Done [0-9]+ runs' "$log" | grep -oE '[0-9]+')
	echo "ok - fuzz: recording reader, engine and renderers: ${runs:-?} inputs in ${secs} s, no crash"
else
	echo "not ok - fuzz: recording reader crashed (see $log)"
	grep -E 'ERROR|SUMMARY|artifact' "$log" | head -5 | sed 's/^/#   /'
	exit 1
fi
