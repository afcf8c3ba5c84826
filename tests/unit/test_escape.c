// SPDX-License-Identifier: GPL-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "escape.h"

static const char *esc(const char *s, enum escape_mode m)
{
	static char buf[512];

	return escape_str(buf, sizeof(buf), s, strlen(s), m);
}

static void printable_ascii_is_kept(void **state)
{
	assert_string_equal(esc("\\\\srv\\share$ name", ESC_TEXT), "\\\\srv\\share$ name");
	assert_string_equal(esc("\\\\srv\\share$ name", ESC_UTF8), "\\\\srv\\share$ name");
}

static void control_characters_are_escaped_for_terminals(void **state)
{
	assert_string_equal(esc("a\nb\tc\x1b[31m\x7f", ESC_TEXT), "a\\x0ab\\x09c\\x1b[31m\\x7f");
}

static void json_mode_leaves_controls_to_the_json_encoder(void **state)
{
	/* jansson escapes them as \u00XX; they are valid UTF-8 */
	assert_string_equal(esc("a\nb", ESC_UTF8), "a\nb");
}

static void valid_utf8_is_kept(void **state)
{
	assert_string_equal(esc("partage-\xc3\xa9t\xc3\xa9", ESC_TEXT), "partage-\xc3\xa9t\xc3\xa9");
	assert_string_equal(esc("\xe6\x96\x87\xe4\xbb\xb6", ESC_UTF8), "\xe6\x96\x87\xe4\xbb\xb6");
}

static void invalid_utf8_bytes_become_hex(void **state)
{
	assert_string_equal(esc("a\xff" "b", ESC_UTF8), "a\\xffb");
	assert_string_equal(esc("\xc3", ESC_TEXT), "\\xc3");		/* truncated sequence */
	assert_string_equal(esc("\xc0\xaf", ESC_UTF8), "\\xc0\\xaf");	/* overlong '/' */
	assert_string_equal(esc("\xed\xa0\x80", ESC_UTF8), "\\xed\\xa0\\x80"); /* surrogate */
}

static void c1_controls_and_bidi_overrides_are_escaped_for_terminals(void **state)
{
	assert_string_equal(esc("x\xc2\x9by", ESC_TEXT), "x\\xc2\\x9by");	/* CSI */
	assert_string_equal(esc("\xe2\x80\xae" "abc", ESC_TEXT), "\\xe2\\x80\\xaeabc"); /* RLO */
}

static void output_is_bounded_and_terminated(void **state)
{
	char small[8];

	escape_str(small, sizeof(small), "\x01\x02\x03", 3, ESC_TEXT);
	assert_string_equal(small, "\\x01");	/* a second escape would not fit */
	escape_str(small, sizeof(small), "abcdefghijkl", 12, ESC_TEXT);
	assert_string_equal(small, "abcdefg");
}

static void source_without_nul_is_read_up_to_its_size(void **state)
{
	char src[4] = { 'a', 'b', 'c', 'd' };	/* no NUL */
	char out[32];

	assert_string_equal(escape_str(out, sizeof(out), src, sizeof(src), ESC_TEXT), "abcd");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(printable_ascii_is_kept),
		cmocka_unit_test(control_characters_are_escaped_for_terminals),
		cmocka_unit_test(json_mode_leaves_controls_to_the_json_encoder),
		cmocka_unit_test(valid_utf8_is_kept),
		cmocka_unit_test(invalid_utf8_bytes_become_hex),
		cmocka_unit_test(c1_controls_and_bidi_overrides_are_escaped_for_terminals),
		cmocka_unit_test(output_is_bounded_and_terminated),
		cmocka_unit_test(source_without_nul_is_read_up_to_its_size),
	};

	return cmocka_run_group_tests_name("escape", tests, NULL, NULL);
}
