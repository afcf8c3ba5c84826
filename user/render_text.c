// SPDX-License-Identifier: GPL-2.0
/* One aligned, human-readable line per raw event. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include "escape.h"
#include "krb.h"
#include "names.h"
#include "ntstatus.h"
#include "render.h"

const char *addr_str(const struct ct_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "";

	if (a->family != AF_INET && a->family != AF_INET6) {
		buf[0] = '\0';
		return buf;
	}
	inet_ntop(a->family, a->addr, ip, sizeof(ip));
	snprintf(buf, len, a->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, a->port);
	return buf;
}

const char *status_str(__u32 status, char *buf, size_t len)
{
	const char *name = ntstatus_name(status);

	if (name)
		return name;
	snprintf(buf, len, "0x%08X", status);
	return buf;
}

/* Appends printf-style to a fixed line buffer, never overflowing. */
struct line {
	char buf[2048];
	size_t len;
};

static void add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->len >= sizeof(l->buf) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n < sizeof(l->buf) - l->len ? (size_t)n : sizeof(l->buf) - l->len - 1;
}

static void add_esc(struct line *l, const char *key, const char *s, size_t max)
{
	char esc[4 * (CT_PATH_LEN > CT_UNC_LEN ? CT_PATH_LEN : CT_UNC_LEN) + 1];

	escape_str(esc, sizeof(esc), s, max, ESC_TEXT);
	add(l, key ? " %s=%s" : " %s%s", key ? key : "", esc);
}

static void add_status(struct line *l, const struct ct_event *e)
{
	char buf[16];

	if (e->flags & CT_F_STATUS)
		add(l, " %s(0x%08X)", status_str(e->status, buf, sizeof(buf)), e->status);
	if ((e->flags & CT_F_RC) && e->rc)
		add(l, " rc=%d(%s)", e->rc, errno_name(e->rc, buf, sizeof(buf)));
}

static void add_us(struct line *l, const char *what, __u64 ns)
{
	add(l, " %s=%lluus", what, (unsigned long long)(ns / 1000));
}

static void add_times(struct line *l, const struct ct_event *e)
{
	if (e->flags & CT_F_LATENCY)
		add_us(l, "latency", e->latency_ns);
	if (e->flags & CT_F_DURATION)
		add_us(l, "took", e->duration_ns);
}

/* "reply tcp 127.0.0.2:88 KRB-ERROR KDC_ERR_S_PRINCIPAL_UNKNOWN principal=... latency=..." */
static void add_kdc(struct line *l, const struct ct_event *e)
{
	char addr[64];
	struct krb_error k;

	add(l, "%s %s %s", kdc_kind_name(e->kdc.kind), krb_proto_name(e->kdc.proto),
	    addr_str(&e->daddr, addr, sizeof(addr)));
	if (e->kdc.kind == CT_KDC_REPLY)
		add(l, " %s len=%u", krb_msg_name(e->kdc.msg), e->kdc.msg_len);
	if (!krb_error_of(e, &k)) {
		const char *name = krb_error_name(k.code);

		if (name)
			add(l, " %s", name);
		else
			add(l, " error=%d", k.code);
		if (krb_error_normal(k.code))
			add(l, " (normal)");
		if (k.sname[0])
			add_esc(l, "principal", k.sname, sizeof(k.sname));
		if (k.realm[0])
			add_esc(l, "realm", k.realm, sizeof(k.realm));
		if (k.e_text[0])
			add_esc(l, "text", k.e_text, sizeof(k.e_text));
	}
	add_status(l, e);
	if (e->flags & CT_F_LATENCY)
		add_us(l, "after", e->latency_ns);
}

void render_text_header(FILE *out)
{
	fprintf(out, "%-12s %-7s %-15s %-14s %-22s %s\n",
		"TIME(s)", "PID", "COMM", "EVENT", "SERVER", "DETAILS");
}

