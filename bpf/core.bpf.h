/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cifstrace, kernel side: what every BPF file shares. The maps and the
 * loader's settings are defined once in core.bpf.c and declared here;
 * the object files are linked into one (bpftool gen object).
 *
 *   core.bpf.c      maps, settings, the record helpers below
 *   mount.bpf.c     mount phases: mount, connect, negotiate, session setup,
 *                   Kerberos upcall, tree connect, reconnect
 *   requests.bpf.c  every SMB request: enter, on the wire, response; the
 *                   in-kernel histograms, error counters, slow-op records
 *   tcp.bpf.c       the TCP connection under cifs: SYN, ACKs, retransmits,
 *                   resets, FIN
 *   kdc.bpf.c       Kerberos: the exchanges with a KDC that a Kerberos
 *                   mount's upcall makes (port 88, TCP and UDP)
 */
#ifndef CORE_BPF_H
#define CORE_BPF_H

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
#define TCPHDR_FIN	0x01	/* struct tcp_skb_cb.tcp_flags */
#define TCPHDR_ACK	0x10

/* ------------------------------------------------ settings (set before load) */

extern const volatile bool match_ports;		/* no generic_ip_connect hook */
extern const volatile __u16 smb_ports[4];
extern const volatile bool send_hooked;		/* __smb_send_rqst is hooked */
extern const volatile bool reconnect_has_conn_id; /* 5.15+ TP_PROTO */
extern const volatile bool emit_requests;	/* stream every completed request */
extern const volatile __u64 slow_ns;		/* stream requests slower than this */
extern const volatile __u32 target_tgid;	/* only this process's requests */
extern const volatile __u32 rw_arg_shift;
/* where the arguments moved (see struct kernel_layout in user/hooks.h) */
extern const volatile __u32 mount_ctx_arg;	/* cifs_smb3_do_mount's context */
extern const volatile __u32 echo_mid_arg;	/* smb2_echo_callback's mid */
extern const volatile bool sk_vmlinux;		/* cifs's socket types are the kernel's */
extern const volatile __u32 sk_cast_id;		/* else: struct tcp_sock's BTF id, or 0 */
extern const volatile __u64 conn_salt;		/* see server_conn_id() */
extern const volatile bool aggregate;		/* histograms and counters wanted */
extern const volatile bool ack_from_socket;	/* no tcp_probe: ACKs read at the answer */
extern const volatile bool sk_kptr;		/* req_tps holds kptrs: see there */
extern const volatile __u16 kdc_port;		/* Kerberos, 0: not traced */
extern const volatile __u32 hist_mask;		/* hists' max_entries - 1 */
extern const volatile __u32 batch_bytes;	/* see ev_submit_batched() */
/* Set after load (see kdc.bpf.c): where the kernel keeps its memory map */
extern __u64 kaddr_page_offset_base;
extern __u64 kaddr_vmemmap_base;

/* ----------------------------------------------------------------- maps */

struct events_map {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
};
extern struct events_map events SEC(".maps");

/* enum ct_stat counters: what could not be kept is counted, never hidden */
struct stats_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CT_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
};
extern struct stats_map stats SEC(".maps");

struct conns_map {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct ct_conn_info);
};
extern struct conns_map conns SEC(".maps");

struct conn_stats_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct ct_conn_stats);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* rarely inserted: allocate then */
};
extern struct conn_stats_map conn_stats SEC(".maps");

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

/*
 * Everything the tracer keeps per thread during a mount phase, in one map
 * entry: its mount phase, the start of its mount and of its Kerberos
 * upcall. LRU: threads end without telling us. Only threads inside a
 * mount or a phase have one; the request path looks here only while
 * tasks_in_phase says some thread is (mount.bpf.c keeps the count).
 */
struct ct_task {
	struct ct_phase phase;		/* phase.kind == 0: in no phase */
	__u64 mount_ns;			/* inside cifs_smb3_do_mount since */
	__u64 upcall_ns;		/* inside cifs_get_spnego_key since */
	__u64 reconnect_conn;		/* inside cifs_reconnect of (before 5.15) */
	const char *source;		/* the mount's //server/share/path, read at its end */
};

extern __u64 tasks_in_phase;

struct tasks_map {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);		/* thread id */
	__type(value, struct ct_task);
};
extern struct tasks_map tasks SEC(".maps");

