/* track.c: listeners matched across ticks by cookie, with deltas, a history ring, restart gaps and the host-wide samples. */
#include "base.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>	/* AF_INET, AF_INET6 */

#include "sort.h"
#include "track.h"

/* One listener of a dump, keyed for sorting: cookie first, dump position second. */
struct track_key {
	uint64_t cookie;
	size_t idx;
};

static int key_cmp(const void *a, const void *b)
{
	const struct track_key *x = a, *y = b;

	if (x->cookie != y->cookie)
		return x->cookie < y->cookie ? -1 : 1;
	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	return 0;
}

/* A listener's (family, address, port) and cookie; sorted, it tells who holds an address:port now. */
struct track_addr_key {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
	uint64_t cookie;
};

/* IPv4 lives in the first 4 bytes; whatever follows is not part of the address. */
static void addr_norm(uint8_t family, const uint8_t *src, uint8_t dst[16])
{
	memset(dst, 0, 16);
	memcpy(dst, src, family == AF_INET ? 4 : 16);
}

static int endpoint_cmp(uint8_t fa, const uint8_t *aa, uint16_t pa,
			uint8_t fb, const uint8_t *ab, uint16_t pb)
{
	int c;

	if (fa != fb)
		return fa < fb ? -1 : 1;
	c = memcmp(aa, ab, 16);
	if (c)
		return c;
	if (pa != pb)
		return pa < pb ? -1 : 1;
	return 0;
}

static int addr_key_cmp(const void *a, const void *b)
{
	const struct track_addr_key *x = a, *y = b;
	int c = endpoint_cmp(x->family, x->addr, x->port, y->family, y->addr, y->port);

	if (c)
		return c;
	if (x->cookie != y->cookie)
		return x->cookie < y->cookie ? -1 : 1;
	return 0;
}

/* Return: the first index of ak[0..n) on (family, addr, port), or n when nothing listens there. */
static size_t addr_find(const struct track_addr_key *ak, size_t n, uint8_t family,
			const uint8_t *addr, uint16_t port)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (endpoint_cmp(ak[mid].family, ak[mid].addr, ak[mid].port, family, addr, port) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && endpoint_cmp(ak[lo].family, ak[lo].addr, ak[lo].port, family, addr, port) == 0)
		return lo;
	return n;
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

static bool tick_point_same(const struct tick_point *a, const struct tick_point *b)
{
	return a->queue == b->queue && a->backlog == b->backlog && a->drops_delta == b->drops_delta;
}

/* The ring, holding hist_len copies of hist_same. Return: false when out of memory. */
static bool hist_ring(struct tracked *tr)
{
	unsigned i;

	tr->hist = malloc(TRACK_HISTORY * sizeof(*tr->hist));
	if (!tr->hist)
		return false;
	for (i = 0; i < TRACK_HISTORY; i++)
		tr->hist[i] = tr->hist_same;
	tr->hist_head = tr->hist_len % TRACK_HISTORY;
	return true;
}

static void hist_push(struct tracked *tr, uint32_t drops_delta)
{
	struct tick_point p = { tr->l.queue, tr->l.backlog, drops_delta };

	if (!tr->hist && (tr->hist_len == 0 || tick_point_same(&p, &tr->hist_same))) {
		tr->hist_same = p;
		if (tr->hist_len < TRACK_HISTORY)
			tr->hist_len++;
		return;
	}
	if (!tr->hist && !hist_ring(tr)) {
		/* No memory for the ring: the history starts again from this point. */
		tr->hist_same = p;
		tr->hist_len = 1;
		return;
	}
	tr->hist[tr->hist_head] = p;
	tr->hist_head = (tr->hist_head + 1) % TRACK_HISTORY;
	if (tr->hist_len < TRACK_HISTORY)
		tr->hist_len++;
}

/* The kernel's sk_acceptq_is_full: the queue holds backlog + 1 when full. */
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
	tr->ticks_full = listener_queue_full(l) ? 1 : 0;
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
	tr->ticks_full = listener_queue_full(l) ? tr->ticks_full + 1 : 0;
	tr->ticks_seen++;
	hist_push(tr, delta);
}

/* Tcp.OutRsts moved from base to cur; -1 when either end is unknown. */
static int64_t rst_delta(int64_t base, int64_t cur)
{
	if (base < 0 || cur < 0)
		return -1;
	/* Went backwards: the counters were reset (namespace recreated), nothing known moved. */
	return cur >= base ? cur - base : 0;
}

