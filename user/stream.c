// SPDX-License-Identifier: GPL-2.0
/*
 * Reading a recorded stream is reading untrusted input: every field is
 * type- and range-checked, strings must fit their fields, and any problem
 * is one error naming the line. Never a crash, never a silent skip.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "escape.h"
#include "krb.h"
#include "names.h"
#include "stream.h"

#define MAX_LINE (64 * 1024)

void stream_write_header(FILE *out, const char *kernel, const char *host)
{
	char k[4 * 128 + 1], h[4 * 128 + 1];
	json_t *o;

	escape_str(k, sizeof(k), kernel, 128, ESC_UTF8);
	escape_str(h, sizeof(h), host, 128, ESC_UTF8);
	o = json_pack("{s:s, s:i, s:i, s:s, s:s}", "format", STREAM_FORMAT,
		      "version", STREAM_VERSION, "abi", CT_ABI_VERSION, "kernel", k, "host", h);
	json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(o);
}

/* ------------------------------------------------------------ fields */

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

/* Chains field reads: stops at the first error. */
#define TRY(expr) do { if ((expr) < 0) return -1; } while (0)

int event_from_json(json_t *o, struct ct_event *e, char *err, size_t errlen)
{
	struct ctx c = { o, err, errlen };
	long long ts = -1, v;
	int type = -1, b = 0, n, m;
	__u32 x;

	memset(e, 0, sizeof(*e));
	err[0] = '\0';
	if (!json_is_object(o))
		return fail(&c, "not a JSON object");
	if (get_int(&c, "ts_us", 0, LLONG_MAX / 1000, &ts) || ts < 0)
		return ts < 0 && !err[0] ? fail(&c, "missing field 'ts_us'") : -1;
	e->ts_ns = (__u64)ts * 1000;
	TRY(required(&c, "event", get_name(&c, "event", event_type_by_name, &type)));
	e->type = type;

	TRY(GET_U(&c, "pid", UINT32_MAX, e->pid));
	TRY(get_str(&c, "comm", e->comm, sizeof(e->comm)));
	TRY(get_str(&c, "server", e->server, sizeof(e->server)));
	TRY(n = get_addr(&c, "server_addr", &e->daddr));
	if (!n)
		e->flags |= CT_F_ADDR;
	TRY(GET_U(&c, "conn_id", LLONG_MAX, e->conn_id));
	TRY(GET_U(&c, "session_id", LLONG_MAX, e->sesid));
	TRY(GET_U(&c, "tree_id", UINT32_MAX, e->tid));
	TRY(GET_U(&c, "mid", LLONG_MAX, e->mid));
	TRY(n = get_hex(&c, "status", UINT32_MAX, &e->status));
	if (!n)
		e->flags |= CT_F_STATUS;
	TRY(n = get_int(&c, "rc", -4095, 4095, &v));
	if (!n) {
		e->rc = v;
		e->flags |= CT_F_RC;
	}
	TRY(n = GET_U(&c, "latency_us", LLONG_MAX / 1000, e->latency_ns));
	if (!n) {
		e->latency_ns *= 1000;
		e->flags |= CT_F_LATENCY;
	}
	TRY(n = GET_U(&c, "duration_us", LLONG_MAX / 1000, e->duration_ns));
	if (!n) {
		e->duration_ns *= 1000;
		e->flags |= CT_F_DURATION;
	}

	switch (e->type) {
	case CT_EV_CONNECT:
		TRY(required(&c, "result", get_name(&c, "result", connect_result_by_name, &n)));
		e->connect.result = n;
		TRY(get_addr(&c, "saddr", &e->saddr));
		break;
	case CT_EV_REQUEST:
	case CT_EV_ACK:
		TRY(required(&c, "cmd", get_name(&c, "cmd", smb2_cmd_by_name, &n)));
		e->cmd = n;
		break;
	case CT_EV_RESPONSE:
	case CT_EV_INFLIGHT:
		TRY(required(&c, "cmd", get_name(&c, "cmd", smb2_cmd_by_name, &n)));
		e->cmd = n;
		/* the time split, optional (version 1 recordings have none) */
		TRY(n = GET_U(&c, "queue_us", LLONG_MAX / 1000, e->req.queue_ns));
		if (!n) {
			e->req.queue_ns *= 1000;
			e->flags |= CT_F_SENT;
		}
		TRY(n = GET_U(&c, "network_us", LLONG_MAX / 1000, e->req.network_ns));
		TRY(m = GET_U(&c, "server_us", LLONG_MAX / 1000, e->req.server_ns));
		if (n != m)
			return fail(&c, "fields 'network_us' and 'server_us' go together");
		if (!n) {
			e->req.network_ns *= 1000;
			e->req.server_ns *= 1000;
			e->flags |= CT_F_ACKED;
		}
		TRY(m = GET_U(&c, "network_server_us", LLONG_MAX / 1000, e->req.network_ns));
		if (!m) {
			if (!n)
				return fail(&c, "field 'network_server_us' excludes 'network_us'");
			e->req.network_ns *= 1000;
			e->flags |= CT_F_JOINT;
		}
		TRY(get_bool(&c, "slow", &b));
		if (b)
			e->flags |= CT_F_SLOW;
		TRY(get_str(&c, "path", e->req.path, sizeof(e->req.path)));
		break;
	case CT_EV_NEGOTIATE:
		e->cmd = CT_SMB2_NEGOTIATE;
		TRY(n = get_name(&c, "dialect", dialect_by_name, &type));
		if (!n)
			e->negotiate.dialect = type;
		TRY(get_hex(&c, "capabilities", UINT32_MAX, &e->negotiate.capabilities));
		TRY(n = get_hex(&c, "security_mode", 0xffff, &x));
		if (!n)
			e->negotiate.security_mode = x;
		break;
	case CT_EV_SESSION_SETUP:
		e->cmd = CT_SMB2_SESSION_SETUP;
		TRY(GET_U(&c, "round", 0xffff, e->round));
		TRY(get_bool(&c, "final", &b));
		if (b)
			e->flags |= CT_F_FINAL;
		TRY(get_hex(&c, "session_flags", 0xffff, &e->session.session_flags));
		/* fall through */
	case CT_EV_UPCALL:
		TRY(n = get_name(&c, "mechanism", mech_by_name, &type));
		if (!n)
			e->session.mech = type;
		TRY(get_str(&c, "user", e->session.user, sizeof(e->session.user)));
		TRY(get_str(&c, "domain", e->session.domain, sizeof(e->session.domain)));
		break;
	case CT_EV_TREE_CONNECT:
		e->cmd = CT_SMB2_TREE_CONNECT;
		TRY(get_str(&c, "share", e->tree.unc, sizeof(e->tree.unc)));
		TRY(get_hex(&c, "share_flags", UINT32_MAX, &e->tree.share_flags));
		TRY(get_bool(&c, "seal", &b));
		e->tree.seal = b;
		break;
	case CT_EV_TCP_RESET: {
		char dir[16] = "";

		TRY(required(&c, "direction", get_str(&c, "direction", dir, sizeof(dir))));
		if (strcmp(dir, "sent") && strcmp(dir, "received"))
			return fail(&c, "field 'direction' must be \"sent\" or \"received\"");
		if (!strcmp(dir, "sent"))
			e->flags |= CT_F_RST_SENT;
	}
		/* fall through */
	case CT_EV_TCP_RETRANSMIT:
	case CT_EV_TCP_FIN:
		TRY(n = get_name(&c, "state", tcp_state_by_name, &type));
		if (!n)
			e->tcp.state = type;
		TRY(get_addr(&c, "saddr", &e->saddr));
		break;
	case CT_EV_MOUNT:
		TRY(get_str(&c, "share", e->mount.unc, sizeof(e->mount.unc)));
		TRY(get_str(&c, "user", e->mount.user, sizeof(e->mount.user)));
		TRY(GET_U(&c, "port", 65535, e->mount.port));
		break;
	case CT_EV_LOST:
		TRY(GET_U(&c, "count", LLONG_MAX, e->mid));
		break;
	case CT_EV_KDC:
		TRY(required(&c, "kind", get_name(&c, "kind", kdc_kind_by_name, &n)));
		e->kdc.kind = n;
		TRY(required(&c, "proto", get_name(&c, "proto", krb_proto_by_name, &n)));
		e->kdc.proto = n;
		TRY(get_addr(&c, "saddr", &e->saddr));
		TRY(n = get_name(&c, "msg", krb_msg_by_name, &m));
		if (!n)
			e->kdc.msg = m;
		TRY(GET_U(&c, "msg_len", UINT32_MAX, e->kdc.msg_len));
		TRY(get_bytes(&c, "krb_error", e->kdc.data, sizeof(e->kdc.data), &e->kdc.data_len));
		break;
	}
	return 0;
}

