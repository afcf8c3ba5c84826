#!/bin/bash
# make soak, inside the guest: N mount attempts in a loop (good, wrong
# password, missing share, in turn) under one live `cifstrace diagnose
# --json`; cifstrace's RSS sampled along the way; at the end the attempts
# reported by class must equal what the loop did. Prints TAP lines and a
# summary line "soak: N attempts ...".
. "$(dirname "$0")/../guest/lib.sh"
N=${1:-10000}
start_samba >/dev/null || { not_ok "soak: samba started"; exit 1; }
mkdir -p /mnt/soak
J=$WORK/soak.json
attach soak "$J.err" diagnose --json --hang-after 30 >"$J" || exit 1
rss() { awk '/^VmRSS/ {print $2}' "/proc/$TRACER_PID/status"; }
first=$(rss)
samples="$first"
want_ok=0 want_logon=0 want_name=0
t0=$(now_ms)
for i in $(seq 1 "$N"); do
	case $((i % 3)) in
	0) mount -t cifs //127.0.0.1/data /mnt/soak -o username=alice,password=secret >/dev/null 2>&1 &&
		umount /mnt/soak; want_ok=$((want_ok + 1)) ;;
	1) mount -t cifs //127.0.0.1/data /mnt/soak -o username=alice,password=wrong >/dev/null 2>&1
		want_logon=$((want_logon + 1)) ;;
	2) mount -t cifs //127.0.0.1/nosuch /mnt/soak -o username=alice,password=secret >/dev/null 2>&1
		want_name=$((want_name + 1)) ;;
	esac
	[ $((i % (N / 10 > 0 ? N / 10 : 1))) -eq 0 ] && samples="$samples $(rss)"
done
t1=$(now_ms)
sleep 1
last=$(rss)
trace_stop
got=$(jq -s -c '[.[] | select(.outcome != "hung") | .class] | group_by(.) | map({(.[0]): length}) | add' "$J")
want=$(jq -n -c --argjson o $want_ok --argjson l $want_logon --argjson n $want_name \
	'{"auth-logon-failure": $l, "ok": $o, "tree-bad-network-name": $n} | with_entries(select(.value > 0))')
[ "$got" = "$want" ] && ok "soak: $N attempts, each reported once with its class ($got)" ||
	not_ok "soak: $N attempts reported by class (got $got, want $want)"
# flat: the last sample within 1 MB of the first after the first tenth
second=$(echo "$samples" | awk '{print $2}')
[ -n "$second" ] && [ $((last - second)) -lt 1024 ] &&
	ok "soak: RSS flat (${second} KB after a tenth, ${last} KB at the end)" ||
	not_ok "soak: RSS flat (${second:-?} KB after a tenth, ${last} KB at the end)"
echo "soak: $N attempts in $(((t1 - t0) / 1000)) s; cifstrace RSS KB at start and every tenth: $samples; at the end: $last"
