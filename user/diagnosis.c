// SPDX-License-Identifier: GPL-2.0
/*
 * From an attempt's events to one diagnosis. First the facts are picked
 * out of the timeline (extract), then the first phase that went wrong
 * decides the class (classify), then the text is written for that class
 * from the facts (one explain_* per class). The reasoning follows
 * Microsoft's "negotiate, session setup and tree connect failures" guide,
 * adapted to what the Linux client does.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include "diagnosis.h"
#include "krb.h"
#include "names.h"
#include "ntstatus.h"
#include "render.h"

/* The kernel's own "not supported" (5.10's signing refusal), not in errno.h */
#define ENOTSUPP_KERNEL 524

const char *const diagnosis_classes[] = {
	"ok", "connect-refused", "connect-timeout", "connect-unreachable",
	"negotiate-no-response", "negotiate-closed", "negotiate-rejected",
	"auth-logon-failure", "auth-account", "auth-kerberos", "auth-access-denied",
	"auth-no-response", "tree-bad-network-name", "tree-access-denied",
	"tree-encryption-required", "tree-encryption-unavailable", "tree-no-response",
	"tree-path-not-found", "tree-path-access-denied", "signing-failure",
	"server-unresponsive", "connection-closed", "unknown", NULL,
};

const char *outcome_name(enum outcome o)
{
	return o == OUTCOME_OK ? "ok" : o == OUTCOME_HUNG ? "hung" : "failed";
}

const char *phase_name(enum phase p)
{
	static const char *const names[] = { "connect", "negotiate", "session_setup",
					     "tree_connect" };

	return names[p];
}

/* ------------------------------------------------------------ facts */

struct facts {
	const struct attempt *a;
	__u64 now;
	const struct ct_event *mount, *done;
	const struct ct_event *syn, *conn;		/* last SYN, last connect result */
	bool syn_waiting;				/* hung on a SYN with no result */
	const struct ct_event *neg_req, *neg_ack, *neg;
	const struct ct_event *sess_round, *sess_bad, *sess_final;
	const struct ct_event *upcall;
	/* Kerberos: the upcall's exchanges with KDCs */
	const struct ct_event *kdc_open, *kdc_reply, *krb_err, *krb_normal, *as_err;
	bool kdc_reply_ok;				/* an AS-REP or TGS-REP came */
	/* decoded: the cause, a normal step, and an AS exchange's error */
	struct krb_error krb, krb_normal_k, as_krb;
	int kdc_opens, kdc_replies, kdc_failed, kdc_refused, kdc_tcp, kdc_udp;
	const struct ct_event *tree_req, *tree_ack, *tree;	/* tree: the share, not IPC$ */
	/* after the share's TREE_CONNECT: the first failed lookup of a path */
	const struct ct_event *path_err;
	const struct ct_event *fin, *rst_in, *reconnect, *bad_sig;
	const struct ct_event *pending, *pending_ack;	/* request with no response */
	const struct ct_event *first_neg_req, *first_reconnect;
	int retransmits, rounds, neg_reqs, reconnects;
	bool smb1;		/* the mount asked for vers=1.0 */
};

static bool is_ipc(const char *unc)
{
	size_t n = strnlen(unc, CT_UNC_LEN);

	return n >= 5 && !strcasecmp(unc + n - 5, "\\IPC$");
}

static const struct ct_event *ack_of(const struct attempt *a, const struct ct_event *req)
{
	for (size_t i = 0; req && i < a->nev; i++)
		if (a->ev[i].type == CT_EV_ACK && a->ev[i].mid == req->mid &&
		    a->ev[i].conn_id == req->conn_id && a->ev[i].ts_ns >= req->ts_ns)
			return &a->ev[i];
	return NULL;
}

static bool answered(const struct attempt *a, const struct ct_event *req)
{
	for (size_t i = 0; i < a->nev; i++)
		if (a->ev[i].type == CT_EV_RESPONSE && a->ev[i].mid == req->mid &&
		    a->ev[i].conn_id == req->conn_id && a->ev[i].ts_ns >= req->ts_ns)
			return true;
	return false;
}

static void extract_kdc(struct facts *f, const struct ct_event *e)
{
	struct krb_error k;

	switch (e->kdc.kind) {
	case CT_KDC_OPEN:
		f->kdc_open = e;
		f->kdc_opens++;
		if (e->kdc.proto == IPPROTO_TCP)
			f->kdc_tcp++;
		else
			f->kdc_udp++;
		break;
	case CT_KDC_REPLY:
		f->kdc_reply = e;
		f->kdc_replies++;
		if (e->kdc.msg == CT_KRB_AS_REP || e->kdc.msg == CT_KRB_TGS_REP)
			f->kdc_reply_ok = true;
		if (krb_error_of(e, &k))
			break;
		if (krb_error_normal(k.code)) {
			f->krb_normal = e;
			f->krb_normal_k = k;
		} else if (!strncmp(k.sname, "krbtgt/", 7)) {
			/* an AS exchange: the upcall tried to get a TGT itself */
			f->as_err = e;
			f->as_krb = k;
		} else {
			f->krb_err = e;
			f->krb = k;
		}
		break;
	case CT_KDC_FAILED:
		f->kdc_failed++;
		if (e->rc == -ECONNREFUSED)
			f->kdc_refused++;
		break;
	}
}

static void extract(const struct attempt *a, __u64 now, struct facts *f)
{
	memset(f, 0, sizeof(*f));
	f->a = a;
	f->now = now;
	for (size_t i = 0; i < a->nev; i++) {
		const struct ct_event *e = &a->ev[i];

		switch (e->type) {
		case CT_EV_MOUNT:
			f->mount = e;
			f->smb1 = vers_name(e->mount.vers) && !strcmp(vers_name(e->mount.vers), "1.0");
			break;
		case CT_EV_MOUNT_DONE:
			f->done = e;
			break;
		case CT_EV_CONNECT:
			if (e->connect.result == CT_CONNECT_STARTED)
				f->syn = e;
			else
				f->conn = e;
			break;
		case CT_EV_REQUEST:
			if (e->cmd == CT_SMB2_NEGOTIATE) {
				f->neg_req = e;
				if (!f->neg_reqs++)
					f->first_neg_req = e;
			}
			else if (e->cmd == CT_SMB2_TREE_CONNECT)
				f->tree_req = e;
			if (!answered(a, e))
				f->pending = e;
			break;
		case CT_EV_RESPONSE:
			if ((e->flags & CT_F_STATUS) && e->status == NT_STATUS_INVALID_SIGNATURE)
				f->bad_sig = e;
			else if ((e->flags & CT_F_STATUS) && e->status && f->tree && !f->path_err &&
				 (e->cmd == CT_SMB2_CREATE || e->cmd == CT_SMB2_QUERY_INFO))
				f->path_err = e;
			break;
		case CT_EV_NEGOTIATE:
			f->neg = e;
			break;
		case CT_EV_SESSION_SETUP:
			if (e->flags & CT_F_FINAL) {
				f->sess_final = e;
				break;
			}
			f->sess_round = e;
			f->rounds++;
			if (e->status && e->status != NT_STATUS_MORE_PROCESSING_REQUIRED)
				f->sess_bad = e;
			break;
		case CT_EV_UPCALL:
			f->upcall = e;
			break;
		case CT_EV_KDC:
			extract_kdc(f, e);
			break;
		case CT_EV_TREE_CONNECT:
			if (!is_ipc(e->tree.unc))
				f->tree = e;
			break;
		case CT_EV_TCP_FIN:
			f->fin = e;
			break;
		case CT_EV_TCP_RESET:
			if (!(e->flags & CT_F_RST_SENT))
				f->rst_in = e;
			break;
		case CT_EV_TCP_RETRANSMIT:
			f->retransmits++;
			break;
		case CT_EV_RECONNECT:
			f->reconnect = e;
			if (!f->reconnects++)
				f->first_reconnect = e;
			break;
		}
	}
	f->syn_waiting = f->syn && (!f->conn || f->conn->ts_ns < f->syn->ts_ns) &&
			 !(f->neg_req && f->neg_req->ts_ns > f->syn->ts_ns);
	f->neg_ack = ack_of(a, f->neg_req);
	f->tree_ack = ack_of(a, f->tree_req);
	f->pending_ack = ack_of(a, f->pending);
}

static const struct ct_event *closed_before(const struct facts *f);
static void closed_evidence(struct diagnosis *d, const struct facts *f,
			    const struct ct_event *c);

/* ------------------------------------------------------------ text helpers */

static void summary(struct diagnosis *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void summary(struct diagnosis *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->summary, sizeof(d->summary), fmt, ap);
	va_end(ap);
}

