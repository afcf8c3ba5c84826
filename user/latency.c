// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include "escape.h"
#include "latency.h"
#include "names.h"
#include "render.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ names */

static void copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src);
}

void names_add_share(struct names *n, __u64 sesid, __u32 tid, const char *unc)
{
	struct share_name *s;

	if (!tid || !unc[0])
		return;
	for (size_t i = 0; i < n->nshare; i++)
		if (n->share[i].sesid == sesid && n->share[i].tid == tid) {
			copy_str(n->share[i].unc, sizeof(n->share[i].unc), unc);
			return;
		}
	s = realloc(n->share, (n->nshare + 1) * sizeof(*s));
	if (!s)
		return;
	n->share = s;
	s = &n->share[n->nshare++];
	s->sesid = sesid;
	s->tid = tid;
	copy_str(s->unc, sizeof(s->unc), unc);
}

void names_add_host(struct names *n, __u64 conn_id, const char *host)
{
	struct host_name *h;

	if (!conn_id || !host[0])
		return;
	for (size_t i = 0; i < n->nhost; i++)
		if (n->host[i].conn_id == conn_id) {
			copy_str(n->host[i].host, sizeof(n->host[i].host), host);
			return;
		}
	h = realloc(n->host, (n->nhost + 1) * sizeof(*h));
	if (!h)
		return;
	n->host = h;
	h = &n->host[n->nhost++];
	h->conn_id = conn_id;
	copy_str(h->host, sizeof(h->host), host);
}

const char *names_share(const struct names *n, __u64 sesid, __u32 tid)
{
	for (size_t i = 0; i < n->nshare; i++)
		if (n->share[i].sesid == sesid && n->share[i].tid == tid)
			return n->share[i].unc;
	return NULL;
}

const char *names_host(const struct names *n, __u64 conn_id)
{
	for (size_t i = 0; i < n->nhost; i++)
		if (n->host[i].conn_id == conn_id)
			return n->host[i].host;
	return NULL;
}

void names_learn(struct names *n, const struct ct_event *e)
{
	char host[CT_HOST_LEN], unc[CT_UNC_LEN];

	if (e->conn_id && e->server[0]) {
		memcpy(host, e->server, sizeof(host));
		host[sizeof(host) - 1] = '\0';
		names_add_host(n, e->conn_id, host);
	}
	if (e->type == CT_EV_TREE_CONNECT && e->tid && (e->flags & CT_F_STATUS) && !e->status) {
		memcpy(unc, e->tree.unc, sizeof(unc));
		unc[sizeof(unc) - 1] = '\0';
		names_add_share(n, e->sesid, e->tid, unc);
	}
}

/*
 * /proc/fs/cifs/DebugData (the same shape on 5.15 .. 6.12):
 *   1) ConnectionId: 0x1 Hostname: srv
 *   	1) Address: ... SessionId: 0xa52ca56c      (on its own line or not)
 *   	0) IPC: \\srv\IPC$ Mounts: 1 ...
 *   	1) \\srv\data Mounts: 1 ...
 *   	tid: 0x34779721 ...
 */
int names_read_debugdata(struct names *n, FILE *f)
{
	char line[1024], unc[CT_UNC_LEN] = "";
	unsigned long long conn = 0, ses = 0, v;
	int learned = 0;
	char *p;

	while (fgets(line, sizeof(line), f)) {
		if ((p = strstr(line, "ConnectionId: 0x")) && sscanf(p, "ConnectionId: 0x%llx", &v) == 1) {
			char host[CT_HOST_LEN];

			conn = v;
			ses = 0;
			p = strstr(p, "Hostname: ");
			if (p && sscanf(p, "Hostname: %63s", host) == 1)
				names_add_host(n, conn, host);
			continue;
		}
		if ((p = strstr(line, "SessionId: 0x")) && sscanf(p, "SessionId: 0x%llx", &v) == 1) {
			ses = v;
			continue;
		}
		p = strstr(line, ") ");
		if (p && (p = strstr(p, "\\\\")) && strstr(line, " Mounts: ")) {
			size_t len = strcspn(p, " \t\n");

			if (len >= sizeof(unc))
				len = sizeof(unc) - 1;
			memcpy(unc, p, len);
			unc[len] = '\0';
			continue;
		}
		if ((p = strstr(line, "tid: 0x")) && sscanf(p, "tid: 0x%llx", &v) == 1 && unc[0] &&
		    ses) {
			names_add_share(n, ses, (__u32)v, unc);
			learned++;
			unc[0] = '\0';
		}
	}
	return ferror(f) ? -1 : learned;
}

