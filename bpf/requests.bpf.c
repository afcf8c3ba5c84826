// SPDX-License-Identifier: GPL-2.0
/*
 * cifstrace, kernel side: every SMB request, from smb3_cmd_enter to its
 * response, as one in-flight record (struct ct_req in the reqs map):
 *
 *   entered        smb3_cmd_enter (or, when the task first had to wait for
 *                  credits, the start of that wait)
 *   on the wire    __smb_send_rqst returned (also pushes the request's end
 *                  sequence for tcp.bpf.c to match against ACKs)
 *   ACKed          the server's TCP acknowledged its last byte (tcp.bpf.c,
 *                  or, with ack_from_socket, read from the socket at the
 *                  answer: ack_sample())
 *   answered       smb3_cmd_done / smb3_cmd_err
 *
 * At the answer the request is added to the histogram of its (connection,
 * session, tree, command) and, on error, to the per-status counters; then
 * it is forgotten. Nothing reaches userspace for it unless asked: mount-
 * phase requests stream as they happen (a hang needs them live), `events`
 * asks for every completed request (one record with its whole split), a
 * slow-op threshold for the slower ones.
 */
#include "core.bpf.h"

#define RSP_ERR	(1 << 16)	/* tid_err_cmd: an error status */
#define RSP_SIBLING	(1 << 17)	/* a later request of a failed compound */

/*
 * A raw tracepoint's (or fentry's) argument at byte offset off, one load
 * the compiler keeps as written: two branches reading different arguments
 * are otherwise merged into one load from a computed address, which the
 * verifier refuses for the context.
 */
#define CTX_LOAD(ctx, off) ({							\
	__u64 __v;								\
	asm volatile("%0 = *(u64 *)(%1 + " #off ")" : "=r"(__v) : "r"(ctx));	\
	__v;									\
})

/* Global, so a loop over a compound's requests stays cheap to verify. */
__noinline int emit_request(__u64 conn_id, __u64 sesid, __u64 mid, __u64 tid_cmd,
			    __u64 enter_ns)
{
	struct ct_event *e = ev_new(CT_EV_REQUEST, conn_id);

	if (!e)
		return 0;
	e->tid = tid_cmd >> 32;		/* five arguments at most: two share one */
	e->cmd = (__u16)tid_cmd;
	e->sesid = sesid;
	e->mid = mid;
	ev_latency(e, e->ts_ns - enter_ns);	/* queued -> on the wire */
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("raw_tp/smb3_cmd_enter")
int BPF_PROG(tp_smb3_cmd_enter, __u32 tid, __u64 sesid, __u16 cmd, __u64 mid)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns();
	struct ct_req_key k = { .sesid = sesid, .mid = mid };
	struct ct_tslot *ts;
	struct ct_req *r;
	__u64 conn_id = 0;
	__u8 stream = 0;
	int ri;

	if (target_tgid && (id >> 32) != target_tgid)
		return 0;
	if (!sesid)
		k.tid_task = (__u32)id;
	/* only while some thread mounts is there a phase to look up */
	if (tasks_in_phase) {
		struct ct_task *t = task_get();

		if (t && t->phase.kind) {
			conn_id = t->phase.conn_id;
			stream = 1;
		} else if (t && t->mount_ns) {
			stream = 1;
		}
	}
	ri = req_index(k.sesid, k.mid, k.tid_task, true);
	r = ri < 0 ? NULL : req_slot(ri);
	if (!r) {
		stat_inc(CT_STAT_REQS_FULL);
		return 0;
	}
	r->key = k;
	r->sent_ns = r->acked_ns = r->sk = 0;
	r->conn_id = conn_id;
	r->tid = tid;
	r->pid = id >> 32;
	r->cmd = cmd;
	r->stream = stream;
	r->ack_with_data = r->compound_left = 0;
	if (stream || emit_requests || slow_ns)
		bpf_get_current_comm(r->comm, sizeof(r->comm));
	r->enter_ns = now;

	ts = tslot_get((__u32)id, now, true);
	r->task = (__u32)id;
	r->path_gen = ts && ts->path_armed ? ts->path_gen : 0;
	if (ts && ts->credit_wait_ns) {
		/* it waited for credits first: its queue time starts there */
		if (ts->credit_wait_ns < now)
			r->enter_ns = ts->credit_wait_ns;
		ts->credit_wait_ns = 0;
	}
	if (!send_hooked || !ts) {
		if (send_hooked)
			stat_inc(CT_STAT_SEND_UNMATCHED);
		if (stream)
			emit_request(conn_id, sesid, mid, (__u64)tid << 32 | cmd, r->enter_ns);
		return 0;
	}
	/* Queue it for __smb_send_rqst, which knows the socket. */
	if (ts->n && now - ts->busy_ns > TSLOT_STALE_NS)
		ts->n = 0;	/* entered long ago and never sent */
	__u32 i = ts->n;

	if (i >= MAX_PENDING)
		return 0;
	ts->key[i] = k;
	ts->ri[i] = ri;
	ts->cmd[i] = cmd;
	ts->stream[i] = stream;
	ts->n = i + 1;
	ts->busy_ns = now;
	return 0;
}

