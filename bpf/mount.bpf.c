// SPDX-License-Identifier: GPL-2.0
/*
 * cifstrace, kernel side: the mount phases. A task's phase (connect,
 * negotiate, session setup, tree connect) runs from the function's entry
 * to its exit; it carries the pointers the wire tracepoints lack, counts
 * the phase's rounds, and its exit states the result: dialect and
 * capabilities, user, domain and mechanism (names only, never secrets),
 * tree id and share flags, the errno mount(2) returns.
 *
 * Hooks: fentry/fexit (kprobe/kretprobe where no BTF) on
 * cifs_smb3_do_mount, generic_ip_connect, SMB2_negotiate, SMB2_sess_setup,
 * SMB2_tcon, cifs_get_spnego_key; raw tracepoints smb3_tcon, smb3_reconnect.
 */
#include "core.bpf.h"

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

static __always_inline void phase_begin(__u32 kind, struct TCP_Server_Info *server,
					struct cifs_ses *ses, struct cifs_tcon *tcon)
{
	struct ct_task *t = task_get_or_init();
	struct ct_phase *ph;

	if (!t)
		return;
	ph = &t->phase;
	if (!ph->kind)
		__sync_fetch_and_add(&tasks_in_phase, 1);
	__builtin_memset(ph, 0, sizeof(*ph));
	ph->start_ns = bpf_ktime_get_ns();
	ph->kind = kind;
	ph->server = server;
	ph->ses = ses;
	ph->tcon = tcon;
	ph->conn_id = remember_server(server);
}

