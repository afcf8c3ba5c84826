// SPDX-License-Identifier: GPL-2.0
/*
 * JSON Lines rendering of raw events: the format of `events --json` and of
 * recordings. Field names are a contract (README, tests, --input).
 */
#include <string.h>
#include "escape.h"
#include "krb.h"
#include "names.h"
#include "ntstatus.h"
#include "render.h"

#define MAX_ESC(n) (4 * (n) + 1)

/* Untrusted bytes from the kernel: always through escape_str(). */
static void set_str(json_t *o, const char *key, const char *s, size_t max)
{
	char buf[MAX_ESC(CT_UNC_LEN)];

	escape_str(buf, sizeof(buf), s, max, ESC_UTF8);
	json_object_set_new(o, key, json_string(buf));
}

static void set_int(json_t *o, const char *key, json_int_t v)
{
	json_object_set_new(o, key, json_integer(v));
}

static void set_hex(json_t *o, const char *key, unsigned long v, int width)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%0*lX", width, v);
	json_object_set_new(o, key, json_string(buf));
}

static void set_bool(json_t *o, const char *key, int v)
{
	json_object_set_new(o, key, json_boolean(v));
}

static void set_addr(json_t *o, const char *key, const struct ct_addr *a)
{
	char buf[64];

	json_object_set_new(o, key, json_string(addr_str(a, buf, sizeof(buf))));
}

void json_set_split(json_t *o, const struct ct_event *e)
{
	/* the time split: null where that step was not seen */
	json_object_set_new(o, "queue_us", e->flags & CT_F_SENT ?
			    json_integer(e->req.queue_ns / 1000) : json_null());
	json_object_set_new(o, "network_us", e->flags & CT_F_ACKED ?
			    json_integer(e->req.network_ns / 1000) : json_null());
	json_object_set_new(o, "server_us", e->flags & CT_F_ACKED ?
			    json_integer(e->req.server_ns / 1000) : json_null());
	/* the answer carried the ACK: network + server, not separable */
	json_object_set_new(o, "network_server_us", e->flags & CT_F_JOINT ?
			    json_integer(e->req.network_ns / 1000) : json_null());
}

/*
 * A KDC event. "krb_error" is the raw bytes the kernel kept (hex: what a
 * recording replays); the fields after it are decoded from them.
 */
static void json_set_kdc(json_t *o, const struct ct_event *e)
{
	char hex[2 * CT_KDC_DATA_LEN + 1];
	struct krb_error k;
	size_t n = kdc_bytes(e);

	json_object_set_new(o, "kind", json_string(kdc_kind_name(e->kdc.kind)));
	json_object_set_new(o, "proto", json_string(krb_proto_name(e->kdc.proto)));
	set_addr(o, "saddr", &e->saddr);
	if (e->kdc.kind != CT_KDC_REPLY)
		return;
	json_object_set_new(o, "msg", json_string(krb_msg_name(e->kdc.msg)));
	set_int(o, "msg_len", e->kdc.msg_len);
	n = krb_error_keep(e->kdc.data, n);	/* not its e-data */
	if (!n)
		return;
	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", e->kdc.data[i]);
	json_object_set_new(o, "krb_error", json_string(hex));
	if (krb_error_of(e, &k))
		return;
	set_int(o, "error_code", k.code);
	json_object_set_new(o, "error_name", krb_error_name(k.code) ?
			    json_string(krb_error_name(k.code)) : json_null());
	set_bool(o, "normal", krb_error_normal(k.code));
	set_str(o, "realm", k.realm, sizeof(k.realm));
	set_str(o, "principal", k.sname, sizeof(k.sname));
	set_str(o, "client", k.cname, sizeof(k.cname));
	set_str(o, "e_text", k.e_text, sizeof(k.e_text));
	set_str(o, "kdc_time", k.stime, sizeof(k.stime));
}

