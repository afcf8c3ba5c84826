// SPDX-License-Identifier: GPL-2.0
/*
 * btfflat BASE SPLIT OUT: write the types of a kernel's BTF (BASE: vmlinux
 * ELF or raw BTF) and of a module's split BTF on top of it (SPLIT, from
 * pahole --btf_encode_detached) as one flat raw BTF file, which is what
 * `bpftool gen min_core_btf` takes. A build tool for `make btf`; type ids
 * are unchanged (base types first, in order, then the module's).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

int main(int argc, char **argv)
{
	struct btf *base, *split, *flat;
	const void *raw;
	__u32 size, n;
	FILE *f;
	int err;

	if (argc != 4) {
		fprintf(stderr, "usage: btfflat BASE SPLIT OUT\n");
		return 2;
	}
	base = btf__parse(argv[1], NULL);
	if (!base) {
		fprintf(stderr, "btfflat: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	split = btf__parse_split(argv[2], base);
	if (!split) {
		fprintf(stderr, "btfflat: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	flat = btf__new_empty();
	if (!flat)
		return 1;
	n = btf__type_cnt(split);
	for (__u32 id = 1; id < n; id++) {
		err = btf__add_type(flat, split, btf__type_by_id(split, id));
		if (err < 0 || (__u32)err != id) {
			fprintf(stderr, "btfflat: type %u: %s\n", id,
				err < 0 ? strerror(-err) : "id changed");
			return 1;
		}
	}
	raw = btf__raw_data(flat, &size);
	f = fopen(argv[3], "w");
	if (!raw || !f || fwrite(raw, 1, size, f) != size || fclose(f)) {
		fprintf(stderr, "btfflat: %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	printf("btfflat: %u types, %u bytes\n", n - 1, size);
	return 0;
}