/* One more line in a bounded list (evidence, advice); extra lines are dropped. */
static void add_item(char (*items)[DIAG_TEXT], int *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add_item(char (*items)[DIAG_TEXT], int *n, const char *fmt, ...)
{
	va_list ap;

	if (*n >= DIAG_MAX_ITEMS)
		return;
	va_start(ap, fmt);
	vsnprintf(items[(*n)++], DIAG_TEXT, fmt, ap);
	va_end(ap);
}

#define evidence(d, ...)	add_item((d)->evidence, &(d)->nevidence, __VA_ARGS__)
#define advice(d, ...)		add_item((d)->advice, &(d)->nadvice, __VA_ARGS__)

/* "812 µs", "52.3 ms", "21.04 s" */
static const char *dur(__u64 ns, char *buf, size_t len)
{
	if (ns < 10000000ull)
		snprintf(buf, len, "%llu µs", (unsigned long long)(ns / 1000));
	else if (ns < 1000000000ull)
		snprintf(buf, len, "%.1f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", ns / 1e9);
	return buf;
}

#define DUR(ns) dur((ns), (char[32]){ 0 }, 32)

static const char *status_text(__u32 status)
{
	static __thread char buf[64];
	const char *name = ntstatus_name(status);

	snprintf(buf, sizeof(buf), "%s (0x%08X)", name ? name : "an unknown status", status);
	return buf;
}

/* "mount error(13): Permission denied", as mount.cifs prints it. */
static const char *mount_error(int err)
{
	static __thread char buf[96];

	snprintf(buf, sizeof(buf), "mount error(%d): %s", -err, strerror(-err));
	return buf;
}

/*
 * The connection's dialect and capabilities: this attempt's NEGOTIATE's,
 * else its TREE_CONNECT's (read from the connection: a second share of a
 * server reuses the connection, and a mount can be older than the
 * tracer). dialect 0: unknown.
 */
static __u16 conn_dialect(const struct facts *f, __u32 *caps)
{
	const struct ct_event *n = f->neg && f->neg->negotiate.dialect ? f->neg : NULL;

	if (n) {
		*caps = n->negotiate.capabilities;
		return n->negotiate.dialect;
	}
	*caps = f->tree ? f->tree->tree.capabilities : 0;
	return f->tree ? f->tree->tree.dialect : 0;
}

static const char *dialect_of(const struct facts *f)
{
	static __thread char buf[16];
	__u32 caps;
	__u16 dialect = conn_dialect(f, &caps);

	if (!dialect && f->smb1)
		return "1.0";
	return dialect ? dialect_name(dialect, buf, sizeof(buf)) : "?";
}

static const char *share_name(const struct diagnosis *d)
{
	const char *s = strrchr(d->share, '\\');

	return s ? s + 1 : d->share;
}

static const char *addr_of(const struct facts *f)
{
	static __thread char buf[64];
	const struct ct_event *e = f->conn ? f->conn : f->neg;

	buf[0] = '\0';
	if (e && (e->flags & CT_F_ADDR))
		addr_str(&e->daddr, buf, sizeof(buf));
	return buf[0] ? buf : "the server";
}

/* When the request was acknowledged, in the guide's words. */
static void ack_evidence(struct diagnosis *d, const struct facts *f, const char *what,
			 const struct ct_event *req, const struct ct_event *ack)
{
	if (!req)
		return;
	if (ack)
		evidence(d, "the server's TCP stack acknowledged the %s %s after it was sent, so "
			    "the request reached the server machine", what, DUR(ack->latency_ns));
	else
		evidence(d, "the server's TCP stack never acknowledged the %s%s", what,
			 f->retransmits ? "; the client retransmitted it" : "");
	if (f->retransmits)
		evidence(d, "%d TCP retransmission(s) on this connection", f->retransmits);
}

static const char *no_answer(const struct diagnosis *d)
{
	return d->outcome == OUTCOME_HUNG ? "has not answered yet" : "never answered";
}

static __u64 since(const struct facts *f, const struct ct_event *e)
{
	__u64 end = f->done ? f->done->ts_ns : f->now;

	return e && end > e->ts_ns ? end - e->ts_ns : 0;
}

/* ------------------------------------------------------------ classes */

static void explain_ok(struct diagnosis *d, const struct facts *f)
{
	d->phase = PHASE_TREE;
	if (f->smb1)
		summary(d, "Mounted %s as '%s' in %s (SMB1, vers=1.0: cifs traces no SMB1 "
			   "request, so only the TCP connection and the result are known).",
			d->share, d->user, DUR(d->duration_ns));
	else
		summary(d, "Mounted %s as '%s' in %s (SMB %s, %s).", d->share, d->user,
			DUR(d->duration_ns), dialect_of(f),
			f->sess_round ? mech_name(f->sess_round->session.mech) :
					"existing session");
	if (f->conn && f->conn->connect.result == CT_CONNECT_OK)
		evidence(d, "TCP connect to %s: %s", addr_of(f), DUR(f->conn->duration_ns));
	if (f->neg)
		evidence(d, "NEGOTIATE: dialect %s, round trip %s", dialect_of(f),
			 DUR(f->neg->latency_ns));
	if (f->sess_final)
		evidence(d, "SESSION_SETUP: %d round(s), %s in all%s", f->rounds,
			 DUR(f->sess_final->duration_ns),
			 f->sess_final->session.session_flags & CT_SMB2_SESSION_FLAG_IS_GUEST ?
			 " (logged on as GUEST)" : "");
	if (f->tree)
		evidence(d, "TREE_CONNECT %s: round trip %s%s", f->tree->tree.unc,
			 DUR(f->tree->latency_ns),
			 f->tree->tree.share_flags & CT_SMB2_SHAREFLAG_ENCRYPT_DATA ?
			 ", the share requires encryption and the client encrypts" : "");
	if (!f->conn && !f->neg)
		evidence(d, "the mount reused an existing connection to the server");
}

static void explain_connect(struct diagnosis *d, const struct facts *f)
{
	const struct ct_event *c = f->conn;
	char port[16] = "445";

	d->phase = PHASE_CONNECT;
	/* every fact known now: the result's address, the SYN's, the mount's port= */
	if (c && (c->flags & CT_F_ADDR))
		snprintf(port, sizeof(port), "%u", c->daddr.port);
	else if (f->syn && (f->syn->flags & CT_F_ADDR))
		snprintf(port, sizeof(port), "%u", f->syn->daddr.port);
	else if (f->mount && f->mount->mount.port)
		snprintf(port, sizeof(port), "%u", f->mount->mount.port);

	if ((d->outcome == OUTCOME_HUNG && f->syn_waiting) ||
	    (c && c->connect.result == CT_CONNECT_TIMEOUT)) {
		d->class = "connect-timeout";
		summary(d, "The SYN to %s has had no answer for %s: port %s is filtered (a "
			   "firewall drops the packets) or the host is down.", addr_of(f),
			DUR(since(f, f->syn)), port);
		evidence(d, "SYN sent by %s at +%s; no SYN-ACK and no RST came back", d->server,
			 f->syn && f->mount ? DUR(f->syn->ts_ns - f->mount->ts_ns) : "?");
		advice(d, "Test the port from this host: nc -vz %s %s (a timeout confirms the filter)",
		       d->server, port);
		advice(d, "Check firewalls on the path and on the server (Windows Defender Firewall "
			  "rule 'File and Printer Sharing (SMB-In)'; many ISPs and clouds block 445)");
		advice(d, "Check that the server is up and the name resolves to the right address "
			  "(getent hosts %s)", d->server);
		return;
	}
	if (c && c->connect.result == CT_CONNECT_REFUSED) {
		d->class = "connect-refused";
		summary(d, "The TCP connect to %s was refused: a RST answered the SYN after %s, so "
			   "the host is up but nothing listens on port %s.", addr_of(f),
			DUR(c->duration_ns), port);
		evidence(d, "SYN answered by RST after %s (ECONNREFUSED)", DUR(c->duration_ns));
		advice(d, "Check that the SMB server runs and listens on port %s (on the server: "
			  "ss -ltn 'sport = :%s'; Windows: the 'Server' service)", port, port);
		if (strcmp(port, "445"))
			advice(d, "The mount asked for port %s: SMB servers listen on 445 (139 for "
				  "NetBIOS); drop or fix the port= option", port);
		advice(d, "A firewall that rejects instead of dropping also answers with RST");
		return;
	}
	d->class = "connect-unreachable";
	summary(d, "The server %s could not be reached: %s.", addr_of(f),
		c && c->rc ? strerror(-c->rc) : "no route");
	if (c && c->rc)
		evidence(d, "connect failed with %s", errno_name(c->rc, (char[32]){ 0 }, 32));
	advice(d, "Check the address and the route to it: ip route get <server address>");
	advice(d, "Check that DNS gives the current address (getent hosts %s); stale records "
		  "are a common cause", d->server);
}

/*
 * cifs waits seconds for an answer before it gives up on a connection
 * (20-45 s for NEGOTIATE, more for an established one): a reconnect this
 * soon after a request means the connection ended under it.
 */
#define RECONNECT_AT_ONCE_NS	(5ull * 1000000000)

static void explain_negotiate(struct diagnosis *d, const struct facts *f)
{
	const struct ct_event *closed = f->rst_in ? f->rst_in : f->fin, *dropped = NULL;

	/*
	 * No FIN or RST seen, and cifs reconnected at once: the server ended
	 * the connection all the same (7.3 reads Samba's refusal of a denied
	 * host, a NetBIOS negative session response, and reconnects).
	 */
	if (!closed && f->neg_req && f->first_reconnect &&
	    f->first_reconnect->ts_ns >= f->neg_req->ts_ns &&
	    f->first_reconnect->ts_ns - f->neg_req->ts_ns < RECONNECT_AT_ONCE_NS)
		dropped = f->first_reconnect;

	d->phase = PHASE_NEGOTIATE;
	if (f->neg && (f->neg->flags & CT_F_STATUS) && !f->neg->status &&
	    (f->neg->rc == -EOPNOTSUPP || f->neg->rc == -ENOTSUPP_KERNEL) &&
	    f->neg->negotiate.dialect &&
	    (f->neg->negotiate.security_mode & CT_SMB2_NEGOTIATE_SIGNING_REQUIRED ||
	     !(f->neg->negotiate.security_mode & CT_SMB2_NEGOTIATE_SIGNING_ENABLED))) {
		/* cifs_enable_signing(): one side requires signing, the other cannot */
		bool srv_requires = f->neg->negotiate.security_mode &
				    CT_SMB2_NEGOTIATE_SIGNING_REQUIRED;

		d->class = "signing-failure";
		summary(d, "The server answered NEGOTIATE (dialect %s) and the client refused to "
			   "go on (%s): %s.", dialect_of(f), errno_name(f->neg->rc, (char[32]){ 0 }, 32),
			srv_requires ? "the server requires signing and this client may not sign "
				       "(signing is off in /proc/fs/cifs/SecurityFlags)" :
				       "the mount asked for signing (sign) and the server does not "
				       "offer it");
		evidence(d, "the server's security mode: 0x%04X (%s)",
			 f->neg->negotiate.security_mode,
			 srv_requires ? "signing required" : "signing not enabled");
		if (srv_requires)
			advice(d, "Allow signing on the client: set the may-sign bit (0x1) in "
				  "/proc/fs/cifs/SecurityFlags (or restore the default), then mount again");
		else
			advice(d, "Enable signing on the server, or mount without the sign option");
		advice(d, "Make sure SMB signing works between the two: the server's signing "
			  "settings (Samba: server signing; Windows: RequireSecuritySignature)");
		return;
	}
	if (f->neg && (f->neg->flags & CT_F_STATUS)) {
		d->class = "negotiate-rejected";
		d->has_status = true;
		d->status = f->neg->status;
		if (f->neg->status)
			summary(d, "The server answered NEGOTIATE with %s: it accepts none of the "
				   "dialects or security modes this client offered.",
				status_text(f->neg->status));
		else
			summary(d, "The server answered NEGOTIATE (dialect %s) but the client "
				   "rejected the reply (%s): no dialect, signing or security mode "
				   "both sides accept.", dialect_of(f),
				f->neg->rc ? errno_name(f->neg->rc, (char[32]){ 0 }, 32) : "?");
		if (f->neg->negotiate.security_mode & CT_SMB2_NEGOTIATE_SIGNING_REQUIRED)
			evidence(d, "the server requires signing");
		advice(d, "Match the dialects: the client's vers= option against the server's "
			  "'server min protocol'/'server max protocol' (Samba) or "
			  "Get-SmbServerConfiguration | select EnableSMB*Protocol (Windows)");
		advice(d, "Check signing: the client's sign option against the server's signing "
			  "requirement (older appliances often break here)");
		advice(d, "Make sure client and server are up to date");
		return;
	}
	if (!f->neg_req && f->conn && d->err == -EOPNOTSUPP) {
		/* an SMB1 negotiate (vers=1.0): cifs's SMB2 tracepoints do not see it */
		d->class = "negotiate-rejected";
		summary(d, "No SMB2 NEGOTIATE was sent, so the client negotiated SMB1 (vers=1.0), "
			   "and the mount failed with EOPNOTSUPP: the server answered with no "
			   "common dialect%s.", closed ? " and closed the connection" : "");
		if (closed)
			evidence(d, "%s from the server at +%s", f->rst_in ? "RST" : "FIN",
				 f->mount ? DUR(closed->ts_ns - f->mount->ts_ns) : "?");
		advice(d, "Servers disable SMB1 by default: mount with vers=3.1.1 (or 3.0, 2.1)");
		advice(d, "If the server really speaks only SMB1, enable it there knowingly "
			  "(Samba 'server min protocol = NT1'); SMB1 is deprecated and insecure");
		return;
	}
	if (closed || dropped || (!f->neg_req && f->conn)) {
		d->class = "negotiate-closed";
		if (dropped)
			summary(d, "The server ended the connection after NEGOTIATE instead of "
				   "answering it: the client reconnected %s after sending it, too "
				   "soon for any of its timeouts.",
				DUR(dropped->ts_ns - f->neg_req->ts_ns));
		else if (f->neg_req)
			summary(d, "The server %s the connection %s after NEGOTIATE instead of "
				   "answering it.", f->rst_in ? "reset" : "closed",
				closed ? DUR(closed->ts_ns - f->neg_req->ts_ns) : "?");
		else
			summary(d, "The server %s the connection without an SMB2 NEGOTIATE exchange "
				   "(an SMB1 negotiate, vers=1.0, is not traced).",
				f->rst_in ? "reset" : closed ? "closed" : "dropped");
		ack_evidence(d, f, "NEGOTIATE", f->neg_req, f->neg_ack);
		if (closed)
			evidence(d, "%s from the server at +%s", f->rst_in ? "RST" : "FIN",
				 f->mount ? DUR(closed->ts_ns - f->mount->ts_ns) : "?");
		advice(d, "The server refuses the dialect offered: an SMB1-only server with "
			  "vers=2.0+, or a server whose minimum protocol is above the client's "
			  "vers= (try vers=3.1.1, or vers=2.1)");
		advice(d, "The server refuses this client: Samba 'hosts allow'/'hosts deny', "
			  "Windows firewall scope or connection limits; the server's log says which");
		advice(d, "Check the server's SMB log at the time of the attempt");
		return;
	}
	d->class = "negotiate-no-response";
	if (f->neg_reqs > 1)
		summary(d, "NEGOTIATE was sent %d times, on fresh connections, over %s; %s, "
			   "but the SMB server %s.", f->neg_reqs, DUR(since(f, f->first_neg_req)),
			f->neg_ack ? "the server's TCP stack acknowledged it" :
				     "it was never acknowledged at TCP level", no_answer(d));
	else if (f->neg_req)
		summary(d, "NEGOTIATE was sent %s ago and %s, but the SMB server %s.",
			DUR(since(f, f->neg_req)),
			f->neg_ack ? "the server's TCP stack acknowledged it" :
				     "was never acknowledged at TCP level", no_answer(d));
	else
		summary(d, "The connection was established but no NEGOTIATE reply came.");
	ack_evidence(d, f, "NEGOTIATE", f->neg_req, f->neg_ack);
	if (f->reconnect)
		evidence(d, "the client gave up waiting and reconnected %d time(s), first at +%s",
			 f->reconnects,
			 f->mount ? DUR(f->first_reconnect->ts_ns - f->mount->ts_ns) : "?");
	if (f->neg_ack) {
		advice(d, "Most common cause: antivirus or another filter driver on the server "
			  "holding SMB requests; check its logs, or exclude the SMB service");
		advice(d, "The SMB server process may be hung or overloaded: check it on the "
			  "server (Samba: smbstatus, the smbd processes; Windows: the Server service)");
		advice(d, "Make sure client and server are up to date (the guide's hotfix case)");
	} else {
		advice(d, "The request is lost on the way: check the network path (MTU, "
			  "firewall state tables, packet loss); a capture on the server shows "
			  "whether it arrives");
	}
	advice(d, "The Linux client waits 20 s in NEGOTIATE before it reconnects; a shorter "
		  "echo_interval= makes a dead server fail faster");
}

static bool in(__u32 s, const __u32 *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == s)
			return true;
	return false;
}

