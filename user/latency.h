/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Latency profiling, userspace half: the kernel's cumulative histograms
 * and counters (a struct snapshot) become per (server, share, command)
 * rows for an interval, with percentiles, the time split and errors by
 * status. Pure: snapshots and names in, a report out, then text or JSON.
 */
#ifndef LATENCY_H
#define LATENCY_H

#include <stdbool.h>
#include <stdio.h>
#include "snapshot.h"

/* ------------------------------------------------------------ names */

/*
 * What the ids in the kernel's keys stand for: the server of a connection
 * and the UNC of a (session, tree). Learned from the kernel (conns map),
 * from tree_connect events, and for connections made before cifstrace
 * started from /proc/fs/cifs/DebugData.
 */
struct share_name {
	__u64 sesid;
	__u32 tid;
	char unc[CT_UNC_LEN];
};

struct host_name {
	__u64 conn_id;
	char host[CT_HOST_LEN];
};

struct names {
	struct share_name *share;
	size_t nshare;
	struct host_name *host;
	size_t nhost;
};

void names_add_share(struct names *n, __u64 sesid, __u32 tid, const char *unc);
void names_add_host(struct names *n, __u64 conn_id, const char *host);
const char *names_share(const struct names *n, __u64 sesid, __u32 tid);
const char *names_host(const struct names *n, __u64 conn_id);
/* Learn from one event (tree_connect, and the server name of any). */
void names_learn(struct names *n, const struct ct_event *e);
/* Parse /proc/fs/cifs/DebugData: connections, sessions, trees. Returns
 * how many trees were learned, -1 on a read error. */
int names_read_debugdata(struct names *n, FILE *f);
void names_free(struct names *n);
/* Does s hold a tree that n cannot name yet? */
bool names_missing(const struct names *n, const struct snapshot *s);

/* ------------------------------------------------------------ report */

struct lat_filter {
	const char *server;	/* host name or address, NULL = all */
	const char *share;	/* UNC or share name, NULL = all */
	int cmd;		/* SMB2 command, -1 = all */
};

#define LAT_MAX_STATUS 8

struct lat_row {
	char server[CT_HOST_LEN];
	char share[CT_UNC_LEN];		/* "" for requests of no tree */
	__u16 cmd;
	struct ct_hist h;		/* this interval */
	__u64 max_ns;			/* this interval's max (see lat_report_build) */
	struct {
		__u32 status;
		__u64 n;
	} status[LAT_MAX_STATUS];
	int nstatus;
	__u64 other_errors;		/* statuses beyond LAT_MAX_STATUS */
};

struct lat_share {
	char server[CT_HOST_LEN];
	char share[CT_UNC_LEN];
	__u64 read_bytes, write_bytes;
};

struct lat_server {
	char server[CT_HOST_LEN];
	__u64 conn_id;
	struct ct_conn_stats st;	/* this interval */
	__u64 in_flight;		/* requests unanswered now */
	__u64 oldest_ns;		/* age of the oldest of them, LOCK and
				 * the others that wait by design left out */
	__u16 oldest_cmd;
};

struct lat_report {
	__u64 ts_ns, interval_ns;
	struct lat_row *row;
	size_t nrow;
	struct lat_share *share;
	size_t nshare;
	struct lat_server *server;
	size_t nserver;
	__u64 stat[CT_STAT_MAX];	/* cumulative since start */
};

/*
 * The interval from prev to cur (prev NULL or empty: since the start).
 * Rows with no requests in the interval are left out. Returns 0 or -1
 * (out of memory).
 */
int lat_report_build(const struct snapshot *cur, const struct snapshot *prev,
		     const struct names *names, const struct lat_filter *f,
		     struct lat_report *out);
void lat_report_free(struct lat_report *r);

/* Percentile q (0..1) in µs, interpolated in its log2 bucket, <= max. */
double lat_percentile(const struct ct_hist *h, __u64 max_ns, double q);
/* "queue", "network" or "server": the largest part of the split, or NULL. */
const char *lat_dominant(const struct ct_hist *h);

void lat_render_text(FILE *out, const struct lat_report *r);
void lat_render_json(FILE *out, const struct lat_report *r);

/* One slow operation (a RESPONSE record with CT_F_SLOW). */
void lat_slow_header(FILE *out);
void lat_render_slow_text(FILE *out, const struct ct_event *e, const struct names *n);
void lat_render_slow_json(FILE *out, const struct ct_event *e, const struct names *n);
bool lat_filter_event(const struct lat_filter *f, const struct ct_event *e,
		      const struct names *n);

#endif