/*
 * What the request path keeps per thread, between smb3_cmd_enter and the
 * send (a compound enters several requests, then sends them at once) and
 * from a wait for credits to the request: in an array indexed by the
 * thread id, tagged with it (direct-mapped: no helper call, no lock). A
 * thread whose slot another holds loses its send time, counted
 * (CT_STAT_SEND_UNMATCHED); a slot unused for TSLOT_STALE_NS is free.
 */
#define MAX_PENDING	5
#define TSLOTS		1024
#define TSLOT_STALE_NS	2000000000ull

struct ct_tslot {
	__u32 tid;
	__u32 n;			/* requests entered, not yet sent */
	__u64 busy_ns;			/* when n or credit_wait_ns was set */
	__u64 credit_wait_ns;		/* began waiting for credits at */
	struct TCP_Server_Info *server;	/* kprobe mode: set at send entry */
	/*
	 * The socket this thread last sent on (as a scalar) and its FIFO's
	 * index: the next send on it skips the lookups that find a socket
	 * new to us (the FIFO's owner is still checked: a socket closed and
	 * another allocated at its address has lost it).
	 */
	__u64 last_sk;
	__u32 last_fifo;
	struct ct_req_key key[MAX_PENDING];
	__u16 ri[MAX_PENDING];		/* key[i]'s slot in reqs, as entered */
	__u16 cmd[MAX_PENDING];
	__u8 stream[MAX_PENDING];	/* the request streams (mount phases, events) */
	/*
	 * The thread's current operation names a path (a cifs *_enter
	 * tracepoint, in tpaths) for the requests it enters until they are
	 * sent; path_gen tells a request's path from a later one.
	 */
	__u8 path_armed;
	__u8 path_gen;
};
_Static_assert(CT_REQ_SLOTS <= 65536, "ct_tslot.ri[] holds a reqs index in 16 bits");

struct tslots_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TSLOTS);
	__type(key, __u32);
	__type(value, struct ct_tslot);
};
extern struct tslots_map tslots SEC(".maps");

/*
 * The path of each thread slot's current operation, at the slot's index:
 * a map of its own so that only the commands that report paths (events,
 * record, --slower) pay for it; the loader shrinks it to one entry for
 * the others, which do not attach the path tracepoints.
 */
struct ct_tpath {
	char path[CT_PATH_LEN];
};

struct tpaths_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TSLOTS);
	__type(key, __u32);
	__type(value, struct ct_tpath);
};
extern struct tpaths_map tpaths SEC(".maps");

static __always_inline struct ct_tpath *tpath_of(__u32 tid)
{
	__u32 i = tid & (TSLOTS - 1);

	return bpf_map_lookup_elem(&tpaths, &i);
}

/*
 * The current thread's slot; with take, made its own unless another
 * thread is using it (then NULL).
 */
static __always_inline struct ct_tslot *tslot_get(__u32 tid, __u64 now, bool take)
{
	__u32 i = tid & (TSLOTS - 1);
	struct ct_tslot *s = bpf_map_lookup_elem(&tslots, &i);

	if (!s || s->tid == tid)
		return s;
	if (!take || ((s->n || s->credit_wait_ns) && now - s->busy_ns < TSLOT_STALE_NS))
		return NULL;
	s->tid = tid;
	s->n = 0;
	s->credit_wait_ns = 0;
	s->server = NULL;
	s->path_armed = 0;
	s->last_sk = 0;
	return s;
}

/*
 * Requests in flight (the table userspace scans for hangs, mapped in
 * place): a global array in .bss that the helpers below use as a hash
 * table (struct ct_req in cifstrace.h), indexed directly: no lookup, no
 * helper call, no lock.
 */
extern struct ct_req reqs[CT_REQ_SLOTS];

/* Fibonacci hashing: the top 24 bits of x times 2^64 / phi, spread well. */
static __always_inline __u32 fib_hash(__u64 x)
{
	return (x * 0x9E3779B97F4A7C15ull) >> 40;
}

/*
 * Where a key's slots start: a session's consecutive mids land in
 * consecutive slots, so a session never collides with itself.
 */
static __always_inline __u32 req_hash(const struct ct_req_key *k)
{
	return fib_hash(k->sesid ^ ((__u64)k->tid_task << 32)) + (__u32)k->mid;
}

static __always_inline struct ct_req *req_slot(__u32 i)
{
	return &reqs[i & (CT_REQ_SLOTS - 1)];
}

static __always_inline bool req_is(const struct ct_req *r, const struct ct_req_key *k)
{
	return r->enter_ns && r->key.mid == k->mid && r->key.sesid == k->sesid &&
	       r->key.tid_task == k->tid_task;
}

