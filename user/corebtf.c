// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "corebtf.h"
#include "escape.h"

static bool has_struct(const struct btf *btf, const char *name)
{
	return btf && btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT) > 0;
}

/* cifs mounts with struct smb_vol (5.10): its do_mount has no parsed options */
static bool pre_fsctx(const struct btf *btf)
{
	return has_struct(btf, "smb_vol");
}

/* A usable file holds BTF with cifs's types: the tracer reads them first. */
static int check(const char *file, bool *smb_vol)
{
	libbpf_print_fn_t print = libbpf_set_print(NULL);	/* our one line says it */
	struct btf *btf = btf__parse(file, NULL);
	int err = btf ? 0 : errno ? -errno : -EINVAL;	/* libbpf 1.x: NULL + errno */
	char esc[512], why[128];

	libbpf_set_print(print);
	escape_str(esc, sizeof(esc), file, strlen(file), ESC_TEXT);
	if (err) {
		libbpf_strerror(err, why, sizeof(why));
		fprintf(stderr, "cifstrace: --btf %s: not a BTF file (%s)\n", esc, why);
		return 2;
	}
	if (!has_struct(btf, "TCP_Server_Info")) {
		fprintf(stderr, "cifstrace: --btf %s: holds no cifs types "
				"(TCP_Server_Info); see make btf\n", esc);
		btf__free(btf);
		return 2;
	}
	*smb_vol = pre_fsctx(btf);
	btf__free(btf);
	return 0;
}

int core_btf_open(struct core_btf *c, const char *release, const char *file)
{
	struct btf *btf;
	struct stat st;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (file) {
		if (check(file, &c->pre_fsctx))
			return 2;
		c->source = CORE_BTF_FILE;
		c->file = file;
		snprintf(c->path, sizeof(c->path), "%s", file);
		if (strlen(file) >= sizeof(c->path)) {
			/* long paths: through a descriptor */
			c->fd = open(file, O_RDONLY | O_CLOEXEC);
			if (c->fd < 0) {
				fprintf(stderr, "cifstrace: --btf: %s\n", strerror(errno));
				return 2;
			}
			snprintf(c->path, sizeof(c->path), "/proc/self/fd/%d", c->fd);
		}
		return 0;
	}
	if (!stat("/sys/kernel/btf/cifs", &st)) {
		c->source = CORE_BTF_KERNEL;
		return 0;
	}
	c->source = CORE_BTF_NONE;
	for (int i = 0; i < nr_embedded_btfs; i++) {
		const struct embedded_btf *b = &embedded_btfs[i];

		if (strcmp(b->release, release))
			continue;
		if (core_btf_stage(c, b->data, b->size)) {
			fprintf(stderr, "cifstrace: cannot stage the built-in BTF for %s: %s\n",
				release, strerror(errno));
			return 2;
		}
		c->source = CORE_BTF_EMBEDDED;
		c->release = b->release;
		btf = btf__new(b->data, b->size);
		c->pre_fsctx = pre_fsctx(btf);
		btf__free(btf);
		break;
	}
	return 0;
}

int core_btf_stage(struct core_btf *c, const void *data, size_t size)
{
	int err;

	core_btf_close(c);
	c->fd = memfd_create("cifstrace-btf", MFD_CLOEXEC);
	if (c->fd >= 0 && write(c->fd, data, size) == (ssize_t)size) {
		snprintf(c->path, sizeof(c->path), "/proc/self/fd/%d", c->fd);
		return 0;
	}
	err = errno ? errno : EIO;
	core_btf_close(c);
	errno = err;
	return -1;
}

void core_btf_close(struct core_btf *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

const char *core_btf_describe(const struct core_btf *c, char *buf, size_t len)
{
	char esc[256];

	switch (c->source) {
	case CORE_BTF_KERNEL:
		snprintf(buf, len, "/sys/kernel/btf/cifs");
		break;
	case CORE_BTF_EMBEDDED:
		snprintf(buf, len, "none in the kernel; using the copy built into cifstrace for %s",
			 c->release);
		break;
	case CORE_BTF_FILE:
		escape_str(esc, sizeof(esc), c->file, strlen(c->file), ESC_TEXT);
		snprintf(buf, len, "--btf %s", esc);
		break;
	default:
		snprintf(buf, len, "none");
	}
	return buf;
}