const char *event_details(const struct ct_event *e, char *out, size_t outlen)
{
	struct line l = { .len = 0 };
	char addr[64], buf[16];

	switch (e->type) {
	case CT_EV_CONNECT:
		add(&l, "%s %s", addr_str(&e->daddr, addr, sizeof(addr)),
		    connect_result_name(e->connect.result));
		add_status(&l, e);
		add_times(&l, e);
		break;
	case CT_EV_REQUEST:
	case CT_EV_ACK:
	case CT_EV_RESPONSE:
	case CT_EV_INFLIGHT:
		add(&l, "%s mid=%llu", smb2_cmd_name(e->cmd), (unsigned long long)e->mid);
		add_status(&l, e);
		if (e->flags & CT_F_LATENCY)
			add_us(&l, e->type == CT_EV_REQUEST ? "queued" :
				   e->type == CT_EV_ACK ? "acked_after" :
				   e->type == CT_EV_INFLIGHT ? "waiting" : "latency", e->latency_ns);
		if (e->flags & CT_F_SENT)
			add_us(&l, "queue", e->req.queue_ns);
		if (e->flags & CT_F_ACKED) {
			add_us(&l, "network", e->req.network_ns);
			add_us(&l, "server", e->req.server_ns);
		}
		if (e->flags & CT_F_JOINT)
			add_us(&l, "network+server", e->req.network_ns);
		if (e->type == CT_EV_RESPONSE && e->req.path[0])
			add_esc(&l, "path", e->req.path, sizeof(e->req.path));
		break;
	case CT_EV_NEGOTIATE:
		if (e->negotiate.dialect)
			add(&l, "dialect=%s caps=0x%08X secmode=0x%04X",
			    dialect_name(e->negotiate.dialect, buf, sizeof(buf)),
			    e->negotiate.capabilities, e->negotiate.security_mode);
		else
			add(&l, "no dialect");
		add_status(&l, e);
		add_times(&l, e);
		break;
	case CT_EV_SESSION_SETUP:
		if (e->flags & CT_F_FINAL)
			add(&l, "done rounds=%u flags=0x%04X", e->round, e->session.session_flags);
		else
			add(&l, "round=%u", e->round);
		/* fall through */
	case CT_EV_UPCALL:
		if (e->type == CT_EV_UPCALL)
			add(&l, "%s", e->flags & CT_F_RC ? "returned" : "started");
		add(&l, "%s%s", l.len ? " " : "", mech_name(e->session.mech));
		add_esc(&l, "user", e->session.user, sizeof(e->session.user));
		if (e->session.domain[0])
			add_esc(&l, "domain", e->session.domain, sizeof(e->session.domain));
		add_status(&l, e);
		add_times(&l, e);
		break;
	case CT_EV_TREE_CONNECT:
		add_esc(&l, NULL, e->tree.unc, sizeof(e->tree.unc));
		add(&l, " tid=0x%x share_flags=0x%08X%s", e->tid, e->tree.share_flags,
		    e->tree.seal ? " seal" : "");
		add_status(&l, e);
		add_times(&l, e);
		break;
	case CT_EV_RECONNECT:
		add(&l, "current_mid=%llu", (unsigned long long)e->mid);
		break;
	case CT_EV_LOST:
		add(&l, "%llu events dropped: ring buffer full", (unsigned long long)e->mid);
		break;
	case CT_EV_MOUNT: {
		const char *vers = vers_name(e->mount.vers);

		add_esc(&l, NULL, e->mount.unc, sizeof(e->mount.unc));
		add_esc(&l, "user", e->mount.user, sizeof(e->mount.user));
		if (e->mount.port)
			add(&l, " port=%u", e->mount.port);
		/* vers= when the mount named one (not the kernel's default) */
		if (vers && strcmp(vers, "default"))
			add(&l, " vers=%s", vers);
		if (e->flags & CT_F_SEAL)
			add(&l, " seal");
		break;
	}
	case CT_EV_MOUNT_DONE:
		add(&l, "%s", e->rc ? "failed" : "mounted");
		if (e->mount_done.source[0])
			add_esc(&l, NULL, e->mount_done.source, sizeof(e->mount_done.source));
		add_status(&l, e);
		add_times(&l, e);
		break;
	case CT_EV_KDC:
		add_kdc(&l, e);
		break;
	case CT_EV_TCP_RESET:
		add(&l, "%s ", e->flags & CT_F_RST_SENT ? "sent" : "received");
		/* fall through */
	case CT_EV_TCP_RETRANSMIT:
	case CT_EV_TCP_FIN: {
		char src[64];

		add(&l, "%s -> %s state=%s", addr_str(&e->saddr, src, sizeof(src)),
		    addr_str(&e->daddr, addr, sizeof(addr)), tcp_state_name(e->tcp.state));
		break;
	}
	}
	snprintf(out, outlen, "%s", l.buf + (l.buf[0] == ' '));
	return out;
}

void render_text_event(FILE *out, const struct ct_event *e, __u64 t0_ns)
{
	char comm[4 * CT_COMM_LEN + 1], server[4 * CT_HOST_LEN + 1], details[2048];
	double t = e->ts_ns >= t0_ns ? (e->ts_ns - t0_ns) / 1e9 : -((t0_ns - e->ts_ns) / 1e9);

	escape_str(comm, sizeof(comm), e->comm, sizeof(e->comm), ESC_TEXT);
	escape_str(server, sizeof(server), e->server, sizeof(e->server), ESC_TEXT);
	if (!server[0] && (e->flags & CT_F_ADDR))
		addr_str(&e->daddr, server, sizeof(server));
	fprintf(out, "%12.6f %-7u %-15s %-14s %-22s %s\n", t, e->pid, comm[0] ? comm : "-",
		event_type_name(e->type), server[0] ? server : "-",
		event_details(e, details, sizeof(details)));
}
