#!/bin/bash
# Bad input and a hostile environment, on the host (no kernel needed), as
# TAP: each case must give one clear line on stderr and the right exit code,
# never a crash, never lost data.
set -u
cd "$(dirname "$0")/.."
C=build/cifstrace
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
FIX=tests/fixtures/auth-account-6.1.jsonl
ok() { echo "ok - bad input: $*"; }
not_ok() { echo "not ok - bad input: $*"; }
# expect NAME WANT_RC STDERR_REGEX CMD...: exit code, one stderr line matching
expect() {
	local name=$1 want=$2 re=$3 rc; shift 3
	"$@" >"$W/out" 2>"$W/err"
	rc=$?
	if [ $rc -eq "$want" ] && [ "$(wc -l <"$W/err")" -eq 1 ] && grep -qE -- "$re" "$W/err" &&
		! grep -q $'\e' "$W/err"; then
		ok "$name"
	else
		not_ok "$name (exit $rc, want $want)"
		head -3 "$W/err" | cat -v | sed 's/^/#   /'
	fi
}

echo keep >"$W/exists"
expect "record refuses to overwrite an existing FILE without --force" 1 'exists \(use --force' \
	$C record "$W/exists"
[ "$(cat "$W/exists")" = keep ] && ok "record left the existing FILE untouched" ||
	not_ok "record left the existing FILE untouched"
# as a user who cannot trace, or on a host without cifs: nothing created
$C record "$W/new" >/dev/null 2>&1
[ ! -e "$W/new" ] && ok "record creates nothing when tracing cannot start" ||
	not_ok "record creates nothing when tracing cannot start"

sh -c "$C diagnose --input $FIX >/dev/full" 2>"$W/err"
rc=$?
[ $rc -eq 1 ] && grep -q 'No space left' "$W/err" && ok "diagnose >/dev/full exits 1" ||
	not_ok "diagnose >/dev/full exits 1 (exit $rc)"
sh -c "$C diagnose --input $FIX >&-" 2>"$W/err"
rc=$?
[ $rc -eq 1 ] && grep -q 'cannot write' "$W/err" && ok "diagnose with stdout closed exits 1" ||
	not_ok "diagnose with stdout closed exits 1 (exit $rc)"

# --btf is checked before anything else (privileges, the kernel): one line
printf '\033]0;x\a' >"$W/bad"$'\e'"btf"
expect "--btf with a file that is not BTF: one escaped line, exit 2" 2 'not a BTF file' \
	$C events --btf "$W/bad"$'\e'"btf"
expect "--btf with a missing file: exit 2" 2 'btf .*: not a BTF file \(No such file' \
	$C diagnose --btf "$W/none.btf"
expect "--btf with BTF that holds no cifs types: exit 2" 2 'holds no cifs types' \
	$C latency --btf /sys/kernel/btf/vmlinux

head -1 $FIX >"$W/empty.jsonl"
expect "a recording with no attempts says so" 0 'no mount attempt in .*empty.jsonl' \
	$C diagnose --input "$W/empty.jsonl"
expect "live-only options with --input are refused" 2 'apply to live tracing' \
	$C diagnose --input $FIX -d 5
$C record -d 99999999999 "$W/x" 2>"$W/err"
rc=$?
[ $rc -eq 2 ] && head -1 "$W/err" | grep -q 'invalid duration: 99999999999' && [ ! -e "$W/x" ] &&
	ok "-d that would overflow is a usage error (exit 2)" ||
	not_ok "-d that would overflow is a usage error (exit $rc)"

{ head -1 $FIX; head -c 50000000 /dev/zero | tr '\0' a; } >"$W/endless.jsonl"
expect "an endless line is an error, in bounded memory" 1 'endless.jsonl:2: line too long' \
	bash -c "ulimit -v 300000; exec $C diagnose --input $W/endless.jsonl"
{ head -1 $FIX; printf '{"ts_us":1,"event":"\\u001b]0;pwned\\u0007\\u202e"}\n'; } >"$W/esc.jsonl"
expect "input quoted in an error is escaped" 1 'unknown value "\\x1b\]0;pwned\\x07\\xe2\\x80\\xae"' \
	$C diagnose --input "$W/esc.jsonl"
