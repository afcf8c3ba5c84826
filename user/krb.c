// SPDX-License-Identifier: GPL-2.0
/*
 * Kerberos names and a KRB-ERROR reader. The reader walks DER
 * tag-length-value by hand rather than through an ASN.1 library because
 * its input is cut short by design (the kernel keeps a KRB-ERROR's first
 * CT_KDC_DATA_LEN bytes): every field that is whole is used, the first
 * one that is not ends the walk. Tested on KRB-ERRORs captured from
 * Samba's KDC and fuzzed with the stream reader.
 */
#include <stdio.h>
#include <string.h>
#include "cifstrace.h"
#include "krb.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* RFC 4120 7.5.9 and RFC 6806 (WRONG_REALM): the codes a client meets. */
static const struct {
	int32_t code;
	const char *name;
	const char *text;
} krb_errors[] = {
	{ 1, "KDC_ERR_NAME_EXP", "the client's entry in the KDC database has expired" },
	{ 2, "KDC_ERR_SERVICE_EXP", "the server's entry in the KDC database has expired" },
	{ 6, "KDC_ERR_C_PRINCIPAL_UNKNOWN", "the client principal is unknown to the KDC" },
	{ 7, "KDC_ERR_S_PRINCIPAL_UNKNOWN", "the service principal is unknown to the KDC" },
	{ 8, "KDC_ERR_PRINCIPAL_NOT_UNIQUE", "the principal is registered more than once" },
	{ 12, "KDC_ERR_POLICY", "the KDC's policy refuses the ticket" },
	{ 13, "KDC_ERR_BADOPTION", "the KDC cannot grant the requested option" },
	{ 14, "KDC_ERR_ETYPE_NOSUPP", "no encryption type in common with the KDC" },
	{ 18, "KDC_ERR_CLIENT_REVOKED", "the client's credentials have been revoked "
					"(account disabled, locked out or expired)" },
	{ 19, "KDC_ERR_SERVICE_REVOKED", "the service's credentials have been revoked" },
	{ 20, "KDC_ERR_TGT_REVOKED", "the ticket-granting ticket has been revoked" },
	{ 21, "KDC_ERR_CLIENT_NOTYET", "the client is not yet valid" },
	{ 23, "KDC_ERR_KEY_EXPIRED", "the password has expired" },
	{ 24, "KDC_ERR_PREAUTH_FAILED", "pre-authentication failed (wrong password)" },
	{ 25, "KDC_ERR_PREAUTH_REQUIRED", "pre-authentication required (a normal step)" },
	{ 26, "KDC_ERR_SERVER_NOMATCH", "the ticket is not for this server" },
	{ 29, "KDC_ERR_SVC_UNAVAILABLE", "the KDC's service is unavailable" },
	{ 31, "KRB_AP_ERR_BAD_INTEGRITY", "integrity check on decrypted field failed" },
	{ 32, "KRB_AP_ERR_TKT_EXPIRED", "the ticket has expired" },
	{ 33, "KRB_AP_ERR_TKT_NYV", "the ticket is not yet valid" },
	{ 34, "KRB_AP_ERR_REPEAT", "the request is a replay" },
	{ 35, "KRB_AP_ERR_NOT_US", "the ticket is not for us" },
	{ 37, "KRB_AP_ERR_SKEW", "the clocks are too far apart" },
	{ 41, "KRB_AP_ERR_MODIFIED", "the message was modified, or the service key is "
				     "out of date (wrong SPN or keytab)" },
	{ 44, "KRB_AP_ERR_BADKEYVER", "the key version is not available" },
	{ 45, "KRB_AP_ERR_NOKEY", "the service key is not available" },
	{ 52, "KRB_ERR_RESPONSE_TOO_BIG", "the reply is too big for UDP (retry over TCP, "
					  "a normal step)" },
	{ 60, "KRB_ERR_GENERIC", "a generic error" },
	{ 68, "KDC_ERR_WRONG_REALM", "the request is for another realm" },
};

const char *krb_error_name(int32_t code)
{
	for (size_t i = 0; i < NELEM(krb_errors); i++)
		if (krb_errors[i].code == code)
			return krb_errors[i].name;
	return NULL;
}

const char *krb_error_text(int32_t code)
{
	for (size_t i = 0; i < NELEM(krb_errors); i++)
		if (krb_errors[i].code == code)
			return krb_errors[i].text;
	return "an error this tool does not name";
}

bool krb_error_normal(int32_t code)
{
	return code == 25 || code == 52;
}

/* ------------------------------------------------------------ DER */

struct der {
	const uint8_t *p, *end;
};

/*
 * The next element's tag, and its contents in *in. A constructed element
 * whose contents run past the bytes we have is clamped (cut=1): its first
 * fields are still readable; a primitive one that is cut fails (-1).
 */