static const __u32 logon_failures[] = {
	NT_STATUS_LOGON_FAILURE, NT_STATUS_WRONG_PASSWORD, NT_STATUS_NO_SUCH_USER,
};
static const __u32 account_problems[] = {
	NT_STATUS_ACCOUNT_DISABLED, NT_STATUS_ACCOUNT_LOCKED_OUT, NT_STATUS_ACCOUNT_EXPIRED,
	NT_STATUS_PASSWORD_EXPIRED, NT_STATUS_PASSWORD_MUST_CHANGE, NT_STATUS_INVALID_LOGON_HOURS,
	NT_STATUS_INVALID_WORKSTATION, NT_STATUS_ACCOUNT_RESTRICTION,
	NT_STATUS_LOGON_TYPE_NOT_GRANTED,
};
static const __u32 kerberos_problems[] = {
	NT_STATUS_TIME_DIFFERENCE_AT_DC, NT_STATUS_NO_LOGON_SERVERS, NT_STATUS_NETLOGON_NOT_STARTED,
	NT_STATUS_TRUSTED_RELATIONSHIP_FAILURE, NT_STATUS_PKINIT_NAME_MISMATCH,
	NT_STATUS_AUTHENTICATION_FIREWALL_FAILED,
};

/*
 * The KDC's refusal, by error code: the reason, and what to do. The
 * principal, realm and KDC come from the KRB-ERROR itself.
 */
