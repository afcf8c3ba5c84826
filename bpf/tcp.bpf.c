// SPDX-License-Identifier: GPL-2.0
/*
 * cifstrace, kernel side: the TCP connection under cifs. A socket is
 * cifs's from the SYN sent inside generic_ip_connect (or, for connections
 * made before cifstrace started, from its first request); everything here
 * is filtered to those sockets, so other traffic never reaches userspace:
 * on tcp_probe (every segment received; not attached by latency, which
 * reads ACKs from the socket at the answer) it costs a test of its port,
 * on the rarer state changes, retransmits and resets one hash lookup.
 *
 * Hooks: raw tracepoints sock:inet_sock_set_state (SYN, connect result,
 * FIN), tcp:tcp_probe (ACKs of requests), tcp:tcp_retransmit_skb,
 * tcp:tcp_send_reset, tcp:tcp_receive_reset. The same two tracepoints
 * also see sockets to a KDC: those go to kdc.bpf.c.
 */
#include "core.bpf.h"

/* ------------------------------------------------------------------ TCP */

static __always_inline bool is_smb_port(__u16 port)
{
	for (int i = 0; i < 4; i++)
		if (smb_ports[i] && smb_ports[i] == port)
			return true;
	return false;
}

static __always_inline struct ct_smb_sock *smb_sock_of(struct sock *sk, __u64 *key)
{
	*key = (__u64)sk;
	return sk ? bpf_map_lookup_elem(&socks, key) : NULL;
}

__noinline int fifo_release(__u64 sk)
{
	struct ct_ack_fifo *f = fifo_find(sk);

	if (f)
		f->sk = 0;
	return 0;
}

/* A connect fact about cifs socket skey. Global: verified once, not per use. */
__noinline int emit_connect(__u64 skey, __u32 result, int err)
{
	struct ct_smb_sock *s = bpf_map_lookup_elem(&socks, &skey);
	struct sock *sk = (struct sock *)skey;
	struct ct_event *e;

	if (!s)
		return 0;
	e = ev_new_softirq(CT_EV_CONNECT, s->conn_id);
	if (!e)
		return 0;
	e->pid = s->pid;
	__builtin_memcpy(e->comm, s->comm, sizeof(e->comm));
	ev_sock_addrs(e, sk);
	if (result != CT_CONNECT_STARTED)
		ev_duration(e, e->ts_ns - s->syn_ns);
	e->connect.result = result;
	if (err)
		ev_rc(e, -err);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(tp_inet_sock_set_state, struct sock *sk, int oldstate, int newstate)
{
	struct ct_smb_sock *s;
	__u64 key;

	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;

	if (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT) {
		/* Runs in the connecting task, inside generic_ip_connect. */
		struct ct_phase *ph = phase_get(PH_CONNECT);
		__u16 dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		struct ct_smb_sock fresh = {
			.syn_ns = bpf_ktime_get_ns(),
			.pid = bpf_get_current_pid_tgid() >> 32,
		};

		if (ph) {
			ph->syn_seen = 1;
			fresh.conn_id = ph->conn_id;
		} else if (kdc_port && dport == kdc_port) {
			return kdc_open((__u64)sk, IPPROTO_TCP, 0);
		} else if (!match_ports || !is_smb_port(dport)) {
			return 0;
		}
		bpf_get_current_comm(fresh.comm, sizeof(fresh.comm));
		key = (__u64)sk;
		bpf_map_update_elem(&socks, &key, &fresh, BPF_ANY);
		emit_connect(key, CT_CONNECT_STARTED, 0);
		return 0;
	}

	s = smb_sock_of(sk, &key);
	if (!s) {
		if (kdc_port && bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport)) == kdc_port)
			kdc_state((__u64)sk, oldstate, newstate);
		return 0;
	}

	if (oldstate == TCP_SYN_SENT && newstate == TCP_ESTABLISHED) {
		emit_connect(key, CT_CONNECT_OK, 0);
	} else if (oldstate == TCP_SYN_SENT && newstate == TCP_CLOSE) {
		int err = BPF_CORE_READ(sk, sk_err);

		emit_connect(key, err == ECONNREFUSED ? CT_CONNECT_REFUSED :
				  err ? CT_CONNECT_ERROR : CT_CONNECT_TIMEOUT, err);
	} else if (oldstate == TCP_ESTABLISHED && newstate == TCP_CLOSE_WAIT) {
		struct ct_event *e = ev_new_softirq(CT_EV_TCP_FIN, s->conn_id);

		if (e) {
			ev_sock_addrs(e, sk);
			e->tcp.state = oldstate;
			bpf_ringbuf_submit(e, 0);
		}
	}
	if (newstate == TCP_CLOSE) {
		bpf_map_delete_elem(&socks, &key);
		fifo_release(key);
	}
	return 0;
}

