// SPDX-License-Identifier: GPL-2.0
/*
 * The latency report: snapshots of the kernel's cumulative maps in, an
 * interval's rows (percentiles, split, errors, bytes) out, rendered as
 * libbpf-tools histograms or JSON. Also the DebugData reader and the
 * oldest-in-flight picker that live diagnose relies on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "latency.h"
#include "names.h"
#include "snapshot.h"

#define MS 1000000ull
#define US 1000ull
#define STATUS_ACCESS_DENIED 0xC0000022u
#define STATUS_OBJECT_NAME_NOT_FOUND 0xC0000034u

/* DebugData as 6.1 prints it (trimmed), for a connection made earlier. */
static const char debugdata[] =
	"Servers: \n"
	"1) ConnectionId: 0x7 Hostname: fs1 \n"
	"Number of credits: 472 Dialect 0x311\n"
	"\tSessions: \n"
	"\t1) Address: 10.0.0.5 Uses: 1 Capability: 0x300047\tSession Status: 1 \n"
	"\tSecurity type: RawNTLMSSP  SessionId: 0xa52ca56c\n"
	"\n"
	"\tShares: \n"
	"\t0) IPC: \\\\fs1\\IPC$ Mounts: 1 DevInfo: 0x0 Attributes: 0x0\n"
	"\tShare Capabilities: None\tShare Flags: 0x0\n"
	"\ttid: 0x2b190492\tMaximal Access: 0x1f00a9\n"
	"\n"
	"\t1) \\\\fs1\\data Mounts: 1 DevInfo: 0x20 Attributes: 0x1006f\n"
	"\tShare Capabilities: None Aligned, Partition Aligned,\tShare Flags: 0x0\n"
	"\ttid: 0x34779721\tOptimal sector size: 0x200\tMaximal Access: 0x1f01ff\n";

#define SES 0xa52ca56cull
#define TID 0x34779721u

static struct names debug_names(void)
{
	struct names n = {};
	FILE *f = fmemopen((void *)debugdata, sizeof(debugdata) - 1, "r");

	assert_non_null(f);
	assert_int_equal(names_read_debugdata(&n, f), 2);
	fclose(f);
	return n;
}

/* Add count requests of latency lat_ns (split q/n/s) to hist h. */
static void add(struct ct_hist *h, int count, __u64 lat_ns, __u64 q, __u64 n, __u64 s)
{
	int slot = 0;
	__u64 us = lat_ns / US;

	while (us >> (slot + 1) && slot < CT_HIST_SLOTS - 1)
		slot++;
	h->slots[slot] += count;
	h->count += count;
	h->total_ns += count * lat_ns;
	if (lat_ns > h->max_ns)
		h->max_ns = lat_ns;
	if (q + n + s) {
		h->sent_count += count;
		h->queue_ns += count * q;
		h->split_count += count;
		h->network_ns += count * n;
		h->server_ns += count * s;
	}
}

/* ... requests whose answer carried the ACK: network + server as one */
static void add_joint(struct ct_hist *h, int count, __u64 lat_ns, __u64 q)
{
	add(h, count, lat_ns, 0, 0, 0);
	h->sent_count += count;
	h->queue_ns += count * q;
	h->joint_count += count;
	h->joint_ns += count * (lat_ns - q);
}

static struct snap_hist *hist(struct snapshot *s, __u32 tid, __u32 cmd)
{
	struct snap_hist *h;

	s->hist = realloc(s->hist, (s->nhist + 1) * sizeof(*s->hist));
	assert_non_null(s->hist);
	h = &s->hist[s->nhist++];
	memset(h, 0, sizeof(*h));
	h->k.conn_id = 7;
	h->k.sesid = SES;
	h->k.tid = tid;
	h->k.cmd = cmd;
	return h;
}

