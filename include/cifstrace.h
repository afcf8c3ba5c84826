/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The event contract between the BPF programs and userspace.
 *
 * One fixed-size record per fact, written to a BPF ring buffer. The kernel
 * side only states facts (what happened, when, on which connection); all
 * interpretation happens in userspace. Records are versioned by
 * CT_ABI_VERSION: bump it whenever the layout changes.
 *
 * Both sides include this file: BPF through vmlinux.h types, userspace
 * through <linux/types.h>.
 */
#ifndef CIFSTRACE_H
#define CIFSTRACE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define CT_ABI_VERSION	6

#define CT_COMM_LEN	16
#define CT_HOST_LEN	64
#define CT_NAME_LEN	64	/* user and domain names */
#define CT_UNC_LEN	160	/* \\server\share */
#define CT_PATH_LEN	208	/* a file's path in its share (fills ct_event's union) */

/* SMB2 commands (MS-SMB2 2.2.1.2), the ones the tracer names. */
enum ct_smb2_cmd {
	CT_SMB2_NEGOTIATE	= 0,
	CT_SMB2_SESSION_SETUP	= 1,
	CT_SMB2_LOGOFF		= 2,
	CT_SMB2_TREE_CONNECT	= 3,
	CT_SMB2_TREE_DISCONNECT	= 4,
	CT_SMB2_CREATE		= 5,
	CT_SMB2_CLOSE		= 6,
	CT_SMB2_FLUSH		= 7,
	CT_SMB2_READ		= 8,
	CT_SMB2_WRITE		= 9,
	CT_SMB2_LOCK		= 10,
	CT_SMB2_IOCTL		= 11,
	CT_SMB2_CANCEL		= 12,
	CT_SMB2_ECHO		= 13,
	CT_SMB2_QUERY_DIRECTORY	= 14,
	CT_SMB2_CHANGE_NOTIFY	= 15,
	CT_SMB2_QUERY_INFO	= 16,
	CT_SMB2_SET_INFO	= 17,
	CT_SMB2_OPLOCK_BREAK	= 18,
	CT_SMB2_NR_COMMANDS	= 19,
};

enum ct_event_type {
	CT_EV_CONNECT = 1,	/* TCP connect to an SMB server ended (ok or not) */
	CT_EV_REQUEST,		/* an SMB request is about to be sent (smb3_cmd_enter) */
	CT_EV_ACK,		/* the server's TCP acknowledged the whole request */
	CT_EV_RESPONSE,		/* an SMB response was mapped (smb3_cmd_done/err);
				 * .req holds the request's time split */
	CT_EV_NEGOTIATE,	/* SMB2_negotiate returned */
	CT_EV_SESSION_SETUP,	/* a SESSION_SETUP round answered, or the phase ended */
	CT_EV_TREE_CONNECT,	/* SMB2_tcon ended (smb3_tcon) */
	CT_EV_UPCALL,		/* cifs.spnego key request (cifs.upcall): started, or
				 * returned (then with .rc and .duration_ns) */
	CT_EV_RECONNECT,	/* cifsd decided to reconnect (smb3_reconnect) */
	CT_EV_TCP_RETRANSMIT,	/* a segment on an SMB socket was retransmitted */
	CT_EV_TCP_RESET,	/* RST sent or received on an SMB socket */
	CT_EV_TCP_FIN,		/* the server closed its side (FIN received) */
	CT_EV_MOUNT,		/* a cifs mount began (cifs_smb3_do_mount) */
	CT_EV_MOUNT_DONE,	/* ... and returned: rc is what mount(2) gets */
	CT_EV_LOST,		/* userspace: .mid records the ring buffer dropped */
	CT_EV_INFLIGHT,		/* userspace, from the kernel's in-flight table: the
				 * oldest unanswered request of a connection, as of
				 * .ts_ns; .latency_ns is its age, .req its split */
	CT_EV_KDC,		/* a Kerberos exchange with a KDC (port 88): .kdc */
	CT_EV_TYPE_MAX,
};

