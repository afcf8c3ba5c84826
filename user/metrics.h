/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prometheus metrics, the pure half of `cifstrace exporter`: latency
 * reports (deltas of the kernel's maps, see latency.h) and diagnosed mount
 * attempts are added into cumulative per-label-set counters, which are
 * rendered in the Prometheus text format. Counters only ever grow: a
 * kernel entry that disappears or restarts never takes a series down.
 *
 * Every metric is described once, in metric_descs[]: the renderer, the
 * --list-metrics output and the README table come from it.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stdbool.h>
#include <stdio.h>
#include "diagnosis.h"
#include "latency.h"

enum metric_id {
	M_REQUESTS,
	M_REQUEST_ERRORS,
	M_REQUEST_DURATION,
	M_REQUEST_QUEUE,
	M_REQUEST_NETWORK,
	M_REQUEST_SERVER,
	M_REQUEST_NETWORK_SERVER,
	M_READ_BYTES,
	M_WRITE_BYTES,
	M_IN_FLIGHT,
	M_OLDEST_AGE,
	M_RECONNECTS,
	M_CREDIT_STALLS,
	M_CREDIT_TIMEOUTS,
	M_TCP_RETRANSMITS,
	M_TCP_RESETS,
	M_MOUNT_ATTEMPTS,
	M_MOUNT_DURATION,
	M_MOUNTS_HUNG,
	M_LOST_EVENTS,
	M_NOT_COUNTED,
	M_BPF_RUN_SECONDS,
	M_BPF_RUNS,
	M_LABEL_OVERFLOW,
	M_BUILD_INFO,
	M_COUNT
};

struct metric_desc {
	const char *name;
	const char *type;	/* "counter", "gauge", "histogram" */
	const char *labels;	/* for the docs: "server,share,command" */
	const char *help;
};

extern const struct metric_desc metric_descs[M_COUNT];

/* The label value that stands for every server or share beyond the cap. */
#define METRICS_OTHER "(other)"

struct metrics;

/* max_series: distinct servers, and distinct shares, kept as label values. */
struct metrics *metrics_new(unsigned int max_series, const char *version, const char *kernel);
void metrics_free(struct metrics *m);

/* One interval of the kernel's aggregates (lat_report_build's deltas). */
int metrics_add_report(struct metrics *m, const struct lat_report *r);
/* A mount attempt from the diagnose engine: hung (a gauge until it ends),
 * then ok or failed (counted, and its duration observed). */
int metrics_add_attempt(struct metrics *m, unsigned int attempt_id, const struct diagnosis *d);

/* The exporter's own health, cumulative values read at scrape time. */
struct metrics_health {
	__u64 lost_events;
	__u64 not_counted[CT_STAT_MAX];	/* enum ct_stat, LOST excluded */
	__u64 bpf_runs;
	__u64 bpf_run_ns;
};
void metrics_set_health(struct metrics *m, const struct metrics_health *h);

/* The text exposition format (version 0.0.4). Returns 0, -1 on a write error. */
int metrics_render(FILE *out, const struct metrics *m);
/* The metric table as Markdown, for --list-metrics and the README. */
void metrics_list(FILE *out);

#endif
