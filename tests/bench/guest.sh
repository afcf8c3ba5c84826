#!/bin/bash
# make bench, guest half: the overhead of cifstrace and of the tools an SRE
# would reach for instead, measured side by side in one guest run.
#
# One Samba share on loopback, two workloads (meta: create, stat and
# remove small files; data: fio sequential 1 MiB and random 4 KiB reads and
# writes, O_DIRECT), each run under every tool, the tool order rotated and
# reversed between rounds; medians of BENCH_ROUNDS rounds. Per tool and per
# 1,000 SMB operations (counted from /proc/fs/cifs/Stats): tracer CPU time
# while the workload runs (schedstat of every thread of the tool and its
# children; loading is in the attach time), BPF program runs and
# ns (kernel.bpf_stats_enabled, the programs the tool loaded), bytes the
# tool wrote, lost events, peak RSS (getrusage) and RSS while running (page
# by page, BPF maps included), time to attach, and the workload's wall
# time against no tracer. Then a loopback TCP storm on a non-SMB port with
# and without cifstrace attached.
#
# Output: a markdown table per workload on stdout; raw rows in
# $VM_OUT/bench-raw.tsv when VM_OUT is set.
. "$(dirname "$0")/../guest/lib.sh"
set -u

ROUNDS=${BENCH_ROUNDS:-3}
FILES=${BENCH_FILES:-1000}
DATA_MB=${BENCH_DATA_MB:-32}
TOOLS=${BENCH_TOOLS:-"none latency diagnose events tcpdump trace-cmd bpftrace"}
M=/mnt/bench
D=$M/bench-$$
RAW=$WORK/raw.tsv
B=$WORK/b
mkdir -p $M "$B"
: >"$RAW"

die() { echo "bench: $*" >&2; exit 1; }
start_samba >/dev/null || die "samba did not start"
mount -t cifs //127.0.0.1/data $M -o username=alice,password=secret || die "mount failed"
mkdir -p "$D"
sysctl -q -w kernel.bpf_stats_enabled=1 || die "kernel.bpf_stats_enabled"
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
NCPU=$(nproc)

cat >"$B/hist.bt" <<'BT'
// the per-command latency histogram an SRE would write in bpftrace
tracepoint:cifs:smb3_cmd_enter { @start[args->sesid, args->mid] = nsecs; }
tracepoint:cifs:smb3_cmd_done, tracepoint:cifs:smb3_cmd_err
/@start[args->sesid, args->mid]/
{
	@usecs[args->cmd] = hist((nsecs - @start[args->sesid, args->mid]) / 1000);
	delete(@start[args->sesid, args->mid]);
}
BEGIN { printf("ready\n"); }
BT

