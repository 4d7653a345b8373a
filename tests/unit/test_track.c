/* test_track.c: one sample a tick into track: listener matching by cookie, deltas, history ring, owners, fast samples, host counters and state, restart gaps, -ENOMEM safety. */
#include "base.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "track.h"
#include "owner_fixture.h"

#define MAXL 16

/* A hand-built dump: tests say what the kernel would have reported. */
struct dump {
	struct listener items[MAXL];
	struct listener_set set;
};

static void dump_reset(struct dump *d)
{
	memset(d, 0, sizeof(*d));
	d->set.items = d->items;
	d->set.cap = MAXL;
}

static struct listener *dump_add(struct dump *d, uint64_t cookie, uint32_t inode,
				 uint32_t queue, uint32_t backlog, uint32_t drops)
{
	struct listener *l;

	cr_assert(d->set.count < MAXL);
	l = &d->items[d->set.count++];
	memset(l, 0, sizeof(*l));
	l->cookie = cookie;
	l->inode = inode;
	l->queue = queue;
	l->backlog = backlog;
	l->drops = drops;
	l->has_drops = true;
	l->family = AF_INET;
	l->addr[0] = 127;
	l->addr[3] = 1;
	l->port = (uint16_t)(8000 + cookie % 1000);
	return l;
}

/* One tick of listeners, counters and limits, as the monitor gives them (no owners: track keeps its own). */
static int take(struct track *t, const struct listener_set *set, const struct counters *c,
		const struct limits *lim, int64_t now_ms)
{
	struct tick_sample s = { .listeners = set, .counters = c, .limits = lim };

	return track_tick(t, &s, now_ms);
}

static struct limits some_limits(void)
{
	struct limits lim = { .somaxconn = 4096, .tcp_max_syn_backlog = 512, .tcp_syncookies = 1,
			      .tcp_abort_on_overflow = 0 };

	return lim;
}

/* One update with a single listener; the common case of most tests. */
static void one(struct track *t, uint64_t cookie, uint32_t queue, uint32_t backlog,
		uint32_t drops, int64_t now_ms)
{
	struct dump d;
	struct limits lim = some_limits();

	dump_reset(&d);
	dump_add(&d, cookie, (uint32_t)cookie + 100, queue, backlog, drops);
	cr_assert_eq(take(t, &d.set, NULL, &lim, now_ms), 0);
}

static void assert_sorted(const struct track *t)
{
	size_t i;

	for (i = 1; i < t->count; i++)
		cr_assert_lt(t->items[i - 1].l.cookie, t->items[i].l.cookie);
}

Test(track, first_update_adds_everything_as_new)
{
	struct track t;
	struct dump d;
	struct limits lim = some_limits();
	struct tracked *a;

	track_init(&t);
	dump_reset(&d);
	dump_add(&d, 7, 1007, 1, 128, 40);
	dump_add(&d, 3, 1003, 0, 511, 0);
	cr_assert_eq(take(&t, &d.set, NULL, &lim, 5000), 0);

	cr_assert_eq(t.count, 2);
	cr_assert_eq(t.ticks, 1);
	cr_assert_eq(t.now_ms, 5000);
	cr_assert_eq(t.prev_ms, 0);
	cr_assert_not(t.have_prev);
	cr_assert_eq(t.new_count, 2);

	a = track_find(&t, 7);
	cr_assert_not_null(a);
	cr_assert_eq(a->first_seen_ms, 5000);
	cr_assert_eq(a->last_seen_ms, 5000);
	cr_assert_eq(a->drops_first, 40);
	cr_assert_eq(a->drops_delta, 0, "a counter's first value is no delta");
	cr_assert_eq(a->drops_total, 0);
	cr_assert_eq(a->peak_queue, 1);
	cr_assert_eq(a->ticks_seen, 1);
	cr_assert_eq(a->ticks_full, 0);
	cr_assert_eq(a->hist_len, 1);
	cr_assert_eq(tracked_hist(a, 0)->backlog, 128);
	cr_assert_null(tracked_hist(a, 1));
	cr_assert_eq(tracked_owner(a)->nprocs, 0, "owner unknown until the caller sets it");
	cr_assert_null(track_find(&t, 99));
	track_free(&t);
}

Test(track, drops_delta_and_total_across_ticks)
{
	struct track t;
	struct tracked *a;

	track_init(&t);
	one(&t, 1, 0, 128, 5, 1000);
	one(&t, 1, 0, 128, 8, 2000);
	a = track_find(&t, 1);
	cr_assert_eq(a->drops_delta, 3);
	cr_assert_eq(a->drops_total, 3);
	cr_assert_eq(t.new_count, 0, "new_count is this tick's");
	cr_assert_eq(t.prev_ms, 1000);
	cr_assert_eq(t.now_ms, 2000);
	cr_assert(t.have_prev);

	one(&t, 1, 0, 128, 20, 3000);
	a = track_find(&t, 1);
	cr_assert_eq(a->drops_delta, 12);
	cr_assert_eq(a->drops_total, 15);
	cr_assert_eq(a->drops_first, 5);
	cr_assert_eq(a->first_seen_ms, 1000);
	cr_assert_eq(a->last_seen_ms, 3000);
	cr_assert_eq(a->ticks_seen, 3);

	one(&t, 1, 0, 128, 20, 4000);
	a = track_find(&t, 1);
	cr_assert_eq(a->drops_delta, 0, "a quiet tick resets the delta");
	cr_assert_eq(a->drops_total, 15);
	cr_assert_eq(tracked_hist(a, 0)->drops_delta, 0);
	cr_assert_eq(tracked_hist(a, 1)->drops_delta, 12);
	cr_assert_eq(tracked_hist(a, 2)->drops_delta, 3);
	cr_assert_eq(tracked_hist(a, 3)->drops_delta, 0);
	track_free(&t);
}

Test(track, counter_going_backwards_counts_nothing)
{
	struct track t;
	struct tracked *a;

	track_init(&t);
	one(&t, 1, 0, 128, 10, 1000);
	one(&t, 1, 0, 128, 4, 2000);
	a = track_find(&t, 1);
	cr_assert_eq(a->drops_delta, 0, "no wrapped, huge delta");
	cr_assert_eq(a->drops_total, 0);
	one(&t, 1, 0, 128, 6, 3000);
	a = track_find(&t, 1);
	cr_assert_eq(a->drops_delta, 2, "counting resumes from the lower value");
	cr_assert_eq(a->drops_total, 2);
	track_free(&t);
}

Test(track, no_drops_counter_means_no_delta)
{
	struct track t;
	struct dump d;
	struct tracked *a;

	track_init(&t);
	one(&t, 1, 0, 128, 0, 1000);
	dump_reset(&d);
	dump_add(&d, 1, 101, 0, 128, 50)->has_drops = false;
	cr_assert_eq(take(&t, &d.set, NULL, NULL, 2000), 0);
	a = track_find(&t, 1);
	cr_assert_eq(a->drops_delta, 0);
	/* Next tick has SKMEMINFO again, but the previous value was not real. */
	one(&t, 1, 0, 128, 70, 3000);
	a = track_find(&t, 1);
	cr_assert_eq(a->drops_delta, 0);
	one(&t, 1, 0, 128, 75, 4000);
	cr_assert_eq(track_find(&t, 1)->drops_delta, 5);
	track_free(&t);
}

Test(track, matched_by_cookie_not_by_position_or_port)
{
	struct track t;
	struct dump d;

	track_init(&t);
	dump_reset(&d);
	dump_add(&d, 10, 110, 0, 128, 1);
	dump_add(&d, 20, 120, 0, 128, 100);
	cr_assert_eq(take(&t, &d.set, NULL, NULL, 1000), 0);

	/* Same sockets, other dump order. */
	dump_reset(&d);
	dump_add(&d, 20, 120, 0, 128, 103);
	dump_add(&d, 10, 110, 0, 128, 2);
	cr_assert_eq(take(&t, &d.set, NULL, NULL, 2000), 0);
	cr_assert_eq(track_find(&t, 10)->drops_delta, 1);
	cr_assert_eq(track_find(&t, 20)->drops_delta, 3);
	cr_assert_eq(t.new_count, 0);

	/* A restart: same address and port, new socket, lower counter. */
	dump_reset(&d);
	dump_add(&d, 10, 110, 0, 128, 2);
	dump_add(&d, 30, 130, 0, 128, 0)->port = track_find(&t, 20)->l.port;
	cr_assert_eq(take(&t, &d.set, NULL, NULL, 3000), 0);
	cr_assert_null(track_find(&t, 20));
	cr_assert_not_null(track_find(&t, 30));
	cr_assert_eq(track_find(&t, 30)->ticks_seen, 1);
	cr_assert_eq(track_find(&t, 30)->first_seen_ms, 3000);
	cr_assert_eq(t.new_count, 1);
	cr_assert_eq(t.gone_count, 1);
	track_free(&t);
}

