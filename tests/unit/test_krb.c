// SPDX-License-Identifier: GPL-2.0
/* KRB-ERRORs as Samba's KDC sent them in the Kerberos guest test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "krb.h"
#include "names.h"

/* TGS-REQ for cifs/files.example.test: no such SPN (cut by the kernel at 220 bytes) */
static const char alias_hex[] =
	"7e8201eb308201e7a003020105a10302011ea411180f32303236313132363233323633345aa505020304c7"
	"8aa603020107a70e1b0c4558414d504c452e54455354a8123010a003020101a10930071b05616c696365a9"
	"0e1b0c4558414d504c452e54455354aa253023a003020100a11c301a1b04636966731b1266696c65732e65"
	"78616d706c652e74657374ac82015f0482015b3082015730820153a10402020088a282014904820145a082"
	"01413082013da082013930820135a003020112a282012c048201285580b7fb40e27aeb543e7ff6f3472cc7"
	"4011a5a832";
/* the client's clock an hour ahead */
static const char skew_hex[] =
	"7e4f304da003020105a10302011ea411180f32303236313132363233323633385aa505020309a0b4a60302"
	"0125a9151b133c756e737065636966696564207265616c6d3eaa0b3009a003020100a1023000";
/* AS-REQ with no pre-authentication, carrying e-text and e-data */
static const char preauth_hex[] =
	"7e82012d30820129a003020105a10302011ea411180f32303236313132363233323633305aa505020300dd"
	"c6a603020119a70e1b0c4558414d504c452e54455354a8123010a003020101a10930071b05616c696365a9"
	"0e1b0c4558414d504c452e54455354aa21301fa003020102a11830161b066b72627467741b0c4558414d50"
	"4c452e54455354ab2b1b294e65656420746f207573652050412d454e432d54494d455354414d502f50412d"
	"504b2d41532d524551ac7a047830763009a103020110a20204003009a10302010fa2020400300aa1040202"
	"0093a20204";

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = strlen(h) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned int b;

		sscanf(h + 2 * i, "%2x", &b);
		out[i] = (uint8_t)b;
	}
	return n;
}

static void spn_unknown_names_the_principal_realm_and_client(void **state)
{
	uint8_t b[512];
	size_t n = unhex(alias_hex, b);
	struct krb_error k;

	assert_int_equal(krb_error_decode(b, n, &k), 0);
	assert_int_equal(k.code, 7);
	assert_string_equal(krb_error_name(k.code), "KDC_ERR_S_PRINCIPAL_UNKNOWN");
	assert_string_equal(k.sname, "cifs/files.example.test");
	assert_string_equal(k.realm, "EXAMPLE.TEST");
	assert_string_equal(k.cname, "alice");
	assert_string_equal(k.stime, "20261126232634");
	assert_false(krb_error_normal(k.code));
}

static void skew_has_the_kdc_time_and_no_service(void **state)
{
	uint8_t b[512];
	size_t n = unhex(skew_hex, b);
	struct krb_error k;

	assert_int_equal(krb_error_decode(b, n, &k), 0);
	assert_int_equal(k.code, 37);
	assert_string_equal(krb_error_name(k.code), "KRB_AP_ERR_SKEW");
	assert_string_equal(k.stime, "20261126232638");
	assert_string_equal(k.sname, "");
	assert_string_equal(k.realm, "<unspecified realm>");
}

static void preauth_required_is_normal_and_has_its_text(void **state)
{
	uint8_t b[512];
	size_t n = unhex(preauth_hex, b);
	struct krb_error k;

	assert_int_equal(krb_error_decode(b, n, &k), 0);
	assert_int_equal(k.code, 25);
	assert_true(krb_error_normal(k.code));
	assert_true(krb_error_normal(52));	/* RESPONSE_TOO_BIG: retry over TCP */
	assert_string_equal(k.sname, "krbtgt/EXAMPLE.TEST");
	assert_string_equal(k.e_text, "Need to use PA-ENC-TIMESTAMP/PA-PK-AS-REQ");
}

/* Every prefix: never a crash, never a field that is not whole. */
static void every_truncation_decodes_what_is_whole(void **state)
{
	const char *all[] = { alias_hex, skew_hex, preauth_hex };

	for (size_t t = 0; t < 3; t++) {
		uint8_t b[512], *c;
		size_t n = unhex(all[t], b);
		struct krb_error full, k;

		assert_int_equal(krb_error_decode(b, n, &full), 0);
		for (size_t i = 0; i <= n; i++) {
			c = malloc(i ? i : 1);	/* exact size: ASan sees any overread */
			memcpy(c, b, i);
			if (!krb_error_decode(c, i, &k))
				assert_int_equal(k.code, full.code);
			if (k.sname[0])
				assert_true(!strncmp(full.sname, k.sname, strlen(k.sname)));
			assert_true(krb_error_keep(c, i) <= i);
			free(c);
		}
	}
}

static void e_data_is_not_kept(void **state)
{
	uint8_t b[512];
	size_t n = unhex(alias_hex, b), keep = krb_error_keep(b, n);
	struct krb_error k;

	assert_int_equal(keep, 140);		/* where [12] e-data begins */
	assert_int_equal(b[keep], 0xac);
	assert_int_equal(krb_error_decode(b, keep, &k), 0);
	assert_string_equal(k.sname, "cifs/files.example.test");
	n = unhex(skew_hex, b);
	assert_int_equal(krb_error_keep(b, n), n);	/* no e-data */
}

static void garbage_is_refused(void **state)
{
	uint8_t b[256];
	struct krb_error k;

	srand(1);
	assert_int_equal(krb_error_decode((const uint8_t *)"\x6d\x03\x30\x01\x00", 5, &k), -1);
	assert_int_equal(krb_error_decode(b, 0, &k), -1);
	for (int r = 0; r < 20000; r++) {
		size_t n = (size_t)(rand() % (int)sizeof(b));

		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)rand();
		b[0] = 0x7e;
		if (n > 2)
			b[2] = 0x30;
		krb_error_decode(b, n, &k);	/* must not crash (ASan in make fuzz) */
		assert_true(strlen(k.sname) < sizeof(k.sname));
		assert_true(krb_error_keep(b, n) <= n);
	}
}

static void names(void **state)
{
	assert_string_equal(krb_msg_name(30), "KRB-ERROR");
	assert_string_equal(krb_msg_name(13), "TGS-REP");
	assert_int_equal(krb_msg_by_name("AS-REP"), 11);
	assert_int_equal(krb_msg_by_name("nonsense"), -1);
	assert_string_equal(kdc_kind_name(2), "reply");
	assert_int_equal(kdc_kind_by_name("failed"), 3);
	assert_null(krb_error_name(4242));
	assert_string_equal(krb_error_name(12), "KDC_ERR_POLICY");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spn_unknown_names_the_principal_realm_and_client),
		cmocka_unit_test(skew_has_the_kdc_time_and_no_service),
		cmocka_unit_test(preauth_required_is_normal_and_has_its_text),
		cmocka_unit_test(every_truncation_decodes_what_is_whole),
		cmocka_unit_test(e_data_is_not_kept),
		cmocka_unit_test(garbage_is_refused),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests_name("krb", tests, NULL, NULL);
}
