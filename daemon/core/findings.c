/* findings.c: finding lifecycle: one callback when a finding opens, is revised or resolves, never per tick. */
#include "base.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "findings.h"

void findings_init(struct finding_table *ft, size_t max_resolved)
{
	memset(ft, 0, sizeof(*ft));
	ft->max_resolved = max_resolved;
}

void findings_free(struct finding_table *ft)
{
	size_t max_resolved = ft->max_resolved;

	free(ft->items);
	findings_init(ft, max_resolved);
}

/*
 * The causes of a listener's overflow exclude each other (the backlog or
 * the application, reset or not): they are one verdict, revised in place.
 */
static bool one_verdict(const struct finding *a, const struct finding *b)
{
	return cause_family(a->cause) == FAMILY_ACCEPT_QUEUE &&
	       cause_family(b->cause) == FAMILY_ACCEPT_QUEUE;
}

/* The key of a finding: its cause (its verdict, for an overflow) and its listener string. */
static bool same_key(const struct finding *a, const struct finding *b)
{
	return (a->cause == b->cause || one_verdict(a, b)) &&
	       strncmp(a->listener, b->listener, sizeof(a->listener)) == 0;
}

/* Return: true when f names another verdict than e's finding. */
static bool verdict_changed(const struct finding_entry *e, const struct finding *f)
{
	return e->f.cause != f->cause || e->f.underlying != f->underlying;
}

/* The verdict that was: the cause, or the underlying one when only that changed (overflow-reset both times). */
static enum cause verdict_before(const struct finding_entry *e, const struct finding *f)
{
	return e->f.cause == f->cause ? e->f.underlying : e->f.cause;
}

static struct finding_entry *lookup(const struct finding_table *ft, const struct finding *f)
{
	size_t i;

	for (i = 0; i < ft->count; i++)
		if (same_key(&ft->items[i].f, f))
			return &ft->items[i];
	return NULL;
}

/*
 * True when an earlier item of this tick's list has the same key: members of
 * an SO_REUSEPORT group share a listener string, and a key must count once
 * per tick, so the first one stands for the group.
 */
static bool dup_in_tick(const struct finding_list *firing, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (same_key(&firing->items[j], &firing->items[i]))
			return true;
	return false;
}

static bool fired_now(const struct finding_list *firing, const struct finding *f)
{
	size_t i;

	for (i = 0; firing && i < firing->count; i++)
		if (same_key(&firing->items[i], f))
			return true;
	return false;
}

/* Drop the oldest resolved entries beyond max_resolved; entry order is otherwise kept. */
static void prune_resolved(struct finding_table *ft)
{
	size_t resolved = 0, i;

	for (i = 0; i < ft->count; i++)
		if (ft->items[i].state == FINDING_RESOLVED)
			resolved++;
	while (resolved > ft->max_resolved) {
		size_t oldest = SIZE_MAX;

		for (i = 0; i < ft->count; i++) {
			if (ft->items[i].state != FINDING_RESOLVED)
				continue;
			if (oldest == SIZE_MAX || ft->items[i].resolved_at < ft->items[oldest].resolved_at)
				oldest = i;
		}
		memmove(&ft->items[oldest], &ft->items[oldest + 1],
			(ft->count - oldest - 1) * sizeof(*ft->items));
		ft->count--;
		resolved--;
	}
}

/*
 * When an episode began: the first drop the eBPF tier saw for it (the
 * exact time, not the tick that noticed it), or now. For a resolved key
 * firing again, a drop from before the old episode's last tick was that
 * episode's, so it cannot start this one. e is zeroed when new.
 */
static int64_t episode_start(const struct finding_entry *e, const struct finding *f, int64_t now)
{
	int64_t first = f->clients.first_ms / 1000;

	if (!f->clients.known || f->clients.first_ms <= 0 || first >= now)
		return now;
	if (e->state == FINDING_RESOLVED && first <= e->last_seen)
		return now;
	return first;
}

/*
 * Findings are few (one per listener and cause at most), so the table is a
 * plain array searched linearly. Room for the new keys is made before
 * anything changes, so -ENOMEM leaves ft as it was and calls no callback.
 */
int findings_update(struct finding_table *ft, const struct finding_list *firing,
		    int64_t now, unsigned quiet_secs, finding_cb cb, void *arg)
{
	size_t nfiring = firing ? firing->count : 0;
	size_t fresh = 0, i;

	for (i = 0; i < nfiring; i++)
		if (!dup_in_tick(firing, i) && !lookup(ft, &firing->items[i]))
			fresh++;
	if (ft->count + fresh > ft->cap) {
		size_t ncap = ft->cap ? ft->cap : 8;
		struct finding_entry *n;

		while (ncap < ft->count + fresh) {
			if (ncap > SIZE_MAX / 2)
				return -ENOMEM;
			ncap *= 2;
		}
		if (ncap > SIZE_MAX / sizeof(*n))
			return -ENOMEM;
		n = realloc(ft->items, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		ft->items = n;
		ft->cap = ncap;
	}

	/* Resolve first, against the previous ticks only: a key firing now stays active. */
	for (i = 0; i < ft->count; i++) {
		struct finding_entry *e = &ft->items[i];

		if (e->state != FINDING_ACTIVE || fired_now(firing, &e->f))
			continue;
		/*
		 * The wall clock stepped back: count the quiet period from now, so a
		 * finding is not held open for the size of the step.
		 */
		if (e->last_seen > now)
			e->last_seen = now;
		if (now - e->last_seen < (int64_t)quiet_secs)
			continue;
		e->state = FINDING_RESOLVED;
		e->resolved_at = now;
		if (cb)
			cb(e, FINDING_EVENT_RESOLVED, arg);
	}

	for (i = 0; i < nfiring; i++) {
		const struct finding *f = &firing->items[i];
		struct finding_entry *e;

		if (dup_in_tick(firing, i))
			continue;
		e = lookup(ft, f);
		if (e && e->state == FINDING_ACTIVE) {
			bool revised = verdict_changed(e, f);

			if (revised) {
				e->revised_from = verdict_before(e, f);
				e->revised_at = now;
			}
			e->f = *f;
			e->last_seen = now;
			e->fired_ticks++;
			if (revised && cb)
				cb(e, FINDING_EVENT_REVISED, arg);
			continue;
		}
		if (!e) {
			e = &ft->items[ft->count++];
			memset(e, 0, sizeof(*e));
		}
		/* New, or a resolved key firing again: a new episode, announced once. */
		e->first_seen = episode_start(e, f, now);
		e->f = *f;
		e->state = FINDING_ACTIVE;
		e->last_seen = now;
		e->resolved_at = 0;
		e->fired_ticks = 1;
		e->revised_from = CAUSE_NONE;
		e->revised_at = 0;
		if (cb)
			cb(e, FINDING_EVENT_OPENED, arg);
	}

	prune_resolved(ft);
	return 0;
}

size_t findings_active(const struct finding_table *ft)
{
	size_t n = 0, i;

	for (i = 0; i < ft->count; i++)
		if (ft->items[i].state == FINDING_ACTIVE)
			n++;
	return n;
}
