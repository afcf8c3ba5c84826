#!/bin/bash
# Provision a Samba AD domain (a real KDC and SMB server) for the Kerberos
# guest test, once, on the host: under emulation it takes about a minute,
# natively seconds. The guest unpacks it to the same path (a provision
# names its own directories) and runs `samba` from there.
#
#   realm EXAMPLE.TEST, domain EXAMPLE, DC dc1.example.test on 127.0.0.2,
#   no DNS (the guest's /etc/hosts and krb5.conf point at it)
#
# Prints the tarball's path. Cached by Samba's version.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=$(readlink -f "${CIFSTRACE_VM_CACHE:-tests/vm/.cache}")
ver=$(samba -V 2>/dev/null | tr -c 'A-Za-z0-9.\n' _)
tar=$cache/addc-$ver.tar
DIR=/tmp/cifstrace-addc		# the path the provision lives at, host and guest
if [ ! -s "$tar" ]; then
	command -v samba-tool >/dev/null || { echo "addc-prepare: samba-tool missing (samba-ad-dc)" >&2; exit 1; }
	mkdir -p "$cache"
	rm -rf "$DIR"
	echo "addc-prepare: provisioning the test domain (one-time)" >&2
	if ! samba-tool domain provision --targetdir="$DIR" --realm=EXAMPLE.TEST \
		--domain=EXAMPLE --server-role=dc --dns-backend=NONE --host-name=dc1 \
		--host-ip=127.0.0.2 --adminpass='Adm1n.Pass.123' --option="interfaces=127.0.0.2" \
		--option="bind interfaces only=yes" >"$cache/addc.log" 2>&1; then
		tail -5 "$cache/addc.log" >&2
		exit 1
	fi
	tar -C / -cf "$tar.tmp" "${DIR#/}" && mv "$tar.tmp" "$tar"
	rm -rf "$DIR"
fi
echo "$tar"
