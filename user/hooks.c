// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "hooks.h"
#include "kbtf.h"

const struct hook hooks[] = {
	/* cifs tracepoints: the wire facts, on every kernel since 5.10 */
	{ "smb3_cmd_enter", "cifs", HOOK_TP, 0, HOOK_REQUIRED,
	  "request start: cmd, mid, session, tree" },
	{ "smb3_cmd_done", "cifs", HOOK_TP, 0, HOOK_REQUIRED,
	  "response with success status" },
	{ "smb3_cmd_err", "cifs", HOOK_TP, 0, HOOK_REQUIRED,
	  "response with error status and errno" },
	{ "smb3_tcon", "cifs", HOOK_TP, 0, 0,
	  "tree connect end: UNC and rc" },
	{ "smb3_reconnect", "cifs", HOOK_TP, 0, 0,
	  "reconnect decision" },
	/* cifs functions: the mount phases and the sockets */
	{ "cifs_smb3_do_mount", NULL, HOOK_FUNC, 3, 0,
	  "mount start, UNC, user, vers, and its errno" },
	{ "cifs_mount", NULL, HOOK_FUNC, 2, HOOK_PRE_FSCTX,
	  "5.10: UNC, user, port and vers (its do_mount has no parsed options)" },
	{ "cifs_reconnect", NULL, HOOK_FUNC, 1, HOOK_PRE_CONN_ID,
	  "before 5.15: which connection smb3_reconnect is about" },
	{ "generic_ip_connect", NULL, HOOK_FUNC, 1, 0,
	  "which TCP sockets are cifs's" },
	{ "SMB2_negotiate", NULL, HOOK_FUNC, 3, 0,
	  "dialect, capabilities, phase time" },
	{ "SMB2_sess_setup", NULL, HOOK_FUNC, 4, 0,
	  "user, domain, mechanism, rounds" },
	{ "SMB2_tcon", NULL, HOOK_FUNC, 5, 0,
	  "tree id, share flags, the connection's dialect" },
	{ "cifs_get_spnego_key", NULL, HOOK_FUNC, 2, 0,
	  "Kerberos upcall time and result" },
	{ "__smb_send_rqst", NULL, HOOK_FUNC, 3, HOOK_HOT,
	  "request on the wire; its TCP sequence (ACKs)" },
	{ "smb2_echo_callback", NULL, HOOK_FUNC, 1, 0,
	  "ECHO's answer (it has no cmd_done): idle mounts never look hung" },
	{ "wait_for_free_credits", NULL, HOOK_FUNC, 5, HOOK_AGGREGATE | HOOK_HOT,
	  "credit stalls; queue time from the wait" },
	{ "smb2_wait_mtu_credits", NULL, HOOK_FUNC, 4, HOOK_AGGREGATE | HOOK_HOT,
	  "credit stalls of reads and writes" },
	{ "smb3_read_done", "cifs", HOOK_TP, 0, HOOK_AGGREGATE,
	  "bytes read per share" },
	{ "smb3_write_done", "cifs", HOOK_TP, 0, HOOK_AGGREGATE,
	  "bytes written per share" },
	{ "smb3_credit_timeout", "cifs", HOOK_TP, 0, HOOK_AGGREGATE,
	  "credit waits that gave up" },
	/* the path an operation names, for the records that leave the kernel */
	{ "smb3_open_enter", "cifs", HOOK_TP, 0, HOOK_PATH,
	  "the path of an open (6.1 on)" },
	{ "smb3_query_info_compound_enter", "cifs", HOOK_TP, 0, HOOK_PATH,
	  "the path of a stat" },
	{ "smb3_delete_enter", "cifs", HOOK_TP, 0, HOOK_PATH,
	  "the path of an unlink" },
	{ "smb3_unlink_enter", "cifs", HOOK_TP, 0, HOOK_PATH,
	  "the path of an unlink (7.x: delete_enter's new name)" },
	{ "smb3_mkdir_enter", "cifs", HOOK_TP, 0, HOOK_PATH,
	  "the path of a mkdir" },
	{ "smb3_rmdir_enter", "cifs", HOOK_TP, 0, HOOK_PATH,
	  "the path of a rmdir" },
	{ "smb3_rename_enter", "cifs", HOOK_TP, 0, HOOK_PATH,
	  "the path of a rename (the source)" },
	{ "smb3_set_info_compound_enter", "cifs", HOOK_TP, 0, HOOK_PATH,
	  "the path of a chmod, utimes..." },
	/* TCP underneath, filtered in the kernel to cifs's sockets */
	{ "inet_sock_set_state", "sock", HOOK_TP, 0, HOOK_REQUIRED,
	  "SYN, connect result, FIN" },
	{ "tcp_probe", "tcp", HOOK_TP, 0, HOOK_TP_BTF | HOOK_SEGMENT,
	  "ACKs of requests (other ports: one test); where read from the socket, a KDC's replies" },
	{ "tcp_retransmit_skb", "tcp", HOOK_TP, 0, 0,
	  "retransmits" },
	{ "tcp_send_reset", "tcp", HOOK_TP, 0, 0,
	  "RST sent" },
	{ "tcp_receive_reset", "tcp", HOOK_TP, 0, 0,
	  "RST received" },
	/* Kerberos: a krb5 mount's upcall asks a KDC; TCP ones come from the two above */
	{ "inet_dgram_connect", NULL, HOOK_FUNC, 4, HOOK_VMLINUX | HOOK_KDC,
	  "UDP sockets to a KDC (port 88)" },
	{ "__udp_enqueue_schedule_skb", NULL, HOOK_FUNC, 2,
	  HOOK_VMLINUX | HOOK_HOT | HOOK_KDC | HOOK_SEGMENT,
	  "a KDC's UDP replies (other ports: one compare)" },
};
const int nr_hooks = sizeof(hooks) / sizeof(hooks[0]);

