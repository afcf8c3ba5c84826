/* SPDX-License-Identifier: GPL-2.0 */
/* Names for the numbers in a ct_event: one place, used by every renderer. */
#ifndef NAMES_H
#define NAMES_H

#include <stdint.h>
#include <stddef.h>

const char *event_type_name(uint32_t type);	/* "tree_connect" */
int event_type_by_name(const char *name);	/* -1 if unknown */
const char *smb2_cmd_name(uint16_t cmd);	/* "TREE_CONNECT" or "CMD_42" */
int smb2_cmd_by_name(const char *name);		/* -1 if unknown */
const char *mech_name(uint32_t mech);		/* "ntlmssp" */
int mech_by_name(const char *name);
const char *connect_result_name(uint32_t r);	/* "refused" */
int connect_result_by_name(const char *name);
const char *tcp_state_name(uint32_t state);	/* "ESTABLISHED" */
int tcp_state_by_name(const char *name);
/* "3.1.1" for 0x0311; "0x02ff" (wildcard) and unknowns as hex. */
const char *dialect_name(uint16_t dialect, char *buf, size_t len);
int dialect_by_name(const char *name);		/* -1 if unknown */
/*
 * A mount's vers= (struct ct_event mount.vers: the first 4 bytes of the
 * kernel's version string): "3.1.1", "default"; NULL if none or unknown.
 * vers_by_name fills raw from a name; -1 if the name is not one.
 */
const char *vers_name(const char raw[4]);
int vers_by_name(const char *name, char raw[4]);
/* CT_EV_KDC: "reply"; "KRB-ERROR", "TGS-REP"; "tcp". */
const char *kdc_kind_name(uint32_t kind);
int kdc_kind_by_name(const char *name);		/* -1 if unknown */
const char *krb_msg_name(uint32_t msg);		/* "unknown" for 0 and others */
int krb_msg_by_name(const char *name);
const char *krb_proto_name(uint32_t proto);
int krb_proto_by_name(const char *name);
/*
 * What the kernel side could not keep (enum ct_stat), one row per counter
 * for every output: its JSON key (latency's health object), its reason
 * label (cifstrace_not_counted_total; NULL: a metric of its own) and its
 * words (stderr, latency's text).
 */
struct stat_name {
	const char *json;
	const char *reason;
	const char *text;
};
extern const struct stat_name ct_stat_names[];	/* [CT_STAT_MAX] */

/* "ECONNREFUSED" for -111 or 111; "E123" when unknown. */
const char *errno_name(int err, char *buf, size_t len);

#endif