/* ct_event.flags */
#define CT_F_STATUS	(1u << 0)	/* .status holds an NT status */
#define CT_F_RC		(1u << 1)	/* .rc holds a kernel return code */
#define CT_F_LATENCY	(1u << 2)	/* .latency_ns is valid */
#define CT_F_DURATION	(1u << 3)	/* .duration_ns is valid */
#define CT_F_FINAL	(1u << 4)	/* SESSION_SETUP: end of the phase, not a round */
#define CT_F_RST_SENT	(1u << 5)	/* TCP_RESET: we sent it (else received) */
#define CT_F_ADDR	(1u << 6)	/* .saddr/.daddr are valid */
#define CT_F_SENT	(1u << 7)	/* .req.queue_ns is valid (the send was seen) */
#define CT_F_ACKED	(1u << 8)	/* .req.network_ns and .req.server_ns are valid */
#define CT_F_SLOW	(1u << 9)	/* sent because it was slower than the threshold */
#define CT_F_JOINT	(1u << 10)	/* the ACK came with the answer: .req.network_ns
					 * holds network + server, not separable */
#define CT_F_SEAL	(1u << 11)	/* MOUNT: it asked for encryption (seal) */

/* CT_EV_CONNECT result */
enum ct_connect_result {
	CT_CONNECT_OK = 0,	/* SYN answered, ESTABLISHED */
	CT_CONNECT_REFUSED,	/* RST answered the SYN */
	CT_CONNECT_TIMEOUT,	/* the client gave up on an unanswered SYN */
	CT_CONNECT_ERROR,	/* ICMP or other error, errno in .rc */
	CT_CONNECT_STARTED,	/* SYN sent (the connect is under way) */
};

/*
 * CT_EV_KDC: what happened on a socket to a KDC. Any process's (kinit,
 * cifs.upcall, sssd...): userspace ties them to a mount by its upcall.
 */
enum ct_kdc_kind {
	CT_KDC_OPEN = 1,	/* a socket to a KDC: TCP SYN sent, UDP connect() */
	CT_KDC_REPLY,		/* its first data from the KDC; .latency_ns since open */
	CT_KDC_FAILED,		/* TCP connect failed: refused (.rc) or abandoned */
	CT_KDC_CLOSED,		/* TCP closed with no reply */
};

/* Kerberos message types (RFC 4120 5.10), from the message's first byte. */
enum ct_krb_msg {
	CT_KRB_AS_REQ = 10, CT_KRB_AS_REP = 11, CT_KRB_TGS_REQ = 12,
	CT_KRB_TGS_REP = 13, CT_KRB_ERROR = 30,
};

#define CT_KDC_DATA_LEN 220	/* bytes of a KRB-ERROR kept (no secrets in it) */

/* Authentication mechanism, normalised from the kernel's enum securityEnum. */
enum ct_mech {
	CT_MECH_UNKNOWN = 0,
	CT_MECH_NTLMV2,
	CT_MECH_NTLMSSP,
	CT_MECH_KERBEROS,
	CT_MECH_OTHER,
};

struct ct_addr {
	__u16 family;		/* AF_INET or AF_INET6, 0 when unknown */
	__u16 port;		/* host byte order */
	__u8 addr[16];		/* IPv4 in the first 4 bytes */
};

