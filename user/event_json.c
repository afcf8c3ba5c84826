// SPDX-License-Identifier: GPL-2.0
/*
 * Every field of an event as JSON knows it, described once: the writer
 * (events --json, recordings) and the reader (--input) walk the same
 * table, in its order. A new field is a row here (and words in
 * render_text.c). Field names are a contract (README, tests, recordings).
 *
 * Reading is reading untrusted input: every field is type- and
 * range-checked, strings must fit their fields, and any problem is one
 * error naming the field. Never a crash, never a silent skip.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include "escape.h"
#include "krb.h"
#include "names.h"
#include "render.h"
#include "stream.h"

#define MAX_ESC(n) (4 * (n) + 1)

/* ------------------------------------------------------------ writing */

/* Untrusted bytes from the kernel: always through escape_str(). */
static void set_str(json_t *o, const char *key, const char *s, size_t max)
{
	char buf[MAX_ESC(CT_PATH_LEN > CT_UNC_LEN ? CT_PATH_LEN : CT_UNC_LEN)];

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

/* ------------------------------------------------------------ reading */

struct ctx {
	json_t *o;
	char *err;
	size_t errlen;
};

static int fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Integer field in [min, max]; absent or null leaves *v and returns 1. */
static int get_int(struct ctx *c, const char *key, long long min, long long max, long long *v)
{
	json_t *j = json_object_get(c->o, key);

	if (!j || json_is_null(j))
		return 1;
	if (!json_is_integer(j))
		return fail(c, "field '%s' must be an integer", key);
	if (json_integer_value(j) < min || json_integer_value(j) > max)
		return fail(c, "field '%s' out of range: %lld", key, (long long)json_integer_value(j));
	*v = json_integer_value(j);
	return 0;
}

#define GET_U(c, key, max, dst) ({						\
	long long _v = 0;							\
	int _r = get_int(c, key, 0, max, &_v);					\
	if (_r == 0)								\
		(dst) = _v;							\
	_r; })

static int get_str(struct ctx *c, const char *key, char *dst, size_t len)
{
	json_t *j = json_object_get(c->o, key);

	if (!j || json_is_null(j))
		return 1;
	if (!json_is_string(j))
		return fail(c, "field '%s' must be a string", key);
	if (unescape_hex(dst, len, json_string_value(j)))
		return fail(c, "field '%s' is longer than %zu bytes", key, len - 1);
	return 0;
}

/* A hex string of at most len bytes into dst; *n gets the count. */
static int get_bytes(struct ctx *c, const char *key, __u8 *dst, size_t len, __u16 *n)
{
	json_t *j = json_object_get(c->o, key);
	const char *s;
	size_t sl;

	if (!j || json_is_null(j))
		return 1;
	if (!json_is_string(j))
		return fail(c, "field '%s' must be a string", key);
	s = json_string_value(j);
	sl = strlen(s);
	if (sl % 2 || sl / 2 > len)
		return fail(c, "field '%s' must be at most %zu bytes in hex", key, len);
	for (size_t i = 0; i < sl / 2; i++) {
		unsigned int b;

		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &b) != 1)
			return fail(c, "field '%s' must be hex digits", key);
		dst[i] = (__u8)b;
	}
	*n = (__u16)(sl / 2);
	return 0;
}

static int get_bool(struct ctx *c, const char *key, int *v)
{
	json_t *j = json_object_get(c->o, key);

	if (!j || json_is_null(j))
		return 1;
	if (!json_is_boolean(j))
		return fail(c, "field '%s' must be true or false", key);
	*v = json_is_true(j);
	return 0;
}

/* "0x1A2B" strings, as the writer prints flags and statuses. */
static int get_hex(struct ctx *c, const char *key, unsigned long max, __u32 *v)
{
	char buf[24], *end;
	unsigned long x;
	int r = get_str(c, key, buf, sizeof(buf));

	if (r)
		return r;
	errno = 0;
	x = strtoul(buf, &end, 16);
	if (strncmp(buf, "0x", 2) || *end || errno || x > max || end == buf + 2)
		return fail(c, "field '%s' must be a hex string like \"0x%s\"", key,
			    max > 0xffff ? "C00000CC" : "0002");
	*v = (__u32)x;
	return 0;
}

