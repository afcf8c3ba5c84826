// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "array.h"
#include "cifstrace.h"
#include "cifstrace.skel.h"
#include "corebtf.h"
#include "hooks.h"
#include "kbtf.h"
#include "privileges.h"
#include "snapshot.h"
#include "tracer.h"

struct tracer {
	struct cifstrace_bpf *skel;
	struct ring_buffer *rb;
	struct hook_state state[HOOKS_MAX];
	struct attached {
		struct bpf_link *link;
		char krp[64];	/* its kretprobe's tracefs event, "" if none */
	} links[2 * HOOKS_MAX];	/* at most two per hook */
	int nr_links;
	/* ack_from_socket: the per-packet hooks (KDC replies), while upcalls run */
	struct attached upcall_links[4];
	int nr_upcall_links;
	bool upcall_hooks;	/* some hook is attached only then */
	int upcalls;		/* upcalls started and not ended */
	__u64 upcall_ns;	/* the last upcall event */
	event_fn fn;
	void *fn_ctx;
	struct utsname uts;
	struct core_btf core;	/* where CO-RE finds cifs's types */
	int nr_cpus;
	bool aggregate;		/* the aggregation hooks are wanted */
	bool no_kdc;		/* the Kerberos hooks are not */
	bool paths;		/* the path hooks are wanted */
	bool ack_from_socket;	/* ACKs read at the answer, not per segment */
	pthread_t ksyms;	/* finds the kernel's memory map (kdc.bpf.c) */
	bool ksyms_started;
	struct ksyms ks;	/* what it found */
	bool no_batch;		/* the kernel reads no batch of the histograms */
	struct kernel_layout layout;	/* where the programs find their data */
};

static bool verbose;

/* The in-flight table (CT_REQ_SLOTS), read in place: the skeleton maps .bss. */
static struct ct_req *in_flight(struct tracer *t)
{
	return t->skel->bss->reqs;
}

__u64 monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	if (!verbose)
		return 0;	/* load errors are reported by us, in one line */
	return vfprintf(stderr, fmt, args);
}

static struct bpf_program *prog(struct tracer *t, const char *prefix, const char *name)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s_%s", prefix, name);
	return bpf_object__find_program_by_name(t->skel->obj, buf);
}

/* The programs that implement hook i in a mode (up to two). */
static int progs_of(struct tracer *t, int i, enum hook_mode m, struct bpf_program *p[2])
{
	const char *name = hooks[i].name;

	p[0] = p[1] = NULL;
	switch (m) {
	case MODE_TP:
		p[0] = prog(t, "tp", name);
		break;
	case MODE_TP_BTF:
		p[0] = prog(t, "tpbtf", name);
		break;
	case MODE_FENTRY:
		p[0] = prog(t, "fentry", name);
		p[1] = prog(t, "fexit", name);
		break;
	case MODE_KPROBE:
		p[0] = prog(t, "kprobe", name);
		p[1] = prog(t, "kretprobe", name);
		break;
	default:
		break;
	}
	return (p[0] != NULL) + (p[1] != NULL);
}

static bool hooked(struct tracer *t, const char *name)
{
	int i = hook_index(name);

	return i >= 0 && t->state[i].mode != MODE_NONE;
}

