// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include "live.h"

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	exiting = 1;
}

__u64 monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int live_run(const struct live_opts *o, event_fn fn, void *ctx)
{
	unsigned long long lost = 0, now_lost;
	struct tracer *t;
	__u64 deadline;
	int err;

	err = tracer_open(&t, &o->tracer);
	if (err)
		return err;
	if (o->tracer.verbose)
		tracer_print_hooks(t, stderr);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (o->on_start)
		o->on_start(ctx, t);
	deadline = o->duration ? monotonic_ns() + o->duration * 1000000000ull : 0;
	fprintf(stderr, "cifstrace: tracing the SMB client on %s; Ctrl-C to end\n",
		tracer_kernel(t));

	err = 0;
	while (!exiting && (!deadline || monotonic_ns() < deadline)) {
		err = tracer_poll(t, 200, fn, ctx);
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
		if (o->on_tick)
			o->on_tick(ctx, monotonic_ns());
	}
	tracer_poll(t, 0, fn, ctx);	/* drain what is already in the buffer */
	tracer_close(t);
	return err ? 1 : 0;
}