# ---------------------------------------------------------------- workloads
work_meta() {
	local i
	for ((i = 0; i < FILES; i++)); do : >"$D/f$i"; done
	for ((i = 0; i < FILES; i++)); do [ -e "$D/f$i" ]; done
	rm -f "$D"/f*
}
work_data() {
	fio --output=/dev/null --directory="$D" --direct=1 --ioengine=psync --size=${DATA_MB}M \
		--name=seqwrite --rw=write --bs=1M \
		--name=seqread --stonewall --rw=read --bs=1M \
		--name=randwrite --stonewall --rw=randwrite --bs=4k --size=4M \
		--name=randread --stonewall --rw=randread --bs=4k --size=4M >/dev/null 2>&1
	rm -f "$D"/*.0
}

# ---------------------------------------------------------------- tools
# tool_start TOOL: run it under GNU time; wait until it is ready; sets
# TPID (GNU time's pid), OUTS (files it writes), READY_MS (attach time).
tool_start() {
	local t=$1 marker file t0
	rm -f "$B"/out.* "$B"/err "$B"/time
	: >"$B/err"
	OUTS=$B/out.stdout
	case $t in
	none) TPID=; READY_MS=0; return 0 ;;
	latency)  set -- "$CIFSTRACE" latency; marker="tracing the SMB client" ;;
	diagnose) set -- "$CIFSTRACE" diagnose; marker="tracing the SMB client" ;;
	exporter) set -- "$CIFSTRACE" exporter; marker="tracing the SMB client" ;;
	events)   set -- "$CIFSTRACE" events --json; marker="tracing the SMB client" ;;
	tcpdump)  set -- tcpdump -i lo -w "$B/out.pcap" -U port 445; marker="listening on"
		  OUTS="$OUTS $B/out.pcap" ;;
	trace-cmd) set -- trace-cmd record -e cifs -o "$B/out.dat"; marker=tracefs
		  OUTS="$OUTS $B/out.dat" ;;
	bpftrace) set -- bpftrace "$B/hist.bt"; marker="ready" ;;
	esac
	t0=$(now_ms)
	/usr/bin/time -f "%U %S %M" -o "$B/time" "$@" >"$B/out.stdout" 2>"$B/err" &
	TPID=$!
	for _ in $(seq 1 600); do
		if [ "$marker" = tracefs ]; then
			# trace-cmd says nothing unbuffered: ready once the events are on
			grep -q 1 /sys/kernel/tracing/events/cifs/smb3_cmd_enter/enable && break
		else
			grep -q "$marker" "$B/err" "$B/out.stdout" 2>/dev/null && break
		fi
		kill -0 $TPID 2>/dev/null || die "$t exited before it was ready: $(tail -3 "$B/err")"
		sleep 0.05
	done
	READY_MS=$(($(now_ms) - t0))
}
tool_stop() {
	[ -n "$TPID" ] || return 0
	pkill -INT -P "$TPID"
	wait "$TPID" 2>/dev/null
}
# lost events the tool reported, "-" where it cannot tell
tool_lost() {
	case $1 in
	latency|diagnose|events)
		grep -o '[0-9]* events lost' "$B/err" | awk '{n+=$1} END {print n+0}' ;;
	tcpdump) grep -o '[0-9]* packets dropped by kernel' "$B/err" | awk '{print $1+0}' ;;
	bpftrace) grep -o 'Lost [0-9]* events' "$B/err" | awk '{n+=$2} END {print n+0}' ;;
	*) echo - ;;
	esac
}

# tree_pids PID: PID and all its descendants
tree_pids() {
	local pids=$1 p all="" kids
	while [ -n "$pids" ]; do
		all="$all $pids"
		kids=""
		for p in $pids; do kids="$kids $(pgrep -P "$p" | tr '\n' ' ')"; done
		pids=$(echo $kids)
	done
	echo $all
}
# tree_cpu_ns PID: CPU time (ns, from schedstat) of PID, its threads and
# all its descendants: what the tool costs while the workload runs.
# (%.0f, not %d: mawk's %d stops at 2^31-1, 2.1 s of CPU, which a tool
# that took its start's CPU, as on 7.3, passes before the workload ends.)
tree_cpu_ns() {
	local p
	for p in $(tree_pids "$1"); do cat /proc/"$p"/task/*/schedstat 2>/dev/null; done |
		awk '{n += $1} END {printf "%.0f", n}'
}
# tree_rss_kb PID: resident memory now of the tool's processes (not
# /usr/bin/time's, which is PID itself), walked page by page (Rss in
# smaps_rollup): VmRSS leaves out the BPF maps' pages mapped into the
# process on 6.1 (the ring, the in-flight table) and counts them on 7.3
tree_rss_kb() {
	local p
	for p in $(tree_pids "$1"); do
		[ "$p" = "$1" ] || grep -h '^Rss:' /proc/"$p"/smaps_rollup 2>/dev/null
	done | awk '{n += $2} END {printf "%.0f", n}'
}

prog_ids() { bpftool prog show -j 2>/dev/null | jq -r '.[].id' | sort; }	# for comm
# bpf_totals IDS...: "runs ns" summed over these programs
bpf_totals() {
	local ids
	ids=$(printf '%s,' "$@")
	bpftool prog show -j 2>/dev/null | jq -r --arg ids "${ids%,}" \
		'($ids | split(",") | map(select(. != "") | tonumber)) as $w
		 | [.[] | select(.id as $i | $w | index($i))]
		 | "\([.[].run_cnt // 0] | add // 0) \([.[].run_time_ns // 0] | add // 0)"'
}
smb_ops() { awk '/^SMBs:/ {n += $2} END {print n+0}' /proc/fs/cifs/Stats; }