static void explain_krb_error(struct diagnosis *d, const struct facts *f)
{
	const struct krb_error *k = &f->krb;
	char kdc[64];
	const char *name = krb_error_name(k->code);

	addr_str(&f->krb_err->daddr, kdc, sizeof(kdc));
	evidence(d, "the KDC %s answered over %s after %s: KRB-ERROR %s (%d)%s%s%s%s", kdc,
		 krb_proto_name(f->krb_err->kdc.proto), DUR(f->krb_err->latency_ns),
		 name ? name : "?", k->code, k->sname[0] ? " for " : "", k->sname,
		 k->realm[0] ? "@" : "", k->realm);
	if (k->e_text[0])
		evidence(d, "the KDC's text: %s", k->e_text);
	switch (k->code) {
	case 7:		/* KDC_ERR_S_PRINCIPAL_UNKNOWN */
		d->reason = "spn-unknown";
		summary(d, "The KDC (%s) does not know the service principal %s%s%s: the "
			   "client asks for a ticket to the name the server was mounted by, and no "
			   "account in the domain has that SPN. A server reached through a DNS alias "
			   "(CNAME) needs an SPN for the alias.", kdc, k->sname[0] ? k->sname : "?",
			k->realm[0] ? "@" : "", k->realm);
		advice(d, "Register the SPN on the server's computer account: setspn -S %s "
			  "<SERVER>$ (Windows AD) or samba-tool spn add %s '<SERVER>$' (Samba AD); "
			  "setspn -Q %s finds who has it", k->sname[0] ? k->sname : "cifs/<alias>",
		       k->sname[0] ? k->sname : "cifs/<alias>", k->sname[0] ? k->sname : "cifs/<alias>");
		advice(d, "Or mount the server by its real name, the one its account has an SPN for");
		return;
	case 37:	/* KRB_AP_ERR_SKEW */
		d->reason = "clock-skew";
		summary(d, "The KDC (%s) refused the ticket request: this host's clock and the "
			   "KDC's differ by more than the allowed skew (5 minutes by default)%s%s%s.",
			kdc, k->stime[0] ? "; the KDC's clock read " : "", k->stime,
			k->stime[0] ? " UTC" : "");
		advice(d, "Synchronize this host's clock with the domain (chrony, ntpd or "
			  "systemd-timesyncd against the domain controllers); compare date -u here "
			  "with the KDC's time above");
		advice(d, "Then mount again: the ticket cache needs no change");
		return;
	case 12:	/* KDC_ERR_POLICY */
		d->reason = "kdc-policy";
		summary(d, "The KDC (%s) refused by policy to issue a ticket for %s to '%s' "
			   "(KDC_ERR_POLICY). In Active Directory the usual causes are a disabled, "
			   "locked out or expired account, or logon-hour and workstation limits; "
			   "Samba's KDC answers so for a disabled account.", kdc,
			k->sname[0] ? k->sname : "the server", k->cname[0] ? k->cname : d->user);
		advice(d, "Check the account on the domain controller: samba-tool user show %s "
			  "(userAccountControl), or Get-ADUser %s -Properties Enabled,LockedOut,"
			  "AccountExpirationDate,LogonHours", k->cname[0] ? k->cname : "NAME",
		       k->cname[0] ? k->cname : "NAME");
		return;
	case 18:	/* KDC_ERR_CLIENT_REVOKED */
	case 1:		/* KDC_ERR_NAME_EXP */
	case 23:	/* KDC_ERR_KEY_EXPIRED */
		d->reason = "client-revoked";
		summary(d, "The KDC (%s) refused '%s': %s.", kdc, k->cname[0] ? k->cname : d->user,
			krb_error_text(k->code));
		advice(d, "Enable, unlock or renew the account on the domain controller "
			  "(samba-tool user enable NAME; Active Directory Users and Computers), "
			  "then get a new ticket with kinit");
		return;
	case 32:	/* KRB_AP_ERR_TKT_EXPIRED */
		d->reason = "ticket-expired";
		summary(d, "The KDC (%s) refused the ticket request: the ticket-granting ticket "
			   "in the credential cache has expired.", kdc);
		advice(d, "Get a new ticket: kinit (or kinit -R while it is renewable); mounts "
			  "that outlive a ticket need renewal (k5start, sssd, or a keytab with "
			  "cifs.upcall -k)");
		return;
	case 6:		/* KDC_ERR_C_PRINCIPAL_UNKNOWN */
	case 24:	/* KDC_ERR_PREAUTH_FAILED */
		d->reason = "client-credentials";
		summary(d, "The KDC (%s) refused the client: %s.", kdc, krb_error_text(k->code));
		advice(d, "Check the principal and password the ticket was requested with "
			  "(klist shows the cache's principal)");
		return;
	default:
		d->reason = "kdc-error";
		summary(d, "The KDC (%s) refused the ticket request for %s: %s (%s).", kdc,
			k->sname[0] ? k->sname : "the server", name ? name : "error",
			krb_error_text(k->code));
		return;
	}
}

/*
 * Kerberos: the key upcall (cifs.upcall) is running or failed. Its
 * exchanges with the KDC, when it had any, say why.
 */
static void explain_kerberos(struct diagnosis *d, const struct facts *f)
{
	const struct ct_event *u = f->upcall;
	bool running = !(u->flags & CT_F_RC);
	char kdc[64] = "?";

	d->class = "auth-kerberos";
	if (f->kdc_open)
		addr_str(&f->kdc_open->daddr, kdc, sizeof(kdc));
	if (f->krb_normal) {
		const struct krb_error *k = &f->krb_normal_k;

		evidence(d, "%s from the KDC%s%s: %s, not the cause", krb_error_name(k->code),
			 k->cname[0] ? " for " : "", k->cname, krb_error_text(k->code));
	}
	if (f->krb_err) {
		explain_krb_error(d, f);
	} else if (f->kdc_opens && !f->kdc_replies) {
		d->reason = "kdc-unreachable";
		summary(d, "The key upcall asked a KDC for a ticket to cifs/%s and no KDC "
			   "answered%s: to %s, %d UDP request(s) with no reply, %d TCP connect(s) "
			   "of which %d refused and %d never answered (SYN dropped or lost).",
			d->server, running ? " so far" : "", kdc, f->kdc_udp, f->kdc_tcp,
			f->kdc_refused, f->kdc_tcp - f->kdc_refused);
		advice(d, "Check that the KDC is up and reachable from this host on port 88, UDP "
			  "and TCP (firewalls; the kdc = lines of /etc/krb5.conf or the DNS SRV "
			  "records _kerberos._udp and _kerberos._tcp)");
	} else if (!running && (!f->kdc_opens || f->as_err || (f->krb_normal && !f->kdc_reply_ok))) {
		d->reason = "no-ticket";
		summary(d, "The key upcall (cifs.upcall) returned %s after %s with no ticket for "
			   "cifs/%s: the credential cache it used has no valid ticket-granting ticket "
			   "(none, or expired: cifs.upcall drops an expired one without a word)%s.",
			errno_name(u->rc, (char[32]){ 0 }, 32), DUR(u->duration_ns), d->server,
			f->kdc_opens ? ", and its own attempt to get one from the KDC failed" :
				       "; it asked no KDC");
		if (f->as_err)
			evidence(d, "the upcall asked the KDC %s for a ticket-granting ticket as '%s': "
				    "%s (%s)", kdc, f->as_krb.cname[0] ? f->as_krb.cname : "?",
				 krb_error_name(f->as_krb.code) ? krb_error_name(f->as_krb.code) : "error",
				 krb_error_text(f->as_krb.code));
		advice(d, "Get a ticket for the mounting user and check it: kinit user@REALM; "
			  "klist (cruid= selects whose credential cache the upcall uses)");
		advice(d, "Check the request-key configuration for cifs.spnego "
			  "(/etc/request-key.d/cifs.spnego.conf from cifs-utils) and that "
			  "keyutils is installed");
	} else if (running) {
		summary(d, "The Kerberos key upcall (cifs.upcall via request-key) for cifs/%s "
			   "has been running for %s without returning: it is waiting on the KDC "
			   "or on the credential cache.", d->server, DUR(since(f, u)));
	} else {
		d->reason = f->kdc_replies ? "upcall-failed" : NULL;
		summary(d, "Kerberos authentication failed before anything was sent: the key "
			   "upcall (cifs.upcall via request-key) returned %s after %s, so the "
			   "client has no service ticket for cifs/%s.",
			errno_name(u->rc, (char[32]){ 0 }, 32), DUR(u->duration_ns), d->server);
		if (f->kdc_reply)
			evidence(d, "the KDC answered (%s), yet the upcall failed: check cifs.upcall's "
				    "messages in the system log", krb_msg_name(f->kdc_reply->kdc.msg));
	}
	if (!running)
		evidence(d, "cifs_get_spnego_key: %s after %s", strerror(-u->rc), DUR(u->duration_ns));
	if (f->kdc_opens)
		evidence(d, "exchanges with KDCs during the upcall: %d opened, %d answered, %d "
			    "failed to connect", f->kdc_opens, f->kdc_replies, f->kdc_failed);
}