/* A name from one of the tables in names.c. */
static int get_name(struct ctx *c, const char *key, int (*lookup)(const char *), int *v)
{
	char buf[32];
	int r = get_str(c, key, buf, sizeof(buf));

	if (r)
		return r;
	*v = lookup(buf);
	if (*v < 0)
		return fail(c, "field '%s' has an unknown value \"%s\"", key, buf);
	return 0;
}

static int get_addr(struct ctx *c, const char *key, struct ct_addr *a)
{
	char buf[64], *colon, *host = buf, *end;
	unsigned long port;
	int r = get_str(c, key, buf, sizeof(buf));

	if (r)
		return r;
	if (!buf[0])
		return 1;
	colon = strrchr(buf, ':');
	if (!colon)
		return fail(c, "field '%s' must be ADDRESS:PORT", key);
	*colon = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || colon[1] < '0' || colon[1] > '9')
		return fail(c, "field '%s' has a bad port", key);
	if (buf[0] == '[' && colon > buf && colon[-1] == ']') {
		host = buf + 1;
		colon[-1] = '\0';
	}
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, host, a->addr) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, host, a->addr) == 1)
		a->family = AF_INET6;
	else
		return fail(c, "field '%s' has no valid address", key);
	if (port > 65535)
		return fail(c, "field '%s' has a bad port", key);
	a->port = port;
	return 0;
}

/* A getter's result for a field that must be present. */
static int required(struct ctx *c, const char *key, int got)
{
	return got > 0 ? fail(c, "missing field '%s'", key) : got;
}

/* ------------------------------------------------------------ the table */

enum fkind {
	FK_UINT,	/* an unsigned member (1, 2, 4 or 8 bytes), at most max */
	FK_INT,		/* a signed 32-bit member, in [-max, max] */
	FK_US,		/* nanoseconds, written as microseconds */
	FK_HEX,		/* "0x%0*X", width digits; at most max */
	FK_STR,		/* untrusted bytes from the kernel: escaped */
	FK_ADDR,	/* "address:port" */
	FK_NAME,	/* a number by its name (names.c) */
	FK_BOOL,	/* flag (a CT_F_* bit) if set, else member != 0 */
	FK_CUSTOM,	/* write() and read() do it all */
};

/* opts */
#define O_REQ	 0x01	/* reading: must be present */
#define O_IF	 0x02	/* written only with flag; read, it sets flag */
#define O_NULL	 0x04	/* written as null without flag; read, it sets flag */
#define O_TRUE	 0x08	/* a bool written only when true */
#define O_OUT	 0x10	/* written only: derived from other fields */

struct names_of {
	const char *(*name)(uint32_t v);
	int (*by_name)(const char *name);
};

struct field {
	const char *key;
	__u32 types;		/* T() of the event types that have it */
	enum fkind kind;
	__u8 opts;		/* O_* */
	__u8 width;		/* FK_HEX digits */
	__u16 off, size;	/* the member of struct ct_event */
	__u32 flag;		/* CT_F_* of O_IF, O_NULL and flag bools */
	long long max;
	const struct names_of *names;	/* FK_NAME */
	/* written only if it says so (NULL: always) */
	bool (*when)(const struct ct_event *e);
	/* FK_CUSTOM and O_OUT */
	void (*write)(json_t *o, const struct field *f, const struct ct_event *e);
	int (*read)(struct ctx *c, const struct field *f, struct ct_event *e);
};

#define T(t)		(1u << (t))
#define ALL		(~0u)
#define REQS		(T(CT_EV_REQUEST) | T(CT_EV_ACK) | T(CT_EV_RESPONSE) | T(CT_EV_INFLIGHT))
#define PHASES		(T(CT_EV_NEGOTIATE) | T(CT_EV_SESSION_SETUP) | T(CT_EV_TREE_CONNECT))
#define TCP_EVS		(T(CT_EV_TCP_RESET) | T(CT_EV_TCP_RETRANSMIT) | T(CT_EV_TCP_FIN))
#define M(member)	.off = offsetof(struct ct_event, member), \
			.size = sizeof(((struct ct_event *)0)->member)

