// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "attempts.h"

/*
 * Established connections outside any attempt: the oldest request still
 * unanswered on each, and its ACK, kept as evidence for a reconnect.
 */
#define WATCHED_CONNS 64

struct watched {
	__u64 conn_id;
	struct ct_event req, ack;	/* req.type == 0: none outstanding */
	struct ct_event closed;		/* the last FIN or RST the server sent, or type 0 */
	__u64 seen_ns;			/* from an INFLIGHT snapshot taken then */
	__u64 hung_mid;			/* the request a hang was reported for */
	bool hung_reported;
};

struct engine {
	struct attempt **open;
	size_t nopen, cap;
	unsigned int next_id;
	__u64 hang_after_ns;
	attempt_fn fn;
	void *ctx;
	struct watched watched[WATCHED_CONNS];
	unsigned int next_watch;
};

static struct watched *watch_of(struct engine *en, __u64 conn_id, bool create)
{
	struct watched *w;

	for (int i = 0; i < WATCHED_CONNS; i++)
		if (en->watched[i].conn_id == conn_id)
			return &en->watched[i];
	if (!create)
		return NULL;
	w = &en->watched[en->next_watch++ % WATCHED_CONNS];	/* oldest goes */
	memset(w, 0, sizeof(*w));
	w->conn_id = conn_id;
	return w;
}

static void forget(struct watched *w)
{
	memset(&w->req, 0, sizeof(w->req));
	memset(&w->ack, 0, sizeof(w->ack));
	w->seen_ns = 0;
}

/* A snapshot older than this says nothing about the moment of a reconnect. */
#define SNAPSHOT_FRESH_NS	(3000000000ull)
/* cifsd reconnects at once when the server closes; a close older than this
 * is not why. */
#define CLOSED_FRESH_NS		(10000000000ull)

/* Keep the oldest unanswered request per connection, and its ACK. */
static void watch(struct engine *en, const struct ct_event *e)
{
	struct watched *w;

	/* the server side closed the connection: the reconnect will say so */
	if (e->conn_id && (e->type == CT_EV_TCP_FIN ||
			   (e->type == CT_EV_TCP_RESET && !(e->flags & CT_F_RST_SENT)))) {
		w = watch_of(en, e->conn_id, true);
		if (w)
			w->closed = *e;
		return;
	}
	/* CHANGE_NOTIFY and LOCK may wait for hours by design: not evidence */
	if (!e->conn_id || e->cmd == 10 || e->cmd == 15 ||
	    (e->type != CT_EV_REQUEST && e->type != CT_EV_ACK && e->type != CT_EV_RESPONSE))
		return;
	w = watch_of(en, e->conn_id, e->type == CT_EV_REQUEST);
	if (!w)
		return;
	if (e->type == CT_EV_REQUEST && !w->req.type)
		w->req = *e;
	else if (e->type == CT_EV_ACK && w->req.type && e->mid == w->req.mid && !w->ack.type)
		w->ack = *e;
	else if (e->type == CT_EV_RESPONSE && w->req.type && e->mid == w->req.mid)
		forget(w);
}

struct engine *engine_new(__u64 hang_after_ns, attempt_fn fn, void *ctx)
{
	struct engine *en = calloc(1, sizeof(*en));

	if (!en)
		return NULL;
	en->hang_after_ns = hang_after_ns;
	en->fn = fn;
	en->ctx = ctx;
	en->next_id = 1;
	return en;
}

static bool attempt_has_conn(const struct attempt *a, __u64 conn_id)
{
	for (int i = 0; i < a->nconn; i++)
		if (a->conn_ids[i] == conn_id)
			return true;
	return false;
}

static void attempt_free(struct attempt *a)
{
	free(a->ev);
	free(a);
}

/*
 * Events keep the stream's order: one stamped before the previous one (a
 * few µs is normal across CPUs; more is a damaged recording) is moved up
 * to it, so no duration inside an attempt can go negative.
 */
