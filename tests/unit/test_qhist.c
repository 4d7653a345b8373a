/* test_qhist.c: the history kept for top and explain: who gets one, its points, its bounds. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "qhist.h"
#include "tick_fixture.h"
#include "track.h"

struct world {
	struct track t;
	struct qhist h;
	struct listener_set set;
	int64_t now;
};

static void w_init(struct world *w, size_t n, uint32_t backlog)
{
	track_init(&w->t);
	qhist_init(&w->h);
	listener_set_init(&w->set);
	w->now = 1000;
	for (size_t k = 0; k < n; k++) {
		struct listener *l = listener_set_add(&w->set);

		cr_assert(l);
		l->cookie = 1000 - k;   /* not in cookie order: the track sorts */
		l->family = AF_INET;
		l->addr[0] = 127;
		l->addr[3] = 1;
		l->port = (uint16_t)(8000 + k);
		l->backlog = backlog;
		l->has_drops = true;
	}
}

static void w_tick(struct world *w)
{
	cr_assert_eq(tick_listeners(&w->t, &w->set, NULL, NULL, w->now), 0);
	cr_assert_eq(qhist_update(&w->h, &w->t), 0);
	w->now += 1000;
}

static void w_free(struct world *w)
{
	qhist_free(&w->h);
	track_free(&w->t);
	listener_set_free(&w->set);
}

Test(qhist, idle_listeners_keep_nothing)
{
	struct world w;

	w_init(&w, 100, 128);
	for (int i = 0; i < 10; i++) {
		w.set.items[i].queue = 64;   /* half: not above it */
		w_tick(&w);
	}
	cr_assert_eq(w.h.count, 0);
	cr_assert_eq(qhist_bytes(&w.h), 0, "no allocation for a quiet namespace");
	w_free(&w);
}

Test(qhist, hot_listener_kept_with_its_past)
{
	struct world w;
	const struct qhist_entry *e;

	w_init(&w, 3, 10);
	/* Three ticks of a rising queue below half, then above half. */
	for (uint32_t q = 1; q <= 3; q++) {
		w.set.items[1].queue = q;
		w_tick(&w);
	}
	cr_assert_eq(w.h.count, 0);
	w.set.items[1].queue = 6;
	w_tick(&w);
	e = qhist_find(&w.h, w.set.items[1].cookie);
	cr_assert(e);
	cr_assert_eq(w.h.count, 1);
	cr_assert_eq(e->len, 4, "the track's earlier ticks come along");
	cr_assert_eq(qhist_at(e, 0)->queue, 1);
	cr_assert_eq(qhist_at(e, 3)->queue, 6);
	cr_assert_eq(e->backlog, 10);
	/* It stays kept, a point per tick, after it cools. */
	w.set.items[1].queue = 0;
	w_tick(&w);
	cr_assert_eq(e->len, 5);
	cr_assert_eq(qhist_at(e, 4)->queue, 0);
	cr_assert_null(qhist_find(&w.h, w.set.items[0].cookie));
	w_free(&w);
}

Test(qhist, drops_qualify_and_are_summed)
{
	struct world w;
	const struct qhist_entry *e;

	w_init(&w, 2, 128);
	w_tick(&w);
	w.set.items[0].drops = 5;
	w_tick(&w);
	w.set.items[0].drops = 12;
	w_tick(&w);
	e = qhist_find(&w.h, w.set.items[0].cookie);
	cr_assert(e);
	cr_assert_eq(qhist_drops_last(e, 60), 12);
	cr_assert_eq(qhist_drops_last(e, 1), 7);
	cr_assert_eq(qhist_at(e, e->len - 1)->drops, 7);
	w_free(&w);
}

Test(qhist, ring_keeps_the_newest_points)
{
	struct world w;
	const struct qhist_entry *e;

	w_init(&w, 1, 1000);
	for (uint32_t i = 0; i < QHIST_POINTS + 25; i++) {
		w.set.items[0].queue = 900 + i;
		w_tick(&w);
	}
	e = qhist_find(&w.h, w.set.items[0].cookie);
	cr_assert(e);
	cr_assert_eq(e->len, QHIST_POINTS);
	cr_assert_eq(qhist_at(e, QHIST_POINTS - 1)->queue, 900 + QHIST_POINTS + 24);
	cr_assert_eq(qhist_at(e, 0)->queue, 900 + 25);
	cr_assert_null(qhist_at(e, QHIST_POINTS));
	w_free(&w);
}

Test(qhist, vanished_listener_scrolls_out)
{
	struct world w;
	uint64_t cookie;

	w_init(&w, 2, 4);
	w.set.items[1].queue = 4;
	w_tick(&w);
	cookie = w.set.items[1].cookie;
	cr_assert(qhist_find(&w.h, cookie));
	w.set.count = 1;
	for (int i = 0; i < QHIST_POINTS - 1; i++) {
		w_tick(&w);
		cr_assert(qhist_find(&w.h, cookie), "kept at tick %d after it went", i);
		cr_assert(qhist_find(&w.h, cookie)->gone);
	}
	w_tick(&w);
	cr_assert_null(qhist_find(&w.h, cookie));
	cr_assert_eq(w.h.count, 0);
	w_free(&w);
}

Test(qhist, bounded_under_a_flood_of_hot_listeners)
{
	struct world w;
	size_t n = QHIST_MAX + 200;

	w_init(&w, n, 4);
	/* All hot in one tick: the first QHIST_MAX are kept, the rest counted. */
	for (size_t k = 0; k < n; k++)
		w.set.items[k].queue = 4;
	w_tick(&w);
	cr_assert_eq(w.h.count, QHIST_MAX);
	cr_assert_eq(w.h.not_kept, 200);
	cr_assert_leq(qhist_bytes(&w.h), QHIST_MAX * (sizeof(struct qhist_entry) + sizeof(size_t)));
	/* The track sorts by cookie: the highest cookies (the first items) were not kept. */
	cr_assert_null(qhist_find(&w.h, w.set.items[0].cookie));
	/* Later only that one is hot: it takes the place of one hot longest ago. */
	for (size_t k = 0; k < n; k++)
		w.set.items[k].queue = 0;
	w_tick(&w);
	w.set.items[0].queue = 4;
	w_tick(&w);
	cr_assert_eq(w.h.count, QHIST_MAX);
	cr_assert_eq(w.h.evicted, 1);
	cr_assert_eq(w.h.not_kept, 0, "only the one hot now qualified, and it was kept");
	cr_assert(qhist_find(&w.h, w.set.items[0].cookie));
	/* Still sorted: every kept one is found. */
	for (size_t i = 0; i < w.h.count; i++)
		cr_assert_eq(qhist_find(&w.h, w.h.items[i].cookie), &w.h.items[i]);
	w_free(&w);
}