Test(track, vanished_removed_new_added_owners_kept)
{
	struct track t;
	struct dump d;
	struct tracked *tr;

	track_init(&t);
	dump_reset(&d);
	dump_add(&d, 1, 101, 0, 128, 0);
	dump_add(&d, 2, 102, 0, 128, 0);
	dump_add(&d, 3, 103, 0, 128, 0);
	cr_assert_eq(take(&t, &d.set, NULL, NULL, 1000), 0);

	/* Owners given once (here by hand) stay while the sample brings none. */
	tr = track_find(&t, 3);
	owner_mut(tr)->nprocs = 1;
	owner_mut(tr)->nprocs_total = 1;
	owner_mut(tr)->procs[0].pid = 812;
	snprintf(owner_mut(tr)->procs[0].comm, sizeof(owner_mut(tr)->procs[0].comm), "nginx");
	snprintf(owner_mut(tr)->unit, sizeof(owner_mut(tr)->unit), "nginx.service");
	tr = track_find(&t, 1);
	owner_mut(tr)->nprocs = 1;
	owner_mut(tr)->procs[0].pid = 42;

	/* 2 vanishes (3 moves down in the array), 4 and 0 appear on both sides. */
	dump_reset(&d);
	dump_add(&d, 4, 104, 0, 128, 0);
	dump_add(&d, 3, 103, 0, 128, 0);
	dump_add(&d, 0, 100, 0, 128, 0);
	dump_add(&d, 1, 101, 0, 128, 0);
	cr_assert_eq(take(&t, &d.set, NULL, NULL, 2000), 0);

	cr_assert_eq(t.count, 4);
	assert_sorted(&t);
	cr_assert_null(track_find(&t, 2));
	tr = track_find(&t, 3);
	cr_assert_eq(tracked_owner(tr)->procs[0].pid, 812);
	cr_assert_str_eq(tracked_owner(tr)->procs[0].comm, "nginx");
	cr_assert_str_eq(tracked_owner(tr)->unit, "nginx.service");
	cr_assert_eq(tr->ticks_seen, 2);
	cr_assert_eq(tracked_owner(track_find(&t, 1))->procs[0].pid, 42);
	cr_assert_eq(tracked_owner(track_find(&t, 4))->nprocs, 0);
	cr_assert_eq(tracked_owner(track_find(&t, 0))->nprocs, 0);
	cr_assert_eq(t.new_count, 2);
	cr_assert_eq(t.gone_count, 1);

	/* Everything vanishes. */
	dump_reset(&d);
	cr_assert_eq(take(&t, &d.set, NULL, NULL, 3000), 0);
	cr_assert_eq(t.count, 0);
	cr_assert_eq(t.new_count, 0);
	cr_assert_null(track_find(&t, 3));
	track_free(&t);
}

Test(track, duplicate_cookie_in_one_dump_is_one_listener)
{
	struct track t;
	struct dump d;

	track_init(&t);
	dump_reset(&d);
	dump_add(&d, 5, 105, 1, 128, 3);
	dump_add(&d, 5, 105, 2, 128, 4);
	dump_add(&d, 6, 106, 0, 128, 0);
	cr_assert_eq(take(&t, &d.set, NULL, NULL, 1000), 0);
	cr_assert_eq(t.count, 2);
	cr_assert_eq(t.new_count, 2);
	cr_assert_eq(track_find(&t, 5)->l.queue, 2, "the later entry, the newer sample, stands");
	cr_assert_eq(track_find(&t, 5)->l.drops, 4);
	track_free(&t);
}

Test(track, ticks_full_is_consecutive_and_counts_a_queue_at_its_backlog)
{
	struct track t;
	struct tracked *a;

	track_init(&t);
	one(&t, 1, 1, 2, 0, 1000);      /* below the backlog: not full */
	cr_assert_eq(track_find(&t, 1)->ticks_full, 0);
	one(&t, 1, 2, 2, 1, 2000);      /* exactly at it (5 of 5): full */
	cr_assert_eq(track_find(&t, 1)->ticks_full, 1, "a queue at its backlog is full");
	one(&t, 1, 3, 2, 2, 3000);      /* backlog + 1, the kernel's own full */
	one(&t, 1, 2, 2, 3, 4000);
	cr_assert_eq(track_find(&t, 1)->ticks_full, 3, "at the limit does not break the run");
	one(&t, 1, 1, 2, 3, 5000);
	a = track_find(&t, 1);
	cr_assert_eq(a->ticks_full, 0, "reset when the queue drains");
	cr_assert_eq(a->peak_queue, 3);
	one(&t, 1, 3, 2, 3, 6000);
	cr_assert_eq(track_find(&t, 1)->ticks_full, 1);

	/* Full on its very first tick. */
	one(&t, 9, 9, 8, 0, 7000);
	cr_assert_eq(track_find(&t, 9)->ticks_full, 1);
	track_free(&t);
}

Test(track, acceptq_full_is_at_or_past_the_backlog)
{
	cr_assert(acceptq_full(5, 5), "5 of 5 is full");
	cr_assert(acceptq_full(6, 5));
	cr_assert_not(acceptq_full(4, 5));
	cr_assert_not(acceptq_full(0, 0), "an empty queue is never full");
	cr_assert(acceptq_full(1, 0), "listen(fd, 0) queues one, and is full then");
}

Test(track, a_full_run_is_timed_and_remembered_when_it_ends)
{
	struct track t;
	struct tracked *a;

	track_init(&t);
	one(&t, 1, 0, 5, 0, 1000);
	a = track_find(&t, 1);
	cr_assert_eq(a->full_since_ms, 0);
	cr_assert_eq(tracked_full_ms(a), 0);
	one(&t, 1, 6, 5, 4, 2000);      /* filled, overflowing */
	one(&t, 1, 5, 5, 4, 2500);      /* at the limit: still full */
	one(&t, 1, 6, 5, 9, 4000);
	a = track_find(&t, 1);
	cr_assert_eq(a->full_since_ms, 2000);
	cr_assert_eq(tracked_full_ms(a), 2000);
	cr_assert_eq(a->full_drops, 9);
	one(&t, 1, 0, 5, 9, 5000);      /* drained */
	a = track_find(&t, 1);
	cr_assert_eq(tracked_full_ms(a), 0);
	cr_assert_eq(a->stall_ms, 2000, "last seen full at 4000, full since 2000");
	cr_assert_eq(a->stall_end_ms, 4000);
	cr_assert_eq(a->stall_drops, 9);

	/* A shorter run later does not hide the longer one... */
	one(&t, 1, 6, 5, 10, 6000);
	one(&t, 1, 1, 5, 10, 7000);
	a = track_find(&t, 1);
	cr_assert_eq(a->stall_ms, 2000);
	cr_assert_eq(a->stall_end_ms, 4000);
	/* ...until the longer one is old. */
	one(&t, 1, 6, 5, 11, 4000 + TRACK_STALL_KEEP_MS + 1000);
	one(&t, 1, 1, 5, 11, 4000 + TRACK_STALL_KEEP_MS + 2000);
	a = track_find(&t, 1);
	cr_assert_eq(a->stall_ms, 0);
	cr_assert_eq(a->stall_end_ms, 4000 + TRACK_STALL_KEEP_MS + 1000);
	track_free(&t);
}

Test(track, history_ring_wraps_newest_first)
{
	struct track t;
	struct tracked *a;
	unsigned i, n = TRACK_HISTORY + 9;

	track_init(&t);
	for (i = 0; i < n; i++)
		one(&t, 1, i, 1000, i * 2, (int64_t)i * 1000);
	a = track_find(&t, 1);
	cr_assert_eq(a->hist_len, TRACK_HISTORY);
	cr_assert_eq(a->ticks_seen, n);
	for (i = 0; i < TRACK_HISTORY; i++) {
		const struct tick_point *p = tracked_hist(a, i);

		cr_assert_not_null(p);
		cr_assert_eq(p->queue, n - 1 - i, "point %u ago", i);
		cr_assert_eq(p->drops_delta, 2);
	}
	cr_assert_null(tracked_hist(a, TRACK_HISTORY));
	cr_assert_null(tracked_hist(a, 1000));
	cr_assert_eq(a->peak_queue, n - 1);
	track_free(&t);
}

