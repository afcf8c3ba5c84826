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

#define CT_ABI_VERSION	1

#define CT_COMM_LEN	16
#define CT_HOST_LEN	64
#define CT_NAME_LEN	64	/* user and domain names */
#define CT_UNC_LEN	160	/* \\server\share */

/* SMB2 commands (MS-SMB2 2.2.1.2), the ones the tracer names. */
enum ct_smb2_cmd {
	CT_SMB2_NEGOTIATE	= 0,
	CT_SMB2_SESSION_SETUP	= 1,
	CT_SMB2_LOGOFF		= 2,
	CT_SMB2_TREE_CONNECT	= 3,
	CT_SMB2_TREE_DISCONNECT	= 4,
	CT_SMB2_ECHO		= 13,
	CT_SMB2_NR_COMMANDS	= 19,
};

enum ct_event_type {
	CT_EV_CONNECT = 1,	/* TCP connect to an SMB server ended (ok or not) */
	CT_EV_REQUEST,		/* an SMB request is about to be sent (smb3_cmd_enter) */
	CT_EV_ACK,		/* the server's TCP acknowledged the whole request */
	CT_EV_RESPONSE,		/* an SMB response was mapped (smb3_cmd_done/err) */
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

/* CT_EV_CONNECT result */
enum ct_connect_result {
	CT_CONNECT_OK = 0,	/* SYN answered, ESTABLISHED */
	CT_CONNECT_REFUSED,	/* RST answered the SYN */
	CT_CONNECT_TIMEOUT,	/* the client gave up on an unanswered SYN */
	CT_CONNECT_ERROR,	/* ICMP or other error, errno in .rc */
	CT_CONNECT_STARTED,	/* SYN sent (the connect is under way) */
};

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
		} tree;
		struct {
			__u32 state;		/* TCP state at the time */
		} tcp;
		struct {
			__u32 port;		/* port= option, 0 for the default */
			__u32 pad;
			char unc[CT_UNC_LEN];	/* as given to mount */
			char user[CT_NAME_LEN];
		} mount;
	};
};

/* Wire flags worth naming (MS-SMB2). */
#define CT_SMB2_GLOBAL_CAP_ENCRYPTION		0x00000040
#define CT_SMB2_NEGOTIATE_SIGNING_REQUIRED	0x0002
#define CT_SMB2_SESSION_FLAG_IS_GUEST		0x0001
#define CT_SMB2_SESSION_FLAG_IS_NULL		0x0002
#define CT_SMB2_SESSION_FLAG_ENCRYPT_DATA	0x0004
#define CT_SMB2_SHAREFLAG_ENCRYPT_DATA		0x00008000

#endif /* CIFSTRACE_H */
