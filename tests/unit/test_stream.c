// SPDX-License-Identifier: GPL-2.0
/* The recorded stream: exact round trips, and bad input rejected by line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "render.h"
#include "stream.h"

#define HEADER "{\"format\":\"cifstrace-events\",\"version\":1,\"kernel\":\"6.12\",\"host\":\"h\"}\n"

/* Every field the writer emits, set, for each event type. */
static struct ct_event full(__u32 type)
{
	struct ct_event e = {
		.ts_ns = 123456789000ull, .type = type, .pid = 77, .conn_id = 3,
		.sesid = 0x1122334455ull, .tid = 9, .mid = 42,
		.flags = CT_F_STATUS | CT_F_RC | CT_F_LATENCY | CT_F_DURATION | CT_F_ADDR,
		.status = 0xC000006D, .rc = -13, .latency_ns = 812000, .duration_ns = 9000,
	};

	strcpy(e.comm, "mount.cifs");
	strcpy(e.server, "srv.example.com");
	e.daddr = (struct ct_addr){ .family = AF_INET, .port = 445, .addr = { 10, 1, 2, 3 } };
	switch (type) {
	case CT_EV_CONNECT:
		e.connect.result = CT_CONNECT_REFUSED;
		e.saddr = (struct ct_addr){ .family = AF_INET6, .port = 51000,
					    .addr = { 0xfe, 0x80, [15] = 1 } };
		break;
	case CT_EV_REQUEST: case CT_EV_ACK:
		e.cmd = 5;
		break;
	case CT_EV_RESPONSE: case CT_EV_INFLIGHT:
		e.cmd = 5;
		e.flags |= CT_F_SENT | CT_F_ACKED | CT_F_SLOW;
		e.req.queue_ns = 3000;
		e.req.network_ns = 150000;
		e.req.server_ns = 659000;
		if (type == CT_EV_RESPONSE)	/* (in-flight records have none) */
			strcpy(e.req.path, "dir\\report.txt");
		break;
	case CT_EV_NEGOTIATE:
		e.cmd = CT_SMB2_NEGOTIATE;
		e.negotiate.dialect = 0x0302;
		e.negotiate.capabilities = 0x47;
		e.negotiate.security_mode = 3;
		break;
	case CT_EV_SESSION_SETUP:
		e.cmd = CT_SMB2_SESSION_SETUP;
		e.round = 2;
		e.flags |= CT_F_FINAL;
		e.session.session_flags = 4;
		/* fall through */
	case CT_EV_UPCALL:
		e.session.mech = CT_MECH_KERBEROS;
		strcpy(e.session.user, "alice");
		strcpy(e.session.domain, "CORP");
		break;
	case CT_EV_TREE_CONNECT:
		e.cmd = CT_SMB2_TREE_CONNECT;
		strcpy(e.tree.unc, "\\\\srv\\data");
		e.tree.share_flags = 0x8000;
		e.tree.seal = 1;
		e.tree.dialect = 0x0302;
		e.tree.capabilities = 0x00300047;
		break;
	case CT_EV_TCP_RESET:
		e.flags |= CT_F_RST_SENT;
		/* fall through */
	case CT_EV_TCP_RETRANSMIT: case CT_EV_TCP_FIN:
		e.tcp.state = 8;
		e.saddr = (struct ct_addr){ .family = AF_INET, .port = 40000, .addr = { 10, 0, 0, 9 } };
		break;
	case CT_EV_MOUNT:
		strcpy(e.mount.unc, "\\\\srv\\data");
		strcpy(e.mount.user, "alice");
		e.mount.port = 4455;
		memcpy(e.mount.vers, "3.1.", 4);	/* 3.1.1: 4 bytes kept */
		e.flags |= CT_F_SEAL;
		break;
	case CT_EV_MOUNT_DONE:
		strcpy(e.mount_done.source, "//srv/data/dir/sub");
		break;
	case CT_EV_KDC:
		e.kdc.kind = CT_KDC_REPLY;
		e.kdc.proto = 6;
		e.kdc.msg = CT_KRB_ERROR;
		e.kdc.msg_len = 500;
		e.kdc.data_len = 4;
		memcpy(e.kdc.data, "\x7e\x82\x01\xf0", 4);
		e.saddr = (struct ct_addr){ .family = AF_INET, .port = 40001, .addr = { 10, 0, 0, 9 } };
		break;
	}
	return e;
}

static json_t *to_json(const struct ct_event *e)
{
	return event_to_json(e);
}

static void every_event_type_round_trips_exactly(void **state)
{
	for (__u32 t = CT_EV_CONNECT; t < CT_EV_TYPE_MAX; t++) {
		struct ct_event in = full(t), out;
		json_t *o = to_json(&in);
		char *s = json_dumps(o, 0), err[200];
		json_t *back = json_loads(s, 0, NULL);

		if (t == CT_EV_LOST) {
			/* carries only its count and time */
			in = (struct ct_event){ .ts_ns = in.ts_ns, .type = t, .mid = 5 };
			json_decref(back);
			free(s);
			json_decref(o);
			o = to_json(&in);
			s = json_dumps(o, 0);
			back = json_loads(s, 0, NULL);
		}
		assert_int_equal(event_from_json(back, &out, err, sizeof(err)), 0);
		if (t != CT_EV_LOST) {
			/* fields the writer does not print for this type read back as 0 */
			struct ct_event want = in;
			json_t *again = to_json(&out);

			assert_true(json_equal(o, again));
			json_decref(again);
			(void)want;
		}
		assert_int_equal(out.type, in.type);
		assert_int_equal(out.ts_ns, in.ts_ns);
		json_decref(back);
		json_decref(o);
		free(s);
	}
}