/*
 * An idle listener keeps one point and no ring (a big host's thousands of
 * idle listeners cost no history); the first point that differs brings the
 * ring, holding the idle past, and the history reads the same either way.
 */
Test(track, idle_history_has_no_ring_until_a_point_differs)
{
	struct track t;
	struct tracked *a;
	unsigned i;

	track_init(&t);
	for (i = 0; i < 5; i++)
		one(&t, 1, 0, 128, 0, (int64_t)i * 1000);
	a = track_find(&t, 1);
	cr_assert_null(a->hist, "no ring while every point is the same");
	cr_assert_eq(a->hist_len, 5);
	for (i = 0; i < 5; i++) {
		cr_assert_eq(tracked_hist(a, i)->queue, 0);
		cr_assert_eq(tracked_hist(a, i)->backlog, 128);
	}
	cr_assert_null(tracked_hist(a, 5));

	one(&t, 1, 7, 128, 0, 5000);
	a = track_find(&t, 1);
	cr_assert_not_null(a->hist, "the ring once the queue moved");
	cr_assert_eq(a->hist_len, 6);
	cr_assert_eq(tracked_hist(a, 0)->queue, 7);
	for (i = 1; i < 6; i++)
		cr_assert_eq(tracked_hist(a, i)->queue, 0, "the idle past, %u ago", i);
	track_free(&t);
}

/*
 * The same dump order tick after tick reuses the sorted keys; a reordered
 * dump of the same cookies, a repeat, or a new listener must not: every
 * listener gets its own drops whatever the path.
 */
Test(track, keys_reused_only_while_the_dump_order_holds)
{
	static const uint64_t order[3][4] = { { 9, 3, 7, 1 }, { 9, 3, 7, 1 }, { 1, 7, 3, 9 } };
	struct limits lim = some_limits();
	struct track t;
	struct dump d;
	unsigned tick;

	track_init(&t);
	for (tick = 0; tick < 3; tick++) {
		dump_reset(&d);
		for (int i = 0; i < 4; i++)
			dump_add(&d, order[tick][i], 100 + (uint32_t)order[tick][i], 0, 128,
				 (uint32_t)(order[tick][i] * (tick + 1)));
		cr_assert_eq(take(&t, &d.set, NULL, &lim, 1000 * (tick + 1)), 0);
		/* The first tick gathers new keys over the sorted ones; after that none is new. */
		cr_assert_eq(t.keys_intact, tick ? 4u : 0u, "tick %u", tick);
		for (int i = 0; i < 4; i++) {
			const struct tracked *tr = track_find(&t, order[tick][i]);

			cr_assert_not_null(tr);
			cr_assert_eq(tr->l.drops, order[tick][i] * (tick + 1));
			cr_assert_eq(tr->drops_delta, tick ? order[tick][i] : 0, "tick %u cookie %lu", tick,
				     (unsigned long)order[tick][i]);
		}
		assert_sorted(&t);
	}
	/* A repeat and a new listener: the keys are rebuilt, and not reusable after. */
	dump_reset(&d);
	dump_add(&d, 1, 101, 0, 128, 4);
	dump_add(&d, 5, 105, 0, 128, 0);
	dump_add(&d, 1, 101, 0, 128, 4);
	dump_add(&d, 3, 103, 0, 128, 12);
	cr_assert_eq(take(&t, &d.set, NULL, &lim, 4000), 0);
	cr_assert_eq(t.keys_intact, 0);
	cr_assert_eq(t.count, 3);
	cr_assert_eq(track_find(&t, 1)->drops_delta, 1);
	cr_assert_eq(track_find(&t, 3)->drops_delta, 3);
	cr_assert_not_null(track_find(&t, 5));
	cr_assert_null(track_find(&t, 9));
	track_free(&t);
}

static void counters_one(struct counters *c, struct counter *storage, int64_t overflows)
{
	memset(c, 0, sizeof(*c));
	memset(storage, 0, 2 * sizeof(*storage));
	snprintf(storage[0].name, sizeof(storage[0].name), "TcpExt.ListenDrops");
	storage[0].value = overflows * 2;
	snprintf(storage[1].name, sizeof(storage[1].name), "TcpExt.ListenOverflows");
	storage[1].value = overflows;
	c->items = storage;
	c->count = 2;
	c->cap = 2;
}

Test(track, host_counters_are_copied_and_diffed)
{
	struct track t;
	struct dump d;
	struct counters c;
	struct counter st[2];
	int64_t delta = -1;

	track_init(&t);
	dump_reset(&d);
	counters_one(&c, st, 100);
	cr_assert_eq(take(&t, &d.set, &c, NULL, 1000), 0);
	cr_assert_not(t.have_prev);
	cr_assert_not(track_host_delta(&t, "TcpExt.ListenOverflows", &delta),
		      "no delta from one sample");

	/* The caller reuses its buffer: track must hold its own copy. */
	counters_one(&c, st, 130);
	cr_assert_eq(take(&t, &d.set, &c, NULL, 2000), 0);
	st[1].value = 999999;
	cr_assert(t.have_prev);
	cr_assert(track_host_delta(&t, "TcpExt.ListenOverflows", &delta));
	cr_assert_eq(delta, 30);
	cr_assert(track_host_delta(&t, "TcpExt.ListenDrops", &delta));
	cr_assert_eq(delta, 60);
	cr_assert_not(track_host_delta(&t, "TcpExt.NoSuchCounter", &delta));

	counters_one(&c, st, 10);
	cr_assert_eq(take(&t, &d.set, &c, NULL, 3000), 0);
	cr_assert(track_host_delta(&t, "TcpExt.ListenOverflows", &delta));
	cr_assert_eq(delta, 0, "a counter that went backwards moved by nothing known");

	/* A failed read: empty counters; the delta is unknown, not zero. */
	cr_assert_eq(take(&t, &d.set, NULL, NULL, 4000), 0);
	cr_assert_not(track_host_delta(&t, "TcpExt.ListenOverflows", &delta));
	cr_assert_eq(t.host_cur.count, 0);
	cr_assert_eq(t.host_prev.count, 2);
	track_free(&t);
}

Test(track, limits_copied_unknown_without)
{
	struct track t;
	struct dump d;
	struct limits lim = { .somaxconn = 8, .tcp_max_syn_backlog = 256, .tcp_syncookies = 0,
			      .tcp_abort_on_overflow = 1, .port_range_lo = 32768,
			      .port_range_hi = 60999, .tcp_tw_reuse = 2, .tcp_max_tw_buckets = 4096,
			      .tcp_max_orphans = 4096, .tcp_mem = { 10, 20, 30 },
			      .nf_conntrack_max = 65536 };

	track_init(&t);
	cr_assert_eq(t.limits.somaxconn, SYSCTL_UNKNOWN);
	dump_reset(&d);
	cr_assert_eq(take(&t, &d.set, NULL, &lim, 1000), 0);
	cr_assert_eq(t.limits.somaxconn, 8);
	cr_assert_eq(t.limits.tcp_max_syn_backlog, 256);
	cr_assert_eq(t.limits.tcp_syncookies, 0);
	cr_assert_eq(t.limits.tcp_abort_on_overflow, 1);
	cr_assert_eq(t.limits.port_range_hi, 60999);
	cr_assert_eq(t.limits.tcp_mem[2], 30);
	cr_assert_eq(t.limits.nf_conntrack_max, 65536);
	cr_assert_eq(take(&t, &d.set, NULL, NULL, 2000), 0);
	cr_assert_eq(t.limits.somaxconn, SYSCTL_UNKNOWN);
	cr_assert_eq(t.limits.tcp_abort_on_overflow, SYSCTL_UNKNOWN);
	/* Every limit of the catalogue, not only the first four: none may read as 0. */
	cr_assert_eq(t.limits.port_range_lo, SYSCTL_UNKNOWN);
	cr_assert_eq(t.limits.port_range_hi, SYSCTL_UNKNOWN);
	cr_assert_eq(t.limits.tcp_tw_reuse, SYSCTL_UNKNOWN);
	cr_assert_eq(t.limits.tcp_max_tw_buckets, SYSCTL_UNKNOWN);
	cr_assert_eq(t.limits.tcp_max_orphans, SYSCTL_UNKNOWN);
	cr_assert_eq(t.limits.tcp_mem[0], SYSCTL_UNKNOWN);
	cr_assert_eq(t.limits.tcp_mem[1], SYSCTL_UNKNOWN);
	cr_assert_eq(t.limits.tcp_mem[2], SYSCTL_UNKNOWN);
	cr_assert_eq(t.limits.nf_conntrack_max, SYSCTL_UNKNOWN);
	track_free(&t);
}