/*
 * The time split of a completed request: 0 parts unknown, else CT_F_SENT
 * with the queue time, and CT_F_ACKED (network, server) or CT_F_JOINT
 * (network + server in network_ns) when its ACK was seen.
 */
struct split {
	__u64 queue_ns, network_ns, server_ns;
	__u32 flags;
};

static __always_inline void split_of(struct split *sp, __u64 enter, __u64 sent, __u64 acked,
				     bool ack_with_data, __u64 now)
{
	sp->flags = 0;
	if (!sent || sent < enter || now < sent)
		return;
	sp->queue_ns = sent - enter;
	sp->flags = CT_F_SENT;
	if (!acked || acked < sent || now < acked)
		return;
	if (ack_with_data) {
		sp->network_ns = now - sent;
		sp->flags |= CT_F_JOINT;
	} else {
		sp->network_ns = acked - sent;
		sp->server_ns = now - acked;
		sp->flags |= CT_F_ACKED;
	}
}

/*
 * Add a completed request, still in its reqs slot, answered at now, to the
 * histogram of its (connection, session, tree, command) and, on error, to
 * the per-status counters. Global: verified once, on its own, not inside
 * every path of on_response() (which three programs include); its five
 * arguments are scalars: tid_err_cmd as in on_response() (tid = the
 * request's tree), status_slot = NT status << 32 | the reqs slot.
 */
__noinline int account(__u64 sesid, __u64 now, __u64 tid_err_cmd, __u64 status_slot,
		       __u64 conn_id)
{
	struct ct_req *r = req_slot((__u32)status_slot);
	struct ct_hist_key hk = { .conn_id = conn_id, .sesid = sesid, .tid = tid_err_cmd >> 32,
				  .cmd = (__u16)tid_err_cmd };
	__u32 status = status_slot >> 32;
	bool err = tid_err_cmd & RSP_ERR;
	struct split split = {}, *sp = &split;
	struct ct_hist *h;
	__u64 latency;
	__u32 slot;

	if (!r || !r->enter_ns || now < r->enter_ns)
		return 0;
	latency = now - r->enter_ns;
	h = hist_get(&hk);
	if (!h) {
		stat_inc(CT_STAT_HIST_FULL);
		return 0;
	}
	/* after the lookup: its exits and the split's do not multiply */
	split_of(sp, r->enter_ns, r->sent_ns, r->acked_ns, r->ack_with_data, now);
	slot = ct_hist_slot(latency / 1000);
	/* per-CPU values: plain adds, no atomics, no shared cache lines */
	h->slots[slot]++;
	h->count++;
	h->total_ns += latency;
	if (latency > h->max_ns)
		h->max_ns = latency;
	if (sp->flags & CT_F_SENT) {
		h->sent_count++;
		h->queue_ns += sp->queue_ns;
	}
	if (sp->flags & CT_F_ACKED) {
		h->split_count++;
		h->network_ns += sp->network_ns;
		h->server_ns += sp->server_ns;
	} else if (sp->flags & CT_F_JOINT) {
		h->joint_count++;
		h->joint_ns += sp->network_ns;
	}
	if (!err)
		return 0;
	h->errors++;

	struct ct_err_key ek = { .h = hk, .status = status };
	__u64 *n = err_get(&ek);

	if (n)
		(*n)++;		/* per-CPU */
	else
		stat_inc(CT_STAT_ERRS_FULL);
	return 0;
}

/*
 * The socket's last ACK of new data (tcp_sock.delivered_mstamp: the clock
 * of bpf_ktime_get_ns, in microseconds, read by the caller) as request
 * r's ACK time.
 */
static __always_inline void ack_time(struct ct_req *r, __u64 mstamp, __u64 now)
{
	__u64 at = mstamp * 1000;

	if (at > now + 1000000)
		return;		/* not a time of this socket's: it was freed */
	if (at > now)
		at = now;	/* the two clock reads differ by their rounding */
	r->acked_ns = at > r->sent_ns ? at : r->sent_ns;
	r->ack_with_data = 0;
}

/* Has the server's TCP acknowledged request r's last byte? */
static __always_inline bool ack_passed(struct ct_req *r, struct tcp_sock *tp)
{
	return seq_covers(BPF_CORE_READ(tp, snd_una), r->end_seq);
}