/*
 * The slot of the request in flight under key (sesid, mid, tid_task), or,
 * with claim and none there (a mid sent again finds its own), the first
 * free slot tried; -1 if none. A claim is not atomic: two CPUs can take
 * one free slot only for requests of two connections whose windows
 * overlap at that moment (a connection's sends are serialized).
 * Inlined where one lookup runs per event (the hot path); req_index_of()
 * is the same as a global function, for loops of lookups (the requests
 * an ACK covers, tcp.bpf.c), where inlining would multiply what the verifier
 * walks (and the time to load).
 */
static __always_inline int req_index(__u64 sesid, __u64 mid, __u32 tid_task, bool claim)
{
	struct ct_req_key k = { .sesid = sesid, .mid = mid, .tid_task = tid_task };
	__u32 h = req_hash(&k);
	int free = -1;		/* an index, not a pointer: the verifier's rule */

	for (int i = 0; i < CT_REQ_PROBES; i++) {
		struct ct_req *r = req_slot(h + i);

		if (!r)
			continue;
		if (req_is(r, &k))
			return (h + i) & (CT_REQ_SLOTS - 1);
		if (claim && !r->enter_ns && free < 0)
			free = (h + i) & (CT_REQ_SLOTS - 1);
	}
	return free;
}

__noinline int req_index_of(__u64 sesid, __u64 mid, __u32 tid_task);

static __always_inline struct ct_req *req_find(const struct ct_req_key *k)
{
	int i = req_index(k->sesid, k->mid, k->tid_task, false);

	return i < 0 ? NULL : req_slot(i);
}

static __always_inline void req_free(struct ct_req *r)
{
	r->enter_ns = 0;
}

/*
 * The socket of the request in each reqs slot (same index), as a pointer
 * the verifier lets a program read through (an unreferenced kptr, 5.19
 * on): the answer reads the socket's ACK state with plain loads instead of
 * bpf_probe_read_kernel (90 instructions each, two or three per answer).
 * The loader tags the field as a kptr where the kernel takes one (the
 * tag's name changed in 6.4) and then sets sk_kptr; elsewhere it is a
 * plain pointer nothing reads. Not in struct ct_req: a map with kptrs
 * cannot be mmapped, and userspace reads reqs in place.
 */
struct ct_req_tp {
	struct tcp_sock *tp;
};

struct req_tps_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CT_REQ_SLOTS);
	__type(key, __u32);
	__type(value, struct ct_req_tp);
};
extern struct req_tps_map req_tps SEC(".maps");

static __always_inline struct ct_req_tp *req_tp(__u32 i)
{
	i &= CT_REQ_SLOTS - 1;
	return bpf_map_lookup_elem(&req_tps, &i);
}

struct hists_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CT_HIST_ENTRIES);
	__type(key, __u32);
	__type(value, struct ct_hist_entry);
};
extern struct hists_map hists SEC(".maps");

/*
 * A per-CPU array used as an open-addressed table (the histograms, the
 * error and byte counters): this CPU's value for key, its entry made on
 * first use; NULL when the `probes` slots tried from `hash` hold other
 * keys. Entries (k, used, v) are never removed, so the first free slot
 * ends the search. seen (a byte per index, in .bss, which userspace maps)
 * marks the indexes some CPU has used: where the kernel reads no batch of
 * a per-CPU array (Debian's 5.10: a system call per index), userspace
 * reads only those. A byte store: two CPUs marking neighbours lose none.
 */
extern __u8 hist_seen[CT_HIST_ENTRIES], err_seen[CT_ERR_ENTRIES], io_seen[CT_IO_ENTRIES];
_Static_assert(!(CT_HIST_ENTRIES & (CT_HIST_ENTRIES - 1)) && !(CT_ERR_ENTRIES & (CT_ERR_ENTRIES - 1)) &&
	       !(CT_IO_ENTRIES & (CT_IO_ENTRIES - 1)), "TABLE_GET masks its seen index");

#define TABLE_GET(map, hash, mask, probes, key, key_eq, seen) ({		\
	typeof(&(map).value->v) __v = NULL;					\
										\
	for (int __i = 0; __i < (probes); __i++) {				\
		__u32 __idx = ((hash) + __i) & (mask);				\
		typeof((map).value) __e = bpf_map_lookup_elem(&(map), &__idx);	\
										\
		if (!__e)							\
			break;							\
		if (!__e->used) {						\
			__e->k = *(key);					\
			__e->used = 1;						\
			(seen)[__idx & (sizeof(seen) - 1)] = 1;			\
			__v = &__e->v;						\
			break;							\
		}								\
		if (key_eq(&__e->k, (key))) {					\
			__v = &__e->v;						\
			break;							\
		}								\
	}									\
	__v;									\
})