static void error(struct snapshot *s, __u32 cmd, __u32 status, __u64 n)
{
	s->err = realloc(s->err, (s->nerr + 1) * sizeof(*s->err));
	assert_non_null(s->err);
	memset(&s->err[s->nerr], 0, sizeof(s->err[0]));
	s->err[s->nerr].k.h = (struct ct_hist_key){ 7, SES, TID, cmd };
	s->err[s->nerr].k.status = status;
	s->err[s->nerr++].n = n;
}

static const struct lat_filter all = { .cmd = -1 };
static char *render(const struct lat_report *r, bool json);

static void percentiles_fall_in_their_buckets(void **state)
{
	struct ct_hist h = {};

	add(&h, 90, 100 * US, 0, 0, 0);		/* bucket [64, 128) */
	add(&h, 10, 5 * MS, 0, 0, 0);		/* bucket [4096, 8192) */
	double p50 = lat_percentile(&h, h.max_ns, 0.5);
	double p99 = lat_percentile(&h, h.max_ns, 0.99);

	assert_true(p50 >= 64 && p50 < 128);
	assert_true(p99 >= 4096 && p99 <= 5000);	/* never above the max */
	assert_true(lat_percentile(&h, h.max_ns, 1.0) <= 5000);
	memset(&h, 0, sizeof(h));
	assert_true(lat_percentile(&h, 0, 0.5) == 0);
	/* one sample: every percentile is that sample */
	add(&h, 1, 183 * MS, 0, 0, 0);
	assert_true(lat_percentile(&h, h.max_ns, 0.5) == 183000);
	assert_true(lat_percentile(&h, h.max_ns, 0.99) == 183000);
}

static void dominant_part_is_the_largest_sum(void **state)
{
	struct ct_hist h = {};

	assert_null(lat_dominant(&h));
	add(&h, 1, 10 * MS, 1 * MS, 2 * MS, 7 * MS);
	assert_string_equal(lat_dominant(&h), "server");
	add(&h, 1, 30 * MS, 1 * MS, 28 * MS, 1 * MS);
	assert_string_equal(lat_dominant(&h), "network");
	add_joint(&h, 1, 100 * MS, 1 * MS);
	assert_string_equal(lat_dominant(&h), "network+server");
}

static void answers_that_carry_the_ack_are_not_split(void **state)
{
	struct snapshot cur = { .ts_ns = 1 };
	struct names n = debug_names();
	struct lat_report r;
	char *out;

	add(&hist(&cur, TID, CT_SMB2_CREATE)->v, 2, 10 * MS, 1 * MS, 1 * MS, 8 * MS);
	add_joint(&cur.hist[0].v, 6, 4 * MS, 1 * MS);
	assert_int_equal(lat_report_build(&cur, NULL, &n, &all, &r), 0);
	assert_int_equal(r.row[0].h.split_count, 2);
	assert_int_equal(r.row[0].h.joint_count, 6);
	assert_int_equal(r.row[0].h.sent_count, 8);
	out = render(&r, false);
	assert_non_null(strstr(out, "network+server 41%"));
	assert_non_null(strstr(out, "6 of 8 requests were answered before the server's TCP ACKed them"));
	free(out);
	lat_report_free(&r);
	snapshot_free(&cur);
	names_free(&n);
}

static void debugdata_names_connections_made_before_start(void **state)
{
	struct names n = debug_names();

	assert_string_equal(names_host(&n, 7), "fs1");
	assert_string_equal(names_share(&n, SES, TID), "\\\\fs1\\data");
	assert_string_equal(names_share(&n, SES, 0x2b190492), "\\\\fs1\\IPC$");
	assert_null(names_share(&n, SES, 1));
	names_free(&n);
}