static __u64 get_u(const struct ct_event *e, const struct field *f)
{
	const char *p = (const char *)e + f->off;

	switch (f->size) {
	case 1: return *(const __u8 *)p;
	case 2: return *(const __u16 *)p;
	case 4: return *(const __u32 *)p;
	default: return *(const __u64 *)p;
	}
}

static void put_u(struct ct_event *e, const struct field *f, __u64 v)
{
	char *p = (char *)e + f->off;

	switch (f->size) {
	case 1: *(__u8 *)p = v; break;
	case 2: *(__u16 *)p = v; break;
	case 4: *(__u32 *)p = v; break;
	default: *(__u64 *)p = v; break;
	}
}

static const char *cmd_name(uint32_t cmd)
{
	return smb2_cmd_name(cmd);
}

static const struct names_of event_names = { event_type_name, event_type_by_name };
static const struct names_of cmd_names = { cmd_name, smb2_cmd_by_name };
static const struct names_of connect_names = { connect_result_name, connect_result_by_name };
static const struct names_of mech_names = { mech_name, mech_by_name };
static const struct names_of state_names = { tcp_state_name, tcp_state_by_name };

/* -- what a plain row cannot say */

static void status_name_out(json_t *o, const struct field *f, const struct ct_event *e)
{
	char buf[64];

	json_object_set_new(o, f->key, json_string(status_str(e->status, buf, sizeof(buf))));
}

static void rc_name_out(json_t *o, const struct field *f, const struct ct_event *e)
{
	char buf[64];

	json_object_set_new(o, f->key, json_string(errno_name(e->rc, buf, sizeof(buf))));
}

static bool has_status(const struct ct_event *e) { return e->flags & CT_F_STATUS; }
static bool has_rc_error(const struct ct_event *e) { return (e->flags & CT_F_RC) && e->rc; }
static bool final_round(const struct ct_event *e) { return e->flags & CT_F_FINAL; }
static bool a_response(const struct ct_event *e) { return e->type == CT_EV_RESPONSE && e->req.path[0]; }

static void split_out(json_t *o, const struct field *f, const struct ct_event *e)
{
	json_set_split(o, e);
}

/* the time split, optional (version 1 recordings have none) */
static int split_in(struct ctx *c, const struct field *f, struct ct_event *e)
{
	int n = 0, m = 0;

	if ((n = GET_U(c, "queue_us", LLONG_MAX / 1000, e->req.queue_ns)) < 0)
		return -1;
	if (!n) {
		e->req.queue_ns *= 1000;
		e->flags |= CT_F_SENT;
	}
	if ((n = GET_U(c, "network_us", LLONG_MAX / 1000, e->req.network_ns)) < 0 ||
	    (m = GET_U(c, "server_us", LLONG_MAX / 1000, e->req.server_ns)) < 0)
		return -1;
	if (n != m)
		return fail(c, "fields 'network_us' and 'server_us' go together");
	if (!n) {
		e->req.network_ns *= 1000;
		e->req.server_ns *= 1000;
		e->flags |= CT_F_ACKED;
	}
	if ((m = GET_U(c, "network_server_us", LLONG_MAX / 1000, e->req.network_ns)) < 0)
		return -1;
	if (!m) {
		if (!n)
			return fail(c, "field 'network_server_us' excludes 'network_us'");
		e->req.network_ns *= 1000;
		e->flags |= CT_F_JOINT;
	}
	return 0;
}

/* A dialect (the 16-bit member the field names) by its name, "3.1.1". */
static void dialect_out(json_t *o, const struct field *f, const struct ct_event *e)
{
	char buf[16];

	json_object_set_new(o, f->key, json_string(dialect_name(get_u(e, f), buf, sizeof(buf))));
}

static int dialect_in(struct ctx *c, const struct field *f, struct ct_event *e)
{
	int n, v;

	if ((n = get_name(c, f->key, dialect_by_name, &v)) < 0)
		return -1;
	if (!n)
		put_u(e, f, v);
	return 0;
}