json_t *event_to_json(const struct ct_event *e)
{
	json_t *o = json_object();
	char buf[64];

	set_int(o, "ts_us", e->ts_ns / 1000);
	json_object_set_new(o, "event", json_string(event_type_name(e->type)));
	set_int(o, "pid", e->pid);
	set_str(o, "comm", e->comm, sizeof(e->comm));
	set_str(o, "server", e->server, sizeof(e->server));
	if (e->flags & CT_F_ADDR)
		set_addr(o, "server_addr", &e->daddr);
	set_int(o, "conn_id", e->conn_id);
	set_int(o, "session_id", e->sesid);
	set_int(o, "tree_id", e->tid);
	if (e->flags & CT_F_STATUS) {
		set_hex(o, "status", e->status, 8);
		json_object_set_new(o, "status_name",
				    json_string(status_str(e->status, buf, sizeof(buf))));
	}
	if (e->flags & CT_F_RC) {
		set_int(o, "rc", e->rc);
		if (e->rc)
			json_object_set_new(o, "rc_name",
					    json_string(errno_name(e->rc, buf, sizeof(buf))));
	}
	json_object_set_new(o, "latency_us", e->flags & CT_F_LATENCY ?
			    json_integer(e->latency_ns / 1000) : json_null());
	if (e->flags & CT_F_DURATION)
		set_int(o, "duration_us", e->duration_ns / 1000);

	switch (e->type) {
	case CT_EV_CONNECT:
		json_object_set_new(o, "result",
				    json_string(connect_result_name(e->connect.result)));
		set_addr(o, "saddr", &e->saddr);
		break;
	case CT_EV_REQUEST:
	case CT_EV_ACK:
		json_object_set_new(o, "cmd", json_string(smb2_cmd_name(e->cmd)));
		set_int(o, "mid", e->mid);
		break;
	case CT_EV_RESPONSE:
	case CT_EV_INFLIGHT:
		json_object_set_new(o, "cmd", json_string(smb2_cmd_name(e->cmd)));
		set_int(o, "mid", e->mid);
		json_set_split(o, e);
		if (e->flags & CT_F_SLOW)
			set_bool(o, "slow", 1);
		if (e->type == CT_EV_RESPONSE && e->req.path[0])
			set_str(o, "path", e->req.path, sizeof(e->req.path));
		break;
	case CT_EV_NEGOTIATE:
		set_int(o, "mid", e->mid);
		json_object_set_new(o, "dialect",
				    json_string(dialect_name(e->negotiate.dialect, buf, sizeof(buf))));
		set_hex(o, "capabilities", e->negotiate.capabilities, 8);
		set_hex(o, "security_mode", e->negotiate.security_mode, 4);
		set_bool(o, "signing_required",
			 e->negotiate.security_mode & CT_SMB2_NEGOTIATE_SIGNING_REQUIRED);
		set_bool(o, "encryption_capable",
			 e->negotiate.capabilities & CT_SMB2_GLOBAL_CAP_ENCRYPTION);
		break;
	case CT_EV_SESSION_SETUP:
		set_int(o, "mid", e->mid);
		set_int(o, "round", e->round);
		set_bool(o, "final", e->flags & CT_F_FINAL);
		/* fall through */
	case CT_EV_UPCALL:
		json_object_set_new(o, "mechanism", json_string(mech_name(e->session.mech)));
		set_str(o, "user", e->session.user, sizeof(e->session.user));
		set_str(o, "domain", e->session.domain, sizeof(e->session.domain));
		if (e->type == CT_EV_SESSION_SETUP && (e->flags & CT_F_FINAL)) {
			set_hex(o, "session_flags", e->session.session_flags, 4);
			set_bool(o, "guest", e->session.session_flags & CT_SMB2_SESSION_FLAG_IS_GUEST);
			set_bool(o, "encrypted",
				 e->session.session_flags & CT_SMB2_SESSION_FLAG_ENCRYPT_DATA);
		}
		break;
	case CT_EV_TREE_CONNECT: {
		size_t n = strnlen(e->tree.unc, sizeof(e->tree.unc));

		set_int(o, "mid", e->mid);
		set_str(o, "share", e->tree.unc, sizeof(e->tree.unc));
		set_bool(o, "ipc", n >= 5 && !strcasecmp(e->tree.unc + n - 5, "\\IPC$"));
		set_hex(o, "share_flags", e->tree.share_flags, 8);
		set_bool(o, "encrypt_data", e->tree.share_flags & CT_SMB2_SHAREFLAG_ENCRYPT_DATA);
		set_bool(o, "seal", e->tree.seal);
		break;
	}
	case CT_EV_RECONNECT:
		set_int(o, "mid", e->mid);
		break;
	case CT_EV_LOST:
		set_int(o, "count", e->mid);
		break;
	case CT_EV_MOUNT:
		set_str(o, "share", e->mount.unc, sizeof(e->mount.unc));
		set_str(o, "user", e->mount.user, sizeof(e->mount.user));
		set_int(o, "port", e->mount.port);
		break;
	case CT_EV_KDC:
		json_set_kdc(o, e);
		break;
	case CT_EV_TCP_RESET:
		json_object_set_new(o, "direction",
				    json_string(e->flags & CT_F_RST_SENT ? "sent" : "received"));
		/* fall through */
	case CT_EV_TCP_RETRANSMIT:
	case CT_EV_TCP_FIN:
		json_object_set_new(o, "state", json_string(tcp_state_name(e->tcp.state)));
		set_addr(o, "saddr", &e->saddr);
		break;
	}
	return o;
}

int render_json_event(FILE *out, const struct ct_event *e)
{
	json_t *o = event_to_json(e);
	int rc = json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(o);
	fputc('\n', out);
	return rc;
}
