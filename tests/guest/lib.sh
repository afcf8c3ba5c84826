# Shared helpers for guest tests (run inside tests/vm/run). TAP output: one
# "ok - ..." or "not ok - ..." line per assertion; tests/run-all.sh counts them.
# shellcheck shell=bash

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CIFSTRACE=$REPO/build/cifstrace
VM=$REPO/tests/vm
KTAG="[$(uname -r | cut -d. -f1-2)]"
WORK=${VM_OUT:-/tmp}/guest-$$
mkdir -p "$WORK"
FAILED=0

ok() { echo "ok - $KTAG $*"; }
not_ok() { echo "not ok - $KTAG $*"; FAILED=$((FAILED + 1)); }

# check NAME FILE JQ_FILTER: the filter, applied to the events of FILE as
# one array ($e), must yield true.
check() {
	local name=$1 file=$2 filter=$3
	if jq -e -s ". as \$e | $filter" "$file" >/dev/null 2>"$WORK/jq.err"; then
		ok "$name"
	else
		not_ok "$name"
		sed 's/^/#   jq: /' "$WORK/jq.err" | head -3
		echo "#   events in $file:"
		jq -c '{event,status_name,rc,cmd,mid,share,result,round,final,server_addr}' \
			"$file" 2>/dev/null | head -40 | sed 's/^/#     /'
	fi
}

TRACER_PID=
SCENARIO=
# attach NAME ERRFILE CMD...: run cifstrace CMD in the background and wait
# until it has attached. A tracer that fails to start (or, in trace_stop,
# to stop cleanly) is a failed assertion, so checks for the absence of
# events can never pass on a dead tracer.
attach() {
	SCENARIO=$1
	local err=$2; shift 2
	"$CIFSTRACE" "$@" 2>"$err" &
	TRACER_PID=$!
	for _ in $(seq 1 300); do
		grep -q "tracing the SMB client" "$err" 2>/dev/null && return 0
		kill -0 "$TRACER_PID" 2>/dev/null || break
		sleep 0.1
	done
	not_ok "$SCENARIO: cifstrace $1 attached"
	sed 's/^/#   /' "$err" | grep -v '^#   libbpf' | tail -5
	return 1
}

# trace_start NAME FILE [ARGS]: cifstrace events --json into FILE.
trace_start() {
	local out=$2
	attach "$1" "$out.err" events --json "${@:3}" >"$out"
}

# trace_stop: SIGINT, as a user would; cifstrace must exit 0.
trace_stop() {
	local rc
	sleep 0.5	# let the last TCP segments (FIN, ACKs) arrive
	kill -INT "$TRACER_PID" 2>/dev/null
	wait "$TRACER_PID"
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "$SCENARIO: cifstrace ran and exited 0 on SIGINT"
	else
		not_ok "$SCENARIO: cifstrace ran and exited 0 on SIGINT (exit $rc)"
	fi
}

# start_samba [MORE_SHARES_FILE]: Samba on 127.0.0.1 with users alice and
# bob, the share [data] both may use, and the test's own shares if given.
start_samba() {
	modprobe cifs
	cat >"$WORK/shares.conf" <<'CONF'
[data]
	path = /tmp/share-data
	read only = no
	valid users = alice bob
CONF
	[ -z "${1:-}" ] || cat "$1" >>"$WORK/shares.conf"
	"$VM/samba-start" "$WORK/shares.conf" alice:secret bob:bobpass || return 1
	# The kernel's first SMB mount loads what cifs needs from the 9p root
	# (5.10: 4-5 s, later mounts 0.5 s): done here, untraced, so that a
	# test's first mount times SMB, not that (it came near the 5 s a live
	# diagnose waits before it calls a NEGOTIATE unanswered).
	mkdir -p "$WORK/warm"
	mount -t cifs //127.0.0.1/data "$WORK/warm" -o username=alice,password=secret 2>/dev/null &&
		umount "$WORK/warm"
	return 0
}

