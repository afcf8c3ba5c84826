// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include "array.h"
#include "escape.h"
#include "metrics.h"
#include "names.h"
#include "ntstatus.h"

const struct metric_desc metric_descs[M_COUNT] = {
	[M_REQUESTS] = { "cifs_requests_total", "counter", "server,share,command",
		"SMB2 requests answered (or failed) by the server" },
	[M_REQUEST_ERRORS] = { "cifs_request_errors_total", "counter", "server,share,command,status",
		"SMB2 responses with a status other than STATUS_SUCCESS, by status name (the protocol's normal ones too: "
		"STATUS_MORE_PROCESSING_REQUIRED between SESSION_SETUP rounds, STATUS_NO_MORE_FILES ending a listing)" },
	[M_REQUEST_DURATION] = { "cifs_request_duration_seconds", "histogram", "server,share,command",
		"SMB2 request latency, from the client's request to its response (log2 buckets)" },
	[M_REQUEST_QUEUE] = { "cifs_request_queue_seconds_total", "counter", "server,share,command",
		"Time requests spent in the client before they were on the wire, credit waits included" },
	[M_REQUEST_NETWORK] = { "cifs_request_network_seconds_total", "counter", "server,share,command",
		"Time from on the wire until the server's TCP ACKed the request (requests ACKed before their answer)" },
	[M_REQUEST_SERVER] = { "cifs_request_server_seconds_total", "counter", "server,share,command",
		"Time from the server's TCP ACK to the response (requests ACKed before their answer)" },
	[M_REQUEST_NETWORK_SERVER] = { "cifs_request_network_server_seconds_total", "counter",
		"server,share,command",
		"Network and server time together, for requests whose ACK came with the answer (delayed ACK)" },
	[M_READ_BYTES] = { "cifs_read_bytes_total", "counter", "server,share",
		"Bytes read from the share" },
	[M_WRITE_BYTES] = { "cifs_write_bytes_total", "counter", "server,share",
		"Bytes written to the share" },
	[M_IN_FLIGHT] = { "cifs_requests_in_flight", "gauge", "server",
		"Requests sent and not answered yet" },
	[M_OLDEST_AGE] = { "cifs_oldest_request_age_seconds", "gauge", "server",
		"Age of the oldest unanswered request (LOCK, CHANGE_NOTIFY, OPLOCK_BREAK wait by design and are left out)" },
	[M_RECONNECTS] = { "cifs_reconnects_total", "counter", "server",
		"Reconnects of the client's connections to the server" },
	[M_CREDIT_STALLS] = { "cifs_credit_stalls_total", "counter", "server",
		"Requests that had to wait for SMB credits" },
	[M_CREDIT_TIMEOUTS] = { "cifs_credit_timeouts_total", "counter", "server",
		"Credit waits that timed out" },
	[M_TCP_RETRANSMITS] = { "cifs_tcp_retransmits_total", "counter", "server",
		"TCP retransmits on the client's SMB connections" },
	[M_TCP_RESETS] = { "cifs_tcp_resets_total", "counter", "server",
		"TCP resets sent or received on the client's SMB connections" },
	[M_MOUNT_ATTEMPTS] = { "cifs_mount_attempts_total", "counter", "server,share,outcome,class",
		"Mount attempts by outcome (ok, failed) and diagnosis class" },
	[M_MOUNT_DURATION] = { "cifs_mount_duration_seconds", "histogram", "server,outcome",
		"Mount attempt duration" },
	[M_MOUNTS_HUNG] = { "cifs_mounts_hung", "gauge", "server,share,class",
		"Mount attempts stalled right now (reported hung, not ended yet)" },
	[M_LOST_EVENTS] = { "cifstrace_lost_events_total", "counter", "",
		"Events the kernel could not hand to cifstrace (ring buffer full)" },
	[M_NOT_COUNTED] = { "cifstrace_not_counted_total", "counter", "reason",
		"Requests, ACKs or bytes the kernel side could not account (a bounded table was full)" },
	[M_BPF_RUN_SECONDS] = { "cifstrace_bpf_run_seconds_total", "counter", "",
		"CPU time of cifstrace's BPF programs (counted only while kernel.bpf_stats_enabled=1 or --bpf-stats)" },
	[M_BPF_RUNS] = { "cifstrace_bpf_runs_total", "counter", "",
		"Runs of cifstrace's BPF programs (counted only while BPF stats are enabled)" },
	[M_LABEL_OVERFLOW] = { "cifstrace_label_overflow_total", "counter", "",
		"Rows counted under server or share \"(other)\" because --max-series was reached" },
	[M_BUILD_INFO] = { "cifstrace_build_info", "gauge", "version,kernel",
		"cifstrace's version and the running kernel" },
};