/* cifs may be a module that is not loaded yet: load it. */
static bool cifs_present(void)
{
	struct stat st;
	pid_t pid;
	int status;

	if (!stat("/sys/module/cifs", &st))
		return true;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execlp("modprobe", "modprobe", "cifs", (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	return !stat("/sys/module/cifs", &st);
}

/*
 * The mode of each hook, fentry allowed or not, decided before loading so
 * that the kernel's BTF we parsed is freed before libbpf parses its own
 * copy (peak memory).
 */
struct modes {
	enum hook_mode m[2][HOOKS_MAX];	/* [allow_fentry][hook] */
};

/* Off by design: what this run did not ask for. */
static bool unasked(const struct tracer *t, const struct hook *h)
{
	return ((h->flags & HOOK_AGGREGATE) && !t->aggregate) ||
	       ((h->flags & HOOK_KDC) && t->no_kdc) ||
	       ((h->flags & HOOK_PATH) && !t->paths) ||
	       ((h->flags & HOOK_SEGMENT) && t->ack_from_socket && t->no_kdc);
}

/* A per-packet hook attached only while a Kerberos upcall runs. */
static bool on_upcalls(const struct tracer *t, const struct hook *h)
{
	return (h->flags & HOOK_SEGMENT) && t->ack_from_socket && !t->no_kdc;
}

static void choose_modes(struct kernel_offer *k, const struct tracer *t, struct modes *out)
{
	for (int i = 0; i < nr_hooks; i++) {
		if (unasked(t, &hooks[i])) {
			out->m[1][i] = out->m[0][i] = MODE_NONE;
			continue;
		}
		out->m[1][i] = best_mode(k, &hooks[i], true);
		/*
		 * The fallback if the kernel refuses tracing programs: a function
		 * in the module's BTF is a symbol a kprobe can take, so the big
		 * kallsyms is read only for functions BTF does not describe.
		 */
		out->m[0][i] = out->m[1][i] == MODE_FENTRY ? MODE_KPROBE :
			       out->m[1][i] == MODE_TP_BTF ? MODE_TP :
			       best_mode(k, &hooks[i], false);
	}
}

/*
 * Before 6.1 a tracing program that uses a hash map allocated at run time
 * (BPF_F_NO_PREALLOC) makes the verifier print a kernel WARNING with a
 * stack trace at load (5.10: "trace type BPF program uses run-time
 * allocation"), as if something were broken. There every map is
 * preallocated instead, the per-request histograms with fewer entries
 * (their memory counts against RLIMIT_MEMLOCK there).
 */
static void prealloc_before_6_1(struct tracer *t)
{
	unsigned int major = 0, minor = 0;
	struct bpf_map *m;

	if (sscanf(t->uts.release, "%u.%u", &major, &minor) != 2 ||
	    major > 6 || (major == 6 && minor >= 1))
		return;
	bpf_object__for_each_map(m, t->skel->obj) {
		__u32 fl = bpf_map__map_flags(m);

		if (fl & BPF_F_NO_PREALLOC)
			bpf_map__set_map_flags(m, fl & ~BPF_F_NO_PREALLOC);
	}
}

/*
 * The tag this kernel takes on a map value's unreferenced kernel pointer
 * (a kptr), or NULL: tried on a one-entry array whose value is a tagged
 * pointer to a struct named tcp_sock (the kernel resolves the name in its
 * own BTF). "kptr" first: 5.19 to 6.3 take it as unreferenced; from 6.4
 * it means a referenced one, refused for a type without a destructor
 * (tcp_sock), and "kptr_untrusted" is the unreferenced kind. (6.1 ignores
 * a tag it does not know, so the order matters.) Before 5.19, when
 * bpf_kptr_xchg came, a tag means nothing to a map.
 */
static const char *kptr_tag(void)
{
	static const char *const tags[] = { "kptr", "kptr_untrusted" };
	const char *ok = NULL;

	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, BPF_FUNC_kptr_xchg, NULL) != 1)
		return NULL;
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]) && !ok; i++) {
		struct btf *b = btf__new_empty();
		int i32, st, ptr, v;

		if (!b)
			return NULL;
		i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
		st = btf__add_struct(b, "tcp_sock", 4);
		btf__add_field(b, "x", i32, 0, 0);
		ptr = btf__add_ptr(b, btf__add_type_tag(b, tags[i], st));
		v = btf__add_struct(b, "v", 8);
		btf__add_field(b, "p", ptr, 0, 0);
		if (i32 > 0 && st > 0 && ptr > 0 && v > 0 && !btf__load_into_kernel(b)) {
			LIBBPF_OPTS(bpf_map_create_opts, mo, .btf_fd = btf__fd(b),
				    .btf_key_type_id = i32, .btf_value_type_id = v);
			int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "ct_kptr_probe", 4, 8, 1, &mo);

			if (fd >= 0) {
				ok = tags[i];
				close(fd);
			}
		}
		btf__free(b);
	}
	return ok;
}

/*
 * The histograms are per CPU and preallocated (an array): at most 16 MB
 * of them in all, never fewer than 128 keys per CPU.
 */
static void hists_size(struct tracer *t)
{
	__u64 ncpu = libbpf_num_possible_cpus() > 0 ? libbpf_num_possible_cpus() : 1;
	__u32 n = CT_HIST_ENTRIES;

	while (n > 128 && n * sizeof(struct ct_hist_entry) * ncpu > (16u << 20))
		n /= 2;
	bpf_map__set_max_entries(t->skel->maps.hists, n);
	t->skel->rodata->hist_mask = n - 1;
}

/*
 * The minimal BTF for CO-RE (kbtf.h), cut from the kernel's for the types
 * this object reads, staged for libbpf as btf_custom_path. If it cannot be
 * made, libbpf reads the kernel's BTF itself: slower, same result.
 */
static void stage_minimal_btf(struct tracer *t, struct kernel_offer *k)
{
	size_t elf_size, size;
	const void *elf = cifstrace_bpf__elf_bytes(&elf_size);
	struct btf *local = kbtf_of_elf(elf, elf_size);
	void *data = NULL;
	bool with_cifs = t->core.source == CORE_BTF_KERNEL;
	int err = local ? offer_core_btf(k, local, with_cifs, &data, &size) : -EINVAL;

	if (!err && core_btf_stage(&t->core, data, size))
		err = -errno;
	if (err && verbose)
		fprintf(stderr, "cifstrace: no minimal BTF (%s): libbpf reads the kernel's\n",
			strerror(-err));
	free(data);
	btf__free(local);
}

