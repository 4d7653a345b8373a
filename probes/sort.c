/* sort.c: a heapsort for the arrays sorted on every tick, which must not allocate. */
#include "version.h"	/* the autoconf header (_GNU_SOURCE); include/config.h is the config module */

#include <stdint.h>
#include <string.h>

#include "sort.h"

/* Elements are a few dozen bytes at most: swapped a word at a time, then bytes, with no buffer. */
static void swap_bytes(char *a, char *b, size_t size)
{
	for (; size >= sizeof(uint64_t); size -= sizeof(uint64_t)) {
		uint64_t x, y;

		memcpy(&x, a, sizeof(x));
		memcpy(&y, b, sizeof(y));
		memcpy(a, &y, sizeof(y));
		memcpy(b, &x, sizeof(x));
		a += sizeof(x);
		b += sizeof(y);
	}
	while (size--) {
		char t = *a;

		*a++ = *b;
		*b++ = t;
	}
}

/* Move base[root] down until both children are not above it, within base[0, n). */
static void sift_down(char *base, size_t root, size_t n, size_t size,
		      int (*cmp)(const void *, const void *))
{
	for (;;) {
		size_t child = 2 * root + 1;

		if (child >= n)
			return;
		if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size) < 0)
			child++;
		if (cmp(base + root * size, base + child * size) >= 0)
			return;
		swap_bytes(base + root * size, base + child * size, size);
		root = child;
	}
}

/* Heapsort: O(n log n) in the worst case too, and no room beyond the array. */
void sort_inplace(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	char *b = base;
	size_t i;

	if (n < 2)
		return;
	for (i = n / 2; i-- > 0; )
		sift_down(b, i, n, size, cmp);
	for (i = n - 1; i > 0; i--) {
		swap_bytes(b, b + i * size, size);
		sift_down(b, 0, i, size, cmp);
	}
}
