// SPDX-License-Identifier: GPL-2.0
/*
 * cifstrace run -- COMMAND: attach, run COMMAND (typically a mount), and
 * explain the mount attempts made by it and its children only; exit with
 * its status. The hang report comes while the command still waits.
 */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "attempts.h"
#include "commands.h"
#include "diagnosis.h"
#include "escape.h"
#include "live.h"
#include "render.h"

#define MAX_PIDS 64

static struct {
	bool json;
	double hang_after;
	const char *output;
	FILE *out;
	char **argv;
	pid_t child;
	int status;		/* the command's, once it has ended */
	bool ended;
	__u64 stop_at;		/* when to stop draining after it ended */
	pid_t pids[MAX_PIDS];	/* its processes seen starting a mount */
	int npids;
	unsigned long reported;
	struct engine *engine;
	/* final reports wait for the command's end: its own messages come first */
	char *held;
	size_t nheld;
	FILE *hold;
} env = { .hang_after = 5.0 };

static const char doc[] =
"Run COMMAND (typically a mount) with cifstrace attached, and explain the\n"
"mount attempts it and its children make: a timeline, a class, the\n"
"evidence and what to check. A mount that stops making progress is\n"
"reported while it still waits. Exits with COMMAND's exit status. The\n"
"diagnoses go to standard error (or -o FILE), so COMMAND's output stays\n"
"its own.\n"
"\n"
"USAGE: cifstrace run [--json] [--hang-after SECS] [-o FILE] [-v] -- COMMAND [ARG...]\n"
"\n"
"EXAMPLES:\n"
"    cifstrace run -- mount -t cifs //fs1/data /mnt/data -o username=alice\n"
"    cifstrace run --hang-after 2 -- mount -a -t cifs\n"
"    cifstrace run --json -o /tmp/why.json -- mount /mnt/data\n";

static const struct argp_option opts[] = {
	{ "json", 'j', NULL, 0, "One JSON object per attempt", 0 },
	{ "hang-after", 'H', "SECS", 0, "Report a step outstanding this long as hung (default 5)", 0 },
	{ "output", 'o', "FILE", 0, "Write the diagnoses to FILE instead of standard error", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'j':
		env.json = true;
		break;
	case 'o':
		env.output = arg;
		break;
	case 'H':
		env.hang_after = live_arg_positive(state, "--hang-after", arg, 86400);
		break;
	case ARGP_KEY_ARG:
		/* the command and its arguments: everything from here on */
		env.argv = &state->argv[state->next - 1];
		state->next = state->argc;
		break;
	case ARGP_KEY_END:
		if (!env.argv)
			argp_error(state, "COMMAND is required (cifstrace run -- mount ...)");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* Is pid the command or one of its descendants? Walks /proc ppid links. */
static bool descends(pid_t pid)
{
	for (int depth = 0; pid > 1 && depth < 32; depth++) {
		char path[64], buf[512], *p;
		FILE *f;
		int ppid;

		if (pid == env.child)
			return true;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "r");
		if (!f)
			return false;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
			return false;
		pid = ppid;
	}
	return false;
}

static bool ours(pid_t pid)
{
	for (int i = 0; i < env.npids; i++)
		if (env.pids[i] == pid)
			return true;
	return false;
}

static void on_attempt(void *ctx, const struct attempt *a, enum outcome o, __u64 now)
{
	struct diagnosis d;
	FILE *out;

	if (a->kind != ATTEMPT_MOUNT || !ours((pid_t)a->pid))
		return;
	diagnose_attempt(a, o, now, &d);
	env.reported++;
	/* a hang is news while the command waits; an end is told after it */
	out = o == OUTCOME_HUNG || !env.hold ? env.out : env.hold;
	if (env.json)
		render_diagnosis_json(out, a, &d);
	else
		render_diagnosis_text(out, a, &d);
	fflush(out);
}

static int feed(void *ctx, const struct ct_event *e)
{
	/* a mount started by the command's process tree (checked while it runs) */
	if (e->type == CT_EV_MOUNT && !ours((pid_t)e->pid) && env.npids < MAX_PIDS &&
	    descends((pid_t)e->pid))
		env.pids[env.npids++] = (pid_t)e->pid;
	engine_feed(env.engine, e);
	return 0;
}

static void start(void *ctx, struct tracer *t)
{
	fflush(NULL);
	env.child = fork();
	if (env.child == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(env.argv[0], env.argv);
		fprintf(stderr, "cifstrace: cannot run %s: %s\n", env.argv[0], strerror(errno));
		_exit(127);
	}
	if (env.child < 0) {
		fprintf(stderr, "cifstrace: cannot start the command: %s\n", strerror(errno));
		env.status = 127 << 8;
		env.ended = true;
		live_stop();
	}
}

static void tick(void *ctx, struct tracer *t, __u64 now)
{
	engine_tick(env.engine, now);
	if (!env.ended && env.child > 0 && waitpid(env.child, &env.status, WNOHANG) == env.child) {
		env.ended = true;
		/* the last events (mount's return, FIN) are a few ms behind */
		env.stop_at = now + 300000000ull;
	}
	if (env.ended && now >= env.stop_at)
		live_stop();
}

int cmd_run(int argc, char **argv)
{
	static const struct argp_child children[] = { { &live_argp, 0, NULL, 0 }, {} };
	static const struct argp argp = { opts, parse_arg, "-- COMMAND [ARG...]", doc, children,
					  NULL, NULL };
	struct live_opts o = { .on_start = start, .on_tick = tick };
	int rc;

	if (argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, NULL))
		return 2;
	env.out = stderr;
	if (env.output) {
		env.out = fopen(env.output, "w");
		if (!env.out) {
			char p[4 * 256 + 1];

			escape_str(p, sizeof(p), env.output, 256, ESC_TEXT);
			fprintf(stderr, "cifstrace: cannot write %s: %s\n", p, strerror(errno));
			return 1;
		}
	}
	env.hold = open_memstream(&env.held, &env.nheld);
	env.engine = engine_new((__u64)(env.hang_after * 1e9), on_attempt, NULL);
	if (!env.engine) {
		fprintf(stderr, "cifstrace: out of memory\n");
		return 1;
	}
	o.tracer = live_cli.tracer;
	o.duration = live_cli.duration;
	o.inflight_after_ns = (__u64)(env.hang_after * 1e9) / 2;
	/* and their ACKs from the socket: nothing runs per packet */
	o.tracer.ack_from_socket = true;
	o.quiet = true;
	rc = live_run(&o, feed, NULL);
	if (env.child > 0 && !env.ended) {
		/* interrupted, or -d ran out: the command goes on; wait for it */
		waitpid(env.child, &env.status, 0);
		env.ended = true;
	}
	if (!rc)
		engine_finish(env.engine, monotonic_ns());
	engine_free(env.engine);
	if (env.hold && !fclose(env.hold) && env.nheld)
		fwrite(env.held, 1, env.nheld, env.out);
	free(env.held);
	if (!rc && !env.reported && env.child > 0)
		fprintf(env.out, "cifstrace: %s made no mount attempt\n", env.argv[0]);
	if (env.out != stderr && fclose(env.out) && !rc) {
		char p[4 * 256 + 1];

		escape_str(p, sizeof(p), env.output, 256, ESC_TEXT);
		fprintf(stderr, "cifstrace: error writing %s: %s\n", p, strerror(errno));
		rc = 1;
	}
	if (rc || env.child <= 0)
		return rc ? rc : 127;
	if (WIFSIGNALED(env.status))
		return 128 + WTERMSIG(env.status);
	return WEXITSTATUS(env.status);
}