/* Open the skeleton, set each hook's programs to load, set the config, load. */
static int load(struct tracer *t, const struct modes *md, const struct tracer_opts *o,
		bool allow_fentry)
{
	struct bpf_program *p, *use[2];
	const char *kptr = NULL;	/* with -v: how the answer reads the socket */
	__u64 salt;
	__u32 ring;
	int err, i;

	LIBBPF_OPTS(bpf_object_open_opts, oo,
		    .btf_custom_path = t->core.path[0] ? t->core.path : NULL);

	t->skel = cifstrace_bpf__open_opts(&oo);
	if (!t->skel)
		return -errno;
	prealloc_before_6_1(t);
	bpf_object__for_each_program(p, t->skel->obj)
		bpf_program__set_autoload(p, false);
	/*
	 * The ring carries every request only for events and record: 2 MB,
	 * about 4,700 records held through a stall of the reader. Its pages
	 * are mapped into this process and count in its RSS (4 MB: 11 MB).
	 */
	ring = o->ring_kb ? o->ring_kb << 10 : o->emit_requests ? 2 << 20 : 1 << 20;
	bpf_map__set_max_entries(t->skel->maps.events, ring);
	/* per-request records wake the reader once an eighth of it waits */
	t->skel->rodata->batch_bytes = ring / 8;
	/* run on the tick, attached to nothing */
	bpf_program__set_autoload(t->skel->progs.ack_probe, o->ack_from_socket);

	for (int i = 0; i < nr_hooks; i++) {
		enum hook_mode m = md->m[allow_fentry][i];

		if ((m == MODE_FENTRY || m == MODE_TP_BTF) && progs_of(t, i, m, use) == 0)
			m = md->m[0][i];
		if (progs_of(t, i, m, use) == 0)
			m = MODE_NONE;
		t->state[i] = (struct hook_state){ .mode = m };
		for (int j = 0; j < 2; j++)
			if (use[j])
				bpf_program__set_autoload(use[j], true);
	}

	t->skel->rodata->match_ports = !hooked(t, "generic_ip_connect");
	t->skel->rodata->send_hooked = hooked(t, "__smb_send_rqst");
	t->skel->rodata->reconnect_has_conn_id =
		tp_has_field("cifs", "smb3_reconnect", "conn_id");
	if (o->extra_port)
		t->skel->rodata->smb_ports[2] = o->extra_port;
	t->skel->rodata->emit_requests = o->emit_requests;
	t->skel->rodata->slow_ns = o->slow_ns;
	t->skel->rodata->target_tgid = o->target_tgid;
	t->skel->rodata->aggregate = o->aggregate;
	t->skel->rodata->ack_from_socket = o->ack_from_socket;
	/* the socket kept for the answer as a kptr: the fexit stores it */
	i = hook_index("__smb_send_rqst");
	if (o->ack_from_socket && i >= 0 && t->state[i].mode == MODE_FENTRY) {
		if (!t->layout.sk_vmlinux && !t->layout.sk_cast_id) {
			/* the send keeps no socket the verifier takes for the kernel's */
			kptr = "with bpf_probe_read_kernel (cifs's BTF has its own struct sock)";
		} else {
			const char *tag = kptr_tag();

			if (tag && !kbtf_tag_pointer(bpf_object__btf(t->skel->obj), "ct_req_tp",
						     tag))
				t->skel->rodata->sk_kptr = true;
			static char cast[96];

			snprintf(cast, sizeof(cast), "%s (cast with bpf_rdonly_cast: cifs's BTF "
				 "has its own struct sock)", tag ? tag : "");
			kptr = !t->skel->rodata->sk_kptr ? "with bpf_probe_read_kernel" :
			       t->layout.sk_vmlinux ? tag : cast;
		}
	}
	if (o->no_kdc)
		t->skel->rodata->kdc_port = 0;
	/* kernels without server->conn_id: ids derived from addresses, salted */
	if (getrandom(&salt, sizeof(salt), 0) != sizeof(salt))
		salt = monotonic_ns();
	t->skel->rodata->conn_salt = salt;
	hists_size(t);
	if (!t->paths)	/* no path tracepoints: no room for paths */
		bpf_map__set_max_entries(t->skel->maps.tpaths, 1);
	/* 6.12's netfs read/write tracepoints carry two ids first */
	t->skel->rodata->rw_arg_shift =
		tp_has_field("cifs", "smb3_read_done", "rreq_debug_id") ? 2 : 0;
	t->skel->rodata->mount_ctx_arg = t->layout.mount_ctx_arg;
	t->skel->rodata->echo_mid_arg = t->layout.echo_mid_arg;
	t->skel->rodata->sk_vmlinux = t->layout.sk_vmlinux;
	t->skel->rodata->sk_cast_id = t->layout.sk_cast_id;

	err = cifstrace_bpf__load(t->skel);
	if (err) {
		cifstrace_bpf__destroy(t->skel);
		t->skel = NULL;
	} else if (verbose && kptr) {	/* what runs, not what a refused load meant */
		fprintf(stderr, "cifstrace: the answer reads the socket %s\n", kptr);
	}
	return err;
}

/*
 * Room for this many calls of a function in flight (a kretprobe's default
 * is max(10, 2 * CPUs): 64 mounts at once on 5.10 lost 24 mount ends).
 */
#define KRETPROBE_MAXACTIVE 512

/* name: where the tracefs event's name goes (for its removal) */
static struct bpf_link *attach_kretprobe(struct bpf_program *p, const char *fn,
					 char *name, size_t len)
{
	struct bpf_link *link;
	int pfd;

	pfd = kretprobe_open(fn, KRETPROBE_MAXACTIVE, name, len);
	if (pfd < 0) {
		errno = -pfd;
		return NULL;
	}
	link = bpf_program__attach_perf_event(p, pfd);
	if (!link) {
		int err = errno;

		close(pfd);
		kretprobe_remove(name);
		name[0] = '\0';
		errno = err;
		return NULL;
	}
	return link;	/* owns pfd: closed when the link is destroyed */
}

