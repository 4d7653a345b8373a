/* sort.c: an introsort (quicksort, heapsort past a depth limit) for the arrays sorted on every tick, which must not allocate. */
#include "base.h"

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

static void heapsort_range(char *b, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	size_t i;

	for (i = n / 2; i-- > 0; )
		sift_down(b, i, n, size, cmp);
	for (i = n - 1; i > 0; i--) {
		swap_bytes(b, b + i * size, size);
		sift_down(b, 0, i, size, cmp);
	}
}

static void insertion_sort(char *b, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	size_t i, j;

	for (i = 1; i < n; i++)
		for (j = i; j > 0 && cmp(b + (j - 1) * size, b + j * size) > 0; j--)
			swap_bytes(b + (j - 1) * size, b + j * size, size);
}

/* Below this many elements insertion sort is quicker than partitioning. */
#define SORT_SMALL 12

/*
 * Quicksort with the median of three as pivot, recursing into the smaller
 * part only (so the stack stays O(log n)); a range that still needs
 * partitioning past depth 2 log2(n) goes to heapsort, which bounds the
 * worst case to O(n log n). Heapsort alone was a quarter of the tick's
 * user time with 10,000 listeners: its sift-downs jump all over the array.
 */
static void introsort(char *b, size_t n, size_t size, int (*cmp)(const void *, const void *),
		      unsigned depth)
{
	while (n > SORT_SMALL) {
		char *mid = b + (n / 2) * size, *last = b + (n - 1) * size;
		size_t i, j;

		if (depth-- == 0) {
			heapsort_range(b, n, size, cmp);
			return;
		}
		/* Order b[0], mid, last; the median goes to b[0] as the pivot. */
		if (cmp(mid, b) < 0)
			swap_bytes(mid, b, size);
		if (cmp(last, mid) < 0) {
			swap_bytes(last, mid, size);
			if (cmp(mid, b) < 0)
				swap_bytes(mid, b, size);
		}
		swap_bytes(b, mid, size);
		/* Hoare: b[1, i) <= pivot, b(j, n) >= pivot; equal keys stop both scans, so runs of them split evenly. */
		i = 1;
		j = n - 1;
		for (;;) {
			while (i <= j && cmp(b + i * size, b) < 0)
				i++;
			while (i <= j && cmp(b + j * size, b) > 0)
				j--;
			if (i >= j)
				break;
			swap_bytes(b + i * size, b + j * size, size);
			i++;
			j--;
		}
		swap_bytes(b, b + j * size, size);
		/* The pivot is at j: recurse into the smaller side, loop on the larger. */
		if (j < n - j - 1) {
			introsort(b, j, size, cmp, depth);
			b += (j + 1) * size;
			n -= j + 1;
		} else {
			introsort(b + (j + 1) * size, n - j - 1, size, cmp, depth);
			n = j;
		}
	}
	insertion_sort(b, n, size, cmp);
}

void sort_inplace(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	unsigned depth = 0;
	size_t m;

	if (n < 2)
		return;
	for (m = n; m > 1; m >>= 1)
		depth += 2;
	introsort(base, n, size, cmp, depth);
}

static uint64_t key_at(const char *b, size_t i, size_t size, size_t off)
{
	uint64_t k;

	memcpy(&k, b + i * size + off, sizeof(k));
	return k;
}

size_t sort_find_u64(const void *base, size_t n, size_t size, size_t off, uint64_t key, bool *found)
{
	const char *b = base;
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_at(b, mid, size, off) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (found)
		*found = lo < n && key_at(b, lo, size, off) == key;
	return lo;
}