static __always_inline bool hist_key_eq(const struct ct_hist_key *a, const struct ct_hist_key *b)
{
	return a->conn_id == b->conn_id && a->sesid == b->sesid && a->tid == b->tid &&
	       a->cmd == b->cmd;
}

/* This CPU's histogram for key hk. */
static __always_inline struct ct_hist *hist_get(const struct ct_hist_key *hk)
{
	__u32 h = fib_hash(hk->conn_id ^ hk->sesid ^ ((__u64)hk->tid << 20) ^ hk->cmd);

	return TABLE_GET(hists, h, hist_mask, CT_HIST_PROBES, hk, hist_key_eq, hist_seen);
}

struct errs_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CT_ERR_ENTRIES);
	__type(key, __u32);
	__type(value, struct ct_err_entry);
};
extern struct errs_map errs SEC(".maps");

static __always_inline bool err_key_eq(const struct ct_err_key *a, const struct ct_err_key *b)
{
	return hist_key_eq(&a->h, &b->h) && a->status == b->status;
}

/* This CPU's count of error answers for key ek. */
static __always_inline __u64 *err_get(const struct ct_err_key *ek)
{
	__u32 h = fib_hash(ek->h.conn_id ^ ek->h.sesid ^ ((__u64)ek->h.tid << 20) ^
			   ek->h.cmd ^ ((__u64)ek->status << 32));

	return TABLE_GET(errs, h, CT_ERR_ENTRIES - 1, CT_ERR_PROBES, ek, err_key_eq, err_seen);
}

struct ios_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CT_IO_ENTRIES);
	__type(key, __u32);
	__type(value, struct ct_io_entry);
};
extern struct ios_map ios SEC(".maps");

/* SMB sockets: the sockets cifs connected, by struct sock address. */
struct ct_smb_sock {
	__u64 conn_id;
	__u64 syn_ns;
	__u32 pid;			/* the task that connected */
	char comm[CT_COMM_LEN];
};

struct socks_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct ct_smb_sock);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* rarely inserted: allocate then */
};
extern struct socks_map socks SEC(".maps");

/*
 * Requests sent on a socket and not yet acknowledged by the peer's TCP, in
 * send order (cifs sends under the server's mutex, so sequence numbers
 * grow): a FIFO of the sequence number just past each request's last byte.
 * An ACK pops every request it covers, usually just the head. A request
 * pushed out of a full FIFO is counted (CT_STAT_ACK_OVERRUN) and reports
 * no ACK. Not locked (tracing programs cannot take bpf_spin_lock): a send
 * racing an ACK on another CPU can at worst lose one ACK time.
 */
#define ACK_SLOTS 32

struct ct_ack_slot {
	struct ct_req_key key;
	__u64 sent_ns;
	__u32 end_seq;
	__u16 cmd;
	__u8 stream;
	__u8 pad;
};

struct ct_ack_fifo {
	__u64 sk;		/* the socket (struct sock address), 0: free */
	__u64 conn_id;
	__u32 head;		/* oldest unACKed */
	__u32 tail;		/* next free */
	struct ct_ack_slot slot[ACK_SLOTS];
};

/* One FIFO per cifs socket, in an array found by hashing the socket. */
#define FIFOS		256
#define FIFO_PROBES	2

struct fifos_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FIFOS);
	__type(key, __u32);
	__type(value, struct ct_ack_fifo);
};
extern struct fifos_map fifos SEC(".maps");

static __always_inline __u32 fifo_key(__u64 sk, int i)
{
	return (fib_hash(sk) + i) & (FIFOS - 1);
}

static __always_inline struct ct_ack_fifo *fifo_at(__u32 k)
{
	return bpf_map_lookup_elem(&fifos, &k);
}

static __always_inline struct ct_ack_fifo *fifo_slot(__u64 sk, int i)
{
	return fifo_at(fifo_key(sk, i));
}

/* Where socket sk's FIFO is (its index), -1 if it has none. */
static __always_inline int fifo_index(__u64 sk)
{
	for (int i = 0; i < FIFO_PROBES; i++) {
		struct ct_ack_fifo *f = fifo_slot(sk, i);

		if (f && f->sk == sk)
			return fifo_key(sk, i);
	}
	return -1;
}

