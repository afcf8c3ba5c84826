// SPDX-License-Identifier: GPL-2.0
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

static struct ct_event base(__u32 type)
{
	struct ct_event e = {
		.ts_ns = 5000123456ull,
		.type = type,
		.pid = 4242,
		.conn_id = 7,
	};

	strcpy(e.comm, "mount.cifs");
	strcpy(e.server, "fs1.example.com");
	e.daddr.family = AF_INET;
	e.daddr.port = 445;
	memcpy(e.daddr.addr, "\x7f\x00\x00\x01", 4);
	e.flags = CT_F_ADDR;
	return e;
}

/* Render e as a JSON line and parse it back. */
static json_t *round_trip(const struct ct_event *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_error_t err;
	json_t *o;

	assert_non_null(f);
	render_json_event(f, e);
	fclose(f);
	assert_true(len > 0 && buf[len - 1] == '\n');
	assert_null(memchr(buf, '\n', len - 1));	/* exactly one line */
	o = json_loads(buf, 0, &err);
	free(buf);
	assert_non_null(o);
	return o;
}

static char *text_line(const struct ct_event *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	render_text_event(f, e, 5000000000ull);
	fclose(f);
	return buf;
}

static const char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	assert_non_null(v);
	assert_true(json_is_string(v));
	return json_string_value(v);
}

static json_int_t num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	assert_non_null(v);
	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static void common_fields_are_always_present(void **state)
{
	struct ct_event e = base(CT_EV_CONNECT);
	json_t *o;

	e.connect.result = CT_CONNECT_REFUSED;
	e.rc = -111;
	e.flags |= CT_F_RC | CT_F_DURATION;
	e.duration_ns = 84000;
	o = round_trip(&e);
	assert_int_equal(num(o, "ts_us"), 5000123);
	assert_string_equal(str(o, "event"), "connect");
	assert_int_equal(num(o, "pid"), 4242);
	assert_string_equal(str(o, "comm"), "mount.cifs");
	assert_string_equal(str(o, "server"), "fs1.example.com");
	assert_string_equal(str(o, "server_addr"), "127.0.0.1:445");
	assert_int_equal(num(o, "conn_id"), 7);
	assert_int_equal(num(o, "session_id"), 0);
	assert_int_equal(num(o, "tree_id"), 0);
	assert_true(json_is_null(json_object_get(o, "latency_us")));
	assert_int_equal(num(o, "rc"), -111);
	assert_string_equal(str(o, "rc_name"), "ECONNREFUSED");
	assert_string_equal(str(o, "result"), "refused");
	assert_int_equal(num(o, "duration_us"), 84);
	/* connect carries no SMB status */
	assert_null(json_object_get(o, "status"));
	assert_null(json_object_get(o, "status_name"));
	json_decref(o);
}

static void status_is_hex_and_named(void **state)
{
	struct ct_event e = base(CT_EV_TREE_CONNECT);
	json_t *o;

	e.status = 0xC00000CC;
	e.rc = -2;
	e.latency_ns = 1234567;
	e.flags |= CT_F_STATUS | CT_F_RC | CT_F_LATENCY;
	strcpy(e.tree.unc, "\\\\fs1\\nosuch");
	o = round_trip(&e);
	assert_string_equal(str(o, "status"), "0xC00000CC");
	assert_string_equal(str(o, "status_name"), "STATUS_BAD_NETWORK_NAME");
	assert_int_equal(num(o, "latency_us"), 1234);
	assert_string_equal(str(o, "share"), "\\\\fs1\\nosuch");
	assert_false(json_is_true(json_object_get(o, "ipc")));
	json_decref(o);
}

