// SPDX-License-Identifier: GPL-2.0
/*
 * cifstrace, kernel side: the maps and settings every file shares (see
 * core.bpf.h for what each holds). States facts; userspace interprets.
 */
#include "core.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load. */
const volatile bool match_ports = false;
const volatile __u16 smb_ports[4] = { 445, 139, 0, 0 };
const volatile bool send_hooked = false;
const volatile bool reconnect_has_conn_id = true;
const volatile bool emit_requests = false;
const volatile __u64 slow_ns = 0;
const volatile __u32 target_tgid = 0;
const volatile __u32 rw_arg_shift = 0;
const volatile __u32 mount_ctx_arg = 2;
const volatile __u32 echo_mid_arg = 0;
const volatile bool sk_vmlinux = true;
const volatile __u32 sk_cast_id = 0;
const volatile bool aggregate = true;
const volatile bool ack_from_socket = false;
const volatile bool sk_kptr = false;
const volatile __u64 conn_salt = 0;
const volatile __u16 kdc_port = 88;
const volatile __u32 hist_mask = CT_HIST_ENTRIES - 1;
const volatile __u32 batch_bytes = 0;
__u64 kaddr_page_offset_base = 0;
__u64 kaddr_vmemmap_base = 0;
__u64 tasks_in_phase = 0;	/* threads in a mount or a mount phase */
struct ct_req reqs[CT_REQ_SLOTS];	/* requests in flight: see core.bpf.h */
__u8 hist_seen[CT_HIST_ENTRIES], err_seen[CT_ERR_ENTRIES], io_seen[CT_IO_ENTRIES];	/* TABLE_GET */

struct events_map events SEC(".maps");
struct stats_map stats SEC(".maps");
struct conns_map conns SEC(".maps");
struct conn_stats_map conn_stats SEC(".maps");
struct tasks_map tasks SEC(".maps");
struct req_tps_map req_tps SEC(".maps");
struct hists_map hists SEC(".maps");
struct errs_map errs SEC(".maps");
struct ios_map ios SEC(".maps");
struct socks_map socks SEC(".maps");
struct fifos_map fifos SEC(".maps");
struct tslots_map tslots SEC(".maps");
struct tpaths_map tpaths SEC(".maps");
struct scratch_map scratch SEC(".maps");
struct smb_dports_map smb_dports SEC(".maps");
struct kdc_socks_map kdc_socks SEC(".maps");

/* req_index() as a global function: verified once (see core.bpf.h) */
__noinline int req_index_of(__u64 sesid, __u64 mid, __u32 tid_task)
{
	return req_index(sesid, mid, tid_task, false);
}