/* A mount-phase request's ACK, streamed as tcp_probe would (at its time). */
static __always_inline void ack_stream(struct ct_req *r, __u64 conn_id)
{
	if (r->acked_ns && r->stream)
		emit_ack(conn_id, r->key.mid, r->key.sesid,
			 ACK_CMD_LATENCY(r->cmd, r->acked_ns - r->sent_ns), r->acked_ns);
}

/*
 * Segments tp received without data (segs_in - data_segs_in), read with
 * bpf_probe_read_kernel: where the pointer is not one the verifier lets a
 * program load through (a scalar kept from the send, a kretprobe's).
 */
static __always_inline __u32 pure_segs_in(struct tcp_sock *tp)
{
	if (bpf_core_field_offset(tp->data_segs_in) == bpf_core_field_offset(tp->segs_in) + 4) {
		/* neighbours on every kernel so far: one read for both */
		__u32 in[2] = {};

		bpf_probe_read_kernel(in, sizeof(in), &tp->segs_in);
		return in[0] - in[1];
	}
	return BPF_CORE_READ(tp, segs_in) - BPF_CORE_READ(tp, data_segs_in);
}

/*
 * No segment without data came since the send: the ACK rode on data, most
 * likely the answer itself, so it has no time of its own to read.
 */
static __always_inline void ack_joint(struct ct_req *r, __u64 now)
{
	r->ack_with_data = 1;
	r->acked_ns = now;
}

/*
 * ack_from_socket (latency, diagnose, the exporter, run): no hook runs per
 * TCP segment, so a request's ACK is read from its socket when its answer
 * comes. snd_una past its last byte: ACKed, at ack_time(); or, if no
 * segment without data came since the send, ack_joint(): network and
 * server are one figure, as with tcp_probe's with_data. Exact for one
 * request at a time on a connection; with several in flight a later ACK
 * can stand for an earlier request's (network time then includes some of
 * the server's).
 */
static __always_inline void ack_sample(struct ct_req *r, int ri, __u64 now)
{
	struct tcp_sock *tp;

	if (sk_kptr) {
		/* plain loads (a fault reads 0, as a failed probe read) */
		struct ct_req_tp *x = req_tp(ri);

		tp = x ? x->tp : NULL;
		if (!tp || !seq_covers(tp->snd_una, r->end_seq))
			return;		/* not ACKed yet */
		if (tp->segs_in - tp->data_segs_in == r->pure_in)
			ack_joint(r, now);
		else
			ack_time(r, tp->delivered_mstamp, now);
		return;
	}
	tp = (struct tcp_sock *)r->sk;
	if (!ack_passed(r, tp))
		return;
	if (pure_segs_in(tp) == r->pure_in)
		ack_joint(r, now);
	else
		ack_time(r, BPF_CORE_READ(tp, delivered_mstamp), now);
}

/*
 * ACKs of requests still waiting for their answer (diagnose, the
 * exporter, run: ACKs read from the socket, no per-segment hook): the
 * loader runs this (BPF_PROG_TEST_RUN) on its once-a-second tick with up
 * to 12 slots + 1 of the table of requests in flight, sent and not yet
 * ACKed. A request whose last byte the server's TCP acknowledged gets the
 * time of the socket's last ACK of new data (exact while it is the only
 * one in flight on its connection, else a bound) and, a mount-phase one,
 * its ack event, stamped with that time: the hang evidence tcp_probe
 * would have given.
 */
__noinline int ack_probe_one(__u64 slot)
{
	struct ct_req *r = slot ? req_slot((__u32)slot - 1) : NULL;
	struct tcp_sock *tp;
	__u64 now;

	if (!r || !r->enter_ns || !r->sk || !r->sent_ns || r->acked_ns)
		return 0;
	tp = (struct tcp_sock *)r->sk;
	now = bpf_ktime_get_ns();
	if (!ack_passed(r, tp))
		return 0;
	ack_time(r, BPF_CORE_READ(tp, delivered_mstamp), now);
	ack_stream(r, r->conn_id);
	return 0;
}

SEC("raw_tp")
int ack_probe(__u64 *ctx)
{
#pragma unroll
	for (int i = 0; i < CT_ACK_PROBE_MAX; i++)
		ack_probe_one(ctx[i]);
	return 0;
}

/*
 * Both response tracepoints end here. Global, so it is verified once;
 * a global function takes five scalars: tid_err_cmd = tid << 32 |
 * err << 16 | cmd, status_rc = status << 32 | (u32)rc.
 */
