// SPDX-License-Identifier: GPL-2.0
/*
 * cifstrace: kernel side. States facts about the SMB client's connections
 * and mount phases; userspace interprets them.
 *
 * Hooks (the loader's table in user/hooks.c decides which are attached):
 *   cifs tracepoints   smb3_cmd_enter/done/err, smb3_tcon, smb3_reconnect
 *   cifs functions     cifs_smb3_do_mount, generic_ip_connect, SMB2_negotiate,
 *                      SMB2_sess_setup,
 *                      SMB2_tcon, cifs_get_spnego_key, __smb_send_rqst
 *                      (fentry/fexit, or kprobe/kretprobe where no BTF)
 *   TCP tracepoints    inet_sock_set_state, tcp_probe, tcp_retransmit_skb,
 *                      tcp_send_reset, tcp_receive_reset
 *
 * Everything TCP is filtered in the kernel to sockets that cifs opened (or,
 * without function hooks, to the SMB ports), so other traffic costs one
 * hash lookup and never reaches userspace.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "cifs_types.h"
#include "cifstrace.h"

#define AF_INET		2
#define AF_INET6	10
#define ECONNREFUSED	111

/* Set by the loader before load. */
const volatile bool match_ports = false;	/* no generic_ip_connect hook */
const volatile __u16 smb_ports[4] = { 445, 139, 0, 0 };
const volatile bool send_hooked = false;	/* __smb_send_rqst is hooked */
const volatile bool reconnect_has_conn_id = true; /* 5.15+ TP_PROTO */

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

/* Records the ring buffer had no room for: reported, never hidden. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* What the client knows about each server connection, by conn_id. */
struct ct_conn_info {
	char host[CT_HOST_LEN];
	struct ct_addr daddr;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct ct_conn_info);
} conns SEC(".maps");

/*
 * The mount phase a task is in, from function entry to exit: it carries
 * the pointers (server, ses, tcon) that the wire tracepoints lack, and the
 * status of the phase's last round.
 */
enum phase_kind { PH_CONNECT = 1, PH_NEGOTIATE, PH_SESSION, PH_TCON };

struct ct_phase {
	__u64 start_ns;
	__u64 conn_id;
	struct TCP_Server_Info *server;
	struct cifs_ses *ses;
	struct cifs_tcon *tcon;
	__u64 latency_ns;	/* of the last round */
	__u64 mid;
	__u32 kind;
	__u32 status;
	__u32 tid;
	__u16 rounds;
	__u8 answered;		/* a response was seen */
	__u8 syn_seen;		/* PH_CONNECT: a SYN left */
	__u8 upcalled;		/* PH_SESSION: cifs_get_spnego_key was called */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);		/* thread id */
	__type(value, struct ct_phase);
} phases SEC(".maps");

/* Mount start, by thread: the mount encloses every phase. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} mounts SEC(".maps");

/* Kerberos upcall start, by thread (nested inside PH_SESSION). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} upcalls SEC(".maps");

/* Requests between smb3_cmd_enter and the response. */
struct ct_req_key {
	__u64 sesid;
	__u64 mid;
	__u32 tid_task;		/* thread id while sesid == 0 (NEGOTIATE, first round) */
	__u32 pad;
};

struct ct_req {
	__u64 enter_ns;
	__u64 conn_id;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct ct_req_key);
	__type(value, struct ct_req);
} reqs SEC(".maps");

/* Requests a task has entered but not yet sent (a compound has several). */
#define MAX_PENDING 5

struct ct_pending {
	__u64 mid[MAX_PENDING];
	__u64 sesid[MAX_PENDING];
	__u64 enter_ns[MAX_PENDING];
	__u32 tid[MAX_PENDING];
	__u16 cmd[MAX_PENDING];
	__u32 n;
	struct TCP_Server_Info *server;	/* set while in __smb_send_rqst */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct ct_pending);
} pendings SEC(".maps");

/* SMB sockets: the sockets cifs connected, by struct sock address. */
struct ct_smb_sock {
	__u64 conn_id;
	__u64 syn_ns;
	__u32 pid;			/* the task that connected */
	char comm[CT_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct ct_smb_sock);
} socks SEC(".maps");

/*
 * Requests sent on a socket and not yet acknowledged by the peer's TCP,
 * as the sequence number just past their last byte. A small ring: a
 * request that is overwritten before its ACK simply reports no ACK.
 * Not locked (tracing programs cannot take bpf_spin_lock): a send racing
 * an ACK on another CPU can at worst lose one ACK record.
 */
