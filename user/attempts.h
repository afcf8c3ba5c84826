/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Attempts: the event stream grouped into mount attempts (and reconnects
 * of existing mounts). A pure function of the stream: live and recorded
 * input go through the same engine.
 *
 * A mount attempt is everything between cifs_smb3_do_mount's entry and
 * exit in one task (the mount events), plus whatever happens on the TCP
 * connections that task used (ACKs, FIN, RST arrive in softirq context,
 * tied to the attempt by conn_id). Concurrent mounts are different tasks,
 * so they never mix. Exchanges with a KDC (cifs.upcall's, in its own
 * process) belong to the mount whose Kerberos upcall is running: with two
 * Kerberos mounts upcalling at once, to the later one.
 */
#ifndef ATTEMPTS_H
#define ATTEMPTS_H

#include <stdbool.h>
#include <stddef.h>
#include "cifstrace.h"

#define ATTEMPT_MAX_CONNS 8
/*
 * Bounds that keep the engine's memory and work per event constant
 * whatever the input: a mount has a few dozen events; beyond this many
 * the middle is dropped (counted, and said in the diagnosis).
 */
#define ATTEMPT_MAX_EVENTS 256
/* Open attempts at once; beyond it the one idle longest expires. */
#define ENGINE_MAX_OPEN 128
/* An attempt with no event for this long never saw its end: it expires. */
#define ATTEMPT_STALE_NS (600ull * 1000000000ull)
/* After a reconnect, trees not re-established this long after the session
 * are left to reconnect on their next use. */
#define RECOVERY_TREES_NS (2ull * 1000000000ull)

enum attempt_kind { ATTEMPT_MOUNT, ATTEMPT_RECONNECT };
enum outcome { OUTCOME_OK, OUTCOME_FAILED, OUTCOME_HUNG };

struct attempt {
	unsigned int id;
	enum attempt_kind kind;
	__u32 pid;
	char comm[CT_COMM_LEN];
	char unc[CT_UNC_LEN];		/* from the mount event */
	char user[CT_NAME_LEN];
	__u64 conn_ids[ATTEMPT_MAX_CONNS];
	int nconn;
	__u64 start_ns;
	struct ct_event *ev;		/* the attempt's events, in order */
	size_t nev, cap;
	bool done;			/* mount_done seen */
	bool hung_reported;
	__u64 hung_mark;		/* which wait the hang was reported for */
	unsigned long long lost;	/* events dropped while it was open */
	unsigned long long dropped;	/* beyond ATTEMPT_MAX_EVENTS */
	bool expired;			/* closed without its end (stale, or too many open) */
	/*
	 * A reconnect of an established connection, reported failed, stays
	 * open to follow the connection's return: reported again, ok, once the
	 * session and a tree are re-established (or 2 s after the session when
	 * trees reconnect later, on use); still hung at the end if it never was.
	 */
	bool recovering;
	__u64 session_back_ns;		/* the session came back then (0: not yet) */
	__u64 last_ns;			/* its latest event */
	/* what it waits for, kept as events arrive: indexes into ev, -1 none */
	int last_rr;			/* the last request, response or mount_done */
	int last_connect, last_upcall;
};

/* Called for each hang detected and each attempt that ends. */
typedef void (*attempt_fn)(void *ctx, const struct attempt *a, enum outcome o, __u64 now_ns);

struct engine;

struct engine *engine_new(__u64 hang_after_ns, attempt_fn fn, void *ctx);
/* Feed events in time order; ticks between events detect hangs. */
void engine_feed(struct engine *en, const struct ct_event *e);
void engine_tick(struct engine *en, __u64 now_ns);
/* End of input: attempts still open are reported as hung, as of now_ns. */
void engine_finish(struct engine *en, __u64 now_ns);
void engine_free(struct engine *en);

#endif
