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
	bool verbose;
	long duration;
	__u16 port;
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
	{ "duration", 'd', "SECS", 0, "Stop after SECS seconds", 0 },
	{ "port", 'p', "PORT", 0, "Also treat TCP PORT as SMB (without cifs function hooks)", 0 },
	{ "verbose", 'v', NULL, 0, "Show the hook table and libbpf debug output", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	char *end;
	long v;

	switch (key) {
	case 'v':
		env.verbose = true;
		break;
	case 'd':
	case 'p':
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || *end || v <= 0 || (key == 'p' && v > 65535))
			argp_error(state, "invalid %s: %s", key == 'd' ? "duration" : "port", arg);
		if (key == 'd')
			env.duration = v;
		else
			env.port = (__u16)v;
		break;
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
	static const struct argp argp = { opts, parse_arg, "FILE", doc, NULL, NULL, NULL };
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
	o.tracer.verbose = env.verbose;
	o.tracer.extra_port = env.port;
	o.duration = env.duration;
	rc = live_run(&o, write_event, NULL);
	if (fclose(env.out) && !rc) {
		fprintf(stderr, "cifstrace: error writing %s: %s\n", env.path, strerror(errno));
		rc = 1;
	}
	if (!rc)
		fprintf(stderr, "cifstrace: %llu events written to %s\n", env.n, env.path);
	return rc;
}