#define ACK_SLOTS 16

struct ct_ack_slot {
	__u64 mid;
	__u64 sesid;
	__u64 sent_ns;
	__u32 end_seq;
	__u16 cmd;
	__u16 used;
};

struct ct_ack_ring {
	__u32 next;
	__u32 pad;
	struct ct_ack_slot slot[ACK_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct ct_ack_ring);
} inflight SEC(".maps");

/* ---------------------------------------------------------------- helpers */

static __always_inline __u32 task_id(void)
{
	return (__u32)bpf_get_current_pid_tgid();
}

/*
 * Kernels without module BTF (5.10) cannot resolve CO-RE reads of cifs
 * types: every such read sits behind this test, which libbpf turns into a
 * constant, so the verifier never sees the unresolved code there. Those
 * kernels still get every tracepoint fact; names and flags stay empty.
 */
#define CIFS_BTF bpf_core_type_exists(struct TCP_Server_Info)

static __always_inline __u64 server_conn_id(struct TCP_Server_Info *server)
{
	if (!server)
		return 0;
	if (!CIFS_BTF)
		return (__u64)server;
	if (bpf_core_field_exists(server->conn_id))
		return BPF_CORE_READ(server, conn_id);
	return (__u64)server;
}

static __always_inline void addr_from_sockaddr(struct ct_addr *a, const void *ss)
{
	struct sockaddr_in6 sa = {};

	bpf_probe_read_kernel(&sa, sizeof(sa), ss);
	a->family = sa.sin6_family;
	a->port = bpf_ntohs(sa.sin6_port);
	if (sa.sin6_family == AF_INET)
		__builtin_memcpy(a->addr, &((struct sockaddr_in *)&sa)->sin_addr, 4);
	else if (sa.sin6_family == AF_INET6)
		__builtin_memcpy(a->addr, &sa.sin6_addr, 16);
}

/* Zeroed values to create map entries from: too big for the BPF stack. */
static const struct ct_conn_info zero_conn;
static const struct ct_pending zero_pending;
static const struct ct_ack_ring zero_ring;

/* Remember a server's name and address the first time it is seen. */
static __always_inline __u64 remember_server(struct TCP_Server_Info *server)
{
	__u64 id = server_conn_id(server);
	struct ct_conn_info *ci;

	if (!id || !CIFS_BTF || bpf_map_lookup_elem(&conns, &id))
		return id;
	bpf_map_update_elem(&conns, &id, &zero_conn, BPF_NOEXIST);
	ci = bpf_map_lookup_elem(&conns, &id);
	if (ci) {
		bpf_probe_read_kernel_str(ci->host, sizeof(ci->host),
					  BPF_CORE_READ(server, hostname));
		addr_from_sockaddr(&ci->daddr, &server->dstaddr);
	}
	return id;
}

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&lost, &zero);

	if (n)
		*n += 1;
}

/*
 * A zeroed record with the common fields filled in. Events raised by a
 * packet (softirq) belong to no task: they get pid 0 and no comm rather
 * than whichever task the CPU happened to be running.
 */