/*
 * A model check over many ticks: random subsets of a cookie universe, in
 * random order, with random counters, against a plain per-cookie model.
 */
#define UNIVERSE 64
Test(track, random_ticks_agree_with_a_model)
{
	struct track t;
	struct listener_set set;
	struct listener *items = calloc(UNIVERSE, sizeof(*items));
	uint32_t drops[UNIVERSE] = { 0 }, prev[UNIVERSE] = { 0 };
	uint64_t total[UNIVERSE] = { 0 };
	bool alive[UNIVERSE] = { false }, was[UNIVERSE] = { false };
	unsigned seed = 12345, tick, c;

	cr_assert_not_null(items);
	track_init(&t);
	for (tick = 0; tick < 400; tick++) {
		size_t n = 0, i, news = 0;

		for (c = 0; c < UNIVERSE; c++) {
			alive[c] = (rand_r(&seed) % 4) != 0;
			if (rand_r(&seed) % 3 == 0)
				drops[c] += (uint32_t)(rand_r(&seed) % 5);
			if (!alive[c])
				continue;
			memset(&items[n], 0, sizeof(items[n]));
			items[n].cookie = 1000 + (uint64_t)c * 7919;
			items[n].inode = c + 1;
			items[n].drops = drops[c];
			items[n].has_drops = true;
			items[n].queue = (uint32_t)(rand_r(&seed) % 5);
			items[n].backlog = 3;
			n++;
		}
		/* Shuffle: dump order means nothing. */
		for (i = n; i > 1; i--) {
			size_t j = (size_t)rand_r(&seed) % i;
			struct listener tmp = items[i - 1];

			items[i - 1] = items[j];
			items[j] = tmp;
		}
		set.items = items;
		set.count = n;
		set.cap = UNIVERSE;
		cr_assert_eq(take(&t, &set, NULL, NULL, (int64_t)tick * 1000), 0);

		cr_assert_eq(t.count, n);
		assert_sorted(&t);
		for (c = 0; c < UNIVERSE; c++) {
			struct tracked *tr = track_find(&t, 1000 + (uint64_t)c * 7919);

			if (!alive[c]) {
				cr_assert_null(tr);
				was[c] = false;
				continue;
			}
			cr_assert_not_null(tr);
			cr_assert_eq(tr->l.inode, c + 1);
			if (!was[c]) {
				/* Born after the first update: all its drops are this tick's. */
				uint32_t born = tick > 0 ? drops[c] : 0;

				news++;
				total[c] = 0;
				cr_assert_eq(tr->drops_delta, born);
				cr_assert_eq(tr->ticks_seen, 1);
			} else {
				cr_assert_eq(tr->drops_delta, drops[c] - prev[c]);
			}
			total[c] += tr->drops_delta;
			cr_assert_eq(tr->drops_total, total[c]);
			prev[c] = drops[c];
			was[c] = true;
		}
		cr_assert_eq(t.new_count, news);
	}
	track_free(&t);
	free(items);
}

Test(track, enomem_from_a_size_overflow_leaves_t_unchanged)
{
	struct track t;
	struct listener_set huge;
	struct track before;

	track_init(&t);
	one(&t, 1, 0, 128, 5, 1000);
	one(&t, 1, 0, 128, 9, 2000);
	memcpy(&before, &t, sizeof(t));

	/* More listeners than memory can index: refused before items is read. */
	memset(&huge, 0, sizeof(huge));
	huge.count = SIZE_MAX / 4;
	cr_assert_eq(take(&t, &huge, NULL, NULL, 3000), -ENOMEM);
	cr_assert_eq(memcmp(&t, &before, sizeof(t)), 0);
	cr_assert_eq(track_find(&t, 1)->drops_total, 4);

	/* Still usable. */
	one(&t, 1, 0, 128, 10, 3000);
	cr_assert_eq(track_find(&t, 1)->drops_total, 5);
	cr_assert_eq(t.ticks, 3);
	track_free(&t);
}

/*
 * A real allocation failure: the address-space limit is lowered so that the
 * listener array cannot grow. ASan reserves terabytes of shadow memory and
 * aborts on a failed malloc, so this runs in plain builds only. Criterion
 * runs each test in its own process, so the limit does not leak.
 */
Test(track, enomem_from_malloc_leaves_t_consistent)
{
#if defined(__SANITIZE_ADDRESS__)
	cr_skip_test("address-space limits do not mix with AddressSanitizer");
#else
	enum { N = 200000 };
	struct track t;
	struct listener_set set;
	struct listener *items = calloc(N, sizeof(*items));
	struct rlimit old, low;
	FILE *f;
	unsigned long pages = 0;
	int rc, rc2;
	size_t i, count_after;
	uint64_t ticks_after, total_after;

	cr_assert_not_null(items);
	for (i = 0; i < N; i++) {
		items[i].cookie = 10 + i;
		items[i].inode = (uint32_t)i;
		items[i].has_drops = true;
		items[i].backlog = 128;
	}
	track_init(&t);
	one(&t, 10, 0, 128, 5, 1000);
	one(&t, 10, 0, 128, 9, 2000);

	f = fopen("/proc/self/statm", "r");
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%lu", &pages), 1);
	fclose(f);
	cr_assert_eq(getrlimit(RLIMIT_AS, &old), 0);
	low = old;
	/* Room for small allocations, not for N tracked listeners (~190 MB). */
	low.rlim_cur = pages * 4096UL + (32UL << 20);
	cr_assert_eq(setrlimit(RLIMIT_AS, &low), 0);

	set.items = items;
	set.count = N;
	set.cap = N;
	rc = take(&t, &set, NULL, NULL, 3000);
	/* Record before asserting: Criterion's reporting may itself need memory. */
	count_after = t.count;
	ticks_after = t.ticks;
	total_after = track_find(&t, 10) ? track_find(&t, 10)->drops_total : 0;
	cr_assert_eq(setrlimit(RLIMIT_AS, &old), 0);

	cr_assert_eq(rc, -ENOMEM);
	cr_assert_eq(count_after, 1);
	cr_assert_eq(ticks_after, 2);
	cr_assert_eq(total_after, 4);

	/* With memory back the same update goes through. */
	items[0].drops = 12;
	rc2 = take(&t, &set, NULL, NULL, 3000);
	cr_assert_eq(rc2, 0);
	cr_assert_eq(t.count, N);
	cr_assert_eq(t.new_count, N - 1);
	cr_assert_eq(track_find(&t, 10)->drops_total, 7);
	track_free(&t);
	free(items);
#endif
}

/* A listener born between two updates: every drop it shows is new. */
Test(track, listener_born_between_updates_counts_its_drops)
{
	struct track t;
	struct listener a = { .cookie = 1, .inode = 11, .has_drops = true, .backlog = 4 };
	struct listener b = { .cookie = 2, .inode = 12, .has_drops = true, .drops = 9,
			      .queue = 5, .backlog = 4 };
	struct listener both[2] = { a, b };
	struct listener_set set = { .items = &a, .count = 1, .cap = 1 };
	struct tracked *tb;

	track_init(&t);
	a.drops = 3;
	cr_assert_eq(take(&t, &set, NULL, NULL, 1000), 0);
	cr_assert_eq(track_find(&t, 1)->drops_delta, 0, "first update: the past is unknown");
	both[0] = a;
	set.items = both;
	set.count = 2;
	set.cap = 2;
	cr_assert_eq(take(&t, &set, NULL, NULL, 2000), 0);
	tb = track_find(&t, 2);
	cr_assert_not_null(tb);
	cr_assert_eq(tb->drops_delta, 9);
	cr_assert_eq(tb->drops_total, 9);
	cr_assert_eq(tb->drops_first, 0);
	cr_assert_eq(tracked_hist(tb, 0)->drops_delta, 9);
	cr_assert_eq(tb->ticks_full, 1);
	track_free(&t);
}