static int der_next(struct der *d, uint8_t *tag, struct der *in, bool *cut)
{
	size_t len = 0;
	uint8_t b;

	if (d->end - d->p < 2)
		return -1;
	*tag = *d->p++;
	b = *d->p++;
	if (b & 0x80) {
		int n = b & 0x7f;

		if (n == 0 || n > 4 || d->end - d->p < n)
			return -1;
		while (n--)
			len = len << 8 | *d->p++;
	} else {
		len = b;
	}
	*cut = len > (size_t)(d->end - d->p);
	if (*cut && !(*tag & 0x20))
		return -1;
	in->p = d->p;
	in->end = *cut ? d->end : d->p + len;
	d->p = in->end;
	return 0;
}

static int der_int(struct der *d, int32_t *v)
{
	struct der in;
	uint8_t tag;
	bool cut;
	int64_t x;

	if (der_next(d, &tag, &in, &cut) || tag != 0x02 || in.p == in.end || in.end - in.p > 5)
		return -1;
	x = (int8_t)*in.p++;
	while (in.p < in.end)
		x = x * 256 + *in.p++;
	*v = (int32_t)x;
	return 0;
}

/* A string element (GeneralString, GeneralizedTime...) into buf, raw. */
static int der_str(struct der *d, char *buf, size_t len)
{
	struct der in;
	uint8_t tag;
	bool cut;
	size_t n;

	if (der_next(d, &tag, &in, &cut) || (tag & 0x20))
		return -1;
	n = (size_t)(in.end - in.p);
	if (n >= len)
		n = len - 1;
	memcpy(buf, in.p, n);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++)	/* a NUL inside would hide the rest */
		if (!buf[i])
			buf[i] = '?';
	return 0;
}

/* PrincipalName ::= SEQUENCE { name-type [0], name-string [1] SEQUENCE OF } */
static int der_principal(struct der *d, char *buf, size_t len)
{
	struct der seq, f, names;
	uint8_t tag;
	bool cut;

	buf[0] = '\0';
	if (der_next(d, &tag, &seq, &cut) || tag != 0x30)
		return -1;
	while (!der_next(&seq, &tag, &f, &cut)) {
		if (tag != 0xa1)
			continue;
		if (der_next(&f, &tag, &names, &cut) || tag != 0x30)
			return -1;
		while (names.p < names.end) {
			size_t used = strlen(buf);
			char part[128];

			if (der_str(&names, part, sizeof(part)))
				return buf[0] ? 0 : -1;
			snprintf(buf + used, len - used, "%s%s", used ? "/" : "", part);
		}
		return 0;
	}
	return -1;
}

int krb_error_decode(const uint8_t *p, size_t n, struct krb_error *out)
{
	struct der d = { p, p + n }, app, seq, f;
	uint8_t tag;
	bool cut;

	memset(out, 0, sizeof(*out));
	if (der_next(&d, &tag, &app, &cut) || tag != 0x7e ||
	    der_next(&app, &tag, &seq, &cut) || tag != 0x30)
		return -1;
	while (!der_next(&seq, &tag, &f, &cut)) {
		switch (tag) {
		case 0xa4: {	/* stime: GeneralizedTime "YYYYMMDDHHMMSSZ" */
			char t[32];

			if (!der_str(&f, t, sizeof(t)) && strlen(t) >= 14)
				snprintf(out->stime, sizeof(out->stime), "%.14s", t);
			break;
		}
		case 0xa6:
			out->has_code = !der_int(&f, &out->code);
			break;
		case 0xa8:
			der_principal(&f, out->cname, sizeof(out->cname));
			break;
		case 0xa9:
			der_str(&f, out->realm, sizeof(out->realm));
			break;
		case 0xaa:
			der_principal(&f, out->sname, sizeof(out->sname));
			break;
		case 0xab:
			der_str(&f, out->e_text, sizeof(out->e_text));
			break;
		}
		if (cut)
			break;
	}
	return out->has_code ? 0 : -1;
}

size_t krb_error_keep(const uint8_t *p, size_t n)
{
	struct der d = { p, p + n }, app, seq, f;
	const uint8_t *at;
	uint8_t tag;
	bool cut;

	if (der_next(&d, &tag, &app, &cut) || tag != 0x7e ||
	    der_next(&app, &tag, &seq, &cut) || tag != 0x30)
		return n;
	for (at = seq.p; !der_next(&seq, &tag, &f, &cut); at = seq.p) {
		if (tag == 0xac)
			return (size_t)(at - p);
		if (cut)
			break;
	}
	/* e-data's own header may be cut: [12] is the last field */
	return seq.p < seq.end && *seq.p == 0xac ? (size_t)(seq.p - p) : n;
}

int krb_error_of(const struct ct_event *e, struct krb_error *out)
{
	if (e->type != CT_EV_KDC || e->kdc.kind != CT_KDC_REPLY || e->kdc.msg != CT_KRB_ERROR)
		return -1;
	return krb_error_decode(e->kdc.data, kdc_bytes(e), out);
}