/* A mount's vers=, by its name ("3.1.1"); written where known. */
static bool vers_known(const struct ct_event *e) { return vers_name(e->mount.vers); }
static bool has_source(const struct ct_event *e) { return e->mount_done.source[0]; }

static void vers_out(json_t *o, const struct field *f, const struct ct_event *e)
{
	json_object_set_new(o, f->key, json_string(vers_name(e->mount.vers)));
}

static int vers_in(struct ctx *c, const struct field *f, struct ct_event *e)
{
	char buf[16];
	int r = get_str(c, f->key, buf, sizeof(buf));

	if (r)
		return r < 0 ? -1 : 0;
	if (vers_by_name(buf, e->mount.vers))
		return fail(c, "field '%s' has an unknown value \"%s\"", f->key, buf);
	return 0;
}

/* A TREE_CONNECT's connection facts, where the kernel gave them. */
static bool tree_dialect_known(const struct ct_event *e) { return e->tree.dialect; }

static void signing_out(json_t *o, const struct field *f, const struct ct_event *e)
{
	set_bool(o, f->key, e->negotiate.security_mode & CT_SMB2_NEGOTIATE_SIGNING_REQUIRED);
}

static void encryption_out(json_t *o, const struct field *f, const struct ct_event *e)
{
	set_bool(o, f->key, e->negotiate.capabilities & CT_SMB2_GLOBAL_CAP_ENCRYPTION);
}

static void guest_out(json_t *o, const struct field *f, const struct ct_event *e)
{
	set_bool(o, f->key, e->session.session_flags & CT_SMB2_SESSION_FLAG_IS_GUEST);
}

static void encrypted_out(json_t *o, const struct field *f, const struct ct_event *e)
{
	set_bool(o, f->key, e->session.session_flags & CT_SMB2_SESSION_FLAG_ENCRYPT_DATA);
}

static void ipc_out(json_t *o, const struct field *f, const struct ct_event *e)
{
	size_t n = strnlen(e->tree.unc, sizeof(e->tree.unc));

	set_bool(o, f->key, n >= 5 && !strcasecmp(e->tree.unc + n - 5, "\\IPC$"));
}

static void encrypt_data_out(json_t *o, const struct field *f, const struct ct_event *e)
{
	set_bool(o, f->key, e->tree.share_flags & CT_SMB2_SHAREFLAG_ENCRYPT_DATA);
}

static void direction_out(json_t *o, const struct field *f, const struct ct_event *e)
{
	json_object_set_new(o, f->key, json_string(e->flags & CT_F_RST_SENT ? "sent" : "received"));
}

static int direction_in(struct ctx *c, const struct field *f, struct ct_event *e)
{
	char dir[16] = "";

	if (required(c, f->key, get_str(c, f->key, dir, sizeof(dir))))
		return -1;
	if (strcmp(dir, "sent") && strcmp(dir, "received"))
		return fail(c, "field 'direction' must be \"sent\" or \"received\"");
	if (!strcmp(dir, "sent"))
		e->flags |= CT_F_RST_SENT;
	return 0;
}

/*
 * A KDC event. "krb_error" is the raw bytes the kernel kept (hex: what a
 * recording replays); the fields after it are decoded from them.
 */
static void kdc_out(json_t *o, const struct field *f, const struct ct_event *e)
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

static int kdc_in(struct ctx *c, const struct field *f, struct ct_event *e)
{
	int n = 0, m = 0;

	if (required(c, "kind", get_name(c, "kind", kdc_kind_by_name, &n)))
		return -1;
	e->kdc.kind = n;
	if (required(c, "proto", get_name(c, "proto", krb_proto_by_name, &n)))
		return -1;
	e->kdc.proto = n;
	if (get_addr(c, "saddr", &e->saddr) < 0 ||
	    (n = get_name(c, "msg", krb_msg_by_name, &m)) < 0)
		return -1;
	if (!n)
		e->kdc.msg = m;
	if (GET_U(c, "msg_len", UINT32_MAX, e->kdc.msg_len) < 0 ||
	    get_bytes(c, "krb_error", e->kdc.data, sizeof(e->kdc.data), &e->kdc.data_len) < 0)
		return -1;
	return 0;
}

/*
 * The rows, in the order an object prints them; an event type's fields
 * are the rows whose types include it.
 */