struct kernel_offer {
	struct kbtf *kb;	/* the kernel's BTF and cifs's, raw; NULL if unreadable */
	struct ksyms ks;	/* read only if BTF lacks a function */
	bool pre_fsctx;		/* cifs mounts with struct smb_vol (5.10) */
	int cifs_fd;		/* a descriptor of cifs's BTF object, or -1 */
	bool nargs_known;
	int nargs[HOOKS_MAX];		/* per hook: its BTF prototype's arguments, -1 absent */
	__u32 btf_id[HOOKS_MAX];	/* the function's (tp_btf: btf_trace_<name>'s) BTF id */
	__u32 tcp_sock_id;		/* the kernel's struct tcp_sock */
	__u32 cast_id;			/* the kfunc bpf_rdonly_cast (6.2 on), or 0 */
};

const char *tracefs_dir(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[128];
	struct stat st;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < 2; i++) {
			snprintf(path, sizeof(path), "%s/events", dirs[i]);
			if (!stat(path, &st))
				return dirs[i];
		}
		if (pass == 0 && mount("tracefs", dirs[0], "tracefs", 0, NULL))
			break;
	}
	return NULL;
}

bool tp_has_field(const char *system, const char *name, const char *field)
{
	const char *dir = tracefs_dir();
	char path[256], line[512], pat[96];
	bool found = false;
	FILE *f;

	if (!dir)
		return false;
	snprintf(path, sizeof(path), "%s/events/%s/%s/format", dir, system, name);
	f = fopen(path, "r");
	if (!f)
		return false;
	snprintf(pat, sizeof(pat), " %s;", field);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "field:") && strstr(line, pat);
	fclose(f);
	return found;
}

static bool tp_exists(const char *system, const char *name)
{
	const char *dir = tracefs_dir();
	char path[256];
	struct stat st;

	if (!dir)
		return false;
	snprintf(path, sizeof(path), "%s/events/%s/%s", dir, system, name);
	return !stat(path, &st);
}