/* ---- host state and kernel log events ---- */

/* A tick with one listener and the host-wide samples given (NULL: not read). */
static void host_tick(struct track *t, const struct sockstat *ss, const struct conntrack_stat *ct,
		      const struct link_table *lt, const struct kmsg_event *ev, size_t n_ev,
		      const struct deep_sample *ds, int64_t now_ms)
{
	struct dump d;
	struct tick_sample s = { .listeners = &d.set, .sockstat = ss, .conntrack = ct, .links = lt,
				 .kmsg = ev, .n_kmsg = n_ev, .deep = ds };

	dump_reset(&d);
	dump_add(&d, 1, 101, 0, 128, 0);
	cr_assert_eq(track_tick(t, &s, now_ms), 0);
}

Test(track_host, host_state_moves_to_prev_and_unknown_when_not_read)
{
	struct track t;
	struct sockstat ss = { .sockets_used = 10, .tcp_inuse = 5, .tcp_orphan = 7, .tcp_tw = 3,
			       .tcp_alloc = 9, .tcp_mem = 123, .tcp6_inuse = 1 };
	struct conntrack_stat ct = { .present = true, .count = 100, .have_stat = true, .drop = 4 };
	struct link_table lt;
	struct deep_sample ds;

	memset(&lt, 0, sizeof(lt));
	memset(&ds, 0, sizeof(ds));
	lt.count = 1;
	lt.items[0].ifindex = 2;
	snprintf(lt.items[0].name, sizeof(lt.items[0].name), "eth0");
	lt.items[0].rx_dropped = 11;

	track_init(&t);
	cr_assert_not(t.hs_cur.valid);
	cr_assert_eq(t.hs_cur.ss.tcp_mem, -1, "never sampled is unknown, not 0");
	cr_assert_eq(t.hs_cur.ct.count, -1);
	cr_assert_null(t.deep);

	host_tick(&t, &ss, &ct, &lt, NULL, 0, &ds, 1000);
	cr_assert(t.hs_cur.valid);
	cr_assert_not(t.hs_prev.valid);
	cr_assert_eq(t.hs_cur.ss.tcp_mem, 123);
	cr_assert_eq(t.hs_cur.ct.drop, 4);
	cr_assert_eq(t.hs_cur.links.items[0].rx_dropped, 11);
	cr_assert_eq(t.deep, &ds);

	/* The caller reuses its buffers: track keeps copies. */
	ss.tcp_mem = 456;
	ct.drop = 9;
	host_tick(&t, &ss, &ct, NULL, NULL, 0, NULL, 2000);
	cr_assert_null(t.deep, "a tick without the deep tier has no deep sample");
	cr_assert(t.hs_prev.valid);
	cr_assert_eq(t.hs_prev.ss.tcp_mem, 123);
	cr_assert_eq(t.hs_prev.ct.drop, 4);
	cr_assert_eq(t.hs_prev.links.count, 1);
	cr_assert_eq(t.hs_cur.ss.tcp_mem, 456);
	cr_assert_eq(t.hs_cur.links.count, 0, "links not read this tick: none to compare");

	/*
	 * A sample without the host probes (the monitor always gives them,
	 * read or not): no host sample, every number unknown.
	 */
	host_tick(&t, NULL, NULL, NULL, NULL, 0, NULL, 3000);
	cr_assert_not(t.hs_cur.valid);
	cr_assert(t.hs_prev.valid);
	cr_assert_eq(t.hs_cur.ss.tcp_mem, -1);
	cr_assert_eq(t.hs_cur.ss.tcp_orphan, -1);
	cr_assert_not(t.hs_cur.ct.present);
	cr_assert_eq(t.hs_cur.ct.count, -1);
	track_free(&t);
}

Test(track_host, kmsg_events_are_this_ticks_and_capped)
{
	struct track t;
	struct kmsg_event ev[TRACK_KMSG_MAX + 5];
	size_t i;

	memset(ev, 0, sizeof(ev));
	for (i = 0; i < TRACK_KMSG_MAX + 5; i++) {
		ev[i].kind = KMSG_SYN_FLOOD;
		ev[i].seq = i;
		ev[i].port = 8080;
	}
	track_init(&t);
	host_tick(&t, NULL, NULL, NULL, ev, 2, NULL, 1000);
	cr_assert_eq(t.n_kmsg, 2);
	cr_assert_eq(t.kmsg[1].seq, 1);

	host_tick(&t, NULL, NULL, NULL, NULL, 0, NULL, 2000);
	cr_assert_eq(t.n_kmsg, 0, "last tick's events are not news in this one");
	host_tick(&t, NULL, NULL, NULL, ev, TRACK_KMSG_MAX + 5, NULL, 3000);
	cr_assert_eq(t.n_kmsg, TRACK_KMSG_MAX);
	cr_assert_eq(t.kmsg[0].seq, 0, "the first of a burst are kept");
	cr_assert_eq(t.kmsg[TRACK_KMSG_MAX - 1].seq, TRACK_KMSG_MAX - 1);
	track_free(&t);
}

/* ---- what the monitor resolves before the tick: owners and their states ---- */

static const struct owner nginx = { .nprocs = 1, .nprocs_total = 1,
				    .procs = { { .pid = 812, .comm = "nginx" } }, .unit = "nginx.service" };
static const struct owner redis = { .nprocs = 1, .nprocs_total = 1,
				    .procs = { { .pid = 90, .comm = "redis" } } };

/* owners[i] goes with the listener at dump position i, whatever order track keeps them in. */
Test(track_owner, owners_follow_the_dump_position)
{
	struct track t;
	struct dump d;
	const struct owner *owners[3] = { &nginx, NULL, &redis };
	struct tick_sample s = { .listeners = &d.set, .owners = owners };

	track_init(&t);
	dump_reset(&d);
	dump_add(&d, 9, 109, 0, 128, 0);
	dump_add(&d, 5, 105, 0, 128, 0);
	dump_add(&d, 1, 101, 0, 128, 0);
	cr_assert_eq(track_tick(&t, &s, 1000), 0);
	cr_assert_eq(tracked_owner(track_find(&t, 9))->procs[0].pid, 812);
	cr_assert_eq(tracked_owner(track_find(&t, 5))->nprocs, 0, "not found: unknown");
	cr_assert_eq(tracked_owner(track_find(&t, 1))->procs[0].pid, 90);

	/* No owners in the sample: each listener keeps its own, a new one has none. */
	s.owners = NULL;
	dump_add(&d, 3, 103, 0, 128, 0);
	cr_assert_eq(track_tick(&t, &s, 2000), 0);
	cr_assert_eq(tracked_owner(track_find(&t, 9))->procs[0].pid, 812);
	cr_assert_eq(tracked_owner(track_find(&t, 1))->procs[0].pid, 90);
	cr_assert_eq(tracked_owner(track_find(&t, 3))->nprocs, 0);

	/* Owners again (procmap moved them), in another dump order. */
	dump_reset(&d);
	dump_add(&d, 1, 101, 0, 128, 0);
	dump_add(&d, 9, 109, 0, 128, 0);
	owners[0] = &nginx;
	owners[1] = &redis;
	s.owners = owners;
	cr_assert_eq(track_tick(&t, &s, 3000), 0);
	cr_assert_eq(tracked_owner(track_find(&t, 1))->procs[0].pid, 812);
	cr_assert_eq(tracked_owner(track_find(&t, 9))->procs[0].pid, 90);
	track_free(&t);
}

/*
 * The owner's state is this tick's, and only a dropping or full listener's: a
 * stopped owner of a quiet listener explains nothing (look-alike), and last
 * tick's 'T' is not this one's.
 */