void names_free(struct names *n)
{
	free(n->share);
	free(n->host);
	memset(n, 0, sizeof(*n));
}

/* ------------------------------------------------------------ report */

static bool same_hist_key(const struct ct_hist_key *a, const struct ct_hist_key *b)
{
	return a->conn_id == b->conn_id && a->sesid == b->sesid && a->tid == b->tid &&
	       a->cmd == b->cmd;
}

static const struct ct_hist *prev_hist(const struct snapshot *prev, const struct ct_hist_key *k)
{
	for (size_t i = 0; prev && i < prev->nhist; i++)
		if (same_hist_key(&prev->hist[i].k, k))
			return &prev->hist[i].v;
	return NULL;
}

static __u64 prev_err(const struct snapshot *prev, const struct ct_err_key *k)
{
	for (size_t i = 0; prev && i < prev->nerr; i++)
		if (same_hist_key(&prev->err[i].k.h, &k->h) && prev->err[i].k.status == k->status)
			return prev->err[i].n;
	return 0;
}

/* Counters are cumulative in the kernel: never negative, whatever races. */
static __u64 delta(__u64 cur, __u64 prev)
{
	return cur > prev ? cur - prev : 0;
}

static void server_of(const struct names *n, const struct snapshot *s, __u64 conn_id,
		      char *out, size_t len)
{
	const char *h = names_host(n, conn_id);

	for (size_t i = 0; !h && i < s->nconn; i++)
		if (s->conn[i].conn_id == conn_id && s->conn[i].has_info && s->conn[i].info.host[0])
			h = s->conn[i].info.host;
	if (h)
		snprintf(out, len, "%.*s", (int)len - 1, h);
	else
		snprintf(out, len, "conn-%llu", (unsigned long long)conn_id);
}

static void share_of(const struct names *n, const char *server, __u64 sesid, __u32 tid,
		     char *out, size_t len)
{
	const char *u = tid ? names_share(n, sesid, tid) : NULL;

	if (!tid)
		out[0] = '\0';		/* session-level: NEGOTIATE, SESSION_SETUP, ECHO */
	else if (u)
		snprintf(out, len, "%s", u);
	else
		snprintf(out, len, "\\\\%s\\tid-0x%08x", server, tid);
}

/* Does the share match --share (a UNC, or the last component)? */
static bool share_matches(const char *want, const char *share)
{
	const char *last = strrchr(share, '\\');

	return !strcasecmp(want, share) || (last && !strcasecmp(want, last + 1));
}

static bool server_matches(const char *want, const char *server)
{
	return !strcasecmp(want, server);
}

static bool wanted(const struct lat_filter *f, const char *server, const char *share, int cmd)
{
	if (f->server && !server_matches(f->server, server))
		return false;
	if (f->share && !share_matches(f->share, share))
		return false;
	return f->cmd < 0 || f->cmd == cmd;
}

static struct lat_row *row_for(struct lat_report *r, const char *server, const char *share,
			       __u16 cmd)
{
	struct lat_row *row;

	for (size_t i = 0; i < r->nrow; i++)
		if (r->row[i].cmd == cmd && !strcmp(r->row[i].server, server) &&
		    !strcmp(r->row[i].share, share))
			return &r->row[i];
	row = realloc(r->row, (r->nrow + 1) * sizeof(*row));
	if (!row)
		return NULL;
	r->row = row;
	row = &r->row[r->nrow++];
	memset(row, 0, sizeof(*row));
	copy_str(row->server, sizeof(row->server), server);
	copy_str(row->share, sizeof(row->share), share);
	row->cmd = cmd;
	return row;
}

static void row_add_status(struct lat_row *row, __u32 status, __u64 n)
{
	for (int i = 0; i < row->nstatus; i++)
		if (row->status[i].status == status) {
			row->status[i].n += n;
			return;
		}
	if (row->nstatus == LAT_MAX_STATUS) {
		row->other_errors += n;
		return;
	}
	row->status[row->nstatus].status = status;
	row->status[row->nstatus++].n = n;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct lat_row *x = a, *y = b;
	int c = strcmp(x->server, y->server);

	if (!c)
		c = strcmp(x->share, y->share);
	return c ? c : (int)x->cmd - (int)y->cmd;
}

