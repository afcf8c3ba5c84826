// SPDX-License-Identifier: GPL-2.0
/*
 * The exporter's pure half: kernel snapshots -> latency report deltas ->
 * cumulative Prometheus series, and the HTTP request parser. The rendered
 * exposition of the richest case is written to $METRICS_SAMPLE (when set)
 * so that tests/run-contrib.sh can have promtool check it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "http.h"
#include "latency.h"
#include "metrics.h"
#include "snapshot.h"

#define MS 1000000ull
#define STATUS_ACCESS_DENIED 0xC0000022u
#define CONN 7
#define SES 0xa5ull
#define TID 0x34u

static struct snapshot snap(__u64 ts, __u64 creates, __u64 denied, __u64 read_bytes)
{
	struct snapshot s = { .ts_ns = ts };

	s.hist = calloc(1, sizeof(*s.hist));
	s.nhist = 1;
	s.hist[0].k = (struct ct_hist_key){ CONN, SES, TID, CT_SMB2_CREATE };
	s.hist[0].v.count = creates;
	s.hist[0].v.errors = denied;
	s.hist[0].v.total_ns = creates * 3 * MS;
	s.hist[0].v.max_ns = 3 * MS;
	s.hist[0].v.slots[11] = creates;	/* 3 ms: [2048, 4096) µs */
	s.hist[0].v.sent_count = creates;
	s.hist[0].v.queue_ns = creates * MS / 10;
	s.err = calloc(1, sizeof(*s.err));
	s.nerr = 1;
	s.err[0].k.h = s.hist[0].k;
	s.err[0].k.status = STATUS_ACCESS_DENIED;
	s.err[0].n = denied;
	s.io = calloc(1, sizeof(*s.io));
	s.nio = 1;
	s.io[0].k = (struct ct_tree_key){ SES, TID, 0 };
	s.io[0].v.read_bytes = read_bytes;
	s.conn = calloc(1, sizeof(*s.conn));
	s.nconn = 1;
	s.conn[0].conn_id = CONN;
	s.conn[0].has_info = s.conn[0].has_stats = true;
	snprintf(s.conn[0].info.host, sizeof(s.conn[0].info.host), "fs1");
	s.conn[0].st.reconnects = 1;
	return s;
}

static struct names names_with(const char *unc)
{
	struct names n = {};

	names_add_share(&n, SES, TID, unc);
	return n;
}

/* Feed snapshot cur (after prev) into m. */
static void feed(struct metrics *m, const struct snapshot *cur, const struct snapshot *prev,
		 const struct names *n)
{
	struct lat_filter all = { .cmd = -1 };
	struct lat_report r;

	assert_int_equal(lat_report_build(cur, prev, n, &all, &r), 0);
	assert_int_equal(metrics_add_report(m, &r), 0);
	lat_report_free(&r);
}

static char *render(const struct metrics *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(metrics_render(f, m), 0);
	fclose(f);
	return buf;
}

/* The value of the series that starts exactly with prefix, -1 if absent. */
static double value(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, prefix, n) && l[n] == ' ')
			return strtod(l + n + 1, NULL);
	return -1;
}

#define DATA "server=\"fs1\",share=\"\\\\\\\\fs1\\\\data\""

static void test_counters_cumulative_across_scrapes(void **state)
{
	struct metrics *m = metrics_new(100, "0.1", "6.1.0-test");
	struct names n = names_with("\\\\fs1\\data");
	struct snapshot s0 = {}, s1 = snap(1000 * MS, 10, 2, 4096), s2 = snap(2000 * MS, 25, 3, 8192);
	char *t;
	FILE *out;

	feed(m, &s1, &s0, &n);
	feed(m, &s2, &s1, &n);
	t = render(m);
	assert_true(value(t, "cifs_requests_total{" DATA ",command=\"CREATE\"}") == 25);
	assert_true(value(t, "cifs_request_errors_total{" DATA
			     ",command=\"CREATE\",status=\"STATUS_ACCESS_DENIED\"}") == 3);
	/* cumulative buckets: nothing below 2.048 ms, all 25 from 4.096 ms on */
	assert_true(value(t, "cifs_request_duration_seconds_bucket{" DATA
			     ",command=\"CREATE\",le=\"0.002048\"}") == 0);
	assert_true(value(t, "cifs_request_duration_seconds_bucket{" DATA
			     ",command=\"CREATE\",le=\"0.004096\"}") == 25);
	assert_true(value(t, "cifs_request_duration_seconds_bucket{" DATA
			     ",command=\"CREATE\",le=\"+Inf\"}") == 25);
	assert_true(value(t, "cifs_request_duration_seconds_sum{" DATA ",command=\"CREATE\"}") ==
		    0.075);
	assert_true(value(t, "cifs_request_queue_seconds_total{" DATA ",command=\"CREATE\"}") ==
		    0.0025);
	assert_true(value(t, "cifs_read_bytes_total{" DATA "}") == 8192);
	assert_true(value(t, "cifs_reconnects_total{server=\"fs1\"}") == 1);
	assert_true(value(t, "cifstrace_build_info{version=\"0.1\",kernel=\"6.1.0-test\"}") == 1);
	/* one HELP and TYPE per family */
	assert_non_null(strstr(t, "# TYPE cifs_request_duration_seconds histogram\n"));
	assert_null(strstr(strstr(t, "# TYPE cifs_requests_total") + 1, "# TYPE cifs_requests_total"));

	/* the richest sample, for promtool (tests/run-contrib.sh) */
	if (getenv("METRICS_SAMPLE") && (out = fopen(getenv("METRICS_SAMPLE"), "w"))) {
		fputs(t, out);
		fclose(out);
	}
	free(t);
	snapshot_free(&s1);
	snapshot_free(&s2);
	names_free(&n);
	metrics_free(m);
}