struct ct_event {
	__u64 ts_ns;		/* CLOCK_MONOTONIC */
	__u64 conn_id;		/* TCP_Server_Info conn_id (or its address), 0 unknown */
	__u64 sesid;		/* SMB SessionId */
	__u64 mid;		/* SMB MessageId */
	__u64 latency_ns;	/* request -> response (or -> ACK for CT_EV_ACK) */
	__u64 duration_ns;	/* whole phase / connect / upcall */
	__u32 type;		/* enum ct_event_type */
	__u32 flags;		/* CT_F_* */
	__u32 pid;		/* thread group id */
	__u32 tid;		/* SMB TreeId */
	__u32 status;		/* NT status, valid with CT_F_STATUS */
	__s32 rc;		/* negative errno, valid with CT_F_RC */
	__u16 cmd;		/* SMB2 command */
	__u16 round;		/* SESSION_SETUP round number, from 1 */
	__u32 pad;
	char comm[CT_COMM_LEN];
	char server[CT_HOST_LEN];	/* host name as the client knows it */
	struct ct_addr saddr;
	struct ct_addr daddr;
	union {
		struct {
			__u32 result;		/* enum ct_connect_result */
		} connect;
		struct {
			__u16 dialect;		/* e.g. 0x0311 */
			__u16 security_mode;	/* server's SecurityMode */
			__u32 capabilities;	/* server's Capabilities */
		} negotiate;
		struct {
			__u32 mech;		/* enum ct_mech */
			__u32 session_flags;	/* SMB2_SESSION_FLAG_* (final) */
			char user[CT_NAME_LEN];
			char domain[CT_NAME_LEN];
		} session;
		struct {
			__u32 share_flags;	/* SMB2_SHAREFLAG_* */
			__u32 seal;		/* client asked for encryption */
			char unc[CT_UNC_LEN];
			/*
			 * The connection's dialect and capabilities as
			 * negotiated (0: unknown), read from the connection:
			 * a second share of a server, or a mount's tree
			 * connect on a connection older than the tracer,
			 * has no NEGOTIATE of its own to take them from.
			 */
			__u16 dialect;
			__u16 pad;
			__u32 capabilities;
		} tree;
		struct {
			__u32 state;		/* TCP state at the time */
		} tcp;
		/*
		 * A request's time split (RESPONSE, INFLIGHT): queue = entered
		 * (or started waiting for credits) -> on the wire; network = on
		 * the wire -> the server's TCP ACKed its last byte; server =
		 * ACK -> response. When the server answered before its TCP sent
		 * an ACK of its own (delayed ACK), the answer carries the ACK:
		 * then network and server cannot be told apart (CT_F_JOINT).
		 * pid/comm of the event are the task that issued the request,
		 * even when cifsd took the response.
		 */
		struct {
			__u64 queue_ns;
			__u64 network_ns;
			__u64 server_ns;
			/*
			 * The path the operation names, where a cifs
			 * tracepoint gives it (open, and the compound
			 * operations: stat, unlink, mkdir, rename...; 6.1+
			 * for open), truncated; "" where none. Only in
			 * records that leave the kernel (events, --slower).
			 */
			char path[CT_PATH_LEN];
		} req;
		/*
		 * CT_EV_KDC. Only a KRB-ERROR's bytes leave the kernel: replies
		 * with tickets and keys (AS-REP, TGS-REP) give their type and
		 * length only. Decoded in userspace (user/krb.c).
		 */
		struct {
			__u8 kind;		/* enum ct_kdc_kind */
			__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
			__u8 msg;		/* enum ct_krb_msg, 0 unknown */
			__u8 pad;
			__u32 msg_len;		/* the message's length (TCP: its record's) */
			__u16 data_len;		/* valid bytes in data (a KRB-ERROR's first) */
			__u16 pad2;
			__u8 data[CT_KDC_DATA_LEN];
		} kdc;
		struct {
			__u32 port;		/* port= option, 0 for the default */
			/*
			 * vers= as the kernel parsed it: the first bytes of its
			 * version string ("1.0", "2.1", "3.02", "3.1." for
			 * 3.1.1, "defa" for default), NUL-padded; "" unknown.
			 */
			char vers[4];
			char unc[CT_UNC_LEN];	/* as given to mount */
			char user[CT_NAME_LEN];
		} mount;
		/*
		 * CT_EV_MOUNT_DONE: the mount's source as the kernel holds it
		 * (//server/share/path; a device string, never options),
		 * truncated: its path inside the share names what a refused
		 * lookup after the TREE_CONNECT was for when no path hook
		 * ran. Here, not in the mount record: that union is full.
		 */
		struct {
			char source[CT_PATH_LEN];
		} mount_done;
	};
};

/* Wire flags worth naming (MS-SMB2). */
#define CT_SMB2_GLOBAL_CAP_ENCRYPTION		0x00000040
#define CT_SMB2_NEGOTIATE_SIGNING_ENABLED	0x0001
#define CT_SMB2_NEGOTIATE_SIGNING_REQUIRED	0x0002
#define CT_SMB2_SESSION_FLAG_IS_GUEST		0x0001
#define CT_SMB2_SESSION_FLAG_IS_NULL		0x0002
#define CT_SMB2_SESSION_FLAG_ENCRYPT_DATA	0x0004
#define CT_SMB2_SHAREFLAG_ENCRYPT_DATA		0x00008000