/* The upper edge of bucket i in µs (slot 0 is [0, 2)). */
static double bucket_hi(int i)
{
	return (double)(1ull << (i + 1));
}

static double bucket_lo(int i)
{
	return i ? (double)(1ull << i) : 0;
}

bool names_missing(const struct names *n, const struct snapshot *s)
{
	for (size_t i = 0; i < s->nhist; i++)
		if (s->hist[i].k.tid && !names_share(n, s->hist[i].k.sesid, s->hist[i].k.tid))
			return true;
	return false;
}

int lat_report_build(const struct snapshot *cur, const struct snapshot *prev,
		     const struct names *names, const struct lat_filter *f,
		     struct lat_report *out)
{
	char server[CT_HOST_LEN], share[CT_UNC_LEN];

	memset(out, 0, sizeof(*out));
	out->ts_ns = cur->ts_ns;
	out->interval_ns = prev && prev->ts_ns && cur->ts_ns > prev->ts_ns ?
			   cur->ts_ns - prev->ts_ns : 0;
	memcpy(out->stat, cur->stat, sizeof(out->stat));

	for (size_t i = 0; i < cur->nhist; i++) {
		const struct snap_hist *sh = &cur->hist[i];
		const struct ct_hist *p = prev_hist(prev, &sh->k);
		struct ct_hist d = {};
		struct lat_row *row;
		int top = -1;

		d.count = delta(sh->v.count, p ? p->count : 0);
		if (!d.count)
			continue;
		server_of(names, cur, sh->k.conn_id, server, sizeof(server));
		share_of(names, server, sh->k.sesid, sh->k.tid, share, sizeof(share));
		if (!wanted(f, server, share, sh->k.cmd))
			continue;
		d.errors = delta(sh->v.errors, p ? p->errors : 0);
		d.total_ns = delta(sh->v.total_ns, p ? p->total_ns : 0);
		d.sent_count = delta(sh->v.sent_count, p ? p->sent_count : 0);
		d.queue_ns = delta(sh->v.queue_ns, p ? p->queue_ns : 0);
		d.split_count = delta(sh->v.split_count, p ? p->split_count : 0);
		d.network_ns = delta(sh->v.network_ns, p ? p->network_ns : 0);
		d.server_ns = delta(sh->v.server_ns, p ? p->server_ns : 0);
		d.joint_count = delta(sh->v.joint_count, p ? p->joint_count : 0);
		d.joint_ns = delta(sh->v.joint_ns, p ? p->joint_ns : 0);
		for (int b = 0; b < CT_HIST_SLOTS; b++) {
			d.slots[b] = delta(sh->v.slots[b], p ? p->slots[b] : 0);
			if (d.slots[b])
				top = b;
		}
		/*
		 * The kernel keeps the maximum since the start: exact for this
		 * interval when it grew in it, else bounded by the highest
		 * bucket the interval used.
		 */
		if (!p || sh->v.max_ns > p->max_ns)
			d.max_ns = sh->v.max_ns;
		else if (top >= 0)
			d.max_ns = (__u64)(bucket_hi(top) * 1000) < sh->v.max_ns ?
				   (__u64)(bucket_hi(top) * 1000) : sh->v.max_ns;

		row = row_for(out, server, share, sh->k.cmd);
		if (!row)
			return -1;
		row->h.count += d.count;
		row->h.errors += d.errors;
		row->h.total_ns += d.total_ns;
		row->h.sent_count += d.sent_count;
		row->h.queue_ns += d.queue_ns;
		row->h.split_count += d.split_count;
		row->h.network_ns += d.network_ns;
		row->h.server_ns += d.server_ns;
		row->h.joint_count += d.joint_count;
		row->h.joint_ns += d.joint_ns;
		for (int b = 0; b < CT_HIST_SLOTS; b++)
			row->h.slots[b] += d.slots[b];
		if (d.max_ns > row->max_ns)
			row->max_ns = d.max_ns;
	}
	for (size_t i = 0; i < cur->nerr; i++) {
		const struct snap_err *se = &cur->err[i];
		__u64 n = delta(se->n, prev_err(prev, &se->k));
		struct lat_row *row = NULL;

		if (!n)
			continue;
		server_of(names, cur, se->k.h.conn_id, server, sizeof(server));
		share_of(names, server, se->k.h.sesid, se->k.h.tid, share, sizeof(share));
		for (size_t j = 0; j < out->nrow; j++)
			if (out->row[j].cmd == se->k.h.cmd && !strcmp(out->row[j].server, server) &&
			    !strcmp(out->row[j].share, share))
				row = &out->row[j];
		if (row)
			row_add_status(row, se->k.status, n);
	}
	if (out->nrow)
		qsort(out->row, out->nrow, sizeof(*out->row), cmp_rows);

