/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few cifs.ko types the tracer reads, declared locally.
 *
 * cifs is a module, so its types are not in the build host's vmlinux.h.
 * Each struct lists only the fields we read; preserve_access_index makes
 * every access a CO-RE relocation that libbpf resolves against the running
 * kernel's module BTF (/sys/kernel/btf/cifs), so offsets are never
 * hard-coded. Fields renamed across kernel versions get a ___flavor twin
 * and are read through bpf_core_field_exists().
 */
#ifndef CIFS_TYPES_H
#define CIFS_TYPES_H

struct TCP_Server_Info {
	char *hostname;
	struct socket *ssocket;
	struct __kernel_sockaddr_storage dstaddr;
	__u16 dialect;
	__u16 sec_mode;
	__u32 capabilities;
	int credits;		/* granted and not yet used */
	__u64 conn_id;		/* 5.15+; older kernels: use the address */
} __attribute__((preserve_access_index));

enum securityEnum {
	Unspecified = 0,
	LANMAN,			/* gone in 5.15 */
	NTLM,			/* gone in 5.15 */
	NTLMv2,
	RawNTLMSSP,
	Kerberos,
};

struct cifs_ses {
	struct TCP_Server_Info *server;
	char *user_name;
	char *domainName;
	__u64 Suid;
	__u16 session_flags;
	enum securityEnum sectype;
} __attribute__((preserve_access_index));

struct cifs_tcon {
	__u32 tid;
	__u32 share_flags;
	bool seal;		/* a bitfield on some kernels: read with _PROBED */
} __attribute__((preserve_access_index));

/* A request waiting for its answer (cifsglob.h), read in async callbacks. */
struct mid_q_entry {
	__u64 mid;
	__u32 pid;		/* the thread that sent it */
	int mid_state;		/* MID_RESPONSE_RECEIVED = 0x04 ... */
} __attribute__((preserve_access_index));

#define CT_MID_RESPONSE_RECEIVED	0x04
#define CT_MID_RESPONSE_MALFORMED	0x10
#define CT_MID_RESPONSE_READY		0x40	/* 6.6+: received, waiter woken */

/* A protocol version's constants: smb1_values, smb311_values... */
struct smb_version_values {
	char *version_string;	/* "1.0", "2.1", "3.1.1", "default"... */
} __attribute__((preserve_access_index));

/* Mount options (fs_context.h), read at cifs_smb3_do_mount. */
struct smb3_fs_context {
	char *source;		/* //server/share/path */
	char *UNC;
	char *username;
	unsigned short port;
	struct smb_version_values *vals;	/* what vers= asked for */
	bool seal;		/* a bitfield: read with _PROBED */
} __attribute__((preserve_access_index));

/* The same, before the fs_context mount API (5.10), read at cifs_mount. */
struct smb_vol {
	char *UNC;
	char *username;
	struct __kernel_sockaddr_storage dstaddr;	/* port= is its port */
	struct smb_version_values *vals;
	bool seal;
} __attribute__((preserve_access_index));

#endif /* CIFS_TYPES_H */