__noinline int on_response(__u64 sesid, __u64 mid, __u64 task, __u64 tid_err_cmd,
			   __u64 status_rc)
{
	__u32 tid = tid_err_cmd >> 32, status = status_rc >> 32;
	__u16 cmd = (__u16)tid_err_cmd;
	bool err = tid_err_cmd & RSP_ERR, sibling = tid_err_cmd & RSP_SIBLING;
	int rc = (int)(__u32)status_rc, left;
	struct ct_req_key k = { .sesid = sesid, .mid = mid };
	int ri = sesid ? req_index(sesid, mid, 0, false) : -1;
	struct ct_req *r;
	__u64 now = bpf_ktime_get_ns(), latency;
	struct ct_hist_key hk = { .sesid = sesid, .cmd = cmd };
	struct ct_event *e;
	struct split sp = {};
	bool stream;

	/*
	 * Requests without a session id (NEGOTIATE, the first SESSION_SETUP,
	 * whose reply carries the new id) are keyed by their task.
	 */
	if (ri < 0) {
		k.sesid = 0;
		k.tid_task = task ? (__u32)task : task_id();
		ri = req_index(0, mid, k.tid_task, false);
	}
	r = ri < 0 ? NULL : req_slot(ri);
	/*
	 * No request: cifs maps some responses twice (compounds); the first
	 * mapping already counted it. Or it was not ours (-p).
	 */
	if (!r)
		return 0;
	if (sibling) {
		/* its own command and tree: the tracepoint spoke of another */
		cmd = r->cmd;
		hk.cmd = cmd;
	}
	/*
	 * The request's tree, not the answer's: an async answer's header has
	 * no TreeId. TREE_CONNECT's answer names the new tree: keep it.
	 */
	if (sibling || cmd != CT_SMB2_TREE_CONNECT)
		tid = r->tid;
	left = err ? r->compound_left : 0;
	latency = now - r->enter_ns;
	stream = r->stream;
	hk.conn_id = r->conn_id;
	hk.tid = r->tid;
	if (!hk.conn_id && tasks_in_phase) {
		struct ct_phase *ph = phase_get(0);

		if (ph)
			hk.conn_id = ph->conn_id;
	}
	if (ack_from_socket && r->sk && !r->acked_ns) {
		ack_sample(r, ri, now);
		ack_stream(r, hk.conn_id);	/* before the answer */
	}
	if (aggregate)
		account(sesid, now, (__u64)hk.tid << 32 | (err ? RSP_ERR : 0) | hk.cmd,
			(__u64)status << 32 | (__u32)ri, hk.conn_id);

	if (stream || emit_requests || (slow_ns && latency >= slow_ns)) {
		e = ev_new_ctx(CT_EV_RESPONSE, hk.conn_id, false);
		if (e) {
			/* account() has its own: a global function takes no struct */
			split_of(&sp, r->enter_ns, r->sent_ns, r->acked_ns, r->ack_with_data, now);
			/* the task that issued it, even when cifsd got the reply */
			e->pid = r->pid;
			__builtin_memcpy(e->comm, r->comm, sizeof(e->comm));
			e->tid = tid;
			e->sesid = sesid;
			e->cmd = cmd;
			e->mid = mid;
			ev_status(e, status);
			if (err)
				ev_rc(e, rc);
			ev_latency(e, latency);
			e->req.queue_ns = sp.queue_ns;
			e->req.network_ns = sp.network_ns;
			e->req.server_ns = sp.server_ns;
			e->flags |= sp.flags;
			if (slow_ns && latency >= slow_ns)
				e->flags |= CT_F_SLOW;
			if (r->path_gen) {
				/* its thread waits for this answer: its path is still there */
				struct ct_tslot *ts = tslot_get(r->task, 0, false);
				struct ct_tpath *p = tpath_of(r->task);

				if (ts && p && ts->path_gen == r->path_gen)
					__builtin_memcpy(e->req.path, p->path, sizeof(e->req.path));
			}
			/* a phase's or a slow one's now; the rest in batches */
			if (stream || (e->flags & CT_F_SLOW))
				bpf_ringbuf_submit(e, 0);
			else
				ev_submit_batched(e);
		}
	}
	req_free(r);

	/* only the mount-phase commands can be a round of a phase */
	if (!sibling && (cmd == CT_SMB2_NEGOTIATE || cmd == CT_SMB2_SESSION_SETUP ||
			 cmd == CT_SMB2_TREE_CONNECT))
		phase_round(mid, sesid, (__u64)status << 32 | (__u32)rc, latency,
			    (__u64)tid << 32 | (__u64)err << 16 | cmd);
	return left;
}

/*
 * A compound (CREATE + QUERY_INFO + CLOSE for a stat, say) whose request
 * failed: cifs maps no response for the requests chained after it, which
 * the server failed with it. They end here, with the same status, so
 * they are counted and never left in flight.
 */
