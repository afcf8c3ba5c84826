#!/bin/bash
# tests/vm/smoke.sh: guest smoke test, run as  tests/vm/run [--kernel K] tests/vm/smoke.sh
# Checks that the guest can load cifs (with module BTF and tracepoints), that
# Samba serves a share on 127.0.0.1, and that cifs mounts it (and rejects a
# wrong password with EACCES).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fails=0
ok()   { echo "ok   - $*"; }
bad()  { echo "FAIL - $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

echo "# kernel $(uname -r)"
check "modprobe cifs" modprobe cifs
case $(uname -r) in
5.10.*) echo "skip - /sys/kernel/btf/cifs (5.10 has no module BTF)" ;;
*)      check "/sys/kernel/btf/cifs exists" test -e /sys/kernel/btf/cifs ;;
esac
n=0
for d in /sys/kernel/tracing/events/cifs/*/; do [[ -d $d ]] && n=$((n + 1)); done
check "tracefs has events/cifs ($n events)" test "$n" -gt 0

cat > /tmp/smoke-shares.conf <<'CONF'
[data]
	path = /tmp/share
	read only = no
	valid users = alice
CONF
if "$HERE/samba-start" /tmp/smoke-shares.conf alice:secret; then
	ok "samba-start"
	mkdir -p /mnt/x
	if mount -t cifs //127.0.0.1/data /mnt/x -o username=alice,password=secret; then
		ok "mount //127.0.0.1/data"
		echo "hello $$" > /mnt/x/hello.txt
		check "write+read back through cifs" test "$(cat /mnt/x/hello.txt)" = "hello $$"
		check "file visible on the server side" test "$(cat /tmp/share/hello.txt 2>/dev/null)" = "hello $$"
		grep -q ' /mnt/x cifs ' /proc/mounts && ok "listed in /proc/mounts" || bad "listed in /proc/mounts"
		check "umount" umount /mnt/x
	else
		bad "mount //127.0.0.1/data"
	fi
	out=$(mount -t cifs //127.0.0.1/data /mnt/x -o username=alice,password=wrong 2>&1)
	rc=$?
	if ((rc != 0)) && grep -q 'error(13)' <<<"$out"; then
		ok "wrong password rejected with error(13)"
	else
		bad "wrong password: rc=$rc out=$out"
		umount /mnt/x 2>/dev/null
	fi
	"$HERE/samba-stop"
	check "samba-stop closed port 445" bash -c '! (exec 3<>/dev/tcp/127.0.0.1/445) 2>/dev/null'
else
	bad "samba-start"
fi

if ((fails)); then echo "# smoke: $fails failure(s)"; exit 1; fi
echo "# smoke: all ok"