/*
 * Attributes for the helper threads (the kallsyms reader, the detaching):
 * shallow work, on a 128 KiB stack. glibc's default, 8 MiB, lets the
 * kernel back a stack's first touched page with a 2 MiB huge page (THP):
 * 30 detaching threads raised the peak RSS by 3.8 MB at exit.
 */
static const pthread_attr_t *small_stack(void)
{
	static pthread_attr_t attr;
	static bool made;

	if (!made) {
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 128 << 10);
		made = true;
	}
	return &attr;
}

/* Attach hook i's programs into links (room for two); how many. */
static int attach_hook(struct tracer *t, int i, struct attached *links)
{
	struct hook_state *s = &t->state[i];
	struct bpf_program *use[2];
	int n = 0;

	s->attached = progs_of(t, i, s->mode, use) > 0;
	for (int j = 0; j < 2; j++) {
		struct attached *a = &links[n];
		struct bpf_link *link;

		if (!use[j])
			continue;
		a->krp[0] = '\0';
		if (s->mode == MODE_KPROBE && j == 1)
			link = attach_kretprobe(use[j], hooks[i].name, a->krp, sizeof(a->krp));
		else
			link = bpf_program__attach(use[j]);
		if (!link) {
			s->attached = false;
			s->err = -errno;
			continue;
		}
		a->link = link;
		n++;
	}
	return n;
}

struct attach_job {
	struct tracer *t;
	int hook;
	int n;			/* links made */
	struct attached links[2];
	pthread_t th;
	bool started;
};

static void *attach_one(void *arg)
{
	struct attach_job *j = arg;

	j->n = attach_hook(j->t, j->hook, j->links);
	return NULL;
}

/* Hook i's job: in a thread of its own (thread) or here. */
static void attach_start(struct tracer *t, struct attach_job *j, int i, bool thread)
{
	struct bpf_program *use[2];

	if (on_upcalls(t, &hooks[i]) && progs_of(t, i, t->state[i].mode, use)) {
		t->state[i].upcalls = t->upcall_hooks = true;
		return;
	}
	*j = (struct attach_job){ .t = t, .hook = i };
	if (thread)
		j->started = !pthread_create(&j->th, small_stack(), attach_one, j);
	if (!j->started)
		attach_one(j);
}

static bool is_function_hook(const struct hook_state *s)
{
	return s->mode == MODE_FENTRY || s->mode == MODE_KPROBE;
}

/*
 * The function hooks are attached each in a thread of its own, all at
 * once, the tracepoints meanwhile: under emulation a kprobe takes ~20 ms
 * to attach and the send's trampoline ~150 ms, most of it in the kernel
 * (patching code, waiting for the other CPUs), and they partly overlap
 * (attach 0.24-0.27 s instead of 0.28-0.38). The links are gathered in
 * hook order after.
 */
static int attach(struct tracer *t)
{
	struct attach_job jobs[HOOKS_MAX] = {};

	/* the slow ones first, each in its thread; the tracepoints meanwhile */
	for (int i = 0; i < nr_hooks; i++)
		if (is_function_hook(&t->state[i]))
			attach_start(t, &jobs[i], i, true);
	for (int i = 0; i < nr_hooks; i++)
		if (!is_function_hook(&t->state[i]))
			attach_start(t, &jobs[i], i, false);
	for (int i = 0; i < nr_hooks; i++) {
		struct attach_job *j = &jobs[i];

		if (j->started)
			pthread_join(j->th, NULL);
		for (int k = 0; k < j->n; k++)
			t->links[t->nr_links++] = j->links[k];
	}
	for (int i = 0; i < nr_hooks; i++) {
		struct hook_state *s = &t->state[i];

		if ((hooks[i].flags & HOOK_REQUIRED) && !s->attached) {
			fprintf(stderr, "cifstrace: cannot attach to %s (%s): %s\n",
				hooks[i].name, hook_mode_name(s->mode),
				s->mode == MODE_NONE ? "not offered by this kernel" : strerror(-s->err));
			return 2;
		}
	}
	return 0;
}

static void upcall_hooks_set(struct tracer *t, bool on);

static int on_sample(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;
	const struct ct_event *e = data;

	if (size < sizeof(struct ct_event))
		return 0;
	if (e->type == CT_EV_UPCALL && t->upcall_hooks) {
		/* started (no duration yet): its KDC's replies are wanted */
		if (!(e->flags & CT_F_DURATION)) {
			t->upcalls++;
			upcall_hooks_set(t, true);
		} else if (t->upcalls > 0) {
			t->upcalls--;
		}
		t->upcall_ns = monotonic_ns();
	}
	return t->fn(t->fn_ctx, data);
}

/*
 * A KDC's TCP reply sits in page fragments, which kdc.bpf.c reads through
 * the kernel's direct map: it needs the addresses of page_offset_base and
 * vmemmap_base (x86-64, randomized at boot). kallsyms is read (0.2-0.3 s
 * under emulation) in a thread while the BPF object loads, which takes
 * longer, and joined before tracing starts: the first KRB-ERROR after
 * start has its bytes too, and attaching waits for nothing more. Where
 * probing read kallsyms already (no BTF for cifs: 5.10), from that read.
 */
