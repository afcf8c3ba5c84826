/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A snapshot of what the kernel side aggregates (include/cifstrace.h):
 * histograms, error counters, bytes per tree, per-connection counters and
 * names, and the requests in flight. Plain data: the tracer fills it from
 * the maps, the latency and diagnose code read it, tests build it by hand.
 */
#ifndef SNAPSHOT_H
#define SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include "cifstrace.h"

struct snap_hist {
	struct ct_hist_key k;
	struct ct_hist v;
};

struct snap_err {
	struct ct_err_key k;
	__u64 n;
};

struct snap_io {
	struct ct_tree_key k;
	struct ct_io v;
};

struct snap_conn {
	__u64 conn_id;
	bool has_info, has_stats;
	struct ct_conn_info info;
	struct ct_conn_stats st;
};

struct snap_req {
	struct ct_req_key k;
	struct ct_req v;
};

struct snapshot {
	__u64 ts_ns;			/* CLOCK_MONOTONIC when read */
	struct snap_hist *hist;
	size_t nhist;
	struct snap_err *err;
	size_t nerr;
	struct snap_io *io;
	size_t nio;
	struct snap_conn *conn;
	size_t nconn;
	struct snap_req *req;
	size_t nreq;
	__u64 stat[CT_STAT_MAX];	/* enum ct_stat */
};

void snapshot_free(struct snapshot *s);	/* frees the arrays, zeroes s */
struct snap_conn *snapshot_conn(struct snapshot *s, __u64 conn_id, bool create);

/*
 * One CPU's histogram entry (the hists map), added to the histogram of its
 * key, made on first sight: the per-CPU entries of a key, wherever each
 * CPU put it, sum to one. Unused entries are skipped. -1: out of memory.
 */
int snapshot_merge_hist(struct snapshot *s, const struct ct_hist_entry *e);
/* The same for one CPU's byte counters of a tree (the ios map). */
int snapshot_merge_io(struct snapshot *s, const struct ct_io_entry *e);
/* And for one CPU's count of error answers of a key and status (errs). */
int snapshot_merge_err(struct snapshot *s, const struct ct_err_entry *e);
/* to += v: counts, sums and buckets added, max the larger */
void ct_hist_add(struct ct_hist *to, const struct ct_hist *v);

/*
 * The requests in flight from the in-flight table (n slots, struct ct_req,
 * the kernel's map read in place while it changes): a slot whose start
 * changed while it was copied is being reused, and is skipped. Replaces
 * s->req. -1: out of memory.
 */
int snapshot_read_reqs(struct snapshot *s, const struct ct_req *slots, size_t n);

/* Commands that wait for hours by design (LOCK, CHANGE_NOTIFY,
 * OPLOCK_BREAK): not evidence of a hang. */
bool snapshot_waits_by_design(__u16 cmd);

/*
 * The oldest unanswered request of each connection, as INFLIGHT events
 * (ts = the snapshot's time, latency = its age), skipping commands that
 * wait by design (LOCK, CHANGE_NOTIFY, OPLOCK_BREAK) and those younger
 * than min_age_ns. Returns how many were written to out (at most max).
 */
size_t snapshot_oldest(const struct snapshot *s, __u64 min_age_ns, struct ct_event *out,
		       size_t max);

#endif
