// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include "snapshot.h"

void snapshot_free(struct snapshot *s)
{
	free(s->hist);
	free(s->err);
	free(s->io);
	free(s->conn);
	free(s->req);
	memset(s, 0, sizeof(*s));
}

struct snap_conn *snapshot_conn(struct snapshot *s, __u64 conn_id, bool create)
{
	struct snap_conn *c;

	for (size_t i = 0; i < s->nconn; i++)
		if (s->conn[i].conn_id == conn_id)
			return &s->conn[i];
	if (!create)
		return NULL;
	c = realloc(s->conn, (s->nconn + 1) * sizeof(*c));
	if (!c)
		return NULL;
	s->conn = c;
	c = &s->conn[s->nconn++];
	memset(c, 0, sizeof(*c));
	c->conn_id = conn_id;
	return c;
}

bool snapshot_waits_by_design(__u16 cmd)
{
	return cmd == CT_SMB2_LOCK || cmd == CT_SMB2_CHANGE_NOTIFY ||
	       cmd == CT_SMB2_OPLOCK_BREAK;
}

size_t snapshot_oldest(const struct snapshot *s, __u64 min_age_ns, struct ct_event *out,
		       size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nreq; i++) {
		const struct snap_req *r = &s->req[i];
		struct ct_event *e = NULL;

		if (!r->v.conn_id || snapshot_waits_by_design(r->v.cmd) || r->v.enter_ns > s->ts_ns ||
		    s->ts_ns - r->v.enter_ns < min_age_ns)
			continue;
		for (size_t j = 0; j < n; j++)
			if (out[j].conn_id == r->v.conn_id)
				e = &out[j];
		if (e && e->ts_ns - e->latency_ns <= r->v.enter_ns)
			continue;	/* an older one is already kept */
		if (!e) {
			if (n == max)
				continue;
			e = &out[n++];
		}
		memset(e, 0, sizeof(*e));
		e->type = CT_EV_INFLIGHT;
		e->ts_ns = s->ts_ns;
		e->conn_id = r->v.conn_id;
		e->sesid = r->k.sesid;
		e->mid = r->k.mid;
		e->tid = r->v.tid;
		e->cmd = r->v.cmd;
		e->pid = r->v.pid;
		memcpy(e->comm, r->v.comm, sizeof(e->comm));
		e->latency_ns = s->ts_ns - r->v.enter_ns;
		e->flags = CT_F_LATENCY;
		if (r->v.sent_ns >= r->v.enter_ns && r->v.sent_ns) {
			e->req.queue_ns = r->v.sent_ns - r->v.enter_ns;
			e->flags |= CT_F_SENT;
			if (r->v.acked_ns >= r->v.sent_ns && r->v.acked_ns <= s->ts_ns) {
				e->req.network_ns = r->v.acked_ns - r->v.sent_ns;
				e->req.server_ns = s->ts_ns - r->v.acked_ns;
				e->flags |= CT_F_ACKED;
			}
		}
	}
	/* names, where the kernel knows them */
	for (size_t j = 0; j < n; j++)
		for (size_t i = 0; i < s->nconn; i++)
			if (s->conn[i].conn_id == out[j].conn_id && s->conn[i].has_info) {
				memcpy(out[j].server, s->conn[i].info.host, sizeof(out[j].server));
				out[j].daddr = s->conn[i].info.daddr;
				out[j].flags |= CT_F_ADDR;
			}
	return n;
}
