/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hook table: every place the tracer attaches, described once. The
 * loader probes the running kernel and picks, per hook, the best flavour
 * it offers; BPF program names follow from the hook name:
 *   tracepoint  tp_<name>                     (raw tracepoint)
 *               tpbtf_<name>                  (BTF tracepoint, HOOK_TP_BTF)
 *   function    fentry_<name> + fexit_<name>  (needs module BTF)
 *               kprobe_<name> + kretprobe_<name>  (fallback)
 */
#ifndef HOOKS_H
#define HOOKS_H

#include <stdbool.h>
#include <stdio.h>

enum hook_kind { HOOK_TP, HOOK_FUNC };

/* struct hook.flags */
#define HOOK_REQUIRED	(1u << 0)	/* without it there is nothing useful to trace */
#define HOOK_AGGREGATE	(1u << 1)	/* only for the in-kernel aggregation (latency) */
/*
 * Runs for every SMB request (the send, the credit waits): fentry/fexit
 * where the module has BTF (the cheapest to run, and fields are plain
 * loads, not probe reads). Other function hooks (mount phases, rare) use
 * kprobes, which load and attach several times faster: no BTF search per
 * program.
 */
#define HOOK_HOT	(1u << 2)
/* Only before the fs_context mount API (5.10), known from the BTF for cifs */
#define HOOK_PRE_FSCTX	(1u << 3)
/* Only where the smb3_reconnect tracepoint has no conn_id (before 5.15) */
#define HOOK_PRE_CONN_ID (1u << 4)
/* A tracepoint with a BTF-typed flavour (tpbtf_<name>): direct reads, no helpers */
#define HOOK_TP_BTF	(1u << 5)
/* A function of the kernel proper (its BTF), not of cifs */
#define HOOK_VMLINUX	(1u << 6)
/* Only to follow Kerberos upcalls to the KDC (off for latency) */
#define HOOK_KDC	(1u << 7)
/*
 * A path tracepoint: only when per-request records leave the kernel
 * (events, record, --slower), and only where the event has a "path" field
 */
#define HOOK_PATH	(1u << 8)
/*
 * Runs for every TCP segment or UDP datagram the host receives. Where ACKs
 * are read from the socket (latency, diagnose, the exporter, run) it is
 * attached only while a Kerberos upcall runs, for its KDC's replies, or
 * not at all when no KDC is followed (latency).
 */
#define HOOK_SEGMENT	(1u << 9)

enum hook_mode {
	MODE_NONE,		/* not offered by this kernel */
	MODE_TP,
	MODE_FENTRY,
	MODE_KPROBE,
	MODE_TP_BTF,		/* tp_btf: a tracing program, like fentry */
};

struct hook {
	const char *name;	/* tracepoint or kernel function */
	const char *system;	/* tracefs system of a tracepoint */
	enum hook_kind kind;
	int nargs;		/* function arguments, as fexit_<name> declares them */
	unsigned int flags;	/* HOOK_* below */
	const char *why;	/* what it gives, for -v and the README */
};

extern const struct hook hooks[];
/* the hook table's size is checked against HOOKS_MAX when the tracer opens */
#define HOOKS_MAX	40
extern const int nr_hooks;
/* The index of the hook called name in hooks[], or -1. */
int hook_index(const char *name);

struct hook_state {
	enum hook_mode mode;
	bool attached;
	bool upcalls;		/* attached only while an upcall runs (HOOK_SEGMENT) */
	int err;		/* attach error, negative errno */
};

/* What the running kernel offers, probed once. */
struct kernel_offer;

/* What cifstrace takes from /proc/kallsyms (ksyms_read() reads it once). */
struct ksyms {
	char *cifs_funcs;	/* cifs's functions, "\nname\n" joined, if asked */
	unsigned long long page_offset_base, vmemmap_base;	/* 0 if hidden */
	bool read;
};

int ksyms_read(struct ksyms *ks, bool cifs_funcs);
void ksyms_free(struct ksyms *ks);
/* The addresses, if probing read kallsyms already (5.10: no cifs BTF). */
bool offer_ksyms(const struct kernel_offer *k, struct ksyms *out);

/* pre_fsctx: cifs has struct smb_vol (5.10: the BTF CO-RE uses says so) */
struct kernel_offer *probe_kernel(bool pre_fsctx);
void free_offer(struct kernel_offer *k);
/*
 * The minimal BTF for CO-RE on this kernel (kbtf_minimal(): local is the
 * BPF object's BTF), or -errno; -ENOENT if the kernel's BTF (with_cifs:
 * and cifs's) was not read.
 */
struct btf;
int offer_core_btf(struct kernel_offer *k, const struct btf *local, bool with_cifs, void **out,
		   size_t *size);
/*
 * Before the BPF object is opened: give libbpf what it would search the
 * kernel's BTF for (the BTF ids fentry, fexit and tp_btf programs attach
 * to; with custom_core, CO-RE reads a custom BTF, an empty kernel BTF).
 * hand_over_done() after loading drops what no load took.
 */
void hand_over_btf(struct kernel_offer *k, bool custom_core);
void hand_over_done(void);
/*
 * What differs between kernels in where the programs find their data, set
 * in the BPF object's config before load: the argument that holds the
 * mount's context (6.x: cifs_smb3_do_mount(fs_type, flags, ctx), 2; since
 * 7.x: (fc, ctx), 1; 5.10: its dev_name, 2) and ECHO's mid (before 7.x:
 * smb2_echo_callback(mid), 0; since: (server, mid), 1); and whether a
 * socket read through cifs's types is the kernel's struct sock to the
 * verifier (false where cifs's BTF carries copies of the socket types,
 * 7.x: its helpers refuse them, so the send casts the socket to the
 * kernel's struct tcp_sock, whose BTF id is sk_cast_id, with the kfunc
 * bpf_rdonly_cast; 0 where the kernel has no such kfunc: it reads the
 * socket with bpf_probe_read_kernel and keeps no kptr).
 */
struct kernel_layout {
	int mount_ctx_arg;
	int echo_mid_arg;
	bool sk_vmlinux;
	__u32 sk_cast_id;
};
void offer_layout(struct kernel_offer *k, struct kernel_layout *out);
/* The best mode for hook h; fentry only if allow_fentry. */
enum hook_mode best_mode(struct kernel_offer *k, const struct hook *h, bool allow_fentry);
/* Does tracepoint system/name have a field called field? */
bool tp_has_field(const char *system, const char *name, const char *field);
const char *hook_mode_name(enum hook_mode m);
/*
 * A kretprobe on kernel function fn with room for maxactive calls in
 * flight, made through tracefs (the perf PMU takes the kernel's default,
 * max(10, 2 * CPUs), and drops the returns of calls beyond it). Returns a
 * perf event fd for bpf_program__attach_perf_event, or -errno; name gets
 * the event's name for kretprobe_remove() once the fd is closed.
 */
int kretprobe_open(const char *fn, int maxactive, char *name, size_t len);
void kretprobe_remove(const char *name);
/* Remove the kretprobes left by cifstrace processes that no longer run. */
void kretprobe_remove_stale(void);
/* A mounted tracefs, or NULL. Mounts it if needed. */
const char *tracefs_dir(void);

#endif
