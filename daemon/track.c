/* track.c: listeners matched across ticks by cookie, with per-listener deltas and a history ring. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "track.h"

/* One listener of a dump, keyed for sorting: cookie first, dump position second. */
struct key {
	uint64_t cookie;
	size_t idx;
};

static int key_cmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;

	if (x->cookie != y->cookie)
		return x->cookie < y->cookie ? -1 : 1;
	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	return 0;
}

/*
 * Make room for want elements of size sz in the array p of *cap elements.
 * *out is the (maybe moved) array. Return: 0, or -ENOMEM with p untouched.
 */
static int reserve(void *p, size_t *cap, size_t want, size_t sz, void **out)
{
	size_t ncap;
	void *np;

	*out = p;
	if (want <= *cap)
		return 0;
	ncap = *cap ? *cap : 8;
	while (ncap < want) {
		if (ncap > SIZE_MAX / 2)
			return -ENOMEM;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / sz)
		return -ENOMEM;
	np = realloc(p, ncap * sz);
	if (!np)
		return -ENOMEM;
	*out = np;
	*cap = ncap;
	return 0;
}

/*
 * The counters kept in t are copies owned by track: they are filled and freed
 * here, so that the caller may reuse its own buffer for the next read.
 */
static void counters_copy_into(struct counters *dst, const struct counters *src)
{
	/* The caller has reserved room for src->count items. */
	if (src && src->count)
		memcpy(dst->items, src->items, src->count * sizeof(*src->items));
	dst->count = src ? src->count : 0;
	dst->malformed = src ? src->malformed : 0;
}

static void counters_release(struct counters *c)
{
	free(c->items);
	memset(c, 0, sizeof(*c));
}

static void hist_push(struct tracked *tr, uint32_t drops_delta)
{
	struct tick_point *p = &tr->hist[tr->hist_head];

	p->queue = tr->l.queue;
	p->backlog = tr->l.backlog;
	p->drops_delta = drops_delta;
	tr->hist_head = (tr->hist_head + 1) % TRACK_HISTORY;
	if (tr->hist_len < TRACK_HISTORY)
		tr->hist_len++;
}

/* The kernel's sk_acceptq_is_full: the queue holds backlog + 1 when full. */
static bool listener_full(const struct listener *l)
{
	return l->queue > l->backlog;
}

/*
 * born_since_prev: the listener appeared after an earlier update, so it was
 * created since then and every drop it shows happened in this tick's
 * interval. A short burst on a fresh listener is not lost that way. A
 * listener found at the first update has a past we did not see: no delta.
 */
static void tracked_start(struct tracked *tr, const struct listener *l, int64_t now_ms,
			  bool born_since_prev)
{
	uint32_t delta = born_since_prev && l->has_drops ? l->drops : 0;

	memset(tr, 0, sizeof(*tr));
	tr->l = *l;
	tr->first_seen_ms = now_ms;
	tr->last_seen_ms = now_ms;
	tr->drops_first = l->drops - delta;
	tr->drops_delta = delta;
	tr->drops_total = delta;
	tr->peak_queue = l->queue;
	tr->ticks_full = listener_full(l) ? 1 : 0;
	tr->ticks_seen = 1;
	hist_push(tr, delta);
}

static void tracked_advance(struct tracked *tr, const struct listener *l, int64_t now_ms)
{
	uint32_t delta = 0;

	/*
	 * Without SKMEMINFO on either side there is nothing to compare. A counter
	 * that went backwards is not the same socket's counter (cookie reuse):
	 * count nothing rather than a wrapped, huge delta.
	 */
	if (l->has_drops && tr->l.has_drops && l->drops >= tr->l.drops)
		delta = l->drops - tr->l.drops;
	tr->l = *l;
	tr->last_seen_ms = now_ms;
	tr->drops_delta = delta;
	tr->drops_total += delta;
	if (l->queue > tr->peak_queue)
		tr->peak_queue = l->queue;
	tr->ticks_full = listener_full(l) ? tr->ticks_full + 1 : 0;
	tr->ticks_seen++;
	hist_push(tr, delta);
}

void track_init(struct track *t)
{
	memset(t, 0, sizeof(*t));
	t->limits.somaxconn = SYSCTL_UNKNOWN;
	t->limits.tcp_max_syn_backlog = SYSCTL_UNKNOWN;
	t->limits.tcp_syncookies = SYSCTL_UNKNOWN;
	t->limits.tcp_abort_on_overflow = SYSCTL_UNKNOWN;
}

void track_free(struct track *t)
{
	free(t->items);
	free(t->new_inodes);
	counters_release(&t->host_prev);
	counters_release(&t->host_cur);
	track_init(t);
}

/*
 * The update runs in two phases: everything that can fail (the sort keys, the
 * room for listeners, new inodes and counters) is allocated first, and only
 * then is t changed, by steps that cannot fail. So an -ENOMEM leaves t exactly
 * as the previous tick left it.
 *
 * t->items is kept sorted by cookie: matching is a merge of two sorted lists,
 * and track_find a binary search.
 */
