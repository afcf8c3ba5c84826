/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The recorded event stream: a header line, then one event per line in
 * the `events --json` format. Written by `record`, read by
 * `diagnose --input` on any machine, without root.
 *
 *   {"format":"cifstrace-events","version":1,"kernel":"6.12.1","host":"h",...}
 *   {"ts_us":...,"event":"mount",...}
 */
#ifndef STREAM_H
#define STREAM_H

#include <stdio.h>
#include <jansson.h>
#include "cifstrace.h"

#define STREAM_FORMAT	"cifstrace-events"
#define STREAM_VERSION	1

void stream_write_header(FILE *out, const char *kernel, const char *host);

/* Parse one event object back into a record; -1 with err filled on bad input. */
int event_from_json(json_t *o, struct ct_event *e, char *err, size_t errlen);
/* A header line's "kernel" and "host" (event_json.c); -1 with err. */
int header_from_json(json_t *o, char *kernel, size_t klen, char *host, size_t hlen,
		     char *err, size_t errlen);

struct stream_reader {
	FILE *in;
	const char *name;	/* for messages */
	size_t lineno;
	char *line;
	size_t cap;
	char kernel[128];
	char host[128];
	char err[320];		/* "FILE:LINE: what is wrong" */
};

/* Reads and checks the header. 0, or -1 with r->err set. */
int stream_open(struct stream_reader *r, FILE *in, const char *name);
/* 1 and *e filled, 0 at end of input, -1 with r->err set. */
int stream_next(struct stream_reader *r, struct ct_event *e);
void stream_close(struct stream_reader *r);

#endif