/* Mount duration buckets, seconds: from a fast LAN mount to the kernel's
 * longest give-ups. */
static const double mount_buckets[] = { 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120 };
#define NMB (sizeof(mount_buckets) / sizeof(mount_buckets[0]))


/* Label values seen, at most max of them; the rest are METRICS_OTHER. */
struct registry {
	char **v;
	size_t n;
};

struct m_status {
	__u32 status;
	bool other;
	__u64 n;
};

struct m_row {			/* per (server, share, command) */
	const char *server, *share;
	__u16 cmd;
	struct ct_hist h;
	struct m_status *st;
	size_t nst;
};

struct m_share {
	const char *server, *share;
	__u64 read_bytes, write_bytes;
};

struct m_server {
	const char *server;
	struct ct_conn_stats st;
	__u64 in_flight, oldest_ns;	/* gauges: as of the last report */
};

struct m_mount {
	const char *server, *share, *class;
	enum outcome outcome;
	__u64 n;
};

struct m_mount_dur {
	const char *server;
	enum outcome outcome;
	__u64 bucket[NMB], count;
	double sum;
};

struct m_hung {
	unsigned int id;
	const char *server, *share, *class;
};

struct metrics {
	unsigned int max_series;
	struct registry servers, shares;
	struct m_row *row;
	size_t nrow;
	struct m_share *share;
	size_t nshare;
	struct m_server *server;
	size_t nserver;
	struct m_mount *mount;
	size_t nmount;
	struct m_mount_dur *mdur;
	size_t nmdur;
	struct m_hung *hung;
	size_t nhung;
	struct metrics_health health;
	__u64 label_overflow;
	char version[32];
	char kernel[65];
};

struct metrics *metrics_new(unsigned int max_series, const char *version, const char *kernel)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->max_series = max_series;
	snprintf(m->version, sizeof(m->version), "%s", version ? version : "");
	snprintf(m->kernel, sizeof(m->kernel), "%s", kernel ? kernel : "");
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->servers.n; i++)
		free(m->servers.v[i]);
	for (size_t i = 0; i < m->shares.n; i++)
		free(m->shares.v[i]);
	for (size_t i = 0; i < m->nrow; i++)
		free(m->row[i].st);
	free(m->servers.v);
	free(m->shares.v);
	free(m->row);
	free(m->share);
	free(m->server);
	free(m->mount);
	free(m->mdur);
	free(m->hung);
	free(m);
}

/*
 * The label value for name: its own copy while there is room, else
 * METRICS_OTHER (and *folded is set). "" (no share) is always itself.
 * NULL on out of memory.
 */