static __always_inline void emit_tcp(__u32 type, struct sock *sk, __u32 flags)
{
	struct ct_smb_sock *s;
	struct ct_event *e;
	__u64 key;

	s = smb_sock_of(sk, &key);
	if (!s)
		return;
	if (type == CT_EV_TCP_RETRANSMIT)
		conn_stat_inc(s->conn_id, retransmits);
	else
		conn_stat_inc(s->conn_id, resets);
	e = ev_new_softirq(type, s->conn_id);
	if (!e)
		return;
	ev_sock_addrs(e, sk);
	e->tcp.state = BPF_CORE_READ(sk, __sk_common.skc_state);
	e->flags |= flags;
	bpf_ringbuf_submit(e, 0);
}

SEC("raw_tp/tcp_retransmit_skb")
int BPF_PROG(tp_tcp_retransmit_skb, struct sock *sk)
{
	emit_tcp(CT_EV_TCP_RETRANSMIT, sk, 0);
	return 0;
}

SEC("raw_tp/tcp_send_reset")
int BPF_PROG(tp_tcp_send_reset, struct sock *sk)
{
	emit_tcp(CT_EV_TCP_RESET, sk, CT_F_RST_SENT);
	return 0;
}

SEC("raw_tp/tcp_receive_reset")
int BPF_PROG(tp_tcp_receive_reset, struct sock *sk)
{
	emit_tcp(CT_EV_TCP_RESET, sk, 0);
	return 0;
}


/*
 * An ACK of a mount-phase request, streamed: hang evidence needs it live.
 * cmd_latency: cmd << 48 | send -> ACK in ns (under 78 hours); at: when
 * the ACK came.
 */