static void interval_is_the_difference_of_cumulative_snapshots(void **state)
{
	struct snapshot prev = { .ts_ns = 1000 * MS }, cur = { .ts_ns = 3000 * MS };
	struct names n = debug_names();
	struct lat_report r;

	add(&hist(&prev, TID, CT_SMB2_CREATE)->v, 10, 1 * MS, 0, 0, 0);
	add(&hist(&prev, TID, CT_SMB2_READ)->v, 5, 2 * MS, 0, 0, 0);
	error(&prev, CT_SMB2_CREATE, STATUS_OBJECT_NAME_NOT_FOUND, 2);
	/* cur holds everything since the start: prev plus this interval */
	struct ct_hist *c = &hist(&cur, TID, CT_SMB2_CREATE)->v;

	add(c, 10, 1 * MS, 0, 0, 0);
	add(c, 4, 8 * MS, 1 * MS, 1 * MS, 6 * MS);
	c->errors = 3;
	add(&hist(&cur, TID, CT_SMB2_READ)->v, 5, 2 * MS, 0, 0, 0);	/* idle */
	error(&cur, CT_SMB2_CREATE, STATUS_OBJECT_NAME_NOT_FOUND, 3);
	error(&cur, CT_SMB2_CREATE, STATUS_ACCESS_DENIED, 1);

	assert_int_equal(lat_report_build(&cur, &prev, &n, &all, &r), 0);
	assert_int_equal(r.interval_ns, 2000 * MS);
	assert_int_equal(r.nrow, 1);		/* READ had nothing new */
	assert_string_equal(r.row[0].server, "fs1");
	assert_string_equal(r.row[0].share, "\\\\fs1\\data");
	assert_int_equal(r.row[0].cmd, CT_SMB2_CREATE);
	assert_int_equal(r.row[0].h.count, 4);
	assert_int_equal(r.row[0].h.split_count, 4);
	assert_int_equal(r.row[0].h.server_ns, 24 * MS);
	assert_int_equal(r.row[0].max_ns, 8 * MS);	/* the max grew in it: exact */
	assert_int_equal(r.row[0].nstatus, 2);
	for (int i = 0; i < 2; i++)
		assert_int_equal(r.row[0].status[i].n,
				 1);
	lat_report_free(&r);

	/* since the start: both commands */
	assert_int_equal(lat_report_build(&cur, NULL, &n, &all, &r), 0);
	assert_int_equal(r.nrow, 2);
	assert_int_equal(r.row[0].h.count + r.row[1].h.count, 19);
	lat_report_free(&r);
	snapshot_free(&prev);
	snapshot_free(&cur);
	names_free(&n);
}

static void filters_select_server_share_and_command(void **state)
{
	struct snapshot cur = { .ts_ns = 1 };
	struct names n = debug_names();
	struct lat_filter f = { .cmd = -1 };
	struct lat_report r;

	add(&hist(&cur, TID, CT_SMB2_CREATE)->v, 1, 1 * MS, 0, 0, 0);
	add(&hist(&cur, TID, CT_SMB2_WRITE)->v, 2, 1 * MS, 0, 0, 0);
	add(&hist(&cur, 0, CT_SMB2_NEGOTIATE)->v, 1, 1 * MS, 0, 0, 0);

	f.share = "DATA";			/* the last component, any case */
	assert_int_equal(lat_report_build(&cur, NULL, &n, &f, &r), 0);
	assert_int_equal(r.nrow, 2);
	lat_report_free(&r);
	f.cmd = CT_SMB2_WRITE;
	assert_int_equal(lat_report_build(&cur, NULL, &n, &f, &r), 0);
	assert_int_equal(r.nrow, 1);
	assert_int_equal(r.row[0].h.count, 2);
	lat_report_free(&r);
	f = (struct lat_filter){ .server = "other", .cmd = -1 };
	assert_int_equal(lat_report_build(&cur, NULL, &n, &f, &r), 0);
	assert_int_equal(r.nrow, 0);
	lat_report_free(&r);
	f = (struct lat_filter){ .server = "FS1", .cmd = -1 };
	assert_int_equal(lat_report_build(&cur, NULL, &n, &f, &r), 0);
	assert_int_equal(r.nrow, 3);
	assert_string_equal(r.row[0].share, "");	/* NEGOTIATE: no tree */
	lat_report_free(&r);
	snapshot_free(&cur);
	names_free(&n);
}