static const char *label(struct metrics *m, struct registry *r, const char *name, bool *folded)
{
	char **v, *copy;

	if (!name[0])
		return "";
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i], name))
			return r->v[i];
	if (r->n >= m->max_series) {
		*folded = true;
		return METRICS_OTHER;
	}
	v = realloc(r->v, (r->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	r->v = v;
	copy = strdup(name);
	if (!copy)
		return NULL;
	r->v[r->n++] = copy;
	return copy;
}

/* Labels of a row: both, or NULL on out of memory. Counts a fold once. */
static int labels(struct metrics *m, const char *server, const char *share, const char **sv,
		  const char **sh)
{
	bool folded = false;

	*sv = label(m, &m->servers, server, &folded);
	*sh = share ? label(m, &m->shares, share, &folded) : NULL;
	if (!*sv || (share && !*sh))
		return -1;
	if (folded)
		m->label_overflow++;
	return 0;
}

/* Append a zeroed element to arr[n]; ok = false if out of memory. */
#define GROW(arr, n)								\
	do {									\
		if (array_room((void **)&(arr), (n), sizeof(*(arr))))		\
			ok = false;						\
		else								\
			memset(&(arr)[(n)++], 0, sizeof(*(arr)));		\
	} while (0)

static struct m_row *row_for(struct metrics *m, const char *server, const char *share, __u16 cmd)
{
	bool ok = true;

	/* label values are interned: pointers compare */
	for (size_t i = 0; i < m->nrow; i++)
		if (m->row[i].server == server && m->row[i].share == share && m->row[i].cmd == cmd)
			return &m->row[i];
	GROW(m->row, m->nrow);
	if (!ok)
		return NULL;
	m->row[m->nrow - 1].server = server;
	m->row[m->nrow - 1].share = share;
	m->row[m->nrow - 1].cmd = cmd;
	return &m->row[m->nrow - 1];
}

static int row_add_status(struct m_row *row, __u32 status, bool other, __u64 n)
{
	bool ok = true;

	for (size_t i = 0; i < row->nst; i++)
		if (row->st[i].other == other && (other || row->st[i].status == status)) {
			row->st[i].n += n;
			return 0;
		}
	GROW(row->st, row->nst);
	if (!ok)
		return -1;
	row->st[row->nst - 1] = (struct m_status){ .status = status, .other = other, .n = n };
	return 0;
}

static struct m_server *server_for(struct metrics *m, const char *server)
{
	bool ok = true;

	for (size_t i = 0; i < m->nserver; i++)
		if (m->server[i].server == server)
			return &m->server[i];
	GROW(m->server, m->nserver);
	if (!ok)
		return NULL;
	m->server[m->nserver - 1].server = server;
	return &m->server[m->nserver - 1];
}

int metrics_add_report(struct metrics *m, const struct lat_report *r)
{
	const char *sv, *sh;
	bool ok = true;

	for (size_t i = 0; i < r->nrow; i++) {
		const struct lat_row *lr = &r->row[i];
		struct m_row *row;

		if (labels(m, lr->server, lr->share, &sv, &sh))
			return -1;
		row = row_for(m, sv, sh, lr->cmd);
		if (!row)
			return -1;
		ct_hist_add(&row->h, &lr->h);
		for (int s = 0; s < lr->nstatus; s++)
			if (row_add_status(row, lr->status[s].status, false, lr->status[s].n))
				return -1;
		if (lr->other_errors && row_add_status(row, 0, true, lr->other_errors))
			return -1;
	}
	for (size_t i = 0; i < r->nshare; i++) {
		const struct lat_share *ls = &r->share[i];
		struct m_share *s = NULL;

		if (labels(m, ls->server, ls->share, &sv, &sh))
			return -1;
		for (size_t j = 0; j < m->nshare && !s; j++)
			if (m->share[j].server == sv && m->share[j].share == sh)
				s = &m->share[j];
		if (!s) {
			GROW(m->share, m->nshare);
			if (!ok)
				return -1;
			s = &m->share[m->nshare - 1];
			s->server = sv;
			s->share = sh;
		}
		s->read_bytes += ls->read_bytes;
		s->write_bytes += ls->write_bytes;
	}
	/* gauges: what is in flight now, nothing for servers not in the report */
	for (size_t i = 0; i < m->nserver; i++)
		m->server[i].in_flight = m->server[i].oldest_ns = 0;
	for (size_t i = 0; i < r->nserver; i++) {
		const struct lat_server *ls = &r->server[i];
		struct m_server *s;

		if (labels(m, ls->server, NULL, &sv, &sh))
			return -1;
		s = server_for(m, sv);
		if (!s)
			return -1;
		s->st.reconnects += ls->st.reconnects;
		s->st.credit_stalls += ls->st.credit_stalls;
		s->st.credit_timeouts += ls->st.credit_timeouts;
		s->st.retransmits += ls->st.retransmits;
		s->st.resets += ls->st.resets;
		s->in_flight += ls->in_flight;
		if (ls->oldest_ns > s->oldest_ns)
			s->oldest_ns = ls->oldest_ns;
	}
	return 0;
}

int metrics_add_attempt(struct metrics *m, unsigned int id, const struct diagnosis *d)
{
	const char *sv, *sh, *class = d->class ? d->class : "unknown";
	struct m_mount_dur *md = NULL;
	struct m_mount *mt = NULL;
	double secs = d->duration_ns / 1e9;
	bool ok = true;

	/* an attempt reported hung leaves the gauge when it ends */
	for (size_t i = 0; i < m->nhung; i++)
		if (m->hung[i].id == id) {
			m->hung[i] = m->hung[--m->nhung];
			break;
		}
	if (d->expired)		/* no longer followed: neither hung nor counted */
		return 0;
	if (labels(m, d->server, d->share, &sv, &sh))
		return -1;
	if (d->outcome == OUTCOME_HUNG) {
		GROW(m->hung, m->nhung);
		if (!ok)
			return -1;
		m->hung[m->nhung - 1] = (struct m_hung){ id, sv, sh, class };
		return 0;
	}
	for (size_t i = 0; i < m->nmount && !mt; i++)
		if (m->mount[i].server == sv && m->mount[i].share == sh &&
		    m->mount[i].outcome == d->outcome && !strcmp(m->mount[i].class, class))
			mt = &m->mount[i];
	if (!mt) {
		GROW(m->mount, m->nmount);
		if (!ok)
			return -1;
		mt = &m->mount[m->nmount - 1];
		*mt = (struct m_mount){ sv, sh, class, d->outcome, 0 };
	}
	mt->n++;
	for (size_t i = 0; i < m->nmdur && !md; i++)
		if (m->mdur[i].server == sv && m->mdur[i].outcome == d->outcome)
			md = &m->mdur[i];
	if (!md) {
		GROW(m->mdur, m->nmdur);
		if (!ok)
			return -1;
		md = &m->mdur[m->nmdur - 1];
		md->server = sv;
		md->outcome = d->outcome;
	}
	for (size_t b = 0; b < NMB; b++)
		if (secs <= mount_buckets[b])
			md->bucket[b]++;
	md->count++;
	md->sum += secs;
	return 0;
}

void metrics_set_health(struct metrics *m, const struct metrics_health *h)
{
	m->health = *h;
}

/* ------------------------------------------------------------ rendering */

/*
 * A label value: what a terminal may show (escape.h's ESC_TEXT turns
 * controls, bidi overrides and invalid UTF-8 into \xNN), then the text
 * format's own escapes for backslash, quote and newline.
 */
static void put_value(FILE *out, const char *v)
{
	char safe[4 * CT_UNC_LEN + 1];

	escape_str(safe, sizeof(safe), v, strlen(v), ESC_TEXT);
	for (const char *p = safe; *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', out);
		fputc(*p, out);
	}
}

static void family(FILE *out, enum metric_id id)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", metric_descs[id].name, metric_descs[id].help,
		metric_descs[id].name, metric_descs[id].type);
}

