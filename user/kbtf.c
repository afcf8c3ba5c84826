// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's BTF, read raw: lookups in one walk, and the minimal BTF
 * for CO-RE (see kbtf.h). The format is the kernel's ABI (linux/btf.h);
 * types are read through libbpf's btf.h accessors.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kbtf.h"

/* one raw BTF: the kernel's, or cifs's split on it */
struct raw {
	void *data;
	size_t size;
	const char *types, *strs;
	__u32 types_len, strs_len;
	__u32 first_id;		/* of its first type */
	__u32 str_base;		/* name offsets below it are the kernel's */
};

struct kbtf {
	struct raw r[2];	/* [0] the kernel's, [1] cifs's (data NULL if none) */
	__u32 nr;		/* type ids 0 (void) .. nr - 1, both together */
	__u32 *offs;		/* per id: offset in its raw's type section */
};

static int read_file(const char *path, struct raw *r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t got = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size <= 0 || !(r->data = malloc(st.st_size))) {
		close(fd);
		return st.st_size <= 0 ? -EINVAL : -ENOMEM;
	}
	/* sysfs gives a page per read */
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, (char *)r->data + got, st.st_size - got);

		if (n <= 0)
			break;
		got += n;
	}
	close(fd);
	r->size = got;
	return got == (size_t)st.st_size ? 0 : -EIO;
}

/* A BTF object's raw bytes in one system call (5.11 on: named objects). */
static int read_obj(int fd, struct raw *r)
{
	struct bpf_btf_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (!info.btf_size || !(r->data = malloc(info.btf_size)))
		return -ENOMEM;
	r->size = info.btf_size;
	memset(&info, 0, sizeof(info));
	info.btf = (__u64)(unsigned long)r->data;
	info.btf_size = r->size;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	return info.btf_size == r->size ? 0 : -EIO;
}

static int parse_hdr(struct raw *r)
{
	const struct btf_header *h = r->data;
	size_t meta;

	if (r->size < sizeof(*h) || h->magic != BTF_MAGIC || h->version != BTF_VERSION ||
	    h->hdr_len < sizeof(*h) || h->hdr_len > r->size)
		return -EINVAL;
	meta = r->size - h->hdr_len;
	if ((size_t)h->type_off + h->type_len > meta || (size_t)h->str_off + h->str_len > meta ||
	    h->type_off % 4 || !h->str_len)
		return -EINVAL;
	r->types = (const char *)r->data + h->hdr_len + h->type_off;
	r->strs = (const char *)r->data + h->hdr_len + h->str_off;
	r->types_len = h->type_len;
	r->strs_len = h->str_len;
	if (r->strs[r->strs_len - 1])
		return -EINVAL;
	return 0;
}

/* Bytes of type t with what follows it; -1 for a kind this reader does not know. */
static long type_size(const struct btf_type *t)
{
	long base = sizeof(*t);
	__u16 vlen = btf_vlen(t);

	switch (btf_kind(t)) {
	case BTF_KIND_FWD:
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_PTR:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return base;
	case BTF_KIND_INT:
		return base + sizeof(__u32);
	case BTF_KIND_ARRAY:
		return base + sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return base + vlen * sizeof(struct btf_member);
	case BTF_KIND_ENUM:
		return base + vlen * sizeof(struct btf_enum);
	case BTF_KIND_ENUM64:
		return base + vlen * sizeof(struct btf_enum64);
	case BTF_KIND_FUNC_PROTO:
		return base + vlen * sizeof(struct btf_param);
	case BTF_KIND_VAR:
		return base + sizeof(struct btf_var);
	case BTF_KIND_DATASEC:
		return base + vlen * sizeof(struct btf_var_secinfo);
	case BTF_KIND_DECL_TAG:
		return base + sizeof(struct btf_decl_tag);
	default:
		return -1;
	}
}