/*
 * In-kernel aggregation, read by userspace from maps (never streamed).
 * Latency histograms: one per (connection, session, tree, command), log2
 * microsecond buckets (slot i counts [2^i, 2^(i+1)) us, slot 0 also 0 us,
 * the last slot everything above).
 */
#define CT_HIST_SLOTS	27		/* up to 2^26 us = 67 s, then "more" */

/*
 * The slot of a latency of us microseconds: floor(log2(us)), 0 for 0, the
 * last slot for everything above (exact for us < 2^63). libbpf-tools'
 * log2l, without its branches: the verifier follows one path through it.
 * Each of log2l's six branches left a state with its own exact result, and
 * everything after it was verified once per state (smb3_cmd_done on 6.1:
 * 14,722 instructions processed, 3,887 with this).
 */
static inline __attribute__((always_inline)) __u32 ct_hist_slot(__u64 us)
{
	__u64 r, s;

	r = ((0xFFFFFFFFull - us) >> 63) << 5;	/* us > 2^32 - 1: 32 */
	us >>= r;
	s = ((0xFFFFull - us) >> 63) << 4;
	us >>= s;
	r |= s;
	s = ((0xFFull - us) >> 63) << 3;
	us >>= s;
	r |= s;
	s = ((0xFull - us) >> 63) << 2;
	us >>= s;
	r |= s;
	s = ((0x3ull - us) >> 63) << 1;
	us >>= s;
	r |= s | us >> 1;
	return r < CT_HIST_SLOTS ? r : CT_HIST_SLOTS - 1;
}

struct ct_hist_key {
	__u64 conn_id;
	__u64 sesid;
	__u32 tid;
	__u32 cmd;
};

struct ct_hist {
	__u64 count;
	__u64 errors;		/* responses with an error status */
	__u64 total_ns;
	__u64 max_ns;
	__u64 sent_count;	/* requests whose send was seen */
	__u64 queue_ns;		/* ... the sum of their queue times */
	__u64 split_count;	/* requests ACKed before their answer */
	__u64 network_ns;	/* ... the sums of their network and server times */
	__u64 server_ns;
	__u64 joint_count;	/* requests whose answer carried the ACK */
	__u64 joint_ns;		/* ... the sum of their network + server times */
	__u64 slots[CT_HIST_SLOTS];
};

/*
 * The histograms' map: a per-CPU array that the BPF side uses as a hash
 * table (no helper call, no lock on the hot path), CT_HIST_ENTRIES at most
 * per CPU (the loader may set fewer on hosts with many CPUs). Each CPU
 * puts a key where it first finds room: userspace merges the CPUs'
 * entries by key. Entries are never removed.
 */
#define CT_HIST_ENTRIES	1024
#define CT_HIST_PROBES	4

struct ct_hist_entry {
	struct ct_hist_key k;
	__u32 used;
	__u32 pad;
	struct ct_hist v;
};

/*
 * Error responses by NT status, per (connection, session, tree, command):
 * a per-CPU array used as a hash table as the histograms' is (entries
 * never removed, userspace sums the CPUs' entries by key). It was a hash
 * map: each error answer cost a hash lookup (three for a failed compound,
 * whose chained requests fail with it): 2,479 instructions for a stat of
 * a missing file, 1,798 now, 881 without the counters (6.1).
 */
#define CT_ERR_ENTRIES	512
#define CT_ERR_PROBES	4

struct ct_err_key {
	struct ct_hist_key h;
	__u32 status;
	__u32 pad;
};

struct ct_err_entry {
	struct ct_err_key k;
	__u32 used;
	__u32 pad;
	__u64 v;		/* error answers */
};

/*
 * Bytes moved per tree (smb3_read_done / smb3_write_done): a per-CPU array
 * used as a hash table as the histograms' is (CT_IO_PROBES slots tried,
 * entries never removed, userspace sums the CPUs' entries by key). It was
 * a hash map: its lookup made each of those programs cost 5-6 us a run in
 * the emulated guest, where a per-CPU array's costs a tenth of that.
 */