/* name{server="..",share="..",command=".."  -- the caller closes the brace */
static void series(FILE *out, const char *name, const char *suffix, const char *server,
		   const char *share)
{
	fprintf(out, "%s%s{server=\"", name, suffix);
	put_value(out, server);
	if (share) {
		fputs("\",share=\"", out);
		put_value(out, share);
	}
	fputc('"', out);
}

static void row_series(FILE *out, enum metric_id id, const char *suffix, const struct m_row *r)
{
	series(out, metric_descs[id].name, suffix, r->server, r->share);
	fprintf(out, ",command=\"%s\"", smb2_cmd_name(r->cmd));
}

static void secs(FILE *out, __u64 ns)
{
	fprintf(out, "} %llu.%09llu\n", (unsigned long long)(ns / 1000000000ull),
		(unsigned long long)(ns % 1000000000ull));
}

static void render_rows(FILE *out, const struct metrics *m)
{
	static const struct {
		enum metric_id id;
		size_t off;
	} split[] = {
		{ M_REQUEST_QUEUE, offsetof(struct ct_hist, queue_ns) },
		{ M_REQUEST_NETWORK, offsetof(struct ct_hist, network_ns) },
		{ M_REQUEST_SERVER, offsetof(struct ct_hist, server_ns) },
		{ M_REQUEST_NETWORK_SERVER, offsetof(struct ct_hist, joint_ns) },
	};

	family(out, M_REQUESTS);
	for (size_t i = 0; i < m->nrow; i++) {
		row_series(out, M_REQUESTS, "", &m->row[i]);
		fprintf(out, "} %llu\n", (unsigned long long)m->row[i].h.count);
	}
	family(out, M_REQUEST_ERRORS);
	for (size_t i = 0; i < m->nrow; i++)
		for (size_t s = 0; s < m->row[i].nst; s++) {
			const struct m_status *st = &m->row[i].st[s];

			row_series(out, M_REQUEST_ERRORS, "", &m->row[i]);
			if (st->other)
				fputs(",status=\"other\"", out);
			else if (ntstatus_name(st->status))
				fprintf(out, ",status=\"%s\"", ntstatus_name(st->status));
			else
				fprintf(out, ",status=\"0x%08x\"", st->status);
			fprintf(out, "} %llu\n", (unsigned long long)st->n);
		}
	family(out, M_REQUEST_DURATION);
	for (size_t i = 0; i < m->nrow; i++) {
		const struct m_row *r = &m->row[i];
		__u64 cum = 0;

		/* slot b holds [2^b, 2^(b+1)) µs; the last one is open-ended */
		for (int b = 0; b < CT_HIST_SLOTS - 1; b++) {
			__u64 le_us = 1ull << (b + 1);

			cum += r->h.slots[b];
			row_series(out, M_REQUEST_DURATION, "_bucket", r);
			fprintf(out, ",le=\"%llu.%06llu\"} %llu\n", le_us / 1000000, le_us % 1000000,
				(unsigned long long)cum);
		}
		row_series(out, M_REQUEST_DURATION, "_bucket", r);
		fprintf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)r->h.count);
		row_series(out, M_REQUEST_DURATION, "_sum", r);
		secs(out, r->h.total_ns);
		row_series(out, M_REQUEST_DURATION, "_count", r);
		fprintf(out, "} %llu\n", (unsigned long long)r->h.count);
	}
	for (size_t k = 0; k < sizeof(split) / sizeof(split[0]); k++) {
		family(out, split[k].id);
		for (size_t i = 0; i < m->nrow; i++) {
			row_series(out, split[k].id, "", &m->row[i]);
			secs(out, *(const __u64 *)((const char *)&m->row[i].h + split[k].off));
		}
	}
}

