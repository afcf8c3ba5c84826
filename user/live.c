// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "latency.h"
#include "live.h"
#include "names.h"
#include "snapshot.h"

static volatile sig_atomic_t exiting;

/* --port is long-only: -p is a PID, as in libbpf-tools */
#define LIVE_OPT_PORT 0x1001
#define LIVE_OPT_RING 0x1002
#define LIVE_OPT_BTF 0x1003

struct live_opts live_cli;

static const struct argp_option live_options[] = {
	{ "duration", 'd', "SECS", 0, "Stop after SECS seconds", 0 },
	{ "port", LIVE_OPT_PORT, "PORT", 0,
	  "Also treat TCP PORT as SMB (used only where cifs functions cannot be hooked)", 0 },
	{ "ring-kb", LIVE_OPT_RING, "KB", 0,
	  "Ring buffer size in KiB, a power of 2 from 4 (default 1024, 2048 with every request)", 0 },
	{ "btf", LIVE_OPT_BTF, "FILE", 0,
	  "BTF for cifs and vmlinux (make btf), for a kernel without BTF for cifs that "
	  "cifstrace does not know", 0 },
	{ "verbose", 'v', NULL, 0, "Show the hook table and libbpf debug output", 0 },
	{},
};

static error_t parse_live(int key, char *arg, struct argp_state *state)
{
	char *end;
	long v;

	switch (key) {
	case 'v':
		live_cli.tracer.verbose = true;
		return 0;
	case LIVE_OPT_BTF:
		live_cli.tracer.btf_file = arg;
		return 0;
	case LIVE_OPT_RING:
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || *end || v < 4 || v > 1 << 20 || (v & (v - 1)))
			argp_error(state, "invalid --ring-kb: %s (a power of 2, 4 to 1048576)", arg);
		live_cli.tracer.ring_kb = (__u32)v;
		return 0;
	case 'd':
	case LIVE_OPT_PORT:
		errno = 0;
		v = strtol(arg, &end, 10);
		/* -d: at most ten years, so deadlines never overflow */
		if (errno || *end || v <= 0 || (key == LIVE_OPT_PORT && v > 65535) ||
		    (key == 'd' && v > 10 * 366 * 86400L))
			argp_error(state, "invalid %s: %s", key == 'd' ? "duration" : "port", arg);
		if (key == 'd')
			live_cli.duration = v;
		else
			live_cli.tracer.extra_port = (__u16)v;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

const struct argp live_argp = { live_options, parse_live, NULL, NULL, NULL, NULL, NULL };

static void on_signal(int sig)
{
	exiting = 1;
}

void live_stop(void)
{
	exiting = 1;
}

double live_arg_positive(struct argp_state *state, const char *what, const char *arg, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || *end || !isfinite(v) || v <= 0 || v > max)
		argp_error(state, "invalid %s: %s", what, arg);
	return v;
}

void live_learn_names(struct names *n, const struct snapshot *s)
{
	FILE *f;

	if (s && !names_missing(n, s))
		return;
	f = fopen("/proc/fs/cifs/DebugData", "r");
	if (!f)
		return;
	names_read_debugdata(n, f);
	fclose(f);
}

struct relay {
	struct tracer *t;
	event_fn fn;
	void *ctx;
};

/*
 * Every record passes here first: a reconnect retires its connection's
 * dead requests, a failed mount those of its process.
 */
static int relay_event(void *ctx, const struct ct_event *e)
{
	struct relay *r = ctx;

	if (e->type == CT_EV_RECONNECT && e->conn_id)
		tracer_forget(r->t, e->conn_id, 0, e->ts_ns);
	else if (e->type == CT_EV_MOUNT_DONE && e->rc && e->pid)
		tracer_forget(r->t, 0, e->pid, e->ts_ns);
	return r->fn(r->ctx, e);
}

#define INFLIGHT_MAX 64