/* ------------------------------------------------------------ reader */

/*
 * Messages quote the input (a value, jansson's "near '...'"): escaped for
 * the terminal, so a recording cannot send escape sequences or bidi
 * controls through an error.
 */
static int reader_fail(struct stream_reader *r, const char *what)
{
	char raw[sizeof(r->err)];

	snprintf(raw, sizeof(raw), "%.100s:%zu: %.200s", r->name, r->lineno, what);
	escape_str(r->err, sizeof(r->err), raw, sizeof(raw), ESC_TEXT);
	return -1;
}

/*
 * The next line without its newline: 1, 0 at EOF, -1 on error. Memory is
 * bounded: a line longer than MAX_LINE is an error as soon as it is, not
 * after it was read whole; a read error (including out of memory) is an
 * error, never the end of input.
 */
static int next_line(struct stream_reader *r)
{
	size_t n = 0;
	int c;

	if (!r->line) {
		r->cap = MAX_LINE + 1;
		r->line = malloc(r->cap);
		if (!r->line)
			return reader_fail(r, "out of memory");
	}
	errno = 0;
	while ((c = getc_unlocked(r->in)) != EOF && c != '\n') {
		if (n == MAX_LINE) {
			r->lineno++;
			return reader_fail(r, "line too long");
		}
		if (!c) {
			r->lineno++;
			return reader_fail(r, "NUL byte in line");
		}
		r->line[n++] = (char)c;
	}
	if (c == EOF && ferror(r->in))
		return reader_fail(r, strerror(errno ? errno : EIO));
	if (c == EOF && !n)
		return 0;
	r->lineno++;
	r->line[n] = '\0';
	if (c == EOF)
		return reader_fail(r, "truncated line (no newline at end of file)");
	return 1;
}