Test(track_owner, owner_state_only_while_dropping)
{
	struct track t;
	struct dump d;
	const char states[2] = { 'T', 'T' };
	struct tick_sample s = { .listeners = &d.set, .owner_states = states };

	track_init(&t);
	dump_reset(&d);
	dump_add(&d, 1, 101, 0, 128, 5);
	dump_add(&d, 2, 102, 0, 128, 0);
	cr_assert_eq(track_tick(&t, &s, 1000), 0);
	cr_assert_eq(track_find(&t, 1)->owner_state, 0, "first tick: no delta, no state");

	d.items[0].drops = 9;
	cr_assert_eq(track_tick(&t, &s, 2000), 0);
	cr_assert_eq(track_find(&t, 1)->owner_state, 'T');
	cr_assert_eq(track_find(&t, 2)->owner_state, 0, "quiet: its owner's state is not read");

	/* No new drop, but the queue is full (clients gave up): still this tick's state. */
	d.items[1].queue = 128;
	cr_assert_eq(track_tick(&t, &s, 2500), 0);
	cr_assert_eq(track_find(&t, 2)->owner_state, 'T', "full: its owner's state counts");

	s.owner_states = NULL;
	d.items[0].drops = 12;
	cr_assert_eq(track_tick(&t, &s, 3000), 0);
	cr_assert_eq(track_find(&t, 1)->owner_state, 0, "not read this tick: unknown");
	track_free(&t);
}

/* Before the tick: the monitor asks procmap only when the listeners changed. */
Test(track_owner, same_listeners_only_in_the_steady_state)
{
	struct track t;
	struct dump d, other;

	track_init(&t);
	dump_reset(&d);
	dump_add(&d, 4, 104, 0, 128, 0);
	dump_add(&d, 2, 102, 0, 128, 0);
	cr_assert_not(track_same_listeners(&t, &d.set), "nothing tracked yet");
	cr_assert_eq(take(&t, &d.set, NULL, NULL, 1000), 0);
	cr_assert_eq(take(&t, &d.set, NULL, NULL, 2000), 0);
	cr_assert(track_same_listeners(&t, &d.set));

	other = d;
	other.set.items = other.items;
	other.items[1].cookie = 3;
	cr_assert_not(track_same_listeners(&t, &other.set), "one replaced");
	other.set.count = 1;
	other.items[0].cookie = 4;
	cr_assert_not(track_same_listeners(&t, &other.set), "one gone");
	cr_assert_not(track_same_listeners(&t, NULL));
	track_free(&t);
}

Test(track_owner, drops_moved_as_the_tick_will_count_them)
{
	struct track t;
	struct dump d;
	struct listener l;

	track_init(&t);
	dump_reset(&d);
	dump_add(&d, 1, 101, 0, 128, 5);
	l = d.items[0];
	cr_assert_not(track_drops_moved(&t, &l), "the first tick has no past: no delta");
	cr_assert_eq(take(&t, &d.set, NULL, NULL, 1000), 0);
	cr_assert_not(track_drops_moved(&t, &l));
	l.drops = 6;
	cr_assert(track_drops_moved(&t, &l));
	l.drops = 2;
	cr_assert_not(track_drops_moved(&t, &l), "went backwards: not the same counter");
	l.cookie = 77;
	cr_assert(track_drops_moved(&t, &l), "born since the last tick: all its drops are new");
	l.drops = 0;
	cr_assert_not(track_drops_moved(&t, &l));
	track_free(&t);
}

Test(track_owner, host_delta_to_the_next_sample)
{
	struct track t;
	struct dump d;
	struct counters c, next;
	struct counter st[2], st2[2];
	int64_t delta = -1, after = -1;

	track_init(&t);
	dump_reset(&d);
	counters_one(&c, st, 100);
	counters_one(&next, st2, 130);
	cr_assert_not(track_host_delta_to(&t, &next, "TcpExt.ListenOverflows", &delta), "no tick yet");
	cr_assert_eq(take(&t, &d.set, &c, NULL, 1000), 0);
	cr_assert(track_host_delta_to(&t, &next, "TcpExt.ListenOverflows", &delta));
	cr_assert_eq(delta, 30);
	cr_assert_not(track_host_delta_to(&t, NULL, "TcpExt.ListenOverflows", &delta));
	cr_assert_not(track_host_delta_to(&t, &next, "TcpExt.NoSuchCounter", &delta));
	cr_assert_eq(take(&t, &d.set, &next, NULL, 2000), 0);
	cr_assert(track_host_delta(&t, "TcpExt.ListenOverflows", &after));
	cr_assert_eq(after, 30, "what it said before the tick, track_host_delta says after");
	track_free(&t);
}

/* ---- fast samples folded into the tick ---- */

static void peaks_of(struct fast_peaks *fp, struct dump *fast)
{
	fast_peaks_init(fp);
	cr_assert_eq(fast_peaks_add(fp, &fast->set), 0);
}

Test(track_fast, a_burst_between_ticks_is_this_ticks)
{
	struct track t;
	struct dump d, fast;
	struct fast_peaks fp;
	struct tick_sample s = { .listeners = &d.set };
	struct tracked *a;

	track_init(&t);
	dump_reset(&d);
	dump_add(&d, 1, 101, 0, 16, 0);
	dump_add(&d, 2, 102, 0, 16, 0);
	cr_assert_eq(track_tick(&t, &s, 1000), 0);
	cr_assert_eq(track_tick(&t, &s, 2000), 0);

	/* Between the ticks: 1 filled (17 > 16) then drained; 2 rose a little. 3 is new. */
	dump_reset(&fast);
	dump_add(&fast, 1, 101, 9, 16, 0);
	dump_add(&fast, 2, 102, 3, 16, 0);
	dump_add(&fast, 1, 101, 17, 16, 0);
	dump_add(&fast, 3, 103, 17, 16, 0);
	peaks_of(&fp, &fast);
	cr_assert_eq(fp.count, 3);
	cr_assert_eq(fast_peaks_find(&fp, 1)->queue, 17);
	cr_assert_eq(fast_peaks_find(&fp, 1)->samples, 2);

	dump_add(&d, 3, 103, 0, 16, 0);
	d.items[1].queue = 5;           /* 2's own queue at the tick is above what the fast samples saw */
	s.fast = &fp;
	cr_assert_eq(track_tick(&t, &s, 3000), 0);
	a = track_find(&t, 1);
	cr_assert_eq(tracked_hist(a, 0)->queue, 17, "the peak is this tick's point");
	cr_assert_eq(tracked_hist(a, 1)->queue, 0);
	cr_assert_eq(a->peak_queue, 17);
	cr_assert_eq(a->ticks_full, 1, "full in the burst, told as one");
	cr_assert_eq(t.fast_full, 1);
	cr_assert_eq(tracked_hist(track_find(&t, 2), 0)->queue, 5, "a lower peak changes nothing");
	cr_assert_eq(tracked_hist(track_find(&t, 3), 0)->queue, 0, "new at this tick: the tick saw it");
	cr_assert_eq(track_find(&t, 3)->ticks_full, 0);

	/* Taken: the next tick without samples folds nothing and forgets fast_full. */
	s.fast = NULL;
	cr_assert_eq(track_tick(&t, &s, 4000), 0);
	cr_assert_eq(t.fast_full, 0);
	cr_assert_eq(tracked_hist(track_find(&t, 1), 0)->queue, 0);
	fast_peaks_free(&fp);
	track_free(&t);
}

/* A queue full at both ticks that a fast sample saw drain in between is being accepted from: no stall. */
Test(track_fast, a_drain_between_ticks_restarts_the_full_run)
{
	struct track t;
	struct dump d, fast;
	struct fast_peaks fp;
	struct tick_sample s = { .listeners = &d.set };
	struct tracked *a;

	track_init(&t);
	dump_reset(&d);
	dump_add(&d, 1, 101, 6, 5, 0);
	dump_add(&d, 2, 102, 6, 5, 0);
	cr_assert_eq(track_tick(&t, &s, 1000), 0);
	cr_assert_eq(track_tick(&t, &s, 2000), 0);
	cr_assert_eq(tracked_full_ms(track_find(&t, 1)), 1000);

	/* 1 dipped to 2 between the ticks; 2 stayed at 5 of 5, full. */
	dump_reset(&fast);
	dump_add(&fast, 1, 101, 2, 5, 0);
	dump_add(&fast, 1, 101, 6, 5, 0);
	dump_add(&fast, 2, 102, 5, 5, 0);
	peaks_of(&fp, &fast);
	cr_assert_eq(fast_peaks_find(&fp, 1)->below_full, 1);
	cr_assert_eq(fast_peaks_find(&fp, 2)->below_full, 0, "5 of 5 is full");
	s.fast = &fp;
	d.items[0].drops = 3;
	cr_assert_eq(track_tick(&t, &s, 3000), 0);
	a = track_find(&t, 1);
	cr_assert_eq(a->full_since_ms, 3000, "the run starts again after the drain");
	cr_assert_eq(tracked_full_ms(a), 0);
	cr_assert_eq(a->ticks_full, 1);
	cr_assert_eq(a->full_drops, 3);
	cr_assert_eq(a->stall_ms, 1000, "the run before the drain: 1000 to 2000");
	cr_assert_eq(tracked_full_ms(track_find(&t, 2)), 2000, "no drain seen: one run");
	cr_assert_eq(track_find(&t, 2)->ticks_full, 3);
	fast_peaks_free(&fp);
	track_free(&t);
}