static void report_inflight(struct tracer *t, const struct live_opts *o, event_fn fn,
			    void *ctx)
{
	struct snapshot s = {};
	struct ct_event ev[INFLIGHT_MAX];
	size_t n;

	/* a request waiting for its answer: has the server's TCP ACKed it? */
	tracer_sample_acks(t, 100000000ull);
	if (tracer_snapshot_inflight(t, &s))
		return;
	n = snapshot_oldest(&s, o->inflight_after_ns, ev, INFLIGHT_MAX);
	for (size_t i = 0; i < n; i++)
		fn(ctx, &ev[i]);
	snapshot_free(&s);
}

/*
 * What the kernel side could not keep, besides ring buffer losses (those
 * are events in the stream): said on stderr as it happens, by every
 * command, so nothing is undercounted silently.
 */
static void report_drops(struct tracer *t, __u64 seen[CT_STAT_MAX])
{
	__u64 now[CT_STAT_MAX];

	tracer_stats(t, now);
	for (int i = 0; i < CT_STAT_MAX; i++) {
		/* lost events are said with the stream's own count */
		if (i != CT_STAT_LOST && now[i] > seen[i])
			fprintf(stderr, "cifstrace: %llu %s\n",
				(unsigned long long)(now[i] - seen[i]), ct_stat_names[i].text);
		seen[i] = now[i];
	}
}

int live_run(const struct live_opts *o, event_fn fn, void *ctx)
{
	unsigned long long lost = 0, now_lost;
	__u64 drops[CT_STAT_MAX] = {};
	struct relay relay = { .fn = fn, .ctx = ctx };
	__u64 deadline, next_inflight = 0;
	struct tracer *t;
	int err;

	err = tracer_open(&t, &o->tracer);
	if (err)
		return err;
	relay.t = t;
	if (o->tracer.verbose)
		tracer_print_hooks(t, stderr);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (o->on_start)
		o->on_start(ctx, t);
	deadline = o->duration ? monotonic_ns() + o->duration * 1000000000ull : 0;
	if (!o->quiet)
		fprintf(stderr, "cifstrace: tracing the SMB client on %s; Ctrl-C to end\n",
			tracer_kernel(t));

	err = 0;
	while (!exiting && (!deadline || monotonic_ns() < deadline)) {
		__u64 now;

		err = tracer_poll(t, 200, relay_event, &relay);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "cifstrace: ring buffer poll failed: %s\n", strerror(-err));
			break;
		}
		err = 0;
		now_lost = tracer_lost(t);
		if (now_lost != lost) {
			struct ct_event e = { .ts_ns = monotonic_ns(), .type = CT_EV_LOST,
					      .mid = now_lost - lost };

			fprintf(stderr, "cifstrace: %llu events lost (ring buffer full)\n",
				now_lost - lost);
			fn(ctx, &e);
			lost = now_lost;
		}
		now = monotonic_ns();
		if (now >= next_inflight) {
			if (o->inflight_after_ns)
				report_inflight(t, o, fn, ctx);
			report_drops(t, drops);
			next_inflight = now + 1000000000ull;
		}
		tracer_tick(t, monotonic_ns());
		if (o->on_tick)
			o->on_tick(ctx, t, monotonic_ns());
	}
	tracer_poll(t, 0, relay_event, &relay);	/* drain what is already in the buffer */
	if (o->on_stop)
		o->on_stop(ctx, t);
	tracer_close(t);
	return err ? 1 : 0;
}

int live_interval(struct tracer *t, struct snapshot *prev, struct names *n,
		  const struct lat_filter *f, struct lat_report *r)
{
	struct snapshot cur = {};
	int rc;

	memset(r, 0, sizeof(*r));
	if (tracer_snapshot(t, &cur))
		return -1;
	live_learn_names(n, &cur);
	rc = lat_report_build(&cur, prev, n, f, r);
	snapshot_free(prev);
	*prev = cur;
	return rc ? -1 : 0;
}