/*
 * /proc/kallsyms, read once for everything cifstrace takes from it (a big
 * file: 0.2-0.3 s under emulation). The kernel's two addresses are in its
 * own symbols, before the modules': without cifs's functions the read
 * stops at them.
 */
int ksyms_read(struct ksyms *ks, bool cifs_funcs)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[512], name[256], mod[64], type;
	unsigned long long addr, pob = 0, vmb = 0;
	size_t len = 1, cap = 1 << 16;
	char *out = NULL;
	int n;

	ks->read = true;
	if (!f)
		return -errno;
	if (cifs_funcs) {
		out = malloc(cap);
		if (!out) {
			fclose(f);
			return -ENOMEM;
		}
		strcpy(out, "\n");
	}
	while (fgets(line, sizeof(line), f)) {
		n = sscanf(line, "%llx %c %255s [%63[^]]]", &addr, &type, name, mod);
		if (n == 3 && !strcmp(name, "page_offset_base"))
			pob = addr;
		else if (n == 3 && !strcmp(name, "vmemmap_base"))
			vmb = addr;
		else if (out && n == 4 && !strcmp(mod, "cifs") && (type == 't' || type == 'T')) {
			size_t l = strlen(name);

			if (len + l + 2 > cap) {
				char *bigger = realloc(out, cap *= 2);

				if (!bigger)
					break;
				out = bigger;
			}
			memcpy(out + len, name, l);
			len += l;
			out[len++] = '\n';
			out[len] = '\0';
		}
		if (!out && pob && vmb)
			break;
	}
	fclose(f);
	free(ks->cifs_funcs);
	ks->cifs_funcs = out;
	if (pob && vmb) {	/* zeros where kallsyms hides addresses */
		ks->page_offset_base = pob;
		ks->vmemmap_base = vmb;
	}
	return 0;
}

void ksyms_free(struct ksyms *ks)
{
	free(ks->cifs_funcs);
	memset(ks, 0, sizeof(*ks));
}

/*
 * The kernel's BTF and cifs's, found among the kernel's BTF objects as
 * libbpf's btf__load_module_btf() finds a module's, with a descriptor of
 * cifs's (fentry and fexit on its functions name it), read raw (kbtf.h).
 * The kernel's comes in one system call this way: sysfs gives its file a
 * page per read (a thousand reads and more). Before 5.11 a BTF object has
 * no name: the kernel's is then read from sysfs, and there is no cifs BTF.
 */
static void load_kernel_btfs(struct kernel_offer *k)
{
	__u32 id = 0;
	int vmlinux_fd = -1;

	while (!bpf_btf_get_next_id(id, &id) && (vmlinux_fd < 0 || k->cifs_fd < 0)) {
		char name[64] = "";
		struct bpf_btf_info info = { .name = (__u64)(unsigned long)name,
					     .name_len = sizeof(name) };
		__u32 len = sizeof(info);
		int fd = bpf_btf_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.kernel_btf) {
			if (!strcmp(name, "vmlinux") && vmlinux_fd < 0) {
				vmlinux_fd = fd;
				continue;
			} else if (!strcmp(name, "cifs") && k->cifs_fd < 0) {
				k->cifs_fd = fd;
				continue;
			}
		}
		close(fd);
	}
	k->kb = kbtf_read(vmlinux_fd, vmlinux_fd >= 0 ? k->cifs_fd : -1);
	if (vmlinux_fd >= 0)
		close(vmlinux_fd);
	if ((!k->kb || !kbtf_has_cifs(k->kb)) && k->cifs_fd >= 0) {
		close(k->cifs_fd);
		k->cifs_fd = -1;
	}
}

struct kernel_offer *probe_kernel(bool pre_fsctx)
{
	struct kernel_offer *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->cifs_fd = -1;
	load_kernel_btfs(k);
	k->pre_fsctx = pre_fsctx;
	return k;
}

