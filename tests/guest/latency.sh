#!/bin/bash
# Guest test: `cifstrace latency` against a real cifs.ko and Samba.
#
# (a) counts: a share mounted before cifstrace starts (so its connection,
#     session and tree are learnt from the kernel, not from a traced mount),
#     /proc/fs/cifs/Stats reset, then a scripted metadata and data workload
#     under `latency --json`: the per-command counts and the bytes of the
#     share must equal the kernel's own per-share counters.
# (a') errors: stats of missing files: the failed compounds' three commands
#     counted by NT status (STATUS_OBJECT_NAME_NOT_FOUND), once per stat.
# (b) network: `tc netem` delays loopback by 100 ms; `--slower` logs the
#     operations, and the split blames the network.
# (c) server: every smbd stopped for 1.5 s while a request waits; the
#     server's TCP ACKs it, so the split blames the server.
# (d) the text output: libbpf-tools style histograms, the split, the totals.
# (e) latency reads each request's ACK from its socket at the answer (no
#     program per TCP segment): on one workload traced by latency and by
#     events (tcp_probe, per segment) at once, the two agree per command on
#     how many requests had a separate ACK and how many an ACK on the answer.
# (f) credits: 32 threads of stats; with Samba's usual credit grant no
#     stall, with `smb2 max credits = 16` stalls counted and queue time first.
. "$(dirname "$0")/lib.sh"

if start_samba; then ok "latency: samba started"; else not_ok "latency: samba started"; exit 1; fi
M=/mnt/lat
UNC='\\127.0.0.1\data'
CREDS=username=alice,password=secret
mkdir -p $M
if ! mount -t cifs //127.0.0.1/data $M -o $CREDS,cache=none; then
	not_ok "latency: mount //127.0.0.1/data"
	exit 1
fi

# ---------------------------------------------------------------- (a) counts
J=$WORK/counts.jsonl
echo 0 >/proc/fs/cifs/Stats
attach counts "$J.err" latency --json -v >"$J"
for i in $(seq 1 40); do echo "file $i" >$M/f$i; done
for i in $(seq 1 40); do stat $M/f$i >/dev/null; done
# times set: a SET_INFO on every kernel (7.x sets no end of file for dd's)
for i in $(seq 1 5); do touch -d @86400 $M/f$i; done
ls -l $M >/dev/null
dd if=/dev/urandom of=$M/big bs=64k count=16 conv=fsync 2>/dev/null
cat $M/big >/dev/null
for i in $(seq 1 40); do rm -f $M/f$i; done
rm -f $M/big
trace_stop
cp /proc/fs/cifs/Stats "$WORK/stats.txt"
# The hot path as meant, not a fallback that loads as well (a send program
# the verifier refused leaves the kprobe pair, slower, and every count right):
# with BTF for cifs the send is an fexit and, 5.19 on, the answer reads the
# socket through a kptr; without (5.10), the kprobe pair and probe reads.
# Where cifs's BTF carries its own copy of struct sock (7.x), the verifier
# lets no helper take the socket as the kernel's: the send casts it to the
# kernel's struct tcp_sock with the kfunc bpf_rdonly_cast, said so.
send_mode=$(awk '$1 == "__smb_send_rqst" {print $2, $3}' "$J.err")
read_mode=$(sed -n 's/^cifstrace: the answer reads the socket //p' "$J.err")
want="kprobe/kretprobe ok, "
if [ -e /sys/kernel/btf/cifs ]; then
	want="fexit ok, kptr"	# kptr_untrusted from 6.4
	bpftool btf dump -B /sys/kernel/btf/vmlinux file /sys/kernel/btf/cifs |
		grep -q "^\[[0-9]*\] STRUCT 'sock' " &&
		want="$want (cast with bpf_rdonly_cast: cifs's BTF has its own struct sock)"
fi
if [ "$send_mode, ${read_mode/kptr_untrusted/kptr}" = "$want" ]; then
	ok "counts: the send attaches as and the answer reads the socket as meant: $send_mode, $read_mode"
else
	not_ok "counts: the send and the answer's socket read: '$send_mode, $read_mode', not '$want'"
	grep -E "load failed" "$J.err" | sed 's/^/#   /'
fi
# stat_count LABEL: "Creates: 123 total 0 failed" of the data share
check "counts: rows name server 127.0.0.1 and the share of a mount made before cifstrace" "$J" \
	"any(\$e[]; .type==\"histogram\" and .server==\"127.0.0.1\" and .share==\"$(printf '%s' "$UNC" | sed 's/\\/\\\\/g')\" and .command==\"CREATE\")"