# run_one WORKLOAD TOOL ROUND: one measurement, one raw row
run_one() {
	local w=$1 t=$2 r=$3 before after ids b0 b1 t0 t1 ops cpu rss now_rss bytes
	before=$(prog_ids)
	tool_start "$t"
	after=$(prog_ids)
	ids=$(comm -13 <(echo "$before") <(echo "$after"))
	# shellcheck disable=SC2086
	b0=$(bpf_totals $ids)
	echo 0 >/proc/fs/cifs/Stats
	c0=0 c1=0
	[ -z "$TPID" ] || c0=$(tree_cpu_ns "$TPID")
	t0=$(now_ms)
	"work_$w"
	t1=$(now_ms)
	[ -z "$TPID" ] || c1=$(tree_cpu_ns "$TPID")
	now_rss=0
	[ -z "$TPID" ] || now_rss=$(tree_rss_kb "$TPID")
	ops=$(smb_ops)
	# shellcheck disable=SC2086
	b1=$(bpf_totals $ids)
	tool_stop
	# CPU while the workload ran (loading and attaching are in attach time)
	cpu=$(( (c1 - c0) / 1000 ))	# µs
	rss=0
	[ -z "$TPID" ] || read -r _ _ rss <"$B/time"
	# shellcheck disable=SC2086
	bytes=$(cat $OUTS 2>/dev/null | wc -c)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$t" "$r" "$ops" \
		$((t1 - t0)) "$cpu" $(( ${b1% *} - ${b0% *} )) $(( ${b1#* } - ${b0#* } )) \
		"$bytes" "$(tool_lost "$t")" "$rss" "$READY_MS" "$now_rss" | tee -a "$RAW" | sed 's/^/# raw /'
}

