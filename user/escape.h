/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Strings from the kernel or the network (host, share and user names) are
 * untrusted: these make them safe for a terminal or for JSON.
 */
#ifndef ESCAPE_H
#define ESCAPE_H

#include <stddef.h>

enum escape_mode {
	/*
	 * For a terminal: keep printable ASCII and valid UTF-8 except C1
	 * controls and bidi overrides; everything else becomes \xNN.
	 */
	ESC_TEXT,
	/*
	 * For JSON (jansson then escapes quotes and controls): keep valid
	 * UTF-8, turn each byte of an invalid sequence into the text \xNN,
	 * and a backslash that precedes 'x' into \x5c, so that
	 * unescape_hex() gives back the original bytes exactly.
	 */
	ESC_UTF8,
};

/*
 * Inverse of ESC_UTF8: every \xNN becomes byte NN. Returns 0, or -1 if the
 * result (with its NUL) does not fit in dstlen.
 */
int unescape_hex(char *dst, size_t dstlen, const char *src);

/*
 * Escape at most srclen bytes of src (stopping at a NUL) into dst, always
 * NUL-terminated. Returns dst. Output is cut at a character boundary if
 * dst is too small; 4 * srclen + 1 bytes are always enough.
 */
char *escape_str(char *dst, size_t dstlen, const char *src, size_t srclen,
		 enum escape_mode mode);

#endif