/* A kernel entry that goes away and comes back smaller never takes a
 * counter down: what it had is kept, what it counts again is added. */
static void test_entry_reset_keeps_counter_monotonic(void **state)
{
	struct metrics *m = metrics_new(100, "0.1", "k");
	struct names n = names_with("\\\\fs1\\data");
	struct snapshot s0 = {}, s1 = snap(1 * MS, 10, 0, 0), gone = { .ts_ns = 2 * MS },
			s3 = snap(3 * MS, 4, 0, 0);
	char *t;

	feed(m, &s1, &s0, &n);
	feed(m, &gone, &s1, &n);
	feed(m, &s3, &gone, &n);
	t = render(m);
	assert_true(value(t, "cifs_requests_total{" DATA ",command=\"CREATE\"}") == 14);
	free(t);
	snapshot_free(&s1);
	snapshot_free(&s3);
	names_free(&n);
	metrics_free(m);
}

/* Hostile names: quotes, backslashes, newlines and terminal escapes never
 * break a line of the exposition or reach a terminal raw. */
static void test_label_values_escaped(void **state)
{
	struct metrics *m = metrics_new(100, "0.1", "k");
	struct names n = names_with("\\\\fs1\\a\"b\nc\x1b[31md");
	struct snapshot s0 = {}, s1 = snap(1 * MS, 1, 0, 0);
	char *t;

	feed(m, &s1, &s0, &n);
	t = render(m);
	assert_true(value(t, "cifs_requests_total{server=\"fs1\",share=\"\\\\\\\\fs1\\\\a\\\"b"
			     "\\\\x0ac\\\\x1b[31md\",command=\"CREATE\"}") == 1);
	assert_null(strchr(t, '\x1b'));
	free(t);
	snapshot_free(&s1);
	names_free(&n);
	metrics_free(m);
}

/* Beyond --max-series, new shares count under "(other)", and each row
 * folded is counted. */
static void test_max_series_folds_into_other(void **state)
{
	struct metrics *m = metrics_new(1, "0.1", "k");
	struct lat_report r = {};
	struct lat_row rows[3] = {};
	char *t;

	for (int i = 0; i < 3; i++) {
		snprintf(rows[i].server, sizeof(rows[i].server), "fs1");
		snprintf(rows[i].share, sizeof(rows[i].share), "\\\\fs1\\s%d", i);
		rows[i].cmd = CT_SMB2_READ;
		rows[i].h.count = 1 + i;
	}
	r.row = rows;
	r.nrow = 3;
	assert_int_equal(metrics_add_report(m, &r), 0);
	t = render(m);
	assert_true(value(t, "cifs_requests_total{server=\"fs1\",share=\"\\\\\\\\fs1\\\\s0\","
			     "command=\"READ\"}") == 1);
	assert_true(value(t, "cifs_requests_total{server=\"fs1\",share=\"(other)\","
			     "command=\"READ\"}") == 5);
	assert_true(value(t, "cifstrace_label_overflow_total") == 2);
	free(t);
	metrics_free(m);
}