static void render_servers(FILE *out, const struct metrics *m)
{
	static const struct {
		enum metric_id id;
		size_t off;
	} counters[] = {
		{ M_RECONNECTS, offsetof(struct ct_conn_stats, reconnects) },
		{ M_CREDIT_STALLS, offsetof(struct ct_conn_stats, credit_stalls) },
		{ M_CREDIT_TIMEOUTS, offsetof(struct ct_conn_stats, credit_timeouts) },
		{ M_TCP_RETRANSMITS, offsetof(struct ct_conn_stats, retransmits) },
		{ M_TCP_RESETS, offsetof(struct ct_conn_stats, resets) },
	};

	family(out, M_READ_BYTES);
	for (size_t i = 0; i < m->nshare; i++) {
		series(out, metric_descs[M_READ_BYTES].name, "", m->share[i].server, m->share[i].share);
		fprintf(out, "} %llu\n", (unsigned long long)m->share[i].read_bytes);
	}
	family(out, M_WRITE_BYTES);
	for (size_t i = 0; i < m->nshare; i++) {
		series(out, metric_descs[M_WRITE_BYTES].name, "", m->share[i].server, m->share[i].share);
		fprintf(out, "} %llu\n", (unsigned long long)m->share[i].write_bytes);
	}
	family(out, M_IN_FLIGHT);
	for (size_t i = 0; i < m->nserver; i++) {
		series(out, metric_descs[M_IN_FLIGHT].name, "", m->server[i].server, NULL);
		fprintf(out, "} %llu\n", (unsigned long long)m->server[i].in_flight);
	}
	family(out, M_OLDEST_AGE);
	for (size_t i = 0; i < m->nserver; i++) {
		series(out, metric_descs[M_OLDEST_AGE].name, "", m->server[i].server, NULL);
		secs(out, m->server[i].oldest_ns);
	}
	for (size_t k = 0; k < sizeof(counters) / sizeof(counters[0]); k++) {
		family(out, counters[k].id);
		for (size_t i = 0; i < m->nserver; i++) {
			series(out, metric_descs[counters[k].id].name, "", m->server[i].server, NULL);
			fprintf(out, "} %llu\n", (unsigned long long)*(const __u64 *)
				((const char *)&m->server[i].st + counters[k].off));
		}
	}
}

