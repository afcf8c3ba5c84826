#!/bin/bash
# Install the Debian packages that the build, the tests and the demo need,
# only those missing. Idempotent, never prompts.
set -euo pipefail

pkgs=(
	# build
	clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libjansson-dev
	pkg-config make gcc
	# unit tests and the fuzzer
	libcmocka-dev jq libclang-rt-14-dev
	# guest test bed: qemu, a tiny initramfs, Debian kernels via apt
	qemu-system-x86 busybox-static cpio kmod xz-utils
	# what runs inside the guest (from the host's root over 9p)
	samba smbclient cifs-utils keyutils iproute2 nftables curl python3
	# the Kerberos guest test: Samba's AD DC (KDC), kinit, libfaketime
	samba-ad-dc samba-ad-provision krb5-user faketime
	# make deb and its checks
	lintian binutils man-db
	# ksmbd-tools (unpacked into the test cache, it conflicts with samba) needs
	libnl-genl-3-200 libglib2.0-0
)
# make bench: the peers it measures, and the workload generator
if [ "${1:-}" = bench ]; then
	pkgs+=(fio tcpdump trace-cmd bpftrace time jq)
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: need root to install: ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null >/dev/null