# record_start NAME FILE [ARGS]: `cifstrace record FILE` in the background,
# attached (same contract as trace_start; stop it with trace_stop).
record_start() {
	local out=$2
	attach "$1" "$out.err" record "${@:3}" "$out"
}

# now_ms: wall clock in milliseconds (bash builtin, no fork).
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }

# bounded SECS CMD...: run CMD; if it has not ended after SECS, print where
# each of its threads waits (as "#" lines, for the log), kill it and
# return 124: a hang is a failed test, not a stalled test run
bounded() {
	local secs=$1 pid t
	shift
	"$@" &
	pid=$!
	for _ in $(seq 1 $((secs * 10))); do
		kill -0 $pid 2>/dev/null || { wait $pid; return $?; }
		sleep 0.1
	done
	echo "# bounded: '$*' still runs after ${secs} s; its threads:"
	for t in /proc/$pid/task/*; do
		echo "#   $(cat "$t/comm" 2>/dev/null) wchan=$(cat "$t/wchan" 2>/dev/null)"
		sed 's/^/#     /' "$t/stack" 2>/dev/null | head -16
	done
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	return 124
}

# /proc/fs/cifs/Stats, as saved in $WORK/stats.txt, for \\127.0.0.1\data:
# stat_count LABEL (e.g. Creates) and stat_bytes read|written.
stat_count() {
	awk -v l="$1:" '/^[0-9]+\) \\\\127.0.0.1\\data/ {on=1} on && $1==l {print $2; exit}' "$WORK/stats.txt"
}
stat_bytes() {
	awk -v l="$1" '/^[0-9]+\) \\\\127.0.0.1\\data/ {on=1} on && $0 ~ "Bytes read" {
		for (i=1;i<=NF;i++) if ($i==l":") {print $(i+1); exit}}' "$WORK/stats.txt"
}

# ---------------------------------------------------------------------------
# Mount attempts recorded and diagnosed (diagnose.sh, kerberos.sh). FIX: the
# directory recordings are kept in as fixtures (empty: not kept).
# ---------------------------------------------------------------------------
FIX=${FIX:-}

# mount_result FILE: from mount's output in FILE, set MOUT and MERR (the
# errno mount.cifs reports; "?" if none).
mount_result() {
	MOUT=$(cat "$1")
	MERR=$(sed -n 's/.*mount error(\([0-9]*\)).*/\1/p' "$1" | tail -n 1)
	[ -n "$MERR" ] || MERR="?"
}

# mount_cifs UNC DIR OPTIONS: one mount attempt. Sets MERR (0 when it
# mounted; it is then unmounted at once), MMS (ms the mount command took)
# and MOUT (its output).
mount_cifs() {
	local t0
	t0=$(now_ms)
	timeout 150 mount -t cifs "$1" "$2" -o "$3" >"$WORK/mount.out" 2>&1
	MMS=$(($(now_ms) - t0))
	mount_result "$WORK/mount.out"
	if mountpoint -q "$2"; then
		MERR=0
		umount "$2"
	fi
}

# expect_errno NAME ERRNO: the mount's result, as mount.cifs reported it.
expect_errno() {
	local name=$1 e=$2
	if [ "$MERR" = "$e" ]; then
		if [ "$e" = 0 ]; then ok "$name: mounted (${MMS} ms)"
		else ok "$name: mount fails with error($e) (${MMS} ms)"; fi
	else
		not_ok "$name: mount result error($e) (got error($MERR) after ${MMS} ms)"
		head -n 4 <<<"$MOUT" | sed 's/^/#   mount: /'
		dmesg | grep -i cifs | tail -n 5 | sed 's/^/#   dmesg: /'
	fi
}

# record NAME UNC DIR OPTIONS: record one mount attempt into $WORK/NAME.jsonl
# (REC), keep it as a fixture.
record() {
	local name=$1
	REC=$WORK/$name.jsonl
	record_start "$name" "$REC"
	mount_cifs "$2" "$3" "$4"
	trace_stop
	keep "$name"
}