/*
 * A slot for a new gap at the end of t->gaps. When full, the oldest gap that
 * has closed goes first: an address:port still without its listener is the
 * one a refused client is asking about. Only when every gap is open does the
 * oldest open one go.
 */
static struct listener_gap *gap_push(struct track *t, size_t *first_new)
{
	struct listener_gap *g;

	if (t->n_gaps == TRACK_GAPS_MAX) {
		size_t victim = 0, i;

		for (i = 0; i < t->n_gaps; i++) {
			if (t->gaps[i].returned_ms != 0) {
				victim = i;
				break;
			}
		}
		memmove(&t->gaps[victim], &t->gaps[victim + 1],
			(t->n_gaps - victim - 1) * sizeof(t->gaps[0]));
		t->n_gaps--;
		if (victim < *first_new)
			(*first_new)--;
	}
	g = &t->gaps[t->n_gaps++];
	memset(g, 0, sizeof(*g));
	return g;
}

/*
 * tr is tracked and missing from this update. ak[0..na) is who listens now;
 * gaps from *first_new on were opened by this update.
 * A survivor on its address:port (an SO_REUSEPORT group lost one member)
 * means no client was refused: no gap. A new socket there means it was
 * replaced between two ticks; nothing there means it is gone for now.
 */
static void gap_vanished(struct track *t, const struct tracked *tr, const struct track_addr_key *ak,
			 size_t na, int64_t rst_prev, int64_t rst_cur, int64_t now_ms,
			 size_t *first_new)
{
	uint8_t addr[16];
	uint64_t repl = 0;
	struct listener_gap *g;
	size_t x, i;

	addr_norm(tr->l.family, tr->l.addr, addr);

	/*
	 * The members of a group that vanished together make one gap; an owner
	 * is kept if any knew it. Looked at first: the first member already
	 * found no survivor, and a large group is not scanned once per member.
	 */
	for (i = *first_new; i < t->n_gaps; i++) {
		g = &t->gaps[i];
		if (endpoint_cmp(g->family, g->addr, g->port, tr->l.family, addr, tr->l.port) != 0)
			continue;
		if (g->old_owner.nprocs == 0 && tracked_owner(tr)->nprocs > 0)
			g->old_owner = *tracked_owner(tr);
		if (tr->last_seen_ms > g->last_seen_ms)
			g->last_seen_ms = tr->last_seen_ms;
		return;
	}

	for (x = addr_find(ak, na, tr->l.family, addr, tr->l.port);
	     x < na && endpoint_cmp(ak[x].family, ak[x].addr, ak[x].port,
				    tr->l.family, addr, tr->l.port) == 0; x++) {
		if (track_find(t, ak[x].cookie))
			return;
		if (!repl)
			repl = ak[x].cookie;
	}

	g = gap_push(t, first_new);
	g->family = tr->l.family;
	g->port = tr->l.port;
	memcpy(g->addr, addr, sizeof(g->addr));
	listener_name(&tr->l, g->listener, sizeof(g->listener));
	g->old_owner = *tracked_owner(tr);
	g->last_seen_ms = tr->last_seen_ms;
	g->missing_ms = now_ms;
	/* The RSTs sent since the last tick that saw it are the gap's: count from there. */
	g->out_rsts_base = rst_prev;
	if (repl) {
		g->returned_ms = now_ms;
		g->new_cookie = repl;
		g->replaced = true;
		g->missing_ticks = 0;
	} else {
		g->missing_ticks = 1;
	}
	g->out_rsts = rst_delta(rst_prev, rst_cur);
}

/*
 * Open and close gaps for this update. Runs before the merge changes
 * t->items, so track_find still answers for the previous tick; keys[0..u)
 * are this dump's cookies, sorted; ak[0..na) the same listeners by address.
 */