/* Walk raw r's types; with offs, note each one's offset. Returns the count or -EINVAL. */
static long walk(const struct raw *r, __u32 *offs)
{
	__u32 off = 0;
	long n = 0;

	while (off < r->types_len) {
		const struct btf_type *t = (const void *)(r->types + off);
		long sz;

		if (r->types_len - off < sizeof(*t) || (sz = type_size(t)) < 0 ||
		    (size_t)sz > r->types_len - off)
			return -EINVAL;
		if (offs)
			offs[n] = off;
		off += sz;
		n++;
	}
	return n;
}

static const struct raw *raw_of(const struct kbtf *kb, __u32 id)
{
	return kb->r[1].data && id >= kb->r[1].first_id ? &kb->r[1] : &kb->r[0];
}

static const struct btf_type *type_of(const struct kbtf *kb, __u32 id)
{
	if (!id || id >= kb->nr)
		return NULL;
	return (const void *)(raw_of(kb, id)->types + kb->offs[id]);
}

/* The name at off for a type of raw r: split BTF continues the kernel's strings. */
static const char *name_of(const struct kbtf *kb, const struct raw *r, __u32 off)
{
	if (r == &kb->r[1] && off >= r->str_base) {
		off -= r->str_base;
		return off < r->strs_len ? r->strs + off : "";
	}
	return off < kb->r[0].strs_len ? kb->r[0].strs + off : "";
}

/* Read each raw (the callers' readers filled r[].data), check, index. */
static struct kbtf *index_raws(struct kbtf *kb, int err)
{
	long n0 = 0, n1 = 0;

	err = err ?: parse_hdr(&kb->r[0]);
	if (!err && (n0 = walk(&kb->r[0], NULL)) < 0)
		err = n0;
	if (!err && kb->r[1].data) {
		err = parse_hdr(&kb->r[1]);
		if (!err && (n1 = walk(&kb->r[1], NULL)) < 0)
			err = n1;
	}
	if (!err) {
		kb->nr = 1 + n0 + n1;
		kb->r[0].first_id = 1;
		kb->r[1].first_id = 1 + n0;
		kb->r[1].str_base = kb->r[0].strs_len;
		kb->offs = malloc(sizeof(*kb->offs) * kb->nr);
		if (!kb->offs)
			err = -ENOMEM;
	}
	if (!err) {
		walk(&kb->r[0], kb->offs + 1);
		if (n1)
			walk(&kb->r[1], kb->offs + 1 + n0);
		return kb;
	}
	kbtf_free(kb);
	errno = -err;
	return NULL;
}

struct kbtf *kbtf_read(int vmlinux_fd, int cifs_fd)
{
	struct kbtf *kb = calloc(1, sizeof(*kb));
	int err;

	if (!kb) {
		errno = ENOMEM;
		return NULL;
	}
	err = vmlinux_fd >= 0 ? read_obj(vmlinux_fd, &kb->r[0]) :
				read_file("/sys/kernel/btf/vmlinux", &kb->r[0]);
	if (!err && cifs_fd >= 0)
		err = read_obj(cifs_fd, &kb->r[1]);
	return index_raws(kb, err);
}

struct kbtf *kbtf_read_files(const char *base, const char *split)
{
	struct kbtf *kb = calloc(1, sizeof(*kb));
	int err;

	if (!kb) {
		errno = ENOMEM;
		return NULL;
	}
	err = read_file(base, &kb->r[0]);
	if (!err && split)
		err = read_file(split, &kb->r[1]);
	return index_raws(kb, err);
}

void kbtf_free(struct kbtf *kb)
{
	if (!kb)
		return;
	free(kb->r[0].data);
	free(kb->r[1].data);
	free(kb->offs);
	free(kb);
}

bool kbtf_has_cifs(const struct kbtf *kb)
{
	return kb->r[1].data != NULL;
}

/* ------------------------------------------------------------ name sets */