static __always_inline int respond(__u64 sesid, __u64 mid, __u64 tid_err_cmd, __u64 status_rc)
{
	int left = on_response(sesid, mid, 0, tid_err_cmd, status_rc);

	for (int k = 1; k < MAX_PENDING; k++) {
		if (k > left)
			break;
		on_response(sesid, mid + k, 0, RSP_ERR | RSP_SIBLING, status_rc);
	}
	return 0;
}

SEC("raw_tp/smb3_cmd_done")
int BPF_PROG(tp_smb3_cmd_done, __u32 tid, __u64 sesid, __u16 cmd, __u64 mid)
{
	on_response(sesid, mid, 0, (__u64)tid << 32 | cmd, 0);
	return 0;
}

SEC("raw_tp/smb3_cmd_err")
int BPF_PROG(tp_smb3_cmd_err, __u32 tid, __u64 sesid, __u16 cmd, __u64 mid,
	     __u32 status, int rc)
{
	return respond(sesid, mid, (__u64)tid << 32 | RSP_ERR | cmd,
		       (__u64)status << 32 | (__u32)rc);
}

/*
 * ECHO, the keepalive cifs sends on a connection idle for a minute, is
 * answered in its callback, never through map_smb2_to_linux_error: no
 * cmd_done. It has no session, so it is keyed by the thread that sent it
 * (mid->pid). It ends here: answered, or dropped unanswered (reconnect,
 * shutdown), so an idle mount never shows a request that waits forever.
 */
static __always_inline void echo_done(struct mid_q_entry *m)
{
	struct ct_req_key k = {};
	int state;

	if (!CIFS_BTF || !m)
		return;
	k.mid = BPF_CORE_READ(m, mid);
	k.tid_task = BPF_CORE_READ(m, pid);
	state = BPF_CORE_READ(m, mid_state);
	if (state == CT_MID_RESPONSE_RECEIVED || state == CT_MID_RESPONSE_READY) {
		on_response(0, k.mid, k.tid_task, CT_SMB2_ECHO, 0);
	} else {
		struct ct_req *r = req_find(&k);

		if (r)
			req_free(r);
	}
}

/* smb2_echo_callback(mid) until 6.x, (server, mid) since 7.x: echo_mid_arg */
SEC("fentry/smb2_echo_callback")
int fentry_smb2_echo_callback(__u64 *ctx)
{
	/* only the argument the kernel has is read: the other branch is dead */
	if (echo_mid_arg)
		echo_done((struct mid_q_entry *)CTX_LOAD(ctx, 8));
	else
		echo_done((struct mid_q_entry *)CTX_LOAD(ctx, 0));
	return 0;
}

SEC("kprobe/smb2_echo_callback")
int BPF_KPROBE(kprobe_smb2_echo_callback, void *a0, void *a1)
{
	echo_done(echo_mid_arg ? a1 : a0);
	return 0;
}

/* ------------------------------------------------- send: on the wire */

/*
 * 6.2 on: obj as the kernel's type btf_id, read-only. The object's one
 * kfunc, called from fentry/fexit programs only: the loader gives those
 * calls the kernel's id as they load (cast_resolve() in user/hooks.c).
 */
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id__k) __ksym __weak;

/*
 * A connection first seen here (made before we attached, or its socket
 * replaced by a reconnect): its socket becomes one of cifs's, its server
 * name is remembered, and it gets its ACK FIFO, whose index it returns
 * (-1: none free). Global, like fifo_push(): the send's loop is verified
 * without their paths.
 */
__noinline int sock_new(__u64 skey, __u64 conn_id, __u64 server)
{
	struct ct_smb_sock s = { .conn_id = conn_id };
	struct ct_ack_fifo *fifo;
	int fidx;

	if (!skey)
		return -1;
	remember_server((struct TCP_Server_Info *)server);
	smb_dport_add(bpf_ntohs(BPF_CORE_READ((struct sock *)skey, __sk_common.skc_dport)));
	bpf_map_update_elem(&socks, &skey, &s, BPF_NOEXIST);
	fidx = fifo_claim(skey);
	fifo = fidx < 0 ? NULL : fifo_at(fidx);
	if (fifo)
		fifo->conn_id = conn_id;
	return fidx;
}

/*
 * events (ACKs matched per segment by tcp.bpf.c): the n requests this task
 * just sent, in its slot's keys, go into socket skey's FIFO, each with the
 * sequence its ACK must reach (seqs: end_seq << 32 | snd_una after the send).
 */
