/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The live loop shared by every tracing subcommand: attach, poll, report
 * losses as CT_EV_LOST events in the stream, stop on SIGINT/SIGTERM or
 * after a duration, drain, detach.
 */
#ifndef LIVE_H
#define LIVE_H

#include <argp.h>
#include "tracer.h"

struct live_opts {
	struct tracer_opts tracer;
	long duration;			/* seconds, 0 = until interrupted */
	/* called once attached, before the first event (e.g. a file header) */
	void (*on_start)(void *ctx, struct tracer *t);
	/*
	 * called after each poll of the ring (a batch of events, or 200 ms
	 * without one) with CLOCK_MONOTONIC ns: hang detection, output flush
	 */
	void (*on_tick)(void *ctx, struct tracer *t, __u64 now_ns);
	/*
	 * Once a second, the oldest unanswered request of each connection
	 * older than this (from the kernel's in-flight table) is handed to the
	 * event callback as a CT_EV_INFLIGHT event. 0: never.
	 */
	__u64 inflight_after_ns;
	/* called after the last events were drained, before detaching */
	void (*on_stop)(void *ctx, struct tracer *t);
	bool quiet;			/* no "tracing ..." line on stderr */
};

/*
 * The options every live subcommand takes (-d, -p, -v), as an argp child:
 * add { &live_argp, 0, NULL, 0 } to a command's children; they fill
 * live_cli.
 */
extern const struct argp live_argp;
extern struct live_opts live_cli;

/* Returns the process exit code. */
int live_run(const struct live_opts *o, event_fn fn, void *ctx);
/* End the live loop after the current poll, as SIGINT would (callbacks). */
void live_stop(void);

/* A number in (0, max] from an option, or argp_error naming the option. */
double live_arg_positive(struct argp_state *state, const char *what, const char *arg, double max);

struct names;
struct snapshot;
/* Name the trees and connections of s made before cifstrace started, from
 * /proc/fs/cifs/DebugData (read only when some are unnamed; s NULL: read). */
void live_learn_names(struct names *n, const struct snapshot *s);

struct lat_filter;
struct lat_report;
/*
 * What the kernel aggregated since *prev (latency's interval, the
 * exporter's scrape): read its maps, name what they hold, build the report
 * of the deltas, and keep the new snapshot in *prev. r is always safe to
 * lat_report_free(). Returns 0, or -1 when out of memory.
 */
int live_interval(struct tracer *t, struct snapshot *prev, struct names *n,
		  const struct lat_filter *f, struct lat_report *r);

#endif