static __always_inline struct ct_event *ev_new_ctx(__u32 type, __u64 conn_id, bool task)
{
	struct ct_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	struct ct_conn_info *ci;

	if (!e) {
		count_lost();
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->type = type;
	if (task) {
		e->pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	}
	e->conn_id = conn_id;
	if (conn_id && (ci = bpf_map_lookup_elem(&conns, &conn_id))) {
		__builtin_memcpy(e->server, ci->host, sizeof(e->server));
		e->daddr = ci->daddr;
		e->flags |= CT_F_ADDR;
	}
	return e;
}

#define ev_new(type, conn_id)		ev_new_ctx(type, conn_id, true)
#define ev_new_softirq(type, conn_id)	ev_new_ctx(type, conn_id, false)

static __always_inline void ev_status(struct ct_event *e, __u32 status)
{
	e->status = status;
	e->flags |= CT_F_STATUS;
}

static __always_inline void ev_rc(struct ct_event *e, long rc)
{
	e->rc = rc;
	e->flags |= CT_F_RC;
}

static __always_inline void ev_latency(struct ct_event *e, __u64 ns)
{
	e->latency_ns = ns;
	e->flags |= CT_F_LATENCY;
}

static __always_inline void ev_duration(struct ct_event *e, __u64 ns)
{
	e->duration_ns = ns;
	e->flags |= CT_F_DURATION;
}

/*
 * sec= as mounted. With no sec= (Unspecified) the kernel picks per session
 * (smb2_select_sectype): NTLMSSP when the server offers it, else Kerberos,
 * and only Kerberos calls cifs_get_spnego_key; the phase records that call.
 */
static __always_inline __u32 mech_of(struct cifs_ses *ses, bool upcalled)
{
	int t;

	if (!CIFS_BTF)
		return CT_MECH_UNKNOWN;
	t = BPF_CORE_READ(ses, sectype);

	if (t == 0)
		return upcalled ? CT_MECH_KERBEROS : CT_MECH_NTLMSSP;
	if (bpf_core_enum_value_exists(enum securityEnum, Kerberos) &&
	    t == bpf_core_enum_value(enum securityEnum, Kerberos))
		return CT_MECH_KERBEROS;
	if (bpf_core_enum_value_exists(enum securityEnum, RawNTLMSSP) &&
	    t == bpf_core_enum_value(enum securityEnum, RawNTLMSSP))
		return CT_MECH_NTLMSSP;
	if (bpf_core_enum_value_exists(enum securityEnum, NTLMv2) &&
	    t == bpf_core_enum_value(enum securityEnum, NTLMv2))
		return CT_MECH_NTLMV2;
	return CT_MECH_OTHER;
}

/* The user and domain the client sends: names only, never secrets. */
static __always_inline void ev_session(struct ct_event *e, struct ct_phase *ph)
{
	struct cifs_ses *ses = ph->ses;

	if (!ses || !CIFS_BTF)
		return;
	e->session.mech = mech_of(ses, ph->upcalled);
	bpf_probe_read_kernel_str(e->session.user, sizeof(e->session.user),
				  BPF_CORE_READ(ses, user_name));
	bpf_probe_read_kernel_str(e->session.domain, sizeof(e->session.domain),
				  BPF_CORE_READ(ses, domainName));
}

static __always_inline void ev_sock_addrs(struct ct_event *e, struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	e->saddr.family = e->daddr.family = family;
	e->saddr.port = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->daddr.port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	/* explicit sizes: the destination is a byte array */
	if (family == AF_INET) {
		bpf_core_read(e->saddr.addr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(e->daddr.addr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(e->saddr.addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->daddr.addr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	e->flags |= CT_F_ADDR;
}

static __always_inline void phase_begin(__u32 kind, struct TCP_Server_Info *server,
					struct cifs_ses *ses, struct cifs_tcon *tcon)
{
	__u32 tid = task_id();
	struct ct_phase ph = {
		.start_ns = bpf_ktime_get_ns(),
		.kind = kind,
		.server = server,
		.ses = ses,
		.tcon = tcon,
	};

	ph.conn_id = remember_server(server);
	bpf_map_update_elem(&phases, &tid, &ph, BPF_ANY);
}

/* The current task's phase, if it is of this kind. */
static __always_inline struct ct_phase *phase_get(__u32 kind)
{
	__u32 tid = task_id();
	struct ct_phase *ph = bpf_map_lookup_elem(&phases, &tid);

	return ph && ph->kind == kind ? ph : NULL;
}

static __always_inline void phase_end(__u32 kind)
{
	__u32 tid = task_id();

	if (phase_get(kind))
		bpf_map_delete_elem(&phases, &tid);
}

/* The phase status fields shared by negotiate, session and tcon records. */
static __always_inline void ev_phase(struct ct_event *e, struct ct_phase *ph, long rc)
{
	ev_rc(e, rc);
	ev_duration(e, bpf_ktime_get_ns() - ph->start_ns);
	e->round = ph->rounds;
	if (ph->answered) {
		ev_status(e, ph->status);
		ev_latency(e, ph->latency_ns);
		e->mid = ph->mid;
	}
}

/* ------------------------------------------------- wire: requests, responses */

static __always_inline struct ct_req_key make_req_key(__u64 sesid, __u64 mid)
{
	struct ct_req_key k = { .sesid = sesid, .mid = mid };

	if (!sesid)
		k.tid_task = task_id();
	return k;
}

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
	struct ct_req_key k = make_req_key(sesid, mid);
	__u64 now = bpf_ktime_get_ns();
	struct ct_phase *ph;
	struct ct_req r = { .enter_ns = now };
	__u32 task = task_id();

	ph = bpf_map_lookup_elem(&phases, &task);
	if (ph)
		r.conn_id = ph->conn_id;
	bpf_map_update_elem(&reqs, &k, &r, BPF_ANY);

	if (!send_hooked) {
		emit_request(r.conn_id, sesid, mid, (__u64)tid << 32 | cmd, now);
		return 0;
	}
	/* Queue it for __smb_send_rqst, which knows the socket. */
	struct ct_pending *p = bpf_map_lookup_elem(&pendings, &task);

	if (!p) {
		bpf_map_update_elem(&pendings, &task, &zero_pending, BPF_ANY);
		p = bpf_map_lookup_elem(&pendings, &task);
		if (!p)
			return 0;
	}
	__u32 i = p->n;

	if (i >= MAX_PENDING)
		return 0;
	p->mid[i] = mid;
	p->sesid[i] = sesid;
	p->enter_ns[i] = now;
	p->tid[i] = tid;
	p->cmd[i] = cmd;
	p->n = i + 1;
	return 0;
}

static __always_inline int on_response(__u32 tid, __u64 sesid, __u16 cmd, __u64 mid,
				       bool err, __u32 status, int rc)
{
	struct ct_req_key k = make_req_key(sesid, mid);
	struct ct_req *r = bpf_map_lookup_elem(&reqs, &k);
	__u64 now = bpf_ktime_get_ns(), latency, conn_id;
	struct ct_event *e;
	struct ct_phase *ph;
	__u32 task = task_id();

	/* The first SESSION_SETUP request carries no session id; its reply does. */
	if (!r && sesid) {
		k = make_req_key(0, mid);
		r = bpf_map_lookup_elem(&reqs, &k);
	}
	/*
	 * No request: cifs maps some responses twice (compounds); the first
	 * mapping already reported it.
	 */
	if (!r)
		return 0;
	latency = now - r->enter_ns;
	conn_id = r->conn_id;
	bpf_map_delete_elem(&reqs, &k);
	ph = bpf_map_lookup_elem(&phases, &task);
	if (ph && !conn_id)
		conn_id = ph->conn_id;

	e = ev_new(CT_EV_RESPONSE, conn_id);
	if (e) {
		e->tid = tid;
		e->sesid = sesid;
		e->cmd = cmd;
		e->mid = mid;
		ev_status(e, status);
		if (err)
			ev_rc(e, rc);
		ev_latency(e, latency);
		bpf_ringbuf_submit(e, 0);
	}

	/* A response to the command of the task's current phase: one round. */
	if (!ph)
		return 0;
	if (!((ph->kind == PH_NEGOTIATE && cmd == CT_SMB2_NEGOTIATE) ||
	      (ph->kind == PH_SESSION && cmd == CT_SMB2_SESSION_SETUP) ||
	      (ph->kind == PH_TCON && cmd == CT_SMB2_TREE_CONNECT)))
		return 0;
	ph->answered = 1;
	ph->status = status;
	ph->latency_ns = latency;
	ph->mid = mid;
	ph->tid = tid;
	ph->rounds++;
	if (ph->kind != PH_SESSION)
		return 0;

	e = ev_new(CT_EV_SESSION_SETUP, conn_id);
	if (!e)
		return 0;
	e->sesid = sesid;
	e->mid = mid;
	e->cmd = cmd;
	e->round = ph->rounds;
	ev_status(e, status);
	if (err)
		ev_rc(e, rc);
	ev_latency(e, latency);
	ev_session(e, ph);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("raw_tp/smb3_cmd_done")
int BPF_PROG(tp_smb3_cmd_done, __u32 tid, __u64 sesid, __u16 cmd, __u64 mid)
{
	return on_response(tid, sesid, cmd, mid, false, 0, 0);
}

SEC("raw_tp/smb3_cmd_err")
int BPF_PROG(tp_smb3_cmd_err, __u32 tid, __u64 sesid, __u16 cmd, __u64 mid,
	     __u32 status, int rc)
{
	return on_response(tid, sesid, cmd, mid, true, status, rc);
}

/* ------------------------------------------------- send: sequence for ACKs */

__noinline int ack_scan(__u64 skey, __u32 ack, __u64 conn_id);

static __always_inline void send_enter(struct TCP_Server_Info *server)
{
	__u32 task = task_id();
	struct ct_pending *p = bpf_map_lookup_elem(&pendings, &task);

	if (p)
		p->server = server;
}

static __always_inline void send_exit(long ret)
{
	__u32 task = task_id();
	struct ct_pending *p = bpf_map_lookup_elem(&pendings, &task);
	struct TCP_Server_Info *server;
	struct ct_ack_ring *ring;
	struct sock *sk;
	__u64 conn_id, skey, now = bpf_ktime_get_ns();
	__u32 end_seq, n;

	if (!p)
		return;
	server = p->server;
	n = p->n;
	if (!server || !n || ret < 0)
		goto out;
	if (!CIFS_BTF) {
		/* no socket to watch for ACKs: report the requests only */
		for (int i = 0; i < MAX_PENDING && i < n; i++)
			emit_request((__u64)server, p->sesid[i], p->mid[i],
				     (__u64)p->tid[i] << 32 | p->cmd[i], p->enter_ns[i]);
		goto out;
	}

	conn_id = remember_server(server);
	sk = BPF_CORE_READ(server, ssocket, sk);
	skey = (__u64)sk;
	if (sk && !bpf_map_lookup_elem(&socks, &skey)) {
		/* A connection made before we attached. */
		struct ct_smb_sock s = { .conn_id = conn_id };

		bpf_map_update_elem(&socks, &skey, &s, BPF_NOEXIST);
	}
	end_seq = sk ? BPF_CORE_READ((struct tcp_sock *)sk, write_seq) : 0;
	ring = sk ? bpf_map_lookup_elem(&inflight, &skey) : NULL;
	if (sk && !ring) {
		bpf_map_update_elem(&inflight, &skey, &zero_ring, BPF_NOEXIST);
		ring = bpf_map_lookup_elem(&inflight, &skey);
	}

	for (int i = 0; i < MAX_PENDING; i++) {
		if (i >= n)
			break;
		struct ct_req_key k = make_req_key(p->sesid[i], p->mid[i]);
		struct ct_req *r = bpf_map_lookup_elem(&reqs, &k);

		if (r)
			r->conn_id = conn_id;
		emit_request(conn_id, p->sesid[i], p->mid[i], (__u64)p->tid[i] << 32 | p->cmd[i],
			     p->enter_ns[i]);
		if (!ring)
			continue;
		struct ct_ack_slot *s = &ring->slot[ring->next & (ACK_SLOTS - 1)];

		s->mid = p->mid[i];
		s->sesid = p->sesid[i];
		s->cmd = p->cmd[i];
		s->sent_ns = now;
		s->end_seq = end_seq;
		s->used = 1;
		ring->next++;
	}
	/*
	 * On loopback (and on fast links) the ACK can arrive during the send
	 * itself, processed from the socket backlog before we get here:
	 * tcp_probe has fired already, so look at snd_una now.
	 */
	if (ring)
		ack_scan(skey, BPF_CORE_READ((struct tcp_sock *)sk, snd_una), conn_id);
out:
	bpf_map_delete_elem(&pendings, &task);
}

SEC("fentry/__smb_send_rqst")
int BPF_PROG(fentry___smb_send_rqst, struct TCP_Server_Info *server)
{
	send_enter(server);
	return 0;
}

SEC("fexit/__smb_send_rqst")
int BPF_PROG(fexit___smb_send_rqst, struct TCP_Server_Info *server, int num_rqst,
	     void *rqst, int ret)
{
	send_exit(ret);
	return 0;
}

SEC("kprobe/__smb_send_rqst")
int BPF_KPROBE(kprobe___smb_send_rqst, struct TCP_Server_Info *server)
{
	send_enter(server);
	return 0;
}

SEC("kretprobe/__smb_send_rqst")
int BPF_KRETPROBE(kretprobe___smb_send_rqst, int ret)
{
	send_exit(ret);
	return 0;
}

/* ------------------------------------------------------ mount phases */

static __always_inline void connect_exit(long rc)
{
	struct ct_phase *ph = phase_get(PH_CONNECT);
	struct ct_event *e;

	if (!ph)
		return;
	/* Failed before any SYN left (no route, bad address): say so here. */
	if (rc < 0 && !ph->syn_seen && (e = ev_new(CT_EV_CONNECT, ph->conn_id))) {
		e->connect.result = CT_CONNECT_ERROR;
		ev_rc(e, rc);
		ev_duration(e, bpf_ktime_get_ns() - ph->start_ns);
		bpf_ringbuf_submit(e, 0);
	}
	phase_end(PH_CONNECT);
}

static __always_inline void negotiate_exit(long rc)
{
	struct ct_phase *ph = phase_get(PH_NEGOTIATE);
	struct TCP_Server_Info *server;
	struct ct_event *e;

	if (!ph)
		return;
	server = ph->server;
	e = ev_new(CT_EV_NEGOTIATE, ph->conn_id);
	if (e) {
		e->cmd = CT_SMB2_NEGOTIATE;
		ev_phase(e, ph, rc);
		if (server && CIFS_BTF) {
			e->negotiate.dialect = BPF_CORE_READ(server, dialect);
			e->negotiate.security_mode = BPF_CORE_READ(server, sec_mode);
			e->negotiate.capabilities = BPF_CORE_READ(server, capabilities);
		}
		bpf_ringbuf_submit(e, 0);
	}
	phase_end(PH_NEGOTIATE);
}

static __always_inline void session_exit(long rc)
{
	struct ct_phase *ph = phase_get(PH_SESSION);
	struct cifs_ses *ses;
	struct ct_event *e;

	if (!ph)
		return;
	ses = ph->ses;
	e = ev_new(CT_EV_SESSION_SETUP, ph->conn_id);
	if (e) {
		e->cmd = CT_SMB2_SESSION_SETUP;
		e->flags |= CT_F_FINAL;
		ev_phase(e, ph, rc);
		ev_session(e, ph);
		if (ses && CIFS_BTF) {
			e->sesid = BPF_CORE_READ(ses, Suid);
			e->session.session_flags = BPF_CORE_READ(ses, session_flags);
		}
		bpf_ringbuf_submit(e, 0);
	}
	phase_end(PH_SESSION);
}

/*
 * smb3_tcon fires at the end of SMB2_tcon on every kernel, with the UNC and
 * the return code; the phase (when SMB2_tcon is hooked) adds the wire
 * status, latency, tree id and share flags.
 */
SEC("raw_tp/smb3_tcon")
int BPF_PROG(tp_smb3_tcon, unsigned int xid, __u32 tid, __u64 sesid,
	     const char *unc, int rc)
{
	struct ct_phase *ph = phase_get(PH_TCON);
	struct ct_event *e = ev_new(CT_EV_TREE_CONNECT, ph ? ph->conn_id : 0);

	if (!e)
		return 0;
	e->cmd = CT_SMB2_TREE_CONNECT;
	e->sesid = sesid;
	e->tid = tid;
	bpf_probe_read_kernel_str(e->tree.unc, sizeof(e->tree.unc), unc);
	if (ph) {
		ev_phase(e, ph, rc);
		e->tid = ph->tid;
		struct cifs_tcon *tcon = ph->tcon;	/* not inside a CO-RE read */

		if (tcon && CIFS_BTF) {
			e->tree.share_flags = BPF_CORE_READ(tcon, share_flags);
			e->tree.seal = BPF_CORE_READ_BITFIELD_PROBED(tcon, seal);
		}
	} else {
		ev_rc(e, rc);
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

static __always_inline void mount_enter(struct smb3_fs_context *ctx)
{
	__u32 task = task_id();
	__u64 now = bpf_ktime_get_ns();
	struct ct_event *e;

	bpf_map_update_elem(&mounts, &task, &now, BPF_ANY);
	e = ev_new(CT_EV_MOUNT, 0);
	if (!e)
		return;
	if (!CIFS_BTF) {
		bpf_ringbuf_submit(e, 0);
		return;
	}
	bpf_probe_read_kernel_str(e->mount.unc, sizeof(e->mount.unc), BPF_CORE_READ(ctx, UNC));
	bpf_probe_read_kernel_str(e->mount.user, sizeof(e->mount.user),
				  BPF_CORE_READ(ctx, username));
	e->mount.port = BPF_CORE_READ(ctx, port);
	bpf_ringbuf_submit(e, 0);
}

/* cifs_smb3_do_mount returns a dentry or ERR_PTR(-errno). */
static __always_inline void mount_exit(long ret)
{
	__u32 task = task_id();
	__u64 *start = bpf_map_lookup_elem(&mounts, &task);
	struct ct_event *e;

	if (!start)
		return;
	e = ev_new(CT_EV_MOUNT_DONE, 0);
	if (e) {
		ev_rc(e, ret < 0 && ret >= -4095 ? ret : 0);
		ev_duration(e, bpf_ktime_get_ns() - *start);
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&mounts, &task);
}

static __always_inline void upcall_enter(void)
{
	struct ct_phase *ph = phase_get(PH_SESSION);
	__u32 task = task_id();
	__u64 now = bpf_ktime_get_ns();
	struct ct_event *e;

	if (ph)
		ph->upcalled = 1;
	bpf_map_update_elem(&upcalls, &task, &now, BPF_ANY);
	/* the start too: a cifs.upcall stuck on a KDC is a hang to report */
	e = ev_new(CT_EV_UPCALL, ph ? ph->conn_id : 0);
	if (!e)
		return;
	if (ph)
		ev_session(e, ph);
	bpf_ringbuf_submit(e, 0);
}

static __always_inline void upcall_exit(long ret)
{
	__u32 task = task_id();
	__u64 *start = bpf_map_lookup_elem(&upcalls, &task);
	struct ct_phase *ph = phase_get(PH_SESSION);
	struct ct_event *e;

	if (!start)
		return;
	e = ev_new(CT_EV_UPCALL, ph ? ph->conn_id : 0);
	if (e) {
		/* cifs_get_spnego_key returns a key or ERR_PTR(-errno) */
		ev_rc(e, ret < 0 && ret >= -4095 ? ret : 0);
		ev_duration(e, bpf_ktime_get_ns() - *start);
		if (ph)
			ev_session(e, ph);
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&upcalls, &task);
}

/*
 * Function hooks, each as fentry/fexit and kprobe/kretprobe twins that call
 * the same handler; the loader autoloads one flavour per function. Every
 * hooked function takes what we need in its first arguments on all
 * supported kernels (the server comes from ses->server, since 5.10-5.15
 * negotiate and session setup take no server argument).
 */
#define FUNC_HOOKS(fn, entry_stmt, exit_stmt)					\
SEC("fentry/" #fn)								\
int BPF_PROG(fentry_##fn, __u64 a0, __u64 a1, __u64 a2, __u64 a3)		\
{ entry_stmt; return 0; }							\
SEC("kprobe/" #fn)								\
int BPF_KPROBE(kprobe_##fn, __u64 a0, __u64 a1, __u64 a2, __u64 a3)		\
{ entry_stmt; return 0; }							\
SEC("kretprobe/" #fn)								\
int BPF_KRETPROBE(kretprobe_##fn, long ret)					\
{ exit_stmt; return 0; }

#define SES(p)		((struct cifs_ses *)(p))
#define SES_SERVER(p)	(CIFS_BTF ? BPF_CORE_READ(SES(p), server) : NULL)
#define SRV(p)		((struct TCP_Server_Info *)(p))

FUNC_HOOKS(cifs_smb3_do_mount,
	   mount_enter((struct smb3_fs_context *)a2),
	   mount_exit(ret))
FUNC_HOOKS(generic_ip_connect,
	   phase_begin(PH_CONNECT, SRV(a0), NULL, NULL),
	   connect_exit(ret))
FUNC_HOOKS(SMB2_negotiate,
	   phase_begin(PH_NEGOTIATE, SES_SERVER(a1), SES(a1), NULL),
	   negotiate_exit(ret))
FUNC_HOOKS(SMB2_sess_setup,
	   phase_begin(PH_SESSION, SES_SERVER(a1), SES(a1), NULL),
	   session_exit(ret))
FUNC_HOOKS(SMB2_tcon,
	   phase_begin(PH_TCON, SES_SERVER(a1), SES(a1),
		       (struct cifs_tcon *)a3),
	   phase_end(PH_TCON))
FUNC_HOOKS(cifs_get_spnego_key, upcall_enter(), upcall_exit(ret))

/*
 * fexit needs the exact argument count to find the return value; these
 * are the 6.1+ prototypes. The loader uses fexit only where the kernel's
 * BTF prototype has this many arguments, kretprobe otherwise.
 */
SEC("fexit/cifs_smb3_do_mount")
int BPF_PROG(fexit_cifs_smb3_do_mount, void *fs_type, int flags, void *fs_ctx, long ret)
{ mount_exit(ret); return 0; }

SEC("fexit/generic_ip_connect")
int BPF_PROG(fexit_generic_ip_connect, void *server, int ret)
{ connect_exit(ret); return 0; }

SEC("fexit/SMB2_negotiate")
int BPF_PROG(fexit_SMB2_negotiate, unsigned int xid, void *ses, void *server, int ret)
{ negotiate_exit(ret); return 0; }

SEC("fexit/SMB2_sess_setup")
int BPF_PROG(fexit_SMB2_sess_setup, unsigned int xid, void *ses, void *server,
	     void *nls, int ret)
{ session_exit(ret); return 0; }

SEC("fexit/SMB2_tcon")
int BPF_PROG(fexit_SMB2_tcon, unsigned int xid, void *ses, const char *tree,
	     void *tcon, void *nls, int ret)
{ phase_end(PH_TCON); return 0; }

SEC("fexit/cifs_get_spnego_key")
int BPF_PROG(fexit_cifs_get_spnego_key, void *ses, void *server, long ret)
{ upcall_exit(ret); return 0; }

SEC("raw_tp/smb3_reconnect")
int BPF_PROG(tp_smb3_reconnect, __u64 currmid, __u64 a1, __u64 a2)
{
	__u64 conn_id = reconnect_has_conn_id ? a1 : 0;
	const char *host = (const char *)(reconnect_has_conn_id ? a2 : a1);
	struct ct_event *e = ev_new(CT_EV_RECONNECT, conn_id);

	if (!e)
		return 0;
	e->mid = currmid;
	if (!e->server[0])
		bpf_probe_read_kernel_str(e->server, sizeof(e->server), host);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

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

static __always_inline void emit_connect(struct sock *sk, struct ct_smb_sock *s, __u32 result,
					 int err)
{
	struct ct_event *e = ev_new_softirq(CT_EV_CONNECT, s->conn_id);

	if (!e)
		return;
	e->pid = s->pid;
	__builtin_memcpy(e->comm, s->comm, sizeof(e->comm));
	ev_sock_addrs(e, sk);
	if (result != CT_CONNECT_STARTED)
		ev_duration(e, e->ts_ns - s->syn_ns);
	e->connect.result = result;
	if (err)
		ev_rc(e, -err);
	bpf_ringbuf_submit(e, 0);
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
		struct ct_smb_sock fresh = {
			.syn_ns = bpf_ktime_get_ns(),
			.pid = bpf_get_current_pid_tgid() >> 32,
		};

		if (ph) {
			ph->syn_seen = 1;
			fresh.conn_id = ph->conn_id;
		} else if (!match_ports ||
			   !is_smb_port(bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport)))) {
			return 0;
		}
		bpf_get_current_comm(fresh.comm, sizeof(fresh.comm));
		key = (__u64)sk;
		bpf_map_update_elem(&socks, &key, &fresh, BPF_ANY);
		s = bpf_map_lookup_elem(&socks, &key);
		if (s)
			emit_connect(sk, s, CT_CONNECT_STARTED, 0);
		return 0;
	}

	s = smb_sock_of(sk, &key);
	if (!s)
		return 0;

	if (oldstate == TCP_SYN_SENT && newstate == TCP_ESTABLISHED) {
		emit_connect(sk, s, CT_CONNECT_OK, 0);
	} else if (oldstate == TCP_SYN_SENT && newstate == TCP_CLOSE) {
		int err = BPF_CORE_READ(sk, sk_err);

		emit_connect(sk, s, err == ECONNREFUSED ? CT_CONNECT_REFUSED :
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
		bpf_map_delete_elem(&inflight, &key);
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
 * tcp_probe fires for every segment received in ESTABLISHED; skb->data is
 * its TCP header. Report each tracked request whose last byte this ACK
 * covers.
 */
/*
 * A global (non-inlined) function is verified once on its own: calling it
 * from the loop below keeps older verifiers (6.1) within their budget.
 */
__noinline int emit_ack(__u64 conn_id, __u64 mid, __u64 sesid, __u32 cmd, __u64 latency)
{
	struct ct_event *e = ev_new_softirq(CT_EV_ACK, conn_id);

	if (!e)
		return 0;
	e->mid = mid;
	e->sesid = sesid;
	e->cmd = cmd;
	ev_latency(e, latency);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/*
 * Report every tracked request on socket skey whose last byte the peer
 * has acknowledged (ack), oldest first. Global, so it is verified once.
 */
__noinline int ack_scan(__u64 skey, __u32 ack, __u64 conn_id)
{
	struct ct_ack_ring *ring = bpf_map_lookup_elem(&inflight, &skey);
	__u64 now = bpf_ktime_get_ns();

	if (!ring)
		return 0;
	for (int i = 0; i < ACK_SLOTS; i++) {
		struct ct_ack_slot *slot = &ring->slot[i];

		if (!slot->used || (__s32)(ack - slot->end_seq) < 0)
			continue;
		slot->used = 0;
		emit_ack(conn_id, slot->mid, slot->sesid, slot->cmd, now - slot->sent_ns);
	}
	return 0;
}

SEC("raw_tp/tcp_probe")
int BPF_PROG(tp_tcp_probe, struct sock *sk, struct sk_buff *skb)
{
	__u64 key = (__u64)sk;
	struct ct_smb_sock *s;
	struct tcphdr th;

	if (!bpf_map_lookup_elem(&inflight, &key))
		return 0;
	if (bpf_probe_read_kernel(&th, sizeof(th), BPF_CORE_READ(skb, data)) || !th.ack)
		return 0;
	s = bpf_map_lookup_elem(&socks, &key);
	return ack_scan(key, bpf_ntohl(th.ack_seq), s ? s->conn_id : 0);
}
