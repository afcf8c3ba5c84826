// SPDX-License-Identifier: GPL-2.0
/*
 * cifstrace latency: per server, share and SMB2 command, log2 histograms
 * of request latency with percentiles, the time split (queue, network,
 * server), errors by NT status and bytes per share, aggregated in the
 * kernel and printed every interval; --slower logs each slow operation.
 */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "latency.h"
#include "live.h"
#include "names.h"
#include "snapshot.h"

static struct {
	bool json;
	double interval;	/* seconds, 0 = once at the end */
	double slower_ms;	/* 0 = no slow log */
	bool no_hist;		/* only the slow log */
	struct lat_filter f;
	__u32 pid;
	struct names names;
	struct snapshot prev;
	__u64 next_ns;
	int rc;
} env = { .f = { .cmd = -1 } };

static const char doc[] =
"Where SMB time goes: per server, share and SMB2 command, a latency\n"
"histogram with p50/p90/p99/max, the time split of each request (queue:\n"
"in the client until on the wire, including credit waits; network: until\n"
"the server's TCP ACKed it; server: from that ACK to the response),\n"
"errors by NT status and bytes read and written per share. Aggregated in\n"
"the kernel; nothing per request reaches userspace unless --slower asks.\n"
"\n"
"USAGE: cifstrace latency [-i SECS] [--slower MS] [--server NAME] [--share NAME]\n"
"                         [-p PID] [--command CMD] [--json] [-d SECS] [-v]\n"
"\n"
"EXAMPLES:\n"
"    cifstrace latency                  # histograms at Ctrl-C\n"
"    cifstrace latency -i 10            # every 10 s, for that interval\n"
"    cifstrace latency --slower 100     # also log each op slower than 100 ms\n"
"    cifstrace latency --slower 50 --no-hist   # only the slow-op log\n"
"    cifstrace latency --share data --command READ -i 5\n"
"    cifstrace latency -p 1234 --json   # one process, JSON Lines\n";

enum { OPT_SERVER = 1000, OPT_SHARE, OPT_COMMAND, OPT_SLOWER, OPT_NO_HIST };

static const struct argp_option opts[] = {
	{ "interval", 'i', "SECS", 0, "Print every SECS seconds, for that interval", 0 },
	{ "slower", OPT_SLOWER, "MS", 0, "Log each operation slower than MS milliseconds", 0 },
	{ "no-hist", OPT_NO_HIST, NULL, 0, "Only the slow-operation log (needs --slower)", 0 },
	{ "server", OPT_SERVER, "NAME", 0, "Only this server (name as mounted)", 0 },
	{ "share", OPT_SHARE, "NAME", 0, "Only this share (\\\\server\\share, or share)", 0 },
	{ "command", OPT_COMMAND, "CMD", 0, "Only this SMB2 command (e.g. READ, CREATE)", 0 },
	{ "pid", 'p', "PID", 0, "Only requests issued by this process", 0 },
	{ "json", 'j', NULL, 0, "JSON Lines output", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'i':
		env.interval = live_arg_positive(state, "interval", arg, 86400);
		break;
	case OPT_SLOWER:
		env.slower_ms = live_arg_positive(state, "--slower", arg, 3600e3);
		break;
	case OPT_NO_HIST:
		env.no_hist = true;
		break;
	case OPT_SERVER:
		env.f.server = arg;
		break;
	case OPT_SHARE:
		env.f.share = arg;
		break;
	case OPT_COMMAND:
		env.f.cmd = smb2_cmd_by_name(arg);
		if (env.f.cmd < 0)
			argp_error(state, "unknown SMB2 command: %s (e.g. READ, WRITE, CREATE)", arg);
		break;
	case 'p':
		env.pid = (__u32)live_arg_positive(state, "pid", arg, INT_MAX);
		break;
	case 'j':
		env.json = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument: %s", arg);
		break;
	case ARGP_KEY_END:
		if (env.no_hist && !env.slower_ms)
			argp_error(state, "--no-hist needs --slower");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void report(struct tracer *t)
{
	struct lat_report r;

	if (live_interval(t, &env.prev, &env.names, &env.f, &r)) {
		fprintf(stderr, "cifstrace: cannot read the kernel's histograms: out of memory\n");
		env.rc = 1;
	} else if (!env.no_hist) {
		if (env.json)
			lat_render_json(stdout, &r);
		else
			lat_render_text(stdout, &r);
	}
	lat_report_free(&r);
	if (fflush(stdout) && !env.rc) {
		fprintf(stderr, "cifstrace: cannot write the output: %s\n", strerror(errno));
		env.rc = 1;
	}
}

static int on_event(void *ctx, const struct ct_event *e)
{
	names_learn(&env.names, e);
	if (e->type != CT_EV_RESPONSE || !(e->flags & CT_F_SLOW))
		return 0;
	if (!lat_filter_event(&env.f, e, &env.names))
		return 0;
	if (env.json)
		lat_render_slow_json(stdout, e, &env.names);
	else
		lat_render_slow_text(stdout, e, &env.names);
	return 0;
}

static void start(void *ctx, struct tracer *t)
{
	struct snapshot s = {};

	live_learn_names(&env.names, NULL);
	/* counting starts now: what the maps hold from before is the base */
	if (!tracer_snapshot(t, &s))
		env.prev = s;
	env.next_ns = env.interval ? monotonic_ns() + (__u64)(env.interval * 1e9) : 0;
	if (env.slower_ms && !env.json)
		lat_slow_header(stdout);
}

static void tick(void *ctx, struct tracer *t, __u64 now)
{
	if (!env.next_ns || now < env.next_ns)
		return;
	report(t);
	env.next_ns += (__u64)(env.interval * 1e9);
	if (env.next_ns < now)
		env.next_ns = now + (__u64)(env.interval * 1e9);
}

static void stop(void *ctx, struct tracer *t)
{
	report(t);
}

int cmd_latency(int argc, char **argv)
{
	static const struct argp_child children[] = { { &live_argp, 0, NULL, 0 }, {} };
	static const struct argp argp = { opts, parse_arg, NULL, doc, children, NULL, NULL };
	struct live_opts o = { .on_start = start, .on_tick = tick, .on_stop = stop };
	int rc;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	o.tracer = live_cli.tracer;
	o.duration = live_cli.duration;
	o.tracer.slow_ns = (__u64)(env.slower_ms * 1e6);
	o.tracer.target_tgid = env.pid;
	o.tracer.aggregate = true;
	o.tracer.no_kdc = true;		/* nothing diagnoses Kerberos here */
	o.tracer.ack_from_socket = true;	/* nothing per TCP segment */
	setvbuf(stdout, NULL, _IOFBF, 0);
	rc = live_run(&o, on_event, NULL);
	snapshot_free(&env.prev);
	names_free(&env.names);
	return rc ? rc : env.rc;
}
