/* qhist.c: the recent past of every listener that was ever hot or dropped, for top and explain. */
#include "base.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "qhist.h"
#include "sort.h"

void qhist_init(struct qhist *h)
{
	memset(h, 0, sizeof(*h));
}

void qhist_free(struct qhist *h)
{
	free(h->items);
	free(h->fresh);
	qhist_init(h);
}

/* Hot as the fast sampler means it (queue above half the backlog), or dropping: worth a history. */
static bool qualifies(const struct tick_point *p)
{
	return p && (p->drops_delta > 0 || (p->backlog > 0 && (uint64_t)p->queue * 2 > p->backlog));
}

static void push(struct qhist_entry *e, const struct tick_point *p, uint64_t tick)
{
	e->pts[e->head].queue = p->queue;
	e->pts[e->head].drops = p->drops_delta;
	e->head = (uint16_t)((e->head + 1) % QHIST_POINTS);
	if (e->len < QHIST_POINTS)
		e->len++;
	e->backlog = p->backlog;
	e->newest_tick = tick;
	e->gone = false;
	if (qualifies(p))
		e->hot_tick = tick;
}

/* A new entry for tr, its past taken from the track's shorter history, oldest first. */
static void start(struct qhist_entry *e, const struct tracked *tr, uint64_t tick)
{
	unsigned k = tr->hist_len < QHIST_POINTS ? tr->hist_len : QHIST_POINTS;

	memset(e, 0, sizeof(*e));
	e->cookie = tr->l.cookie;
	while (k-- > 0) {
		const struct tick_point *p = tracked_hist(tr, k);

		if (p)
			push(e, p, tick);
	}
	e->hot_tick = tick;
}

/* Room for want entries and for a tick's fresh ones, before anything changes. */
static int reserve(struct qhist *h, size_t want)
{
	size_t cap = h->cap ? h->cap : 8;
	struct qhist_entry *items;

	if (want > QHIST_MAX)
		want = QHIST_MAX;
	if (want <= h->cap)
		return 0;
	while (cap < want)
		cap *= 2;
	if (cap > QHIST_MAX)
		cap = QHIST_MAX;
	items = realloc(h->items, cap * sizeof(*items));
	if (!items)
		return -ENOMEM;
	h->items = items;
	h->cap = cap;
	return 0;
}

/* Kept ones whose listener vanished more than QHIST_POINTS ticks ago have nothing left to show. */
static void expire(struct qhist *h, uint64_t tick)
{
	size_t n = 0;

	for (size_t i = 0; i < h->count; i++) {
		const struct qhist_entry *e = &h->items[i];

		if (e->gone && tick - e->newest_tick >= QHIST_POINTS)
			continue;
		if (n != i)
			h->items[n] = *e;
		n++;
	}
	h->count = n;
}

/* The entry to give up for a newer one: a vanished one, else the one hot longest ago; none hot this tick. */
static struct qhist_entry *victim(struct qhist *h, uint64_t tick)
{
	struct qhist_entry *best = NULL;

	for (size_t i = 0; i < h->count; i++) {
		struct qhist_entry *e = &h->items[i];

		if (e->hot_tick == tick && !e->gone)
			continue;
		if (!best || (e->gone && !best->gone) ||
		    (e->gone == best->gone && e->hot_tick < best->hot_tick))
			best = e;
	}
	return best;
}

static int cmp_cookie(const void *pa, const void *pb)
{
	const struct qhist_entry *a = pa, *b = pb;

	return a->cookie < b->cookie ? -1 : a->cookie > b->cookie;
}

/*
 * Walk the kept entries and the track's listeners together (both sorted by
 * cookie): a point for each kept one still there, gone for the others, and
 * the first QHIST_MAX listeners that qualify for the first time into
 * h->fresh (counted only, while it is NULL). Return: how many qualified.
 * A second walk in the same tick adds no point.
 */
static size_t walk(struct qhist *h, const struct track *t)
{
	size_t i = 0, j = 0, nfresh = 0;

	while (i < h->count || j < t->count) {
		struct qhist_entry *e = i < h->count ? &h->items[i] : NULL;
		const struct tracked *tr = j < t->count ? &t->items[j] : NULL;

		if (e && (!tr || e->cookie < tr->l.cookie)) {
			e->gone = true;
			i++;
		} else if (tr && (!e || tr->l.cookie < e->cookie)) {
			if (qualifies(tracked_hist(tr, 0))) {
				if (h->fresh && nfresh < QHIST_MAX)
					h->fresh[nfresh] = j;
				nfresh++;
			}
			j++;
		} else {
			const struct tick_point *p = tracked_hist(tr, 0);

			if (p && e->newest_tick != t->ticks)
				push(e, p, t->ticks);
			i++;
			j++;
		}
	}
	return nfresh;
}

int qhist_update(struct qhist *h, const struct track *t)
{
	size_t nfresh, added = 0;
	int r = 0;

	nfresh = walk(h, t);
	/* Most namespaces never have a hot listener: the scratch comes with the first. */
	if (nfresh && !h->fresh) {
		h->fresh = calloc(QHIST_MAX, sizeof(*h->fresh));
		if (!h->fresh)
			return -ENOMEM;
		nfresh = walk(h, t);
	}
	expire(h, t->ticks);
	h->not_kept = nfresh;
	if (nfresh > QHIST_MAX)
		nfresh = QHIST_MAX;
	if (nfresh && reserve(h, h->count + nfresh) < 0)
		r = -ENOMEM;
	for (size_t k = 0; k < nfresh; k++) {
		struct qhist_entry *e = NULL;

		if (h->count < h->cap)
			e = &h->items[h->count++];
		else if (h->count == QHIST_MAX && (e = victim(h, t->ticks)) != NULL)
			h->evicted++;
		if (!e)
			continue;
		start(e, &t->items[h->fresh[k]], t->ticks);
		added++;
		h->not_kept--;
	}
	if (added)
		sort_inplace(h->items, h->count, sizeof(*h->items), cmp_cookie);
	return r;
}

const struct qhist_entry *qhist_find(const struct qhist *h, uint64_t cookie)
{
	bool found;
	size_t at = sort_find_u64(h->items, h->count, sizeof(*h->items), offsetof(struct qhist_entry, cookie),
				  cookie, &found);

	return found ? &h->items[at] : NULL;
}

const struct qhist_point *qhist_at(const struct qhist_entry *e, unsigned k)
{
	if (k >= e->len)
		return NULL;
	return &e->pts[(e->head + QHIST_POINTS - e->len + k) % QHIST_POINTS];
}

uint64_t qhist_drops_last(const struct qhist_entry *e, unsigned n)
{
	uint64_t sum = 0;

	for (unsigned k = e->len > n ? e->len - n : 0; k < e->len; k++)
		sum += qhist_at(e, k)->drops;
	return sum;
}

size_t qhist_bytes(const struct qhist *h)
{
	return h->cap * sizeof(*h->items) + (h->fresh ? QHIST_MAX * sizeof(*h->fresh) : 0);
}