# a KDC event's KRB-ERROR bytes: hex only, even length, at most 220 bytes;
# hostile strings inside them are escaped in every output
KF=tests/fixtures/krb-alias-6.12.jsonl
kdc_line=$(grep -m1 '"krb_error"' $KF)
for bad in 7e8 7g00 "$(printf '7e%.0s' $(seq 1 221))"; do
	{ head -1 $KF; jq -c --arg h "$bad" '.krb_error = $h' <<<"$kdc_line"; } >"$W/krb.jsonl"
	expect "a bad krb_error ($(printf %.12s "$bad")...) is one line, exit 1" 1 \
		"krb.jsonl:2: field 'krb_error' must be" $C diagnose --input "$W/krb.jsonl"
done
# a KRB-ERROR whose realm holds an escape sequence and a bidi override
hostile=$(printf 'EXAMPLE\033]0;x\a\u202e' | od -An -tx1 | tr -d ' \n')
n=$(( ${#hostile} / 2 ))
realm=$(printf '1b%02x%s' $n "$hostile")
krb="7e$(printf %02x $((2 + (n + 2) + 2 + 5)))30$(printf %02x $(((n + 2) + 2 + 5)))a603020107a9$(printf %02x $((n + 2)))$realm"
jq -c --arg h "$krb" 'if .krb_error then .krb_error = $h else . end' $KF >"$W/krbh.jsonl"
$C diagnose --input "$W/krbh.jsonl" >"$W/out" 2>&1
! grep -q $'\e' "$W/out" && ! grep -q $'\u202e' "$W/out" && grep -q 'realm=EXAMPLE\\x1b' "$W/out" &&
	ok "a KRB-ERROR's hostile realm is escaped in text" ||
	not_ok "a KRB-ERROR's hostile realm is escaped in text"
$C diagnose --input "$W/krbh.jsonl" --json >"$W/out" 2>&1
jq -e -s 'any(.[].timeline[]; .event=="kdc" and .realm=="EXAMPLE\u001b]0;x\u0007\u202e")' "$W/out" \
	>/dev/null 2>&1 && ! grep -q $'\e' "$W/out" &&
	ok "... and in JSON it is the exact string, control bytes as \\u escapes" ||
	not_ok "... and in JSON it is the exact string, control bytes as \\u escapes"

sed '2s/"ts_us":[0-9]*/"ts_us":1/' $FIX >"$W/ooo.jsonl"
$C diagnose --input "$W/ooo.jsonl" >"$W/out" 2>&1
! grep -qE '18446744|\+-' "$W/out" && ok "timestamps out of order give no negative or 2^64 duration" ||
	not_ok "timestamps out of order give no negative or 2^64 duration"
sed 's/"server_addr":"127.0.0.1:445"/"server_addr":"127.0.0.1:http"/' $FIX >"$W/port.jsonl"
if grep -q 'server_addr":"127.0.0.1:http' "$W/port.jsonl"; then
	expect "a non-numeric port is refused" 1 "field 'server_addr' has a bad port" \
		$C diagnose --input "$W/port.jsonl"
else
	not_ok "a non-numeric port is refused (fixture has no server_addr)"
fi
# an unfinished attempt followed by a flood of events: fast, small
python3 - "$FIX" >"$W/flood.jsonl" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
ev = [json.loads(l) for l in lines[1:]]
mount = next(e for e in ev if e["event"] == "mount")
req = next(e for e in ev if e["event"] == "request")
print(lines[0])
print(json.dumps(dict(mount, ts_us=1000)))
for i in range(100000):
    print(json.dumps(dict(req, ts_us=2000 + 10 * i, mid=i)))
PY
start=$(date +%s%N)
bash -c "ulimit -v 300000; exec $C diagnose --input $W/flood.jsonl" >"$W/out" 2>&1
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ $rc -eq 0 ] && [ $ms -lt 10000 ] && grep -q 'HUNG' "$W/out" &&
	ok "100k events after a lost mount_done: ${ms} ms, bounded memory, reported hung" ||
	not_ok "100k events after a lost mount_done ($ms ms, exit $rc)"

# cifstrace check on this host: a host without cifs is told so, exit 2
$C check >"$W/check.out" 2>&1
rc=$?
if [ ! -e /sys/module/cifs ] && ! modprobe -n cifs 2>/dev/null; then
	[ $rc -eq 2 ] && grep -q 'cifs module    MISSING' "$W/check.out" &&
		grep -q 'result: 1 essential piece is missing' "$W/check.out" &&
		ok "check on a host without cifs: says what is missing and what it costs, exit 2" ||
		not_ok "check on a host without cifs: exit 2 naming cifs (exit $rc)"
else
	[ $rc -eq 0 ] && ok "check on a host with cifs: exit 0" || not_ok "check on a host with cifs (exit $rc)"
fi