static void explain_session(struct diagnosis *d, const struct facts *f)
{
	const struct ct_event *bad = f->sess_bad;
	const char *mech = f->sess_round ? mech_name(f->sess_round->session.mech) :
			   f->upcall ? "kerberos" : "?";
	const char *domain = f->sess_round ? f->sess_round->session.domain : "";

	d->phase = PHASE_SESSION;
	if (bad) {
		d->has_status = true;
		d->status = bad->status;
	}
	if (f->upcall && (!(f->upcall->flags & CT_F_RC) || f->upcall->rc)) {
		explain_kerberos(d, f);
		if (d->reason)
			return;		/* the KDC said why: the generic advice would blur it */
	} else if (bad && in(bad->status, logon_failures, 3)) {
		d->class = "auth-logon-failure";
		summary(d, "The server rejected the credentials of user '%s'%s%s%s with %s on "
			   "SESSION_SETUP round %u (%s).", d->user, domain[0] ? " (domain '" : "",
			domain, domain[0] ? "')" : "", status_text(bad->status), bad->round, mech);
		advice(d, "Check the user name, password and domain the mount sends (username=, "
			  "password=, domain=, or the credentials= file); a typo is the usual cause");
		advice(d, "Check the account exists on the server (Samba: pdbedit -L; AD: the "
			  "user's sAMAccountName and domain)");
		advice(d, "With a server FQDN or NetBIOS name Windows clients use Kerberos; from "
			  "Linux, sec=krb5 with a ticket (kinit) avoids NTLM password problems");
	} else if (bad && in(bad->status, account_problems,
			     sizeof(account_problems) / sizeof(account_problems[0]))) {
		d->class = "auth-account";
		summary(d, "The password of '%s' was accepted but the account cannot log on: %s.",
			d->user, status_text(bad->status));
		advice(d, "Fix the account on the server or domain controller: enable or unlock "
			  "it, extend its expiry, set a new password, or widen its logon hours and "
			  "allowed workstations (Samba: pdbedit -v -u %s)", d->user);
	} else if ((bad && in(bad->status, kerberos_problems,
			      sizeof(kerberos_problems) / sizeof(kerberos_problems[0]))) ||
		   (f->sess_round && f->sess_round->session.mech == CT_MECH_KERBEROS && bad)) {
		d->class = "auth-kerberos";
		summary(d, "Kerberos authentication of '%s' to %s failed: %s.", d->user, d->server,
			bad ? status_text(bad->status) : "no ticket");
	} else if (bad && (bad->status == NT_STATUS_ACCESS_DENIED ||
			   bad->status == NT_STATUS_NETWORK_ACCESS_DENIED)) {
		d->class = "auth-access-denied";
		summary(d, "The server refused to set up a session for '%s': %s on SESSION_SETUP "
			   "round %u.", d->user, status_text(bad->status), bad->round);
		advice(d, "Guest or anonymous logons are refused: give a real user (username=)");
		advice(d, "Server name hardening: the SPN the client uses must match the server "
			  "name; try SmbServerNameHardeningLevel=0 on the server to confirm");
		advice(d, "The server requires an encrypted session: mount with vers=3.1.1 and seal");
	} else if (bad && bad->status == NT_STATUS_INVALID_SIGNATURE) {
		d->class = "signing-failure";
		summary(d, "SESSION_SETUP failed signature verification: %s.", status_text(bad->status));
	} else if (f->pending && f->pending->cmd == CT_SMB2_SESSION_SETUP) {
		d->class = "auth-no-response";
		summary(d, "SESSION_SETUP round %d was sent %s ago and %s, but the server %s.",
			f->rounds + 1, DUR(since(f, f->pending)),
			f->pending_ack ? "the server's TCP acknowledged it" : "was never acknowledged",
			no_answer(d));
		ack_evidence(d, f, "SESSION_SETUP", f->pending, f->pending_ack);
		advice(d, "The server cannot reach its authentication backend (domain "
			  "controller, winbind) or hangs in it: check the server's logs");
		advice(d, "Older devices hang on signed or NTLMv2 sessions: make sure SMB signing "
			  "works between the two (the sign option, the server's signing settings)");
		return;
	} else {
		d->class = "unknown";
		summary(d, "Session setup for '%s' failed with %s.", d->user,
			bad ? status_text(bad->status) :
			f->sess_final && f->sess_final->rc ?
				errno_name(f->sess_final->rc, (char[32]){ 0 }, 32) : "no status");
		return;
	}

	if (!strcmp(d->class, "auth-kerberos")) {
		advice(d, "Get a ticket for the mounting user and check it: kinit user@REALM; "
			  "klist (cruid= selects whose credential cache the upcall uses)");
		advice(d, "Check the request-key configuration for cifs.spnego "
			  "(/etc/request-key.d/cifs.spnego.conf from cifs-utils) and that "
			  "keyutils is installed");
		advice(d, "Check Kerberos traffic to the KDC on port 88: errors during "
			  "pre-authentication are normal, errors after it are the cause");
		advice(d, "A server reached through a DNS CNAME needs an SPN for that alias "
			  "(setspn -L <server account>); mount with the server's real name to test");
		advice(d, "Clock skew over 5 minutes breaks Kerberos: check time sync on client, "
			  "server and KDC");
	}
	if (bad)
		evidence(d, "SESSION_SETUP round %u: %s, %s after the request", bad->round,
			 status_text(bad->status), DUR(bad->latency_ns));
	if (f->rounds && f->sess_round && f->sess_round != bad)
		evidence(d, "last round: %s", status_text(f->sess_round->status));
	if (bad && -ntstatus_errno(bad->status) == EACCES)
		evidence(d, "mount error(13) means one of four things: wrong credentials, an "
			    "account problem, share permissions, or required encryption; here it "
			    "comes from SESSION_SETUP, before any share was asked for, so it is %s",
			 !strcmp(d->class, "auth-logon-failure") ? "the credentials" :
			 !strcmp(d->class, "auth-account") ? "the account" : "the session");
}

