/* test_findings.c: findings open once, refresh silently, are revised in place, resolve after a quiet period, reopen, prune. */
#include "base.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "findings.h"

#define MAX_EVENTS 64

/* What the callback saw, in order. */
struct events {
	unsigned n;
	bool opened[MAX_EVENTS];
	enum finding_event event[MAX_EVENTS];
	enum cause cause[MAX_EVENTS];
	enum cause revised_from[MAX_EVENTS];
	char listener[MAX_EVENTS][LISTENER_NAME_MAX];
	int64_t first_seen[MAX_EVENTS];
	enum finding_state state[MAX_EVENTS];
};

static void record(const struct finding_entry *e, enum finding_event event, void *arg)
{
	struct events *ev = arg;

	cr_assert_lt(ev->n, MAX_EVENTS);
	ev->opened[ev->n] = event == FINDING_EVENT_OPENED;
	ev->event[ev->n] = event;
	ev->cause[ev->n] = e->f.cause;
	ev->revised_from[ev->n] = e->revised_from;
	snprintf(ev->listener[ev->n], sizeof(ev->listener[0]), "%s", e->f.listener);
	ev->first_seen[ev->n] = e->first_seen;
	ev->state[ev->n] = e->state;
	ev->n++;
}

static unsigned count_opened(const struct events *ev, bool opened)
{
	unsigned i, n = 0;

	for (i = 0; i < ev->n; i++)
		if (ev->opened[i] == opened)
			n++;
	return n;
}

static struct finding *add(struct finding_list *fl, enum cause c, const char *listener,
			   uint32_t drops)
{
	struct finding *f;

	if (fl->count == fl->cap) {
		fl->cap = fl->cap ? fl->cap * 2 : 4;
		fl->items = realloc(fl->items, fl->cap * sizeof(*fl->items));
		cr_assert_not_null(fl->items);
	}
	f = &fl->items[fl->count++];
	memset(f, 0, sizeof(*f));
	f->cause = c;
	f->underlying = c;
	snprintf(f->listener, sizeof(f->listener), "%s", listener);
	snprintf(f->subject, sizeof(f->subject), "%s", listener);
	f->ev.drops_delta = drops;
	return f;
}

static const struct finding_entry *entry(const struct finding_table *ft, enum cause c,
					 const char *listener)
{
	size_t i;

	for (i = 0; i < ft->count; i++)
		if (ft->items[i].f.cause == c && strcmp(ft->items[i].f.listener, listener) == 0)
			return &ft->items[i];
	return NULL;
}

/* The entry that must be there. */
static const struct finding_entry *got(const struct finding_table *ft, enum cause c,
				       const char *listener)
{
	const struct finding_entry *e = entry(ft, c, listener);

	if (!e) {
		cr_assert_fail("no entry for %s %s", cause_code(c), listener);
		abort();  /* not reached; tells the compiler e is set below */
	}
	return e;
}

