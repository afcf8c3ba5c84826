// SPDX-License-Identifier: GPL-2.0
/*
 * cifstrace diagnose: events -> attempts -> diagnoses -> text or JSON,
 * live from the kernel or offline from a recording.
 */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <signal.h>
#include <unistd.h>
#include "attempts.h"
#include "escape.h"
#include "commands.h"
#include "diagnosis.h"
#include "live.h"
#include "render.h"
#include "stream.h"

static struct {
	const char *input;
	const char *server;
	bool json;
	double hang_after;
	struct engine *engine;
	unsigned long attempts;		/* reported */
	bool write_failed;
} env = { .hang_after = 5.0 };

static const char doc[] =
"Group SMB client events into mount attempts and explain each one: a\n"
"timeline, a diagnosis class, the evidence and what to check. A mount that\n"
"stops making progress is reported as soon as --hang-after has passed.\n"
"\n"
"USAGE: cifstrace diagnose [--json] [--hang-after SECS] [--server NAME]\n"
"       cifstrace diagnose --input FILE [--json] [--server NAME]\n"
"\n"
"EXAMPLES:\n"
"    cifstrace diagnose                  # live; then run the failing mount\n"
"    cifstrace diagnose --hang-after 2   # report hangs after 2 s\n"
"    cifstrace diagnose --json           # one JSON object per attempt\n"
"    cifstrace record /tmp/smb.jsonl     # on the host with the problem...\n"
"    cifstrace diagnose --input /tmp/smb.jsonl   # ...anywhere, no root\n";

static const struct argp_option opts[] = {
	{ "input", 'i', "FILE", 0, "Diagnose a recording (from 'cifstrace record'), '-' for stdin", 0 },
	{ "json", 'j', NULL, 0, "One JSON object per attempt", 0 },
	{ "hang-after", 'H', "SECS", 0, "Report a step outstanding this long as hung (default 5)", 0 },
	{ "server", 's', "NAME", 0, "Only attempts to this server (name or address)", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'i':
		env.input = arg;
		break;
	case 'j':
		env.json = true;
		break;
	case 's':
		env.server = arg;
		break;
	case 'H':
		env.hang_after = live_arg_positive(state, "--hang-after", arg, 86400);
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument: %s", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static bool wanted(const struct diagnosis *d)
{
	size_t n;

	if (!env.server || !strcasecmp(env.server, d->server))
		return true;
	/* \\NAME\share as given to mount */
	n = strlen(env.server);
	return !strncmp(d->share, "\\\\", 2) && !strncasecmp(d->share + 2, env.server, n) &&
	       (d->share[2 + n] == '\\' || d->share[2 + n] == '\0');
}

static void on_attempt(void *ctx, const struct attempt *a, enum outcome o, __u64 now)
{
	struct diagnosis d;

	diagnose_attempt(a, o, now, &d);
	if (!wanted(&d))
		return;
	if (env.write_failed)
		return;
	env.attempts++;
	if (env.json)
		render_diagnosis_json(stdout, a, &d);
	else
		render_diagnosis_text(stdout, a, &d);
	/* output that cannot be written is an error, and ends a live run */
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "cifstrace: cannot write the diagnosis: %s\n", strerror(errno));
		env.write_failed = true;
		if (!env.input)
			kill(getpid(), SIGTERM);
	}
}

static int feed(void *ctx, const struct ct_event *e)
{
	engine_feed(env.engine, e);
	return 0;
}

static void tick(void *ctx, struct tracer *t, __u64 now)
{
	engine_tick(env.engine, now);
}

static int offline(void)
{
	FILE *in = strcmp(env.input, "-") ? fopen(env.input, "r") : stdin;
	struct stream_reader r;
	struct ct_event e;
	__u64 last = 0;
	int n;

	if (!in) {
		char p[4 * 256 + 1];

		escape_str(p, sizeof(p), env.input, 256, ESC_TEXT);
		fprintf(stderr, "cifstrace: cannot read %s: %s\n", p, strerror(errno));
		return 1;
	}
	n = stream_open(&r, in, strcmp(env.input, "-") ? env.input : "<stdin>");
	while (n == 0 && (n = stream_next(&r, &e)) > 0) {
		/*
		 * CPUs stamp events a little out of ring order (an ACK in softirq
		 * on one CPU, the task on another): a few µs back is normal.
		 */
		if (e.ts_ns > last)
			last = e.ts_ns;
		engine_feed(env.engine, &e);
		n = 0;
	}
	if (n < 0)
		fprintf(stderr, "cifstrace: %s\n", r.err);
	else
		engine_finish(env.engine, last);
	if (n >= 0 && !env.attempts && !env.write_failed)
		fprintf(stderr, "cifstrace: no mount attempt%s in %s (%zu line%s read)\n",
			env.server ? " to that server" : "", r.name, r.lineno, r.lineno == 1 ? "" : "s");
	stream_close(&r);
	if (in != stdin)
		fclose(in);
	return n < 0 ? 1 : 0;
}

int cmd_diagnose(int argc, char **argv)
{
	static const struct argp_child children[] = { { &live_argp, 0, NULL, 0 }, {} };
	static const struct argp argp = { opts, parse_arg, NULL, doc, children, NULL, NULL };
	struct live_opts o = { .on_tick = tick };
	int rc;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	if (env.input && (live_cli.duration || live_cli.tracer.extra_port || live_cli.tracer.verbose)) {
		fprintf(stderr, "cifstrace diagnose: -d, --port and -v apply to live tracing, "
				"not to --input\n");
		return 2;
	}
	env.engine = engine_new((__u64)(env.hang_after * 1e9), on_attempt, NULL);
	if (!env.engine) {
		fprintf(stderr, "cifstrace: out of memory\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (env.input) {
		rc = offline();
	} else {
		o.tracer = live_cli.tracer;
		o.duration = live_cli.duration;
		/*
		 * Data-plane requests stay in the kernel: the oldest unanswered
		 * one per connection is read from its in-flight table instead.
		 */
		o.inflight_after_ns = (__u64)(env.hang_after * 1e9) / 2;
		/* and their ACKs from the socket: nothing runs per packet */
		o.tracer.ack_from_socket = true;
		rc = live_run(&o, feed, NULL);
		if (!rc)
			engine_finish(env.engine, monotonic_ns());
	}
	engine_free(env.engine);
	if (!rc && (env.write_failed || fflush(stdout) || ferror(stdout))) {
		if (!env.write_failed)
			fprintf(stderr, "cifstrace: cannot write the diagnosis: %s\n", strerror(errno));
		rc = 1;
	}
	return rc;
}