static void explain_tree(struct diagnosis *d, const struct facts *f)
{
	const struct ct_event *t = f->tree;
	__u32 caps;
	__u16 dialect = conn_dialect(f, &caps);
	bool can_encrypt = dialect >= 0x0300 && (caps & CT_SMB2_GLOBAL_CAP_ENCRYPTION);

	d->phase = PHASE_TREE;
	if (!t || !(t->flags & CT_F_STATUS) || !t->status) {
		d->class = "tree-no-response";
		summary(d, "TREE_CONNECT to %s was sent %s ago and %s, but the server %s.",
			d->share, DUR(since(f, f->tree_req)),
			f->tree_ack ? "the server's TCP acknowledged it" : "was never acknowledged",
			no_answer(d));
		ack_evidence(d, f, "TREE_CONNECT", f->tree_req, f->tree_ack);
		advice(d, "The server hangs resolving the share: check the storage behind it "
			  "(a slow or dead disk, a stale network path) and the server's logs");
		return;
	}
	d->has_status = true;
	d->status = t->status;
	if (f->sess_final)
		evidence(d, "session setup as '%s' succeeded (SMB %s), so the credentials are fine",
			 d->user, dialect_of(f));
	else
		evidence(d, "the mount used an existing session as '%s' (SMB %s, set up before "
			    "it), so the credentials are fine", d->user, dialect_of(f));
	evidence(d, "TREE_CONNECT %s: %s after %s", t->tree.unc, status_text(t->status),
		 DUR(t->latency_ns));

	if (t->status == NT_STATUS_BAD_NETWORK_NAME) {
		d->class = "tree-bad-network-name";
		summary(d, "The share '%s' does not exist on %s (or is misspelled): TREE_CONNECT "
			   "returned %s.", share_name(d), d->server, status_text(t->status));
		advice(d, "List the server's shares and compare the spelling: smbclient -L //%s "
			  "-U %s (Windows: Get-SmbShare)", d->server, d->user);
		advice(d, "Hidden shares end in $ (e.g. C$, and admin shares need admin rights)");
		advice(d, "Only the first path component is the share: //server/share/dir mounts "
			  "dir inside share; a missing dir fails later, with STATUS_OBJECT_NAME_NOT_FOUND");
	} else if (t->status == NT_STATUS_ACCESS_DENIED && dialect && !can_encrypt) {
		d->class = "tree-encryption-required";
		summary(d, "The server refused %s with %s on a connection that cannot encrypt "
			   "(SMB %s%s): that is how a server that requires encryption for the share "
			   "answers.", d->share, status_text(t->status), dialect_of(f),
			dialect >= 0x0300 ? ", no encryption capability" :
					    "; encryption needs SMB 3.0 or later");
		evidence(d, "mount error(13) after a successful session setup is either share "
			    "permissions or required encryption; SMB %s cannot encrypt, so "
			    "encryption is the likely one", dialect_of(f));
		advice(d, "Mount with SMB 3: vers=3.1.1 (or 3.0), and add seal to encrypt "
			  "explicitly");
		advice(d, "Check what the server requires: Windows Get-SmbServerConfiguration | "
			  "select Encrypt* (EncryptData and RejectUnencryptedAccess) and "
			  "Get-SmbShare | select name, EncryptData; Samba 'smb encrypt'");
		advice(d, "If the share does not require encryption, this is a permission "
			  "problem: see the share and NTFS permissions for '%s'", d->user);
		advice(d, "Samba and appliances may not support encryption at all: check their "
			  "documentation");
	} else if (t->status == NT_STATUS_ACCESS_DENIED) {
		d->class = "tree-access-denied";
		summary(d, "User '%s' logged on to %s but is not allowed on %s: TREE_CONNECT "
			   "returned %s.", d->user, d->server, d->share, status_text(t->status));
		if (dialect)
			evidence(d, "mount error(13) after a successful session setup is either "
				    "share permissions or required encryption; this connection uses "
				    "SMB %s and can encrypt, so it is permissions", dialect_of(f));
		else
			evidence(d, "mount error(13) after a successful session setup is either "
				    "share permissions or required encryption; this connection's "
				    "dialect is not known (it was negotiated before the trace "
				    "began), so if it is below SMB 3.0 and the share requires "
				    "encryption, that is the cause instead");
		advice(d, "Check the share permissions for '%s' (Samba: valid users, invalid "
			  "users, read list; Windows: Get-SmbShareAccess)", d->user);
		advice(d, "Check the NTFS/file system permissions on the folder behind the share, "
			  "and that the folder exists on the server");
		advice(d, "Mounting as another user (username=) that has access confirms it");
		if (!dialect)
			advice(d, "If the share requires encryption (Windows: Get-SmbShare | select "
				  "name, EncryptData; Samba: 'smb encrypt'), mount with vers=3.1.1");
	} else {
		d->class = "unknown";
		summary(d, "TREE_CONNECT to %s failed with %s.", d->share, status_text(t->status));
	}
}

static bool is_sep(char c)
{
	return c == '/' || c == '\\';
}

/*
 * The mount's path inside its share, quoted in q (sized CT_PATH_LEN + 3),
 * from the mount's source in its done record (//server/share/path, either
 * separator): false when there is none, or it names no path.
 */
static bool source_path(const struct facts *f, char *q, size_t n)
{
	const char *s, *end;

	if (!f->done)
		return false;
	s = f->done->mount_done.source;
	end = s + strnlen(s, sizeof(f->done->mount_done.source));
	for (int part = 0; part < 2; part++) {	/* the server, then the share */
		while (s < end && is_sep(*s))
			s++;
		while (s < end && !is_sep(*s))
			s++;
	}
	for (const char *c = s; c < end; c++) {
		if (!is_sep(*c)) {
			snprintf(q, n, "'%.*s'", (int)(end - s), s);
			return true;
		}
	}
	return false;
}

/*
 * The share was connected, then the mount's path inside it (the UNC's
 * part after the share, //server/share/dir) failed: the first CREATE or
 * QUERY_INFO the server refused after the TREE_CONNECT, or one it never
 * answered. Its path is there where the path hooks ran (record, events).
 */
static void explain_path(struct diagnosis *d, const struct facts *f)
{
	const struct ct_event *e = f->path_err, *t = f->tree;
	char path[CT_PATH_LEN + 16] = "the mount's path";
	/* no path hook ran (live), or none gives it (5.10): the mount's own */
	bool named = e && e->req.path[0] ? false : source_path(f, path, sizeof(path));

	d->phase = PHASE_TREE;
	if (!e) {
		d->class = "tree-no-response";
		summary(d, "TREE_CONNECT to %s succeeded, then the %s that looks up %s%s in it "
			   "was sent %s ago and %s, but the server %s.", d->share,
			smb2_cmd_name(f->pending->cmd), named ? "the mount's path " : "", path,
			DUR(since(f, f->pending)),
			f->pending_ack ? "the server's TCP acknowledged it" :
					 "was never acknowledged",
			no_answer(d));
		ack_evidence(d, f, smb2_cmd_name(f->pending->cmd), f->pending, f->pending_ack);
		advice(d, "The server hangs on the path: check the storage behind the share and "
			  "the server's logs");
		return;
	}
	if (e->req.path[0])
		snprintf(path, sizeof(path), "'%.*s'", (int)sizeof(e->req.path), e->req.path);
	d->has_status = true;
	d->status = e->status;
	evidence(d, "TREE_CONNECT %s: succeeded after %s", t->tree.unc, DUR(t->latency_ns));
	evidence(d, "%s %s%s: %s after %s", smb2_cmd_name(e->cmd),
		 e->req.path[0] ? "" : named ? "of the mount's path " : "of ", path,
		 status_text(e->status), DUR(e->latency_ns));
	switch (e->status) {
	case NT_STATUS_OBJECT_NAME_NOT_FOUND:
	case NT_STATUS_OBJECT_PATH_NOT_FOUND:
	case NT_STATUS_NOT_A_DIRECTORY:
		d->class = "tree-path-not-found";
		summary(d, "The share %s is there, but %s inside it %s: %s returned %s.", d->share,
			path, e->status == NT_STATUS_NOT_A_DIRECTORY ? "is not a directory" :
								       "does not exist",
			smb2_cmd_name(e->cmd), status_text(e->status));
		advice(d, "The mount names a directory inside the share (//server/share/dir): "
			  "check that it exists and its spelling: smbclient //%s/%s -U %s -c ls",
		       d->server, share_name(d), d->user);
		advice(d, "Mount the share itself and look: the path may have moved");
		break;
	case NT_STATUS_ACCESS_DENIED:
		d->class = "tree-path-access-denied";
		summary(d, "User '%s' may connect to %s, but not open %s inside it: %s returned %s.",
			d->user, d->share, path, smb2_cmd_name(e->cmd), status_text(e->status));
		advice(d, "Check the permissions of '%s' on every folder along the path, on the "
			  "server (NTFS, or the file system behind Samba)", d->user);
		advice(d, "Mounting the share itself works if only the path is denied");
		break;
	default:
		d->class = "unknown";
		summary(d, "The share %s was connected, then %s of %s failed with %s.", d->share,
			smb2_cmd_name(e->cmd), path, status_text(e->status));
	}
}

/*
 * The mount asked for encryption (seal) on a connection that cannot
 * encrypt: cifs refuses the share itself (EOPNOTSUPP), with no
 * TREE_CONNECT sent ("Encryption is not supported on share" in dmesg).
 */