__noinline int fifo_push(__u64 skey, __u32 n, __u64 seqs, __u64 now)
{
	struct ct_tslot *ts = tslot_get(task_id(), 0, false);
	__u32 end_seq = seqs >> 32, snd_una = (__u32)seqs;
	int fidx = skey ? fifo_index(skey) : -1;
	struct ct_ack_fifo *fifo = fidx < 0 ? NULL : fifo_at(fidx);

	if (!ts)
		return 0;
	if (!fifo) {
		if (skey)	/* no FIFO free: none of them will be matched */
			stat_add(CT_STAT_ACK_OVERRUN, n);
		return 0;
	}
	for (int i = 0; i < MAX_PENDING; i++) {
		if (i >= n)
			break;
		__u32 tl = fifo->tail;

		if (tl - fifo->head >= ACK_SLOTS) {
			fifo->head = tl - ACK_SLOTS + 1;
			stat_inc(CT_STAT_ACK_OVERRUN);
		}
		struct ct_ack_slot *s = &fifo->slot[tl & (ACK_SLOTS - 1)];

		s->key = ts->key[i];
		s->sent_ns = now;
		s->end_seq = end_seq;
		s->cmd = ts->cmd[i];
		s->stream = ts->stream[i];
		fifo->tail = tl + 1;
	}
	/*
	 * On loopback (and on fast links) the ACK can arrive during the send
	 * itself, processed from the socket backlog before we get here:
	 * tcp_probe has fired already, so snd_una (read after the send) may
	 * cover them.
	 */
	if (fifo_acked(fifo, snd_una))
		ack_scan(fidx, snd_una, 0, now);
	return 0;
}

/*
 * sk as a number (a map key, hashed): the thread's last socket's, kept
 * from its last send, when it is the same, else laundered through a map.
 */
static __always_inline __u64 sk_scalar(struct ct_tslot *ts, struct sock *sk)
{
	__u64 seen = ts->last_sk;

	if ((__u64)sk != seen)
		return ptr_scalar(sk, 0);
	/* equal, but only seen is a number: keep the compiler from using sk */
	asm volatile("" : "+r"(seen));
	return seen;
}

/* Is skey the socket this thread last sent on, still with its FIFO? */
static __always_inline bool sock_seen(struct ct_tslot *ts, __u64 skey)
{
	struct ct_ack_fifo *f;

	if (skey != ts->last_sk)
		return false;
	f = fifo_at(ts->last_fifo & (FIFOS - 1));
	return f && f->sk == skey;
}

/* The socket's sequences after a send, read with bpf_probe_read_kernel. */
static __always_inline void seqs_read(struct tcp_sock *tp, __u32 *end_seq, __u32 *snd_una,
				      __u32 *pure)
{
	*end_seq = BPF_CORE_READ(tp, write_seq);
	*snd_una = BPF_CORE_READ(tp, snd_una);
	if (ack_from_socket)
		*pure = pure_segs_in(tp);
}

/*
 * After a send: the requests the task entered are on the wire. btf: server
 * is a BTF pointer (fexit), read directly, no helper per field; else
 * (kretprobe) read with bpf_probe_read_kernel.
 */
