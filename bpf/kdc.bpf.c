// SPDX-License-Identifier: GPL-2.0
/*
 * cifstrace, kernel side: Kerberos. A sec=krb5 mount waits in
 * cifs_get_spnego_key while cifs.upcall asks a KDC for a ticket to
 * cifs/<server>; what the KDC answers decides whether SESSION_SETUP is
 * ever sent. The facts, for any process that talks to a KDC (userspace
 * ties them to a mount through its upcall):
 *
 *   open    a socket to the KDC port: TCP SYN sent, UDP connect()
 *   reply   its first data from the KDC: message type and length, the
 *           time since open; for a KRB-ERROR also its first bytes
 *   failed  a TCP connect to the KDC refused or abandoned
 *   closed  a TCP connection to it closed with no reply
 *
 * Only a KRB-ERROR's bytes leave the kernel: it holds names, times and an
 * error code, never a key. AS-REP and TGS-REP (tickets, encrypted keys)
 * give their type and length only; requests (authenticators) nothing.
 *
 * Hooks: inet_sock_set_state and tcp_probe (shared with tcp.bpf.c: a
 * segment from a port that is neither SMB nor the KDC's still costs one
 * array test), inet_dgram_connect (kprobe: rare), and
 * __udp_enqueue_schedule_skb (every UDP datagram the host receives: one
 * port compare before anything else).
 */
#include "core.bpf.h"

/* ------------------------------------------------------------- sockets */

__noinline int kdc_open(__u64 skp, __u32 proto, __u64 uaddrp)
{
	struct sock *sk = (struct sock *)skp;
	struct sockaddr *uaddr = (struct sockaddr *)uaddrp;
	struct ct_kdc_sock s = {
		.open_ns = bpf_ktime_get_ns(),
		.pid = bpf_get_current_pid_tgid() >> 32,
		.proto = proto,
	};
	__u64 key = (__u64)sk;
	struct ct_event *e;

	if (!sk)
		return 0;
	bpf_get_current_comm(s.comm, sizeof(s.comm));
	bpf_map_update_elem(&kdc_socks, &key, &s, BPF_ANY);
	e = ev_new(CT_EV_KDC, 0);
	if (!e)
		return 0;
	if (uaddr) {
		/* UDP before connect() took effect: the address asked for */
		addr_from_sockaddr(&e->daddr, uaddr);
		e->flags |= CT_F_ADDR;
	} else {
		ev_sock_addrs(e, sk);
	}
	e->kdc.kind = CT_KDC_OPEN;
	e->kdc.proto = proto;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

static __always_inline struct ct_event *kdc_event(struct ct_kdc_sock *s, struct sock *sk,
						  __u32 kind)
{
	struct ct_event *e = ev_new_softirq(CT_EV_KDC, 0);

	if (!e)
		return NULL;
	e->pid = s->pid;
	__builtin_memcpy(e->comm, s->comm, sizeof(e->comm));
	ev_sock_addrs(e, sk);
	e->kdc.kind = kind;
	e->kdc.proto = s->proto;
	ev_latency(e, e->ts_ns - s->open_ns);
	return e;
}

/* inet_sock_set_state on a TCP socket to the KDC port. */
__noinline int kdc_state(__u64 skp, int oldstate, int newstate)
{
	struct sock *sk = (struct sock *)skp;
	__u64 key = (__u64)sk;
	struct ct_kdc_sock *s = sk ? bpf_map_lookup_elem(&kdc_socks, &key) : NULL;
	struct ct_event *e;

	if (!s || newstate != TCP_CLOSE)
		return 0;
	if (oldstate == TCP_SYN_SENT) {
		int err = BPF_CORE_READ(sk, sk_err);

		e = kdc_event(s, sk, CT_KDC_FAILED);
		if (e) {
			if (err)
				ev_rc(e, -err);
			bpf_ringbuf_submit(e, 0);
		}
	} else if (!s->replied) {
		e = kdc_event(s, sk, CT_KDC_CLOSED);
		if (e)
			bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&kdc_socks, &key);
	return 0;
}

/* --------------------------------------------------------- packet bytes */

/*
 * n bytes at offset off of a received skb (off counted from skb->data)
 * into dst. The head is read directly; data beyond it sits in page
 * fragments (TCP payload always does), read through the kernel's direct
 * map: page_offset_base + pfn * PAGE_SIZE, pfn from the struct page's
 * place in vmemmap. The loader finds those two variables in kallsyms
 * (x86-64) and sets their addresses here; without them fragments are not
 * read. Only the first fragment: a KRB-ERROR's first bytes are there.
 */
#define PAGE_SHIFT_ 12

/*
 * n, at most max (the destination's size, a constant), tested and passed
 * in one register: clang may otherwise test one copy of n and pass
 * another, whose bound the verifier does not know.
 */
#define data_cap(n, max) ({							\
	__u64 _n = (n);								\
	asm volatile("if %[n] <= %[m] goto +1\n\t"				\
		     "%[n] = %[m]"						\
		     : [n] "+r"(_n) : [m] "i"(max));				\
	_n;									\
})

#define skb_bytes(dst, n, skb, off) skb_bytes_max(dst, n, skb, off, sizeof(dst))