Test(findings, one_open_across_many_firing_ticks)
{
	struct finding_table ft;
	struct finding_list fl;
	struct events ev = { 0 };
	const struct finding_entry *e;
	int64_t now;

	findings_init(&ft, 8);
	finding_list_init(&fl);
	for (now = 100; now < 160; now++) {
		finding_list_clear(&fl);
		add(&fl, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080", (uint32_t)now);
		cr_assert_eq(findings_update(&ft, &fl, now, 30, record, &ev), 0);
	}
	cr_assert_eq(ev.n, 1, "one callback for 60 firing ticks, got %u", ev.n);
	cr_assert(ev.opened[0]);
	cr_assert_eq(ev.cause[0], CAUSE_BACKLOG_SMALL);
	cr_assert_str_eq(ev.listener[0], "127.0.0.1:8080");
	cr_assert_eq(ev.state[0], FINDING_ACTIVE);
	cr_assert_eq(ft.count, 1);
	cr_assert_eq(findings_active(&ft), 1);
	e = got(&ft, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080");
	cr_assert_eq(e->first_seen, 100);
	cr_assert_eq(e->last_seen, 159);
	cr_assert_eq(e->fired_ticks, 60);
	cr_assert_eq(e->resolved_at, 0);
	cr_assert_eq(e->f.ev.drops_delta, 159, "the latest firing is kept");
	finding_list_free(&fl);
	findings_free(&ft);
}

Test(findings, resolves_only_after_the_quiet_period_then_silent)
{
	struct finding_table ft;
	struct finding_list fl;
	struct events ev = { 0 };
	const struct finding_entry *e;
	int64_t now;

	findings_init(&ft, 8);
	finding_list_init(&fl);
	add(&fl, CAUSE_SLOW_ACCEPT, "127.0.0.1:8080", 1);
	cr_assert_eq(findings_update(&ft, &fl, 1000, 30, record, &ev), 0);
	finding_list_clear(&fl);
	for (now = 1001; now < 1030; now++) {
		cr_assert_eq(findings_update(&ft, &fl, now, 30, record, &ev), 0);
		cr_assert_eq(findings_active(&ft), 1, "still active at %ld", (long)now);
	}
	cr_assert_eq(ev.n, 1);
	cr_assert_eq(findings_update(&ft, &fl, 1030, 30, record, &ev), 0);
	cr_assert_eq(ev.n, 2);
	cr_assert_not(ev.opened[1]);
	cr_assert_eq(ev.state[1], FINDING_RESOLVED);
	cr_assert_eq(findings_active(&ft), 0);
	e = got(&ft, CAUSE_SLOW_ACCEPT, "127.0.0.1:8080");  /* resolved entries are kept for status */
	cr_assert_eq(e->state, FINDING_RESOLVED);
	cr_assert_eq(e->resolved_at, 1030);
	cr_assert_eq(e->last_seen, 1000);

	for (now = 1031; now < 1100; now++)
		cr_assert_eq(findings_update(&ft, &fl, now, 30, record, &ev), 0);
	cr_assert_eq(ev.n, 2, "one resolve, never repeated");
	/* NULL means an empty tick too. */
	cr_assert_eq(findings_update(&ft, NULL, 1100, 30, record, &ev), 0);
	cr_assert_eq(ev.n, 2);
	finding_list_free(&fl);
	findings_free(&ft);
}

Test(findings, intermittent_firing_within_quiet_period_stays_open)
{
	struct finding_table ft;
	struct finding_list fl, empty;
	struct events ev = { 0 };
	int64_t now;

	findings_init(&ft, 8);
	finding_list_init(&fl);
	finding_list_init(&empty);
	add(&fl, CAUSE_BACKLOG_SMALL, "0.0.0.0:80", 1);
	/* Bursts every 20 s with a 30 s quiet period: one finding, never resolved. */
	for (now = 0; now < 300; now++)
		cr_assert_eq(findings_update(&ft, now % 20 == 0 ? &fl : &empty, now, 30, record, &ev), 0);
	cr_assert_eq(ev.n, 1);
	cr_assert_eq(got(&ft, CAUSE_BACKLOG_SMALL, "0.0.0.0:80")->fired_ticks, 15);
	finding_list_free(&fl);
	finding_list_free(&empty);
	findings_free(&ft);
}

Test(findings, reopens_after_resolve)
{
	struct finding_table ft;
	struct finding_list fl, empty;
	struct events ev = { 0 };
	const struct finding_entry *e;

	findings_init(&ft, 8);
	finding_list_init(&fl);
	finding_list_init(&empty);
	add(&fl, CAUSE_BACKLOG_CLAMPED, "127.0.0.1:8080", 1);
	cr_assert_eq(findings_update(&ft, &fl, 10, 5, record, &ev), 0);
	cr_assert_eq(findings_update(&ft, &fl, 11, 5, record, &ev), 0);
	cr_assert_eq(findings_update(&ft, &empty, 16, 5, record, &ev), 0);
	cr_assert_eq(ev.n, 2);
	cr_assert_eq(findings_active(&ft), 0);

	cr_assert_eq(findings_update(&ft, &fl, 50, 5, record, &ev), 0);
	cr_assert_eq(ev.n, 3);
	cr_assert(ev.opened[2]);
	cr_assert_eq(ev.first_seen[2], 50, "a new episode");
	cr_assert_eq(ft.count, 1, "the same key reuses its entry");
	e = got(&ft, CAUSE_BACKLOG_CLAMPED, "127.0.0.1:8080");
	cr_assert_eq(e->state, FINDING_ACTIVE);
	cr_assert_eq(e->resolved_at, 0);
	cr_assert_eq(e->fired_ticks, 1);
	cr_assert_eq(findings_active(&ft), 1);

	cr_assert_eq(findings_update(&ft, &fl, 51, 5, record, &ev), 0);
	cr_assert_eq(ev.n, 3);
	finding_list_free(&fl);
	finding_list_free(&empty);
	findings_free(&ft);
}

Test(findings, zero_quiet_period_resolves_on_the_first_quiet_tick)
{
	struct finding_table ft;
	struct finding_list fl;
	struct events ev = { 0 };

	findings_init(&ft, 8);
	finding_list_init(&fl);
	add(&fl, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080", 1);
	cr_assert_eq(findings_update(&ft, &fl, 10, 0, record, &ev), 0);
	cr_assert_eq(findings_update(&ft, &fl, 10, 0, record, &ev), 0);
	cr_assert_eq(ev.n, 1, "firing keeps it open even with no quiet period");
	finding_list_clear(&fl);
	cr_assert_eq(findings_update(&ft, &fl, 11, 0, record, &ev), 0);
	cr_assert_eq(ev.n, 2);
	cr_assert_not(ev.opened[1]);
	finding_list_free(&fl);
	findings_free(&ft);
}

Test(findings, an_overflow_verdict_is_revised_in_place)
{
	struct finding_table ft;
	struct finding_list fl;
	struct events ev = { 0 };
	const struct finding_entry *e;

	findings_init(&ft, 8);
	finding_list_init(&fl);
	add(&fl, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080", 1);
	cr_assert_eq(findings_update(&ft, &fl, 10, 30, record, &ev), 0);
	/* The queue then stays full: slow-accept on the same listener, one verdict revised. */
	finding_list_clear(&fl);
	add(&fl, CAUSE_SLOW_ACCEPT, "127.0.0.1:8080", 1);
	cr_assert_eq(findings_update(&ft, &fl, 15, 30, record, &ev), 0);
	cr_assert_eq(ft.count, 1, "one entry per listener for its overflow");
	cr_assert_eq(ev.n, 2);
	cr_assert_eq(ev.event[1], FINDING_EVENT_REVISED);
	cr_assert_eq(ev.cause[1], CAUSE_SLOW_ACCEPT);
	cr_assert_eq(ev.revised_from[1], CAUSE_BACKLOG_SMALL);
	cr_assert_eq(findings_active(&ft), 1);
	e = got(&ft, CAUSE_SLOW_ACCEPT, "127.0.0.1:8080");
	cr_assert_eq(e->first_seen, 10, "a revision keeps the episode's start");
	cr_assert_eq(e->revised_at, 15);
	cr_assert_eq(e->fired_ticks, 2);
	cr_assert_null(entry(&ft, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080"));
	/* The same verdict again: refreshed, no event. */
	cr_assert_eq(findings_update(&ft, &fl, 16, 30, record, &ev), 0);
	cr_assert_eq(ev.n, 2);
	/* Same cause on another listener is another finding. */
	add(&fl, CAUSE_SLOW_ACCEPT, "[::1]:8080", 1);
	cr_assert_eq(findings_update(&ft, &fl, 17, 30, record, &ev), 0);
	cr_assert_eq(ft.count, 2);
	cr_assert_eq(ev.n, 3);
	cr_assert(ev.opened[2]);
	/* It resolves once, as what it last was. */
	finding_list_clear(&fl);
	cr_assert_eq(findings_update(&ft, &fl, 60, 30, record, &ev), 0);
	cr_assert_eq(ev.n, 5);
	cr_assert_eq(ev.event[3], FINDING_EVENT_RESOLVED);
	cr_assert_eq(ev.cause[3], CAUSE_SLOW_ACCEPT);
	cr_assert_eq(findings_active(&ft), 0);
	/* A new episode starts unrevised. */
	add(&fl, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080", 1);
	cr_assert_eq(findings_update(&ft, &fl, 100, 30, record, &ev), 0);
	cr_assert_eq(ev.event[5], FINDING_EVENT_OPENED);
	e = got(&ft, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080");
	cr_assert_eq(e->revised_from, CAUSE_NONE);
	cr_assert_eq(e->revised_at, 0);
	cr_assert_eq(e->first_seen, 100);
	finding_list_free(&fl);
	findings_free(&ft);
}

/* overflow-reset wraps the overflow's own cause: a change of that is a revision too. */
Test(findings, overflow_reset_is_revised_by_its_underlying_cause)
{
	struct finding_table ft;
	struct finding_list fl;
	struct events ev = { 0 };
	struct finding *f;

	findings_init(&ft, 8);
	finding_list_init(&fl);
	f = add(&fl, CAUSE_OVERFLOW_RESET, "127.0.0.1:8080", 1);
	f->underlying = CAUSE_BACKLOG_SMALL;
	cr_assert_eq(findings_update(&ft, &fl, 10, 30, record, &ev), 0);
	fl.items[0].underlying = CAUSE_SLOW_ACCEPT;
	cr_assert_eq(findings_update(&ft, &fl, 11, 30, record, &ev), 0);
	cr_assert_eq(ev.n, 2);
	cr_assert_eq(ev.event[1], FINDING_EVENT_REVISED);
	cr_assert_eq(ev.revised_from[1], CAUSE_BACKLOG_SMALL, "the cause that changed");
	/* The sysctl set back to 0: the reset goes, the overflow stays; revised from overflow-reset. */
	fl.items[0].cause = CAUSE_SLOW_ACCEPT;
	cr_assert_eq(findings_update(&ft, &fl, 12, 30, record, &ev), 0);
	cr_assert_eq(ev.n, 3);
	cr_assert_eq(ev.revised_from[2], CAUSE_OVERFLOW_RESET);
	cr_assert_eq(ft.count, 1);
	finding_list_free(&fl);
	findings_free(&ft);
}

/* Causes of other families on one listener are findings of their own (the chain relates them). */
Test(findings, other_families_on_one_listener_are_their_own_findings)
{
	struct finding_table ft;
	struct finding_list fl;
	struct events ev = { 0 };

	findings_init(&ft, 8);
	finding_list_init(&fl);
	add(&fl, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080", 1);
	add(&fl, CAUSE_SYN_FLOOD, "127.0.0.1:8080", 1);
	add(&fl, CAUSE_LISTENER_GAP, "127.0.0.1:8080", 1);
	cr_assert_eq(findings_update(&ft, &fl, 10, 30, record, &ev), 0);
	cr_assert_eq(ft.count, 3);
	cr_assert_eq(ev.n, 3);
	cr_assert(ev.opened[0] && ev.opened[1] && ev.opened[2]);
	finding_list_free(&fl);
	findings_free(&ft);
}

Test(findings, same_key_twice_in_one_tick_counts_once)
{
	struct finding_table ft;
	struct finding_list fl;
	struct events ev = { 0 };

	/* Two SO_REUSEPORT members share a listener string. */
	findings_init(&ft, 8);
	finding_list_init(&fl);
	add(&fl, CAUSE_BACKLOG_SMALL, "0.0.0.0:443", 5);
	add(&fl, CAUSE_BACKLOG_SMALL, "0.0.0.0:443", 7);
	cr_assert_eq(findings_update(&ft, &fl, 10, 30, record, &ev), 0);
	cr_assert_eq(findings_update(&ft, &fl, 11, 30, record, &ev), 0);
	cr_assert_eq(ft.count, 1);
	cr_assert_eq(ev.n, 1);
	cr_assert_eq(ft.items[0].fired_ticks, 2);
	finding_list_free(&fl);
	findings_free(&ft);
}

Test(findings, max_resolved_drops_the_oldest_resolved)
{
	struct finding_table ft;
	struct finding_list fl;
	struct events ev = { 0 };
	char name[LISTENER_NAME_MAX];
	int k;

	findings_init(&ft, 2);
	finding_list_init(&fl);
	/* Four listeners open at 0 and go quiet one after another. */
	for (k = 0; k < 4; k++) {
		snprintf(name, sizeof(name), "127.0.0.1:%d", 8000 + k);
		add(&fl, CAUSE_BACKLOG_SMALL, name, 1);
	}
	cr_assert_eq(findings_update(&ft, &fl, 0, 10, record, &ev), 0);
	/* A fifth stays active throughout and must never be pruned. */
	finding_list_clear(&fl);
	add(&fl, CAUSE_SLOW_ACCEPT, "127.0.0.1:9999", 1);
	for (k = 0; k < 4; k++) {
		struct finding_list tick;

		finding_list_init(&tick);
		add(&tick, CAUSE_SLOW_ACCEPT, "127.0.0.1:9999", 1);
		/* Listeners k+1.. keep firing, so they resolve later. */
		for (int j = k + 1; j < 4; j++) {
			snprintf(name, sizeof(name), "127.0.0.1:%d", 8000 + j);
			add(&tick, CAUSE_BACKLOG_SMALL, name, 1);
		}
		cr_assert_eq(findings_update(&ft, &tick, 5 + k * 10, 10, record, &ev), 0);
		finding_list_free(&tick);
	}
	/* Quiet ticks until everything but 9999 has resolved. */
	for (k = 0; k < 60; k++) {
		cr_assert_eq(findings_update(&ft, &fl, 40 + k, 10, record, &ev), 0);
	}
	cr_assert_eq(count_opened(&ev, false), 4, "every resolve was announced");
	cr_assert_eq(findings_active(&ft), 1);
	cr_assert_eq(ft.count, 3, "1 active + max_resolved 2");
	cr_assert_not_null(entry(&ft, CAUSE_SLOW_ACCEPT, "127.0.0.1:9999"));
	cr_assert_null(entry(&ft, CAUSE_BACKLOG_SMALL, "127.0.0.1:8000"), "oldest pruned");
	cr_assert_null(entry(&ft, CAUSE_BACKLOG_SMALL, "127.0.0.1:8001"));
	cr_assert_not_null(entry(&ft, CAUSE_BACKLOG_SMALL, "127.0.0.1:8002"));
	cr_assert_not_null(entry(&ft, CAUSE_BACKLOG_SMALL, "127.0.0.1:8003"));

	/* A pruned key that fires again opens as new. */
	finding_list_clear(&fl);
	add(&fl, CAUSE_BACKLOG_SMALL, "127.0.0.1:8000", 1);
	cr_assert_eq(findings_update(&ft, &fl, 200, 10, record, &ev), 0);
	cr_assert_eq(count_opened(&ev, true), 6);
	cr_assert_eq(got(&ft, CAUSE_BACKLOG_SMALL, "127.0.0.1:8000")->first_seen, 200);
	finding_list_free(&fl);
	findings_free(&ft);
}

Test(findings, max_resolved_zero_keeps_none_but_still_announces)
{
	struct finding_table ft;
	struct finding_list fl;
	struct events ev = { 0 };

	findings_init(&ft, 0);
	finding_list_init(&fl);
	add(&fl, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080", 1);
	cr_assert_eq(findings_update(&ft, &fl, 0, 1, record, &ev), 0);
	finding_list_clear(&fl);
	cr_assert_eq(findings_update(&ft, &fl, 1, 1, record, &ev), 0);
	cr_assert_eq(ev.n, 2);
	cr_assert_str_eq(ev.listener[1], "127.0.0.1:8080", "the callback saw the entry before pruning");
	cr_assert_eq(ft.count, 0);
	finding_list_free(&fl);
	findings_free(&ft);
}

Test(findings, no_callback_is_fine)
{
	struct finding_table ft;
	struct finding_list fl;

	findings_init(&ft, 4);
	finding_list_init(&fl);
	add(&fl, CAUSE_OVERFLOW_RESET, "127.0.0.1:8080", 1);
	cr_assert_eq(findings_update(&ft, &fl, 0, 1, NULL, NULL), 0);
	cr_assert_eq(findings_active(&ft), 1);
	finding_list_clear(&fl);
	cr_assert_eq(findings_update(&ft, &fl, 5, 1, NULL, NULL), 0);
	cr_assert_eq(findings_active(&ft), 0);
	cr_assert_eq(ft.count, 1);
	finding_list_free(&fl);
	findings_free(&ft);
	cr_assert_eq(ft.count, 0);
	cr_assert_eq(ft.max_resolved, 4);
}

Test(findings, clock_stepping_back_does_not_hold_a_finding_open)
{
	struct finding_table ft;
	struct finding_list fl;
	struct events ev = { 0 };

	findings_init(&ft, 4);
	finding_list_init(&fl);
	add(&fl, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080", 1);
	cr_assert_eq(findings_update(&ft, &fl, 10000, 30, record, &ev), 0);
	finding_list_clear(&fl);
	/* The clock steps back an hour: the quiet period counts from there. */
	cr_assert_eq(findings_update(&ft, &fl, 6400, 30, record, &ev), 0);
	cr_assert_eq(findings_update(&ft, &fl, 6429, 30, record, &ev), 0);
	cr_assert_eq(ev.n, 1);
	cr_assert_eq(findings_update(&ft, &fl, 6430, 30, record, &ev), 0);
	cr_assert_eq(ev.n, 2);
	finding_list_free(&fl);
	findings_free(&ft);
}

/* The eBPF tier's clients of a finding, first drop at first_ms (wall clock, ms). */
static void set_clients(struct finding *f, int64_t first_ms, int64_t last_ms, uint64_t total)
{
	f->clients.known = true;
	f->clients.n = 1;
	f->clients.top[0].family = 2;  /* AF_INET */
	f->clients.top[0].addr[0] = 127;
	f->clients.top[0].addr[3] = 11;
	f->clients.top[0].count = total;
	f->clients.top[0].first_ms = first_ms;
	f->clients.top[0].last_ms = last_ms;
	f->clients.total = total;
	f->clients.peers = 1;
	f->clients.first_ms = first_ms;
	f->clients.last_ms = last_ms;
}

/*
 * An episode begins at the first drop the tier saw, not at the tick that
 * noticed it; a refresh carries the latest clients and keeps first_seen.
 */
Test(findings, an_episode_starts_at_its_first_drop)
{
	struct finding_table ft;
	struct finding_list fl;
	struct events ev = { 0 };
	const struct finding_entry *e;
	struct finding *f;

	findings_init(&ft, 8);
	finding_list_init(&fl);
	f = add(&fl, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080", 3);
	set_clients(f, 98765, 99100, 3);
	cr_assert_eq(findings_update(&ft, &fl, 100, 30, record, &ev), 0);
	cr_assert_eq(ev.n, 1);
	cr_assert_eq(ev.first_seen[0], 98, "the callback sees the drop's time");
	e = got(&ft, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080");
	cr_assert_eq(e->first_seen, 98);
	cr_assert_eq(e->last_seen, 100);

	/* A refresh: the new clients are carried, first_seen stays. */
	finding_list_clear(&fl);
	f = add(&fl, CAUSE_SLOW_ACCEPT, "127.0.0.1:8080", 9);
	set_clients(f, 98765, 100900, 12);
	cr_assert_eq(findings_update(&ft, &fl, 101, 30, record, &ev), 0);
	e = got(&ft, CAUSE_SLOW_ACCEPT, "127.0.0.1:8080");
	cr_assert_eq(e->first_seen, 98);
	cr_assert_eq(e->f.clients.total, 12);
	cr_assert_eq(e->f.clients.last_ms, 100900);
	finding_list_free(&fl);
	findings_free(&ft);
}

Test(findings, first_seen_is_now_without_an_earlier_drop)
{
	struct finding_table ft;
	struct finding_list fl;
	struct finding *f;

	findings_init(&ft, 8);
	finding_list_init(&fl);
	/* Not known: the tier was off. */
	f = add(&fl, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080", 3);
	set_clients(f, 50000, 50000, 1);
	f->clients.known = false;
	/* A drop in this very second, or a clock ahead of now: now. */
	set_clients(add(&fl, CAUSE_LISTENER_GAP, "127.0.0.1:8081", 0), 100999, 100999, 1);
	set_clients(add(&fl, CAUSE_LISTENER_GAP, "127.0.0.1:8082", 0), 200000, 200000, 1);
	cr_assert_eq(findings_update(&ft, &fl, 100, 30, NULL, NULL), 0);
	cr_assert_eq(got(&ft, CAUSE_BACKLOG_SMALL, "127.0.0.1:8080")->first_seen, 100);
	cr_assert_eq(got(&ft, CAUSE_LISTENER_GAP, "127.0.0.1:8081")->first_seen, 100);
	cr_assert_eq(got(&ft, CAUSE_LISTENER_GAP, "127.0.0.1:8082")->first_seen, 100);
	finding_list_free(&fl);
	findings_free(&ft);
}

/* A reopened key starts at a drop after its old episode, never at one of that episode's. */
Test(findings, a_reopened_episode_does_not_start_in_the_old_one)
{
	struct finding_table ft;
	struct finding_list fl, empty;
	struct events ev = { 0 };
	struct finding *f;

	findings_init(&ft, 8);
	finding_list_init(&fl);
	finding_list_init(&empty);
	f = add(&fl, CAUSE_LISTENER_GAP, "127.0.0.1:8080", 0);
	set_clients(f, 9000, 9500, 2);
	cr_assert_eq(findings_update(&ft, &fl, 10, 5, record, &ev), 0);
	cr_assert_eq(findings_update(&ft, &fl, 11, 5, record, &ev), 0);
	cr_assert_eq(findings_update(&ft, &empty, 16, 5, record, &ev), 0);
	cr_assert_eq(got(&ft, CAUSE_LISTENER_GAP, "127.0.0.1:8080")->state, FINDING_RESOLVED);

	/* The book still holds the old episode's first drop: now. */
	cr_assert_eq(findings_update(&ft, &fl, 50, 5, record, &ev), 0);
	cr_assert_eq(ev.first_seen[ev.n - 1], 50);
	cr_assert_eq(findings_update(&ft, &empty, 60, 5, record, &ev), 0);
	/* A first drop after the old episode's last tick: that drop. */
	set_clients(f, 57300, 61000, 4);
	cr_assert_eq(findings_update(&ft, &fl, 62, 5, record, &ev), 0);
	cr_assert(ev.opened[ev.n - 1]);
	cr_assert_eq(ev.first_seen[ev.n - 1], 57);
	finding_list_free(&fl);
	finding_list_free(&empty);
	findings_free(&ft);
}