void free_offer(struct kernel_offer *k)
{
	if (!k)
		return;
	kbtf_free(k->kb);
	if (k->cifs_fd >= 0)
		close(k->cifs_fd);
	ksyms_free(&k->ks);
	free(k);
}

/*
 * Every hook's BTF id and argument count, -1 where BTF has no such
 * function: cifs's functions in cifs's types, the kernel's and the BTF
 * tracepoints' types (btf_trace_<name>) in all, one walk each; in the
 * first, the kernel's struct tcp_sock and bpf_rdonly_cast (the last two).
 */
static void find_nargs(struct kernel_offer *k)
{
	const char *names[2][HOOKS_MAX + 2];
	char tp[HOOKS_MAX][64];
	int kinds[2][HOOKS_MAX + 2], at[2][HOOKS_MAX + 2], n[2] = {}, nargs[HOOKS_MAX + 2];
	__u32 ids[HOOKS_MAX + 2];

	k->nargs_known = true;
	for (int i = 0; i < nr_hooks; i++) {
		int w = !(hooks[i].flags & HOOK_VMLINUX);	/* 0: all types, 1: cifs's */

		k->nargs[i] = -1;
		if (hooks[i].kind == HOOK_TP && (hooks[i].flags & HOOK_TP_BTF)) {
			snprintf(tp[i], sizeof(tp[i]), "btf_trace_%s", hooks[i].name);
			names[0][n[0]] = tp[i];
			kinds[0][n[0]] = BTF_KIND_TYPEDEF;
			at[0][n[0]++] = i;
		} else if (hooks[i].kind == HOOK_FUNC) {
			names[w][n[w]] = hooks[i].name;
			kinds[w][n[w]] = BTF_KIND_FUNC;
			at[w][n[w]++] = i;
		}
	}
	if (!k->kb)
		return;
	names[0][n[0]] = "tcp_sock";
	kinds[0][n[0]++] = BTF_KIND_STRUCT;
	names[0][n[0]] = "bpf_rdonly_cast";
	kinds[0][n[0]++] = BTF_KIND_FUNC;
	for (int w = 0; w < 2; w++) {
		if (w && !kbtf_has_cifs(k->kb))
			break;
		kbtf_find(k->kb, n[w], names[w], kinds[w], w, ids, nargs);
		for (int j = 0; j < n[w] - (w ? 0 : 2); j++) {
			k->btf_id[at[w][j]] = ids[j];
			k->nargs[at[w][j]] = nargs[j];
		}
		if (!w) {
			k->tcp_sock_id = ids[n[0] - 2];
			k->cast_id = ids[n[0] - 1];
		}
	}
}

/* Argument count of a function in cifs's BTF (or the kernel's), -1 if absent. */
static int btf_nargs(struct kernel_offer *k, const struct hook *h)
{
	if (!k->nargs_known)
		find_nargs(k);
	return k->nargs[h - hooks];
}

/* Its BTF id: a function's, a BTF tracepoint's type; 0 if absent. */
static __u32 btf_id(struct kernel_offer *k, const struct hook *h)
{
	if (!k->nargs_known)
		find_nargs(k);
	return k->btf_id[h - hooks];
}

int offer_core_btf(struct kernel_offer *k, const struct btf *local, bool with_cifs, void **out,
		   size_t *size)
{
	if (!k->kb || (with_cifs && !kbtf_has_cifs(k->kb)))
		return -ENOENT;
	return kbtf_minimal(k->kb, local, out, size);
}