static __always_inline int skb_bytes_max(void *dst, __u32 n, struct sk_buff *skb, __u32 off,
					 const __u32 max)
{
	__u32 headlen = BPF_CORE_READ(skb, len) - BPF_CORE_READ(skb, data_len);
	unsigned char *data = BPF_CORE_READ(skb, data);
	struct { __u64 page; __u32 len; __u32 off; } f;
	struct skb_shared_info *sh;
	__u64 pob = 0, vmb = 0, pfn;

	if (off < headlen) {
		if (n > headlen - off)
			n = headlen - off;	/* the head's part only */
		n = data_cap(n, max);
		return bpf_probe_read_kernel(dst, n, data + off) ? 0 : n;
	}
	off -= headlen;
	if (!kaddr_page_offset_base || !kaddr_vmemmap_base)
		return 0;
	sh = (void *)(BPF_CORE_READ(skb, head) + BPF_CORE_READ(skb, end));
	if (!BPF_CORE_READ(sh, nr_frags))
		return 0;
	/* frags[0]: {page (5.10-6.6 bv_page, 6.7+ netmem), len, offset} alike */
	if (bpf_probe_read_kernel(&f, sizeof(f),
				  (void *)sh + bpf_core_field_offset(struct skb_shared_info, frags)))
		return 0;
	if ((f.page & 1) || off >= f.len)	/* netmem bit 0: not a page */
		return 0;
	if (n > f.len - off)
		n = f.len - off;
	if (bpf_probe_read_kernel(&pob, sizeof(pob), (void *)kaddr_page_offset_base) ||
	    bpf_probe_read_kernel(&vmb, sizeof(vmb), (void *)kaddr_vmemmap_base) ||
	    f.page < vmb)
		return 0;
	pfn = (f.page - vmb) / bpf_core_type_size(struct page);
	n = data_cap(n, max);
	return bpf_probe_read_kernel(dst, n, (void *)(pob + (pfn << PAGE_SHIFT_) + f.off + off)) ?
	       0 : n;
}

/*
 * The first data from the KDC on socket sk: payload at off from
 * skb->data. TCP carries each message after a 4-byte length; UDP one
 * message per datagram. The message type is the first byte's
 * [APPLICATION n] tag.
 */
__noinline int kdc_reply(__u64 skp, __u64 skbp, __u32 off, __u32 proto)
{
	struct sock *sk = (struct sock *)skp;
	struct sk_buff *skb = (struct sk_buff *)skbp;
	__u64 key = (__u64)sk;
	struct ct_kdc_sock *s = sk ? bpf_map_lookup_elem(&kdc_socks, &key) : NULL;
	__u32 len = BPF_CORE_READ(skb, len), plen, hlen = proto == IPPROTO_TCP ? 4 : 0;
	__u8 hdr[5] = {};
	struct ct_event *e;
	int got;

	if (!s || s->replied || off >= len)
		return 0;
	plen = len - off;
	if (plen <= hlen)
		return 0;
	s->replied = 1;
	e = kdc_event(s, sk, CT_KDC_REPLY);
	if (!e)
		return 0;
	e->kdc.msg_len = plen - hlen;
	got = skb_bytes(hdr, hlen + 1, skb, off);
	if (got == (int)hlen + 1) {
		if (hlen)
			e->kdc.msg_len = (hdr[0] & 0x7f) << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3];
		if ((hdr[hlen] & 0xe0) == 0x60)		/* [APPLICATION n], constructed */
			e->kdc.msg = hdr[hlen] & 0x1f;
	}
	if (e->kdc.msg == CT_KRB_ERROR) {
		__u32 want = plen - hlen;

		if (want > e->kdc.msg_len)
			want = e->kdc.msg_len;
		e->kdc.data_len = skb_bytes(e->kdc.data, want, skb, off + hlen);
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* ----------------------------------------------------------------- UDP */

/* connect() of a datagram socket: libkrb5 connects before it sends. */
SEC("kprobe/inet_dgram_connect")
int BPF_KPROBE(kprobe_inet_dgram_connect, struct socket *sock, struct sockaddr *uaddr)
{
	struct sockaddr_in sa = {};
	struct sock *sk;

	if (!kdc_port || bpf_probe_read_kernel(&sa, sizeof(sa), uaddr) ||
	    (sa.sin_family != AF_INET && sa.sin_family != AF_INET6) ||
	    bpf_ntohs(sa.sin_port) != kdc_port)
		return 0;
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_UDP)
		return 0;
	return kdc_open((__u64)sk, IPPROTO_UDP, (__u64)uaddr);
}

/* A datagram queued to its socket; the UDP header is at the transport header. */
static __always_inline int udp_datagram(__u64 skp, __u64 skbp)
{
	struct sk_buff *skb = (struct sk_buff *)skbp;
	unsigned char *head = BPF_CORE_READ(skb, head);
	unsigned char *data = BPF_CORE_READ(skb, data);
	__u16 th = BPF_CORE_READ(skb, transport_header);

	return kdc_reply(skp, skbp, (__u32)(head + th - data) + 8, IPPROTO_UDP);
}

SEC("fentry/__udp_enqueue_schedule_skb")
int BPF_PROG(fentry___udp_enqueue_schedule_skb, struct sock *sk, struct sk_buff *skb)
{
	if (sk->__sk_common.skc_dport != bpf_htons(kdc_port) || !kdc_port)
		return 0;
	return udp_datagram(ctx_arg(ctx, 0), ctx_arg(ctx, 1));
}

SEC("kprobe/__udp_enqueue_schedule_skb")
int BPF_KPROBE(kprobe___udp_enqueue_schedule_skb, struct sock *sk, struct sk_buff *skb)
{
	if (BPF_CORE_READ(sk, __sk_common.skc_dport) != bpf_htons(kdc_port) || !kdc_port)
		return 0;
	return udp_datagram((__u64)sk, (__u64)skb);
}
