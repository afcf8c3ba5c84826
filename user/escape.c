// SPDX-License-Identifier: GPL-2.0
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "escape.h"

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Code points a terminal must not receive raw. */
static int unsafe_for_terminal(uint32_t c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) ||
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
	       c == 0x200e || c == 0x200f || c == 0x061c;
}

char *escape_str(char *dst, size_t dstlen, const char *src, size_t srclen,
		 enum escape_mode mode)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t n = src ? strnlen(src, srclen) : 0, o = 0;

	if (!dstlen)
		return dst;
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t len = utf8_seq(s + i, n - i, &cp);
		int raw = len && !(mode == ESC_TEXT && unsafe_for_terminal(cp)) &&
			  !(mode == ESC_UTF8 && cp == '\\' && i + 1 < n && s[i + 1] == 'x');
		size_t need = raw ? len : 4;

		if (o + need >= dstlen)
			break;
		if (raw) {
			memcpy(dst + o, s + i, len);
		} else {
			/* escape one byte; the rest of a bad sequence follows */
			len = len ? len : 1;
			if (len > 1) {
				need = 4 * len;
				if (o + need >= dstlen)
					break;
				for (size_t k = 0; k < len; k++)
					snprintf(dst + o + 4 * k, 5, "\\x%02x", s[i + k]);
			} else {
				snprintf(dst + o, 5, "\\x%02x", s[i]);
			}
		}
		o += need;
		i += len;
	}
	dst[o] = '\0';
	return dst;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int unescape_hex(char *dst, size_t dstlen, const char *src)
{
	size_t o = 0;

	for (size_t i = 0; src[i]; o++) {
		if (o + 1 >= dstlen)
			return -1;
		if (src[i] == '\\' && src[i + 1] == 'x' && hexval(src[i + 2]) >= 0 &&
		    hexval(src[i + 3]) >= 0) {
			dst[o] = (char)(hexval(src[i + 2]) << 4 | hexval(src[i + 3]));
			i += 4;
		} else {
			dst[o] = src[i++];
		}
	}
	if (o >= dstlen)
		return -1;
	dst[o] = '\0';
	return 0;
}
