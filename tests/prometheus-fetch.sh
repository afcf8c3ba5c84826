#!/bin/bash
# Unpack Debian's prometheus package (the server and promtool) into the test
# cache, once, without installing it: installing would start a Prometheus
# service on the host. Prints the directory that holds the two binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${CIFSTRACE_VM_CACHE:-tests/vm/.cache}/prometheus
if [ ! -x "$dir/usr/bin/promtool" ] || [ ! -x "$dir/usr/bin/prometheus" ]; then
	tmp=$(mktemp -d)
	chmod 755 "$tmp"	# apt downloads as _apt
	trap 'rm -rf "$tmp"' EXIT
	if ! apt-cache show prometheus >/dev/null 2>&1; then
		[ "$(id -u)" -eq 0 ] || { echo "prometheus-fetch: need root for apt-get update" >&2; exit 1; }
		apt-get update -q >/dev/null
	fi
	echo "prometheus-fetch: downloading Debian's prometheus package (one-time)" >&2
	(cd "$tmp" && apt-get download -q prometheus >"$tmp/apt.log" 2>&1) || { cat "$tmp/apt.log" >&2; false; } ||
		{ echo "prometheus-fetch: apt-get download prometheus failed" >&2; exit 1; }
	mkdir -p "$dir"
	dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
	rm -rf "$dir/usr"
	mkdir -p "$dir/usr/bin"
	cp "$tmp/x/usr/bin/prometheus" "$tmp/x/usr/bin/promtool" "$dir/usr/bin/"
fi
cd "$dir/usr/bin" && pwd