static const struct field fields[] = {
	{ "ts_us", ALL, FK_US, O_REQ, M(ts_ns), .max = LLONG_MAX / 1000 },
	{ "event", ALL, FK_NAME, O_REQ, M(type), .names = &event_names },
	{ "pid", ALL, FK_UINT, 0, M(pid), .max = UINT32_MAX },
	{ "comm", ALL, FK_STR, 0, M(comm) },
	{ "server", ALL, FK_STR, 0, M(server) },
	{ "server_addr", ALL, FK_ADDR, O_IF, M(daddr), .flag = CT_F_ADDR },
	{ "conn_id", ALL, FK_UINT, 0, M(conn_id), .max = LLONG_MAX },
	{ "session_id", ALL, FK_UINT, 0, M(sesid), .max = LLONG_MAX },
	{ "tree_id", ALL, FK_UINT, 0, M(tid), .max = UINT32_MAX },
	{ "status", ALL, FK_HEX, O_IF, 8, M(status), .flag = CT_F_STATUS, .max = UINT32_MAX },
	{ "status_name", ALL, FK_CUSTOM, O_OUT, .when = has_status, .write = status_name_out },
	{ "rc", ALL, FK_INT, O_IF, M(rc), .flag = CT_F_RC, .max = 4095 },
	{ "rc_name", ALL, FK_CUSTOM, O_OUT, .when = has_rc_error, .write = rc_name_out },
	{ "latency_us", ALL, FK_US, O_NULL, M(latency_ns), .flag = CT_F_LATENCY,
	  .max = LLONG_MAX / 1000 },
	{ "duration_us", ALL, FK_US, O_IF, M(duration_ns), .flag = CT_F_DURATION,
	  .max = LLONG_MAX / 1000 },
	/* CONNECT */
	{ "result", T(CT_EV_CONNECT), FK_NAME, O_REQ, M(connect.result), .names = &connect_names },
	/* requests */
	{ "cmd", REQS, FK_NAME, O_REQ, M(cmd), .names = &cmd_names },
	{ "mid", REQS | PHASES | T(CT_EV_RECONNECT), FK_UINT, 0, M(mid), .max = LLONG_MAX },
	{ "queue_us", T(CT_EV_RESPONSE) | T(CT_EV_INFLIGHT), FK_CUSTOM, 0,
	  .write = split_out, .read = split_in },
	{ "slow", T(CT_EV_RESPONSE) | T(CT_EV_INFLIGHT), FK_BOOL, O_TRUE, .flag = CT_F_SLOW },
	{ "path", T(CT_EV_RESPONSE), FK_STR, 0, M(req.path), .when = a_response },
	/* NEGOTIATE */
	{ "dialect", T(CT_EV_NEGOTIATE), FK_CUSTOM, 0, M(negotiate.dialect), .write = dialect_out,
	  .read = dialect_in },
	{ "capabilities", T(CT_EV_NEGOTIATE), FK_HEX, 0, 8, M(negotiate.capabilities),
	  .max = UINT32_MAX },
	{ "security_mode", T(CT_EV_NEGOTIATE), FK_HEX, 0, 4, M(negotiate.security_mode),
	  .max = 0xffff },
	{ "signing_required", T(CT_EV_NEGOTIATE), FK_CUSTOM, O_OUT, .write = signing_out },
	{ "encryption_capable", T(CT_EV_NEGOTIATE), FK_CUSTOM, O_OUT, .write = encryption_out },
	/* SESSION_SETUP and the Kerberos upcall */
	{ "round", T(CT_EV_SESSION_SETUP), FK_UINT, 0, M(round), .max = 0xffff },
	{ "final", T(CT_EV_SESSION_SETUP), FK_BOOL, 0, .flag = CT_F_FINAL },
	{ "mechanism", T(CT_EV_SESSION_SETUP) | T(CT_EV_UPCALL), FK_NAME, 0, M(session.mech),
	  .names = &mech_names },
	{ "user", T(CT_EV_SESSION_SETUP) | T(CT_EV_UPCALL), FK_STR, 0, M(session.user) },
	{ "domain", T(CT_EV_SESSION_SETUP) | T(CT_EV_UPCALL), FK_STR, 0, M(session.domain) },
	{ "session_flags", T(CT_EV_SESSION_SETUP), FK_HEX, 0, 4, M(session.session_flags),
	  .max = 0xffff, .when = final_round },
	{ "guest", T(CT_EV_SESSION_SETUP), FK_CUSTOM, O_OUT, .when = final_round,
	  .write = guest_out },
	{ "encrypted", T(CT_EV_SESSION_SETUP), FK_CUSTOM, O_OUT, .when = final_round,
	  .write = encrypted_out },
	/* TREE_CONNECT */
	{ "share", T(CT_EV_TREE_CONNECT), FK_STR, 0, M(tree.unc) },
	{ "ipc", T(CT_EV_TREE_CONNECT), FK_CUSTOM, O_OUT, .write = ipc_out },
	{ "share_flags", T(CT_EV_TREE_CONNECT), FK_HEX, 0, 8, M(tree.share_flags),
	  .max = UINT32_MAX },
	{ "encrypt_data", T(CT_EV_TREE_CONNECT), FK_CUSTOM, O_OUT, .write = encrypt_data_out },
	{ "seal", T(CT_EV_TREE_CONNECT), FK_BOOL, 0, M(tree.seal) },
	/* the connection's (it may predate this tree connect) */
	{ "dialect", T(CT_EV_TREE_CONNECT), FK_CUSTOM, 0, M(tree.dialect), .when = tree_dialect_known,
	  .write = dialect_out, .read = dialect_in },
	{ "capabilities", T(CT_EV_TREE_CONNECT), FK_HEX, 0, 8, M(tree.capabilities),
	  .max = UINT32_MAX, .when = tree_dialect_known },
	/* LOST: how many records the ring buffer dropped */
	{ "count", T(CT_EV_LOST), FK_UINT, 0, M(mid), .max = LLONG_MAX },
	/* MOUNT */
	{ "share", T(CT_EV_MOUNT), FK_STR, 0, M(mount.unc) },
	{ "user", T(CT_EV_MOUNT), FK_STR, 0, M(mount.user) },
	{ "port", T(CT_EV_MOUNT), FK_UINT, 0, M(mount.port), .max = 65535 },
	{ "vers", T(CT_EV_MOUNT), FK_CUSTOM, 0, M(mount.vers), .when = vers_known,
	  .write = vers_out, .read = vers_in },
	{ "seal", T(CT_EV_MOUNT), FK_BOOL, O_TRUE, .flag = CT_F_SEAL },
	/* MOUNT_DONE: the source, with the path inside the share */
	{ "source", T(CT_EV_MOUNT_DONE), FK_STR, 0, M(mount_done.source), .when = has_source },
	/* KDC */
	{ "kind", T(CT_EV_KDC), FK_CUSTOM, 0, .write = kdc_out, .read = kdc_in },
	/* TCP */
	{ "direction", T(CT_EV_TCP_RESET), FK_CUSTOM, 0, .write = direction_out,
	  .read = direction_in },
	{ "state", TCP_EVS, FK_NAME, 0, M(tcp.state), .names = &state_names },
	{ "saddr", T(CT_EV_CONNECT) | TCP_EVS, FK_ADDR, 0, M(saddr) },
};

