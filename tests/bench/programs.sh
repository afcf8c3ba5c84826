#!/bin/bash
# BENCH_ONLY=programs make bench, guest half: where the BPF time of an SMB
# operation goes, program by program, for `cifstrace latency`, `cifstrace
# diagnose` and the bpftrace histogram, in one guest, alternating
# (BENCH_ROUNDS rounds, default 3), on both of guest.sh's workloads: meta
# (BENCH_FILES files created, stat'ed and removed, default 300) and data
# (its fio job, BENCH_DATA_MB MiB sequential, default 8). Per program: runs
# per SMB operation, ns per run and per operation
# (kernel.bpf_stats_enabled). Prints a table per tool, workload and round;
# it asserts nothing. BENCH_BASELINE=/path/to/an/older/cifstrace adds its
# `latency` as a fourth tool ("baseline"), in the same guest, alternating:
# a hot-path change measured before and after side by side.
# BENCH_CLOCK=instructions: the guest's clock counts instructions (qemu
# -icount, tests/bench/run), so the tables say "insns" where they say "ns".
# Last, a summary: per tool and workload, the median per operation over
# the rounds and its ratio to the bpftrace histogram's.
. "$(dirname "$0")/../guest/lib.sh"
set -u
ROUNDS=${BENCH_ROUNDS:-3}
FILES=${BENCH_FILES:-300}
DATA_MB=${BENCH_DATA_MB:-8}
M=/mnt/programs
D=$M/p-$$
B=$WORK/p
mkdir -p $M "$B"
: >"$B/sum"
die() { echo "bench: $*" >&2; exit 1; }
start_samba >/dev/null || die "samba did not start"
mount -t cifs //127.0.0.1/data $M -o username=alice,password=secret || die "mount failed"
mkdir -p "$D"
sysctl -q -w kernel.bpf_stats_enabled=1 || die "kernel.bpf_stats_enabled"
# the same histogram script as guest.sh
sed -n "/^cat >\"\$B\/hist.bt\" <<'BT'/,/^BT/p" "$(dirname "$0")/guest.sh" | sed '1d;$d' >"$B/hist.bt"
# the workloads of guest.sh, taken from it
eval "$(sed -n '/^work_meta() {/,/^}/p; /^work_data() {/,/^}/p' "$(dirname "$0")/guest.sh")"
declare -F work_meta work_data >/dev/null || die "no workloads in guest.sh"
U=ns
[ "${BENCH_CLOCK:-}" != instructions ] || U=insns
smb_ops() { awk '/^SMBs:/ {n += $2} END {print n+0}' /proc/fs/cifs/Stats; }
# per-program {name, runs, ns} of the programs in $1 (ids, comma-separated)
progs() {
	bpftool prog show -j | jq -c --arg ids "$1" \
		'($ids | split(",") | map(tonumber)) as $w
		 | [.[] | select(.id as $i | $w | index($i)) | {n: .name, c: (.run_cnt // 0), t: (.run_time_ns // 0)}]'
}
work_meta	# warm the mount
for ((r = 1; r <= ROUNDS; r++)); do
	for w in meta data; do
	for t in latency diagnose bpftrace ${BENCH_BASELINE:+baseline}; do
		before=$(bpftool prog show -j | jq -r '.[].id' | sort)
		t0=$(now_ms)
		case $t in
		bpftrace) bpftrace "$B/hist.bt" >"$B/out" 2>"$B/err" & m=ready ;;
		baseline) "$BENCH_BASELINE" latency >"$B/out" 2>"$B/err" & m="tracing the SMB client" ;;
		*) "$CIFSTRACE" "$t" >"$B/out" 2>"$B/err" & m="tracing the SMB client" ;;
		esac
		pid=$!
		for _ in $(seq 1 600); do grep -q "$m" "$B/out" "$B/err" 2>/dev/null && break; sleep 0.05; done
		ready=$(($(now_ms) - t0))
		ids=$(comm -13 <(echo "$before") <(bpftool prog show -j | jq -r '.[].id' | sort) | paste -sd,)
		progs "$ids" >"$B/b0"
		echo 0 >/proc/fs/cifs/Stats
		work_$w
		ops=$(smb_ops)
		progs "$ids" >"$B/b1"
		kill -INT $pid
		wait $pid 2>/dev/null
		echo
		echo "#### $t, $w workload, round $r: $ops SMB operations (ready in $ready ms)"
		echo
		echo "| program | runs / op | $U / run | $U / op |"
		echo "| --- | --- | --- | --- |"
		jq -r -n --slurpfile a "$B/b0" --slurpfile b "$B/b1" --argjson ops "$ops" '
		  [$b[0][] as $x | ($a[0][] | select(.n == $x.n)) as $y
		   | {n: $x.n, c: ($x.c - $y.c), t: ($x.t - $y.t)} | select(.c > 0)] as $d
		  | ($d[] | "| \(.n) | \(.c / $ops * 100 | round / 100) | \(.t / .c | round) | \(.t / $ops | round) |"),
		    "| all | \([$d[].c] | add / $ops * 100 | round / 100) | - | \([$d[].t] | add / $ops | round) |"' |
			tee "$B/t"
		echo "$t $w $(awk -F'|' '$2 == " all " {gsub(/ /, "", $5); print $5}' "$B/t")" >>"$B/sum"
	done
	done
done
# the summary: medians over the rounds, ratio to bpftrace's
echo
echo "#### BPF $U per SMB operation, median of $ROUNDS round(s)"
echo
echo "| tool | meta | data | / bpftrace (meta) | / bpftrace (data) |"
echo "| --- | --- | --- | --- | --- |"
med() { awk -v t="$1" -v w="$2" '$1 == t && $2 == w {print $3}' "$B/sum" | sort -n |
	awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print 0}'; }
for t in latency diagnose bpftrace ${BENCH_BASELINE:+baseline}; do
	m=$(med $t meta) d=$(med $t data) bm=$(med bpftrace meta) bd=$(med bpftrace data)
	echo "| $t | $m | $d | $(awk -v a="$m" -v b="$bm" 'BEGIN {printf "%.2f", b ? a / b : 0}') | $(awk -v a="$d" -v b="$bd" 'BEGIN {printf "%.2f", b ? a / b : 0}') |"
done
umount $M
"$VM/samba-stop" >/dev/null 2>&1
exit 0