static void test_mount_attempts_and_hung_gauge(void **state)
{
	struct metrics *m = metrics_new(100, "0.1", "k");
	struct diagnosis d = { .outcome = OUTCOME_HUNG, .class = "negotiate-no-response",
			       .server = "fs2", .share = "\\\\fs2\\x", .duration_ns = 5000 * MS };
	char *t;

	assert_int_equal(metrics_add_attempt(m, 1, &d), 0);
	t = render(m);
	assert_true(value(t, "cifs_mounts_hung{server=\"fs2\",share=\"\\\\\\\\fs2\\\\x\","
			     "class=\"negotiate-no-response\"}") == 1);
	assert_true(value(t, "cifs_mount_attempts_total{server=\"fs2\",share=\"\\\\\\\\fs2\\\\x\","
			     "outcome=\"failed\",class=\"negotiate-no-response\"}") == -1);
	free(t);
	d.outcome = OUTCOME_FAILED;
	d.duration_ns = 65000 * MS;
	assert_int_equal(metrics_add_attempt(m, 1, &d), 0);
	d.outcome = OUTCOME_OK;
	d.class = "ok";
	d.duration_ns = 30 * MS;
	assert_int_equal(metrics_add_attempt(m, 2, &d), 0);
	t = render(m);
	assert_true(value(t, "cifs_mounts_hung{server=\"fs2\",share=\"\\\\\\\\fs2\\\\x\","
			     "class=\"negotiate-no-response\"}") == -1);
	assert_true(value(t, "cifs_mount_attempts_total{server=\"fs2\",share=\"\\\\\\\\fs2\\\\x\","
			     "outcome=\"failed\",class=\"negotiate-no-response\"}") == 1);
	assert_true(value(t, "cifs_mount_duration_seconds_bucket{server=\"fs2\",outcome=\"failed\","
			     "le=\"60\"}") == 0);
	assert_true(value(t, "cifs_mount_duration_seconds_bucket{server=\"fs2\",outcome=\"failed\","
			     "le=\"120\"}") == 1);
	assert_true(value(t, "cifs_mount_duration_seconds_bucket{server=\"fs2\",outcome=\"ok\","
			     "le=\"0.05\"}") == 1);
	assert_true(value(t, "cifs_mount_duration_seconds_count{server=\"fs2\",outcome=\"ok\"}") == 1);
	free(t);
	metrics_free(m);
}

/* The in-flight gauges follow the latest report: a hang, then none. */
static void test_in_flight_gauges(void **state)
{
	struct metrics *m = metrics_new(100, "0.1", "k");
	struct lat_server sv = { .server = "fs1", .in_flight = 2, .oldest_ns = 12500 * MS };
	struct lat_report r = { .server = &sv, .nserver = 1 };
	char *t;

	assert_int_equal(metrics_add_report(m, &r), 0);
	t = render(m);
	assert_true(value(t, "cifs_requests_in_flight{server=\"fs1\"}") == 2);
	assert_true(value(t, "cifs_oldest_request_age_seconds{server=\"fs1\"}") == 12.5);
	free(t);
	r.nserver = 0;
	assert_int_equal(metrics_add_report(m, &r), 0);
	t = render(m);
	assert_true(value(t, "cifs_requests_in_flight{server=\"fs1\"}") == 0);
	assert_true(value(t, "cifs_oldest_request_age_seconds{server=\"fs1\"}") == 0);
	free(t);
	metrics_free(m);
}

static int parse(const char *req, char *path, int *head)
{
	return http_parse_request(req, strlen(req), path, 64, head);
}

static void test_http_parse(void **state)
{
	char path[64];
	int head;

	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", path, &head), 200);
	assert_string_equal(path, "/metrics");
	assert_int_equal(head, 0);
	assert_int_equal(parse("HEAD /metrics?x=1 HTTP/1.0\r\n\r\n", path, &head), 200);
	assert_string_equal(path, "/metrics");
	assert_int_equal(head, 1);
	assert_int_equal(parse("POST /metrics HTTP/1.1\r\n\r\n", path, &head), 405);
	assert_int_equal(parse("GET /metrics HTTP/2.0\r\n\r\n", path, &head), 505);
	assert_int_equal(parse("GET metrics HTTP/1.1\r\n\r\n", path, &head), 400);
	assert_int_equal(parse("GET /metrics\r\n\r\n", path, &head), 400);
	assert_int_equal(parse("GET  /metrics HTTP/1.1\r\n\r\n", path, &head), 400);
	assert_int_equal(parse("GET /me\x01trics HTTP/1.1\r\n\r\n", path, &head), 400);
	assert_int_equal(parse("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\n", path, &head), 400);
	assert_int_equal(parse("GET /metrics HTTP/1.1", path, &head), 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_cumulative_across_scrapes),
		cmocka_unit_test(test_entry_reset_keeps_counter_monotonic),
		cmocka_unit_test(test_label_values_escaped),
		cmocka_unit_test(test_max_series_folds_into_other),
		cmocka_unit_test(test_mount_attempts_and_hung_gauge),
		cmocka_unit_test(test_in_flight_gauges),
		cmocka_unit_test(test_http_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