/* An idle listener whose fast samples saw nothing higher keeps no ring. */
Test(track_fast, a_peak_no_higher_needs_no_ring)
{
	struct track t;
	struct dump d, fast;
	struct fast_peaks fp;
	struct tick_sample s = { .listeners = &d.set };

	track_init(&t);
	dump_reset(&d);
	dump_add(&d, 1, 101, 0, 16, 0);
	cr_assert_eq(track_tick(&t, &s, 1000), 0);
	dump_reset(&fast);
	dump_add(&fast, 1, 101, 0, 16, 0);
	peaks_of(&fp, &fast);
	s.fast = &fp;
	cr_assert_eq(track_tick(&t, &s, 2000), 0);
	cr_assert_null(track_find(&t, 1)->hist);
	cr_assert_eq(track_find(&t, 1)->hist_len, 2);
	fast_peaks_free(&fp);
	track_free(&t);
}

Test(track_fast, peaks_merge_rounds_and_repeats)
{
	struct dump a, b;
	struct fast_peaks fp;

	dump_reset(&a);
	dump_add(&a, 5, 105, 3, 8, 0);
	dump_add(&a, 2, 102, 1, 8, 0);
	dump_add(&a, 5, 105, 6, 8, 0);
	peaks_of(&fp, &a);
	cr_assert_eq(fp.count, 2);
	cr_assert_eq(fp.items[0].cookie, 2, "sorted by cookie");
	cr_assert_eq(fast_peaks_find(&fp, 5)->queue, 6);
	cr_assert_eq(fast_peaks_find(&fp, 5)->samples, 2);
	cr_assert(fast_peak_hot(fast_peaks_find(&fp, 5)), "6 of 8 is above half");
	cr_assert_not(fast_peak_hot(fast_peaks_find(&fp, 2)));

	dump_reset(&b);
	dump_add(&b, 9, 109, 0, 8, 0);
	dump_add(&b, 5, 105, 4, 8, 0);
	cr_assert_eq(fast_peaks_add(&fp, &b.set), 0);
	cr_assert_eq(fp.count, 3);
	cr_assert_eq(fast_peaks_find(&fp, 5)->queue, 6, "the highest so far stands");
	cr_assert_eq(fast_peaks_find(&fp, 5)->samples, 3);
	cr_assert_not_null(fast_peaks_find(&fp, 9));
	cr_assert_null(fast_peaks_find(&fp, 7));
	fast_peaks_clear(&fp);
	cr_assert_eq(fp.count, 0);
	cr_assert_null(fast_peaks_find(&fp, 5));
	fast_peaks_free(&fp);
}

/* ---- listener gaps ---- */

/* Host counters with only Tcp.OutRsts at total. */
struct rsts {
	struct counter c;
	struct counters set;
};

static const struct counters *rsts_at(struct rsts *r, int64_t total)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->c.name, sizeof(r->c.name), "Tcp.OutRsts");
	r->c.value = total;
	r->set.items = &r->c;
	r->set.count = 1;
	r->set.cap = 1;
	return &r->set;
}

/* One update: the listeners of d, Tcp.OutRsts at rst (or not read when rst < 0). */
static void upd(struct track *t, struct dump *d, int64_t rst, int64_t now_ms)
{
	struct rsts r;

	cr_assert_eq(take(t, &d->set, rst >= 0 ? rsts_at(&r, rst) : NULL, NULL, now_ms), 0);
}

static void own(struct track *t, uint64_t cookie, int pid, const char *comm, const char *unit)
{
	struct tracked *tr = track_find(t, cookie);

	cr_assert_not_null(tr);
	memset(owner_mut(tr), 0, sizeof(struct owner));
	owner_mut(tr)->nprocs = 1;
	owner_mut(tr)->nprocs_total = 1;
	owner_mut(tr)->procs[0].pid = pid;
	snprintf(owner_mut(tr)->procs[0].comm, sizeof(owner_mut(tr)->procs[0].comm), "%s", comm);
	snprintf(owner_mut(tr)->unit, sizeof(owner_mut(tr)->unit), "%s", unit);
}

Test(track_gap, vanished_and_back_records_the_gap)
{
	struct track t;
	struct dump d;
	const struct listener_gap *g;

	track_init(&t);
	dump_reset(&d);
	dump_add(&d, 1, 101, 0, 128, 0)->port = 8080;
	upd(&t, &d, 1000, 1000);
	upd(&t, &d, 1000, 2000);
	own(&t, 1, 812, "nginx", "nginx.service");
	cr_assert_eq(t.n_gaps, 0);

	/* Gone for two ticks while the host sends resets. */
	dump_reset(&d);
	upd(&t, &d, 1005, 3000);
	cr_assert_eq(t.n_gaps, 1);
	g = &t.gaps[0];
	cr_assert_str_eq(g->listener, "127.0.0.1:8080");
	cr_assert_eq(g->family, AF_INET);
	cr_assert_eq(g->port, 8080);
	cr_assert_eq(g->addr[0], 127);
	cr_assert_eq(g->last_seen_ms, 2000);
	cr_assert_eq(g->missing_ms, 3000);
	cr_assert_eq(g->returned_ms, 0, "still absent");
	cr_assert_eq(g->new_cookie, 0);
	cr_assert_eq(g->out_rsts_base, 1000, "counted from the last tick that saw it");
	cr_assert_eq(g->out_rsts, 5);
	cr_assert_eq(g->missing_ticks, 1);
	cr_assert_not(g->replaced);
	cr_assert_eq(g->old_owner.procs[0].pid, 812);
	cr_assert_str_eq(g->old_owner.unit, "nginx.service");

	upd(&t, &d, 1012, 4000);
	cr_assert_eq(t.n_gaps, 1);
	cr_assert_eq(t.gaps[0].missing_ticks, 2);
	cr_assert_eq(t.gaps[0].out_rsts, 12, "so far, while absent");

	/* Back, as a new socket. */
	dump_reset(&d);
	dump_add(&d, 2, 102, 0, 128, 0)->port = 8080;
	upd(&t, &d, 1012, 5000);
	g = &t.gaps[0];
	cr_assert_eq(t.n_gaps, 1);
	cr_assert_eq(g->returned_ms, 5000);
	cr_assert_eq(g->new_cookie, 2);
	cr_assert_eq(g->out_rsts, 12);
	cr_assert_eq(g->missing_ticks, 2);
	cr_assert_not(g->replaced);

	/* A closed gap stays as it was. */
	upd(&t, &d, 1100, 6000);
	cr_assert_eq(t.gaps[0].out_rsts, 12);
	cr_assert_eq(t.gaps[0].returned_ms, 5000);
	track_free(&t);
}

Test(track_gap, replaced_within_one_tick)
{
	struct track t;
	struct dump d;
	const struct listener_gap *g;

	track_init(&t);
	dump_reset(&d);
	dump_add(&d, 1, 101, 0, 128, 0)->port = 443;
	dump_add(&d, 7, 107, 0, 128, 0)->port = 22;
	upd(&t, &d, 50, 1000);
	own(&t, 1, 300, "old", "web.service");

	dump_reset(&d);
	dump_add(&d, 9, 109, 0, 128, 0)->port = 443;
	dump_add(&d, 7, 107, 0, 128, 0)->port = 22;
	upd(&t, &d, 53, 2000);
	cr_assert_eq(t.n_gaps, 1);
	g = &t.gaps[0];
	cr_assert(g->replaced);
	cr_assert_str_eq(g->listener, "127.0.0.1:443");
	cr_assert_eq(g->missing_ms, 2000);
	cr_assert_eq(g->returned_ms, 2000, "returned at once");
	cr_assert_eq(g->new_cookie, 9);
	cr_assert_eq(g->missing_ticks, 0, "no tick saw it absent");
	cr_assert_eq(g->out_rsts, 3, "the resets of that very tick");
	cr_assert_eq(g->old_owner.procs[0].pid, 300);
	track_free(&t);
}

