/* track.c: one tick's sample taken in: listeners matched across ticks by cookie, with deltas, history, owners and the host-wide samples. */
#include "base.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "sort.h"
#include "track_int.h"

static int key_cmp(const void *a, const void *b)
{
	const struct track_key *x = a, *y = b;

	if (x->cookie != y->cookie)
		return x->cookie < y->cookie ? -1 : 1;
	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	return 0;
}

/* What the sample says of the listeners' owners, by dump position. */
struct owner_in {
	const struct owner *const *owners;
	const char *states;
};

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

/* The point tr's history gains (or its newest one, raised by a fast sample) is above half its backlog. */
static void note_above_half(struct tracked *tr, const struct tick_point *p)
{
	if ((uint64_t)p->queue * 2 > p->backlog)
		tr->above_half_seen = tr->ticks_seen;
}

static void hist_push(struct tracked *tr, uint32_t drops_delta)
{
	struct tick_point p = { tr->l.queue, tr->l.backlog, drops_delta };

	note_above_half(tr, &p);

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

/*
 * The newest history point, to be changed: the ring is allocated if it was
 * not. Return: NULL when there is no point or no memory.
 */
static struct tick_point *hist_newest(struct tracked *tr)
{
	if (tr->hist_len == 0 || (!tr->hist && !hist_ring(tr)))
		return NULL;
	return &tr->hist[(tr->hist_head + TRACK_HISTORY - 1) % TRACK_HISTORY];
}

/*
 * Drops of a listener seen before as prev. Without SKMEMINFO on either side
 * there is nothing to compare. A counter that went backwards is not the
 * same socket's counter (cookie reuse): count nothing rather than a
 * wrapped, huge delta.
 */
static uint32_t drops_since(const struct listener *prev, const struct listener *l)
{
	if (l->has_drops && prev->has_drops && l->drops >= prev->drops)
		return l->drops - prev->drops;
	return 0;
}

/*
 * Drops of a listener never seen. born_since_prev: it appeared after an
 * earlier tick, so it was created since then and every drop it shows
 * happened in this tick's interval (a short burst on a fresh listener is
 * not lost that way). A listener found at the first tick has a past we did
 * not see: no delta.
 */
static uint32_t drops_at_birth(const struct listener *l, bool born_since_prev)
{
	return born_since_prev && l->has_drops ? l->drops : 0;
}

/* The owner the sample gives the listener at dump position idx, and its state when read (dropping or full). */
static void owner_take(struct tracked *tr, const struct owner_in *oi, size_t idx)
{
	if (oi->owners)
		tr->owner = oi->owners[idx];
	/* A stopped owner of a quiet listener explains nothing: only a dropping or full one's counts. */
	tr->owner_state = oi->states && (tr->drops_delta > 0 || acceptq_full(tr->l.queue, tr->l.backlog)) ?
			  oi->states[idx] : 0;
}

/*
 * The current full run ends at last_full_ms, the last sample that saw it
 * full. It becomes the stall remembered when it is the longest lately: a
 * short run after a long one must not hide the long one.
 */
static void full_run_end(struct tracked *tr, int64_t last_full_ms)
{
	int64_t run = last_full_ms > tr->full_since_ms ? last_full_ms - tr->full_since_ms : 0;

	if (run >= tr->stall_ms || last_full_ms - tr->stall_end_ms > TRACK_STALL_KEEP_MS) {
		tr->stall_ms = run;
		tr->stall_end_ms = last_full_ms;
		tr->stall_drops = tr->full_drops;
	}
	tr->full_since_ms = 0;
	tr->full_drops = 0;
}

/*
 * A tick's sample of the queue: the full run goes on, starts, or ends at
 * prev_ms (the tick before, the last that saw it full). The drops of the
 * interval that filled it belong to the run: they are its overflow.
 */
static void full_run_note(struct tracked *tr, bool full, uint32_t drops, int64_t prev_ms,
			  int64_t now_ms)
{
	if (!full) {
		if (tr->full_since_ms)
			full_run_end(tr, prev_ms);
		return;
	}
	if (!tr->full_since_ms) {
		tr->full_since_ms = now_ms;
		tr->full_drops = 0;
	}
	tr->full_drops += drops;
}

static void tracked_start(struct tracked *tr, const struct listener *l, int64_t now_ms,
			  bool born_since_prev)
{
	uint32_t delta = drops_at_birth(l, born_since_prev);

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
	full_run_note(tr, listener_queue_full(l), delta, now_ms, now_ms);
	hist_push(tr, delta);
}

static void tracked_advance(struct tracked *tr, const struct listener *l, int64_t now_ms)
{
	uint32_t delta = drops_since(&tr->l, l);

	full_run_note(tr, listener_queue_full(l), delta, tr->last_seen_ms, now_ms);
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
	free(t->keys);
	free(t->addr_keys);
	free(t->exits);
	counters_free(&t->host_prev);
	counters_free(&t->host_cur);
	track_init(t);
}

/*
 * A tick's listeners are taken in two phases: everything that can fail (the
 * sort keys, the room for listeners and counters, the address index) is
 * allocated first, and only then is t changed, by steps that cannot fail.
 * So an -ENOMEM leaves t's listeners, gaps and counters exactly as the
 * previous tick left them; only its scratch may have grown.
 *
 * The sort keys live in t and only grow, so a tick with no more listeners
 * than an earlier one allocates nothing.
 *
 * t->items is kept sorted by cookie: matching is a merge of two sorted lists,
 * and track_find a binary search.
 */

/*
 * The kernel dumps listeners in the same order from one tick to the next
 * while none comes or goes: then the last tick's sorted keys still map
 * every cookie to its place in the dump, which one pass checks, and the
 * sort is saved. They are intact only when that tick gathered no new key
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

bool track_same_listeners(const struct track *t, const struct listener_set *now)
{
	return now && t->count == now->count && keys_still_hold(t, now);
}

/*
 * This dump's cookies into t->keys, sorted, each once. A dump can show a
 * socket twice (inet_diag resumes by position, never restarts): its later
 * entry, the newer sample, stands (keys of one cookie are in dump order).
 * Return: how many distinct cookies, or -ENOMEM.
 */
static int keys_sort(struct track *t, const struct listener_set *now, size_t *u)
{
	size_t n = now ? now->count : 0, i;
	struct track_key *keys;
	void *np;

	*u = 0;
	if (!n)
		return 0;
	if (array_reserve(t->keys, &t->keys_cap, n, sizeof(*t->keys), &np) < 0)
		return -ENOMEM;
	t->keys = keys = np;
	if (keys_still_hold(t, now)) {
		*u = n;
		return 0;
	}
	for (i = 0; i < n; i++) {
		keys[i].cookie = now->items[i].cookie;
		keys[i].idx = i;
	}
	sort_inplace(keys, n, sizeof(*keys), key_cmp);
	for (i = 0; i < n; i++) {
		if (*u > 0 && keys[i].cookie == keys[*u - 1].cookie)
			keys[*u - 1] = keys[i];
		else
			keys[(*u)++] = keys[i];
	}
	return 0;
}

/* Return: how many of keys[0..u) are not tracked yet. */
static size_t keys_untracked(const struct track *t, size_t u)
{
	const struct track_key *keys = t->keys;
	size_t i, j, k = 0;

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
	return k;
}

/*
 * Forward merge: advance the matched, drop the vanished by compacting in
 * place (whole structs move, owners with them), and gather the unmatched
 * keys at the front of keys[]. Return: the survivors; *k the unmatched.
 */
static size_t merge_survivors(struct track *t, const struct listener_set *now, size_t u,
			      const struct owner_in *oi, int64_t now_ms, size_t *k)
{
	struct track_key *keys = t->keys;
	size_t i, j, w;

	for (i = 0, j = 0, w = 0, *k = 0; i < t->count || j < u; ) {
		if (j >= u || (i < t->count && t->items[i].l.cookie < keys[j].cookie)) {
			free(t->items[i].hist);
			i++;    /* vanished */
		} else if (i < t->count && t->items[i].l.cookie == keys[j].cookie) {
			tracked_advance(&t->items[i], &now->items[keys[j].idx], now_ms);
			owner_take(&t->items[i], oi, keys[j].idx);
			if (w != i)
				t->items[w] = t->items[i];
			w++;
			i++;
			j++;
		} else {
			keys[(*k)++] = keys[j++];
		}
	}
	return w;
}

/*
 * Backward merge of the k new ones (keys[0..k)) into the sorted survivors
 * [0, w). The write position d = i + j - 1 is never below the next
 * survivor read (i - 1) and is above it when a new entry is written, so no
 * unread survivor is overwritten.
 */
static void merge_new(struct track *t, const struct listener_set *now, size_t w, size_t k,
		      const struct owner_in *oi, int64_t now_ms)
{
	const struct track_key *keys = t->keys;
	size_t i = w, j = k;

	while (j > 0) {
		size_t d = i + j - 1;

		if (i > 0 && t->items[i - 1].l.cookie > keys[j - 1].cookie) {
			t->items[d] = t->items[i - 1];
			i--;
		} else {
			size_t idx = keys[j - 1].idx;

			tracked_start(&t->items[d], &now->items[idx], now_ms, t->ticks > 0);
			owner_take(&t->items[d], oi, idx);
			j--;
		}
	}
	t->count = w + k;
}

/* The previous current counters become prev, reusing buffers; room for host was reserved. */
static void counters_take(struct track *t, const struct counters *host)
{
	struct counters tmp = t->host_prev;

	t->host_prev = t->host_cur;
	t->host_cur = tmp;
	counters_copy_into(&t->host_cur, host);
	t->have_prev = t->ticks >= 1;
}

/* Room for this tick's counters: host_prev's buffer becomes host_cur after the swap. Return: 0 or -ENOMEM. */
static int host_room(struct track *t, const struct counters *host)
{
	void *np;

	if (array_reserve(t->host_prev.items, &t->host_prev.cap, host ? host->count : 0,
			  sizeof(*t->host_prev.items), &np) < 0)
		return -ENOMEM;
	t->host_prev.items = np;
	return 0;
}

/* Every tick's end of the first half, dump or not: counters, limits, and the tick's own time. */
static void tick_advance(struct track *t, const struct counters *host, const struct limits *limits,
			 int64_t now_ms)
{
	counters_take(t, host);
	if (limits)
		t->limits = *limits;
	else
		limits_unknown(&t->limits);
	/* A new tick: the previous tick's kernel log events and deep sample are not this one's. */
	t->n_kmsg = 0;
	t->deep = NULL;
	t->fast_full = 0;
	t->prev_ms = t->ticks ? t->now_ms : 0;
	t->now_ms = now_ms;
	t->ticks++;
}

/*
 * A tick without a dump: nothing a listener would show has moved (the
 * monitor's dump_policy), so each stands as last dumped for one more tick,
 * with no drop: its history gains the same point, its owner stays and is
 * not read. The sort keys stay the last dump's, for the next one.
 */
static int take_carried(struct track *t, const struct counters *host, const struct limits *limits,
			int64_t now_ms)
{
	size_t i;

	if (host_room(t, host) < 0)
		return -ENOMEM;
	if (t->n_gaps)
		track_gaps_carry(t, host);
	for (i = 0; i < t->count; i++) {
		struct tracked *tr = &t->items[i];

		tracked_advance(tr, &tr->l, now_ms);
		tr->owner_state = 0;
	}
	t->new_count = 0;
	t->gone_count = 0;
	tick_advance(t, host, limits, now_ms);
	return 0;
}

/* The first half of a tick: listeners, owners, gaps, counters and limits. */
static int take_listeners(struct track *t, const struct listener_set *now,
			  const struct counters *host, const struct limits *limits,
			  const struct owner_in *oi, int64_t now_ms)
{
	size_t n, u, k, w, gone, na;
	void *np;

	if (!now)
		return take_carried(t, host, limits, now_ms);
	n = now->count;
	if (keys_sort(t, now, &u) < 0)
		return -ENOMEM;
	t->keys_intact = 0;
	k = keys_untracked(t, u);
	/* Survivors + new ones = u; before compaction items still holds t->count. */
	if (array_reserve(t->items, &t->cap, u, sizeof(*t->items), &np) < 0)
		return -ENOMEM;
	t->items = np;
	if (host_room(t, host) < 0)
		return -ENOMEM;
	gone = t->count - (u - k);
	if (track_gaps_index(t, now, u, gone, &na) < 0)
		return -ENOMEM;

	/* Nothing below can fail. */
	if (gone || t->n_gaps)
		track_gaps_update(t, u, na, host, now_ms);
	w = merge_survivors(t, now, u, oi, now_ms, &k);
	merge_new(t, now, w, k, oi, now_ms);
	t->new_count = k;
	t->gone_count = gone;
	/* No new key was gathered over the sorted ones, none was a repeat: next time they may serve again. */
	t->keys_intact = k == 0 && u == n ? n : 0;
	tick_advance(t, host, limits, now_ms);
	return 0;
}

/* The second half of a tick: the host-wide samples, kernel log events and deep sample. */
static void take_host(struct track *t, const struct sockstat *ss, const struct conntrack_stat *ct,
		      const struct link_table *links, const struct kmsg_event *ev, size_t n_ev,
		      const struct deep_sample *deep)
{
	size_t n = n_ev < TRACK_KMSG_MAX ? n_ev : TRACK_KMSG_MAX;

	t->hs_prev = t->hs_cur;
	/* A probe that could not read is unknown this tick, not zero: no delta is made from it. */
	host_state_unknown(&t->hs_cur);
	/* A tick that measured none of them has no host sample, rather than one of unknowns. */
	t->hs_cur.valid = ss || ct || links;
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
	track_gaps_deaths(t, ev, ev ? n_ev : 0);
	t->deep = deep;
}

/*
 * A fast sample saw tr's queue below full since the previous tick: the
 * application accepted meanwhile, so a queue full again at this tick starts
 * a new run here. A run that began at this tick began after that drain.
 */
static void fast_drained(struct tracked *tr, int64_t prev_ms, int64_t now_ms)
{
	if (!tr->full_since_ms || tr->full_since_ms >= now_ms)
		return;
	full_run_end(tr, prev_ms);
	tr->full_since_ms = now_ms;
	tr->full_drops = tr->drops_delta;
	tr->ticks_full = 1;
}

/*
 * What the fast samples saw between the previous tick and this one counts
 * as seen in this tick: the queue point of this tick's history, the peak,
 * a full queue (so an overflow in a burst is told as one), and a drain (so
 * a queue that is being accepted from is no stall). A listener
 * new in this tick was not tracked when it was sampled: this tick saw it.
 */
static void fold_fast(struct track *t, const struct fast_peaks *fp)
{
	size_t i;

	for (i = 0; fp && i < fp->count; i++) {
		const struct fast_peak *f = &fp->items[i];
		struct tracked *tr = track_find(t, f->cookie);
		const struct tick_point *seen = tr ? tracked_hist(tr, 0) : NULL;
		struct tick_point *p;

		if (!seen || tr->ticks_seen < 2 || !f->samples)
			continue;
		if (f->below_full)
			fast_drained(tr, t->prev_ms, t->now_ms);
		/* A peak no higher than this tick's own queue changes nothing (and needs no ring). */
		if (f->queue <= seen->queue)
			continue;
		p = hist_newest(tr);
		if (!p)
			continue;       /* no memory for the ring: not folded this tick */
		if (acceptq_full(f->queue, tr->l.backlog) && !acceptq_full(p->queue, p->backlog)) {
			t->fast_full++;
			if (tr->ticks_full == 0)
				tr->ticks_full = 1;
		}
		p->queue = f->queue;
		note_above_half(tr, p);
		if (f->queue > tr->peak_queue)
			tr->peak_queue = f->queue;
	}
}

int track_tick(struct track *t, const struct tick_sample *s, int64_t now_ms)
{
	struct owner_in oi = { .owners = s->owners, .states = s->owner_states };
	int r;

	r = take_listeners(t, s->listeners, s->counters, s->limits, &oi, now_ms);
	if (r < 0)
		return r;
	take_host(t, s->sockstat, s->conntrack, s->links, s->kmsg, s->n_kmsg, s->deep);
	track_gaps_exits(t, s->exits, s->exits ? s->n_exits : 0);
	fold_fast(t, s->fast);
	return 0;
}

void track_forget_owners(struct track *t)
{
	size_t i;

	for (i = 0; i < t->count; i++) {
		t->items[i].owner = NULL;
		t->items[i].owner_state = 0;
	}
}

struct tracked *track_find(const struct track *t, uint64_t cookie)
{
	bool found;
	size_t at = sort_find_u64(t->items, t->count, sizeof(*t->items), offsetof(struct tracked, l.cookie),
				  cookie, &found);

	return found ? &t->items[at] : NULL;
}

bool track_drops_moved(const struct track *t, const struct listener *l)
{
	const struct tracked *tr = track_find(t, l->cookie);

	return (tr ? drops_since(&tr->l, l) : drops_at_birth(l, t->ticks > 0)) > 0;
}

/* A counter's movement from prev to cur; one that went backwards was reset (namespace recreated). */
static bool counter_delta(const struct counters *prev, const struct counters *cur,
			  const char *name, int64_t *delta)
{
	int64_t a, b;

	if (!counters_get(prev, name, &a) || !counters_get(cur, name, &b))
		return false;
	*delta = b >= a ? b - a : 0;
	return true;
}

bool track_host_delta(const struct track *t, const char *name, int64_t *delta)
{
	return t->have_prev && counter_delta(&t->host_prev, &t->host_cur, name, delta);
}

bool track_host_delta_to(const struct track *t, const struct counters *next, const char *name,
			 int64_t *delta)
{
	return t->ticks > 0 && next && counter_delta(&t->host_cur, next, name, delta);
}

const struct tick_point *tracked_hist(const struct tracked *tr, unsigned k)
{
	if (k >= tr->hist_len)
		return NULL;
	if (!tr->hist)
		return &tr->hist_same;
	return &tr->hist[(tr->hist_head + TRACK_HISTORY - 1 - k) % TRACK_HISTORY];
}