/*
 * What libbpf would search the kernel's BTF for, handed over.
 *
 * libbpf 1.1 parses the kernel's BTF (4 MB and more, the bytes and its copy
 * held at once) for each object it loads with a tracing program, to find
 * the BTF id each fentry, fexit and tp_btf program attaches to; for one on
 * a module's function it walks every type of the kernel's BTF and then of
 * each module's (a fifth of a second in an emulated guest). probe_kernel()
 * found those ids in one walk of the raw BTF, so those sections get a
 * handler that names the id, and where CO-RE reads a custom BTF (the
 * minimal one, or --btf, or the built-in one) the kernel's BTF that libbpf
 * asks for is an empty one: the link wraps libbpf's calls to
 * btf__load_vmlinux_btf() (-Wl,--wrap, see the Makefile). libbpf owns and
 * frees it; a second load parses the kernel's anew.
 */
static struct btf *vmlinux_handover;
static struct {
	__u32 id;
	int fd;		/* the BTF object: cifs's, 0 for the kernel's */
} targets[HOOKS_MAX];
static int cifs_fd = -1;

struct btf *__real_btf__load_vmlinux_btf(void);
struct btf *__wrap_btf__load_vmlinux_btf(void);
struct btf *__wrap_btf__load_vmlinux_btf(void)
{
	struct btf *b = vmlinux_handover;

	vmlinux_handover = NULL;
	return b ? b : __real_btf__load_vmlinux_btf();
}

/*
 * The object's one kfunc, bpf_rdonly_cast (the send's, requests.bpf.c):
 * libbpf resolves a kfunc by its name in the kernel's BTF, which it has
 * none of where CO-RE reads a custom BTF (it would then parse every
 * module's BTF on an empty base, and fail). The kernel BTF handed over
 * holds a stand-in of the same prototype, at cast_shell_id; the programs'
 * calls to it get the kernel's id just before they load (0 where the
 * kernel has none: the call must then be dead code, which the send's
 * sk_cast_id test makes it).
 */
static __u32 cast_shell_id, cast_kernel_id;

static struct btf *cast_shell(void)
{
	struct btf *b = btf__new_empty();
	int ptr, u32, proto;

	if (!b)
		return NULL;
	ptr = btf__add_ptr(b, 0);
	u32 = btf__add_int(b, "unsigned int", 4, 0);
	proto = btf__add_func_proto(b, ptr);
	if (ptr < 0 || u32 < 0 || proto < 0 || btf__add_func_param(b, "obj__ign", ptr) ||
	    btf__add_func_param(b, "btf_id__k", u32)) {
		btf__free(b);
		return NULL;
	}
	cast_shell_id = btf__add_func(b, "bpf_rdonly_cast", BTF_FUNC_GLOBAL, proto);
	if ((int)cast_shell_id < 0)
		cast_shell_id = 0;
	return b;
}

static void cast_resolve(struct bpf_program *prog)
{
	/* libbpf's copy, relocated, which bpf_prog_load() is given next */
	struct bpf_insn *in = (struct bpf_insn *)bpf_program__insns(prog);
	size_t n = bpf_program__insn_cnt(prog);

	for (size_t i = 0; cast_shell_id && i < n; i++)
		if (in[i].code == (BPF_JMP | BPF_CALL) && in[i].src_reg == BPF_PSEUDO_KFUNC_CALL &&
		    !in[i].off && in[i].imm == (int)cast_shell_id)
			in[i].imm = cast_kernel_id;
}

static int target_prepare(struct bpf_program *prog, struct bpf_prog_load_opts *opts,
			  long hook)
{
	opts->attach_btf_id = targets[hook].id;
	opts->attach_btf_obj_fd = targets[hook].fd;
	cast_resolve(prog);
	return 0;
}

static int target_attach(const struct bpf_program *prog, long hook, struct bpf_link **link)
{
	*link = bpf_program__attach_trace(prog);
	return libbpf_get_error(*link);
}

