// SPDX-License-Identifier: GPL-2.0
/*
 * The raw BTF reader and the minimal BTF (user/kbtf.c): on BTF built here
 * with libbpf's writer (a kernel and a module split on it), and on the
 * build host's own kernel BTF, checked against libbpf's parse of it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kbtf.h"

#define KERNEL_BTF "/sys/kernel/btf/vmlinux"

static char base_path[64], split_path[64];

static void write_raw(char *path, const struct btf *btf)
{
	__u32 size;
	const void *raw = btf__raw_data(btf, &size);
	FILE *f;

	strcpy(path, "/tmp/kbtf-XXXXXX");
	close(mkstemp(path));
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(raw, 1, size, f), size);
	fclose(f);
}

/*
 * base: int, struct inner {a, b}, struct big {x, y, z}, struct outer
 * {inner in; big *p; int arr[4]}, struct unrelated {q}, enum e {A, B},
 * func f(int, int), typedef btf_trace_x; split on it: struct cifsy
 * {outer o; big *b} and func g(int).
 */
static int make_files(void **state)
{
	struct btf *b = btf__new_empty(), *s;
	int i_int, i_inner, i_big, i_ptr, i_arr, i_proto, i_s;

	i_int = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	i_inner = btf__add_struct(b, "inner", 8);
	btf__add_field(b, "a", i_int, 0, 0);
	btf__add_field(b, "b", i_int, 32, 0);
	i_big = btf__add_struct(b, "big", 12);
	btf__add_field(b, "x", i_int, 0, 0);
	btf__add_field(b, "y", i_int, 32, 0);
	btf__add_field(b, "z", i_int, 64, 0);
	i_ptr = btf__add_ptr(b, i_big);
	i_arr = btf__add_array(b, i_int, i_int, 4);
	btf__add_struct(b, "outer", 32);
	btf__add_field(b, "in", i_inner, 0, 0);
	btf__add_field(b, "p", i_ptr, 64, 0);
	btf__add_field(b, "arr", i_arr, 128, 0);
	btf__add_struct(b, "unrelated", 4);
	btf__add_field(b, "q", i_int, 0, 0);
	btf__add_enum(b, "e", 4);
	btf__add_enum_value(b, "A", 0);
	btf__add_enum_value(b, "B", 1);
	i_proto = btf__add_func_proto(b, i_int);
	btf__add_func_param(b, "p1", i_int);
	btf__add_func_param(b, "p2", i_int);
	btf__add_func(b, "f", BTF_FUNC_GLOBAL, i_proto);
	btf__add_typedef(b, "btf_trace_x", i_ptr);
	write_raw(base_path, b);

	s = btf__new_empty_split(b);
	btf__add_struct(s, "cifsy", 40);
	btf__add_field(s, "o", btf__find_by_name_kind(b, "outer", BTF_KIND_STRUCT), 0, 0);
	btf__add_field(s, "b", i_ptr, 256, 0);	/* a name the kernel has too */
	i_s = btf__add_func_proto(s, i_int);
	btf__add_func_param(s, "only", i_int);
	btf__add_func(s, "g", BTF_FUNC_GLOBAL, i_s);
	write_raw(split_path, s);
	btf__free(s);
	btf__free(b);
	return 0;
}

static int remove_files(void **state)
{
	unlink(base_path);
	unlink(split_path);
	return 0;
}

/* the BPF object's side: the names its CO-RE reads use */
static struct btf *local_btf(void)
{
	struct btf *l = btf__new_empty();
	int i = btf__add_int(l, "int", 4, BTF_INT_SIGNED);

	btf__add_struct(l, "outer", 4);
	btf__add_field(l, "p", i, 0, 0);
	btf__add_struct(l, "cifsy___flavour", 4);
	btf__add_field(l, "b", i, 0, 0);
	btf__add_enum(l, "e", 4);
	btf__add_enum_value(l, "B", 1);
	return l;
}

static struct btf *minimal_of(struct kbtf *kb, const struct btf *local)
{
	void *data;
	size_t size;
	struct btf *m;

	assert_int_equal(kbtf_minimal(kb, local, &data, &size), 0);
	m = btf__new(data, size);
	free(data);
	assert_non_null(m);
	return m;
}

static const struct btf_type *named(const struct btf *b, const char *name, int kind)
{
	int id = btf__find_by_name_kind(b, name, kind);

	return id > 0 ? btf__type_by_id(b, id) : NULL;
}

static const char *member_name(const struct btf *b, const struct btf_type *t, int i)
{
	return btf__name_by_offset(b, btf_members(t)[i].name_off);
}

