#!/bin/bash
# Guest test: the Debian package (make deb) installs with dpkg on a system
# where libbpf, libelf and jansson are absent, and the installed binary
# traces a real mount; it removes cleanly.
#
# kernels: 6.1
# (The package is bookworm's, the guest root is the host's: one kernel.)
. "$(dirname "$0")/lib.sh"

deb=$(ls "$REPO"/build/cifstrace_*_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { not_ok "package: build/cifstrace_*.deb exists (make deb)"; exit 1; }
if start_samba; then ok "package: samba started"; else not_ok "package: samba started"; exit 1; fi
# the guest's root is a tmpfs overlay: this changes nothing on the host.
# (No ldconfig after it: a binary that needed them would fail to load all
# the same, the cache naming files that are gone; ldconfig took 53 s on
# 5.10, scanning the host's libraries over 9p.)
rm -f /usr/lib/*/libbpf.so* /usr/lib/*/libelf.so* /usr/lib/*/libelf-*.so \
	/usr/lib/*/libjansson.so*
if ls /usr/lib/*/libbpf.so* /usr/lib/*/libelf.so* /usr/lib/*/libjansson.so* >/dev/null 2>&1; then
	not_ok "package: libbpf, libelf and jansson removed from the guest"
fi
# man-db's dpkg trigger re-indexes every man page of the host's root over 9p
# (minutes under TCG): not this package's business, and `man -w` needs no
# index. The file is its switch (Debian's man-db/auto-update).
rm -f /var/lib/man-db/auto-update
if dpkg -i "$deb" >"$WORK/dpkg.out" 2>&1; then
	ok "package: dpkg -i $(basename "$deb")"
else
	not_ok "package: dpkg -i $(basename "$deb")"
	tail -5 "$WORK/dpkg.out" | sed 's/^/#   /'
	exit 1
fi
[ -f /lib/systemd/system/cifstrace-exporter.service ] && man -w cifstrace >/dev/null 2>&1 &&
	[ -f /usr/share/cifstrace/prometheus/cifstrace-rules.yml ] &&
	ok "package: man page, exporter unit and rules installed" ||
	not_ok "package: man page, exporter unit and rules installed"
ldd /usr/sbin/cifstrace | grep -qE 'libbpf|libelf|jansson|not found' &&
	not_ok "package: the binary needs no libbpf, libelf or jansson" ||
	ok "package: the binary needs no libbpf, libelf or jansson"
mkdir -p /mnt/pkg
/usr/sbin/cifstrace run -- mount -t cifs //127.0.0.1/data /mnt/pkg -o username=alice,password=secret \
	>"$WORK/run.out" 2>"$WORK/run.err"
rc=$?
umount /mnt/pkg 2>/dev/null
[ $rc -eq 0 ] && grep -q 'OK ' "$WORK/run.err" &&
	ok "package: the installed cifstrace traces and explains a real mount" ||
	{ not_ok "package: the installed cifstrace traces and explains a real mount (exit $rc)"; head -3 "$WORK/run.err" | sed 's/^/#   /'; }
dpkg -r cifstrace >/dev/null 2>&1 && [ ! -e /usr/sbin/cifstrace ] &&
	ok "package: dpkg -r removes it" || not_ok "package: dpkg -r removes it"
exit 0