static void explain_seal(struct diagnosis *d, const struct facts *f)
{
	__u32 caps;
	__u16 dialect = conn_dialect(f, &caps);
	char conn[64] = "";

	if (dialect)
		snprintf(conn, sizeof(conn), " (SMB %s%s)", dialect_of(f),
			 dialect >= 0x0300 ? ", no encryption capability in its NEGOTIATE" :
					     ", which cannot encrypt");
	d->class = "tree-encryption-unavailable";
	d->phase = PHASE_TREE;
	summary(d, "The mount asked for encryption (seal) and the server offers none on this "
		   "connection%s, so cifs refused to connect %s (EOPNOTSUPP) without sending a "
		   "TREE_CONNECT.", conn, d->share);
	evidence(d, "the mount asked for seal; no TREE_CONNECT for %s was sent", d->share);
	advice(d, "Enable encryption on the server: Samba 'server smb encrypt = desired' "
		  "('smb encrypt' before 4.14); Windows Set-SmbServerConfiguration -EncryptData "
		  "$true, or per share Set-SmbShare -EncryptData $true");
	if (dialect && dialect < 0x0300)
		advice(d, "Mount with vers=3.1.1 (or 3.0): SMB 2.x cannot encrypt");
	advice(d, "Or mount without seal, if the data may cross the network unencrypted");
}

/*
 * vers=1.0: cifs has no tracepoint on an SMB1 request, and its SMB1
 * functions are not hooked, so after TCP the errno is all there is. Say
 * so, with what that errno means from an SMB1 mount, rather than read the
 * missing SMB2 steps as a server that said nothing.
 */
static void explain_smb1(struct diagnosis *d, const struct facts *f)
{
	const char *means;

	d->class = "unknown";
	d->phase = PHASE_NEGOTIATE;
	switch (d->err) {
	case -EACCES:
		means = "wrong credentials, or an account not allowed on the share";
		break;
	case -ENXIO:
		means = "a share the server does not have (mount.cifs then retries its name "
			"in upper case)";
		break;
	case -EHOSTDOWN:
		means = "a server that refuses SMB1 and closes the connection";
		break;
	default:
		means = NULL;
	}
	summary(d, "The mount of %s asked for SMB1 (vers=1.0) and failed with %s%s%s; cifs "
		   "traces no SMB1 request, so which step failed is not known.", d->share,
		errno_name(d->err, (char[32]){ 0 }, 32), means ? ": from SMB1 that is usually " : "",
		means ? means : "");
	if (f->conn && f->conn->connect.result == CT_CONNECT_OK)
		evidence(d, "TCP connect to %s: %s", addr_of(f), DUR(f->conn->duration_ns));
	else if (!f->conn)
		evidence(d, "no TCP connect: the mount shared an SMB1 connection already open");
	advice(d, "Mount with vers=2.0 or later if the server allows it (Windows since Vista "
		  "and 2008, Samba since 3.6): every step is then traced and explained");
	advice(d, "To see the SMB1 status: smbclient -m NT1 //%s/%s -U %s", d->server,
	       share_name(d), d->user);
}

/* ------------------------------------------------------------ classify */

/*
 * The connection is what failed: the last connect result is a failure and
 * no SMB came after it, or (hung) a SYN is still unanswered. A reconnect's
 * SYN still in flight when the mount returns does not count.
 */
static bool connect_failed(const struct facts *f)
{
	const struct ct_event *c = f->conn;

	if (f->a->kind == ATTEMPT_MOUNT && f->syn_waiting && !f->done)
		return true;
	return c && c->connect.result != CT_CONNECT_OK &&
	       !(f->neg && f->neg->ts_ns > c->ts_ns);
}

/* ns from a to b, 0 if b is not after a */
static __u64 span(const struct ct_event *a, const struct ct_event *b)
{
	return a && b && b->ts_ns > a->ts_ns ? b->ts_ns - a->ts_ns : 0;
}

/*
 * After the reconnect of an established connection: whether and when it
 * came back (connected, NEGOTIATE, session and trees re-established) and
 * how long the share was unavailable, or that it is still down.
 */
static void explain_recovery(struct diagnosis *d, const struct facts *f)
{
	const struct attempt *a = f->a;
	const struct ct_event *rc = f->first_reconnect, *down = rc, *conn = NULL, *neg = NULL,
			      *sess = NULL, *tree = NULL, *last = rc;
	bool after = false;

	for (size_t i = 0; i < a->nev; i++) {
		const struct ct_event *e = &a->ev[i];

		if (e == rc) {
			after = true;
			continue;
		}
		if (!after) {
			/* the outage began with the first request left unanswered */
			if (e->type == CT_EV_REQUEST && !answered(a, e) && down == rc)
				down = e;
			continue;
		}
		if (e->type == CT_EV_CONNECT && e->connect.result == CT_CONNECT_OK && !conn)
			conn = last = e;
		else if (e->type == CT_EV_NEGOTIATE && !e->rc && !neg)
			neg = last = e;
		else if (e->type == CT_EV_SESSION_SETUP && (e->flags & CT_F_FINAL) && !e->rc && !sess)
			sess = last = e;
		else if (e->type == CT_EV_TREE_CONNECT && !e->rc && !is_ipc(e->tree.unc) && !tree)
			tree = last = e;
	}
	if (closed_before(f) && down == rc)
		down = closed_before(f);	/* the outage began with the close */
	d->class = closed_before(f) ? "connection-closed" : "server-unresponsive";
	d->phase = PHASE_NEGOTIATE;
	if (d->outcome == OUTCOME_OK && sess) {
		const struct ct_event *back = tree ? tree : sess;

		d->duration_ns = span(down, back);
		summary(d, "The connection to %s came back %s after the client reconnected: "
			   "session%s re-established; %s was unavailable for %s.",
			d->server, DUR(span(rc, back)), tree ? " and tree" : "",
			tree ? tree->tree.unc : "the server", DUR(d->duration_ns));
		if (closed_before(f))
			closed_evidence(d, f, closed_before(f));
		else
			evidence(d, "%s waited %s before the client gave up and reconnected",
				 down != rc ? smb2_cmd_name(down->cmd) : "the connection",
				 DUR(span(down, rc)));
		if (conn)
			evidence(d, "TCP connected again %s after the reconnect", DUR(span(rc, conn)));
		if (neg)
			evidence(d, "NEGOTIATE answered %s after the reconnect", DUR(span(rc, neg)));
		evidence(d, "SESSION_SETUP succeeded %s after the reconnect", DUR(span(rc, sess)));
		if (tree)
			evidence(d, "TREE_CONNECT to %s succeeded %s after the reconnect", tree->tree.unc,
				 DUR(span(rc, tree)));
		else
			evidence(d, "no tree was re-established yet: cifs reconnects trees on their "
				    "next use");
		if (closed_before(f))
			advice(d, "The outage is over; to find why the connection was closed, look "
				  "at the server's logs and any firewall or load balancer between, "
				  "at the moment of the FIN or RST");
		else
			advice(d, "The outage is over; to find its cause, look at the server (its "
				  "logs, load, storage) around the time the requests stopped being "
				  "answered");
		return;
	}
	d->duration_ns = since(f, down);
	summary(d, "The connection to %s has not come back %s after the client reconnected "
		   "(last step: %s).", d->server, DUR(since(f, rc)),
		last == rc ? "no TCP connection yet" : last == conn ? "connected, no NEGOTIATE answer" :
		last == neg ? "NEGOTIATE answered, no session" : "session re-established, no tree");
	evidence(d, "unavailable for %s so far", DUR(d->duration_ns));
	advice(d, "Check that the server is up and reachable (nc -vz %s 445) and that its SMB "
		  "service runs", d->server);
}

/* A reconnect's cause, when it is one: a FIN or RST the server sent before it. */
static const struct ct_event *closed_before(const struct facts *f)
{
	const struct ct_event *c = NULL;

	if (f->a->kind != ATTEMPT_RECONNECT || !f->first_reconnect)
		return NULL;
	for (size_t i = 0; i < f->a->nev; i++) {
		const struct ct_event *e = &f->a->ev[i];

		if (e == f->first_reconnect)
			break;
		if (e->type == CT_EV_TCP_FIN ||
		    (e->type == CT_EV_TCP_RESET && !(e->flags & CT_F_RST_SENT)))
			c = e;
	}
	return c;
}

static void closed_evidence(struct diagnosis *d, const struct facts *f, const struct ct_event *c)
{
	char a[64], b[64];

	evidence(d, "%s from %s to %s in state %s, %s before the client reconnected",
		 c->type == CT_EV_TCP_FIN ? "FIN" : "RST", addr_str(&c->daddr, a, sizeof(a)),
		 addr_str(&c->saddr, b, sizeof(b)), tcp_state_name(c->tcp.state),
		 DUR(f->first_reconnect->ts_ns - c->ts_ns));
}