static void add_event(struct attempt *a, const struct ct_event *e)
{
	struct ct_event *slot;
	int i;

	if (a->nev == ATTEMPT_MAX_EVENTS) {
		a->dropped++;
		if (e->type != CT_EV_MOUNT_DONE)
			return;
		a->nev--;		/* the end always has a place: the last */
		if (a->last_rr == (int)a->nev)
			a->last_rr = -1;
		if (a->last_connect == (int)a->nev)
			a->last_connect = -1;
		if (a->last_upcall == (int)a->nev)
			a->last_upcall = -1;
	}
	if (a->nev == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 32;
		struct ct_event *ev;

		if (cap > ATTEMPT_MAX_EVENTS)
			cap = ATTEMPT_MAX_EVENTS;
		ev = realloc(a->ev, cap * sizeof(*ev));
		if (!ev) {
			a->dropped++;	/* out of memory: the timeline misses it */
			return;
		}
		a->ev = ev;
		a->cap = cap;
	}
	i = (int)a->nev++;
	slot = &a->ev[i];
	*slot = *e;
	if (slot->ts_ns < a->last_ns)
		slot->ts_ns = a->last_ns;
	a->last_ns = slot->ts_ns;
	if (e->type == CT_EV_REQUEST || e->type == CT_EV_RESPONSE || e->type == CT_EV_MOUNT_DONE)
		a->last_rr = i;
	else if (e->type == CT_EV_CONNECT)
		a->last_connect = i;
	else if (e->type == CT_EV_UPCALL)
		a->last_upcall = i;
	if (e->conn_id && !attempt_has_conn(a, e->conn_id) && a->nconn < ATTEMPT_MAX_CONNS)
		a->conn_ids[a->nconn++] = e->conn_id;
}

static void expire(struct engine *en, size_t i, __u64 now);

static struct attempt *open_attempt(struct engine *en, const struct ct_event *e,
				    enum attempt_kind kind)
{
	struct attempt *a;