static void *find_ksyms(void *arg)
{
	struct tracer *t = arg;

	ksyms_read(&t->ks, false);
	return NULL;
}

static void ksyms_join(struct tracer *t)
{
	if (t->ksyms_started)
		pthread_join(t->ksyms, NULL);
	t->ksyms_started = false;
}

/* Kerberos: mark the KDC port for tcp_probe, give BPF the kernel's memory map. */
static void kdc_setup(struct tracer *t)
{
	__u16 port = t->skel->rodata->kdc_port;
	__u32 w = port >> 6;
	struct ct_ports v;
	int fd = bpf_map__fd(t->skel->maps.smb_dports);

	ksyms_join(t);
	if (!port)
		return;
	if (!bpf_map_lookup_elem(fd, &w, &v)) {
		v.on[port & 63] = CT_PORT_KDC;
		bpf_map_update_elem(fd, &w, &v, BPF_ANY);
	}
	t->skel->bss->kaddr_vmemmap_base = t->ks.vmemmap_base;
	t->skel->bss->kaddr_page_offset_base = t->ks.page_offset_base;
}

int tracer_open(struct tracer **out, const struct tracer_opts *opts)
{
	struct kernel_offer *k = NULL;
	__u64 t0, t1, t2;
	struct modes md = {};
	struct tracer *t;
	struct stat st;
	int err;

	verbose = opts->verbose;
	libbpf_set_print(libbpf_print);

	t = calloc(1, sizeof(*t));
	if (!t) {
		fprintf(stderr, "cifstrace: out of memory\n");
		return 1;
	}
	t->core.fd = -1;
	uname(&t->uts);
	/* bad input first: a --btf FILE is checked (parsed, once) before the rest */
	if (opts->btf_file) {
		err = core_btf_open(&t->core, t->uts.release, opts->btf_file);
		if (err)
			goto fail;
	}
	err = 2;
	/* state[] and links[] are sized for the hook table */
	if (nr_hooks > HOOKS_MAX) {
		fprintf(stderr, "cifstrace: internal error: hook table larger than the tracer's state\n");
		err = 1;
		goto fail;
	}
	err = check_privileges();
	if (err)
		goto fail;
	err = 2;
	if (stat("/sys/kernel/btf/vmlinux", &st)) {
		fprintf(stderr, "cifstrace: this kernel has no BTF (/sys/kernel/btf/vmlinux); "
				"CO-RE programs cannot load\n");
		goto fail;
	}
	if (!cifs_present()) {
		fprintf(stderr, "cifstrace: this kernel has no cifs module "
				"(modprobe cifs failed); nothing to trace\n");
		goto fail;
	}
	if (!tracefs_dir()) {
		fprintf(stderr, "cifstrace: cannot find or mount tracefs\n");
		goto fail;
	}
	/* with cifs loaded: its own BTF, or one built in */
	if (!opts->btf_file) {
		err = core_btf_open(&t->core, t->uts.release, NULL);
		if (err)
			goto fail;
	}
	if (t->core.source == CORE_BTF_NONE && !opts->quiet_btf)
		fprintf(stderr, "cifstrace: this kernel has no BTF for cifs and cifstrace has none "
				"built in for %s: server names, users, dialects and the network/server "
				"split are missing (see cifstrace check; --btf FILE)\n", t->uts.release);
	t0 = monotonic_ns();
	k = probe_kernel(t->core.pre_fsctx);
	if (!k) {
		fprintf(stderr, "cifstrace: out of memory\n");
		err = 1;
		goto fail;
	}
	t->aggregate = opts->aggregate;
	t->no_kdc = opts->no_kdc;
	t->ack_from_socket = opts->ack_from_socket;
	t->paths = opts->paths || opts->emit_requests || opts->slow_ns;
	choose_modes(k, t, &md);
	/* CO-RE from the minimal BTF where the kernel's own is what it reads */
	if (t->core.source == CORE_BTF_KERNEL || t->core.source == CORE_BTF_NONE)
		stage_minimal_btf(t, k);
	/* the kernel's memory map for KDC replies: read while the object loads */
	if (!opts->no_kdc && !offer_ksyms(k, &t->ks))
		t->ksyms_started = !pthread_create(&t->ksyms, small_stack(), find_ksyms, t);
	offer_layout(k, &t->layout);
	hand_over_btf(k, t->core.path[0]);
	free_offer(k);
	t1 = monotonic_ns();

	/* fentry first; some kernels refuse tracing programs: then kprobes */
	err = load(t, &md, opts, true);
	if (err)
		err = load(t, &md, opts, false);
	core_btf_close(&t->core);	/* libbpf has read it */
	hand_over_done();
	if (err) {
		struct rlimit rl;

		/* before 5.11 BPF memory counts against RLIMIT_MEMLOCK */
		if (err == -EPERM && !getrlimit(RLIMIT_MEMLOCK, &rl) && rl.rlim_cur != RLIM_INFINITY)
			fprintf(stderr, "cifstrace: failed to load BPF programs: %s (this kernel may "
					"count BPF memory as locked memory: raise the limit, e.g. ulimit -l "
					"unlimited or LimitMEMLOCK=infinity)\n", strerror(-err));
		else
			fprintf(stderr, "cifstrace: failed to load BPF programs: %s%s\n",
				strerror(-err), opts->verbose ? "" : " (run with -v for details)");
		ksyms_join(t);
		free(t);
		return 2;
	}
	t2 = monotonic_ns();
	kretprobe_remove_stale();	/* of a cifstrace killed with SIGKILL */
	err = attach(t);
	if (err) {
		tracer_close(t);
		return err;
	}
	if (opts->verbose)
		fprintf(stderr, "cifstrace: probed the kernel in %llu ms, loaded in %llu ms, "
				"attached in %llu ms\n", (t1 - t0) / 1000000, (t2 - t1) / 1000000,
			(monotonic_ns() - t2) / 1000000);
	kdc_setup(t);
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_sample, t, NULL);
	if (!t->rb) {
		fprintf(stderr, "cifstrace: cannot open the ring buffer: %s\n", strerror(errno));
		tracer_close(t);
		return 2;
	}
	t->nr_cpus = libbpf_num_possible_cpus();
	*out = t;
	return 0;
