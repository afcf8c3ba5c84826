// SPDX-License-Identifier: GPL-2.0
/* Rendering a diagnosed attempt: a readable block, or one JSON object. */
#include <string.h>
#include "attempts.h"
#include "diagnosis.h"
#include "escape.h"
#include "names.h"
#include "ntstatus.h"
#include "render.h"

bool timeline_wants(const struct attempt *a, const struct ct_event *e)
{
	switch (e->type) {
	case CT_EV_REQUEST:
	case CT_EV_ACK:
		/* a reconnect's only requests are the unanswered one it is about */
		return a->kind == ATTEMPT_RECONNECT ||
		       (e->cmd <= CT_SMB2_TREE_CONNECT && e->cmd != CT_SMB2_LOGOFF);
	case CT_EV_RESPONSE:	/* phase responses have their own events */
		return false;
	default:
		return true;
	}
}

static const char *esc(const char *s, size_t max, char *buf, size_t len)
{
	return escape_str(buf, len, s, max, ESC_TEXT);
}

#define ESC(s, max) esc((s), (max), (char[4 * 1024 + 1]){ 0 }, 4 * 1024 + 1)

void render_diagnosis_text(FILE *out, const struct attempt *a, const struct diagnosis *d)
{
	char details[2048], buf[32];
	const char *verdict = d->outcome == OUTCOME_OK ? "OK" :
			      d->outcome == OUTCOME_HUNG ? "HUNG" : "FAILED";

	if (a->kind == ATTEMPT_RECONNECT)
		fprintf(out, "== reconnect #%u to %s\n", a->id, ESC(d->server, sizeof(d->server)));
	else
		fprintf(out, "== mount #%u %s as '%s' by %s[%u]\n", a->id,
			ESC(d->share[0] ? d->share : d->server, sizeof(d->share)),
			ESC(d->user, sizeof(d->user)), ESC(a->comm, sizeof(a->comm)), a->pid);
	fprintf(out, "   %s  %s%s%s  phase=%s", verdict, d->class, d->reason ? "/" : "",
		d->reason ? d->reason : "", phase_name(d->phase));
	if (d->has_status)
		fprintf(out, "  %s (0x%08X)", status_str(d->status, buf, sizeof(buf)), d->status);
	if (d->err)
		fprintf(out, "  errno=%d (%s)", d->err, errno_name(d->err, buf, sizeof(buf)));
	fprintf(out, "  %.3f ms\n", d->duration_ns / 1e6);

	fprintf(out, "   timeline:\n");
	for (size_t i = 0; i < a->nev; i++) {
		const struct ct_event *e = &a->ev[i];

		if (!timeline_wants(a, e))
			continue;
		fprintf(out, "   %+12.3f ms  %-14s %s\n", (e->ts_ns - a->start_ns) / 1e6,
			event_type_name(e->type), event_details(e, details, sizeof(details)));
	}
	fprintf(out, "   diagnosis: %s\n", ESC(d->summary, sizeof(d->summary)));
	if (d->nevidence)
		fprintf(out, "   evidence:\n");
	for (int i = 0; i < d->nevidence; i++)
		fprintf(out, "     - %s\n", ESC(d->evidence[i], DIAG_TEXT));
	if (d->nadvice)
		fprintf(out, "   what to check:\n");
	for (int i = 0; i < d->nadvice; i++)
		fprintf(out, "     %d. %s\n", i + 1, ESC(d->advice[i], DIAG_TEXT));
	fprintf(out, "\n");
}

static json_t *jstr(const char *s, size_t max)
{
	char buf[4 * 2 * DIAG_TEXT + 1];

	escape_str(buf, sizeof(buf), s, max, ESC_UTF8);
	return json_string(buf);
}

void render_diagnosis_json(FILE *out, const struct attempt *a, const struct diagnosis *d)
{
	json_t *o = json_object(), *ev = json_array(), *adv = json_array(), *tl = json_array();
	char buf[32];

	json_object_set_new(o, "attempt", json_integer(a->id));
	json_object_set_new(o, "kind", json_string(a->kind == ATTEMPT_MOUNT ? "mount" : "reconnect"));
	json_object_set_new(o, "pid", json_integer(a->pid));
	json_object_set_new(o, "comm", jstr(a->comm, sizeof(a->comm)));
	json_object_set_new(o, "server", jstr(d->server, sizeof(d->server)));
	json_object_set_new(o, "share", jstr(d->share, sizeof(d->share)));
	json_object_set_new(o, "user", jstr(d->user, sizeof(d->user)));
	json_object_set_new(o, "outcome", json_string(outcome_name(d->outcome)));
	json_object_set_new(o, "phase", json_string(phase_name(d->phase)));
	json_object_set_new(o, "class", json_string(d->class));
	json_object_set_new(o, "reason", d->reason ? json_string(d->reason) : json_null());
	if (d->has_status) {
		snprintf(buf, sizeof(buf), "0x%08X", d->status);
		json_object_set_new(o, "status", json_string(buf));
		json_object_set_new(o, "status_name",
				    json_string(status_str(d->status, buf, sizeof(buf))));
	}
	json_object_set_new(o, "errno", d->err ? json_integer(d->err) : json_null());
	json_object_set_new(o, "start_ts_us", json_integer(a->start_ns / 1000));
	json_object_set_new(o, "duration_us", json_integer(d->duration_ns / 1000));
	json_object_set_new(o, "summary", jstr(d->summary, sizeof(d->summary)));
	for (int i = 0; i < d->nevidence; i++)
		json_array_append_new(ev, jstr(d->evidence[i], DIAG_TEXT));
	for (int i = 0; i < d->nadvice; i++)
		json_array_append_new(adv, jstr(d->advice[i], DIAG_TEXT));
	json_object_set_new(o, "evidence", ev);
	json_object_set_new(o, "advice", adv);
	for (size_t i = 0; i < a->nev; i++) {
		json_t *e;

		if (!timeline_wants(a, &a->ev[i]))
			continue;
		e = event_to_json(&a->ev[i]);
		json_object_set_new(e, "offset_us",
				    json_integer((a->ev[i].ts_ns - a->start_ns) / 1000));
		json_array_append_new(tl, e);
	}
	json_object_set_new(o, "timeline", tl);
	json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(o);
}