static void minimal_keeps_named_types_whole_and_pointees_as_shells(void **state)
{
	struct kbtf *kb = kbtf_read_files(base_path, split_path);
	struct btf *local = local_btf(), *m;
	const struct btf_type *t, *p;

	assert_non_null(kb);
	assert_true(kbtf_has_cifs(kb));
	m = minimal_of(kb, local);

	t = named(m, "outer", BTF_KIND_STRUCT);
	assert_non_null(t);
	assert_int_equal(btf_vlen(t), 3);
	assert_string_equal(member_name(m, t, 2), "arr");
	assert_int_equal(btf_members(t)[1].offset, 64);
	/* embedded: whole, so CO-RE can walk into it */
	t = named(m, "inner", BTF_KIND_STRUCT);
	assert_non_null(t);
	assert_int_equal(btf_vlen(t), 2);
	/* pointed to: a shell of its kind and size */
	p = btf__type_by_id(m, btf_members(named(m, "outer", BTF_KIND_STRUCT))[1].type);
	assert_true(btf_is_ptr(p));
	t = btf__type_by_id(m, p->type);
	assert_true(btf_is_struct(t));
	assert_int_equal(btf_vlen(t), 0);
	assert_int_equal(t->size, 12);
	/* the module's, named with a ___flavour locally: whole, its names right */
	t = named(m, "cifsy", BTF_KIND_STRUCT);
	assert_non_null(t);
	assert_int_equal(btf_vlen(t), 2);
	assert_string_equal(member_name(m, t, 0), "o");
	assert_string_equal(member_name(m, t, 1), "b");
	assert_ptr_equal(btf__type_by_id(m, btf_members(t)[0].type),
			 named(m, "outer", BTF_KIND_STRUCT));
	t = named(m, "e", BTF_KIND_ENUM);
	assert_non_null(t);
	assert_int_equal(btf_vlen(t), 2);
	/* nothing else */
	assert_null(named(m, "unrelated", BTF_KIND_STRUCT));
	assert_null(named(m, "f", BTF_KIND_FUNC));
	assert_null(named(m, "btf_trace_x", BTF_KIND_TYPEDEF));

	btf__free(m);
	btf__free(local);
	kbtf_free(kb);
}

static void find_gives_libbpf_ids_and_argument_counts(void **state)
{
	struct kbtf *kb = kbtf_read_files(base_path, split_path);
	struct btf *base = btf__parse(base_path, NULL), *split = btf__parse_split(split_path, base);
	const char *names[] = { "f", "btf_trace_x", "g", "nothere", "f" };
	const int kinds[] = { BTF_KIND_FUNC, BTF_KIND_TYPEDEF, BTF_KIND_FUNC, BTF_KIND_FUNC,
			      BTF_KIND_STRUCT };
	__u32 ids[5];
	int nargs[5];

	assert_non_null(kb);
	assert_non_null(split);
	kbtf_find(kb, 5, names, kinds, false, ids, nargs);
	assert_int_equal(ids[0], btf__find_by_name_kind(split, "f", BTF_KIND_FUNC));
	assert_int_equal(nargs[0], 2);
	assert_int_equal(ids[1], btf__find_by_name_kind(split, "btf_trace_x", BTF_KIND_TYPEDEF));
	assert_int_equal(nargs[1], -1);
	assert_int_equal(ids[2], btf__find_by_name_kind(split, "g", BTF_KIND_FUNC));
	assert_int_equal(nargs[2], 1);
	assert_int_equal(ids[3], 0);
	assert_int_equal(ids[4], 0);	/* a name under another kind */
	/* the module's types only */
	kbtf_find(kb, 3, names, kinds, true, ids, nargs);
	assert_int_equal(ids[0], 0);
	assert_int_equal(ids[1], 0);
	assert_int_equal(ids[2], btf__find_by_name_kind(split, "g", BTF_KIND_FUNC));

	btf__free(split);
	btf__free(base);
	kbtf_free(kb);
}

/* the build host's kernel: the same types libbpf parses, a fraction of the size */
static void the_kernels_btf_reads_as_libbpf_reads_it(void **state)
{
	struct kbtf *kb = kbtf_read_files(KERNEL_BTF, NULL);
	struct btf *full = btf__parse(KERNEL_BTF, NULL), *local = btf__new_empty(), *m;
	const char *roots[] = { "sock", "tcp_sock", "sk_buff", "task_struct" };
	const char *names[] = { "tcp_sendmsg", "btf_trace_tcp_probe" };
	const int kinds[] = { BTF_KIND_FUNC, BTF_KIND_TYPEDEF };
	__u32 ids[2], raw_size;
	int nargs[2];
	void *data;
	size_t size;

	assert_non_null(kb);
	assert_non_null(full);
	kbtf_find(kb, 2, names, kinds, false, ids, nargs);
	assert_int_equal(ids[0], btf__find_by_name_kind(full, "tcp_sendmsg", BTF_KIND_FUNC));
	assert_int_equal(nargs[0], 3);
	assert_int_equal(ids[1], btf__find_by_name_kind(full, "btf_trace_tcp_probe",
							 BTF_KIND_TYPEDEF));
	for (size_t i = 0; i < 4; i++) {
		btf__add_struct(local, roots[i], 0);
	}
	assert_int_equal(kbtf_minimal(kb, local, &data, &size), 0);
	btf__raw_data(full, &raw_size);
	assert_true(size < raw_size / 10);
	m = btf__new(data, size);
	free(data);
	assert_non_null(m);
	for (size_t i = 0; i < 4; i++) {
		const struct btf_type *a = named(full, roots[i], BTF_KIND_STRUCT);
		const struct btf_type *b = named(m, roots[i], BTF_KIND_STRUCT);

		assert_non_null(a);
		assert_non_null(b);
		assert_int_equal(b->size, a->size);
		assert_int_equal(btf_vlen(b), btf_vlen(a));
		for (int j = 0; j < btf_vlen(a); j++) {
			assert_string_equal(member_name(m, b, j), member_name(full, a, j));
			assert_int_equal(btf_members(b)[j].offset, btf_members(a)[j].offset);
			assert_int_equal(btf__resolve_size(m, btf_members(b)[j].type),
					 btf__resolve_size(full, btf_members(a)[j].type));
		}
	}
	btf__free(m);
	btf__free(local);
	btf__free(full);
	kbtf_free(kb);
}

