// SPDX-License-Identifier: GPL-2.0
/*
 * cifstrace exporter: the kernel's per-request aggregates and the diagnose
 * engine's mount attempts as Prometheus metrics on /metrics. A scrape reads
 * the BPF maps (never a mount, so it answers while a mount hangs); the
 * main thread keeps the engine fed from the ring buffer.
 */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include "attempts.h"
#include "commands.h"
#include "diagnosis.h"
#include "escape.h"
#include "http.h"
#include "latency.h"
#include "live.h"
#include "metrics.h"
#include "snapshot.h"

static struct {
	const char *listen;
	unsigned int max_series;
	double hang_after;
	bool bpf_stats;
	bool list;
	/* everything below is shared by the live loop and the scrapes */
	pthread_mutex_t lock;
	struct tracer *t;		/* NULL until attached, and after */
	struct engine *engine;
	struct names names;
	struct snapshot prev;
	struct metrics *m;
} env = {
	.listen = "127.0.0.1:9464",
	.max_series = 500,
	.hang_after = 5.0,
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

static const char doc[] =
"Serve Prometheus metrics on /metrics: request counts, errors by NT status,\n"
"latency histograms and the time split per server, share and SMB2 command;\n"
"bytes per share; requests in flight and the age of the oldest; reconnects,\n"
"credit stalls, TCP retransmits and resets; mount attempts by outcome and\n"
"diagnosis class. Read from the kernel's maps, never from the mounts: a\n"
"scrape answers while a mount hangs.\n"
"\n"
"USAGE: cifstrace exporter [--listen ADDR:PORT] [--max-series N]\n"
"                          [--hang-after SECS] [--bpf-stats] [-d SECS] [-v]\n"
"       cifstrace exporter --list-metrics\n"
"\n"
"EXAMPLES:\n"
"    cifstrace exporter                   # http://127.0.0.1:9464/metrics\n"
"    cifstrace exporter --listen :9464    # every address: mind the firewall\n"
"    cifstrace exporter --listen [::1]:9464        # IPv6 loopback\n"
"    cifstrace exporter --max-series 50   # at most 50 servers, 50 shares\n"
"    cifstrace exporter --list-metrics    # the metrics, a Markdown table\n";

enum { OPT_LISTEN = 1000, OPT_MAX_SERIES, OPT_HANG_AFTER, OPT_BPF_STATS, OPT_LIST };

static const struct argp_option opts[] = {
	{ "listen", OPT_LISTEN, "ADDR:PORT", 0, "Where to serve (default 127.0.0.1:9464)", 0 },
	{ "max-series", OPT_MAX_SERIES, "N", 0,
	  "At most N distinct servers and N distinct shares as label values; the rest "
	  "are counted under \"(other)\" (default 500)", 0 },
	{ "hang-after", OPT_HANG_AFTER, "SECS", 0,
	  "A mount step outstanding this long counts as hung (default 5)", 0 },
	{ "bpf-stats", OPT_BPF_STATS, NULL, 0,
	  "Have the kernel time our BPF programs (cifstrace_bpf_run_seconds_total; "
	  "costs two clock reads per run)", 0 },
	{ "list-metrics", OPT_LIST, NULL, 0, "Print the metrics served and exit", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	double v;

	switch (key) {
	case OPT_LISTEN:
		env.listen = arg;
		break;
	case OPT_MAX_SERIES:
		v = live_arg_positive(state, "--max-series", arg, 1000000);
		if (v != floor(v))
			argp_error(state, "invalid --max-series: %s", arg);
		env.max_series = (unsigned int)v;
		break;
	case OPT_HANG_AFTER:
		env.hang_after = live_arg_positive(state, "--hang-after", arg, 86400);
		break;
	case OPT_BPF_STATS:
		env.bpf_stats = true;
		break;
	case OPT_LIST:
		env.list = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument: %s", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* Only mounts: an established mount's trouble shows as in-flight age and
 * reconnects. Called with env.lock held (from the engine). */
static void on_attempt(void *ctx, const struct attempt *a, enum outcome o, __u64 now)
{
	struct diagnosis d;

	if (a->kind != ATTEMPT_MOUNT)
		return;
	diagnose_attempt(a, o, now, &d);
	if (metrics_add_attempt(env.m, a->id, &d))
		fprintf(stderr, "cifstrace: out of memory: a mount attempt was not counted\n");
}

static int on_event(void *ctx, const struct ct_event *e)
{
	pthread_mutex_lock(&env.lock);
	names_learn(&env.names, e);
	engine_feed(env.engine, e);
	pthread_mutex_unlock(&env.lock);
	return 0;
}

/* Bring the counters up to now: the maps' deltas since the last scrape. */
static int refresh(void)
{
	struct lat_filter all = { .cmd = -1 };
	struct metrics_health h = {};
	struct lat_report r;
	int rc;

	if (!env.t)
		return 0;
	rc = live_interval(env.t, &env.prev, &env.names, &all, &r);
	if (!rc)
		rc = metrics_add_report(env.m, &r);
	lat_report_free(&r);

	tracer_stats(env.t, h.not_counted);
	h.lost_events = h.not_counted[CT_STAT_LOST];
	h.not_counted[CT_STAT_LOST] = 0;
	tracer_bpf_stats(env.t, &h.bpf_runs, &h.bpf_run_ns);
	metrics_set_health(env.m, &h);
	return rc;
}

static int serve_metrics(void *ctx, FILE *body)
{
	int rc;

	pthread_mutex_lock(&env.lock);
	rc = refresh();
	if (!rc)
		rc = metrics_render(body, env.m);
	pthread_mutex_unlock(&env.lock);
	return rc;
}

static int serve_index(void *ctx, FILE *body)
{
	fprintf(body, "<html><head><title>cifstrace exporter</title></head><body>\n"
		      "<h1>cifstrace exporter</h1>\n"
		      "<p>SMB client metrics from the kernel: <a href=\"/metrics\">/metrics</a></p>\n"
		      "</body></html>\n");
	return 0;
}

static const struct http_route routes[] = {
	{ "/metrics", "text/plain; version=0.0.4; charset=utf-8", serve_metrics },
	{ "/", "text/html; charset=utf-8", serve_index },
	{},
};

static void start(void *ctx, struct tracer *t)
{
	pthread_mutex_lock(&env.lock);
	live_learn_names(&env.names, NULL);
	env.t = t;
	pthread_mutex_unlock(&env.lock);
}

static void tick(void *ctx, struct tracer *t, __u64 now)
{
	pthread_mutex_lock(&env.lock);
	engine_tick(env.engine, now);
	pthread_mutex_unlock(&env.lock);
}

static void stop(void *ctx, struct tracer *t)
{
	pthread_mutex_lock(&env.lock);
	env.t = NULL;
	pthread_mutex_unlock(&env.lock);
}

int cmd_exporter(int argc, char **argv)
{
	static const struct argp_child children[] = { { &live_argp, 0, NULL, 0 }, {} };
	static const struct argp argp = { opts, parse_arg, NULL, doc, children, NULL, NULL };
	struct live_opts o = { .on_start = start, .on_tick = tick, .on_stop = stop };
	struct http_server *srv;
	char err[160], spec[96];
	struct utsname u;
	int fd, stats_fd = -1, rc;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	if (env.list) {
		metrics_list(stdout);
		return fflush(stdout) ? 1 : 0;
	}
	/* before anything slow: a port in use is one line, at once */
	fd = http_listen(env.listen, err, sizeof(err));
	if (fd < 0) {
		escape_str(spec, sizeof(spec), env.listen, strlen(env.listen), ESC_TEXT);
		fprintf(stderr, "cifstrace: cannot listen on %s: %s\n", spec, err);
		return 1;
	}
	uname(&u);
	env.m = metrics_new(env.max_series, CIFSTRACE_VERSION, u.release);
	env.engine = engine_new((__u64)(env.hang_after * 1e9), on_attempt, NULL);
	srv = env.m && env.engine ? http_start(fd, routes, NULL) : NULL;
	if (!srv) {
		fprintf(stderr, "cifstrace: out of memory\n");
		close(fd);
		metrics_free(env.m);
		engine_free(env.engine);
		return 1;
	}
	if (env.bpf_stats) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0)
			fprintf(stderr, "cifstrace: cannot enable BPF run-time stats: %s\n",
				strerror(errno));
	}
	o.tracer = live_cli.tracer;
	o.duration = live_cli.duration;
	o.tracer.aggregate = true;
	/* hung mounts are found from the in-flight table, as diagnose does */
	o.inflight_after_ns = (__u64)(env.hang_after * 1e9) / 2;
	/* and their ACKs from the socket: nothing runs per packet */
	o.tracer.ack_from_socket = true;
	rc = live_run(&o, on_event, NULL);
	http_stop(srv);
	if (stats_fd >= 0)
		close(stats_fd);
	engine_free(env.engine);
	metrics_free(env.m);
	snapshot_free(&env.prev);
	names_free(&env.names);
	return rc;
}
