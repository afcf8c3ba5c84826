#!/bin/bash
# Unpack Debian's ksmbd-tools (the userspace half of ksmbd, the kernel's own
# SMB server) into the test cache, once: as a package it conflicts with
# samba. Prints the directory with ksmbd.mountd, ksmbd.adduser and
# ksmbd.control (links to the one multi-call binary, which dispatches on
# its name).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${CIFSTRACE_VM_CACHE:-tests/vm/.cache}/ksmbd
if [ ! -x "$dir/bin/ksmbd.tools" ]; then
	tmp=$(mktemp -d)
	chmod 755 "$tmp"	# apt downloads as _apt
	trap 'rm -rf "$tmp"' EXIT
	if ! apt-cache show ksmbd-tools >/dev/null 2>&1; then
		[ "$(id -u)" -eq 0 ] || { echo "ksmbd-fetch: need root for apt-get update" >&2; exit 1; }
		apt-get update -q >/dev/null
	fi
	echo "ksmbd-fetch: downloading Debian's ksmbd-tools package (one-time)" >&2
	(cd "$tmp" && apt-get download -q ksmbd-tools >"$tmp/apt.log" 2>&1) || { cat "$tmp/apt.log" >&2; false; } ||
		{ echo "ksmbd-fetch: apt-get download ksmbd-tools failed" >&2; exit 1; }
	dpkg-deb -x "$tmp"/ksmbd-tools_*.deb "$tmp/x"
	rm -rf "$dir"
	mkdir -p "$dir/bin"
	cp "$tmp/x/usr/libexec/ksmbd.tools" "$dir/bin/"
	for t in mountd adduser addshare control; do ln -s ksmbd.tools "$dir/bin/ksmbd.$t"; done
fi
cd "$dir/bin" && pwd