static __always_inline void phase_end(__u32 kind)
{
	struct ct_phase *ph = phase_get(kind);

	if (ph) {
		ph->kind = 0;
		__sync_fetch_and_add(&tasks_in_phase, -1);
	}
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

/*
 * requests.bpf.c calls this for each response: one round of the task's
 * current phase when the command is the phase's own. Arguments are packed
 * (a global function takes five): status << 32 | (u32)rc, tid << 32 |
 * err << 16 | cmd.
 */
__noinline int phase_round(__u64 mid, __u64 sesid, __u64 status_rc, __u64 latency,
			   __u64 tid_err_cmd)
{
	struct ct_phase *ph = phase_get(0);
	__u16 cmd = (__u16)tid_err_cmd;
	bool err = (tid_err_cmd >> 16) & 1;
	struct ct_event *e;

	if (!ph)
		return 0;
	if (!((ph->kind == PH_NEGOTIATE && cmd == CT_SMB2_NEGOTIATE) ||
	      (ph->kind == PH_SESSION && cmd == CT_SMB2_SESSION_SETUP) ||
	      (ph->kind == PH_TCON && cmd == CT_SMB2_TREE_CONNECT)))
		return 0;
	ph->answered = 1;
	ph->status = status_rc >> 32;
	ph->latency_ns = latency;
	ph->mid = mid;
	ph->tid = tid_err_cmd >> 32;
	ph->rounds++;
	if (ph->kind != PH_SESSION)
		return 0;

	/* SESSION_SETUP: every round is a fact (MORE_PROCESSING, then the end) */
	e = ev_new(CT_EV_SESSION_SETUP, ph->conn_id);
	if (!e)
		return 0;
	e->sesid = sesid;
	e->mid = mid;
	e->cmd = cmd;
	e->round = ph->rounds;
	ev_status(e, status_rc >> 32);
	if (err)
		ev_rc(e, (int)(__u32)status_rc);
	ev_latency(e, latency);
	ev_session(e, ph);
	bpf_ringbuf_submit(e, 0);
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

		struct TCP_Server_Info *server = ph->server;

		if (tcon && CIFS_BTF) {
			e->tree.share_flags = BPF_CORE_READ(tcon, share_flags);
			e->tree.seal = BPF_CORE_READ_BITFIELD_PROBED(tcon, seal);
		}
		/* the connection's, as NEGOTIATE left them: it may be older */
		if (server && CIFS_BTF) {
			e->tree.dialect = BPF_CORE_READ(server, dialect);
			e->tree.capabilities = BPF_CORE_READ(server, capabilities);
		}
	} else {
		ev_rc(e, rc);
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* The mount's options as the kernel parsed them (names only, never secrets). */
static __always_inline void mount_event(const char *unc, const char *user, __u16 port,
					const char *vers, bool seal)
{
	struct ct_event *e = ev_new(CT_EV_MOUNT, 0);
	char v[8] = {};

	if (!e)
		return;
	bpf_probe_read_kernel_str(e->mount.unc, sizeof(e->mount.unc), unc);
	bpf_probe_read_kernel_str(e->mount.user, sizeof(e->mount.user), user);
	e->mount.port = port;
	/* read whole, so that "3.02" and "3.0" stay apart; kept: 4 bytes */
	if (vers)
		bpf_probe_read_kernel_str(v, sizeof(v), vers);
	__builtin_memcpy(e->mount.vers, v, sizeof(e->mount.vers));
	if (seal)
		e->flags |= CT_F_SEAL;
	bpf_ringbuf_submit(e, 0);
}

/*
 * cifs_smb3_do_mount(fs_type, flags, ctx) since 5.11, (fc, ctx) since 7.x
 * (mount_ctx_arg says which); 5.10's is (fs_type, flags, dev_name, data,
 * is_smb3): data, the raw option string, holds the password (never read),
 * and the parsed options reach cifs_mount(cifs_sb, smb_vol), which states
 * the mount there. arg: ctx, or 5.10's dev_name.
 * The source string lives until the mount returns (the context's, or the
 * copy mount(2) made of the device name): read then, for the done record.
 */
static __always_inline void mount_enter(void *arg)
{
	struct smb3_fs_context *ctx = arg;
	struct ct_task *t = task_get_or_init();

	if (t) {
		if (!t->mount_ns)
			__sync_fetch_and_add(&tasks_in_phase, 1);
		t->mount_ns = bpf_ktime_get_ns();
		if (bpf_core_type_exists(struct smb3_fs_context))
			t->source = bpf_core_field_exists(ctx->source) ?
					    BPF_CORE_READ(ctx, source) : NULL;
		else if (bpf_core_type_exists(struct smb_vol))
			t->source = arg;	/* 5.10: dev_name */
		else
			t->source = NULL;	/* no BTF for cifs: which is it? */
	}
	if (bpf_core_type_exists(struct smb3_fs_context))
		mount_event(BPF_CORE_READ(ctx, UNC), BPF_CORE_READ(ctx, username),
			    BPF_CORE_READ(ctx, port),
			    bpf_core_field_exists(ctx->vals) ?
				BPF_CORE_READ(ctx, vals, version_string) : NULL,
			    bpf_core_field_exists(ctx->seal) &&
				BPF_CORE_READ_BITFIELD_PROBED(ctx, seal));
	else if (!bpf_core_type_exists(struct smb_vol))
		mount_event(NULL, NULL, 0, NULL, false);	/* no BTF for cifs: the start alone */
}

SEC("kprobe/cifs_mount")
int BPF_KPROBE(kprobe_cifs_mount, void *cifs_sb, struct smb_vol *vol)
{
	struct ct_addr a = {};

	if (!bpf_core_type_exists(struct smb_vol))
		return 0;
	addr_from_sockaddr(&a, &vol->dstaddr);
	mount_event(BPF_CORE_READ(vol, UNC), BPF_CORE_READ(vol, username), a.port,
		    bpf_core_field_exists(vol->vals) ? BPF_CORE_READ(vol, vals, version_string) :
						       NULL,
		    bpf_core_field_exists(vol->seal) && BPF_CORE_READ_BITFIELD_PROBED(vol, seal));
	return 0;
}

/* cifs_smb3_do_mount returns a dentry or ERR_PTR(-errno). */
static __always_inline void mount_exit(long ret)
{
	struct ct_task *t = task_get();
	struct ct_event *e;

	if (!t || !t->mount_ns)
		return;
	e = ev_new(CT_EV_MOUNT_DONE, 0);
	if (e) {
		ev_rc(e, ret < 0 && ret >= -4095 ? ret : 0);
		ev_duration(e, bpf_ktime_get_ns() - t->mount_ns);
		if (t->source)
			bpf_probe_read_kernel_str(e->mount_done.source,
						  sizeof(e->mount_done.source), t->source);
		bpf_ringbuf_submit(e, 0);
	}
	t->mount_ns = 0;
	t->source = NULL;
	__sync_fetch_and_add(&tasks_in_phase, -1);
}

static __always_inline void upcall_enter(void)
{
	struct ct_task *t = task_get_or_init();
	struct ct_phase *ph = phase_in(t, PH_SESSION);
	struct ct_event *e;

	if (ph)
		ph->upcalled = 1;
	if (t)
		t->upcall_ns = bpf_ktime_get_ns();
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
	struct ct_task *t = task_get();
	struct ct_phase *ph = phase_in(t, PH_SESSION);
	struct ct_event *e;

	if (!t || !t->upcall_ns)
		return;
	e = ev_new(CT_EV_UPCALL, ph ? ph->conn_id : 0);
	if (e) {
		/* cifs_get_spnego_key returns a key or ERR_PTR(-errno) */
		ev_rc(e, ret < 0 && ret >= -4095 ? ret : 0);
		ev_duration(e, bpf_ktime_get_ns() - t->upcall_ns);
		if (ph)
			ev_session(e, ph);
		bpf_ringbuf_submit(e, 0);
	}
	t->upcall_ns = 0;
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
	   mount_enter((void *)(mount_ctx_arg == 1 ? a1 : a2)),
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

/*
 * smb3_reconnect(currmid, conn_id, hostname) since 5.15, (currmid,
 * hostname) before: the arguments are copied, not read from the context,
 * since a raw tracepoint program that reads past the last argument does
 * not attach.
 */
SEC("raw_tp/smb3_reconnect")
int tp_smb3_reconnect(__u64 *ctx)
{
	__u64 a[3] = {};
	__u64 conn_id;
	const char *host;
	struct ct_event *e;

	bpf_probe_read_kernel(a, (reconnect_has_conn_id ? 3 : 2) * sizeof(__u64), ctx);
	if (reconnect_has_conn_id) {
		conn_id = a[1];
	} else {
		struct ct_task *t = task_get();	/* fires inside cifs_reconnect */

		conn_id = t ? t->reconnect_conn : 0;
	}
	host = (const char *)(reconnect_has_conn_id ? a[2] : a[1]);
	conn_stat_inc(conn_id, reconnects);
	e = ev_new(CT_EV_RECONNECT, conn_id);
	if (!e)
		return 0;
	e->mid = a[0];
	if (!e->server[0])
		bpf_probe_read_kernel_str(e->server, sizeof(e->server), host);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* Before 5.15 smb3_reconnect names no connection: cifs_reconnect's server does. */
SEC("kprobe/cifs_reconnect")
int BPF_KPROBE(kprobe_cifs_reconnect, struct TCP_Server_Info *server)
{
	struct ct_task *t = task_get_or_init();

	if (t)
		t->reconnect_conn = remember_server(server);
	return 0;
}