static char *render(const struct lat_report *r, bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	if (json)
		lat_render_json(f, r);
	else
		lat_render_text(f, r);
	fclose(f);
	return buf;
}

static void text_prints_libbpf_tools_histograms(void **state)
{
	struct snapshot cur = { .ts_ns = 1 };
	struct names n = debug_names();
	struct lat_report r;
	char *out;

	add(&hist(&cur, TID, CT_SMB2_CREATE)->v, 8, 100 * US, 10 * US, 10 * US, 80 * US);
	add(&hist(&cur, TID, CT_SMB2_CREATE)->v, 0, 0, 0, 0, 0);
	add(&cur.hist[0].v, 2, 3 * MS, 0, 0, 0);
	error(&cur, CT_SMB2_CREATE, STATUS_ACCESS_DENIED, 2);
	cur.stat[CT_STAT_LOST] = 5;
	assert_int_equal(lat_report_build(&cur, NULL, &n, &all, &r), 0);
	out = render(&r, false);
	assert_non_null(strstr(out, "\\\\fs1\\data  CREATE\n"));
	assert_non_null(strstr(out, "count 10  errors 0"));
	assert_non_null(strstr(out, "usecs          : count    distribution"));
	/* the fullest bucket has 40 stars, the 2 of 3 ms a quarter of them */
	assert_non_null(strstr(out, "        64 -> 127        : 8        |****************************************|"));
	assert_non_null(strstr(out, "      2048 -> 4095       : 2        |**********                              |"));
	assert_non_null(strstr(out, "mostly the server"));
	assert_non_null(strstr(out, "STATUS_ACCESS_DENIED x2"));
	assert_non_null(strstr(out, "lost events 5"));
	free(out);
	lat_report_free(&r);
	snapshot_free(&cur);
	names_free(&n);
}

static void json_has_one_object_per_row_with_the_contract_fields(void **state)
{
	struct snapshot cur = { .ts_ns = 7 * MS };
	struct names n = debug_names();
	struct lat_report r;
	json_error_t jerr;
	char *out, *line, *save = NULL;
	int rows = 0, health = 0;

	add(&hist(&cur, TID, CT_SMB2_READ)->v, 3, 200 * US, 20 * US, 30 * US, 150 * US);
	cur.io = calloc(1, sizeof(*cur.io));
	cur.nio = 1;
	cur.io[0].k = (struct ct_tree_key){ SES, TID, 0 };
	cur.io[0].v.read_bytes = 3 << 20;
	assert_int_equal(lat_report_build(&cur, NULL, &n, &all, &r), 0);
	out = render(&r, true);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *o = json_loads(line, 0, &jerr);
		const char *type;

		assert_non_null(o);
		type = json_string_value(json_object_get(o, "type"));
		assert_non_null(type);
		if (!strcmp(type, "histogram")) {
			json_int_t sum = 0;
			size_t i;
			json_t *b;

			rows++;
			assert_string_equal(json_string_value(json_object_get(o, "server")), "fs1");
			assert_string_equal(json_string_value(json_object_get(o, "share")), "\\\\fs1\\data");
			assert_string_equal(json_string_value(json_object_get(o, "command")), "READ");
			assert_int_equal(json_integer_value(json_object_get(o, "count")), 3);
			assert_int_equal(json_integer_value(json_object_get(o, "errors")), 0);
			assert_int_equal(json_integer_value(json_object_get(o, "max_us")), 200);
			assert_int_equal(json_integer_value(json_object_get(o, "queue_us")), 60);
			assert_int_equal(json_integer_value(json_object_get(o, "network_us")), 90);
			assert_int_equal(json_integer_value(json_object_get(o, "server_us")), 450);
			assert_string_equal(json_string_value(json_object_get(o, "dominant")), "server");
			assert_true(json_integer_value(json_object_get(o, "p50_us")) <=
				    json_integer_value(json_object_get(o, "p99_us")));
			json_array_foreach(json_object_get(o, "buckets"), i, b)
				sum += json_integer_value(json_object_get(b, "count"));
			assert_int_equal(sum, 3);
		} else if (!strcmp(type, "share")) {
			assert_int_equal(json_integer_value(json_object_get(o, "read_bytes")), 3 << 20);
		} else if (!strcmp(type, "health")) {
			health++;
			assert_non_null(json_object_get(o, "lost_events"));
		}
		json_decref(o);
	}
	assert_int_equal(rows, 1);
	assert_int_equal(health, 1);
	free(out);
	lat_report_free(&r);
	snapshot_free(&cur);
	names_free(&n);
}