static void classify(struct diagnosis *d, const struct facts *f)
{
	const struct ct_event *t = f->tree;

	if (f->a->kind == ATTEMPT_RECONNECT && f->reconnect && d->outcome != OUTCOME_FAILED) {
		explain_recovery(d, f);
		return;
	}
	if (f->a->kind == ATTEMPT_RECONNECT && closed_before(f)) {
		const struct ct_event *c = closed_before(f);

		d->class = "connection-closed";
		d->phase = PHASE_NEGOTIATE;
		summary(d, "The server side closed the established connection to %s (%s "
			   "received)%s%s%s; the client reconnected %s later.", d->server,
			c->type == CT_EV_TCP_FIN ? "FIN" : "RST",
			f->pending ? " while " : "", f->pending ? smb2_cmd_name(f->pending->cmd) : "",
			f->pending ? " waited for its answer" : "",
			DUR(f->reconnect->ts_ns - c->ts_ns));
		closed_evidence(d, f, c);
		advice(d, "Something ended the connection: the SMB server (restarted, crashed, "
			  "or a server-side idle limit such as Samba's deadtime), or a middlebox "
			  "between (a firewall or load balancer idle timeout, an IPS); check the "
			  "server's logs and any firewall at that moment");
		advice(d, "If it repeats at regular intervals, look for an idle timeout shorter "
			  "than the client's echo_interval (60 s by default)");
		return;
	}
	if (f->a->kind == ATTEMPT_RECONNECT) {
		d->class = "server-unresponsive";
		d->phase = PHASE_NEGOTIATE;
		if (f->pending && !f->reconnect)
			summary(d, "The established connection to %s has stopped answering: %s "
				   "(mid %llu) has waited %s without a reply so far.",
				d->server, smb2_cmd_name(f->pending->cmd),
				(unsigned long long)f->pending->mid, DUR(since(f, f->pending)));
		else if (f->pending)
			summary(d, "The established connection to %s stopped answering: %s (mid "
				   "%llu) waited %s without a reply, then the client reconnected.",
				d->server, smb2_cmd_name(f->pending->cmd),
				(unsigned long long)f->pending->mid,
				DUR(f->reconnect->ts_ns - f->pending->ts_ns));
		else
			summary(d, "The established connection to %s stopped answering and the "
				   "client is reconnecting.", d->server);
		ack_evidence(d, f, smb2_cmd_name(f->pending ? f->pending->cmd : 0), f->pending,
			     f->pending_ack);
		if (f->pending_ack)
			advice(d, "The server machine receives the requests but the SMB server "
				  "does not answer: check its load, its storage and filters "
				  "(antivirus) on it");
		else if (f->pending)
			advice(d, "Requests do not reach the server: check the network path "
				  "(packet loss, firewalls, a failed-over address)");
		advice(d, "Check the server's load and the network; cifs declares a server dead "
			  "after 3 x echo_interval (60 s by default) without a reply");
		advice(d, "Hard mounts block applications until the server returns; soft mounts "
			  "fail their I/O instead");
		return;
	}
	if (d->outcome == OUTCOME_OK) {
		d->class = "ok";
		explain_ok(d, f);
		return;
	}
	if (f->bad_sig) {
		d->class = "signing-failure";
		d->phase = f->bad_sig->cmd == CT_SMB2_TREE_CONNECT ? PHASE_TREE : PHASE_SESSION;
		d->has_status = true;
		d->status = f->bad_sig->status;
		summary(d, "A %s response failed signature verification (%s).",
			smb2_cmd_name(f->bad_sig->cmd), status_text(f->bad_sig->status));
		advice(d, "Make sure SMB signing works between the two: the client's sign option, "
			  "the server's signing settings; older third-party devices are the usual "
			  "suspects");
		return;
	}
	if (connect_failed(f)) {
		explain_connect(d, f);
		return;
	}
	/* SMB1 refused or cut off at its negotiate: explain_negotiate knows those */
	if (f->smb1 && !f->neg_req && d->outcome == OUTCOME_FAILED && d->err != -EOPNOTSUPP &&
	    !f->rst_in && !f->fin) {
		explain_smb1(d, f);
		return;
	}
	if (!f->neg || (f->neg->rc && !(f->sess_round || f->sess_final))) {
		if (!f->conn && !f->neg_req && !f->sess_final && !f->tree && !f->upcall) {
			/* nothing on the wire: maybe a shared connection, or a local error */
			if (f->tree_req || f->pending)
				explain_tree(d, f);
			else {
				d->class = "unknown";
				d->phase = PHASE_CONNECT;
				summary(d, "The mount of %s failed with %s before any SMB traffic.",
					d->share, d->err ? errno_name(d->err, (char[32]){ 0 }, 32) : "?");
				advice(d, "Check the mount options and the kernel log (dmesg) for the "
					  "reason cifs rejected them");
			}
			return;
		}
		if (f->conn || f->neg_req || f->neg) {
			explain_negotiate(d, f);
			return;
		}
	}
	if ((f->sess_final && f->sess_final->rc) || f->sess_bad ||
	    (f->upcall && (f->upcall->rc || !(f->upcall->flags & CT_F_RC))) ||
	    (f->pending && f->pending->cmd == CT_SMB2_SESSION_SETUP)) {
		explain_session(d, f);
		return;
	}
	if ((t && t->rc) || (f->pending && f->pending->cmd == CT_SMB2_TREE_CONNECT) ||
	    (f->tree_req && !t)) {
		explain_tree(d, f);
		return;
	}
	/* (a failed session was explained above; a reused one has no events) */
	if (!t && d->err == -EOPNOTSUPP && f->mount && (f->mount->flags & CT_F_SEAL)) {
		explain_seal(d, f);
		return;
	}
	if (t && (f->path_err || (f->pending && f->pending->ts_ns > t->ts_ns &&
				  (f->pending->cmd == CT_SMB2_CREATE ||
				   f->pending->cmd == CT_SMB2_QUERY_INFO)))) {
		explain_path(d, f);
		return;
	}
	d->class = "unknown";
	d->phase = t ? PHASE_TREE : f->sess_final ? PHASE_SESSION : PHASE_NEGOTIATE;
	summary(d, "The mount of %s %s%s%s.", d->share,
		d->outcome == OUTCOME_HUNG ? "has made no progress for " : "failed with ",
		d->outcome == OUTCOME_HUNG ? DUR(d->duration_ns) :
			errno_name(d->err, (char[32]){ 0 }, 32),
		"; every traced SMB step succeeded, so the error is local to the client");
	advice(d, "Check the kernel log (dmesg) around the mount for the reason");
}

/* ------------------------------------------------------------ entry */

static void identity(struct diagnosis *d, const struct facts *f)
{
	const struct attempt *a = f->a;

	for (size_t i = 0; i < a->nev && !d->server[0]; i++)
		memcpy(d->server, a->ev[i].server, sizeof(d->server));
	memcpy(d->share, a->unc, sizeof(d->share));
	if (!d->share[0] && f->tree)
		memcpy(d->share, f->tree->tree.unc, sizeof(d->share));
	if (!d->server[0] && d->share[0] == '\\' && d->share[1] == '\\') {
		size_t n = strcspn(d->share + 2, "\\");

		snprintf(d->server, sizeof(d->server), "%.*s", (int)n, d->share + 2);
	}
	memcpy(d->user, a->user, sizeof(d->user));
	if (!d->user[0] && f->sess_round)
		memcpy(d->user, f->sess_round->session.user, sizeof(d->user));
}

void diagnose_attempt(const struct attempt *a, enum outcome o, __u64 now, struct diagnosis *d)
{
	struct facts f;

	memset(d, 0, sizeof(*d));
	extract(a, now, &f);
	d->outcome = o;
	d->duration_ns = (f.done ? f.done->ts_ns : now) - a->start_ns;
	if (f.done && (f.done->flags & CT_F_RC))
		d->err = f.done->rc;
	identity(d, &f);
	classify(d, &f);

	if (d->err)
		evidence(d, "the mount returned %d (%s): %s", d->err,
			 errno_name(d->err, (char[32]){ 0 }, 32), mount_error(d->err));
	else if (o == OUTCOME_HUNG)
		evidence(d, "the mount has been running for %s and has not returned yet",
			 DUR(d->duration_ns));
	if (a->lost)
		evidence(d, "WARNING: %llu events were lost while this attempt ran (ring buffer "
			    "full); the timeline is incomplete", a->lost);
	if (a->dropped)
		evidence(d, "WARNING: %llu events of this attempt were not kept (more than %d); "
			    "the timeline shows the first ones and the end", a->dropped,
			 ATTEMPT_MAX_EVENTS);
	d->expired = a->expired;
	if (a->expired)
		evidence(d, "WARNING: the end of this attempt was never seen (no event for %llu s, "
			    "or too many attempts open at once): events were lost, or the tracer "
			    "missed mount's return; it is no longer followed",
			 ATTEMPT_STALE_NS / 1000000000ull);
}
