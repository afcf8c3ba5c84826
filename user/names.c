// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <netinet/in.h>
#include <string.h>
#include "cifstrace.h"
#include "names.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const event_types[CT_EV_TYPE_MAX] = {
	[CT_EV_CONNECT] = "connect",
	[CT_EV_REQUEST] = "request",
	[CT_EV_ACK] = "ack",
	[CT_EV_RESPONSE] = "response",
	[CT_EV_NEGOTIATE] = "negotiate",
	[CT_EV_SESSION_SETUP] = "session_setup",
	[CT_EV_TREE_CONNECT] = "tree_connect",
	[CT_EV_UPCALL] = "upcall",
	[CT_EV_RECONNECT] = "reconnect",
	[CT_EV_TCP_RETRANSMIT] = "tcp_retransmit",
	[CT_EV_TCP_RESET] = "tcp_reset",
	[CT_EV_TCP_FIN] = "tcp_fin",
	[CT_EV_MOUNT] = "mount",
	[CT_EV_MOUNT_DONE] = "mount_done",
	[CT_EV_LOST] = "lost",
	[CT_EV_INFLIGHT] = "inflight",
	[CT_EV_KDC] = "kdc",
};

static const char *const smb2_cmds[CT_SMB2_NR_COMMANDS] = {
	"NEGOTIATE", "SESSION_SETUP", "LOGOFF", "TREE_CONNECT",
	"TREE_DISCONNECT", "CREATE", "CLOSE", "FLUSH", "READ", "WRITE",
	"LOCK", "IOCTL", "CANCEL", "ECHO", "QUERY_DIRECTORY", "CHANGE_NOTIFY",
	"QUERY_INFO", "SET_INFO", "OPLOCK_BREAK",
};

static const char *const mechs[] = {
	[CT_MECH_UNKNOWN] = "unknown",
	[CT_MECH_NTLMV2] = "ntlmv2",
	[CT_MECH_NTLMSSP] = "ntlmssp",
	[CT_MECH_KERBEROS] = "kerberos",
	[CT_MECH_OTHER] = "other",
};

static const char *const connect_results[] = {
	[CT_CONNECT_OK] = "ok",
	[CT_CONNECT_REFUSED] = "refused",
	[CT_CONNECT_TIMEOUT] = "timeout",
	[CT_CONNECT_ERROR] = "error",
	[CT_CONNECT_STARTED] = "started",
};

static const char *const tcp_states[] = {
	[1] = "ESTABLISHED", [2] = "SYN_SENT", [3] = "SYN_RECV",
	[4] = "FIN_WAIT1", [5] = "FIN_WAIT2", [6] = "TIME_WAIT", [7] = "CLOSE",
	[8] = "CLOSE_WAIT", [9] = "LAST_ACK", [10] = "LISTEN", [11] = "CLOSING",
	[12] = "NEW_SYN_RECV",
};

static int index_of(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], name))
			return (int)i;
	return -1;
}

const char *event_type_name(uint32_t type)
{
	return type < NELEM(event_types) && event_types[type] ? event_types[type] : "unknown";
}

int event_type_by_name(const char *name)
{
	return index_of(event_types, NELEM(event_types), name);
}

const char *smb2_cmd_name(uint16_t cmd)
{
	static __thread char buf[16];

	if (cmd < NELEM(smb2_cmds))
		return smb2_cmds[cmd];
	snprintf(buf, sizeof(buf), "CMD_%u", cmd);
	return buf;
}

int smb2_cmd_by_name(const char *name)
{
	unsigned int n;
	char end;

	if (sscanf(name, "CMD_%u%c", &n, &end) == 1 && n <= 0xffff)
		return (int)n;
	return index_of(smb2_cmds, NELEM(smb2_cmds), name);
}

const char *mech_name(uint32_t mech)
{
	return mech < NELEM(mechs) ? mechs[mech] : "unknown";
}

int mech_by_name(const char *name)
{
	return index_of(mechs, NELEM(mechs), name);
}

const char *connect_result_name(uint32_t r)
{
	return r < NELEM(connect_results) ? connect_results[r] : "unknown";
}

int connect_result_by_name(const char *name)
{
	return index_of(connect_results, NELEM(connect_results), name);
}

const char *tcp_state_name(uint32_t state)
{
	return state < NELEM(tcp_states) && tcp_states[state] ? tcp_states[state] : "UNKNOWN";
}

int tcp_state_by_name(const char *name)
{
	return index_of(tcp_states, NELEM(tcp_states), name);
}