static void render_mounts(FILE *out, const struct metrics *m)
{
	family(out, M_MOUNT_ATTEMPTS);
	for (size_t i = 0; i < m->nmount; i++) {
		series(out, metric_descs[M_MOUNT_ATTEMPTS].name, "", m->mount[i].server,
		       m->mount[i].share);
		fprintf(out, ",outcome=\"%s\",class=\"%s\"} %llu\n", outcome_name(m->mount[i].outcome),
			m->mount[i].class, (unsigned long long)m->mount[i].n);
	}
	family(out, M_MOUNT_DURATION);
	for (size_t i = 0; i < m->nmdur; i++) {
		const struct m_mount_dur *d = &m->mdur[i];
		const char *name = metric_descs[M_MOUNT_DURATION].name;
		const char *o = outcome_name(d->outcome);

		for (size_t b = 0; b < NMB; b++) {
			series(out, name, "_bucket", d->server, NULL);
			fprintf(out, ",outcome=\"%s\",le=\"%g\"} %llu\n", o, mount_buckets[b],
				(unsigned long long)d->bucket[b]);
		}
		series(out, name, "_bucket", d->server, NULL);
		fprintf(out, ",outcome=\"%s\",le=\"+Inf\"} %llu\n", o, (unsigned long long)d->count);
		series(out, name, "_sum", d->server, NULL);
		fprintf(out, ",outcome=\"%s\"} %.6f\n", o, d->sum);
		series(out, name, "_count", d->server, NULL);
		fprintf(out, ",outcome=\"%s\"} %llu\n", o, (unsigned long long)d->count);
	}
	/* one series per (server, share, class) with the number hung now */
	family(out, M_MOUNTS_HUNG);
	for (size_t i = 0; i < m->nhung; i++) {
		const struct m_hung *h = &m->hung[i];
		size_t n = 0;
		bool first = true;

		for (size_t j = 0; j < m->nhung; j++)
			if (m->hung[j].server == h->server && m->hung[j].share == h->share &&
			    !strcmp(m->hung[j].class, h->class)) {
				first = first && j >= i;
				n++;
			}
		if (!first)
			continue;
		series(out, metric_descs[M_MOUNTS_HUNG].name, "", h->server, h->share);
		fprintf(out, ",class=\"%s\"} %zu\n", h->class, n);
	}
}

static void render_health(FILE *out, const struct metrics *m)
{
	const struct metrics_health *h = &m->health;

	family(out, M_LOST_EVENTS);
	fprintf(out, "%s %llu\n", metric_descs[M_LOST_EVENTS].name,
		(unsigned long long)h->lost_events);
	family(out, M_NOT_COUNTED);
	for (int i = 0; i < CT_STAT_MAX; i++)
		if (ct_stat_names[i].reason)
			fprintf(out, "%s{reason=\"%s\"} %llu\n", metric_descs[M_NOT_COUNTED].name,
				ct_stat_names[i].reason, (unsigned long long)h->not_counted[i]);
	family(out, M_BPF_RUN_SECONDS);
	fprintf(out, "%s", metric_descs[M_BPF_RUN_SECONDS].name);
	fprintf(out, " %llu.%09llu\n", (unsigned long long)(h->bpf_run_ns / 1000000000ull),
		(unsigned long long)(h->bpf_run_ns % 1000000000ull));
	family(out, M_BPF_RUNS);
	fprintf(out, "%s %llu\n", metric_descs[M_BPF_RUNS].name, (unsigned long long)h->bpf_runs);
	family(out, M_LABEL_OVERFLOW);
	fprintf(out, "%s %llu\n", metric_descs[M_LABEL_OVERFLOW].name,
		(unsigned long long)m->label_overflow);
	family(out, M_BUILD_INFO);
	fprintf(out, "%s{version=\"", metric_descs[M_BUILD_INFO].name);
	put_value(out, m->version);
	fputs("\",kernel=\"", out);
	put_value(out, m->kernel);
	fputs("\"} 1\n", out);
}

int metrics_render(FILE *out, const struct metrics *m)
{
	render_rows(out, m);
	render_servers(out, m);
	render_mounts(out, m);
	render_health(out, m);
	return ferror(out) ? -1 : 0;
}

void metrics_list(FILE *out)
{
	fprintf(out, "| metric | type | labels | meaning |\n| --- | --- | --- | --- |\n");
	for (int i = 0; i < M_COUNT; i++)
		fprintf(out, "| `%s` | %s | %s | %s |\n", metric_descs[i].name, metric_descs[i].type,
			metric_descs[i].labels[0] ? metric_descs[i].labels : "-", metric_descs[i].help);
}