/* FNV-1a over a name up to its end or its ___flavour suffix */
static __u32 name_hash(const char *s, size_t len)
{
	__u32 h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static size_t essential_len(const char *s)
{
	const char *f = strstr(s, "___");

	return f ? (size_t)(f - s) : strlen(s);
}

struct name_set {
	const char **slot;	/* open addressing; NULL = empty */
	int *val;
	__u32 mask;
};

static int set_init(struct name_set *s, int n)
{
	__u32 cap = 16;

	while (cap < 2u * n)
		cap <<= 1;
	s->mask = cap - 1;
	s->slot = calloc(cap, sizeof(*s->slot));
	s->val = calloc(cap, sizeof(*s->val));
	return s->slot && s->val ? 0 : -ENOMEM;
}

static void set_free(struct name_set *s)
{
	free(s->slot);
	free(s->val);
}

/* name's first slot; its entries (one name may be there more than once) follow */
static __u32 set_first(const struct name_set *s, const char *name)
{
	return name_hash(name, strlen(name)) & s->mask;
}

static void set_add(struct name_set *s, const char *name, int val)
{
	__u32 i = set_first(s, name);

	while (s->slot[i])
		i = (i + 1) & s->mask;
	s->slot[i] = name;
	s->val[i] = val;
}

/* a value stored under name, -1 if absent */
static int set_get(const struct name_set *s, const char *name)
{
	for (__u32 i = set_first(s, name); s->slot[i]; i = (i + 1) & s->mask)
		if (!strcmp(s->slot[i], name))
			return s->val[i];
	return -1;
}

void kbtf_find(const struct kbtf *kb, int n, const char *const *names, const int *kinds,
	       bool cifs_only, __u32 *ids, int *nargs)
{
	struct name_set s;

	for (int i = 0; i < n; i++) {
		ids[i] = 0;
		nargs[i] = -1;
	}
	if (set_init(&s, n))
		goto out;
	for (int i = 0; i < n; i++)
		set_add(&s, names[i], i);
	for (__u32 id = cifs_only ? kb->r[1].first_id : 1; id < kb->nr; id++) {
		const struct btf_type *t = type_of(kb, id);
		const char *name;
		int i;

		if (!t->name_off)
			continue;
		name = name_of(kb, raw_of(kb, id), t->name_off);
		/* names repeat across kinds: every entry under one name is checked */
		for (__u32 j = set_first(&s, name); s.slot[j]; j = (j + 1) & s.mask) {
			i = s.val[j];
			if (kinds[i] != btf_kind(t) || ids[i] || strcmp(names[i], name))
				continue;
			ids[i] = id;
			if (btf_is_func(t)) {
				const struct btf_type *p = type_of(kb, t->type);

				nargs[i] = p && btf_is_func_proto(p) ? btf_vlen(p) : -1;
			}
		}
	}
out:
	set_free(&s);
}

/* ------------------------------------------------------------ minimal BTF */

enum { SHELL = 1, WHOLE = 2 };

struct cut {
	const struct kbtf *kb;
	__u8 *mark;		/* per id: 0, SHELL or WHOLE */
	__u32 *stack, depth;
};

static void want(struct cut *c, __u32 id, __u8 level)
{
	if (!id || id >= c->kb->nr || c->mark[id] >= level)
		return;
	c->mark[id] = level;
	c->stack[c->depth++] = id;	/* an id is pushed at most twice: room for 2 * nr */
}

/*
 * What a kept type needs: embedded types as it is kept (a struct's
 * members whole, so CO-RE can walk into them), pointed-to types as shells
 * (CO-RE only checks that a pointer is a pointer).
 */
static void need(struct cut *c, __u32 id)
{
	const struct btf_type *t = type_of(c->kb, id);
	__u8 level = c->mark[id];

	switch (btf_kind(t)) {
	case BTF_KIND_PTR:
		want(c, t->type, SHELL);
		break;
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		want(c, t->type, level);
		break;
	case BTF_KIND_ARRAY:
		want(c, btf_array(t)->type, level);
		want(c, btf_array(t)->index_type, SHELL);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		if (level == WHOLE)
			for (int i = 0; i < btf_vlen(t); i++)
				want(c, btf_members(t)[i].type, WHOLE);
		break;
	case BTF_KIND_FUNC_PROTO:
		if (level == WHOLE) {
			want(c, t->type, SHELL);
			for (int i = 0; i < btf_vlen(t); i++)
				want(c, btf_params(t)[i].type, SHELL);
		}
		break;
	}
}

struct out {
	char *buf;
	size_t len, cap;
};

static int put(struct out *o, const void *p, size_t n)
{
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		char *b;

		while (cap < o->len + n)
			cap *= 2;
		b = realloc(o->buf, cap);
		if (!b)
			return -ENOMEM;
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return 0;
}

/* name's offset in the new string section (appended; names are few) */
static __u32 str(struct out *s, const char *name, int *err)
{
	__u32 off = s->len;

	if (!*name)
		return 0;
	if (put(s, name, strlen(name) + 1))
		*err = -ENOMEM;
	return off;
}

static bool shell_kind(const struct btf_type *t)
{
	return btf_is_composite(t) || btf_is_any_enum(t) || btf_is_func_proto(t);
}

/* Type id, with a copy of its header and what follows, renumbered and renamed. */
static int emit(struct cut *c, __u32 id, const __u32 *new_id, struct out *o, struct out *s)
{
	const struct kbtf *kb = c->kb;
	const struct raw *r = raw_of(kb, id);
	const struct btf_type *t = type_of(kb, id);
	bool shell = c->mark[id] == SHELL && shell_kind(t);
	size_t at = o->len;
	struct btf_type *n;
	int err = put(o, t, shell ? (long)sizeof(*t) : type_size(t));

	if (err)
		return err;
	n = (struct btf_type *)(o->buf + at);	/* o grows no more below */
#define NEW(x) ((x) < kb->nr ? new_id[x] : 0)
#define NAME(x) str(s, name_of(kb, r, (x)), &err)
	n->name_off = NAME(t->name_off);
	if (shell)
		n->info &= ~0xffffu;	/* vlen 0 */
	switch (btf_kind(t)) {
	case BTF_KIND_PTR:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
	case BTF_KIND_FUNC_PROTO:
		n->type = NEW(t->type);
		break;
	case BTF_KIND_ARRAY:
		btf_array(n)->type = NEW(btf_array(t)->type);
		btf_array(n)->index_type = NEW(btf_array(t)->index_type);
		break;
	}
	for (int i = 0; !shell && i < btf_vlen(t); i++) {
		if (btf_is_composite(t)) {
			btf_members(n)[i].name_off = NAME(btf_members(t)[i].name_off);
			btf_members(n)[i].type = NEW(btf_members(t)[i].type);
		} else if (btf_is_enum(t)) {
			btf_enum(n)[i].name_off = NAME(btf_enum(t)[i].name_off);
		} else if (btf_is_enum64(t)) {
			btf_enum64(n)[i].name_off = NAME(btf_enum64(t)[i].name_off);
		} else if (btf_is_func_proto(t)) {
			btf_params(n)[i].name_off = NAME(btf_params(t)[i].name_off);
			btf_params(n)[i].type = NEW(btf_params(t)[i].type);
		}
	}
#undef NAME
#undef NEW
	return err;
}

/* Root kinds: what a CO-RE relocation can name. */
static bool root_kind(int kind)
{
	return kind == BTF_KIND_STRUCT || kind == BTF_KIND_UNION || kind == BTF_KIND_ENUM ||
	       kind == BTF_KIND_ENUM64 || kind == BTF_KIND_TYPEDEF || kind == BTF_KIND_FWD;
}

int kbtf_minimal(const struct kbtf *kb, const struct btf *local, void **out, size_t *size)
{
	struct cut c = { .kb = kb };
	struct out o = {}, s = {};
	struct name_set roots = {};
	__u32 *new_id = NULL, next = 1, n = btf__type_cnt(local);
	struct btf_header h = { .magic = BTF_MAGIC, .version = BTF_VERSION,
				.hdr_len = sizeof(h) };
	char *names = NULL;
	size_t names_len = 0;
	int err = -ENOMEM;

	c.mark = calloc(kb->nr, 1);
	c.stack = malloc(sizeof(*c.stack) * 2 * kb->nr);
	new_id = calloc(kb->nr, sizeof(*new_id));
	/* the local names, NUL-terminated without their ___flavour */
	for (__u32 id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(local, id);

		if (root_kind(btf_kind(t)) && t->name_off)
			names_len += essential_len(btf__name_by_offset(local, t->name_off)) + 1;
	}
	names = malloc(names_len + 1);
	if (!c.mark || !c.stack || !new_id || !names || set_init(&roots, n))
		goto out;
	names_len = 0;
	for (__u32 id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(local, id);
		const char *name;
		size_t len;

		if (!root_kind(btf_kind(t)) || !t->name_off)
			continue;
		name = btf__name_by_offset(local, t->name_off);
		len = essential_len(name);
		memcpy(names + names_len, name, len);
		names[names_len + len] = '\0';
		set_add(&roots, names + names_len, 1);
		names_len += len + 1;
	}
	/* roots: every kernel type of a root kind with a local name */
	for (__u32 id = 1; id < kb->nr; id++) {
		const struct btf_type *t = type_of(kb, id);

		if (t->name_off && root_kind(btf_kind(t)) &&
		    set_get(&roots, name_of(kb, raw_of(kb, id), t->name_off)) > 0)
			want(&c, id, WHOLE);
	}
	while (c.depth)
		need(&c, c.stack[--c.depth]);

	for (__u32 id = 1; id < kb->nr; id++)
		if (c.mark[id])
			new_id[id] = next++;
	err = put(&s, "", 1);
	for (__u32 id = 1; !err && id < kb->nr; id++)
		if (c.mark[id])
			err = emit(&c, id, new_id, &o, &s);
	if (err)
		goto out;
	h.type_len = o.len;
	h.str_off = o.len;
	h.str_len = s.len;
	*size = sizeof(h) + o.len + s.len;
	*out = malloc(*size);
	if (!*out) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(*out, &h, sizeof(h));
	memcpy((char *)*out + sizeof(h), o.buf, o.len);
	memcpy((char *)*out + sizeof(h) + o.len, s.buf, s.len);
	err = 0;
out:
	free(c.mark);
	free(c.stack);
	free(new_id);
	free(names);
	set_free(&roots);
	free(o.buf);
	free(s.buf);
	return err;
}

struct btf *kbtf_of_elf(const void *elf, size_t size)
{
	struct btf *btf = NULL;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	Elf *e;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return NULL;
	e = elf_memory((char *)elf, size);
	if (!e)
		return NULL;
	if (elf_getshdrstrndx(e, &shstrndx))
		goto out;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh))
			break;
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".BTF"))
			continue;
		d = elf_getdata(scn, NULL);
		if (d && d->d_buf)
			btf = btf__new(d->d_buf, d->d_size);
		break;
	}
out:
	elf_end(e);
	return btf && !libbpf_get_error(btf) ? btf : NULL;
}

int kbtf_tag_pointer(struct btf *btf, const char *name, const char *tag)
{
	int id = btf ? btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT) : -ENOENT;
	const struct btf_type *st, *pt;
	int tg, np;

	if (id < 0)
		return -ENOENT;
	st = btf__type_by_id(btf, id);
	if (btf_vlen(st) != 1)
		return -EINVAL;
	pt = btf__type_by_id(btf, btf_members(st)[0].type);
	if (!pt || !btf_is_ptr(pt))
		return -EINVAL;
	tg = btf__add_type_tag(btf, tag, pt->type);
	np = tg > 0 ? btf__add_ptr(btf, tg) : tg;
	if (np < 0)
		return np;
	st = btf__type_by_id(btf, id);	/* adding types may have moved them */
	((struct btf_member *)btf_members(st))[0].type = np;
	return 0;
}