static void hostile_bytes_round_trip_exactly(void **state)
{
	struct ct_event in = full(CT_EV_TREE_CONNECT), out;
	const char unc[] = "\\\\srv\\x41\xff\xfe\x01\"}\n\\xff";
	char err[200];
	json_t *o, *back;
	char *s;

	memcpy(in.tree.unc, unc, sizeof(unc));
	o = to_json(&in);
	s = json_dumps(o, 0);
	back = json_loads(s, 0, NULL);
	assert_non_null(back);
	assert_int_equal(event_from_json(back, &out, err, sizeof(err)), 0);
	assert_memory_equal(out.tree.unc, unc, sizeof(unc));
	json_decref(o);
	json_decref(back);
	free(s);
}

/* A path from the kernel is untrusted too: escaped out, the same bytes back. */
static void hostile_path_round_trips_exactly(void **state)
{
	struct ct_event in = full(CT_EV_RESPONSE), out;
	const char path[] = "a\\\x1b[31m\xe2\x80\xae\xff\"}";
	char err[200], *s;
	json_t *o, *back;

	memset(in.req.path, 0, sizeof(in.req.path));
	memcpy(in.req.path, path, sizeof(path));
	o = to_json(&in);
	s = json_dumps(o, 0);
	assert_null(strchr(s, '\x1b'));
	back = json_loads(s, 0, NULL);
	assert_non_null(back);
	assert_int_equal(event_from_json(back, &out, err, sizeof(err)), 0);
	assert_memory_equal(out.req.path, path, sizeof(path));
	json_decref(o);
	json_decref(back);
	free(s);
}

/* Run the reader over text; return its result and the error text. */
static int read_all(const char *text, char *err, size_t errlen, int *events)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct stream_reader r;
	struct ct_event e;
	int n;

	*events = 0;
	n = stream_open(&r, f, "rec.jsonl");
	while (n == 0 && (n = stream_next(&r, &e)) > 0) {
		(*events)++;
		n = 0;
	}
	snprintf(err, errlen, "%s", n < 0 ? r.err : "");
	stream_close(&r);
	fclose(f);
	return n;
}

static void expect_error(const char *text, const char *what)
{
	char err[400];
	int events;

	assert_int_equal(read_all(text, err, sizeof(err), &events), -1);
	if (!strstr(err, what))
		fail_msg("error \"%s\" does not contain \"%s\"", err, what);
}

static void a_good_recording_reads(void **state)
{
	char err[400];
	int events;

	assert_int_equal(read_all(HEADER
				  "{\"ts_us\":1,\"event\":\"mount\",\"pid\":5,\"share\":\"\\\\\\\\s\\\\d\"}\n"
				  "{\"ts_us\":2,\"event\":\"mount_done\",\"pid\":5,\"rc\":-2}\n",
				  err, sizeof(err), &events), 0);
	assert_int_equal(events, 2);
}

/* A response whose answer carried the ACK: one network+server figure. */
static void joint_split_round_trips(void **state)
{
	struct ct_event in = full(CT_EV_RESPONSE), out;
	char err[200];
	json_t *o;

	in.flags &= ~CT_F_ACKED;
	in.flags |= CT_F_JOINT;
	in.req.server_ns = 0;
	o = to_json(&in);
	assert_true(json_is_null(json_object_get(o, "network_us")));
	assert_int_equal(json_integer_value(json_object_get(o, "network_server_us")), 150);
	assert_int_equal(event_from_json(o, &out, err, sizeof(err)), 0);
	assert_true(out.flags & CT_F_JOINT);
	assert_false(out.flags & CT_F_ACKED);
	assert_int_equal(out.req.network_ns, 150000);
	assert_int_equal(out.req.queue_ns, 3000);
	json_decref(o);
}

