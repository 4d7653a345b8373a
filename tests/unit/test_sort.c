/* test_sort.c: sort_inplace orders every shape of input the ticks give it, as qsort does. */
#include "base.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "sort.h"

/* An element of an odd size: the swap goes word by word, then byte by byte. */
struct odd {
	uint32_t key;
	uint32_t tag;       /* its place in the input: equal keys must keep their payload */
	char pad[5];
};

static int odd_cmp(const void *a, const void *b)
{
	const struct odd *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

enum shape { RANDOM, SORTED, REVERSED, FEW_KEYS, ALL_EQUAL, ORGAN_PIPE, SHAPES };

static uint32_t key_of(enum shape sh, size_t i, size_t n)
{
	switch (sh) {
	case RANDOM:
		return (uint32_t)rand();
	case SORTED:
		return (uint32_t)i;
	case REVERSED:
		return (uint32_t)(n - i);
	case FEW_KEYS:
		return (uint32_t)(rand() % 3);
	case ALL_EQUAL:
		return 7;
	default:
		return (uint32_t)(i < n / 2 ? i : n - i);
	}
}

/* Every shape and many sizes, against qsort: same keys in order, and the same multiset of elements. */
Test(sort, matches_qsort_on_every_shape)
{
	size_t sizes[] = { 0, 1, 2, 3, 11, 12, 13, 17, 100, 1000, 10007 };

	srand(42);
	for (size_t si = 0; si < ARRAY_SIZE(sizes); si++) {
		size_t n = sizes[si];

		for (int sh = 0; sh < SHAPES; sh++) {
			struct odd *a = calloc(n + 1, sizeof(*a)), *b = calloc(n + 1, sizeof(*b));
			uint64_t tags_a = 0, tags_b = 0;

			cr_assert(a && b);
			for (size_t i = 0; i < n; i++) {
				a[i].key = key_of((enum shape)sh, i, n);
				a[i].tag = (uint32_t)i;
				memset(a[i].pad, (int)(i & 0x7f), sizeof(a[i].pad));
			}
			memcpy(b, a, n * sizeof(*a));
			sort_inplace(a, n, sizeof(*a), odd_cmp);
			qsort(b, n, sizeof(*b), odd_cmp);
			for (size_t i = 0; i < n; i++) {
				cr_assert_eq(a[i].key, b[i].key, "n %zu shape %d at %zu", n, sh, i);
				/* Whole elements moved: the payload still matches its tag. */
				cr_assert_eq((unsigned char)a[i].pad[4], a[i].tag & 0x7f);
				tags_a += a[i].tag;
				tags_b += b[i].tag;
			}
			cr_assert_eq(tags_a, tags_b, "no element lost or doubled");
			free(a);
			free(b);
		}
	}
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Input built to defeat a median-of-three pivot still sorts (the heapsort fallback bounds it). */
Test(sort, median_of_three_killer)
{
	size_t n = 4096, i;
	uint32_t *v = malloc(n * sizeof(*v));

	cr_assert_not_null(v);
	/* Musser's construction: pairs that make every median of three the second smallest. */
	for (i = 0; i < n / 2; i++) {
		v[i] = (uint32_t)(i % 2 ? n / 2 + i : i + 1);
		v[n / 2 + i] = (uint32_t)(2 * (i + 1));
	}
	sort_inplace(v, n, sizeof(*v), u32_cmp);
	for (i = 1; i < n; i++)
		cr_assert_leq(v[i - 1], v[i], "at %zu", i);
	free(v);
}

struct keyed {
	uint32_t pad;
	uint64_t key;
	char tail[3];
};

Test(sort, find_u64_first_not_below)
{
	struct keyed v[6] = { { .key = 2 }, { .key = 4 }, { .key = 4 }, { .key = 9 },
			      { .key = UINT64_MAX - 1 }, { .key = UINT64_MAX } };
	size_t off = offsetof(struct keyed, key), n = 6;
	bool found;

	cr_assert_eq(sort_find_u64(v, n, sizeof(v[0]), off, 4, &found), 1, "the first of equal keys");
	cr_assert(found);
	cr_assert_eq(sort_find_u64(v, n, sizeof(v[0]), off, 5, &found), 3);
	cr_assert_not(found);
	cr_assert_eq(sort_find_u64(v, n, sizeof(v[0]), off, 1, &found), 0);
	cr_assert_not(found);
	cr_assert_eq(sort_find_u64(v, n, sizeof(v[0]), off, UINT64_MAX, &found), 5);
	cr_assert(found);
	cr_assert_eq(sort_find_u64(v, 5, sizeof(v[0]), off, UINT64_MAX, &found), 5, "past the end: n");
	cr_assert_not(found);
	cr_assert_eq(sort_find_u64(v, 0, sizeof(v[0]), off, 4, NULL), 0, "empty");
}