fail:
	core_btf_close(&t->core);
	free(t);
	return err;
}

int tracer_poll(struct tracer *t, int timeout_ms, event_fn fn, void *ctx)
{
	int n, more;

	t->fn = fn;
	t->fn_ctx = ctx;
	n = ring_buffer__poll(t->rb, timeout_ms);
	if (n < 0)
		return n;
	/* and the records submitted without a wakeup (ev_submit_batched()) */
	more = ring_buffer__consume(t->rb);
	return more < 0 ? more : n + more;
}

void tracer_stats(struct tracer *t, __u64 out[CT_STAT_MAX])
{
	__u64 vals[t->nr_cpus > 0 ? t->nr_cpus : 1];

	for (__u32 i = 0; i < CT_STAT_MAX; i++) {
		out[i] = 0;
		if (t->nr_cpus <= 0 ||
		    bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.stats), &i, vals))
			continue;
		for (int c = 0; c < t->nr_cpus; c++)
			out[i] += vals[c];
	}
}

unsigned long long tracer_lost(struct tracer *t)
{
	__u64 st[CT_STAT_MAX];

	tracer_stats(t, st);
	return st[CT_STAT_LOST];
}

/*
 * Read every entry of a hash map into a growing array of key+value pairs
 * (key at offset 0, value at voff). Entries that vanish while we walk are
 * skipped. Returns the count, or -1 out of memory.
 */
static long read_map(int fd, size_t ksz, size_t voff, size_t elsz, void **arr)
{
	char key[64], next[64];
	size_t n = 0;
	char *a = NULL;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, ksz);
		prev = key;
		if (array_room((void **)&a, n, elsz)) {
			free(a);
			return -1;
		}
		memset(a + n * elsz, 0, elsz);
		memcpy(a + n * elsz, key, ksz);
		if (bpf_map_lookup_elem(fd, key, a + n * elsz + voff))
			continue;
		n++;
	}
	*arr = a;
	return n;
}

/*
 * A per-CPU array used as a hash table (the histograms, the error and byte
 * counters): each CPU's entries, of esz bytes, handed to merge, which sums
 * them by key; read a chunk of slots per call (BPF_MAP_LOOKUP_BATCH) where
 * the kernel does it, else a slot per call, only the slots some CPU has
 * used (seen, a byte per slot in the mapped .bss: TABLE_GET in
 * core.bpf.h). Debian's 5.10 fails the batch call on a per-CPU array
 * (ENOTSUPP): an exporter scrape there made 1,971 calls, 182 with seen
 * (its CPU 37 ms, 19 with seen, in the emulated guest).
 */
static int read_percpu(struct tracer *t, struct bpf_map *map, size_t esz, const __u8 *seen,
		       int (*merge)(struct snapshot *, const void *), struct snapshot *s)
{
	enum { CHUNK = 64 };
	int fd = bpf_map__fd(map), ncpu = t->nr_cpus > 0 ? t->nr_cpus : 1;
	__u32 max = bpf_map__max_entries(map), keys[CHUNK], batch, done = 0;
	size_t vsz = (esz + 7) & ~7ul;
	char *vals = calloc((size_t)CHUNK * ncpu, vsz);
	int rc = 0;

	if (!vals)
		return -1;
	while (!t->no_batch && done < max) {
		__u32 count = CHUNK;
		int err;

		DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
		err = bpf_map_lookup_batch(fd, done ? &batch : NULL, &batch, keys, vals, &count,
					   &opts);
		if (err && errno != ENOENT) {
			if (!done)
				t->no_batch = true;	/* and read a slot at a time */
			else
				rc = -1;
			break;
		}
		for (size_t i = 0; i < (size_t)count * ncpu && !rc; i++)
			rc = merge(s, vals + i * vsz);
		done += count;
		if (err || !count)
			break;
	}
	for (__u32 k = 0; t->no_batch && k < max && !rc; k++)
		if (seen[k] && !bpf_map_lookup_elem(fd, &k, vals))
			for (int c = 0; c < ncpu && !rc; c++)
				rc = merge(s, vals + c * vsz);
	free(vals);
	return rc;
}