static void gaps_update(struct track *t, const struct track_key *keys, size_t u,
			const struct track_addr_key *ak, size_t na, const struct counters *host,
			int64_t now_ms)
{
	int64_t rst_prev = -1, rst_cur = -1, v;
	size_t i, j, first_new;

	/* host_cur still holds the previous tick's counters here. */
	if (t->ticks > 0 && counters_get(&t->host_cur, "Tcp.OutRsts", &v))
		rst_prev = v;
	if (host && counters_get(host, "Tcp.OutRsts", &v))
		rst_cur = v;

	/* Open gaps: back now (the first socket found there stands for a new group), or one tick longer. */
	for (i = 0; i < t->n_gaps; i++) {
		struct listener_gap *g = &t->gaps[i];
		size_t x;

		if (g->returned_ms != 0)
			continue;
		x = addr_find(ak, na, g->family, g->addr, g->port);
		if (x < na) {
			g->returned_ms = now_ms;
			g->new_cookie = ak[x].cookie;
		} else {
			g->missing_ticks++;
		}
		g->out_rsts = rst_delta(g->out_rsts_base, rst_cur);
	}

	/* The vanished: tracked cookies not in this dump (both lists sorted by cookie). */
	first_new = t->n_gaps;
	for (i = 0, j = 0; i < t->count; ) {
		if (j < u && keys[j].cookie < t->items[i].l.cookie) {
			j++;
		} else if (j < u && keys[j].cookie == t->items[i].l.cookie) {
			i++;
			j++;
		} else {
			gap_vanished(t, &t->items[i], ak, na, rst_prev, rst_cur, now_ms, &first_new);
			i++;
		}
	}
}

static bool any_open_gap(const struct track *t)
{
	size_t i;

	for (i = 0; i < t->n_gaps; i++)
		if (t->gaps[i].returned_ms == 0)
			return true;
	return false;
}

/* Host samples never taken: every number unknown, so no rule reads a 0 as a measurement. */
static void host_state_unknown(struct host_state *hs)
{
	memset(hs, 0, sizeof(*hs));
	hs->valid = false;
	hs->ss.sockets_used = -1;
	hs->ss.tcp_inuse = -1;
	hs->ss.tcp_orphan = -1;
	hs->ss.tcp_tw = -1;
	hs->ss.tcp_alloc = -1;
	hs->ss.tcp_mem = -1;
	hs->ss.tcp6_inuse = -1;
	hs->ct.present = false;
	hs->ct.count = -1;
	hs->ct.have_stat = false;
}

void track_init(struct track *t)
{
	memset(t, 0, sizeof(*t));
	limits_unknown(&t->limits);
	host_state_unknown(&t->hs_prev);
	host_state_unknown(&t->hs_cur);
}

void track_free(struct track *t)
{
	size_t i;

	for (i = 0; i < t->count; i++)
		free(t->items[i].hist);
	free(t->items);
	free(t->new_inodes);
	free(t->keys);
	free(t->addr_keys);
	counters_free(&t->host_prev);
	counters_free(&t->host_cur);
	track_init(t);
}

/*
 * The update runs in two phases: everything that can fail (the sort keys, the
 * room for listeners, new inodes and counters) is allocated first, and only
 * then is t changed, by steps that cannot fail. So an -ENOMEM leaves t's
 * listeners, gaps and counters exactly as the previous tick left it; only
 * its scratch may have grown.
 *
 * The sort keys live in t and only grow, so a tick with no more listeners
 * than an earlier one allocates nothing.
 *
 * t->items is kept sorted by cookie: matching is a merge of two sorted lists,
 * and track_find a binary search.
 */
/*
 * The kernel dumps listeners in the same order from one tick to the next
 * while none comes or goes: then the last update's sorted keys still map
 * every cookie to its place in the dump, which one pass checks, and the
 * sort is saved. They are intact only when that update gathered no new key
 * over them and dropped no repeat.
 */
static bool keys_still_hold(const struct track *t, const struct listener_set *now)
{
	size_t i;

	if (t->keys_intact == 0 || t->keys_intact != now->count)
		return false;
	for (i = 0; i < now->count; i++)
		if (t->keys[i].idx >= now->count || now->items[t->keys[i].idx].cookie != t->keys[i].cookie)
			return false;
	return true;
}