__noinline int emit_ack(__u64 conn_id, __u64 mid, __u64 sesid, __u64 cmd_latency, __u64 at)
{
	struct ct_event *e = ev_new_softirq(CT_EV_ACK, conn_id);

	if (!e)
		return 0;
	e->ts_ns = at;
	e->mid = mid;
	e->sesid = sesid;
	e->cmd = cmd_latency >> 48;
	ev_latency(e, cmd_latency & ((1ull << 48) - 1));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * One round of ack_scan: pop the FIFO's head if ack covers it; 0 when
 * there is nothing more to pop. Global: the scan's loop verifies its body
 * once, not once per round and path (12,000 instructions to load, inlined).
 */
__noinline int ack_pop(__u32 fifo_idx, __u32 ack, __u32 with_data, __u64 now)
{
	struct ct_ack_fifo *fifo = fifo_at(fifo_idx);
	struct ct_ack_slot *slot;
	struct ct_req *r;
	__u32 h;
	int ri;

	if (!fifo)
		return 0;
	h = fifo->head;
	if (h == fifo->tail)
		return 0;
	slot = &fifo->slot[h & (ACK_SLOTS - 1)];
	if (!seq_covers(ack, slot->end_seq))
		return 0;
	fifo->head = h + 1;
	ri = req_index_of(slot->key.sesid, slot->key.mid, slot->key.tid_task);
	r = ri < 0 ? NULL : req_slot(ri);
	if (r && !r->acked_ns) {
		r->acked_ns = now;
		r->ack_with_data = with_data;
	}
	if (slot->stream)
		emit_ack(fifo->conn_id, slot->key.mid, slot->key.sesid,
			 ACK_CMD_LATENCY(slot->cmd, now - slot->sent_ns), now);
	return 1;
}

/*
 * Pop every request on FIFO fifo_idx whose last byte the peer has
 * acknowledged (ack), oldest first, and stamp its ACK time; with_data:
 * the ACK came on a segment carrying data, most likely the answer itself
 * (the server's TCP delayed its ACK), so network and server time cannot
 * be told apart. now: the time of the ACK, 0 to read the clock. Usually
 * only the head is compared. Global: verified once.
 */
__noinline int ack_scan(__u32 fifo_idx, __u32 ack, __u32 with_data, __u64 now)
{
	if (!now)
		now = bpf_ktime_get_ns();
	for (int i = 0; i < ACK_SLOTS; i++)
		if (!ack_pop(fifo_idx, ack, with_data, now))
			break;
	return 0;
}

/*
 * tcp_probe fires for every segment received in ESTABLISHED, on every
 * socket. As a BTF tracepoint (the default) it reads the socket and the
 * segment's parsed TCP fields (TCP_SKB_CB, in skb->cb) directly: a segment
 * from a port no cifs socket talks to costs a port test and no lookup, a
 * cifs segment no helper call but the clock. As a raw tracepoint (kernels
 * that refuse tracing programs) it reads the TCP header with a helper.
 */
static __always_inline int on_segment(__u64 key, __u32 ack, bool is_ack, bool with_data)
{
	int i = fifo_index(key);
	struct ct_ack_fifo *fifo = i < 0 ? NULL : fifo_at(i);

	if (!fifo || !is_ack || !fifo_acked(fifo, ack))
		return 0;
	return ack_scan(i, ack, with_data, 0);
}

/* A KDC's segment: its first data is the reply (kdc.bpf.c). */
static __always_inline int kdc_segment(__u64 sk, __u64 skb)
{
	struct tcphdr th;

	if (bpf_probe_read_kernel(&th, sizeof(th), BPF_CORE_READ((struct sk_buff *)skb, data)))
		return 0;
	return kdc_reply(sk, skb, th.doff * 4, IPPROTO_TCP);
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(tpbtf_tcp_probe, struct sock *sk, struct sk_buff *skb)
{
	__u8 kind = smb_dport_kind(bpf_ntohs(sk->__sk_common.skc_dport));

	if (!kind)
		return 0;
	if (kind == CT_PORT_KDC)
		return kdc_segment(ctx_arg(ctx, 0), ctx_arg(ctx, 1));

	struct tcp_skb_cb *cb = (struct tcp_skb_cb *)skb->cb;
	__u8 flags = cb->tcp_flags;
	/* data beyond a FIN's sequence number: most likely the answer */
	__u32 data = cb->end_seq - cb->seq - !!(flags & TCPHDR_FIN);

	return on_segment(ptr_scalar(sk, 1), cb->ack_seq, flags & TCPHDR_ACK, data > 0);
}

SEC("raw_tp/tcp_probe")
int BPF_PROG(tp_tcp_probe, struct sock *sk, struct sk_buff *skb)
{
	if (kdc_port && bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport)) == kdc_port)
		return kdc_segment((__u64)sk, (__u64)skb);
	struct tcphdr th;

	if (bpf_probe_read_kernel(&th, sizeof(th), BPF_CORE_READ(skb, data)))
		return 0;
	return on_segment((__u64)sk, bpf_ntohl(th.ack_seq), th.ack,
			  BPF_CORE_READ(skb, len) > th.doff * 4);
}
