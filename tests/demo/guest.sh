#!/bin/bash
# The guest side of `make demo` (run by tests/demo/run inside tests/vm/run):
# Samba with some broken shares and users, `cifstrace diagnose` attached,
# then a scripted sequence of mounts, each announced with a "### demo:" line;
# then `cifstrace latency` over a workload on a working mount.
# Always exits 0 once the sequence has run.
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CIFSTRACE=$REPO/build/cifstrace
VM=$REPO/tests/vm
W=$(mktemp -d)

# What watches the mounts. `events` (every event, no diagnosis) also works.
TRACER=(diagnose --hang-after 3)

say() { echo; echo "### demo: $*"; }

modprobe cifs
cat >"$W/shares.conf" <<'CONF'
[data]
	path = /tmp/demo-data
	read only = no
	valid users = alice
[secure]
	comment = requires SMB3 encryption
	path = /tmp/demo-secure
	valid users = alice
	smb encrypt = required
CONF
echo "### demo: starting Samba on 127.0.0.1 (share 'data' for alice, share 'secure' requires encryption)"
if ! "$VM/samba-start" "$W/shares.conf" alice:secret; then
	echo "### demo: Samba did not start; giving up" >&2
	exit 1
fi
mkdir -p /mnt/demo

# start_tracer ERRFILE ARGS...: cifstrace ARGS in the background, once
# attached (sets $tracer); gives up with its error if it does not start.
start_tracer() {
	local err=$1; shift
	"$CIFSTRACE" "$@" 2>"$err" &
	tracer=$!
	for _ in $(seq 1 300); do
		grep -q "tracing the SMB client" "$err" && break
		kill -0 $tracer 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q "tracing the SMB client" "$err"; then
		echo "### demo: cifstrace did not start:" >&2
		grep -v '^libbpf' "$err" | tail -n 5 >&2
		exit 1
	fi
}

echo "### demo: starting cifstrace ${TRACER[*]}"
start_tracer "$W/tracer.err" "${TRACER[@]}"
grep "tracing the SMB client" "$W/tracer.err"

# try UNC OPTIONS: mount as a user would, show what mount itself says, and
# give cifstrace a moment to print its report before the next step.
try() {
	local out
	if out=$(mount -t cifs "$1" /mnt/demo -o "$2" 2>&1); then
		echo "    \$ mount -t cifs $1 ...: mounted"
		ls /mnt/demo >/dev/null
		umount /mnt/demo
	else
		echo "    \$ mount -t cifs $1 ...: $(grep -m1 'mount error(' <<<"$out" || head -n 1 <<<"$out")"
	fi
	sleep 1.5
}

say "mounting //127.0.0.1/data as alice (all good)"
try //127.0.0.1/data username=alice,password=secret

say "mounting //127.0.0.1/nosuch (share does not exist)"
try //127.0.0.1/nosuch username=alice,password=secret

say "mounting //127.0.0.1/data with a wrong password"
try //127.0.0.1/data username=alice,password=guess

say "mounting //127.0.0.1/secure with vers=2.1 (the share requires encryption, SMB 2.1 has none)"
try //127.0.0.1/secure username=alice,password=secret,vers=2.1

say "mounting //127.0.0.1/data on port 4455 (nothing listens there)"
try //127.0.0.1/data username=alice,password=secret,port=4455

smbd=$(pgrep -x smbd)
# shellcheck disable=SC2086
kill -STOP $smbd
say "mounting //127.0.0.1/data while every smbd is frozen (kill -STOP): TCP accepts, SMB never answers; the kernel gives up after 20-45 s, cifstrace says so after 3"
try //127.0.0.1/data username=alice,password=secret
# shellcheck disable=SC2086
kill -CONT $smbd

say "done; stopping cifstrace diagnose"
kill -INT $tracer
wait $tracer

# The second half: where the time goes on a mount that works. Linux
# delays its ACKs: a fast answer then carries the ACK, and network and
# server time are one figure. quickack on the loopback route makes the
# server's TCP ACK each request at once, so the split is visible.
for r in 127.0.0.0/8 127.0.0.1; do
	ip route replace local $r dev lo table local scope host src 127.0.0.1 quickack 1
done
mount -t cifs //127.0.0.1/data /mnt/demo -o username=alice,password=secret
say "mounted //127.0.0.1/data before starting cifstrace latency --slower 150; a workload runs, then 100 ms of delay is added on loopback (tc netem) for a few more operations (quickack on: the server's TCP ACKs each request at once)"
start_tracer "$W/latency.err" latency --slower 150
for i in $(seq 1 30); do echo "file $i" >/mnt/demo/f$i; done
dd if=/dev/zero of=/mnt/demo/big bs=64k count=32 conv=fsync 2>/dev/null
echo 3 >/proc/sys/vm/drop_caches	# read it from the server, not the page cache
cat /mnt/demo/big >/dev/null
for i in $(seq 1 30); do stat /mnt/demo/f$i >/dev/null; rm -f /mnt/demo/f$i; done
if tc qdisc add dev lo root netem delay 100ms 2>/dev/null; then
	for i in 1 2 3; do stat /mnt/demo/slow-$i >/dev/null 2>&1; done
	tc qdisc del dev lo root
fi
rm -f /mnt/demo/big
sleep 0.5
kill -INT $tracer
wait $tracer
umount /mnt/demo
"$VM/samba-stop" >/dev/null 2>&1
exit 0
