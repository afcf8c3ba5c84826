#!/bin/bash
# Guest test: a second SMB server. ksmbd, the kernel's own, with Debian's
# ksmbd-tools unpacked into the test cache (the package conflicts with
# samba). The failures both servers can produce must come out of
# `cifstrace run` with the class Samba's do in diagnose.sh.
#
# kernels: 6.12 7.3
# Not on Debian's 6.1.0-50: there ksmbd oopses on the first mount, without
# cifstrace ("BUG: kernel NULL pointer dereference, address:
# 000000000000003c", RIP opinfo_put+0x5 [ksmbd], in a ksmbd-io worker); the
# mount then waits for an answer that never comes, and whatever runs next
# in that guest may hang. A bug of that kernel's ksmbd, fixed in 6.12.
. "$(dirname "$0")/lib.sh"

K=$("$REPO/tests/ksmbd-fetch.sh") || { not_ok "ksmbd: ksmbd-tools unpacked"; exit 1; }
modprobe cifs
if modprobe ksmbd; then ok "ksmbd: module loaded"; else not_ok "ksmbd: module loaded"; exit 1; fi
D=$WORK/ksmbd
mkdir -p "$D" /tmp/kdata /tmp/kbob /mnt/k
# ksmbd does not serve from the guest's overlay root: shares on tmpfs
mount -t tmpfs tmpfs /tmp/kdata
mount -t tmpfs tmpfs /tmp/kbob
cat >"$D/ksmbd.conf" <<'CONF'
[global]
	netbios name = KSMBDVM
	server max protocol = SMB3_11
[kdata]
	path = /tmp/kdata
	read only = no
	valid users = alice
[kbob]
	path = /tmp/kbob
	valid users = bob
CONF
"$K/ksmbd.adduser" -a alice -p secret -i "$D/users.db" -c "$D/ksmbd.conf" >/dev/null 2>&1
"$K/ksmbd.adduser" -a bob -p bobpass -i "$D/users.db" -c "$D/ksmbd.conf" >/dev/null 2>&1
if "$K/ksmbd.mountd" -c "$D/ksmbd.conf" -u "$D/users.db" 2>"$D/mountd.err"; then
	ok "ksmbd: ksmbd.mountd started"
else
	not_ok "ksmbd: ksmbd.mountd started"
	head -3 "$D/mountd.err" | sed 's/^/#   /'
	exit 1
fi
for _ in $(seq 1 50); do ss -ltn | grep -q ':445 ' && break; sleep 0.1; done

# attempt NAME UNC OPTIONS: `cifstrace run` a mount (killed after 15 s) into NAME.json
attempt() {
	"$CIFSTRACE" run --json --hang-after 3 -o "$D/$1.json" -- \
		timeout -s KILL 15 mount -t cifs "$2" /mnt/k -o "$3" >/dev/null 2>"$D/$1.err"
	umount /mnt/k 2>/dev/null
}
# expect NAME CLASS [STATUS]: the final diagnosis of NAME
expect() {
	local got
	got=$(jq -r -s '[.[] | select(.outcome != "hung")] | last | "\(.class) \(.status // "none")"' "$D/$1.json" 2>/dev/null)
	if [ "${got%% *}" = "$2" ] && { [ -z "${3:-}" ] || [ "${got#* }" = "$3" ]; }; then
		ok "ksmbd $1: class $2${3:+ ($3)}, as with Samba"
	else
		not_ok "ksmbd $1: class $2${3:+ ($3)} (got '$got')"
		jq -c '{outcome,class,phase,status,errno,summary}' "$D/$1.json" 2>/dev/null | head -3 | sed 's/^/#   /'
	fi
}

# the probe: a good mount under a live diagnose, given 10 s
attach probe "$D/probe.err" diagnose --json --hang-after 3 >"$D/probe.json" || exit 1
mount -t cifs //127.0.0.1/kdata /mnt/k -o username=alice,password=secret >/dev/null 2>&1 &
mpid=$!
for _ in $(seq 1 100); do mountpoint -q /mnt/k && break; sleep 0.1; done
if mountpoint -q /mnt/k; then
	wait $mpid
	umount /mnt/k
	trace_stop
	if jq -e -s 'any(.[]; .class == "ok")' "$D/probe.json" >/dev/null 2>&1; then
		ok "ksmbd ok: a good mount is diagnosed ok"
	else
		not_ok "ksmbd ok: a good mount is diagnosed ok"
	fi
	attempt logon //127.0.0.1/kdata username=alice,password=wrong
	expect logon auth-logon-failure 0xC000006D
	attempt badname //127.0.0.1/nosuch username=alice,password=secret
	expect badname tree-bad-network-name 0xC00000CC
	attempt denied //127.0.0.1/kbob username=alice,password=secret
	expect denied tree-access-denied 0xC0000022
	attempt refused //127.0.0.1/kdata username=alice,password=secret,port=4455
	expect refused connect-refused
else
	kill $mpid 2>/dev/null
	trace_stop
	not_ok "ksmbd ok: a good mount within 10 s"
	jq -c '{outcome,class,phase,summary}' "$D/probe.json" 2>/dev/null | head -3 | sed 's/^/#   /'
fi
"$K/ksmbd.control" -s >/dev/null 2>&1
exit 0
