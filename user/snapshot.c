// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "array.h"
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
	if (array_room((void **)&s->conn, s->nconn, sizeof(*s->conn)))
		return NULL;
	c = &s->conn[s->nconn++];
	memset(c, 0, sizeof(*c));
	c->conn_id = conn_id;
	return c;
}

void ct_hist_add(struct ct_hist *to, const struct ct_hist *v)
{
	to->count += v->count;
	to->errors += v->errors;
	to->total_ns += v->total_ns;
	if (v->max_ns > to->max_ns)
		to->max_ns = v->max_ns;
	to->sent_count += v->sent_count;
	to->queue_ns += v->queue_ns;
	to->split_count += v->split_count;
	to->network_ns += v->network_ns;
	to->server_ns += v->server_ns;
	to->joint_count += v->joint_count;
	to->joint_ns += v->joint_ns;
	for (int b = 0; b < CT_HIST_SLOTS; b++)
		to->slots[b] += v->slots[b];
}

/*
 * The element of array *arr (n elements of elsz bytes, each starting with
 * its key of ksz bytes) whose key is key, appended zeroed if none is; NULL
 * out of memory. For the per-CPU tables, whose CPUs each hold a key.
 */
_Static_assert(offsetof(struct snap_hist, k) == 0 && offsetof(struct snap_io, k) == 0,
	       "merge_slot() finds an element by the key it starts with");

static void *merge_slot(void **arr, size_t *n, size_t elsz, const void *key, size_t ksz)
{
	char *el;

	for (size_t j = 0; j < *n; j++) {
		el = (char *)*arr + j * elsz;
		if (!memcmp(el, key, ksz))
			return el;
	}
	if (array_room(arr, *n, elsz))
		return NULL;
	el = (char *)*arr + *n * elsz;
	memset(el, 0, elsz);
	memcpy(el, key, ksz);
	(*n)++;
	return el;
}

int snapshot_merge_io(struct snapshot *s, const struct ct_io_entry *e)
{
	struct snap_io *io;

	if (!e->used)
		return 0;
	io = merge_slot((void **)&s->io, &s->nio, sizeof(*s->io), &e->k, sizeof(e->k));
	if (!io)
		return -1;
	io->v.read_bytes += e->v.read_bytes;
	io->v.write_bytes += e->v.write_bytes;
	return 0;
}

int snapshot_merge_err(struct snapshot *s, const struct ct_err_entry *e)
{
	struct snap_err *se;

	if (!e->used)
		return 0;
	se = merge_slot((void **)&s->err, &s->nerr, sizeof(*s->err), &e->k, sizeof(e->k));
	if (!se)
		return -1;
	se->n += e->v;
	return 0;
}

int snapshot_merge_hist(struct snapshot *s, const struct ct_hist_entry *e)
{
	struct snap_hist *h;

	if (!e->used)
		return 0;
	h = merge_slot((void **)&s->hist, &s->nhist, sizeof(*s->hist), &e->k, sizeof(e->k));
	if (!h)
		return -1;
	ct_hist_add(&h->v, &e->v);
	return 0;
}

int snapshot_read_reqs(struct snapshot *s, const struct ct_req *slots, size_t n)
{
	free(s->req);
	s->req = NULL;
	s->nreq = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ct_req *r = &slots[i];
		__u64 start = __atomic_load_n(&r->enter_ns, __ATOMIC_ACQUIRE);
		struct snap_req *q;

		if (!start)
			continue;
		if (array_room((void **)&s->req, s->nreq, sizeof(*s->req)))
			return -1;
		q = &s->req[s->nreq];
		q->v = *r;
		if (__atomic_load_n(&r->enter_ns, __ATOMIC_ACQUIRE) != start || q->v.enter_ns != start)
			continue;
		q->k = q->v.key;
		s->nreq++;
	}
	return 0;
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