static void success_status_is_zero_hex(void **state)
{
	struct ct_event e = base(CT_EV_NEGOTIATE);
	json_t *o;

	e.flags |= CT_F_STATUS;
	e.negotiate.dialect = 0x0311;
	e.negotiate.capabilities = 0x40;
	e.negotiate.security_mode = 0x2;
	o = round_trip(&e);
	assert_string_equal(str(o, "status"), "0x00000000");
	assert_string_equal(str(o, "status_name"), "STATUS_SUCCESS");
	assert_string_equal(str(o, "dialect"), "3.1.1");
	assert_true(json_is_true(json_object_get(o, "encryption_capable")));
	assert_true(json_is_true(json_object_get(o, "signing_required")));
	json_decref(o);
}

static void unknown_status_keeps_its_hex(void **state)
{
	struct ct_event e = base(CT_EV_RESPONSE);
	json_t *o;

	e.status = 0xC0DEC0DE;
	e.flags |= CT_F_STATUS;
	o = round_trip(&e);
	assert_string_equal(str(o, "status"), "0xC0DEC0DE");
	assert_string_equal(str(o, "status_name"), "0xC0DEC0DE");
	json_decref(o);
}

static void ipc_tree_connect_is_marked(void **state)
{
	struct ct_event e = base(CT_EV_TREE_CONNECT);
	json_t *o;

	strcpy(e.tree.unc, "\\\\127.0.0.1\\IPC$");
	o = round_trip(&e);
	assert_true(json_is_true(json_object_get(o, "ipc")));
	json_decref(o);
}

static void session_round_names_user_domain_mechanism(void **state)
{
	struct ct_event e = base(CT_EV_SESSION_SETUP);
	json_t *o;

	e.round = 1;
	e.status = 0xC0000016;
	e.flags |= CT_F_STATUS;
	e.session.mech = CT_MECH_NTLMSSP;
	strcpy(e.session.user, "alice");
	strcpy(e.session.domain, "CORP");
	o = round_trip(&e);
	assert_string_equal(str(o, "user"), "alice");
	assert_string_equal(str(o, "domain"), "CORP");
	assert_string_equal(str(o, "mechanism"), "ntlmssp");
	assert_int_equal(num(o, "round"), 1);
	assert_false(json_is_true(json_object_get(o, "final")));
	assert_string_equal(str(o, "status_name"), "STATUS_MORE_PROCESSING_REQUIRED");
	json_decref(o);
}

/* A share or user name crafted to break a JSON or terminal consumer. */
static const char hostile[] = "x\"}\n{\"event\":\"fake\\\x1b[2J\x07\xff\xfe\xc2\x9b";

static void hostile_strings_stay_inside_their_json_field(void **state)
{
	struct ct_event e = base(CT_EV_SESSION_SETUP);
	json_t *o;

	strcpy(e.session.user, hostile);
	strcpy(e.server, hostile);
	o = round_trip(&e);
	assert_string_equal(str(o, "event"), "session_setup");
	/* valid UTF-8 survives byte for byte, invalid bytes become \xNN text */
	assert_string_equal(str(o, "user"),
			    "x\"}\n{\"event\":\"fake\\\x1b[2J\x07\\xff\\xfe\xc2\x9b");
	assert_string_equal(str(o, "server"), str(o, "user"));
	json_decref(o);
}

static void hostile_strings_cannot_reach_the_terminal_raw(void **state)
{
	struct ct_event e = base(CT_EV_TREE_CONNECT);
	char *line;

	strcpy(e.tree.unc, hostile);
	strcpy(e.comm, "m\x1b]0;pwn\x07");
	line = text_line(&e);
	for (const unsigned char *p = (const unsigned char *)line; *p; p++) {
		if (*p == '\n') {
			assert_int_equal(p[1], '\0');	/* one line, at the end */
			continue;
		}
		assert_true(*p >= 0x20 && *p != 0x7f);
		assert_false(*p == 0xc2 && p[1] == 0x9b);
	}
	assert_non_null(strstr(line, "\\x1b[2J"));
	assert_non_null(strstr(line, "\\xff\\xfe"));
	free(line);
}