void hand_over_btf(struct kernel_offer *k, bool custom_core)
{
	static bool registered[HOOKS_MAX];

	if (!k->nargs_known)
		find_nargs(k);
	for (int i = 0; i < nr_hooks; i++) {
		static const struct {
			const char *prefix;
			enum bpf_attach_type type;
		} secs[2][2] = {
			{ { "fentry", BPF_TRACE_FENTRY }, { "fexit", BPF_TRACE_FEXIT } },
			{ { "tp_btf", BPF_TRACE_RAW_TP } },
		};
		int tp = hooks[i].kind == HOOK_TP;
		LIBBPF_OPTS(libbpf_prog_handler_opts, ho, .cookie = i,
			    .prog_prepare_load_fn = target_prepare,
			    .prog_attach_fn = target_attach);

		if (!k->btf_id[i] || (hooks[i].kind == HOOK_FUNC && !(hooks[i].flags & HOOK_VMLINUX) &&
				      k->cifs_fd < 0))
			continue;
		targets[i].id = k->btf_id[i];
		targets[i].fd = tp || (hooks[i].flags & HOOK_VMLINUX) ? 0 : k->cifs_fd;
		/* handlers are the process's: registered once, kept */
		for (int j = 0; j < 2 && secs[tp][j].prefix && !registered[i]; j++) {
			char sec[128];

			snprintf(sec, sizeof(sec), "%s/%s", secs[tp][j].prefix, hooks[i].name);
			libbpf_register_prog_handler(sec, BPF_PROG_TYPE_TRACING, secs[tp][j].type, &ho);
		}
		registered[i] = true;
	}
	if (cifs_fd >= 0)
		close(cifs_fd);
	cifs_fd = k->cifs_fd;
	k->cifs_fd = -1;

	btf__free(vmlinux_handover);
	cast_shell_id = 0;
	cast_kernel_id = k->cast_id;
	vmlinux_handover = k->kb && custom_core ? cast_shell() : NULL;
}

void hand_over_done(void)
{
	btf__free(vmlinux_handover);
	vmlinux_handover = NULL;
	/* loaded programs hold the BTF objects they attach to */
	if (cifs_fd >= 0)
		close(cifs_fd);
	cifs_fd = -1;
}

static bool in_kallsyms(struct kernel_offer *k, const char *fn)
{
	char pat[160];

	/* read once, and only when a kprobe is considered */
	if (!k->ks.read)
		ksyms_read(&k->ks, true);
	if (!k->ks.cifs_funcs)
		return false;
	snprintf(pat, sizeof(pat), "\n%s\n", fn);
	return strstr(k->ks.cifs_funcs, pat) != NULL;
}

bool offer_ksyms(const struct kernel_offer *k, struct ksyms *out)
{
	if (!k->ks.read)
		return false;
	out->read = true;
	out->page_offset_base = k->ks.page_offset_base;
	out->vmemmap_base = k->ks.vmemmap_base;
	return true;
}

int hook_index(const char *name)
{
	for (int i = 0; i < nr_hooks; i++)
		if (!strcmp(hooks[i].name, name))
			return i;
	return -1;
}

static int nargs_of(struct kernel_offer *k, const char *fn)
{
	int i = hook_index(fn);

	return i < 0 ? -1 : btf_nargs(k, &hooks[i]);
}

void offer_layout(struct kernel_offer *k, struct kernel_layout *out)
{
	const char *sock[] = { "sock" };
	int kinds[] = { BTF_KIND_STRUCT }, nargs;
	__u32 id = 0;

	out->mount_ctx_arg = nargs_of(k, "cifs_smb3_do_mount") == 2 ? 1 : 2;
	out->echo_mid_arg = nargs_of(k, "smb2_echo_callback") == 2 ? 1 : 0;
	if (k->kb && kbtf_has_cifs(k->kb))
		kbtf_find(k->kb, 1, sock, kinds, true, &id, &nargs);
	out->sk_vmlinux = !id;
	if (!k->nargs_known)
		find_nargs(k);
	out->sk_cast_id = out->sk_vmlinux || !k->cast_id ? 0 : k->tcp_sock_id;
}

