/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kerberos, for the renderers and the diagnosis: error codes, and a
 * KRB-ERROR decoded from the bytes the kernel kept (its first
 * CT_KDC_DATA_LEN: whatever they hold is decoded, a field cut short is
 * left empty). The names of KDC events and messages are in names.h.
 */
#ifndef KRB_H
#define KRB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cifstrace.h"

/* RFC 4120 7.5.9 names ("KDC_ERR_S_PRINCIPAL_UNKNOWN"), NULL if unknown. */
const char *krb_error_name(int32_t code);
/* What the code means, in a few words ("the service principal is unknown"). */
const char *krb_error_text(int32_t code);
/*
 * Errors that are part of a normal exchange (the guide: "errors during
 * pre-authentication are normal"): PREAUTH_REQUIRED asks the client to
 * prove its key, RESPONSE_TOO_BIG to retry over TCP. Never the cause.
 */
bool krb_error_normal(int32_t code);

struct krb_error {
	bool has_code;
	int32_t code;		/* error-code [6] */
	char stime[16];		/* the KDC's clock, "YYYYMMDDHHMMSS" (UTC) */
	char realm[128];	/* realm [9] */
	char sname[256];	/* sname [10]: components joined by '/' */
	char cname[256];	/* cname [8], if the KDC gave it */
	char e_text[256];	/* e-text [11] */
};

/*
 * Decode a KRB-ERROR ([APPLICATION 30]) from its first n bytes. Strings
 * are copied raw (untrusted: escape them on output). 0 if at least the
 * error code was there, -1 otherwise.
 */
int krb_error_decode(const uint8_t *p, size_t n, struct krb_error *out);

/*
 * How many of a KRB-ERROR's first n bytes come before its e-data [12]
 * (method data: salts, FAST armour), n if it has none or they cannot be
 * told apart. Outputs keep only those: the fields above are all before it.
 */
size_t krb_error_keep(const uint8_t *p, size_t n);

/* The bytes a KDC event holds (its data_len, bounded by the array). */
static inline size_t kdc_bytes(const struct ct_event *e)
{
	return e->kdc.data_len < CT_KDC_DATA_LEN ? e->kdc.data_len : CT_KDC_DATA_LEN;
}

/* A KDC reply's KRB-ERROR, decoded: 0, or -1 if it is none or unreadable. */
int krb_error_of(const struct ct_event *e, struct krb_error *out);

#endif