/* The command a phase event stands for (its records carry no "cmd"). */
static int implied_cmd(__u32 type)
{
	switch (type) {
	case CT_EV_NEGOTIATE:		return CT_SMB2_NEGOTIATE;
	case CT_EV_SESSION_SETUP:	return CT_SMB2_SESSION_SETUP;
	case CT_EV_TREE_CONNECT:	return CT_SMB2_TREE_CONNECT;
	default:			return -1;
	}
}

static bool has(const struct field *f, __u32 type)
{
	return type < 32 && (f->types & T(type));
}

static void write_field(json_t *o, const struct field *f, const struct ct_event *e)
{
	bool on = !f->flag || (e->flags & f->flag);

	if (f->when && !f->when(e))
		return;
	if ((f->opts & O_IF) && !on)
		return;
	if (f->opts & O_NULL && !on) {
		json_object_set_new(o, f->key, json_null());
		return;
	}
	switch (f->kind) {
	case FK_UINT:
		set_int(o, f->key, get_u(e, f));
		break;
	case FK_INT:
		set_int(o, f->key, (__s32)get_u(e, f));
		break;
	case FK_US:
		set_int(o, f->key, get_u(e, f) / 1000);
		break;
	case FK_HEX:
		set_hex(o, f->key, get_u(e, f), f->width);
		break;
	case FK_STR:
		set_str(o, f->key, (const char *)e + f->off, f->size);
		break;
	case FK_ADDR:
		set_addr(o, f->key, (const struct ct_addr *)((const char *)e + f->off));
		break;
	case FK_NAME:
		json_object_set_new(o, f->key, json_string(f->names->name(get_u(e, f))));
		break;
	case FK_BOOL: {
		bool v = f->flag ? (e->flags & f->flag) : get_u(e, f) != 0;

		if (v || !(f->opts & O_TRUE))
			set_bool(o, f->key, v);
		break;
	}
	case FK_CUSTOM:
		f->write(o, f, e);
		break;
	}
}