int track_update(struct track *t, const struct listener_set *now,
		 const struct counters *host, const struct limits *limits, int64_t now_ms)
{
	size_t n = now ? now->count : 0;
	size_t host_n = host ? host->count : 0;
	struct track_key *keys = t->keys;
	struct track_addr_key *ak = NULL;
	size_t u = 0, k = 0, i, j, w, gone, na = 0;
	void *np;

	if (n) {
		if (n > SIZE_MAX / sizeof(*keys))
			return -ENOMEM;
		if (reserve(t->keys, &t->keys_cap, n, sizeof(*t->keys), &np) < 0)
			return -ENOMEM;
		t->keys = keys = np;
		if (keys_still_hold(t, now)) {
			u = n;
		} else {
			for (i = 0; i < n; i++) {
				keys[i].cookie = now->items[i].cookie;
				keys[i].idx = i;
			}
			sort_inplace(keys, n, sizeof(*keys), key_cmp);
			/*
			 * A dump can show a socket twice (inet_diag resumes by
			 * position, never restarts): keep its later entry, the
			 * newer sample (keys of one cookie are in dump order).
			 */
			for (i = 0; i < n; i++) {
				if (u > 0 && keys[i].cookie == keys[u - 1].cookie)
					keys[u - 1] = keys[i];
				else
					keys[u++] = keys[i];
			}
		}
	}
	t->keys_intact = 0;

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
		return -ENOMEM;
	t->items = np;
	if (reserve(t->new_inodes, &t->new_cap, k, sizeof(*t->new_inodes), &np) < 0)
		return -ENOMEM;
	t->new_inodes = np;
	/* host_prev's buffer becomes host_cur after the swap below. */
	if (reserve(t->host_prev.items, &t->host_prev.cap, host_n,
		    sizeof(*t->host_prev.items), &np) < 0)
		return -ENOMEM;
	t->host_prev.items = np;

	/*
	 * Gaps need to know who listens on an address:port now, only when a
	 * listener vanished or an address:port waits for its listener: most
	 * ticks need no index at all.
	 */
	gone = t->count - (u - k);
	if (u && (gone || any_open_gap(t))) {
		if (u > SIZE_MAX / sizeof(*ak))
			return -ENOMEM;
		if (reserve(t->addr_keys, &t->addr_keys_cap, u, sizeof(*t->addr_keys), &np) < 0)
			return -ENOMEM;
		t->addr_keys = ak = np;
		for (j = 0; j < u; j++) {
			const struct listener *l = &now->items[keys[j].idx];

			ak[j].family = l->family;
			addr_norm(l->family, l->addr, ak[j].addr);
			ak[j].port = l->port;
			ak[j].cookie = l->cookie;
		}
		na = u;
		sort_inplace(ak, na, sizeof(*ak), addr_key_cmp);
	}

	/* Nothing below can fail. */

	if (gone || t->n_gaps)
		gaps_update(t, keys, u, ak, na, host, now_ms);

	/*
	 * Forward merge: advance the matched, drop the vanished by compacting in
	 * place (whole structs move, so the caller's owner data goes with them),
	 * and gather the unmatched keys at the front of keys[].
	 */
	for (i = 0, j = 0, w = 0, k = 0; i < t->count || j < u; ) {
		if (j >= u || (i < t->count && t->items[i].l.cookie < keys[j].cookie)) {
			free(t->items[i].hist);
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
	t->gone_count = gone;
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
	/* No new key was gathered over the sorted ones, none was a repeat: next time they may serve again. */
	t->keys_intact = k == 0 && u == n ? n : 0;
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

	if (limits)
		t->limits = *limits;
	else
		limits_unknown(&t->limits);
	/* A new tick: the previous tick's kernel log events and deep sample are not this one's. */
	t->n_kmsg = 0;
	t->deep = NULL;
	t->prev_ms = t->ticks ? t->now_ms : 0;
	t->now_ms = now_ms;
	t->ticks++;
	return 0;
}

void track_update_host(struct track *t, const struct sockstat *ss, const struct conntrack_stat *ct,
		       const struct link_table *links, const struct kmsg_event *ev, size_t n_ev,
		       const struct deep_sample *deep)
{
	size_t n = n_ev < TRACK_KMSG_MAX ? n_ev : TRACK_KMSG_MAX;

	t->hs_prev = t->hs_cur;
	/* A probe that could not read is unknown this tick, not zero: no delta is made from it. */
	host_state_unknown(&t->hs_cur);
	t->hs_cur.valid = true;
	if (ss)
		t->hs_cur.ss = *ss;
	if (ct)
		t->hs_cur.ct = *ct;
	if (links) {
		t->hs_cur.links = *links;
		if (t->hs_cur.links.count > LINKS_MAX)
			t->hs_cur.links.count = LINKS_MAX;
	}
	/* The first events of a tick are kept: a burst repeats the same line, and the cause is named once. */
	if (ev && n)
		memcpy(t->kmsg, ev, n * sizeof(*ev));
	t->n_kmsg = ev ? n : 0;
	t->deep = deep;
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
	if (!tr->hist)
		return &tr->hist_same;
	return &tr->hist[(tr->hist_head + TRACK_HISTORY - 1 - k) % TRACK_HISTORY];
}

struct tick_point *tracked_hist_newest(struct tracked *tr)
{
	if (tr->hist_len == 0 || (!tr->hist && !hist_ring(tr)))
		return NULL;
	return &tr->hist[(tr->hist_head + TRACK_HISTORY - 1) % TRACK_HISTORY];
}