static void bad_btf_is_refused(void **state)
{
	char path[] = "/tmp/kbtf-bad-XXXXXX";
	char buf[200];
	FILE *in = fopen(base_path, "r"), *out;
	size_t n = fread(buf, 1, sizeof(buf), in);

	fclose(in);
	close(mkstemp(path));
	/* empty */
	errno = 0;
	assert_null(kbtf_read_files(path, NULL));
	assert_int_equal(errno, EINVAL);
	/* cut short: types run past the end */
	out = fopen(path, "w");
	fwrite(buf, 1, n / 2, out);
	fclose(out);
	assert_null(kbtf_read_files(path, NULL));
	assert_int_equal(errno, EINVAL);
	/* not BTF */
	out = fopen(path, "w");
	fputs("this is not BTF at all, not even close to it", out);
	fclose(out);
	assert_null(kbtf_read_files(path, NULL));
	assert_int_equal(errno, EINVAL);
	/* no such file */
	assert_null(kbtf_read_files("/nonexistent/btf", NULL));
	assert_int_equal(errno, ENOENT);
	unlink(path);
}

/*
 * kbtf_tag_pointer: ct_req_tp's pointer becomes PTR -> TYPE_TAG(tag) ->
 * the same struct; another struct sharing the old PTR keeps it untagged;
 * a missing struct or a member that is not a pointer is refused.
 */
static void tag_pointer_tags_only_the_named_structs_member(void **state)
{
	struct btf *b = btf__new_empty();
	const struct btf_type *t, *tag;
	int i32, sk, ptr, req, other, notptr;

	(void)state;
	assert_non_null(b);
	i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	sk = btf__add_struct(b, "tcp_sock", 4);
	btf__add_field(b, "x", i32, 0, 0);
	ptr = btf__add_ptr(b, sk);
	req = btf__add_struct(b, "ct_req_tp", 8);
	btf__add_field(b, "tp", ptr, 0, 0);
	other = btf__add_struct(b, "other", 8);
	btf__add_field(b, "p", ptr, 0, 0);
	notptr = btf__add_struct(b, "notptr", 4);
	btf__add_field(b, "x", i32, 0, 0);
	assert_true(i32 > 0 && sk > 0 && ptr > 0 && req > 0 && other > 0 && notptr > 0);

	assert_int_equal(kbtf_tag_pointer(b, "ct_req_tp", "kptr_untrusted"), 0);
	t = btf__type_by_id(b, btf_members(btf__type_by_id(b, req))[0].type);
	assert_true(btf_is_ptr(t));
	tag = btf__type_by_id(b, t->type);
	assert_true(btf_is_type_tag(tag));
	assert_string_equal(btf__name_by_offset(b, tag->name_off), "kptr_untrusted");
	assert_int_equal(tag->type, sk);
	/* the shared pointer is left as it was */
	assert_int_equal(btf_members(btf__type_by_id(b, other))[0].type, ptr);
	assert_int_equal(btf__type_by_id(b, ptr)->type, sk);

	assert_int_equal(kbtf_tag_pointer(b, "absent", "kptr"), -ENOENT);
	assert_int_equal(kbtf_tag_pointer(b, "notptr", "kptr"), -EINVAL);
	assert_int_equal(kbtf_tag_pointer(NULL, "ct_req_tp", "kptr"), -ENOENT);
	btf__free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(minimal_keeps_named_types_whole_and_pointees_as_shells),
		cmocka_unit_test(find_gives_libbpf_ids_and_argument_counts),
		cmocka_unit_test(the_kernels_btf_reads_as_libbpf_reads_it),
		cmocka_unit_test(bad_btf_is_refused),
		cmocka_unit_test(tag_pointer_tags_only_the_named_structs_member),
	};

	return cmocka_run_group_tests(tests, make_files, remove_files);
}
