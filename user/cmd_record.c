// SPDX-License-Identifier: GPL-2.0
/*
 * cifstrace record FILE: the raw event stream, with a header, for
 * `cifstrace diagnose --input FILE` on any machine.
 */
#include <argp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include "escape.h"
#include "commands.h"
#include "live.h"
#include "render.h"
#include "stream.h"

static struct {
	const char *path;
	bool force;
	FILE *out;
	unsigned long long n;
	int rc;
} env;

static const char doc[] =
"Record the raw event stream to FILE ('-' for standard output), to diagnose\n"
"later, on any machine and without root: cifstrace diagnose --input FILE.\n"
"\n"
"Nothing is created or truncated before tracing has started; an existing\n"
"FILE is overwritten only with --force.\n"
"\n"
"USAGE: cifstrace record [-f] [-d SECS] [--port PORT] [-v] FILE\n"
"\n"
"EXAMPLES:\n"
"    cifstrace record /tmp/smb.jsonl          # until Ctrl-C\n"
"    cifstrace record -d 120 /tmp/smb.jsonl   # two minutes\n"
"    cifstrace diagnose --input /tmp/smb.jsonl\n";

static const struct argp_option opts[] = {
	{ "force", 'f', NULL, 0, "Overwrite FILE if it exists", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'f':
		env.force = true;
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

/* Stop the live loop from a callback: as Ctrl-C would. */
static void fail_and_stop(void)
{
	env.rc = 1;
	kill(getpid(), SIGTERM);
}

static void write_error(void)
{
	char p[4 * 256 + 1];

	escape_str(p, sizeof(p), env.path, 256, ESC_TEXT);
	fprintf(stderr, "cifstrace: error writing %s: %s\n", p, strerror(errno));
}

/* Called once attached: only now is FILE created (or, with -f, emptied). */
static void write_header(void *ctx, struct tracer *t)
{
	char host[128] = "", p[4 * 256 + 1];
	int fd;

	if (strcmp(env.path, "-")) {
		fd = open(env.path, O_WRONLY | O_CREAT | O_CLOEXEC | (env.force ? O_TRUNC : O_EXCL),
			  0644);
		env.out = fd < 0 ? NULL : fdopen(fd, "w");
		if (!env.out) {
			escape_str(p, sizeof(p), env.path, 256, ESC_TEXT);
			fprintf(stderr, "cifstrace: cannot write %s: %s%s\n", p, strerror(errno),
				errno == EEXIST ? " (use --force to overwrite it)" : "");
			if (fd >= 0)
				close(fd);
			fail_and_stop();
			return;
		}
	} else {
		env.out = stdout;
	}
	/* one write per batch of records (flush_batch), not per line */
	setvbuf(env.out, NULL, _IOFBF, 0);
	gethostname(host, sizeof(host) - 1);
	stream_write_header(env.out, tracer_kernel(t), host);
	if (fflush(env.out)) {
		write_error();
		fail_and_stop();
	}
}

/* A write that fails ends the recording at once: never a silent gap. */
static int write_event(void *ctx, const struct ct_event *e)
{
	if (!env.out || env.rc)
		return 0;
	render_json_event(env.out, e);
	if (ferror(env.out)) {
		write_error();
		fail_and_stop();
		return 1;
	}
	env.n++;
	return 0;
}

/*
 * Each batch the ring gave is written out before the next wait: a
 * SIGKILL loses at most the batch being written (and what the ring still
 * held); SIGINT and SIGTERM lose nothing.
 */
static void flush_batch(void *ctx, struct tracer *t, __u64 now_ns)
{
	if (!env.out || env.rc)
		return;
	if (fflush(env.out)) {
		write_error();
		fail_and_stop();
	}
}

int cmd_record(int argc, char **argv)
{
	static const struct argp_child children[] = { { &live_argp, 0, NULL, 0 }, {} };
	static const struct argp argp = { opts, parse_arg, "FILE", doc, children, NULL, NULL };
	struct live_opts o = { .on_start = write_header, .on_tick = flush_batch };
	char p[4 * 256 + 1];
	struct stat st;
	int rc;

	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return 2;
	escape_str(p, sizeof(p), env.path, 256, ESC_TEXT);
	/* refuse early what would be refused later, before the slow load */
	if (strcmp(env.path, "-") && !env.force && !lstat(env.path, &st)) {
		fprintf(stderr, "cifstrace: %s exists (use --force to overwrite it)\n", p);
		return 1;
	}
	o.tracer = live_cli.tracer;
	o.tracer.emit_requests = true;	/* every request, one record each */
	/* and each second, the oldest request a connection still waits for */
	o.inflight_after_ns = 1000000000ull;
	o.duration = live_cli.duration;
	rc = live_run(&o, write_event, NULL);
	if (env.out && env.out != stdout && fclose(env.out) && !rc && !env.rc) {
		write_error();
		rc = 1;
	} else if (env.out == stdout && fflush(stdout) && !rc && !env.rc) {
		write_error();
		rc = 1;
	}
	if (!rc)
		rc = env.rc;
	if (!rc)
		fprintf(stderr, "cifstrace: %llu events written to %s\n", env.n, p);
	return rc;
}
