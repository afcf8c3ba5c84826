// SPDX-License-Identifier: GPL-2.0
/* cifstrace events: the raw event stream, live, as text or JSON Lines. */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "commands.h"
#include "render.h"
#include "live.h"

static struct {
	bool json;
} env;


static const char doc[] =
"Print every fact cifstrace captures about the SMB client, one line per event.\n"
"\n"
"USAGE: cifstrace events [--json] [-d SECS] [--port PORT] [-v]\n"
"\n"
"EXAMPLES:\n"
"    cifstrace events              # text, times relative to start\n"
"    cifstrace events --json       # JSON Lines, one object per event\n"
"    cifstrace events -j -d 60 > trace.jsonl   # a minute of events to a file\n"
"    cifstrace events -v           # show the hooks attached on this kernel\n";

static const struct argp_option opts[] = {
	{ "json", 'j', NULL, 0, "JSON Lines output", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'j':
		env.json = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument: %s", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static __u64 t0;
static bool write_failed;

/* A closed pipe or a full disk ends the run, as an error. */
static int write_check(bool flush)
{
	if (write_failed)
		return 1;
	if (!ferror(stdout) && (!flush || !fflush(stdout)))
		return 0;
	fprintf(stderr, "cifstrace: cannot write the events: %s\n", strerror(errno));
	write_failed = true;
	kill(getpid(), SIGTERM);
	return 1;
}

static int print_event(void *ctx, const struct ct_event *e)
{
	if (write_failed)
		return 1;
	if (env.json)
		render_json_event(stdout, e);
	else
		render_text_event(stdout, e, t0);
	return write_check(false);
}

/* Each batch the ring gave is written out before the next wait. */
static void flush_batch(void *ctx, struct tracer *t, __u64 now_ns)
{
	write_check(true);
}

/* Once attached: a failed start prints its one error line and no header. */
static void start(void *ctx, struct tracer *t)
{
	t0 = monotonic_ns();
	if (!env.json)
		render_text_header(stdout);
}

int cmd_events(int argc, char **argv)
{
	static const struct argp_child children[] = { { &live_argp, 0, NULL, 0 }, {} };
	static const struct argp argp = { opts, parse_arg, NULL, doc, children, NULL, NULL };
	struct live_opts o = {};
	int rc;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	o.tracer = live_cli.tracer;
	o.tracer.emit_requests = true;	/* every request, one record each */
	o.duration = live_cli.duration;
	/* one write per batch of records, not per line (flush_batch) */
	setvbuf(stdout, NULL, _IOFBF, 0);
	o.on_start = start;
	o.on_tick = flush_batch;
	rc = live_run(&o, print_event, NULL);
	return rc ? rc : write_failed || fflush(stdout) ? 1 : 0;
}