for pair in CREATE:Creates CLOSE:Closes WRITE:Writes READ:Reads QUERY_INFO:QueryInfos \
	SET_INFO:SetInfos QUERY_DIRECTORY:QueryDirectories FLUSH:Flushes; do
	cmd=${pair%%:*} label=${pair#*:}
	want=$(stat_count "$label")
	got=$(jq -s --arg c "$cmd" '[.[] | select(.type=="histogram" and .command==$c and (.share|endswith("\\data"))) | .count] | add // 0' "$J")
	if [ -n "$want" ] && [ "$got" = "$want" ] && { [ "$want" -gt 0 ] || [ "$cmd" = FLUSH ] || [ "$cmd" = QUERY_DIRECTORY ]; }; then
		ok "counts: $cmd count $got equals /proc/fs/cifs/Stats $label"
	else
		not_ok "counts: $cmd count '$got' equals /proc/fs/cifs/Stats $label '$want'"
	fi
done
for dir in read written; do
	want=$(stat_bytes "$dir")
	[ $dir = read ] && f=read_bytes || f=write_bytes
	got=$(jq -s --arg f $f '[.[] | select(.type=="share" and (.share|endswith("\\data"))) | .[$f]] | add // 0' "$J")
	if [ -n "$want" ] && [ "$got" = "$want" ] && [ "$want" -gt 0 ]; then
		ok "counts: bytes $dir $got equal /proc/fs/cifs/Stats"
	else
		not_ok "counts: bytes $dir '$got' equal /proc/fs/cifs/Stats '$want'"
	fi
done
check "counts: percentiles ordered, buckets add up to count, split sums within the total" "$J" \
	'[$e[] | select(.type=="histogram")] | length > 4 and all(.[];
		.p50_us <= .p90_us and .p90_us <= .p99_us and .p99_us <= .max_us
		and ([.buckets[].count] | add) == .count
		and (.queue_us + .network_us + .server_us + .network_server_us) <= .total_us + .sent_count)'
check "counts: the split was measured for most requests (send and ACK seen)" "$J" \
	'[$e[] | select(.type=="histogram" and .share!="")] | ([.[] | .split_count + .joint_count] | add) * 10 >= ([.[].count] | add) * 9'
check "counts: nothing lost, nothing overflowed" "$J" \
	'any($e[]; .type=="health" and .lost_events==0 and .requests_not_timed==0 and .histogram_overflow==0 and .ack_overrun==0 and .send_unmatched==0)'
check "counts: no per-request record reached userspace (no slow log asked)" "$J" \
	'all($e[]; .type!="slow")'

# ---------------------------------------------------------------- (a') errors
# stats of 20 missing files: each is one compound whose CREATE fails with
# STATUS_OBJECT_NAME_NOT_FOUND, and its QUERY_INFO and CLOSE with it (the
# server fails the chained requests; cifs maps one answer). /proc/fs/cifs/Stats
# counts none of them as failed, so the workload is the reference: one
# failed lookup per stat that said "No such file".
J=$WORK/errors.jsonl
attach errors "$J.err" latency --json >"$J"
enoent=0
for i in $(seq 1 20); do
	stat $M/missing$i >/dev/null 2>"$WORK/stat.err"
	grep -q "No such file" "$WORK/stat.err" && enoent=$((enoent + 1))
