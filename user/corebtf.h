/* SPDX-License-Identifier: GPL-2.0 */
/*
 * BTF for CO-RE where the running kernel has none for cifs (5.10, and any
 * kernel built without CONFIG_DEBUG_INFO_BTF_MODULES): the BTFGen approach.
 * `make btf` builds, from a distribution's debug kernel, the few types and
 * fields the BPF object reads (vmlinux's and cifs's together); the files
 * in btf/ are built into the binary, one per kernel release, and handed to
 * libbpf as btf_custom_path. `--btf FILE` supplies one for another kernel.
 */
#ifndef COREBTF_H
#define COREBTF_H

#include <stdbool.h>
#include <stddef.h>

struct embedded_btf {
	const char *release;		/* uname -r it was built for */
	const unsigned char *data;
	size_t size;
};

/* btf/<release>.btf, generated into build/btf_embedded.c */
extern const struct embedded_btf embedded_btfs[];
extern const int nr_embedded_btfs;

enum core_btf_source {
	CORE_BTF_KERNEL,	/* /sys/kernel/btf/cifs: the minimal BTF made from it */
	CORE_BTF_EMBEDDED,	/* built in, for this release */
	CORE_BTF_FILE,		/* --btf FILE */
	CORE_BTF_NONE,		/* no BTF for cifs: tracepoint facts only */
};

struct core_btf {
	enum core_btf_source source;
	char path[64];		/* for btf_custom_path; "" when none is needed */
	const char *file;	/* --btf FILE */
	const char *release;	/* the built-in copy's */
	int fd;			/* memfd of the embedded copy, -1 */
	bool pre_fsctx;		/* it describes cifs with struct smb_vol (5.10) */
};

/*
 * Decide which BTF relocates the programs on this kernel (release: uname
 * -r; file: --btf or NULL), parsing FILE once to check it. Returns 0, or
 * prints one line and returns 2 when FILE cannot be used.
 */
int core_btf_open(struct core_btf *c, const char *release, const char *file);
/*
 * Hand libbpf data as the custom BTF (a memfd; path names it): the built-in
 * copy, or the minimal BTF made from the kernel's (kbtf.h). 0, or -1 and
 * errno.
 */
int core_btf_stage(struct core_btf *c, const void *data, size_t size);
void core_btf_close(struct core_btf *c);
/* One line for humans: where the BTF for cifs comes from. */
const char *core_btf_describe(const struct core_btf *c, char *buf, size_t len);

#endif