	/* bytes per share */
	for (size_t i = 0; i < cur->nio; i++) {
		const struct snap_io *si = &cur->io[i];
		__u64 rd = si->v.read_bytes, wr = si->v.write_bytes;
		struct lat_share *sh;
		__u64 conn = 0;

		for (size_t j = 0; prev && j < prev->nio; j++)
			if (prev->io[j].k.sesid == si->k.sesid && prev->io[j].k.tid == si->k.tid) {
				rd = delta(rd, prev->io[j].v.read_bytes);
				wr = delta(wr, prev->io[j].v.write_bytes);
			}
		if (!rd && !wr)
			continue;
		/* the session's connection, from any histogram of it */
		for (size_t j = 0; j < cur->nhist && !conn; j++)
			if (cur->hist[j].k.sesid == si->k.sesid)
				conn = cur->hist[j].k.conn_id;
		server_of(names, cur, conn, server, sizeof(server));
		share_of(names, server, si->k.sesid, si->k.tid, share, sizeof(share));
		if (!wanted(f, server, share, f->cmd))
			continue;
		sh = realloc(out->share, (out->nshare + 1) * sizeof(*sh));
		if (!sh)
			return -1;
		out->share = sh;
		sh = &out->share[out->nshare++];
		memset(sh, 0, sizeof(*sh));
		copy_str(sh->server, sizeof(sh->server), server);
		copy_str(sh->share, sizeof(sh->share), share);
		sh->read_bytes = rd;
		sh->write_bytes = wr;
	}

	/* per connection: counters, and what is in flight now */
	for (size_t i = 0; i < cur->nconn; i++) {
		const struct snap_conn *c = &cur->conn[i];
		const struct snap_conn *pc = NULL;
		struct lat_server *sv;

		server_of(names, cur, c->conn_id, server, sizeof(server));
		if (f->server && !server_matches(f->server, server))
			continue;
		for (size_t j = 0; prev && j < prev->nconn; j++)
			if (prev->conn[j].conn_id == c->conn_id)
				pc = &prev->conn[j];
		sv = realloc(out->server, (out->nserver + 1) * sizeof(*sv));
		if (!sv)
			return -1;
		out->server = sv;
		sv = &out->server[out->nserver++];
		memset(sv, 0, sizeof(*sv));
		copy_str(sv->server, sizeof(sv->server), server);
		sv->conn_id = c->conn_id;
		sv->st.reconnects = delta(c->st.reconnects, pc ? pc->st.reconnects : 0);
		sv->st.credit_stalls = delta(c->st.credit_stalls, pc ? pc->st.credit_stalls : 0);
		sv->st.credit_timeouts = delta(c->st.credit_timeouts,
					       pc ? pc->st.credit_timeouts : 0);
		sv->st.retransmits = delta(c->st.retransmits, pc ? pc->st.retransmits : 0);
		sv->st.resets = delta(c->st.resets, pc ? pc->st.resets : 0);
		for (size_t j = 0; j < cur->nreq; j++) {
			const struct ct_req *r = &cur->req[j].v;

			if (r->conn_id != c->conn_id || r->enter_ns > cur->ts_ns)
				continue;
			sv->in_flight++;
			if (!snapshot_waits_by_design(r->cmd) &&
			    cur->ts_ns - r->enter_ns > sv->oldest_ns) {
				sv->oldest_ns = cur->ts_ns - r->enter_ns;
				sv->oldest_cmd = r->cmd;
			}
		}
	}
	return 0;
}

void lat_report_free(struct lat_report *r)
{
	free(r->row);
	free(r->share);
	free(r->server);
	memset(r, 0, sizeof(*r));
}

