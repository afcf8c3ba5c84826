// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cifstrace.skel.h"
#include "hooks.h"
#include "privileges.h"
#include "tracer.h"

struct tracer {
	struct cifstrace_bpf *skel;
	struct ring_buffer *rb;
	struct hook_state state[32];
	struct bpf_link *links[64];	/* at most two per hook */
	int nr_links;
	event_fn fn;
	void *fn_ctx;
	struct utsname uts;
	int nr_cpus;
};

static bool verbose;

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

static int hook_index(const char *name)
{
	for (int i = 0; i < nr_hooks; i++)
		if (!strcmp(hooks[i].name, name))
			return i;
	return -1;
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

/* Open the skeleton, choose a mode per hook, set the config, load. */
static int load(struct tracer *t, const struct kernel_offer *k, const struct tracer_opts *o,
		bool allow_fentry)
{
	struct bpf_program *p, *use[2];
	int err;

	t->skel = cifstrace_bpf__open();
	if (!t->skel)
		return -errno;
	bpf_object__for_each_program(p, t->skel->obj)
		bpf_program__set_autoload(p, false);

	for (int i = 0; i < nr_hooks; i++) {
		enum hook_mode m = best_mode(k, &hooks[i], allow_fentry);

		if (m == MODE_FENTRY && progs_of(t, i, m, use) < 2)
			m = best_mode(k, &hooks[i], false);
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

	err = cifstrace_bpf__load(t->skel);
	if (err) {
		cifstrace_bpf__destroy(t->skel);
		t->skel = NULL;
	}
	return err;
}

static int attach(struct tracer *t)
{
	struct bpf_program *use[2];

	for (int i = 0; i < nr_hooks; i++) {
		struct hook_state *s = &t->state[i];
		int n = progs_of(t, i, s->mode, use);

		s->attached = n > 0;
		for (int j = 0; j < 2; j++) {
			struct bpf_link *link;

			if (!use[j])
				continue;
			link = bpf_program__attach(use[j]);
			if (!link) {
				s->attached = false;
				s->err = -errno;
				continue;
			}
			t->links[t->nr_links++] = link;
		}
		if (hooks[i].required && !s->attached) {
			fprintf(stderr, "cifstrace: cannot attach to %s (%s): %s\n",
				hooks[i].name, hook_mode_name(s->mode),
				s->mode == MODE_NONE ? "not offered by this kernel" : strerror(-s->err));
			return 2;
		}
	}
	return 0;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct tracer *t = ctx;

	if (size < sizeof(struct ct_event))
		return 0;
	return t->fn(t->fn_ctx, data);
}

int tracer_open(struct tracer **out, const struct tracer_opts *opts)
{
	struct kernel_offer *k = NULL;
	struct tracer *t;
	struct stat st;
	int err;

	verbose = opts->verbose;
	libbpf_set_print(libbpf_print);

	err = check_privileges();
	if (err)
		return err;
	if (stat("/sys/kernel/btf/vmlinux", &st)) {
		fprintf(stderr, "cifstrace: this kernel has no BTF (/sys/kernel/btf/vmlinux); "
				"CO-RE programs cannot load\n");
		return 2;
	}
	if (!cifs_present()) {
		fprintf(stderr, "cifstrace: this kernel has no cifs module "
				"(modprobe cifs failed); nothing to trace\n");
		return 2;
	}
	if (!tracefs_dir()) {
		fprintf(stderr, "cifstrace: cannot find or mount tracefs\n");
		return 2;
	}

	t = calloc(1, sizeof(*t));
	/* state[] and links[] are sized for the hook table */
	if (t && (size_t)nr_hooks > sizeof(t->state) / sizeof(t->state[0])) {
		fprintf(stderr, "cifstrace: internal error: hook table larger than the tracer's state\n");
		free(t);
		return 1;
	}
	k = probe_kernel();
	if (!t || !k) {
		fprintf(stderr, "cifstrace: out of memory\n");
		free(t);
		free_offer(k);
		return 1;
	}
	uname(&t->uts);

	/* fentry first; some kernels refuse tracing programs: then kprobes */
	err = load(t, k, opts, true);
	if (err)
		err = load(t, k, opts, false);
	free_offer(k);
	if (err) {
		fprintf(stderr, "cifstrace: failed to load BPF programs: %s%s\n",
			strerror(-err), opts->verbose ? "" : " (run with -v for details)");
		free(t);
		return 2;
	}
	err = attach(t);
	if (err) {
		tracer_close(t);
		return err;
	}
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), on_sample, t, NULL);
	if (!t->rb) {
		fprintf(stderr, "cifstrace: cannot open the ring buffer: %s\n", strerror(errno));
		tracer_close(t);
		return 2;
	}
	t->nr_cpus = libbpf_num_possible_cpus();
	*out = t;
	return 0;
}

int tracer_poll(struct tracer *t, int timeout_ms, event_fn fn, void *ctx)
{
	t->fn = fn;
	t->fn_ctx = ctx;
	return ring_buffer__poll(t->rb, timeout_ms);
}

unsigned long long tracer_lost(struct tracer *t)
{
	__u64 vals[t->nr_cpus > 0 ? t->nr_cpus : 1];
	unsigned long long sum = 0;
	__u32 zero = 0;

	if (t->nr_cpus <= 0 || bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.lost), &zero, vals))
		return 0;
	for (int i = 0; i < t->nr_cpus; i++)
		sum += vals[i];
	return sum;
}

void tracer_print_hooks(struct tracer *t, FILE *out)
{
	fprintf(out, "%-22s %-17s %-9s %s\n", "HOOK", "ATTACHED AS", "STATUS", "GIVES");
	for (int i = 0; i < nr_hooks; i++) {
		const struct hook_state *s = &t->state[i];

		fprintf(out, "%-22s %-17s %-9s %s\n", hooks[i].name, hook_mode_name(s->mode),
			s->attached ? "ok" : s->mode == MODE_NONE ? "-" : "FAILED", hooks[i].why);
	}
}

const char *tracer_kernel(struct tracer *t)
{
	return t->uts.release;
}

void tracer_close(struct tracer *t)
{
	if (!t)
		return;
	ring_buffer__free(t->rb);
	for (int i = 0; i < t->nr_links; i++)
		bpf_link__destroy(t->links[i]);
	cifstrace_bpf__destroy(t->skel);
	free(t);
}
