/* fast_peaks.c: the fast samples between two ticks, kept as each listener's highest queue. */
#include "base.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "fast_peaks.h"
#include "sort.h"

void fast_peaks_init(struct fast_peaks *fp)
{
	memset(fp, 0, sizeof(*fp));
}

void fast_peaks_free(struct fast_peaks *fp)
{
	free(fp->items);
	fast_peaks_init(fp);
}

void fast_peaks_clear(struct fast_peaks *fp)
{
	fp->count = 0;
}

static int peak_cmp(const void *a, const void *b)
{
	const struct fast_peak *x = a, *y = b;

	if (x->cookie != y->cookie)
		return x->cookie < y->cookie ? -1 : 1;
	return 0;
}

/* Return: the peak with this cookie among items[0..n), sorted, or NULL. */
static struct fast_peak *peak_find(struct fast_peak *items, size_t n, uint64_t cookie)
{
	bool found;
	size_t at = sort_find_u64(items, n, sizeof(*items), offsetof(struct fast_peak, cookie), cookie, &found);

	return found ? &items[at] : NULL;
}

const struct fast_peak *fast_peaks_find(const struct fast_peaks *fp, uint64_t cookie)
{
	return peak_find(fp->items, fp->count, cookie);
}

static void peak_note(struct fast_peak *p, const struct listener *l)
{
	if (p->samples == 0 || l->queue > p->queue) {
		p->queue = l->queue;
		p->backlog = l->backlog;
	}
	/* A queue that dips below full between ticks is being accepted from: no stall. */
	if (!listener_queue_full(l))
		p->below_full++;
	p->samples++;
}

/*
 * Listeners already sampled are found by a binary search of the sorted
 * part; new ones are appended and sorted in once, at the end: the first
 * round of an interval brings them all, the next ones none.
 */
int fast_peaks_add(struct fast_peaks *fp, const struct listener_set *set)
{
	size_t sorted = fp->count, i, w;
	int r = 0;

	for (i = 0; i < set->count; i++) {
		const struct listener *l = &set->items[i];
		struct fast_peak *p = peak_find(fp->items, sorted, l->cookie);

		if (!p) {
			void *np;

			if (array_reserve(fp->items, &fp->cap, fp->count + 1, sizeof(*fp->items), &np) < 0) {
				r = -ENOMEM;
				continue;
			}
			fp->items = np;
			p = &fp->items[fp->count++];
			memset(p, 0, sizeof(*p));
			p->cookie = l->cookie;
		}
		peak_note(p, l);
	}
	if (fp->count == sorted)
		return r;
	sort_inplace(fp->items, fp->count, sizeof(*fp->items), peak_cmp);
	/* A dump can show a socket twice: its entries become one. */
	for (i = 1, w = 1; i < fp->count; i++) {
		struct fast_peak *last = &fp->items[w - 1], *p = &fp->items[i];

		if (p->cookie != last->cookie) {
			fp->items[w++] = *p;
			continue;
		}
		if (p->queue > last->queue) {
			last->queue = p->queue;
			last->backlog = p->backlog;
		}
		last->samples += p->samples;
		last->below_full += p->below_full;
	}
	fp->count = w;
	return r;
}

bool fast_peak_hot(const struct fast_peak *p)
{
	return p->backlog > 0 && (uint64_t)p->queue * 2 > p->backlog;
}