double lat_percentile(const struct ct_hist *h, __u64 max_ns, double q)
{
	double target = q * (double)h->count, cum = 0, max_us = max_ns / 1000.0;

	if (!h->count)
		return 0;
	for (int i = 0; i < CT_HIST_SLOTS; i++) {
		double n = (double)h->slots[i], lo, hi, v, k;

		if (!n || cum + n < target) {
			cum += n;
			continue;
		}
		lo = bucket_lo(i);
		hi = i == CT_HIST_SLOTS - 1 || bucket_hi(i) > max_us ? max_us : bucket_hi(i);
		if (hi < lo)
			hi = lo;
		/* the k-th of the bucket's n samples, spread evenly up to hi */
		k = ceil(target - cum);
		if (k < 1)
			k = 1;
		v = lo + (hi - lo) * (k / n);
		return v > max_us && max_us > 0 ? max_us : v;
	}
	return max_us;
}

const char *lat_dominant(const struct ct_hist *h)
{
	__u64 q = h->queue_ns, n = h->network_ns, s = h->server_ns, j = h->joint_ns;

	if (!h->sent_count)
		return NULL;
	if (j > q && j > n && j > s)
		return "network+server";
	if (s >= n && s >= q && h->split_count)
		return "server";
	if (n >= q && h->split_count)
		return "network";
	return "queue";
}

/* ------------------------------------------------------------ text */

static const char *esc(char *buf, size_t len, const char *s, size_t max)
{
	return escape_str(buf, len, s, max, ESC_TEXT);
}

static void fmt_us(char *buf, size_t len, double us)
{
	if (us >= 1e6)
		snprintf(buf, len, "%.2f s", us / 1e6);
	else if (us >= 1e3)
		snprintf(buf, len, "%.2f ms", us / 1e3);
	else
		snprintf(buf, len, "%.0f us", us);
}

static void fmt_bytes(char *buf, size_t len, __u64 b)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

/* The libbpf-tools histogram: "usecs : count distribution", 40 stars wide. */
static void print_log2_hist(FILE *out, const struct ct_hist *h)
{
	__u64 max = 0;
	int top = 0;

	for (int i = 0; i < CT_HIST_SLOTS; i++) {
		if (h->slots[i] > max)
			max = h->slots[i];
		if (h->slots[i])
			top = i;
	}
	fprintf(out, "%*s%-*s : count    distribution\n", 10, "", 14, "usecs");
	for (int i = 0; i <= top; i++) {
		int stars = max ? (int)(h->slots[i] * 40 / max) : 0;
		char bar[41];

		memset(bar, '*', stars);
		memset(bar + stars, ' ', 40 - stars);
		bar[40] = '\0';
		if (i == CT_HIST_SLOTS - 1)
			fprintf(out, "%10llu -> %-10s : %-8llu |%s|\n", 1ull << i, "...",
				(unsigned long long)h->slots[i], bar);
		else
			fprintf(out, "%10llu -> %-10llu : %-8llu |%s|\n", i ? 1ull << i : 0,
				(1ull << (i + 1)) - 1, (unsigned long long)h->slots[i], bar);
	}
}

static void print_split(FILE *out, const struct ct_hist *h)
{
	const char *dom = lat_dominant(h);
	double all;

	if (!dom) {
		fprintf(out, "    time split: not measured (no send seen)\n");
		return;
	}
	all = (double)(h->queue_ns + h->network_ns + h->server_ns + h->joint_ns);
	if (all <= 0)
		all = 1;
	fprintf(out, "    time split: queue %.0f%%  network %.0f%%  server %.0f%%",
		100.0 * h->queue_ns / all, 100.0 * h->network_ns / all,
		100.0 * h->server_ns / all);
	if (h->joint_count)
		fprintf(out, "  network+server %.0f%%", 100.0 * h->joint_ns / all);
	fprintf(out, "  -> mostly %s\n",
		!strcmp(dom, "server") ? "the server" :
		!strcmp(dom, "network") ? "the network" :
		!strcmp(dom, "queue") ? "the client's queue" :
		"network+server (answers carried the ACK)");
	if (h->joint_count)
		fprintf(out, "    (%llu of %llu requests were answered before the server's TCP "
			     "ACKed them: their network and server time is one figure)\n",
			(unsigned long long)h->joint_count, (unsigned long long)h->count);
}