static void text_line_shows_relative_time_status_name_and_hex(void **state)
{
	struct ct_event e = base(CT_EV_SESSION_SETUP);
	char *line;

	e.status = 0xC000006D;
	e.rc = -13;
	e.latency_ns = 2500000;
	e.flags |= CT_F_STATUS | CT_F_RC | CT_F_LATENCY;
	e.round = 2;
	strcpy(e.session.user, "alice");
	line = text_line(&e);
	assert_non_null(strstr(line, "    0.000123 "));
	assert_non_null(strstr(line, "STATUS_LOGON_FAILURE(0xC000006D)"));
	assert_non_null(strstr(line, "rc=-13(EACCES)"));
	assert_non_null(strstr(line, "latency=2500us"));
	assert_non_null(strstr(line, "user=alice"));
	assert_non_null(strstr(line, "fs1.example.com"));
	free(line);
}

/* vers= as the mount named it; the kernel's default is not one. */
static void mount_line_shows_the_vers_asked(void **state)
{
	static const struct { char raw[4]; const char *text, *json; } c[] = {
		{ "1.0", " vers=1.0", "1.0" },
		{ "3.1.", " vers=3.1.1", "3.1.1" },
		{ "3.02", " vers=3.02", "3.02" },
		{ "defa", NULL, "default" },
		{ "", NULL, NULL },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct ct_event e = base(CT_EV_MOUNT);
		char *line;
		json_t *o;

		strcpy(e.mount.unc, "\\\\fs1\\data");
		memcpy(e.mount.vers, c[i].raw, 4);
		line = text_line(&e);
		o = round_trip(&e);
		if (c[i].text)
			assert_non_null(strstr(line, c[i].text));
		else
			assert_null(strstr(line, "vers="));
		if (c[i].json)
			assert_string_equal(str(o, "vers"), c[i].json);
		else
			assert_null(json_object_get(o, "vers"));
		json_decref(o);
		free(line);
	}
}

/* seal, when the mount asked for encryption */
static void mount_line_shows_seal(void **state)
{
	struct ct_event e = base(CT_EV_MOUNT);
	char *line;
	json_t *o;

	strcpy(e.mount.unc, "\\\\fs1\\data");
	line = text_line(&e);
	o = round_trip(&e);
	assert_null(strstr(line, " seal"));
	assert_null(json_object_get(o, "seal"));
	json_decref(o);
	free(line);
	e.flags |= CT_F_SEAL;
	line = text_line(&e);
	o = round_trip(&e);
	assert_non_null(strstr(line, " seal"));
	assert_true(json_is_true(json_object_get(o, "seal")));
	json_decref(o);
	free(line);
}

static void text_line_for_every_event_type(void **state)
{
	for (__u32 t = CT_EV_CONNECT; t < CT_EV_TYPE_MAX; t++) {
		struct ct_event e = base(t);
		char *line = text_line(&e);
		json_t *o = round_trip(&e);

		assert_non_null(strstr(line, str(o, "event")));
		assert_string_not_equal(str(o, "event"), "unknown");
		json_decref(o);
		free(line);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(common_fields_are_always_present),
		cmocka_unit_test(status_is_hex_and_named),
		cmocka_unit_test(success_status_is_zero_hex),
		cmocka_unit_test(unknown_status_keeps_its_hex),
		cmocka_unit_test(ipc_tree_connect_is_marked),
		cmocka_unit_test(session_round_names_user_domain_mechanism),
		cmocka_unit_test(hostile_strings_stay_inside_their_json_field),
		cmocka_unit_test(hostile_strings_cannot_reach_the_terminal_raw),
		cmocka_unit_test(text_line_shows_relative_time_status_name_and_hex),
		cmocka_unit_test(mount_line_shows_the_vers_asked),
		cmocka_unit_test(mount_line_shows_seal),
		cmocka_unit_test(text_line_for_every_event_type),
	};

	return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
