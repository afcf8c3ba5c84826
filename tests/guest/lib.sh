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
	"$VM/samba-start" "$WORK/shares.conf" alice:secret bob:bobpass
}

# record_start NAME FILE [ARGS]: `cifstrace record FILE` in the background,
# attached (same contract as trace_start; stop it with trace_stop).
record_start() {
	local out=$2
	attach "$1" "$out.err" record "${@:3}" "$out"
}

# now_ms: wall clock in milliseconds (bash builtin, no fork).
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }

# /proc/fs/cifs/Stats, as saved in $WORK/stats.txt, for \\127.0.0.1\data:
# stat_count LABEL (e.g. Creates) and stat_bytes read|written.
stat_count() {
	awk -v l="$1:" '/^[0-9]+\) \\\\127.0.0.1\\data/ {on=1} on && $1==l {print $2; exit}' "$WORK/stats.txt"
}
stat_bytes() {
	awk -v l="$1" '/^[0-9]+\) \\\\127.0.0.1\\data/ {on=1} on && $0 ~ "Bytes read" {
		for (i=1;i<=NF;i++) if ($i==l":") {print $(i+1); exit}}' "$WORK/stats.txt"
}