static int merge_hist(struct snapshot *s, const void *e)
{
	return snapshot_merge_hist(s, e);
}

static int merge_err(struct snapshot *s, const void *e)
{
	return snapshot_merge_err(s, e);
}

static int merge_io(struct snapshot *s, const void *e)
{
	return snapshot_merge_io(s, e);
}

/* The requests in flight, read in place from the mapped table. */
int tracer_snapshot_inflight(struct tracer *t, struct snapshot *s)
{
	s->ts_ns = monotonic_ns();
	return snapshot_read_reqs(s, in_flight(t), CT_REQ_SLOTS) ? -ENOMEM : 0;
}

int tracer_snapshot(struct tracer *t, struct snapshot *s)
{
	struct { __u64 k; struct ct_conn_info v; } *ci = NULL;
	struct { __u64 k; struct ct_conn_stats v; } *cs = NULL;
	long nh, ne, nio, nci, ncs;

	snapshot_free(s);
	if (tracer_snapshot_inflight(t, s))
		return -ENOMEM;
	tracer_stats(t, s->stat);
	nh = read_percpu(t, t->skel->maps.hists, sizeof(struct ct_hist_entry),
			 t->skel->bss->hist_seen, merge_hist, s);
	ne = read_percpu(t, t->skel->maps.errs, sizeof(struct ct_err_entry),
			 t->skel->bss->err_seen, merge_err, s);
	nio = read_percpu(t, t->skel->maps.ios, sizeof(struct ct_io_entry),
			 t->skel->bss->io_seen, merge_io, s);
	nci = read_map(bpf_map__fd(t->skel->maps.conns), sizeof(__u64), sizeof(__u64),
		       sizeof(*ci), (void **)&ci);
	ncs = read_map(bpf_map__fd(t->skel->maps.conn_stats), sizeof(__u64), sizeof(__u64),
		       sizeof(*cs), (void **)&cs);
	if (nh < 0 || ne < 0 || nio < 0 || nci < 0 || ncs < 0) {
		free(ci);
		free(cs);
		snapshot_free(s);
		return -ENOMEM;
	}
	for (long i = 0; i < nci; i++) {
		struct snap_conn *c = snapshot_conn(s, ci[i].k, true);

		if (c) {
			c->has_info = true;
			c->info = ci[i].v;
		}
	}
	for (long i = 0; i < ncs; i++) {
		struct snap_conn *c = snapshot_conn(s, cs[i].k, true);

		if (c) {
			c->has_stats = true;
			c->st = cs[i].v;
		}
	}
	free(ci);
	free(cs);
	return 0;
}