void lat_render_text(FILE *out, const struct lat_report *r)
{
	char a[32], b[32], c[32], d[32], sv[4 * CT_HOST_LEN + 1], sh[4 * CT_UNC_LEN + 1];

	if (r->interval_ns)
		fprintf(out, "\n=== interval of %.1f s\n", r->interval_ns / 1e9);
	if (!r->nrow)
		fprintf(out, "no SMB requests completed%s\n", r->interval_ns ? " in this interval" : "");
	for (size_t i = 0; i < r->nrow; i++) {
		const struct lat_row *row = &r->row[i];

		esc(sv, sizeof(sv), row->server, sizeof(row->server));
		esc(sh, sizeof(sh), row->share, sizeof(row->share));
		fmt_us(a, sizeof(a), lat_percentile(&row->h, row->max_ns, 0.50));
		fmt_us(b, sizeof(b), lat_percentile(&row->h, row->max_ns, 0.90));
		fmt_us(c, sizeof(c), lat_percentile(&row->h, row->max_ns, 0.99));
		fmt_us(d, sizeof(d), row->max_ns / 1000.0);
		if (row->share[0])
			fprintf(out, "\n%s  %s\n", sh, smb2_cmd_name(row->cmd));
		else
			fprintf(out, "\n%s (no share)  %s\n", sv, smb2_cmd_name(row->cmd));
		fprintf(out, "    count %llu  errors %llu  p50 %s  p90 %s  p99 %s  max %s  avg %.0f us\n",
			(unsigned long long)row->h.count, (unsigned long long)row->h.errors, a, b, c,
			d, row->h.total_ns / 1000.0 / row->h.count);
		print_split(out, &row->h);
		for (int s = 0; s < row->nstatus; s++) {
			char buf[64];

			fprintf(out, "    errors: %s x%llu\n",
				status_str(row->status[s].status, buf, sizeof(buf)),
				(unsigned long long)row->status[s].n);
		}
		if (row->other_errors)
			fprintf(out, "    errors: other statuses x%llu\n",
				(unsigned long long)row->other_errors);
		print_log2_hist(out, &row->h);
	}
	for (size_t i = 0; i < r->nshare; i++) {
		fmt_bytes(a, sizeof(a), r->share[i].read_bytes);
		fmt_bytes(b, sizeof(b), r->share[i].write_bytes);
		esc(sh, sizeof(sh), r->share[i].share, sizeof(r->share[i].share));
		fprintf(out, "\n%s  read %s  written %s\n", sh, a, b);
	}
	for (size_t i = 0; i < r->nserver; i++) {
		const struct lat_server *s = &r->server[i];

		esc(sv, sizeof(sv), s->server, sizeof(s->server));
		fmt_us(a, sizeof(a), s->oldest_ns / 1000.0);
		fprintf(out, "\nserver %s: %llu in flight%s%s%s, reconnects %llu, credit stalls %llu, "
			     "retransmits %llu, resets %llu\n", sv,
			(unsigned long long)s->in_flight, s->in_flight ? " (oldest " : "",
			s->in_flight ? a : "", s->in_flight ? ")" : "",
			(unsigned long long)s->st.reconnects, (unsigned long long)s->st.credit_stalls,
			(unsigned long long)s->st.retransmits, (unsigned long long)s->st.resets);
	}
	fprintf(out, "\nlost events %llu", (unsigned long long)r->stat[CT_STAT_LOST]);
	for (int i = 0; i < CT_STAT_MAX; i++)
		if (i != CT_STAT_LOST)
			fprintf(out, ", %s %llu", ct_stat_names[i].text,
				(unsigned long long)r->stat[i]);
	fputc('\n', out);
}

/* ------------------------------------------------------------ JSON */

static json_t *jstr(const char *s, size_t max)
{
	char buf[4 * CT_UNC_LEN + 1];

	return json_string(escape_str(buf, sizeof(buf), s, max, ESC_UTF8));
}

static void emit(FILE *out, json_t *o)
{
	if (!o)
		return;		/* a json_pack format bug; the unit tests catch it */
	json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(o);
}

