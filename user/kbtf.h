/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The running kernel's BTF, read once as raw bytes and never parsed by
 * libbpf: libbpf 1.x holds two copies of the kernel's 4-5 MB while it
 * parses them (every entry point copies), then walks every type for every
 * CO-RE relocation and loads every module's BTF besides. cifstrace reads
 * the raw bytes itself (one copy, one system call), finds what it needs
 * by name in one walk (the BTF ids and argument counts of the functions
 * it attaches to), and cuts out the few types its CO-RE reads name, with
 * what they embed: a minimal BTF, the same thing `make btf` builds ahead
 * of time for kernels without cifs BTF (bpftool's BTFGen), made at start
 * from the kernel's own BTF and cifs's, and handed to libbpf as
 * btf_custom_path.
 */
#ifndef KBTF_H
#define KBTF_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct btf;
struct kbtf;

/*
 * Read the kernel's BTF (the BTF object vmlinux_fd, or the sysfs file when
 * -1) and, when cifs_fd >= 0, cifs's, split on it. NULL with errno set
 * when either cannot be read or is not BTF this reader knows.
 */
struct kbtf *kbtf_read(int vmlinux_fd, int cifs_fd);
/* The same from raw BTF files (split: NULL, or a module's split on base). */
struct kbtf *kbtf_read_files(const char *base, const char *split);
void kbtf_free(struct kbtf *kb);
bool kbtf_has_cifs(const struct kbtf *kb);

/*
 * Look up names in one walk: kinds[i] (a BTF_KIND_*) and names[i] give
 * ids[i] (0: absent) and, for a FUNC, nargs[i] (its prototype's
 * parameters, else -1). With cifs_only, only cifs's types are searched.
 */
void kbtf_find(const struct kbtf *kb, int n, const char *const *names, const int *kinds,
	       bool cifs_only, __u32 *ids, int *nargs);

/*
 * A minimal BTF for CO-RE: every kernel or cifs struct, union, enum and
 * typedef named like one of local's (the BPF object's own BTF: the types
 * its programs read, ___flavour suffixes dropped), whole, with the types
 * they embed whole and the types they point to as empty shells of the
 * right kind and size. Returns the raw BTF in *out (malloc'd) and its
 * size, or -errno.
 */
int kbtf_minimal(const struct kbtf *kb, const struct btf *local, void **out, size_t *size);

/*
 * Tag the pointer that is struct name's only member (a kptr for a map
 * value: tag "kptr" or "kptr_untrusted"): a new PTR to a TYPE_TAG of the
 * same pointee, so other users of the old PTR keep it untagged. 0, or
 * -errno (no such struct, not one pointer member, out of memory).
 */
int kbtf_tag_pointer(struct btf *btf, const char *name, const char *tag);

/* The BPF object's BTF (its .BTF section) from its ELF bytes, or NULL. */
struct btf *kbtf_of_elf(const void *elf, size_t size);

#endif