json_t *event_to_json(const struct ct_event *e)
{
	json_t *o = json_object();

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (has(&fields[i], e->type))
			write_field(o, &fields[i], e);
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

/* 0 read, 1 absent, -1 error (in c->err) */
static int read_field(struct ctx *c, const struct field *f, struct ct_event *e)
{
	long long v = 0;
	__u32 x = 0;
	int r, b = 0;

	switch (f->kind) {
	case FK_UINT:
		r = get_int(c, f->key, 0, f->max, &v);
		if (!r)
			put_u(e, f, v);
		break;
	case FK_INT:
		r = get_int(c, f->key, -f->max, f->max, &v);
		if (!r)
			put_u(e, f, (__u32)(__s32)v);
		break;
	case FK_US:
		r = get_int(c, f->key, 0, f->max, &v);
		if (!r)
			put_u(e, f, (__u64)v * 1000);
		break;
	case FK_HEX:
		r = get_hex(c, f->key, f->max, &x);
		if (!r)
			put_u(e, f, x);
		break;
	case FK_STR:
		r = get_str(c, f->key, (char *)e + f->off, f->size);
		break;
	case FK_ADDR:
		r = get_addr(c, f->key, (struct ct_addr *)((char *)e + f->off));
		break;
	case FK_NAME:
		r = get_name(c, f->key, f->names->by_name, &b);
		if (!r)
			put_u(e, f, b);
		break;
	case FK_BOOL:
		r = get_bool(c, f->key, &b);
		if (!r && f->flag && b)
			e->flags |= f->flag;
		else if (!r && !f->flag)
			put_u(e, f, b);
		return r;	/* a bool is its own flag */
	case FK_CUSTOM:
		return f->read ? f->read(c, f, e) : 0;
	default:
		return 0;
	}
	if (r < 0)
		return -1;
	if (f->opts & O_REQ)
		return required(c, f->key, r);
	if (!r && (f->opts & (O_IF | O_NULL)))
		e->flags |= f->flag;
	return r;
}

int event_from_json(json_t *o, struct ct_event *e, char *err, size_t errlen)
{
	struct ctx c = { o, err, errlen };
	int cmd;

	memset(e, 0, sizeof(*e));
	err[0] = '\0';
	if (!json_is_object(o))
		return fail(&c, "not a JSON object");
	/* ts_us and event come first: the type says which rows follow */
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const struct field *f = &fields[i];

		if (!has(f, e->type) || (f->opts & O_OUT))
			continue;
		if (read_field(&c, f, e) < 0)
			return -1;
	}
	cmd = implied_cmd(e->type);
	if (cmd >= 0)
		e->cmd = cmd;
	return 0;
}

/* The header line's strings (stream.c reads the rest of it). */
int header_from_json(json_t *o, char *kernel, size_t klen, char *host, size_t hlen,
		     char *err, size_t errlen)
{
	struct ctx c = { o, err, errlen };

	if (get_str(&c, "kernel", kernel, klen) < 0 || get_str(&c, "host", host, hlen) < 0)
		return -1;
	return 0;
}