static json_t *parse_line(struct stream_reader *r)
{
	json_error_t jerr;
	json_t *o = json_loads(r->line, JSON_REJECT_DUPLICATES, &jerr);
	char msg[200];

	if (!o) {
		snprintf(msg, sizeof(msg), "not valid JSON: %s (column %d)", jerr.text, jerr.column);
		reader_fail(r, msg);
	}
	return o;
}

int stream_open(struct stream_reader *r, FILE *in, const char *name)
{
	json_t *o, *fmt;
	long long version = 0;
	struct ctx c;
	int n;

	memset(r, 0, sizeof(*r));
	r->in = in;
	r->name = name;
	n = next_line(r);
	if (n <= 0)
		return n < 0 ? -1 : reader_fail(r, "empty input: no cifstrace-events header");
	o = parse_line(r);
	if (!o)
		return -1;
	fmt = json_object_get(o, "format");
	c = (struct ctx){ o, r->err, sizeof(r->err) };
	if (!json_is_string(fmt) || strcmp(json_string_value(fmt), STREAM_FORMAT)) {
		json_decref(o);
		return reader_fail(r, "not a cifstrace recording (first line must be the "
				      "\"" STREAM_FORMAT "\" header written by 'cifstrace record')");
	}
	if (get_int(&c, "version", 1, 1000, &version) || version != STREAM_VERSION) {
		json_decref(o);
		return reader_fail(r, "unsupported recording version (this cifstrace reads version 1)");
	}
	if (get_str(&c, "kernel", r->kernel, sizeof(r->kernel)) < 0 ||
	    get_str(&c, "host", r->host, sizeof(r->host)) < 0) {
		char msg[sizeof(r->err) + 8];

		snprintf(msg, sizeof(msg), "header: %.200s", r->err);
		json_decref(o);
		return reader_fail(r, msg);
	}
	json_decref(o);
	return 0;
}

int stream_next(struct stream_reader *r, struct ct_event *e)
{
	char msg[200] = "";
	json_t *o;
	int n = next_line(r);

	if (n <= 0)
		return n;
	o = parse_line(r);
	if (!o)
		return -1;
	n = event_from_json(o, e, msg, sizeof(msg));
	json_decref(o);
	if (n)
		return reader_fail(r, msg);
	return 1;
}

void stream_close(struct stream_reader *r)
{
	free(r->line);
	r->line = NULL;
}