done
trace_stop
# NOT_FOUND answers, and all error answers, of command $1
nf() { jq -s --arg c "$1" '[.[] | select(.type=="histogram" and .command==$c) |
	.errors_by_status.STATUS_OBJECT_NAME_NOT_FOUND // 0] | add // 0' "$J"; }
errs=$(jq -s '[.[] | select(.type=="histogram" and .command=="CREATE") | .errors] | add // 0' "$J")
got="$(nf CREATE) $(nf QUERY_INFO) $(nf CLOSE)"
if [ "$enoent" = 20 ] && [ "$got" = "20 20 20" ] && [ "$errs" = 20 ]; then
	ok "errors: 20 missing files: CREATE, QUERY_INFO and CLOSE 20 times STATUS_OBJECT_NAME_NOT_FOUND each"
else
	not_ok "errors: $enoent stats said ENOENT; NOT_FOUND by CREATE, QUERY_INFO, CLOSE: '$got' (CREATE errors '$errs'), not 20 each"
fi

[ -n "${LAT_ONLY_COUNTS:-}" ] && exit 0
# ---------------------------------------------------------------- (b) network
# quickack on the loopback route: the server's TCP ACKs each request at
# once instead of delaying its ACK onto the answer, so the split is clean
for r in 127.0.0.0/8 127.0.0.1; do
	ip route replace local $r dev lo table local scope host src 127.0.0.1 quickack 1
done
if tc qdisc add dev lo root netem delay 100ms 2>"$WORK/tc.err"; then
	J=$WORK/net.jsonl
	attach network "$J.err" latency --json --slower 150 --share data >"$J"
	for i in 1 2 3; do stat $M/net-$i >/dev/null 2>&1; done
	trace_stop
	tc qdisc del dev lo root
	for r in 127.0.0.0/8 127.0.0.1; do
		ip route replace local $r dev lo table local scope host src 127.0.0.1
	done
	check "network: slow ops logged with the share, command and split" "$J" \
		'[$e[] | select(.type=="slow")] | length >= 2 and all(.[]; .share=="\\\\127.0.0.1\\data" and .latency_us >= 150000)'
	check "network: the 100 ms delay each way is in the network part" "$J" \
		'[$e[] | select(.type=="slow" and .network_us != null)] | length >= 2 and all(.[]; .network_us >= 150000 and .network_us > .server_us)'
	check "network: slow ops name the file (the kernel's path of the stat)" "$J" \
		'any($e[]; .type=="slow" and ((.path // "") | test("net-[123]$")))'
	check "network: histograms say the network dominates" "$J" \
		'any($e[]; .type=="histogram" and .command=="CREATE" and .dominant=="network")'
else
	not_ok "network: tc netem delay on lo ($(head -1 "$WORK/tc.err"))"
fi

# ---------------------------------------------------------------- (c) server
J=$WORK/server.jsonl
attach server "$J.err" latency --json --slower 800 --no-hist >"$J"
smbd=$(pgrep -x smbd)
# shellcheck disable=SC2086
kill -STOP $smbd
stat $M/stalled >/dev/null 2>&1 &
spid=$!
sleep 1.5
# shellcheck disable=SC2086
kill -CONT $smbd
wait $spid
trace_stop
check "server: the stalled request is logged, ACKed by TCP, and the time is the server's" "$J" \
	'any($e[]; .type=="slow" and .server_us >= 1000000 and .network_us < 100000 and .share=="\\\\127.0.0.1\\data")'
check "server: the stalled request names its file" "$J" \
	'any($e[]; .type=="slow" and .server_us >= 1000000 and ((.path // "") | test("stalled$")))'
check "server: --no-hist prints only the slow log" "$J" \
	'all($e[]; .type=="slow")'

# ---------------------------------------------------------------- (c2) -p PID
# Two writers at once; only the first one's requests may be counted. Its
# loop uses shell builtins only, so every request is its own process's.
J=$WORK/pid.jsonl
( while [ ! -e "$WORK/go" ]; do sleep 0.1; done
  for i in 1 2 3 4 5; do echo x >$M/p$i; done ) &
wpid=$!
attach pid "$J.err" latency --json -p $wpid >"$J"
touch "$WORK/go"
for i in $(seq 1 20); do echo y >$M/o$i; done
wait $wpid
trace_stop
rm -f $M/p? $M/o*
check "pid: -p counts the chosen process's CREATEs (5 files) and not the other writer's (20)" "$J" \
	'[$e[] | select(.type=="histogram" and .command=="CREATE") | .count] | add as $n | $n >= 5 and $n <= 10'

# ---------------------------------------------------------------- (d) text
T=$WORK/text.out
attach text "$T.err" latency -d 60 >"$T"
for i in 1 2 3 4 5; do echo x >$M/t$i; rm -f $M/t$i; done
trace_stop
if grep -q 'usecs *: count *distribution' "$T" && grep -q '^\\\\127.0.0.1\\data  CREATE' "$T" &&
	grep -q 'time split: queue' "$T" && grep -q '^lost events 0' "$T"; then
	ok "text: histograms, split and totals printed"
else
	not_ok "text: histograms, split and totals printed"
	sed 's/^/#   /' "$T" | head -30
fi

# ---------------------------------------------------------------- (e) ACKs
J=$WORK/acks.jsonl
attach acks "$J.err" latency --json >"$J"
LPID=$TRACER_PID
n=$(bpftool prog show 2>/dev/null | grep -c 'name tpbtf_tcp_probe\|name tp_tcp_probe')
if [ "$n" = 0 ]; then
	ok "acks: latency loads no program that runs per TCP segment"
else
	not_ok "acks: latency loads no program that runs per TCP segment ($n tcp_probe)"
fi
attach acks "$J.ev.err" events --json >"$J.ev"
for i in $(seq 1 40); do echo "file $i" >$M/a$i; done
for i in $(seq 1 40); do stat $M/a$i >/dev/null; done
for i in $(seq 1 40); do rm -f $M/a$i; done
trace_stop
TRACER_PID=$LPID
trace_stop
# per command: [requests, ACKed apart from the answer, ACK on the answer]
if jq -n -e --slurpfile l "$J" --slurpfile v "$J.ev" '
	def near(a; b; n): (if a > b then a - b else b - a end) <= 2 + n / 20;
	[$l[] | select(.type=="histogram" and (.share|endswith("\\data")))] as $h
	| [$v[] | select(.event=="response")] as $r
	| ["CREATE", "CLOSE", "QUERY_INFO"] | all(. as $c
		| ([$h[] | select(.command==$c)] | [([.[].count] | add), ([.[].split_count] | add), ([.[].joint_count] | add)]) as $a
		| ([$r[] | select(.cmd==$c)] | [length, ([.[] | select(.server_us != null)] | length),
			([.[] | select(.network_server_us != null)] | length)]) as $b
		| $a[0] >= 40 and near($a[0]; $b[0]; $a[0]) and near($a[1]; $b[1]; $a[0])
		  and near($a[2]; $b[2]; $a[0]))' >/dev/null; then
	ok "acks: latency (from the socket) and events (per segment) agree on each command's ACKs"
else
	not_ok "acks: latency (from the socket) and events (per segment) agree on each command's ACKs"
	jq -c 'select(.type=="histogram") | [.command, .count, .split_count, .joint_count]' "$J" | sed 's/^/#   /' | head
	jq -s -c '[.[] | select(.event=="response")] | group_by(.cmd)[] | [.[0].cmd, length,
		([.[] | select(.server_us != null)] | length), ([.[] | select(.network_server_us != null)] | length)]' \
		"$J.ev" | sed 's/^/#   /'