static __always_inline void send_exit(struct TCP_Server_Info *server, long ret, const bool btf)
{
	struct ct_tslot *ts = tslot_get(task_id(), 0, false);
	struct tcp_sock *tp = NULL;
	struct sock *sk = NULL;
	__u64 conn_id = 0, skey = 0, now;
	__u32 end_seq = 0, snd_una = 0, pure = 0, n;

	if (!ts || !ts->n)
		return;
	n = ts->n;
	ts->path_armed = 0;	/* its operation's requests are on their way */
	if (!btf)
		server = ts->server;	/* kretprobe: from the kprobe at entry */
	ts->n = 0;
	ts->server = NULL;
	if (!server)
		return;
	if (ret < 0) {
		/* never sent: no response will come, and nothing to time */
		for (int i = 0; i < MAX_PENDING && i < n; i++) {
			struct ct_req *r = req_slot(ts->ri[i]);

			if (r && req_is(r, &ts->key[i]))
				req_free(r);
		}
		return;
	}
	now = bpf_ktime_get_ns();
	if (btf && CIFS_BTF) {
		struct socket *so = server->ssocket;

		if (bpf_core_field_exists(server->conn_id))
			conn_id = server->conn_id;
		else
			conn_id = server_conn_id((void *)ptr_scalar(server, 0));
		if (sk_vmlinux || sk_cast_id) {
			sk = so ? so->sk : NULL;
			if (sk && sk_vmlinux)
				tp = bpf_skc_to_tcp_sock(sk);
			else if (sk && sk->sk_protocol == IPPROTO_TCP)
				/*
				 * cifs's own copy of struct sock, which the
				 * helper refuses: cast to the kernel's struct
				 * tcp_sock (read-only, loads that fault read 0)
				 */
				tp = bpf_rdonly_cast(sk, sk_cast_id);
			if (tp) {
				skey = sk_scalar(ts, sk);
				end_seq = tp->write_seq;
				snd_una = tp->snd_una;
				if (ack_from_socket)
					pure = tp->segs_in - tp->data_segs_in;
			}
		} else if (so) {
			/* the same, before the cast (6.2): read like a kretprobe */
			skey = (__u64)BPF_CORE_READ(so, sk);
			if (skey)
				seqs_read((struct tcp_sock *)skey, &end_seq, &snd_una, &pure);
		}
	} else {
		conn_id = server_conn_id(server);
		if (CIFS_BTF) {
			sk = BPF_CORE_READ(server, ssocket, sk);
			skey = (__u64)sk;
		}
		if (sk)
			seqs_read((struct tcp_sock *)sk, &end_seq, &snd_una, &pure);
	}
	if (skey && !sock_seen(ts, skey)) {
		int fidx = fifo_index(skey);

		if (fidx < 0)
			fidx = sock_new(skey, conn_id, ptr_scalar(server, 0));
		ts->last_sk = fidx < 0 ? 0 : skey;
		ts->last_fifo = fidx;
	}

	for (int i = 0; i < MAX_PENDING; i++) {
		if (i >= n)
			break;
		/* its slot, from the enter; another request's by now if answered */
		int ri = ts->ri[i];
		struct ct_req *r = req_slot(ri);

		if (!r || !req_is(r, &ts->key[i])) {
			/* answered already (loopback): its ACK is not news */
			ts->stream[i] = 0;
			continue;
		}
		r->conn_id = conn_id;
		r->sent_ns = now;
		r->compound_left = n - 1 - i;	/* requests chained after it */
		if (r->stream)
			emit_request(conn_id, ts->key[i].sesid, ts->key[i].mid,
				     (__u64)r->tid << 32 | ts->cmd[i], r->enter_ns);
		if (ack_from_socket && skey) {
			/* ACKed during the send (loopback): as tcp_probe would */
			if (seq_covers(snd_una, end_seq)) {
				r->acked_ns = now;
				ack_stream(r, conn_id);
			}
			r->sk = skey;
			r->end_seq = end_seq;
			r->pure_in = pure;
			if (btf && sk_kptr && tp) {
				struct ct_req_tp *x = req_tp(ri);

				if (x)
					x->tp = tp;
			}
		}
	}
	/* else ack_sample() at the answer */
	if (!ack_from_socket)
		fifo_push(skey, n, (__u64)end_seq << 32 | snd_una, now);
}

SEC("fexit/__smb_send_rqst")
int BPF_PROG(fexit___smb_send_rqst, struct TCP_Server_Info *server, int num_rqst,
	     void *rqst, int ret)
{
	send_exit(server, ret, true);
	return 0;
}

SEC("kprobe/__smb_send_rqst")
int BPF_KPROBE(kprobe___smb_send_rqst, struct TCP_Server_Info *server)
{
	struct ct_tslot *ts = tslot_get(task_id(), 0, false);

	if (ts && ts->n)
		ts->server = server;
	return 0;
}

SEC("kretprobe/__smb_send_rqst")
int BPF_KRETPROBE(kretprobe___smb_send_rqst, int ret)
{
	send_exit(NULL, ret, false);
	return 0;
}

/* ------------------------------------------------- paths */

/*
 * The path an operation names, from the cifs tracepoint that opens it
 * (SMB2_open; the compound operations: stat, unlink, mkdir, rename...),
 * kept in the thread's slot for the requests it enters until they are
 * sent. Attached only when records leave the kernel (events, --slower).
 */