int track_update(struct track *t, const struct listener_set *now,
		 const struct counters *host, const struct limits *limits, int64_t now_ms)
{
	size_t n = now ? now->count : 0;
	size_t host_n = host ? host->count : 0;
	struct key *keys = NULL;
	size_t u = 0, k = 0, i, j, w;
	int rc = -ENOMEM;
	void *np;

	if (n) {
		if (n > SIZE_MAX / sizeof(*keys))
			return -ENOMEM;
		keys = malloc(n * sizeof(*keys));
		if (!keys)
			return -ENOMEM;
		for (i = 0; i < n; i++) {
			keys[i].cookie = now->items[i].cookie;
			keys[i].idx = i;
		}
		qsort(keys, n, sizeof(*keys), key_cmp);
		/* A dump can show a socket twice (inet_diag resumes, never restarts): keep its first entry. */
		for (i = 0; i < n; i++)
			if (u == 0 || keys[i].cookie != keys[u - 1].cookie)
				keys[u++] = keys[i];
	}

	/* Count the cookies not tracked yet: they need room in items and new_inodes. */
	for (i = 0, j = 0; j < u; ) {
		if (i < t->count && t->items[i].l.cookie < keys[j].cookie) {
			i++;
		} else if (i < t->count && t->items[i].l.cookie == keys[j].cookie) {
			i++;
			j++;
		} else {
			k++;
			j++;
		}
	}

	/* Survivors + new ones = u; before compaction items still holds t->count. */
	if (reserve(t->items, &t->cap, u, sizeof(*t->items), &np) < 0)
		goto out;
	t->items = np;
	if (reserve(t->new_inodes, &t->new_cap, k, sizeof(*t->new_inodes), &np) < 0)
		goto out;
	t->new_inodes = np;
	/* host_prev's buffer becomes host_cur after the swap below. */
	if (reserve(t->host_prev.items, &t->host_prev.cap, host_n,
		    sizeof(*t->host_prev.items), &np) < 0)
		goto out;
	t->host_prev.items = np;

	/* Nothing below can fail. */

	/*
	 * Forward merge: advance the matched, drop the vanished by compacting in
	 * place (whole structs move, so the caller's owner data goes with them),
	 * and gather the unmatched keys at the front of keys[].
	 */
	for (i = 0, j = 0, w = 0, k = 0; i < t->count || j < u; ) {
		if (j >= u || (i < t->count && t->items[i].l.cookie < keys[j].cookie)) {
			i++;    /* vanished */
		} else if (i < t->count && t->items[i].l.cookie == keys[j].cookie) {
			tracked_advance(&t->items[i], &now->items[keys[j].idx], now_ms);
			if (w != i)
				t->items[w] = t->items[i];
			w++;
			i++;
			j++;
		} else {
			keys[k++] = keys[j++];
		}
	}

	/*
	 * Backward merge of the new ones into the sorted survivors [0, w). The
	 * write position d = i + j - 1 is never below the next survivor read
	 * (i - 1) and is above it when a new entry is written, so no unread
	 * survivor is overwritten.
	 */
	t->new_count = 0;
	i = w;
	j = k;
	while (j > 0) {
		size_t d = i + j - 1;

		if (i > 0 && t->items[i - 1].l.cookie > keys[j - 1].cookie) {
			t->items[d] = t->items[i - 1];
			i--;
		} else {
			const struct listener *l = &now->items[keys[j - 1].idx];

			tracked_start(&t->items[d], l, now_ms, t->ticks > 0);
			j--;
		}
	}
	t->count = w + k;
	/* New inodes in cookie order; procmap does not care about order. */
	for (j = 0; j < k; j++)
		t->new_inodes[t->new_count++] = now->items[keys[j].idx].inode;

	/* Host counters: the previous current becomes prev, reusing buffers. */
	{
		struct counters tmp = t->host_prev;

		t->host_prev = t->host_cur;
		t->host_cur = tmp;
		counters_copy_into(&t->host_cur, host);
	}
	t->have_prev = t->ticks >= 1;

	if (limits) {
		t->limits = *limits;
	} else {
		t->limits.somaxconn = SYSCTL_UNKNOWN;
		t->limits.tcp_max_syn_backlog = SYSCTL_UNKNOWN;
		t->limits.tcp_syncookies = SYSCTL_UNKNOWN;
		t->limits.tcp_abort_on_overflow = SYSCTL_UNKNOWN;
	}
	t->prev_ms = t->ticks ? t->now_ms : 0;
	t->now_ms = now_ms;
	t->ticks++;
	rc = 0;
out:
	free(keys);
	return rc;
}

struct tracked *track_find(const struct track *t, uint64_t cookie)
{
	size_t lo = 0, hi = t->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t c = t->items[mid].l.cookie;

		if (c == cookie)
			return &t->items[mid];
		if (c < cookie)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool track_host_delta(const struct track *t, const char *name, int64_t *delta)
{
	int64_t prev, cur;

	if (!t->have_prev)
		return false;
	if (!counters_get(&t->host_prev, name, &prev) || !counters_get(&t->host_cur, name, &cur))
		return false;
	/* A counter that went backwards was reset (namespace recreated): no movement known. */
	*delta = cur >= prev ? cur - prev : 0;
	return true;
}

const struct tick_point *tracked_hist(const struct tracked *tr, unsigned k)
{
	if (k >= tr->hist_len)
		return NULL;
	return &tr->hist[(tr->hist_head + TRACK_HISTORY - 1 - k) % TRACK_HISTORY];
}
