/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The live event source: loads the BPF object, attaches what the running
 * kernel offers and hands each raw record to a callback.
 */
#ifndef TRACER_H
#define TRACER_H

#include <stdbool.h>
#include <stdio.h>
#include "cifstrace.h"

struct tracer;

struct tracer_opts {
	bool verbose;		/* libbpf debug output and the hook table */
	__u16 extra_port;	/* also an SMB port when matching by port */
	bool emit_requests;	/* stream every completed request (events, record) */
	__u64 slow_ns;		/* stream requests at least this slow (0: off) */
	bool paths;		/* the operations' paths (check; implied by the two above) */
	__u32 target_tgid;	/* count only this process's requests (0: all) */
	bool aggregate;		/* histograms, credits, bytes (latency, exporter) */
	bool no_kdc;		/* latency: no Kerberos hooks (nothing diagnoses) */
	bool ack_from_socket;	/* ACKs read from the socket (at the answer, and on
				 * the tick: tracer_sample_acks), no hook per packet
				 * but while a Kerberos upcall runs */
	__u32 ring_kb;		/* ring buffer size, a power of 2 >= 4 (0: default) */
	const char *btf_file;	/* --btf: BTF for cifs (and vmlinux) for CO-RE */
	bool quiet_btf;		/* no warning when there is no BTF for cifs */
};

/* Return 0 to go on, non-zero to stop polling. */
typedef int (*event_fn)(void *ctx, const struct ct_event *e);

/*
 * Prints one line and returns an exit code on failure: 1 for missing
 * privileges, 2 for a kernel that cannot be traced (no cifs, no BTF).
 */
int tracer_open(struct tracer **out, const struct tracer_opts *opts);
/* Poll for up to timeout_ms; returns events handled or negative errno. */
int tracer_poll(struct tracer *t, int timeout_ms, event_fn fn, void *ctx);
/* Records the ring buffer had no room for, since load. */
unsigned long long tracer_lost(struct tracer *t);
/* The kernel side's counters of what it could not keep (enum ct_stat). */
void tracer_stats(struct tracer *t, __u64 out[CT_STAT_MAX]);

/* Everything the kernel aggregates, read from its maps at one moment. */
struct snapshot;
int tracer_snapshot(struct tracer *t, struct snapshot *s);
/* Only the requests in flight (cheap: the table holds what is unanswered). */
int tracer_snapshot_inflight(struct tracer *t, struct snapshot *s);
/*
 * ack_from_socket: have the kernel look at the sockets of requests sent
 * more than min_age_ns ago and not yet ACKed (at most 96 a call).
 */
void tracer_sample_acks(struct tracer *t, __u64 min_age_ns);
/* Housekeeping on the loop's tick: the per-packet hooks after an upcall. */
void tracer_tick(struct tracer *t, __u64 now);
/*
 * Requests that will never be answered, entered before before_ns: those of
 * a connection that reconnected (conn_id), or of a mount that failed (pid:
 * its session is gone; a killed mount's request stays unanswered).
 */
void tracer_forget(struct tracer *t, __u64 conn_id, __u32 pid, __u64 before_ns);
/* Runs and run time of our BPF programs (the kernel counts them only while
 * BPF stats are enabled: kernel.bpf_stats_enabled or bpf_enable_stats()). */
void tracer_bpf_stats(struct tracer *t, __u64 *runs, __u64 *run_ns);
void tracer_print_hooks(struct tracer *t, FILE *out);
/* Where CO-RE found cifs's types, in words (cifstrace check). */
const char *tracer_btf_source(struct tracer *t, char *buf, size_t len);
/* Kernel release, for recordings. */
const char *tracer_kernel(struct tracer *t);
void tracer_close(struct tracer *t);
/* CLOCK_MONOTONIC in ns, the clock of bpf_ktime_get_ns() and of events. */
__u64 monotonic_ns(void);

#endif
