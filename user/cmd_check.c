// SPDX-License-Identifier: GPL-2.0
/*
 * cifstrace check: what the running kernel offers cifstrace, what each
 * missing piece costs, and the hook table as it attaches here.
 */
#include <argp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "commands.h"
#include "corebtf.h"
#include "hooks.h"
#include "live.h"
#include "privileges.h"
#include "tracer.h"

static const char doc[] =
"What this kernel offers cifstrace: privileges, the cifs module, BTF for\n"
"the kernel and for cifs, tracefs, the BPF ring buffer, and each hook with\n"
"the way it attaches here; for anything missing, what it costs. Exit 0\n"
"when everything essential is there, 2 when not.\n"
"\n"
"USAGE: cifstrace check [-v] [--btf FILE]\n"
"\n"
"EXAMPLES:\n"
"    cifstrace check          # before relying on cifstrace on a new host\n";

static int essentials_missing;

static void line(const char *what, bool ok, bool essential, const char *have, const char *cost)
{
	printf("  %-14s %-8s %s%s\n", what, ok ? "ok" : essential ? "MISSING" : "missing",
	       ok ? have : cost, !ok && essential ? " (essential)" : "");
	if (!ok && essential)
		essentials_missing++;
}

static bool exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	if (key == ARGP_KEY_ARG)
		argp_error(state, "unexpected argument: %s", arg);
	return ARGP_ERR_UNKNOWN;
}

int cmd_check(int argc, char **argv)
{
	static const struct argp_child children[] = { { &live_argp, 0, NULL, 0 }, {} };
	static const struct argp argp = { NULL, parse_arg, NULL, doc, children, NULL, NULL };
	struct tracer_opts o = { .aggregate = true, .paths = true };
	const char *tfs;
	struct utsname u;
	struct tracer *t = NULL;
	struct core_btf cb;
	char have[320];
	bool root, usable;
	int rc;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	o.verbose = live_cli.tracer.verbose;
	o.btf_file = live_cli.tracer.btf_file;
	o.quiet_btf = true;
	uname(&u);
	printf("cifstrace check on %s %s\n", u.sysname, u.release);
	root = !check_privileges_quiet();
	line("privileges", root, true, "root or CAP_SYS_ADMIN",
	     "needs root (or CAP_SYS_ADMIN) to load BPF programs");
	if (root && !exists("/sys/module/cifs") && !system("modprobe cifs 2>/dev/null"))
		printf("  %-14s %-8s %s\n", "", "", "(cifs was not loaded: modprobe cifs loaded it)");
	line("cifs module", exists("/sys/module/cifs"), true, "loaded",
	     "no cifs module (modprobe cifs failed): nothing to trace");
	line("vmlinux BTF", exists("/sys/kernel/btf/vmlinux"), true, "/sys/kernel/btf/vmlinux",
	     "no kernel BTF (CONFIG_DEBUG_INFO_BTF): the BPF programs cannot be relocated (CO-RE)");
	/* --btf FILE is essential once asked for; BTF for cifs otherwise is not */
	fflush(stdout);
	usable = !core_btf_open(&cb, u.release, live_cli.tracer.btf_file);
	line("cifs BTF", usable && cb.source != CORE_BTF_NONE, live_cli.tracer.btf_file != NULL,
	     core_btf_describe(&cb, have, sizeof(have)),
	     live_cli.tracer.btf_file ? "--btf FILE is not usable (above)" :
	     "no module BTF (CONFIG_DEBUG_INFO_BTF_MODULES) and none built in for this "
	     "release: server names, user and domain, dialect, session and share flags "
	     "and the server's ACK of each request (the network/server split) are not "
	     "available; make btf builds one (--btf FILE)");
	core_btf_close(&cb);
	tfs = tracefs_dir();
	line("tracefs", tfs != NULL, false, tfs ? tfs : "",
	     "no tracefs: tracepoint fields cannot be probed; the cifs tracepoints' "
	     "prototypes are assumed");
	line("ring buffer", libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1, true,
	     "BPF_MAP_TYPE_RINGBUF", "no BPF ring buffer (kernel before 5.8): events cannot be streamed");
	if (essentials_missing) {
		printf("result: %d essential piece%s missing; cifstrace cannot trace here\n",
		       essentials_missing, essentials_missing == 1 ? " is" : "s are");
		return 2;
	}
	printf("\nhooks, as they attach here (events and record; latency and the exporter "
	       "add the aggregation hooks; latency, diagnose, the exporter and run read ACKs "
	       "from the socket and attach the two per-packet hooks only while a Kerberos "
	       "upcall runs, latency never; events, record and --slower add the path hooks):\n");
	fflush(stdout);
	rc = tracer_open(&t, &o);
	if (rc) {
		printf("result: the BPF programs did not load or attach (above)\n");
		return 2;
	}
	tracer_print_hooks(t, stdout);
	tracer_close(t);
	printf("result: everything cifstrace needs is here\n");
	return fflush(stdout) ? 1 : 0;
}