#define CT_IO_ENTRIES	256
#define CT_IO_PROBES	4

struct ct_tree_key {
	__u64 sesid;
	__u32 tid;
	__u32 pad;
};

struct ct_io {
	__u64 read_bytes;
	__u64 write_bytes;
};

struct ct_io_entry {
	struct ct_tree_key k;
	__u32 used;
	__u32 pad;
	struct ct_io v;
};

/* Per-connection counters. */
struct ct_conn_stats {
	__u64 reconnects;
	__u64 credit_stalls;	/* a request had to wait for credits */
	__u64 credit_timeouts;	/* ... and gave up after the kernel's limit */
	__u64 retransmits;
	__u64 resets;
};

/* What the client knows about a server connection, by conn_id. */
struct ct_conn_info {
	char host[CT_HOST_LEN];
	struct ct_addr daddr;
};

/*
 * A request in flight, from smb3_cmd_enter to its response: the table
 * userspace scans for the oldest unanswered request per connection.
 * Keyed by (session, mid); the task stands in for the session while a
 * session has no id yet (NEGOTIATE, the first SESSION_SETUP).
 *
 * The table is an array of CT_REQ_SLOTS, not a hash map: the BPF side
 * finds a key's slot itself (consecutive mids of a session in consecutive
 * slots, CT_REQ_PROBES tried), so the hot path calls no map helper. A
 * slot is free while enter_ns is 0. Userspace maps it and reads it.
 */
#define CT_REQ_SLOTS	8192
/* slots (+ 1; 0: none) per run of ack_probe: a raw tracepoint's 12 arguments */
#define CT_ACK_PROBE_MAX	12
#define CT_REQ_PROBES	2

struct ct_req_key {
	__u64 sesid;
	__u64 mid;
	__u32 tid_task;
	__u32 pad;
};

struct ct_req {
	__u64 enter_ns;		/* entered, or began waiting for credits; 0: free */
	struct ct_req_key key;
	__u64 sent_ns;		/* 0 until __smb_send_rqst returned */
	__u64 acked_ns;		/* 0 until the server's TCP ACKed it */
	__u64 conn_id;		/* 0 until known (phase or send) */
	__u32 tid;
	__u32 pid;
	__u16 cmd;
	__u8 stream;		/* a mount-phase request: streamed as it happens */
	__u8 ack_with_data;	/* the ACK came on a segment with data (the answer) */
	__u8 compound_left;	/* requests sent after it in the same compound */
	__u8 path_gen;		/* its thread's path (ct_tslot), 0: none */
	__u8 pad[2];
	char comm[CT_COMM_LEN];
	__u32 task;		/* the thread that issued it */
	/*
	 * ACKs read from the socket (latency: no per-segment hook): the
	 * socket it went out on, the sequence just past its last byte, and
	 * the socket's count of segments without data at the send.
	 */
	__u32 end_seq;
	__u64 sk;
	__u32 pure_in;
	__u32 pad2;
};

/*
 * The smb_dports map: a byte per remote port, 64 ports per entry (port >> 6
 * the entry, port & 63 the byte), tested by tcp_probe before any lookup.
 * The BPF side marks SMB servers' ports; the loader marks the KDC's.
 */
enum ct_port_kind { CT_PORT_NONE = 0, CT_PORT_SMB = 1, CT_PORT_KDC = 2 };

struct ct_ports {
	__u8 on[64];
};

/* Counters of what the kernel side could not keep (index into stats). */
enum ct_stat {
	CT_STAT_LOST,		/* ring buffer full: records dropped */
	CT_STAT_REQS_FULL,	/* in-flight table full: request not timed */
	CT_STAT_HIST_FULL,	/* histogram table full: request not counted */
	CT_STAT_ERRS_FULL,	/* error table full: status not counted */
	CT_STAT_ACK_OVERRUN,	/* more requests unACKed on a socket than slots */
	CT_STAT_SEND_UNMATCHED,	/* task slot taken: request's send not timed */
	CT_STAT_IO_FULL,	/* byte table full: a read's or write's bytes not counted */
	CT_STAT_MAX,
};

#endif /* CIFSTRACE_H */
