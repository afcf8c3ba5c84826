/* SPDX-License-Identifier: GPL-2.0 */
/* The growing arrays of userspace (snapshots, metrics, map reads). */
#ifndef ARRAY_H
#define ARRAY_H

#include <stdlib.h>

/*
 * Room for element n of the array *a of n elements of size bytes: exact
 * up to 64 elements (so an array built by hand works too), then doubling
 * at each power of two. The same n twice is harmless. -1: out of memory,
 * *a unchanged.
 */
static inline int array_room(void **a, size_t n, size_t size)
{
	void *bigger;

	if (n >= 64 && (n & (n - 1)))
		return 0;
	bigger = realloc(*a, (n < 64 ? n + 1 : 2 * n) * size);
	if (!bigger)
		return -1;
	*a = bigger;
	return 0;
}

#endif