static void hostile_names_are_escaped(void **state)
{
	struct snapshot cur = { .ts_ns = 1 };
	struct names n = {};
	struct lat_report r;
	char *out;

	names_add_host(&n, 7, "evil\x1b[2J\xe2\x80\xae");
	names_add_share(&n, SES, TID, "\\\\evil\\s\x1b]0;pwned\x07");
	add(&hist(&cur, TID, CT_SMB2_CREATE)->v, 1, 1 * MS, 0, 0, 0);
	assert_int_equal(lat_report_build(&cur, NULL, &n, &all, &r), 0);
	out = render(&r, false);
	assert_null(strchr(out, '\x1b'));
	assert_null(strchr(out, '\x07'));
	assert_null(strstr(out, "\xe2\x80\xae"));
	free(out);
	out = render(&r, true);
	assert_null(strchr(out, '\x1b'));
	free(out);
	lat_report_free(&r);
	snapshot_free(&cur);
	names_free(&n);
}

static void slow_record_names_its_share_and_split(void **state)
{
	struct names n = debug_names();
	struct ct_event e = { .type = CT_EV_RESPONSE, .ts_ns = 5 * MS, .conn_id = 7,
			      .sesid = SES, .tid = TID, .cmd = CT_SMB2_WRITE, .pid = 99,
			      .latency_ns = 250 * MS,
			      .flags = CT_F_LATENCY | CT_F_SENT | CT_F_ACKED | CT_F_SLOW };
	struct lat_filter f = { .share = "data", .cmd = -1 };
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	strcpy(e.comm, "dd");
	e.req.queue_ns = 1 * MS;
	e.req.network_ns = 240 * MS;
	e.req.server_ns = 9 * MS;
	assert_true(lat_filter_event(&f, &e, &n));
	f.share = "other";
	assert_false(lat_filter_event(&f, &e, &n));
	lat_render_slow_text(out, &e, &n);
	lat_render_slow_json(out, &e, &n);
	fclose(out);
	assert_non_null(strstr(buf, "\\\\fs1\\data"));
	assert_non_null(strstr(buf, "WRITE"));
	assert_non_null(strstr(buf, "250.000"));
	assert_non_null(strstr(buf, "\"network_us\":240000"));
	free(buf);
	names_free(&n);
}

