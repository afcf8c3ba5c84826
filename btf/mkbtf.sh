#!/bin/bash
# make btf [BTF_KERNELS="5.10"]: BTF for kernels that have none for cifs,
# the BTFGen way. For each Debian kernel series the guest tests use:
#   1. its debug package (linux-image-<release>-dbg, ~800 MB, cached);
#   2. pahole: BTF for cifs.ko from its DWARF, split on the kernel's BTF;
#   3. btfflat: kernel + cifs types as one flat file;
#   4. bpftool gen min_core_btf: only the types and fields cifstrace's BPF
#      object reads (a few KB), written to btf/<release>.btf, which the
#      build links into the binary (btf/embed.sh).
# Run it again whenever the BPF side reads a new type or field: the 5.10
# guest tests fail to load otherwise. For a kernel of another distribution
# do the same by hand from its debug vmlinux and cifs.ko, and pass the
# result with --btf FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=build
CACHE=${CIFSTRACE_VM_CACHE:-tests/vm/.cache}
command -v pahole >/dev/null || apt-get install -y -q dwarves >&2
make -s "$OUT/cifstrace.bpf.o" "$OUT/btfflat"

for series in ${BTF_KERNELS:-5.10}; do
	tests/vm/run --kernel "$series" --prepare >/dev/null
	kver=$(sed -n 's/^kver=//p' "$CACHE/$series/info")
	dbg=$CACHE/dbg/$kver
	if [ ! -s "$dbg/cifs.ko" ]; then
		echo "btf: fetching linux-image-$kver-dbg (one-time, ~800 MB)"
		rm -rf "$dbg" && mkdir -p "$dbg"
		(cd "$dbg" && "$OLDPWD/tests/vm/run" --kernel "$series" \
			--download "linux-image-$kver-dbg" >/dev/null)
		deb=$(ls "$dbg"/*.deb)
		dpkg-deb --fsys-tarfile "$deb" |
			tar -x -C "$dbg" --wildcards './usr/lib/debug/lib/modules/*/cifs.ko'
		mv "$(find "$dbg/usr" -name cifs.ko)" "$dbg/cifs.ko"
		rm -rf "$dbg/usr" "$deb"
	fi
	# the running kernel's BTF is the .BTF of its image (as in /sys/kernel/btf/vmlinux)
	pahole --btf_encode_detached="$dbg/cifs.btf" --btf_base="$CACHE/$series/vmlinux" "$dbg/cifs.ko"
	"$OUT/btfflat" "$CACHE/$series/vmlinux" "$dbg/cifs.btf" "$dbg/flat.btf"
	bpftool gen min_core_btf "$dbg/flat.btf" "btf/$kver.btf" "$OUT/cifstrace.bpf.o"
	echo "btf: btf/$kver.btf, $(stat -c %s "btf/$kver.btf") bytes"
done