void tracer_forget(struct tracer *t, __u64 conn_id, __u32 pid, __u64 before_ns)
{
	if (!conn_id && !pid)
		return;
	for (size_t i = 0; i < CT_REQ_SLOTS; i++) {
		struct ct_req *r = &in_flight(t)[i];
		__u64 start = __atomic_load_n(&r->enter_ns, __ATOMIC_ACQUIRE);

		/* free the slot unless the kernel reused it meanwhile */
		if (start && start < before_ns &&
		    ((conn_id && r->conn_id == conn_id) || (pid && r->pid == pid)))
			__atomic_compare_exchange_n(&r->enter_ns, &start, 0, false,
						    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
	}
}

void tracer_print_hooks(struct tracer *t, FILE *out)
{
	int w = 4;

	for (int i = 0; i < nr_hooks; i++)
		if ((int)strlen(hooks[i].name) > w)
			w = strlen(hooks[i].name);
	fprintf(out, "%-*s %-17s %-9s %s\n", w, "HOOK", "ATTACHED AS", "STATUS", "GIVES");
	for (int i = 0; i < nr_hooks; i++) {
		const struct hook_state *s = &t->state[i];
		struct bpf_program *use[2];
		const char *as = hook_mode_name(s->mode);

		/* function hooks that need only one side say which */
		if (hooks[i].kind == HOOK_FUNC && progs_of(t, i, s->mode, use) == 1)
			as = s->mode == MODE_FENTRY ? (use[0] ? "fentry" : "fexit") :
			     use[0] ? "kprobe" : "kretprobe";
		/*
		 * off by design: not asked for, a hook only older kernels need,
		 * a path event without its path (open before 6.1)
		 */
		bool off = unasked(t, &hooks[i]) ||
			   ((hooks[i].flags & (HOOK_PRE_FSCTX | HOOK_PRE_CONN_ID | HOOK_PATH)) &&
			    s->mode == MODE_NONE);

		fprintf(out, "%-*s %-17s %-9s %s\n", w, hooks[i].name, off ? "-" : as,
			s->attached ? "ok" : s->upcalls ? "upcalls" : off ? "off" :
			s->mode == MODE_NONE ? "-" : "FAILED", hooks[i].why);
	}
}

const char *tracer_btf_source(struct tracer *t, char *buf, size_t len)
{
	return core_btf_describe(&t->core, buf, len);
}

const char *tracer_kernel(struct tracer *t)
{
	return t->uts.release;
}

void tracer_bpf_stats(struct tracer *t, __u64 *runs, __u64 *run_ns)
{
	struct bpf_program *p;

	*runs = *run_ns = 0;
	bpf_object__for_each_program(p, t->skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(p);

		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		*runs += info.run_cnt;
		*run_ns += info.run_time_ns;
	}
}

/* Detach one link, then remove its tracefs kretprobe (each waits for RCU). */
static void *detach_one(void *arg)
{
	struct attached *a = arg;

	bpf_link__destroy(a->link);
	if (a->krp[0])
		kretprobe_remove(a->krp);
	return NULL;
}

/*
 * The hooks that run for every packet (tcp_probe, the UDP enqueue) are,
 * where ACKs are read from the socket, wanted only for a KDC's replies:
 * attached when an upcall starts (its event comes as the kernel asks for
 * the key: cifs.upcall then starts, reads its configuration and connects,
 * 130-175 ms later in the emulated guest, against a few ms to attach),
 * detached on the tick once no upcall has run for UPCALL_LINGER_NS.
 */
#define UPCALL_LINGER_NS	(5 * 1000000000ull)
/* an upcall whose end was lost (ring full) holds them at most this long */
#define UPCALL_MAX_NS		(600 * 1000000000ull)

static void upcall_hooks_set(struct tracer *t, bool on)
{
	int n = 0;

	if (on == (t->nr_upcall_links > 0))
		return;
	if (!on) {
		for (int k = 0; k < t->nr_upcall_links; k++)
			detach_one(&t->upcall_links[k]);
	}
	for (int i = 0; i < nr_hooks; i++) {
		struct hook_state *s = &t->state[i];

		if (!s->upcalls)
			continue;
		if (!on)
			s->attached = false;
		else if (n + 2 <= (int)(sizeof(t->upcall_links) / sizeof(t->upcall_links[0])))
			n += attach_hook(t, i, &t->upcall_links[n]);
	}
	t->nr_upcall_links = n;
	if (verbose)
		fprintf(stderr, "cifstrace: %s the per-packet hooks (%s)\n",
			on ? "attached" : "detached", on ? "an upcall started" : "no upcall runs");
}

void tracer_tick(struct tracer *t, __u64 now)
{
	if (t->nr_upcall_links && now > t->upcall_ns &&
	    ((!t->upcalls && now - t->upcall_ns > UPCALL_LINGER_NS) ||
	     now - t->upcall_ns > UPCALL_MAX_NS)) {
		t->upcalls = 0;
		upcall_hooks_set(t, false);
	}
}

/*
 * Requests sent more than min_age_ns ago and not ACKed yet: ack_probe
 * (requests.bpf.c) reads their sockets, 12 at a time.
 */
void tracer_sample_acks(struct tracer *t, __u64 min_age_ns)
{
	__u64 slots[CT_ACK_PROBE_MAX] = {}, now = monotonic_ns();
	int fd, n = 0, runs = 0;
	LIBBPF_OPTS(bpf_test_run_opts, ro, .ctx_in = slots, .ctx_size_in = sizeof(slots));

	if (!t->ack_from_socket)
		return;
	fd = bpf_program__fd(t->skel->progs.ack_probe);
	for (size_t i = 0; fd >= 0 && i < CT_REQ_SLOTS && runs < 8; i++) {
		const struct ct_req *r = &in_flight(t)[i];
		__u64 sent = __atomic_load_n(&r->sent_ns, __ATOMIC_RELAXED);

		if (!sent || sent > now || now - sent < min_age_ns || !r->enter_ns ||
		    r->acked_ns || !r->sk)
			continue;
		slots[n++] = i + 1;
		if (n < CT_ACK_PROBE_MAX)
			continue;
		bpf_prog_test_run_opts(fd, &ro);
		runs++;
		n = 0;
		memset(slots, 0, sizeof(slots));
	}
	if (n)
		bpf_prog_test_run_opts(fd, &ro);
}

/*
 * Detaching a kprobe waits for an RCU grace period (75-150 ms each under
 * TCG, 1.3 s for all of them one after the other): the links are
 * destroyed in parallel, so the waits overlap and exit stays fast.
 */
void tracer_close(struct tracer *t)
{
	pthread_t th[2 * HOOKS_MAX];
	bool started[2 * HOOKS_MAX] = {};
	__u64 t0, t1;

	if (!t)
		return;
	t0 = monotonic_ns();
	ksyms_join(t);
	/* detached with the others, in parallel */
	for (int k = 0; k < t->nr_upcall_links && t->nr_links < 2 * HOOKS_MAX; k++)
		t->links[t->nr_links++] = t->upcall_links[k];
	t->nr_upcall_links = 0;
	ring_buffer__free(t->rb);
	for (int i = 0; i < t->nr_links; i++)
		started[i] = !pthread_create(&th[i], small_stack(), detach_one, &t->links[i]);
	for (int i = 0; i < t->nr_links; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		else
			detach_one(&t->links[i]);
	}
	t1 = monotonic_ns();
	cifstrace_bpf__destroy(t->skel);
	if (verbose)
		fprintf(stderr, "cifstrace: detached in %llu ms, unloaded in %llu ms\n",
			(t1 - t0) / 1000000, (monotonic_ns() - t1) / 1000000);
	free(t);
}