static __always_inline struct ct_ack_fifo *fifo_find(__u64 sk)
{
	int i = fifo_index(sk);

	return i < 0 ? NULL : fifo_at(i);
}

/*
 * Does an acknowledgement up to ack (snd_una, or an ACK's ack_seq) cover
 * the byte before end_seq? TCP sequence numbers wrap: compared as a
 * signed difference.
 */
static __always_inline bool seq_covers(__u32 ack, __u32 end_seq)
{
	return (__s32)(ack - end_seq) >= 0;
}

/* Does ack cover the oldest request in the FIFO? (ack_scan has work) */
static __always_inline bool fifo_acked(struct ct_ack_fifo *f, __u32 ack)
{
	__u32 h = f->head;

	return h != f->tail && seq_covers(ack, f->slot[h & (ACK_SLOTS - 1)].end_seq);
}

/*
 * The index of a FIFO for socket sk: its own, else a free one, emptied; -1
 * if none. sock_new() calls it only when fifo_index() found none, yet it
 * looks for sk's own again: two threads' first sends on one socket run
 * their fexits after the server's mutex is released, so the other may
 * have claimed one since. The free slot is looked up again after the loop
 * (an index kept, not a pointer: the verifier's rule, as in req_index()).
 */
static __always_inline int fifo_claim(__u64 sk)
{
	struct ct_ack_fifo *f;
	int free = -1;

	for (int i = 0; i < FIFO_PROBES; i++) {
		f = fifo_slot(sk, i);
		if (!f)
			continue;
		if (f->sk == sk)
			return fifo_key(sk, i);
		if (!f->sk && free < 0)
			free = i;
	}
	f = free < 0 ? NULL : fifo_slot(sk, free);
	if (!f)
		return -1;
	f->head = f->tail = 0;
	f->sk = sk;
	return fifo_key(sk, free);
}

/* Free socket sk's FIFO (its socket closed). Global: cheap to verify. */
__noinline int fifo_release(__u64 sk);

/*
 * The server ports of the sockets above, one byte each (struct ct_ports in
 * cifstrace.h: plain byte stores, no atomics, which 5.10 lacks but for
 * add): tcp_probe, which runs for every TCP segment the host receives,
 * tests it before any hash lookup. Array lookups are inlined.
 */
struct smb_dports_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct ct_ports);
};
extern struct smb_dports_map smb_dports SEC(".maps");

static __always_inline void smb_dport_add(__u16 port)
{
	__u32 w = port >> 6;
	struct ct_ports *p = bpf_map_lookup_elem(&smb_dports, &w);

	if (p && !p->on[port & 63])
		p->on[port & 63] = CT_PORT_SMB;
}

static __always_inline __u8 smb_dport_kind(__u16 port)
{
	__u32 w = port >> 6;
	struct ct_ports *p = bpf_map_lookup_elem(&smb_dports, &w);

	return p ? p->on[port & 63] : 0;
}

/* Sockets to a KDC, by struct sock address (LRU: UDP ones are never closed). */
struct ct_kdc_sock {
	__u64 open_ns;
	__u32 pid;
	__u8 proto;
	__u8 replied;
	char comm[CT_COMM_LEN];
};

struct kdc_socks_map {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);
	__type(value, struct ct_kdc_sock);
};
extern struct kdc_socks_map kdc_socks SEC(".maps");

/* Global functions: verified once, shared by the files. */
__noinline int emit_ack(__u64 conn_id, __u64 mid, __u64 sesid, __u64 cmd_latency, __u64 at);
/* cmd and latency in emit_ack's fourth argument */
#define ACK_CMD_LATENCY(cmd, ns)	((__u64)(cmd) << 48 | ((ns) & ((1ull << 48) - 1)))
__noinline int ack_scan(__u32 fifo_idx, __u32 ack, __u32 with_data, __u64 now);
__noinline int ack_pop(__u32 fifo_idx, __u32 ack, __u32 with_data, __u64 now);
__noinline int phase_round(__u64 mid, __u64 sesid, __u64 status_rc, __u64 latency,
			   __u64 tid_err_cmd);
__noinline int emit_request(__u64 conn_id, __u64 sesid, __u64 mid, __u64 tid_cmd,
			    __u64 enter_ns);