# keep NAME: copy the recording to the fixtures directory.
keep() {
	[ -z "$FIX" ] || cp "$WORK/$1.jsonl" "$FIX/$1.jsonl"
}

# dump_diag FILE: the attempts of a diagnose --json output, as TAP comments.
dump_diag() {
	sed 's/^/#   stderr: /' "$1.err" 2>/dev/null | head -n 3
	jq -c '{attempt, pid, share, outcome, class, reason, phase, status, errno, summary}' "$1" 2>/dev/null |
		head -n 6 | sed 's/^/#   got: /'
}

# expect_attempts NAME 'OUTCOME CLASS PHASE STATUS ERRNO [REASON]' ...:
# diagnose the recording NAME; the last object of each attempt must match
# one spec, in order of attempt, and hung objects before it must have the
# same class. STATUS: a hex status, or "none" (no status field at all);
# ERRNO: a number, or "-" (not checked); REASON: the diagnosis's reason,
# none if not given.
expect_attempts() {
	local name=$1; shift
	local diag=$WORK/$name.diag.jsonl specs='[]' s o c p st er re rc
	"$CIFSTRACE" diagnose --input "$WORK/$name.jsonl" --json >"$diag" 2>"$diag.err"
	rc=$?
	for s in "$@"; do
		read -r o c p st er re <<<"$s"
		specs=$(jq -c --arg o "$o" --arg c "$c" --arg p "$p" --arg st "$st" --arg er "$er" \
			--arg re "${re:--}" \
			'. + [{outcome: $o, class: $c, phase: $p, status: $st, errno: $er, reason: $re}]' \
			<<<"$specs")
	done
	# The fixture's expected output, object by object as diagnose prints
	# them: a hung object (there may be some before the final one) should
	# carry the final class and phase too.
	[ -z "$FIX" ] || jq -s --argjson want "$specs" '
		([.[].attempt] | unique) as $ids
		| [.[] | .attempt as $n | ($ids | index($n)) as $i | $want[$i] as $w
		   | if $w == null then {outcome, class, phase}
		     elif .outcome == "hung" then {outcome: "hung", class: $w.class, phase: $w.phase}
			  + (if .reason then {reason} else {} end)
		     else {outcome: $w.outcome, class: $w.class, phase: $w.phase}
			  + (if $w.status == "none" then {} else {status: $w.status} end)
			  + (if $w.reason == "-" then {} else {reason: $w.reason} end)
		     end]' "$diag" >"$FIX/$name.expect" 2>/dev/null
	if [ $rc -eq 0 ] && jq -e -s --argjson want "$specs" '
		group_by(.attempt) as $all | ($all | map(last)) as $got
		| ($got | length) == ($want | length)
		and all(range($want | length); . as $i | $got[$i] as $g | $want[$i] as $w
			| all($all[$i][] | select(.outcome == "hung"); .class == $w.class)
			  and $g.kind == "mount" and $g.outcome == $w.outcome and $g.class == $w.class
			  and $g.phase == $w.phase
			  and (if $w.status == "none" then ($g | has("status") | not) else $g.status == $w.status end)
			  and ($w.errno == "-" or $g.errno == ($w.errno | tonumber))
			  and ($g.reason // "-") == $w.reason)' \
		"$diag" >/dev/null 2>"$WORK/jq.err"; then
		for s in "$@"; do
			read -r o c p st er re <<<"$s"
			[ "$st" = none ] && st= || st=" $st"
			[ "$er" = - ] && er= || er=" errno $er"
			ok "$name: diagnosed $o, class $c${re:+/$re}, phase $p$st$er"
		done
	else
		not_ok "$name: diagnosed as [$(printf '%s; ' "$@")] (diagnose exit $rc)"
		sed 's/^/#   jq: /' "$WORK/jq.err" | head -n 3
		dump_diag "$diag"
	fi
}