const char *dialect_name(uint16_t dialect, char *buf, size_t len)
{
	switch (dialect) {
	case 0x0202: return "2.0.2";
	case 0x0210: return "2.1";
	case 0x0300: return "3.0";
	case 0x0302: return "3.0.2";
	case 0x0311: return "3.1.1";
	}
	snprintf(buf, len, "0x%04x", dialect);
	return buf;
}

int dialect_by_name(const char *name)
{
	static const char *const known[] = { "2.0.2", "2.1", "3.0", "3.0.2", "3.1.1" };
	static const int codes[] = { 0x0202, 0x0210, 0x0300, 0x0302, 0x0311 };
	unsigned int v;
	char end;
	int i = index_of(known, NELEM(known), name);

	if (i >= 0)
		return codes[i];
	if (sscanf(name, "0x%4x%c", &v, &end) == 1)
		return (int)v;
	return -1;
}

/* The kernel's version strings (smb1ops.c, smb2ops.c), told apart by 4 bytes. */
static const char *const vers_names[] = { "1.0", "2.0", "2.1", "3", "3.0", "3.02", "3.1.1",
					  "default" };

const char *vers_name(const char raw[4])
{
	for (size_t i = 0; i < NELEM(vers_names); i++)
		if (!strncmp(raw, vers_names[i], 4))
			return vers_names[i];
	return NULL;
}

int vers_by_name(const char *name, char raw[4])
{
	int i = index_of(vers_names, NELEM(vers_names), name);

	if (i < 0)
		return -1;
	memset(raw, 0, 4);
	memcpy(raw, vers_names[i], strnlen(vers_names[i], 4));
	return 0;
}

const char *errno_name(int err, char *buf, size_t len)
{
	const char *name;

	if (err < 0)
		err = -err;
	/* cifs-internal codes userspace headers lack */
	switch (err) {
	case 512: return "ERESTARTSYS";
	case 524: return "ENOTSUPP";
	}
	name = strerrorname_np(err);
	if (name)
		return name;
	snprintf(buf, len, "E%d", err);
	return buf;
}

/* Kerberos (CT_EV_KDC) */

static const char *const kdc_kinds[] = {
	[CT_KDC_OPEN] = "open", [CT_KDC_REPLY] = "reply",
	[CT_KDC_FAILED] = "failed", [CT_KDC_CLOSED] = "closed",
};

static const char *const krb_msgs[] = {
	[CT_KRB_AS_REQ] = "AS-REQ", [CT_KRB_AS_REP] = "AS-REP",
	[CT_KRB_TGS_REQ] = "TGS-REQ", [CT_KRB_TGS_REP] = "TGS-REP",
	[14] = "AP-REQ", [15] = "AP-REP", [CT_KRB_ERROR] = "KRB-ERROR",
};

const char *kdc_kind_name(uint32_t k)
{
	return k < NELEM(kdc_kinds) && kdc_kinds[k] ? kdc_kinds[k] : "unknown";
}

int kdc_kind_by_name(const char *name)
{
	return index_of(kdc_kinds, NELEM(kdc_kinds), name);
}

const char *krb_msg_name(uint32_t m)
{
	return m < NELEM(krb_msgs) && krb_msgs[m] ? krb_msgs[m] : "unknown";
}

int krb_msg_by_name(const char *name)
{
	return strcmp(name, "unknown") ? index_of(krb_msgs, NELEM(krb_msgs), name) : 0;
}

const char *krb_proto_name(uint32_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "unknown";
}

int krb_proto_by_name(const char *name)
{
	return !strcmp(name, "tcp") ? IPPROTO_TCP : !strcmp(name, "udp") ? IPPROTO_UDP : -1;
}

const struct stat_name ct_stat_names[CT_STAT_MAX] = {
	[CT_STAT_LOST] = { "lost_events", NULL, "events lost (ring buffer full)" },
	[CT_STAT_REQS_FULL] = { "requests_not_timed", "inflight_table_full",
				"requests not timed (in-flight table full)" },
	[CT_STAT_HIST_FULL] = { "histogram_overflow", "histogram_table_full",
				"requests not counted (histogram table full)" },
	[CT_STAT_ERRS_FULL] = { "error_overflow", "error_table_full",
				"error statuses not counted (error table full)" },
	[CT_STAT_ACK_OVERRUN] = { "ack_overrun", "ack_overrun",
				  "ACKs not matched (more unACKed requests than slots)" },
	[CT_STAT_SEND_UNMATCHED] = { "send_unmatched", "send_unmatched",
				     "requests without a time split (their thread's slot was taken)" },
	[CT_STAT_IO_FULL] = { "io_overflow", "io_table_full",
			      "bytes not counted (per-tree byte table full)" },
};
