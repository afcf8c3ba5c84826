// SPDX-License-Identifier: GPL-2.0
/*
 * cifstrace record FILE: the raw event stream, with a header, for
 * `cifstrace diagnose --input FILE` on any machine.
 */
#include <argp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "commands.h"
#include "live.h"
#include "render.h"
#include "stream.h"

static struct {
	const char *path;
	FILE *out;
	unsigned long long n;
} env;

static const char doc[] =
"Record the raw event stream to FILE ('-' for standard output), to diagnose\n"
"later, on any machine and without root: cifstrace diagnose --input FILE.\n"
"\n"
"USAGE: cifstrace record [-d SECS] [-v] FILE\n"
"\n"
"EXAMPLES:\n"
"    cifstrace record /tmp/smb.jsonl          # until Ctrl-C\n"
"    cifstrace record -d 120 /tmp/smb.jsonl   # two minutes\n"
"    cifstrace diagnose --input /tmp/smb.jsonl\n";

static const struct argp_option opts[] = {
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case ARGP_KEY_ARG:
		if (env.path)
			argp_error(state, "only one FILE");
		env.path = arg;
		break;
	case ARGP_KEY_END:
		if (!env.path)
			argp_error(state, "FILE is required");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void write_header(void *ctx, struct tracer *t)
{
	char host[128] = "";

	gethostname(host, sizeof(host) - 1);
	stream_write_header(env.out, tracer_kernel(t), host);
	fflush(env.out);
}

static int write_event(void *ctx, const struct ct_event *e)
{
	render_json_event(env.out, e);
	env.n++;
	return 0;
}

int cmd_record(int argc, char **argv)
{
	static const struct argp_child children[] = { { &live_argp, 0, NULL, 0 }, {} };
	static const struct argp argp = { opts, parse_arg, "FILE", doc, children, NULL, NULL };
	struct live_opts o = { .on_start = write_header };
	int rc;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	env.out = strcmp(env.path, "-") ? fopen(env.path, "w") : stdout;
	if (!env.out) {
		fprintf(stderr, "cifstrace: cannot write %s: %s\n", env.path, strerror(errno));
		return 1;
	}
	setvbuf(env.out, NULL, _IOLBF, 0);	/* a crash or kill loses no event */
	o.tracer = live_cli.tracer;
	o.tracer.emit_requests = true;	/* every request, one record each */
	/* and each second, the oldest request a connection still waits for */
	o.inflight_after_ns = 1000000000ull;
	o.duration = live_cli.duration;
	rc = live_run(&o, write_event, NULL);
	if (fclose(env.out) && !rc) {
		fprintf(stderr, "cifstrace: error writing %s: %s\n", env.path, strerror(errno));
		rc = 1;
	}
	if (!rc)
		fprintf(stderr, "cifstrace: %llu events written to %s\n", env.n, env.path);
	return rc;
}
