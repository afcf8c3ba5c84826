/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Renderers of the raw event stream: one line per event, as aligned text
 * or as JSON Lines. Formatting lives here only; nothing here decides.
 */
#ifndef RENDER_H
#define RENDER_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>
#include "cifstrace.h"

/* Text: a header line, then one line per event; times relative to t0_ns. */
void render_text_header(FILE *out);
void render_text_event(FILE *out, const struct ct_event *e, __u64 t0_ns);

/* The DETAILS column of a text line: escaped, one line. */
const char *event_details(const struct ct_event *e, char *out, size_t outlen);

/* JSON: the object for one event (caller json_decref()s), or one line. */
json_t *event_to_json(const struct ct_event *e);
int render_json_event(FILE *out, const struct ct_event *e);
/* A request's time split (RESPONSE, INFLIGHT, slow ops): queue_us,
 * network_us, server_us, network_server_us, null where not seen. */
void json_set_split(json_t *o, const struct ct_event *e);

/* "127.0.0.1:445", "[::1]:445", "" when unknown. */
const char *addr_str(const struct ct_addr *a, char *buf, size_t len);

/* "STATUS_LOGON_FAILURE" or "0xC0000099" style fallbacks, never NULL. */
const char *status_str(__u32 status, char *buf, size_t len);

/* Diagnoses (render_diagnosis.c). */
struct attempt;
struct diagnosis;
void render_diagnosis_text(FILE *out, const struct attempt *a, const struct diagnosis *d);
void render_diagnosis_json(FILE *out, const struct attempt *a, const struct diagnosis *d);
/* Is this event worth a timeline line? (Phase commands, TCP, mount.) */
bool timeline_wants(const struct attempt *a, const struct ct_event *e);

#endif