void lat_render_json(FILE *out, const struct lat_report *r)
{
	json_int_t ts = r->ts_ns / 1000, iv = r->interval_ns / 1000;

	for (size_t i = 0; i < r->nrow; i++) {
		const struct lat_row *row = &r->row[i];
		json_t *o = json_object(), *bk = json_array(), *st = json_object();
		const char *dom = lat_dominant(&row->h);
		int top = -1;
		char buf[64];

		for (int b = 0; b < CT_HIST_SLOTS; b++)
			if (row->h.slots[b])
				top = b;
		for (int b = 0; b <= top; b++)
			json_array_append_new(bk, json_pack("{s:I, s:o, s:I}", "lo_us",
					      (json_int_t)bucket_lo(b), "hi_us",
					      b == CT_HIST_SLOTS - 1 ? json_null() :
					      json_integer((json_int_t)bucket_hi(b)),
					      "count", (json_int_t)row->h.slots[b]));
		for (int s = 0; s < row->nstatus; s++)
			json_object_set_new(st, status_str(row->status[s].status, buf, sizeof(buf)),
					    json_integer(row->status[s].n));
		if (row->other_errors)
			json_object_set_new(st, "other", json_integer(row->other_errors));
		json_object_set_new(o, "type", json_string("histogram"));
		json_object_set_new(o, "ts_us", json_integer(ts));
		json_object_set_new(o, "interval_us", json_integer(iv));
		json_object_set_new(o, "server", jstr(row->server, sizeof(row->server)));
		json_object_set_new(o, "share", jstr(row->share, sizeof(row->share)));
		json_object_set_new(o, "command", json_string(smb2_cmd_name(row->cmd)));
		json_object_set_new(o, "count", json_integer(row->h.count));
		json_object_set_new(o, "errors", json_integer(row->h.errors));
		json_object_set_new(o, "p50_us", json_integer(lat_percentile(&row->h, row->max_ns, .50)));
		json_object_set_new(o, "p90_us", json_integer(lat_percentile(&row->h, row->max_ns, .90)));
		json_object_set_new(o, "p99_us", json_integer(lat_percentile(&row->h, row->max_ns, .99)));
		json_object_set_new(o, "max_us", json_integer(row->max_ns / 1000));
		json_object_set_new(o, "total_us", json_integer(row->h.total_ns / 1000));
		json_object_set_new(o, "sent_count", json_integer(row->h.sent_count));
		json_object_set_new(o, "queue_us", json_integer(row->h.queue_ns / 1000));
		json_object_set_new(o, "split_count", json_integer(row->h.split_count));
		json_object_set_new(o, "network_us", json_integer(row->h.network_ns / 1000));
		json_object_set_new(o, "server_us", json_integer(row->h.server_ns / 1000));
		json_object_set_new(o, "joint_count", json_integer(row->h.joint_count));
		json_object_set_new(o, "network_server_us", json_integer(row->h.joint_ns / 1000));
		json_object_set_new(o, "dominant", dom ? json_string(dom) : json_null());
		json_object_set_new(o, "errors_by_status", st);
		json_object_set_new(o, "buckets", bk);
		emit(out, o);
	}
	for (size_t i = 0; i < r->nshare; i++)
		emit(out, json_pack("{s:s, s:I, s:I, s:o, s:o, s:I, s:I}", "type", "share",
				    "ts_us", ts, "interval_us", iv,
				    "server", jstr(r->share[i].server, CT_HOST_LEN),
				    "share", jstr(r->share[i].share, CT_UNC_LEN),
				    "read_bytes", (json_int_t)r->share[i].read_bytes,
				    "write_bytes", (json_int_t)r->share[i].write_bytes));
	for (size_t i = 0; i < r->nserver; i++) {
		const struct lat_server *s = &r->server[i];

		emit(out, json_pack("{s:s, s:I, s:I, s:o, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:I}",
				    "type", "server", "ts_us", ts, "interval_us", iv,
				    "server", jstr(s->server, CT_HOST_LEN),
				    "conn_id", (json_int_t)s->conn_id,
				    "in_flight", (json_int_t)s->in_flight,
				    "oldest_us", (json_int_t)(s->oldest_ns / 1000),
				    "oldest_command", s->in_flight ?
				    json_string(smb2_cmd_name(s->oldest_cmd)) : json_null(),
				    "reconnects", (json_int_t)s->st.reconnects,
				    "credit_stalls", (json_int_t)s->st.credit_stalls,
				    "credit_timeouts", (json_int_t)s->st.credit_timeouts,
				    "retransmits", (json_int_t)s->st.retransmits,
				    "resets", (json_int_t)s->st.resets));
	}
	json_t *h = json_pack("{s:s, s:I}", "type", "health", "ts_us", ts);

	for (int i = 0; i < CT_STAT_MAX; i++)
		json_object_set_new(h, ct_stat_names[i].json, json_integer((json_int_t)r->stat[i]));
	emit(out, h);
}

/* ------------------------------------------------------------ slow ops */