Test(track_gap, reuseport_member_leaving_a_sibling_is_no_gap)
{
	struct track t;
	struct dump d;

	track_init(&t);
	dump_reset(&d);
	dump_add(&d, 1, 101, 0, 128, 0)->port = 80;
	dump_add(&d, 2, 102, 0, 128, 0)->port = 80;
	dump_add(&d, 3, 103, 0, 128, 0)->port = 80;
	upd(&t, &d, 0, 1000);
	own(&t, 3, 33, "worker", "");

	/* One member goes: the others still serve the address. */
	dump_reset(&d);
	dump_add(&d, 1, 101, 0, 128, 0)->port = 80;
	dump_add(&d, 2, 102, 0, 128, 0)->port = 80;
	upd(&t, &d, 0, 2000);
	cr_assert_eq(t.n_gaps, 0);

	/* One member replaced by a new one while a sibling stays: still no gap. */
	dump_reset(&d);
	dump_add(&d, 1, 101, 0, 128, 0)->port = 80;
	dump_add(&d, 4, 104, 0, 128, 0)->port = 80;
	upd(&t, &d, 0, 3000);
	cr_assert_eq(t.n_gaps, 0);

	/* The whole group goes at once: one gap for the address, not one per member. */
	dump_reset(&d);
	upd(&t, &d, 0, 4000);
	cr_assert_eq(t.n_gaps, 1);
	cr_assert_str_eq(t.gaps[0].listener, "127.0.0.1:80");
	cr_assert_eq(t.gaps[0].missing_ticks, 1);
	track_free(&t);
}

Test(track_gap, group_gone_together_keeps_a_known_owner)
{
	struct track t;
	struct dump d;

	track_init(&t);
	dump_reset(&d);
	dump_add(&d, 1, 101, 0, 128, 0)->port = 80;
	dump_add(&d, 2, 102, 0, 128, 0)->port = 80;
	upd(&t, &d, 0, 1000);
	/* Only the second member's owner could be resolved. */
	own(&t, 2, 22, "worker", "app.service");
	dump_reset(&d);
	upd(&t, &d, 0, 2000);
	cr_assert_eq(t.n_gaps, 1);
	cr_assert_eq(t.gaps[0].old_owner.procs[0].pid, 22);
	track_free(&t);
}

Test(track_gap, other_address_or_family_is_not_a_return)
{
	struct track t;
	struct dump d;
	struct listener *l;

	track_init(&t);
	dump_reset(&d);
	dump_add(&d, 1, 101, 0, 128, 0)->port = 80;
	upd(&t, &d, 0, 1000);
	dump_reset(&d);
	upd(&t, &d, 0, 2000);
	cr_assert_eq(t.n_gaps, 1);

	/* Same port, other address; then [::1]:80: neither is 127.0.0.1:80 back. */
	dump_reset(&d);
	l = dump_add(&d, 5, 105, 0, 128, 0);
	l->port = 80;
	l->addr[3] = 2;
	l = dump_add(&d, 6, 106, 0, 128, 0);
	l->port = 80;
	l->family = AF_INET6;
	memset(l->addr, 0, sizeof(l->addr));
	l->addr[15] = 1;
	upd(&t, &d, 0, 3000);
	cr_assert_eq(t.n_gaps, 1);
	cr_assert_eq(t.gaps[0].returned_ms, 0);
	cr_assert_eq(t.gaps[0].missing_ticks, 2);

	/* Garbage after the 4 bytes of an IPv4 address does not make it another address. */
	l = dump_add(&d, 8, 108, 0, 128, 0);
	l->port = 80;
	l->addr[9] = 0xee;
	upd(&t, &d, 0, 4000);
	cr_assert_eq(t.gaps[0].returned_ms, 4000);
	cr_assert_eq(t.gaps[0].new_cookie, 8);
	track_free(&t);
}

Test(track_gap, resets_unknown_without_counters)
{
	struct track t;
	struct dump d;

	track_init(&t);
	dump_reset(&d);
	dump_add(&d, 1, 101, 0, 128, 0);
	upd(&t, &d, -1, 1000);
	dump_reset(&d);
	upd(&t, &d, 40, 2000);
	cr_assert_eq(t.n_gaps, 1);
	cr_assert_eq(t.gaps[0].out_rsts_base, -1);
	cr_assert_eq(t.gaps[0].out_rsts, -1, "unknown, not 0");
	track_free(&t);
}

Test(track_gap, bounded_oldest_closed_go_first)
{
	struct track t;
	struct dump d;
	unsigned i;
	int64_t now = 1000;

	track_init(&t);
	/* One gap that stays open: port 1. */
	dump_reset(&d);
	dump_add(&d, 1, 101, 0, 128, 0)->port = 1;
	upd(&t, &d, 0, now);
	dump_reset(&d);
	upd(&t, &d, 0, now += 1000);
	cr_assert_eq(t.n_gaps, 1);

	/* Then many restarts, each a closed gap (replaced at once). */
	dump_reset(&d);
	dump_add(&d, 1000, 1, 0, 128, 0)->port = 2;
	upd(&t, &d, 0, now += 1000);
	for (i = 1; i <= TRACK_GAPS_MAX + 10; i++) {
		dump_reset(&d);
		dump_add(&d, 1000 + i, 1, 0, 128, 0)->port = 2;
		upd(&t, &d, 0, now += 1000);
	}
	cr_assert_eq(t.n_gaps, TRACK_GAPS_MAX);
	cr_assert_eq(t.gaps[0].port, 1, "the open gap is kept");
	cr_assert_eq(t.gaps[0].returned_ms, 0);
	cr_assert_eq(t.gaps[TRACK_GAPS_MAX - 1].new_cookie, 1000 + TRACK_GAPS_MAX + 10,
		     "the newest last");
	/* 74 closed + 1 open = 75: the 11 oldest closed (new cookies 1001..1011) went. */
	cr_assert_eq(t.gaps[1].new_cookie, 1000 + 12, "the oldest closed ones went");
	track_free(&t);
}

Test(track_gap, enomem_leaves_gaps_unchanged)
{
	struct track t;
	struct dump d;
	struct listener_set huge;
	struct track before;

	track_init(&t);
	dump_reset(&d);
	dump_add(&d, 1, 101, 0, 128, 0);
	upd(&t, &d, 0, 1000);
	memcpy(&before, &t, sizeof(t));
	memset(&huge, 0, sizeof(huge));
	huge.count = SIZE_MAX / 4;
	cr_assert_eq(take(&t, &huge, NULL, NULL, 2000), -ENOMEM);
	cr_assert_eq(t.n_gaps, 0, "a failed update opens no gap");
	cr_assert_eq(memcmp(&t, &before, sizeof(t)), 0);
	track_free(&t);
}

Test(track_gap, whole_group_replaced_is_one_replaced_gap)
{
	struct track t;
	struct dump d;
	uint64_t c;

	track_init(&t);
	dump_reset(&d);
	for (c = 1; c <= 4; c++)
		dump_add(&d, c, 100 + (uint32_t)c, 0, 128, 0)->port = 80;
	upd(&t, &d, 0, 1000);
	dump_reset(&d);
	for (c = 11; c <= 14; c++)
		dump_add(&d, c, 100 + (uint32_t)c, 0, 128, 0)->port = 80;
	upd(&t, &d, 2, 2000);
	cr_assert_eq(t.n_gaps, 1);
	cr_assert(t.gaps[0].replaced);
	cr_assert_eq(t.gaps[0].new_cookie, 11, "the lowest new cookie stands for the new group");
	cr_assert_eq(t.gaps[0].out_rsts, 2);
	track_free(&t);
}

Test(track_gap, a_repeated_timestamp_does_not_merge_into_an_older_gap)
{
	struct track t;
	struct dump d;

	track_init(&t);
	dump_reset(&d);
	dump_add(&d, 1, 101, 0, 128, 0)->port = 80;
	upd(&t, &d, 0, 1000);
	dump_reset(&d);
	dump_add(&d, 2, 102, 0, 128, 0)->port = 80;
	upd(&t, &d, 0, 2000);                  /* replaced: a closed gap stamped 2000 */
	dump_reset(&d);
	upd(&t, &d, 0, 2000);                  /* the clock did not move; 2 vanishes */
	cr_assert_eq(t.n_gaps, 2, "a gap of its own");
	cr_assert_eq(t.gaps[1].returned_ms, 0);
	track_free(&t);
}