static __always_inline int path_enter(const char *full_path)
{
	struct ct_tslot *ts;
	struct ct_tpath *p;
	__u32 tid;
	__u8 gen;

	if (target_tgid && (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	tid = task_id();
	ts = tslot_get(tid, bpf_ktime_get_ns(), true);
	p = tpath_of(tid);
	if (!ts || !p)
		return 0;
	gen = ts->path_gen + 1;
	ts->path_gen = gen ? gen : 1;
	ts->path_armed = 1;
	if (bpf_probe_read_kernel_str(p->path, sizeof(p->path), full_path) < 0)
		p->path[0] = '\0';
	return 0;
}

/* (xid, tid, sesid, full_path, create_options, desired_access): 6.1 on */
#define PATH_TP(name)								\
SEC("raw_tp/smb3_" #name)							\
int BPF_PROG(tp_smb3_##name, unsigned int xid, __u32 tid, __u64 sesid,		\
	     const char *full_path)						\
{										\
	return path_enter(full_path);						\
}

PATH_TP(open_enter)
/* (xid, tid, sesid, full_path): the compound operations' class */
PATH_TP(query_info_compound_enter)
PATH_TP(delete_enter)
PATH_TP(unlink_enter)
PATH_TP(mkdir_enter)
PATH_TP(rmdir_enter)
PATH_TP(rename_enter)
PATH_TP(set_info_compound_enter)

/* ------------------------------------------------- credits */

/*
 * A request that finds fewer credits than it needs waits (the server
 * grants credits with its responses): a credit stall. Counted per
 * connection; the request's queue time starts here. btf: server is a BTF
 * pointer (fentry), read directly; else (kprobe) with a probe read, 91
 * instructions more on a hook that runs for every read and write.
 */
static __always_inline void credit_wait(struct TCP_Server_Info *server, int need, const bool btf)
{
	struct ct_tslot *ts;
	__u64 now;
	int credits;

	if (!CIFS_BTF || !server)
		return;
	credits = btf ? server->credits : BPF_CORE_READ(server, credits);
	if (credits >= need)
		return;
	/* a stall: rare, the rest may cost */
	server = (void *)ptr_scalar(server, 0);
	conn_stat_inc(server_conn_id(server), credit_stalls);
	now = bpf_ktime_get_ns();
	ts = tslot_get(task_id(), now, true);
	if (ts) {
		ts->credit_wait_ns = now;
		ts->busy_ns = now;
	} else {
		stat_inc(CT_STAT_SEND_UNMATCHED);
	}
}

/* wait_for_free_credits(server, num_credits, timeout, flags, instance) */
SEC("fentry/wait_for_free_credits")
int BPF_PROG(fentry_wait_for_free_credits, struct TCP_Server_Info *server, int num)
{
	credit_wait(server, num, true);
	return 0;
}

SEC("kprobe/wait_for_free_credits")
int BPF_KPROBE(kprobe_wait_for_free_credits, struct TCP_Server_Info *server, int num)
{
	credit_wait(server, num, false);
	return 0;
}

/* smb2_wait_mtu_credits(server, size, num, credits): reads and writes */
SEC("fentry/smb2_wait_mtu_credits")
int BPF_PROG(fentry_smb2_wait_mtu_credits, struct TCP_Server_Info *server)
{
	credit_wait(server, 1, true);
	return 0;
}

SEC("kprobe/smb2_wait_mtu_credits")
int BPF_KPROBE(kprobe_smb2_wait_mtu_credits, struct TCP_Server_Info *server)
{
	credit_wait(server, 1, false);
	return 0;
}

SEC("raw_tp/smb3_credit_timeout")
int BPF_PROG(tp_smb3_credit_timeout, __u64 currmid, __u64 conn_id)
{
	if (reconnect_has_conn_id)	/* the 5.15 prototype change, as reconnect */
		conn_stat_inc(conn_id, credit_timeouts);
	return 0;
}

/* ------------------------------------------------- bytes per tree */


/*
 * smb3_read_done / smb3_write_done(xid, fid, tid, sesid, offset, len);
 * 6.12 prepends two netfs ids (rw_arg_shift = 2).
 */
static __always_inline bool tree_key_eq(const struct ct_tree_key *a, const struct ct_tree_key *b)
{
	return a->sesid == b->sesid && a->tid == b->tid;
}

/* This CPU's byte counters of tree k. */
static __always_inline struct ct_io *io_get(const struct ct_tree_key *k)
{
	return TABLE_GET(ios, fib_hash(k->sesid ^ ((__u64)k->tid << 20)), CT_IO_ENTRIES - 1,
			 CT_IO_PROBES, k, tree_key_eq, io_seen);
}

static __always_inline int count_io(__u64 *ctx, bool write)
{
	struct ct_tree_key k = {};
	struct ct_io *v;
	__u64 len;

	/*
	 * The argument positions depend on the kernel, known at load: the
	 * verifier follows the one branch taken (and allows the context only
	 * as far as that one reads), no copy of the arguments.
	 */
	if (rw_arg_shift) {
		k.tid = CTX_LOAD(ctx, 32);
		k.sesid = CTX_LOAD(ctx, 40);
		len = (__u32)CTX_LOAD(ctx, 56);
	} else {
		k.tid = CTX_LOAD(ctx, 16);
		k.sesid = CTX_LOAD(ctx, 24);
		len = (__u32)CTX_LOAD(ctx, 40);
	}
	v = io_get(&k);
	if (!v) {
		stat_inc(CT_STAT_IO_FULL);
		return 0;
	}
	/* per-CPU values: plain adds */
	if (write)
		v->write_bytes += len;
	else
		v->read_bytes += len;
	return 0;
}

SEC("raw_tp/smb3_read_done")
int tp_smb3_read_done(__u64 *ctx)
{
	return count_io(ctx, false);
}

SEC("raw_tp/smb3_write_done")
int tp_smb3_write_done(__u64 *ctx)
{
	return count_io(ctx, true);
}
