// SPDX-License-Identifier: GPL-2.0
/* cifstrace events: the raw event stream, live, as text or JSON Lines. */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "commands.h"
#include "render.h"
#include "tracer.h"

static struct {
	bool json;
	bool verbose;
	long duration;		/* seconds, 0 = until interrupted */
	__u16 port;
} env;

static volatile sig_atomic_t exiting;

static const char doc[] =
"Print every fact cifstrace captures about the SMB client, one line per event.\n"
"\n"
"USAGE: cifstrace events [--json] [-d SECS] [-p PORT] [-v]\n"
"\n"
"EXAMPLES:\n"
"    cifstrace events              # text, times relative to start\n"
"    cifstrace events --json       # JSON Lines, one object per event\n"
"    cifstrace events -j -d 60 > trace.jsonl   # a minute of events to a file\n"
"    cifstrace events -v           # show the hooks attached on this kernel\n";

static const struct argp_option opts[] = {
	{ "json", 'j', NULL, 0, "JSON Lines output", 0 },
	{ "duration", 'd', "SECS", 0, "Stop after SECS seconds", 0 },
	{ "port", 'p', "PORT", 0,
	  "Also treat TCP PORT as SMB (used only where cifs functions cannot be hooked)", 0 },
	{ "verbose", 'v', NULL, 0, "Show the hook table and libbpf debug output", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	char *end;
	long v;

	switch (key) {
	case 'j':
		env.json = true;
		break;
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
		argp_error(state, "unexpected argument: %s", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void on_signal(int sig)
{
	exiting = 1;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static __u64 t0;

static int print_event(void *ctx, const struct ct_event *e)
{
	if (env.json)
		render_json_event(stdout, e);
	else
		render_text_event(stdout, e, t0);
	return 0;
}

int cmd_events(int argc, char **argv)
{
	static const struct argp argp = { opts, parse_arg, NULL, doc, NULL, NULL, NULL };
	struct tracer_opts topts = {};
	unsigned long long lost = 0, now_lost;
	struct tracer *t;
	__u64 deadline;
	int err;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	topts.verbose = env.verbose;
	topts.extra_port = env.port;
	err = tracer_open(&t, &topts);
	if (err)
		return err;
	if (env.verbose)
		tracer_print_hooks(t, stderr);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);
	t0 = now_ns();
	deadline = env.duration ? t0 + env.duration * 1000000000ull : 0;
	if (!env.json)
		render_text_header(stdout);
	fprintf(stderr, "cifstrace: tracing the SMB client on %s; Ctrl-C to end\n",
		tracer_kernel(t));

	while (!exiting && (!deadline || now_ns() < deadline)) {
		err = tracer_poll(t, 200, print_event, NULL);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "cifstrace: ring buffer poll failed: %s\n", strerror(-err));
			break;
		}
		now_lost = tracer_lost(t);
		if (now_lost != lost) {
			fprintf(stderr, "cifstrace: %llu events lost (ring buffer full)\n",
				now_lost - lost);
			lost = now_lost;
		}
	}
	/* drain what is already in the buffer */
	tracer_poll(t, 0, print_event, NULL);
	tracer_close(t);
	return err < 0 && err != -EINTR ? 1 : 0;
}
