// SPDX-License-Identifier: GPL-2.0
#include <linux/capability.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "privileges.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static int has_cap(const struct __user_cap_data_struct d[2], int cap)
{
	return !!(d[cap / 32].effective & (1u << (cap % 32)));
}

/* Kernels before 5.8 have no CAP_BPF/CAP_PERFMON: CAP_SYS_ADMIN covers them. */
static int kernel_has_cap_bpf(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
	int last = 0;

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = 0;
		fclose(f);
	}
	return last >= CAP_BPF;
}

int check_privileges_quiet(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};

	if (geteuid() == 0)
		return 0;
	if (!syscall(SYS_capget, &h, d) && has_cap(d, CAP_SYS_ADMIN) &&
	    (!kernel_has_cap_bpf() || (has_cap(d, CAP_BPF) && has_cap(d, CAP_PERFMON))))
		return 0;
	return 1;
}

int check_privileges(void)
{
	if (!check_privileges_quiet())
		return 0;
	fprintf(stderr, "cifstrace: needs root (or CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN) "
			"to load BPF programs\n");
	return 1;
}