static void bad_input_is_rejected_naming_the_line(void **state)
{
	expect_error("", "rec.jsonl:0: empty input");
	expect_error("{\"ts_us\":1,\"event\":\"mount\"}\n", "rec.jsonl:1: not a cifstrace recording");
	expect_error("{\"format\":\"cifstrace-events\",\"version\":7}\n", "unsupported recording version");
	expect_error(HEADER "{\"ts_us\":1,\"event\":\"mount\"}\n{\"ts_us\":2,\n", "rec.jsonl:3: not valid JSON");
	expect_error(HEADER "{\"ts_us\":1,\"event\":\"mount\"}", "rec.jsonl:2: truncated line");
	expect_error(HEADER "[1,2]\n", "rec.jsonl:2: not a JSON object");
	expect_error(HEADER "{\"event\":\"mount\"}\n", "missing field 'ts_us'");
	expect_error(HEADER "{\"ts_us\":1}\n", "missing field 'event'");
	expect_error(HEADER "{\"ts_us\":1,\"event\":\"explode\"}\n", "unknown value \"explode\"");
	expect_error(HEADER "{\"ts_us\":-5,\"event\":\"mount\"}\n", "out of range");
	expect_error(HEADER "{\"ts_us\":\"1\",\"event\":\"mount\"}\n", "'ts_us' must be an integer");
	expect_error(HEADER "{\"ts_us\":1,\"event\":\"mount\",\"pid\":99999999999}\n", "'pid' out of range");
	expect_error(HEADER "{\"ts_us\":1,\"event\":\"response\",\"cmd\":\"READ\",\"status\":\"C000\"}\n",
		     "'status' must be a hex string");
	expect_error(HEADER "{\"ts_us\":1,\"event\":\"response\"}\n", "missing field 'cmd'");
	expect_error(HEADER "{\"ts_us\":1,\"event\":\"connect\",\"result\":\"ok\",\"server_addr\":\"nowhere\"}\n",
		     "'server_addr' must be ADDRESS:PORT");
	expect_error(HEADER "{\"ts_us\":1,\"event\":\"mount\",\"ts_us\":2}\n", "not valid JSON");
	expect_error(HEADER "{\"ts_us\":1,\"event\":\"tcp_reset\",\"direction\":\"sideways\"}\n",
		     "'direction' must be");
	expect_error(HEADER "{\"ts_us\":1,\"event\":\"response\",\"cmd\":\"READ\",\"network_us\":5}\n",
		     "'network_us' and 'server_us' go together");
	expect_error(HEADER "{\"ts_us\":1,\"event\":\"response\",\"cmd\":\"READ\",\"network_us\":5,"
		     "\"server_us\":1,\"network_server_us\":6}\n", "'network_server_us' excludes");
	expect_error(HEADER "{\"ts_us\":1,\"event\":\"mount\",\"vers\":\"3.1.9\"}\n",
		     "field 'vers' has an unknown value \"3.1.9\"");
	expect_error(HEADER "{\"ts_us\":1,\"event\":\"tree_connect\",\"dialect\":\"4.0\"}\n",
		     "field 'dialect' has an unknown value");
}

static void oversized_strings_are_rejected_not_truncated(void **state)
{
	char text[1024];
	char big[300];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(text, sizeof(text), HEADER "{\"ts_us\":1,\"event\":\"mount\",\"share\":\"%s\"}\n", big);
	expect_error(text, "'share' is longer than 159 bytes");
}

static void nul_bytes_are_rejected(void **state)
{
	static const char text[] = HEADER "{\"ts_us\":1,\0\"event\":\"mount\"}\n";
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");
	struct stream_reader r;
	struct ct_event e;

	assert_int_equal(stream_open(&r, f, "x"), 0);
	assert_int_equal(stream_next(&r, &e), -1);
	assert_non_null(strstr(r.err, "NUL byte"));
	stream_close(&r);
	fclose(f);
}

/* An endless line is an error once it passes the limit, memory bounded. */
static void endless_line_is_an_error_early(void **state)
{
	size_t n = 4 * 1024 * 1024;
	char *text = malloc(sizeof(HEADER) + n + 1);

	strcpy(text, HEADER);
	memset(text + strlen(HEADER), 'a', n);
	text[strlen(HEADER) + n] = '\0';
	expect_error(text, "rec.jsonl:2: line too long");
	free(text);
}

/* Input quoted in an error cannot reach the terminal raw. */
static void errors_quoting_input_are_escaped(void **state)
{
	char err[400];
	int events;

	assert_int_equal(read_all(HEADER "{\"ts_us\":1,\"event\":\"\\u001b[2J\\u202e\"}\n",
				  err, sizeof(err), &events), -1);
	assert_null(strchr(err, '\x1b'));
	assert_null(strstr(err, "\xe2\x80\xae"));
	assert_non_null(strstr(err, "\\x1b[2J\\xe2\\x80\\xae"));
	assert_int_equal(read_all(HEADER "{\"ts_us\":1,\"event\":\x1b]0;pwned\x07}\n",
				  err, sizeof(err), &events), -1);
	assert_null(strchr(err, '\x1b'));
	assert_null(strchr(err, '\x07'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_event_type_round_trips_exactly),
		cmocka_unit_test(hostile_bytes_round_trip_exactly),
		cmocka_unit_test(hostile_path_round_trips_exactly),
		cmocka_unit_test(a_good_recording_reads),
		cmocka_unit_test(joint_split_round_trips),
		cmocka_unit_test(bad_input_is_rejected_naming_the_line),
		cmocka_unit_test(oversized_strings_are_rejected_not_truncated),
		cmocka_unit_test(nul_bytes_are_rejected),
		cmocka_unit_test(endless_line_is_an_error_early),
		cmocka_unit_test(errors_quoting_input_are_escaped),
	};

	return cmocka_run_group_tests_name("stream", tests, NULL, NULL);
}
