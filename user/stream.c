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
	json_t *o, *fmt, *version;
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
	version = json_object_get(o, "version");
	if (!json_is_string(fmt) || strcmp(json_string_value(fmt), STREAM_FORMAT)) {
		json_decref(o);
		return reader_fail(r, "not a cifstrace recording (first line must be the "
				      "\"" STREAM_FORMAT "\" header written by 'cifstrace record')");
	}
	if (!json_is_integer(version) || json_integer_value(version) != STREAM_VERSION) {
		json_decref(o);
		return reader_fail(r, "unsupported recording version (this cifstrace reads version 1)");
	}
	if (header_from_json(o, r->kernel, sizeof(r->kernel), r->host, sizeof(r->host),
			     r->err, sizeof(r->err))) {
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
