// SPDX-License-Identifier: GPL-2.0
#include <linux/capability.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "privileges.h"

static int has_cap(const struct __user_cap_data_struct d[2], int cap)
{
	return !!(d[cap / 32].effective & (1u << (cap % 32)));
}

int check_privileges_quiet(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};

	if (geteuid() == 0)
		return 0;
	/*
	 * CAP_SYS_ADMIN is needed anyway (only it may walk the kernel's BTF
	 * objects, which CO-RE against cifs.ko does) and grants what CAP_BPF
	 * and CAP_PERFMON would (tested: the exporter's unit runs with it alone).
	 */
	if (!syscall(SYS_capget, &h, d) && has_cap(d, CAP_SYS_ADMIN))
		return 0;
	return 1;
}

int check_privileges(void)
{
	if (!check_privileges_quiet())
		return 0;
	fprintf(stderr, "cifstrace: needs root (or CAP_SYS_ADMIN) "
			"to load BPF programs\n");
	return 1;
}