enum hook_mode best_mode(struct kernel_offer *k, const struct hook *h, bool allow_fentry)
{
	if (h->kind == HOOK_TP && !tp_exists(h->system, h->name))
		return MODE_NONE;
	if ((h->flags & HOOK_PATH) && !tp_has_field(h->system, h->name, "path"))
		return MODE_NONE;
	if (h->kind == HOOK_TP) {
		/* tp_btf where its type is there (if no BTF was read, libbpf looks) */
		bool typed = !k->kb || btf_id(k, h);

		return allow_fentry && (h->flags & HOOK_TP_BTF) && typed ? MODE_TP_BTF : MODE_TP;
	}
	if ((h->flags & HOOK_PRE_FSCTX) && !k->pre_fsctx)
		return MODE_NONE;
	if ((h->flags & HOOK_PRE_CONN_ID) && tp_has_field("cifs", "smb3_reconnect", "conn_id"))
		return MODE_NONE;
	/* fexit finds the return value by position: the prototype must match */
	if (allow_fentry && (h->flags & HOOK_HOT) && btf_nargs(k, h) == h->nargs)
		return MODE_FENTRY;
	/* a function the module's BTF describes is a symbol a kprobe can take */
	if (btf_nargs(k, h) >= 0)
		return MODE_KPROBE;
	return !(h->flags & HOOK_VMLINUX) && in_kallsyms(k, h->name) ? MODE_KPROBE : MODE_NONE;
}

const char *hook_mode_name(enum hook_mode m)
{
	switch (m) {
	case MODE_TP: return "raw_tp";
	case MODE_TP_BTF: return "tp_btf";
	case MODE_FENTRY: return "fentry/fexit";
	case MODE_KPROBE: return "kprobe/kretprobe";
	default: return "unavailable";
	}
}

/* ------------------------------------------------ kretprobes with maxactive */

#define KRP_GROUP "cifstrace"

static int kprobe_events_write(const char *cmd)
{
	const char *dir = tracefs_dir();
	char path[256];
	ssize_t n;
	int fd, err = 0;

	if (!dir)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/kprobe_events", dir);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, cmd, strlen(cmd));
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

int kretprobe_open(const char *fn, int maxactive, char *name, size_t len)
{
	struct perf_event_attr attr = { .type = PERF_TYPE_TRACEPOINT, .size = sizeof(attr) };
	const char *dir = tracefs_dir();
	char cmd[256], path[256], buf[32];
	int fd, err;
	ssize_t n;

	snprintf(name, len, "ct%d_%s", (int)getpid(), fn);
	snprintf(cmd, sizeof(cmd), "r%d:%s/%s %s\n", maxactive, KRP_GROUP, name, fn);
	err = kprobe_events_write(cmd);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/events/%s/%s/id", dir, KRP_GROUP, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	err = n <= 0 ? -ENOENT : 0;
	if (fd >= 0)
		close(fd);
	if (err) {
		kretprobe_remove(name);
		return err;
	}
	buf[n] = '\0';
	attr.config = strtoull(buf, NULL, 10);
	/* BPF on a tracepoint event runs on every CPU, whatever cpu says */
	fd = syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		kretprobe_remove(name);
		return err;
	}
	return fd;
}

void kretprobe_remove(const char *name)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "-:%s/%s\n", KRP_GROUP, name);
	kprobe_events_write(cmd);
}

void kretprobe_remove_stale(void)
{
	const char *dir = tracefs_dir();
	char path[256], line[512], name[128];
	FILE *f;
	int pid;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/kprobe_events", dir);
	f = fopen(path, "r");
	if (!f)
		return;
	/* r512:cifstrace/ct1234_cifs_mount cifs_mount */
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "r%*d:" KRP_GROUP "/%127s", name) == 1 &&
		    sscanf(name, "ct%d_", &pid) == 1 && pid > 0 && kill(pid, 0) && errno == ESRCH)
			kretprobe_remove(name);
	fclose(f);
}
