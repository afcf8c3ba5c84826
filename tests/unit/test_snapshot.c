// SPDX-License-Identifier: GPL-2.0
/*
 * The snapshot built from the kernel's tables: per-CPU histogram entries
 * summed by key wherever each CPU put them, and the requests in flight
 * read from the in-flight array (free slots skipped).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "ntstatus.h"
#include "snapshot.h"

static struct ct_hist_entry entry(__u64 conn, __u32 tid, __u32 cmd, __u64 count, __u64 max_ns,
				  int slot)
{
	struct ct_hist_entry e = { .used = 1 };

	e.k.conn_id = conn;
	e.k.sesid = 7;
	e.k.tid = tid;
	e.k.cmd = cmd;
	e.v.count = count;
	e.v.total_ns = count * 1000;
	e.v.max_ns = max_ns;
	e.v.slots[slot] = count;
	return e;
}

static void hists_of_two_cpus_sum_by_key(void **state)
{
	struct snapshot s = {};
	struct ct_hist_entry cpu0[3] = {
		entry(1, 5, CT_SMB2_CREATE, 10, 4000, 2),
		{},				/* unused: skipped */
		entry(1, 5, CT_SMB2_CLOSE, 3, 900, 0),
	};
	/* the second CPU put the same keys in other slots */
	struct ct_hist_entry cpu1[2] = {
		entry(1, 5, CT_SMB2_CLOSE, 2, 1500, 1),
		entry(1, 5, CT_SMB2_CREATE, 4, 9000, 3),
	};

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(snapshot_merge_hist(&s, &cpu0[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(snapshot_merge_hist(&s, &cpu1[i]), 0);
	assert_int_equal(s.nhist, 2);
	for (size_t i = 0; i < s.nhist; i++) {
		const struct snap_hist *h = &s.hist[i];

		if (h->k.cmd == CT_SMB2_CREATE) {
			assert_int_equal(h->v.count, 14);
			assert_int_equal(h->v.total_ns, 14000);
			assert_int_equal(h->v.max_ns, 9000);	/* the larger, not a sum */
			assert_int_equal(h->v.slots[2], 10);
			assert_int_equal(h->v.slots[3], 4);
		} else {
			assert_int_equal(h->k.cmd, CT_SMB2_CLOSE);
			assert_int_equal(h->v.count, 5);
			assert_int_equal(h->v.max_ns, 1500);
		}
	}
	snapshot_free(&s);
}

/* Byte counters: per CPU, summed by tree; two trees of a session apart. */
static void io_of_two_cpus_sum_by_tree(void **state)
{
	struct snapshot s = {};
	struct ct_io_entry e[4] = {};

	(void)state;
	e[0].k.sesid = 7;
	e[0].k.tid = 1;
	e[0].used = 1;
	e[0].v.read_bytes = 4096;
	e[0].v.write_bytes = 10;
	/* e[1] unused: skipped, whatever it holds */
	e[1].v.read_bytes = 1;
	e[2] = e[0];			/* the other CPU, the same tree */
	e[2].v.read_bytes = 100;
	e[2].v.write_bytes = 65536;
	e[3] = e[0];			/* another tree of the session */
	e[3].k.tid = 2;
	e[3].v.read_bytes = 0;
	e[3].v.write_bytes = 5;
	for (int i = 0; i < 4; i++)
		assert_int_equal(snapshot_merge_io(&s, &e[i]), 0);
	assert_int_equal(s.nio, 2);
	for (size_t i = 0; i < s.nio; i++) {
		assert_int_equal(s.io[i].k.sesid, 7);
		if (s.io[i].k.tid == 1) {
			assert_int_equal(s.io[i].v.read_bytes, 4196);
			assert_int_equal(s.io[i].v.write_bytes, 65546);
		} else {
			assert_int_equal(s.io[i].k.tid, 2);
			assert_int_equal(s.io[i].v.read_bytes, 0);
			assert_int_equal(s.io[i].v.write_bytes, 5);
		}
	}
	snapshot_free(&s);
}

/* Error counters: per CPU, summed by key and status; two statuses apart. */
static void errs_of_two_cpus_sum_by_status(void **state)
{
	struct snapshot s = {};
	struct ct_err_entry e[4] = {};
	__u32 not_found, denied;

	(void)state;
	assert_int_equal(ntstatus_by_name("STATUS_OBJECT_NAME_NOT_FOUND", &not_found), 0);
	assert_int_equal(ntstatus_by_name("STATUS_ACCESS_DENIED", &denied), 0);
	e[0].k.h = (struct ct_hist_key){ .conn_id = 3, .sesid = 7, .tid = 1,
					 .cmd = CT_SMB2_CREATE };
	e[0].k.status = not_found;
	e[0].used = 1;
	e[0].v = 5;
	e[1].v = 1000;			/* unused: skipped, whatever it holds */
	e[2] = e[0];			/* the other CPU, the same key and status */
	e[2].v = 2;
	e[3] = e[0];			/* another status of the same key */
	e[3].k.status = denied;
	e[3].v = 1;
	for (int i = 0; i < 4; i++)
		assert_int_equal(snapshot_merge_err(&s, &e[i]), 0);
	assert_int_equal(s.nerr, 2);
	for (size_t i = 0; i < s.nerr; i++) {
		assert_int_equal(s.err[i].k.h.tid, 1);
		assert_int_equal(s.err[i].k.h.cmd, CT_SMB2_CREATE);
		if (s.err[i].k.status == not_found) {
			assert_int_equal(s.err[i].n, 7);
		} else {
			assert_int_equal(s.err[i].k.status, denied);
			assert_int_equal(s.err[i].n, 1);
		}
	}
	snapshot_free(&s);
}

static void many_keys_grow_the_array(void **state)
{
	struct snapshot s = {};

	(void)state;
	for (__u32 tid = 1; tid <= 300; tid++) {
		struct ct_hist_entry e = entry(2, tid, CT_SMB2_READ, 1, 10, 0);

		assert_int_equal(snapshot_merge_hist(&s, &e), 0);
		assert_int_equal(snapshot_merge_hist(&s, &e), 0);
	}
	assert_int_equal(s.nhist, 300);
	for (size_t i = 0; i < s.nhist; i++)
		assert_int_equal(s.hist[i].v.count, 2);
	snapshot_free(&s);
}

static void inflight_slots_skip_the_free(void **state)
{
	struct ct_req slots[8] = {};
	struct snapshot s = {};
	struct ct_event ev[4];

	(void)state;
	slots[1] = (struct ct_req){ .enter_ns = 1000, .key = { .sesid = 9, .mid = 41 },
				    .conn_id = 3, .cmd = CT_SMB2_READ };
	slots[6] = (struct ct_req){ .enter_ns = 500, .key = { .sesid = 9, .mid = 40 },
				    .conn_id = 3, .cmd = CT_SMB2_WRITE, .acked_ns = 600 };
	assert_int_equal(snapshot_read_reqs(&s, slots, 8), 0);
	assert_int_equal(s.nreq, 2);
	assert_int_equal(s.req[0].k.mid, 41);
	assert_int_equal(s.req[1].k.sesid, 9);
	assert_int_equal(s.req[1].v.cmd, CT_SMB2_WRITE);
	/* the oldest of the connection is the WRITE entered at 500 */
	s.ts_ns = 5000000500ull;
	assert_int_equal(snapshot_oldest(&s, 1000000000ull, ev, 4), 1);
	assert_int_equal(ev[0].mid, 40);
	/* read again: the previous array is replaced, not appended to */
	slots[1].enter_ns = 0;
	assert_int_equal(snapshot_read_reqs(&s, slots, 8), 0);
	assert_int_equal(s.nreq, 1);
	snapshot_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hists_of_two_cpus_sum_by_key),
		cmocka_unit_test(io_of_two_cpus_sum_by_tree),
		cmocka_unit_test(errs_of_two_cpus_sum_by_status),
		cmocka_unit_test(many_keys_grow_the_array),
		cmocka_unit_test(inflight_slots_skip_the_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