static void oldest_in_flight_per_connection(void **state)
{
	struct snapshot s = { .ts_ns = 100 * MS };
	struct ct_event out[4];
	struct snap_req reqs[] = {
		{ { SES, 10, 0, 0 }, { .enter_ns = 50 * MS, .conn_id = 7, .cmd = CT_SMB2_READ } },
		{ { SES, 11, 0, 0 }, { .enter_ns = 20 * MS, .sent_ns = 21 * MS, .acked_ns = 22 * MS,
				       .conn_id = 7, .cmd = CT_SMB2_CREATE } },
		{ { SES, 12, 0, 0 }, { .enter_ns = 1 * MS, .conn_id = 7, .cmd = CT_SMB2_CHANGE_NOTIFY } },
		{ { SES, 13, 0, 0 }, { .enter_ns = 99 * MS, .conn_id = 8, .cmd = CT_SMB2_READ } },
		{ { SES, 14, 0, 0 }, { .enter_ns = 10 * MS, .conn_id = 0, .cmd = CT_SMB2_READ } },
	};
	size_t n;

	s.req = reqs;
	s.nreq = sizeof(reqs) / sizeof(reqs[0]);
	n = snapshot_oldest(&s, 5 * MS, out, 4);
	assert_int_equal(n, 1);		/* conn 8's is too young, conn 0 unknown */
	assert_int_equal(out[0].type, CT_EV_INFLIGHT);
	assert_int_equal(out[0].mid, 11);	/* not the older CHANGE_NOTIFY */
	assert_int_equal(out[0].latency_ns, 80 * MS);
	assert_true(out[0].flags & CT_F_ACKED);
	assert_int_equal(out[0].req.network_ns, 1 * MS);
	assert_int_equal(out[0].req.server_ns, 78 * MS);
}

/* libbpf-tools' log2l, clamped: what ct_hist_slot() must equal */
static __u32 slot_ref(__u64 v)
{
	__u32 r = 0;

	while (v >>= 1)
		r++;
	return r < CT_HIST_SLOTS ? r : CT_HIST_SLOTS - 1;
}

/* The BPF side's bucket function (in cifstrace.h), at every edge. */
static void hist_slot_is_floor_log2_clamped(void **state)
{
	__u64 v = 0x9E3779B97F4A7C15ull;

	(void)state;
	assert_int_equal(ct_hist_slot(0), 0);
	assert_int_equal(ct_hist_slot(1), 0);
	assert_int_equal(ct_hist_slot(2), 1);
	assert_int_equal(ct_hist_slot(3), 1);
	assert_int_equal(ct_hist_slot(1023), 9);
	assert_int_equal(ct_hist_slot(1024), 10);
	assert_int_equal(ct_hist_slot((1ull << 26) - 1), 25);
	assert_int_equal(ct_hist_slot(1ull << 26), CT_HIST_SLOTS - 1);
	assert_int_equal(ct_hist_slot(1ull << 62), CT_HIST_SLOTS - 1);
	for (int b = 0; b < 63; b++) {
		__u64 p = 1ull << b;

		assert_int_equal(ct_hist_slot(p), slot_ref(p));
		assert_int_equal(ct_hist_slot(p - 1), slot_ref(p - 1));
		assert_int_equal(ct_hist_slot(p + 1), slot_ref(p + 1));
	}
	for (int i = 0; i < 100000; i++) {
		v ^= v << 13;
		v ^= v >> 7;
		v ^= v << 17;
		/* every magnitude, not only the top bits */
		__u64 x = v >> (v & 63) >> 1;

		assert_int_equal(ct_hist_slot(x), slot_ref(x));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hist_slot_is_floor_log2_clamped),
		cmocka_unit_test(percentiles_fall_in_their_buckets),
		cmocka_unit_test(dominant_part_is_the_largest_sum),
		cmocka_unit_test(answers_that_carry_the_ack_are_not_split),
		cmocka_unit_test(debugdata_names_connections_made_before_start),
		cmocka_unit_test(interval_is_the_difference_of_cumulative_snapshots),
		cmocka_unit_test(filters_select_server_share_and_command),
		cmocka_unit_test(text_prints_libbpf_tools_histograms),
		cmocka_unit_test(json_has_one_object_per_row_with_the_contract_fields),
		cmocka_unit_test(hostile_names_are_escaped),
		cmocka_unit_test(slow_record_names_its_share_and_split),
		cmocka_unit_test(oldest_in_flight_per_connection),
	};

	return cmocka_run_group_tests_name("latency", tests, NULL, NULL);
}