echo "# bench: $(uname -r), $NCPU vCPUs (qemu TCG: emulated CPU, compare ratios, not absolutes)"
echo "# bench: $ROUNDS rounds, meta = $FILES files, data = fio ${DATA_MB} MiB seq + 4 MiB random 4 KiB"
read -ra tools <<<"$TOOLS"
# BENCH_ONLY=storm: only the non-SMB traffic part (a quick check)
[ "${BENCH_ONLY:-}" != storm ] || ROUNDS=0
for ((r = 1; r <= ROUNDS; r++)); do
	# rotate the order each round and reverse it every other round
	order=("${tools[@]:r % ${#tools[@]}}" "${tools[@]:0:r % ${#tools[@]}}")
	if ((r % 2 == 0)); then
		for ((i = 0, j = ${#order[@]} - 1; i < j; i++, j--)); do
			x=${order[i]}; order[i]=${order[j]}; order[j]=$x
		done
	fi
	for w in meta data; do
		for t in "${order[@]}"; do run_one "$w" "$t" "$r"; done
	done
done

# ---------------------------------------------------------------- tables
table() {
	local w=$1
	echo
	echo "### $w workload (medians of $ROUNDS rounds)"
	echo
	echo "| tool | SMB ops | tracer CPU ms / 1k ops | BPF runs / op | BPF ns / op | bytes / op | lost | peak RSS MB | RSS MB running | attach s | workload time vs none |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	awk -F'\t' -v w="$w" -v order="$TOOLS" '
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	$1 == w {
		k = $2; n[k]++
		ops[k, n[k]] = $4; wall[k, n[k]] = $5
		cpu[k, n[k]] = $4 ? $6 / $4 : 0		# µs per op = ms per 1k ops
		runs[k, n[k]] = $4 ? $7 / $4 : 0
		ns[k, n[k]] = $4 ? $8 / $4 : 0
		by[k, n[k]] = $4 ? $9 / $4 : 0
		lost[k] = $10; rss[k, n[k]] = $11 / 1024; att[k, n[k]] = $12 / 1000
		nrss[k, n[k]] = $13 / 1024
	}
	function med(arr, k,   i, a) { for (i = 1; i <= n[k]; i++) a[i] = arr[k, i]; return median(a, n[k]) }
	END {
		m = split(order, names, " ")
		base = ("none" in n) ? med(wall, "none") : 0
		for (i = 1; i <= m; i++) {
			k = names[i]; if (!(k in n)) continue
			if (k == "none") {
				printf "| no tracer | %d | - | - | - | - | - | - | - | - | 1.00 |\n", med(ops, k)
				continue
			}
			nobpf = (k == "tcpdump" || k == "trace-cmd")
			printf "| %s | %d | %.1f | %s | %s | %.0f | %s | %.1f | %.1f | %.2f | %s |\n", k, med(ops, k),
				med(cpu, k), nobpf ? "-" : sprintf("%.2f", med(runs, k)),
				nobpf ? "-" : sprintf("%.0f", med(ns, k)), med(by, k), lost[k],
				med(rss, k), med(nrss, k), med(att, k),
				base ? sprintf("%.2f", med(wall, k) / base) : "-"
		}
	}' "$RAW"
}
if ((ROUNDS > 0)); then
	table meta
	table data
fi

# ---------------------------------------------------------------- TCP storm
# Non-SMB traffic: how much BPF work does it cause, and does any of it
# reach userspace? 3,000 request/response exchanges with an echo server on
# loopback port 9999 (one established connection, so every segment goes
# through the receive path tcp_probe sits on), with and without
# `cifstrace events --json` (the mode that streams the most: tcp_probe
# on every segment) and the modes that read ACKs from the socket and run
# nothing per packet but while a Kerberos upcall runs: `diagnose`, the
# exporter and `latency`.
storm() {
	local in0 in1 reply i
	busybox nc -l -p 9999 -e cat >/dev/null 2>&1 &
	local srv=$!
	for _ in $(seq 1 100); do
		ss -Hltn 'sport = :9999' | grep -q . && break
		sleep 0.1
	done
	in0=$(awk '/^Tcp:/ && $11 ~ /^[0-9]+$/ {print $11}' /proc/net/snmp)
	exec 3<>/dev/tcp/127.0.0.1/9999
	for ((i = 0; i < 3000; i++)); do
		echo "ping $i" >&3
		read -r -u 3 reply
	done
	exec 3>&-
	wait $srv 2>/dev/null
	in1=$(awk '/^Tcp:/ && $11 ~ /^[0-9]+$/ {print $11}' /proc/net/snmp)
	echo $((in1 - in0))
}
# UDP: 3,000 datagrams to a listener on loopback port 9998 (not Kerberos):
# each is queued to its socket, where the KDC hook compares the port.
storm_udp() {
	local in0 in1 i
	python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 9998))
while s.recv(2048) != b"stop\n":
	pass' &
	local srv=$!
	for _ in $(seq 1 100); do
		ss -Hlun 'sport = :9998' | grep -q . && break
		sleep 0.1
	done
	in0=$(awk '/^Udp:/ && $2 ~ /^[0-9]+$/ {print $2}' /proc/net/snmp)
	exec 4>/dev/udp/127.0.0.1/9998
	for ((i = 0; i < 3000; i++)); do
		echo "ping $i" >&4
	done
	echo stop >&4
	exec 4>&-
	wait $srv 2>/dev/null
	in1=$(awk '/^Udp:/ && $2 ~ /^[0-9]+$/ {print $2}' /proc/net/snmp)
	echo $((in1 - in0))
}
echo
echo "### Non-SMB TCP and UDP (3,000 request/response exchanges over loopback port 9999; 3,000 datagrams to port 9998)"
echo
segs=$(storm)
dgrams=$(storm_udp)
tcp_rows="" udp_rows=""
# events: every hook it has; the others: no hook per packet (ACKs read from the socket)
for t in events diagnose exporter latency; do
	before=$(prog_ids)
	tool_start $t
	after=$(prog_ids)
	ids=$(comm -13 <(echo "$before") <(echo "$after"))
	c0=$(tree_cpu_ns "$TPID")
	# shellcheck disable=SC2086
	b0=$(bpf_totals $ids)
	segs2=$(storm)
	# shellcheck disable=SC2086
	b1=$(bpf_totals $ids)
	dgrams2=$(storm_udp)
	# shellcheck disable=SC2086
	b2=$(bpf_totals $ids)
	c1=$(tree_cpu_ns "$TPID")
	tool_stop
	lines=$(wc -l <"$B/out.stdout")
	[ $t = events ] && name="cifstrace events --json" || name="cifstrace $t"
	runs=$(( ${b1% *} - ${b0% *} )) ns=$(( ${b1#* } - ${b0#* } ))
	tcp_rows+=$(awk -v t="$name" -v s="$segs2" -v r="$runs" -v n="$ns" -v l="$lines" -v c=$(( (c1 - c0) / 1000000 )) \
		'BEGIN {printf "| %s | %d | %.2f | %.0f | %d | %d |\n", t, s, s ? r / s : 0, s ? n / s : 0, c, l}')$'\n'
	urun=$(( ${b2% *} - ${b1% *} )) uns=$(( ${b2#* } - ${b1#* } ))
	udp_rows+=$(awk -v t="$name" -v s="$dgrams2" -v r="$urun" -v n="$uns" \
		'BEGIN {printf "| %s | %d | %.2f | %.0f |\n", t, s, s ? r / s : 0, s ? n / s : 0}')$'\n'
done
echo "| | segments received (InSegs) | BPF runs / segment | BPF ns / segment | tracer CPU ms (both storms) | lines written (both storms) |"
echo "| --- | --- | --- | --- | --- | --- |"
echo "| no tracer | $segs | - | - | - | - |"
printf '%s' "$tcp_rows"
echo
echo "| | datagrams received (InDatagrams) | BPF runs / datagram | BPF ns / datagram |"
echo "| --- | --- | --- | --- |"
echo "| no tracer | $dgrams | - | - |"
printf '%s' "$udp_rows"
[ -z "${VM_OUT:-}" ] || cp "$RAW" "$VM_OUT/bench-raw.tsv"
umount $M
"$VM/samba-stop" >/dev/null 2>&1
exit 0