fi

# ---------------------------------------------------------------- (f) credits
# 32 threads stat files at once (a stat is a compound of 3 requests, 3
# credits): with Samba's usual grant no request waits; with the server
# granting 16 credits at most (smb2 max credits) most must wait for the
# answers of others. A credit stall is counted per server, and the wait is
# queue time, so the split blames the queue.
for i in $(seq 1 32); do echo x >$M/c$i; done
umount $M
CMOUNT=$CREDS,cache=none,actimeo=0	# every stat asks
# credit_load NAME: the load under `latency --json`, into $WORK/NAME.jsonl
credit_load() {
	local J=$WORK/$1.jsonl
	attach "$1" "$J.err" latency --json >"$J"
	bounded 300 python3 -c '
import os, sys, threading
def work(i):
    for _ in range(10):
        os.stat("%s/c%d" % (sys.argv[1], i + 1))
ts = [threading.Thread(target=work, args=(i,)) for i in range(32)]
[t.start() for t in ts]
[t.join() for t in ts]' $M
	trace_stop
}
# [the 127.0.0.1 server's credit stalls, CREATEs, their queue us, the rest us]
credit_sums() {
	jq -s -c '[([.[] | select(.type=="server" and .server=="127.0.0.1") | .credit_stalls] | add // 0),
		([.[] | select(.type=="histogram" and .command=="CREATE")] |
		 ([.[].count] | add // 0), ([.[].queue_us] | add // 0),
		 ([.[] | .network_us + .server_us + .network_server_us] | add // 0))]' "$WORK/$1.jsonl"
}
if mount -t cifs //127.0.0.1/data $M -o $CMOUNT; then
	credit_load credits-usual
	umount $M
fi
"$VM/samba-stop" >/dev/null 2>&1
{ printf '[global]\n\tsmb2 max credits = 16\n'; cat "$WORK/shares.conf"; } >"$WORK/credits.conf"
if "$VM/samba-start" "$WORK/credits.conf" alice:secret bob:bobpass >/dev/null &&
	mount -t cifs //127.0.0.1/data $M -o $CMOUNT; then
	credit_load credits-16
	umount $M
else
	: >"$WORK/credits-16.jsonl"
fi
u=$(credit_sums credits-usual) s=$(credit_sums credits-16)
if jq -n -e --argjson u "$u" '$u[0] == 0 and $u[1] >= 320' >/dev/null; then
	ok "credits: Samba's usual grant, 32 threads: 0 credit stalls ($u)"
else
	not_ok "credits: Samba's usual grant, 32 threads: 0 credit stalls ($u)"
fi
if jq -n -e --argjson s "$s" '$s[0] >= 32 and $s[1] >= 320 and $s[2] > $s[3]' >/dev/null; then
	ok "credits: smb2 max credits = 16, 32 threads: stalls counted, queue time dominates ($s)"
else
	not_ok "credits: smb2 max credits = 16, 32 threads: stalls counted, queue time dominates ($s)"
fi

"$VM/samba-stop" >/dev/null 2>&1
exit $((FAILED > 0))