static void slow_names(const struct ct_event *e, const struct names *n, char *server,
		       size_t slen, char *share, size_t shlen)
{
	const char *h = names_host(n, e->conn_id);
	char host[CT_HOST_LEN];

	memcpy(host, e->server, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	snprintf(server, slen, "%s", h ? h : host[0] ? host : "-");
	share_of(n, server, e->sesid, e->tid, share, shlen);
}

bool lat_filter_event(const struct lat_filter *f, const struct ct_event *e,
		      const struct names *n)
{
	char server[CT_HOST_LEN], share[CT_UNC_LEN];

	slow_names(e, n, server, sizeof(server), share, sizeof(share));
	return wanted(f, server, share, e->cmd);
}

void lat_slow_header(FILE *out)
{
	fprintf(out, "%-12s %-7s %-15s %-16s %-24s %-15s %10s %9s %9s %9s %-24s %s\n", "TIME(s)",
		"PID", "COMM", "SERVER", "SHARE", "COMMAND", "LAT(ms)", "QUEUE", "NETWORK", "SERVER",
		"STATUS", "PATH");
}

static void ms_or_dash(char *buf, size_t len, bool ok, __u64 ns)
{
	if (ok)
		snprintf(buf, len, "%.3f", ns / 1e6);
	else
		snprintf(buf, len, "-");
}

void lat_render_slow_text(FILE *out, const struct ct_event *e, const struct names *n)
{
	char server[CT_HOST_LEN], share[CT_UNC_LEN], q[24], nw[24], sv[24], st[64];
	char esv[4 * CT_HOST_LEN + 1], esh[4 * CT_UNC_LEN + 1], ecomm[4 * CT_COMM_LEN + 1];
	char epath[4 * CT_PATH_LEN + 1];

	slow_names(e, n, server, sizeof(server), share, sizeof(share));
	ms_or_dash(q, sizeof(q), e->flags & CT_F_SENT, e->req.queue_ns);
	ms_or_dash(nw, sizeof(nw), e->flags & (CT_F_ACKED | CT_F_JOINT), e->req.network_ns);
	ms_or_dash(sv, sizeof(sv), e->flags & CT_F_ACKED, e->req.server_ns);
	if (e->flags & CT_F_JOINT)	/* the answer carried the ACK */
		snprintf(sv, sizeof(sv), "(in net)");
	fprintf(out, "%12.6f %-7u %-15s %-16s %-24s %-15s %10.3f %9s %9s %9s %-24s %s\n",
		e->ts_ns / 1e9, e->pid, esc(ecomm, sizeof(ecomm), e->comm, sizeof(e->comm)),
		esc(esv, sizeof(esv), server, sizeof(server)),
		share[0] ? esc(esh, sizeof(esh), share, sizeof(share)) : "-",
		smb2_cmd_name(e->cmd), e->latency_ns / 1e6, q, nw, sv,
		status_str(e->status, st, sizeof(st)),
		e->req.path[0] ? esc(epath, sizeof(epath), e->req.path, sizeof(e->req.path)) : "-");
}

void lat_render_slow_json(FILE *out, const struct ct_event *e, const struct names *n)
{
	char server[CT_HOST_LEN], share[CT_UNC_LEN], st[64];
	json_t *o = json_object();

	slow_names(e, n, server, sizeof(server), share, sizeof(share));
	json_object_set_new(o, "type", json_string("slow"));
	json_object_set_new(o, "ts_us", json_integer(e->ts_ns / 1000));
	json_object_set_new(o, "pid", json_integer(e->pid));
	json_object_set_new(o, "comm", jstr(e->comm, sizeof(e->comm)));
	json_object_set_new(o, "server", jstr(server, sizeof(server)));
	json_object_set_new(o, "share", jstr(share, sizeof(share)));
	json_object_set_new(o, "command", json_string(smb2_cmd_name(e->cmd)));
	json_object_set_new(o, "mid", json_integer(e->mid));
	json_object_set_new(o, "latency_us", json_integer(e->latency_ns / 1000));
	json_set_split(o, e);
	json_object_set_new(o, "status", json_string(status_str(e->status, st, sizeof(st))));
	if (e->flags & CT_F_RC)
		json_object_set_new(o, "rc", json_integer(e->rc));
	/* where a tracepoint named it: null otherwise */
	json_object_set_new(o, "path", e->req.path[0] ?
			    jstr(e->req.path, sizeof(e->req.path)) : json_null());
	emit(out, o);
}