/* (global functions take kernel pointers as integers: the verifier's rule) */
__noinline int kdc_open(__u64 sk, __u32 proto, __u64 uaddr);
__noinline int kdc_state(__u64 sk, int oldstate, int newstate);
__noinline int kdc_reply(__u64 sk, __u64 skb, __u32 off, __u32 proto);

/*
 * Argument i of a tracing program (fentry, tp_btf) as a plain integer: the
 * verifier refuses typed kernel pointers as arguments of global functions.
 */
static __always_inline __u64 ctx_arg(void *ctx, int i)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), (__u64 *)ctx + i);
	return v;
}

/*
 * A BTF-typed kernel pointer (tp_btf, fentry) as an integer to hash or
 * compare, without a helper call: stored in a map value and loaded back,
 * it is a plain number to the verifier. Slot 0 for task context, slot 1
 * for softirq (tcp_probe), which can interrupt a program in task context.
 */
struct scratch_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
};
extern struct scratch_map scratch SEC(".maps");

static __always_inline __u64 ptr_scalar(const void *p, __u32 slot)
{
	__u64 *s = bpf_map_lookup_elem(&scratch, &slot);

	if (!s)
		return 0;
	*s = (__u64)p;
	return *(volatile __u64 *)s;
}

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

/*
 * A connection's id: the kernel's (5.15+), else one derived from the
 * server's address, never the address itself (a kernel pointer must not
 * reach a recording): salted at load, mixed, cut to 53 bits (JSON-safe).
 */
static __always_inline __u64 server_conn_id(struct TCP_Server_Info *server)
{
	__u64 id;

	if (!server)
		return 0;
	if (CIFS_BTF && bpf_core_field_exists(server->conn_id))
		return BPF_CORE_READ(server, conn_id);
	id = (((__u64)server ^ conn_salt) * 0x9E3779B97F4A7C15ull) >> 11;
	return id ? id : 1;
}

static __always_inline void stat_add(__u32 which, __u64 v)
{
	__u64 *n = bpf_map_lookup_elem(&stats, &which);

	if (n)
		*n += v;
}

static __always_inline void stat_inc(__u32 which)
{
	stat_add(which, 1);
}

/* Find a map value, creating it from zero first (libbpf-tools' pattern). */
static __always_inline void *lookup_or_init(void *map, const void *key, const void *zero)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

/* The current thread's state, NULL if it has none. */
static __always_inline struct ct_task *task_get(void)
{
	__u32 tid = task_id();

	return bpf_map_lookup_elem(&tasks, &tid);
}

static __always_inline struct ct_task *task_get_or_init(void)
{
	static const struct ct_task zero_task;
	__u32 tid = task_id();

	return lookup_or_init(&tasks, &tid, &zero_task);
}

/* The current task's phase, if it is of this kind (any kind for 0). */
static __always_inline struct ct_phase *phase_in(struct ct_task *t, __u32 kind)
{
	struct ct_phase *ph = t && t->phase.kind && (!kind || t->phase.kind == kind) ?
			      &t->phase : NULL;

	/*
	 * Keep the pointer in a register: otherwise clang re-tests the kind
	 * where the caller tests ph, and the verifier loses the connection.
	 */
	asm volatile("" : "+r"(ph));
	return ph;
}

static __always_inline struct ct_phase *phase_get(__u32 kind)
{
	return phase_in(task_get(), kind);
}

/* A per-connection counter, by offset into struct ct_conn_stats. */
#define conn_stat_inc(conn_id, field) do {					\
	static const struct ct_conn_stats _zero;				\
	__u64 _id = (conn_id);							\
	struct ct_conn_stats *_s = _id ? lookup_or_init(&conn_stats, &_id, &_zero) : NULL; \
	if (_s)									\
		__sync_fetch_and_add(&_s->field, 1);				\
} while (0)

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

/* Remember a server's name and address the first time it is seen. */
static __always_inline __u64 remember_server(struct TCP_Server_Info *server)
{
	static const struct ct_conn_info zero_conn;
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
		stat_inc(CT_STAT_LOST);
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

/*
 * Submit a record of the busy kind (events, record: one per completed
 * request) without waking the reader until batch_bytes wait in the ring
 * (an eighth of it): on a busy mount the reader then wakes once per
 * batch, not once per request; below that it finds them on its poll's
 * timeout (200 ms). What a hang needs (mount phases, slow requests) is
 * submitted with a wakeup.
 */
static __always_inline void ev_submit_batched(struct ct_event *e)
{
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= batch_bytes)
		bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	else
		bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
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

#endif /* CORE_BPF_H */