	if (en->nopen >= ENGINE_MAX_OPEN) {
		size_t idle = 0;

		for (size_t i = 1; i < en->nopen; i++)
			if (en->open[i]->last_ns < en->open[idle]->last_ns)
				idle = i;
		expire(en, idle, e->ts_ns);
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	if (en->nopen == en->cap) {
		size_t cap = en->cap ? 2 * en->cap : 16;
		struct attempt **open = realloc(en->open, cap * sizeof(*open));

		if (!open) {
			free(a);
			return NULL;
		}
		en->open = open;
		en->cap = cap;
	}
	a->id = en->next_id++;
	a->kind = kind;
	a->pid = e->pid;
	memcpy(a->comm, e->comm, sizeof(a->comm));
	a->start_ns = a->last_ns = e->ts_ns;
	a->last_rr = a->last_connect = a->last_upcall = -1;
	if (e->type == CT_EV_MOUNT) {
		memcpy(a->unc, e->mount.unc, sizeof(a->unc));
		memcpy(a->user, e->mount.user, sizeof(a->user));
	}
	en->open[en->nopen++] = a;
	return a;
}

static void close_attempt(struct engine *en, size_t i, enum outcome o, __u64 now)
{
	struct attempt *a = en->open[i];

	en->fn(en->ctx, a, o, now);
	en->open[i] = en->open[--en->nopen];
	attempt_free(a);
}

/* The open attempt an event belongs to: its task's, else its connection's. */
static struct attempt *owner(struct engine *en, const struct ct_event *e)
{
	if (e->pid)
		for (size_t i = en->nopen; i-- > 0;)
			if (en->open[i]->kind == ATTEMPT_MOUNT && en->open[i]->pid == e->pid)
				return en->open[i];
	if (e->conn_id)
		for (size_t i = en->nopen; i-- > 0;)
			if (attempt_has_conn(en->open[i], e->conn_id))
				return en->open[i];
	return NULL;
}

/*
 * The request still waiting for its response: the last request, if no
 * response (or the mount's end) came after it.
 */
static const struct ct_event *outstanding(const struct attempt *a)
{
	const struct ct_event *r = a->last_rr >= 0 ? &a->ev[a->last_rr] : NULL;

	return r && r->type == CT_EV_REQUEST ? r : NULL;
}

/* A SYN with no result yet. */
static const struct ct_event *connecting(const struct attempt *a)
{
	const struct ct_event *c = a->last_connect >= 0 ? &a->ev[a->last_connect] : NULL;

	return c && c->connect.result == CT_CONNECT_STARTED ? c : NULL;
}

/* A Kerberos upcall started and not returned. */
static const struct ct_event *upcalling(const struct attempt *a)
{
	const struct ct_event *u = a->last_upcall >= 0 ? &a->ev[a->last_upcall] : NULL;

	return u && !(u->flags & CT_F_RC) ? u : NULL;
}

/*
 * What the attempt waits for from outside: a request without a response,
 * a SYN without an answer, or cifs.upcall. Gaps while the client itself
 * works are not hangs. The mark says which wait, so each is reported once.
 */
static const struct ct_event *waiting_on(const struct attempt *a, __u64 *mark)
{
	const struct ct_event *w = outstanding(a);

	if (w) {
		*mark = w->mid;
		return w;
	}
	w = connecting(a);
	if (!w)
		w = upcalling(a);
	if (w)
		*mark = ~0ull - (__u64)(w - a->ev);	/* its place in the timeline */
	return w;
}

/* Close attempt i without its end: reported as hung, marked expired. */
static void expire(struct engine *en, size_t i, __u64 now)
{
	struct attempt *a = en->open[i];

	a->expired = true;
	close_attempt(en, i, OUTCOME_HUNG, now);
}

void engine_tick(struct engine *en, __u64 now)
{
	for (size_t i = 0; i < en->nopen; i++) {
		struct attempt *a = en->open[i];
		__u64 mark;
		const struct ct_event *w;

		if (now > a->last_ns && now - a->last_ns > ATTEMPT_STALE_NS) {
			expire(en, i--, now);
			continue;
		}
		if (a->recovering) {
			/* trees reconnect on their next use: the session is enough */
			if (a->session_back_ns && now > a->session_back_ns + RECOVERY_TREES_NS)
				close_attempt(en, i--, OUTCOME_OK, a->session_back_ns);
			continue;
		}
		w = waiting_on(a, &mark);

		if (!w || a->done || now < w->ts_ns || now - w->ts_ns < en->hang_after_ns ||
		    (a->hung_reported && a->hung_mark == mark))
			continue;
		a->hung_reported = true;
		a->hung_mark = mark;
		/*
		 * As of the moment the wait crossed the threshold: live that is
		 * within a poll interval of now; replayed, exact even when the
		 * next recorded event comes much later.
		 */
		en->fn(en->ctx, a, OUTCOME_HUNG, w->ts_ns + en->hang_after_ns);
	}
}

/*
 * The oldest unanswered request of an established connection, from the
 * kernel's in-flight table (live diagnose streams no data-plane requests):
 * kept as the evidence for a reconnect, and reported as a hang once it has
 * waited --hang-after.
 */
static void watch_inflight(struct engine *en, const struct ct_event *e)
{
	struct watched *w = watch_of(en, e->conn_id, true);
	__u64 enter = e->ts_ns - e->latency_ns;
	struct attempt *a;

	forget(w);
	w->req = *e;
	w->req.type = CT_EV_REQUEST;
	w->req.ts_ns = enter;
	w->req.flags &= CT_F_ADDR;
	if (e->flags & CT_F_SENT) {
		w->req.ts_ns = enter + e->req.queue_ns;
		w->req.latency_ns = e->req.queue_ns;
		w->req.flags |= CT_F_LATENCY;
	}
	memset(&w->req.req, 0, sizeof(w->req.req));
	if (e->flags & CT_F_ACKED) {
		w->ack = w->req;
		w->ack.type = CT_EV_ACK;
		w->ack.ts_ns = w->req.ts_ns + e->req.network_ns;
		w->ack.latency_ns = e->req.network_ns;
		w->ack.flags = (e->flags & CT_F_ADDR) | CT_F_LATENCY;
		w->ack.pid = 0;
		w->ack.comm[0] = '\0';
	}
	w->seen_ns = e->ts_ns;
	if (e->latency_ns < en->hang_after_ns || (w->hung_reported && w->hung_mid == e->mid))
		return;
	w->hung_reported = true;
	w->hung_mid = e->mid;
	/* reported now, as a reconnect that has not happened yet */
	a = open_attempt(en, &w->req, ATTEMPT_RECONNECT);
	if (!a)
		return;
	a->start_ns = a->last_ns = w->req.ts_ns;
	add_event(a, &w->req);
	if (w->ack.type)
		add_event(a, &w->ack);
	a->hung_reported = true;
	en->fn(en->ctx, a, OUTCOME_HUNG, e->ts_ns);
	en->open[--en->nopen] = NULL;	/* it was the last opened */
	attempt_free(a);
}

static bool is_ipc_unc(const char *unc)
{
	size_t n = strnlen(unc, CT_UNC_LEN);

	return n >= 5 && !strcasecmp(unc + n - 5, "\\IPC$");
}

static void close_open(struct engine *en, struct attempt *a, enum outcome o, __u64 now)
{
	for (size_t i = 0; i < en->nopen; i++)
		if (en->open[i] == a) {
			close_attempt(en, i, o, now);
			return;
		}
}

void engine_feed(struct engine *en, const struct ct_event *e)
{
	struct attempt *a;

	engine_tick(en, e->ts_ns);
	if (e->type == CT_EV_LOST) {
		for (size_t i = 0; i < en->nopen; i++)	/* saturating: a recording may lie */
			en->open[i]->lost = en->open[i]->lost + e->mid < en->open[i]->lost ?
					    ~0ull : en->open[i]->lost + e->mid;
		return;
	}
	if (e->type == CT_EV_MOUNT) {
		a = open_attempt(en, e, ATTEMPT_MOUNT);
		if (a)
			add_event(a, e);
		return;
	}
	if (e->type == CT_EV_INFLIGHT) {
		if (!owner(en, e))
			watch_inflight(en, e);
		return;
	}
	if (e->type == CT_EV_KDC) {
		/* cifs.upcall's exchanges belong to the mount waiting on it */
		for (size_t i = en->nopen; i-- > 0;)
			if (en->open[i]->kind == ATTEMPT_MOUNT && upcalling(en->open[i])) {
				add_event(en->open[i], e);
				break;
			}
		return;
	}
	a = owner(en, e);
	if (a && a->recovering && e->type == CT_EV_RECONNECT) {
		/* not back, and reconnecting again: say so, follow the new one */
		close_open(en, a, OUTCOME_HUNG, e->ts_ns);
		a = NULL;
	}
	if (!a && e->type != CT_EV_RECONNECT)
		watch(en, e);
	if (!a && e->type == CT_EV_RECONNECT) {
		/* an established connection stopped answering */
		struct watched *w = watch_of(en, e->conn_id, false);

		a = open_attempt(en, e, ATTEMPT_RECONNECT);
		if (!a)
			return;
		if (w && w->req.type && w->seen_ns && e->ts_ns > w->seen_ns + SNAPSHOT_FRESH_NS)
			forget(w);	/* that request was answered since */
		if (w && w->req.type) {
			a->start_ns = a->last_ns = w->req.ts_ns;
			add_event(a, &w->req);
			if (w->ack.type)
				add_event(a, &w->ack);
			forget(w);
		}
		/* a FIN or RST from the server just before: why it reconnects */
		if (w && w->closed.type && w->closed.ts_ns <= e->ts_ns &&
		    e->ts_ns - w->closed.ts_ns < CLOSED_FRESH_NS) {
			if (!a->nev)
				a->start_ns = a->last_ns = w->closed.ts_ns;
			add_event(a, &w->closed);
		}
		if (w)
			memset(&w->closed, 0, sizeof(w->closed));
		add_event(a, e);
		/* reported now; followed until the connection is back */
		en->fn(en->ctx, a, OUTCOME_FAILED, e->ts_ns);
		a->recovering = true;
		a->hung_reported = true;
		return;
	}
	if (!a)
		return;
	add_event(a, e);
	if (a->recovering) {
		if (e->type == CT_EV_SESSION_SETUP && (e->flags & CT_F_FINAL) && !e->rc)
			a->session_back_ns = e->ts_ns;
		else if (e->type == CT_EV_TREE_CONNECT && !e->rc && a->session_back_ns &&
			 !is_ipc_unc(e->tree.unc))
			close_open(en, a, OUTCOME_OK, e->ts_ns);
		return;
	}
	if (e->type == CT_EV_MOUNT_DONE) {
		a->done = true;
		for (size_t i = 0; i < en->nopen; i++)
			if (en->open[i] == a)
				close_attempt(en, i, e->rc ? OUTCOME_FAILED : OUTCOME_OK, e->ts_ns);
	}
}

void engine_finish(struct engine *en, __u64 now)
{
	while (en->nopen) {
		struct attempt *a = en->open[en->nopen - 1];

		if (a->recovering) {
			close_attempt(en, en->nopen - 1, a->session_back_ns ? OUTCOME_OK : OUTCOME_HUNG,
				      a->session_back_ns ? a->session_back_ns : now);
			continue;
		}
		if (a->hung_reported) {		/* said already; nothing new */
			en->nopen--;
			attempt_free(a);
			continue;
		}
		close_attempt(en, en->nopen - 1, OUTCOME_HUNG, now);
	}
}

void engine_free(struct engine *en)
{
	if (!en)
		return;
	for (size_t i = 0; i < en->nopen; i++)
		attempt_free(en->open[i]);
	free(en->open);
	free(en);
}
