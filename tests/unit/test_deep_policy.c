/* test_deep_policy.c: when the deep tier runs: periodic when asked, within its time budget, on the cheap signals that only it explains, not on their look-alikes, and the port hint not while the last run's count bounds every destination below half-way. */
#include "base.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "deep_policy.h"

/* The counters deep_policy weighs, sorted as a counters set is, all at one value unless a test moves one. */
static const char *const names[] = {
	"Tcp.ActiveOpens", "TcpExt.ListenDrops", "TcpExt.ListenOverflows", "TcpExt.SyncookiesSent",
	"TcpExt.TCPAbortOnMemory", "TcpExt.TCPMemoryPressures", "TcpExt.TCPReqQFullDoCookies",
	"TcpExt.TCPReqQFullDrop", "TcpExt.TCPTimeWaitOverflow",
};
#define N_NAMES ARRAY_SIZE(names)
/* Those whose movement alone runs the deep tier. */
static const char *const signals[] = {
	"TcpExt.TCPReqQFullDrop", "TcpExt.TCPReqQFullDoCookies", "TcpExt.SyncookiesSent",
	"TcpExt.TCPMemoryPressures", "TcpExt.TCPAbortOnMemory", "TcpExt.TCPTimeWaitOverflow",
};

/* A track with `ticks` ticks behind it, the latest with every counter at 100, and this tick's sample. */
struct world {
	struct track t;
	struct counter cur[N_NAMES];
	struct counters counters;
	struct limits lim;
	struct sockstat ss;
	struct kmsg_event ev[2];
	struct tick_sample s;
	struct deep_book book;
	struct deep_policy_in in;
};

/* One world a test (Criterion runs each in its own process); world_init may start it again. */
static struct world w;

static void counters_at(struct counter *c, struct counters *set, int64_t v)
{
	for (size_t i = 0; i < N_NAMES; i++) {
		snprintf(c[i].name, sizeof(c[i].name), "%s", names[i]);
		c[i].value = v;
	}
	set->items = c;
	set->count = N_NAMES;
	set->cap = N_NAMES;
	set->malformed = 0;
}

static void world_init(struct world *wd, unsigned ticks)
{
	struct counter prev[N_NAMES];
	struct counters prev_set;
	struct tick_sample past = { .counters = &prev_set };

	memset(wd, 0, sizeof(*wd));
	track_init(&wd->t);
	counters_at(prev, &prev_set, 100);
	for (unsigned i = 0; i < ticks; i++)
		cr_assert_eq(track_tick(&wd->t, &past, 1000 * (i + 1)), 0);
	counters_at(wd->cur, &wd->counters, 100);
	limits_unknown(&wd->lim);
	wd->lim.port_range_lo = 32768;
	wd->lim.port_range_hi = 60999;     /* 28,232 ports */
	wd->lim.tcp_mem[0] = 1000;
	wd->lim.tcp_mem[1] = 2000;
	wd->lim.tcp_mem[2] = 3000;
	wd->ss.tcp_inuse = 10;
	wd->ss.tcp_tw = 0;
	wd->ss.tcp_mem = 5;
	wd->s.counters = &wd->counters;
	wd->s.limits = &wd->lim;
	wd->s.sockstat = &wd->ss;
	wd->s.kmsg = wd->ev;
	wd->in.track = &wd->t;
	wd->in.sample = &wd->s;
	wd->in.every_ticks = 30;
	wd->in.mono_ms = 1000000;
}

static void set_counter(struct world *wd, const char *name, int64_t v)
{
	for (size_t i = 0; i < N_NAMES; i++)
		if (strcmp(wd->cur[i].name, name) == 0)
			wd->cur[i].value = v;
}

static void world_done(void)
{
}

static const char *reason(const struct world *wp)
{
	return deep_policy_reason(&wp->in, &wp->book);
}

Test(deep_policy, quiet_host_waits_for_the_period, .fini = world_done)
{
	world_init(&w, 28);
	cr_assert_null(reason(&w), "tick 29 of 30");
	track_free(&w.t);
	world_init(&w, 29);
	cr_assert_str_eq(reason(&w), "periodic");
	w.in.every_ticks = 0;
	cr_assert_null(reason(&w), "0: only when a signal asks");
}

/* A run that took 1 s rests 100 s before the next periodic one: a big host's budget. */
Test(deep_policy, periodic_run_rests_for_what_the_last_cost, .fini = world_done)
{
	world_init(&w, 60);
	w.book.last_tick = 30;
	w.book.cost_ms = 1000;
	w.book.last_ms = w.in.mono_ms - 50000;
	cr_assert_null(reason(&w), "half-way through its rest");
	w.book.last_ms = w.in.mono_ms - 100000;
	cr_assert_str_eq(reason(&w), "periodic");
}

/* A symptom runs it whatever the last run cost. */
Test(deep_policy, each_signal_counter_runs_it, .fini = world_done)
{
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++) {
		world_init(&w, 3);
		w.book.cost_ms = 1000000;
		w.book.last_ms = w.in.mono_ms;
		cr_assert_null(reason(&w));
		set_counter(&w, signals[i], 101);
		cr_assert_str_eq(reason(&w), signals[i]);
		track_free(&w.t);
	}
}

/* The first tick has no delta: a counter's total is not its movement. */
Test(deep_policy, no_delta_before_a_first_tick, .fini = world_done)
{
	world_init(&w, 0);
	w.in.every_ticks = 0;
	set_counter(&w, "TcpExt.TCPReqQFullDrop", 5000);
	cr_assert_null(reason(&w));
}

/* Drops beyond overflows are SYN-queue drops; drops that are all overflows are not (look-alike). */
Test(deep_policy, listen_drops_beyond_overflows, .fini = world_done)
{
	world_init(&w, 3);
	set_counter(&w, "TcpExt.ListenDrops", 150);
	set_counter(&w, "TcpExt.ListenOverflows", 150);
	cr_assert_null(reason(&w), "every drop an accept-queue overflow");
	set_counter(&w, "TcpExt.ListenDrops", 160);
	cr_assert_str_eq(reason(&w), "ListenDrops beyond ListenOverflows");
}

Test(deep_policy, kernel_log_and_memory_pressure, .fini = world_done)
{
	world_init(&w, 3);
	w.s.n_kmsg = 1;
	w.ev[0].kind = KMSG_SYN_FLOOD;
	cr_assert_str_eq(reason(&w), "kernel log");
	w.s.n_kmsg = 0;
	w.ss.tcp_mem = 1999;
	cr_assert_null(reason(&w), "below tcp_mem's pressure threshold");
	w.ss.tcp_mem = 2000;
	cr_assert_str_eq(reason(&w), "TCP memory pressure");
	w.lim.tcp_mem[1] = SYSCTL_UNKNOWN;
	cr_assert_null(reason(&w), "no threshold known: no pressure");
}

/*
 * Sockets in use near the port range: at most every 10 ticks, unless the
 * last run found a destination half-way (then every tick, on a 1/20 budget).
 */
Test(deep_policy, sockets_near_the_port_range, .fini = world_done)
{
	world_init(&w, 20);
	w.in.every_ticks = 0;
	w.ss.tcp_inuse = 10000;
	w.ss.tcp_tw = 4000;
	cr_assert_null(reason(&w), "14,000 of 28,232: under half");
	w.ss.tcp_tw = 4200;
	cr_assert_str_eq(reason(&w), "sockets near the port range");
	w.book.last_tick = 15;
	cr_assert_null(reason(&w), "looked 6 ticks ago");
	w.book.dest_warm = true;
	cr_assert_str_eq(reason(&w), "sockets near the port range");
	w.book.cost_ms = 1000;
	w.book.last_ms = w.in.mono_ms - 10000;
	cr_assert_null(reason(&w), "warm, but 10 s of rest for a 1 s run is under 1/20");
	w.book.last_ms = w.in.mono_ms - 20000;
	cr_assert_str_eq(reason(&w), "sockets near the port range");
	w.ss.tcp_inuse = -1;
	cr_assert_null(reason(&w), "sockstat unread");
}

/*
 * backlogctl diagnose has two ticks: on its last, sockets near the port
 * range run the deep tier at once (tick 2 of a 10-tick wait, however big
 * the last run's cost), and a quiet host still does not.
 */
Test(deep_policy, oneshot_looks_on_its_last_tick, .fini = world_done)
{
	world_init(&w, 1);
	w.in.every_ticks = 30;
	w.ss.tcp_inuse = 10000;
	w.ss.tcp_tw = 4200;
	cr_assert_null(reason(&w), "the daemon waits 10 ticks for this signal");
	w.in.oneshot = true;
	cr_assert_str_eq(reason(&w), "sockets near the port range");
	w.book.cost_ms = 1000000;
	w.book.last_ms = w.in.mono_ms;
	cr_assert_str_eq(reason(&w), "sockets near the port range", "one run: no budget to keep");
	w.ss.tcp_tw = 0;
	cr_assert_null(reason(&w), "no signal: a one-shot run does not walk every socket for nothing");
}

Test(deep_policy, a_run_is_booked, .fini = world_done)
{
	static struct deep_sample ds;

	world_init(&w, 41);
	memset(&ds, 0, sizeof(ds));
	ds.n_dests = 1;
	/* Half-way to ephemeral-ports: 40 % of the 28,232 ports (80 % is the default threshold). */
	ds.dests[0].in_port_range = 11293;
	deep_policy_ran(&w.book, &w.in, &ds, w.in.mono_ms + 250);
	cr_assert_eq(w.book.last_tick, 42, "the tick being decided");
	cr_assert_eq(w.book.cost_ms, 250);
	cr_assert_eq(w.book.last_ms, w.in.mono_ms + 250);
	cr_assert(w.book.dest_warm);

	ds.dests[0].in_port_range = 11292;
	w.in.mono_ms += 1000;
	deep_policy_ran(&w.book, &w.in, &ds, w.in.mono_ms + 10);
	cr_assert_not(w.book.dest_warm, "just under half-way");

	/* A failed run costs its time, and counts as no look. */
	w.in.mono_ms += 1000;
	w.t.ticks += 5;
	deep_policy_ran(&w.book, &w.in, NULL, w.in.mono_ms + 70);
	cr_assert_eq(w.book.cost_ms, 70);
	cr_assert_eq(w.book.last_tick, 42);
}

Test(deep_policy, memory_short_names_the_holders, .fini = world_done)
{
	world_init(&w, 3);
	cr_assert_not(deep_policy_memory_short(&w.t, &w.s));
	w.s.n_kmsg = 1;
	w.ev[0].kind = KMSG_SYN_FLOOD;
	cr_assert_not(deep_policy_memory_short(&w.t, &w.s), "another kernel line is no memory shortage");
	w.ev[1].kind = KMSG_TCP_OOM;
	w.s.n_kmsg = 2;
	cr_assert(deep_policy_memory_short(&w.t, &w.s));
	w.s.n_kmsg = 0;
	set_counter(&w, "TcpExt.TCPAbortOnMemory", 101);
	cr_assert(deep_policy_memory_short(&w.t, &w.s));
	set_counter(&w, "TcpExt.TCPAbortOnMemory", 100);
	set_counter(&w, "TcpExt.TCPMemoryPressures", 102);
	cr_assert(deep_policy_memory_short(&w.t, &w.s));
	set_counter(&w, "TcpExt.TCPMemoryPressures", 100);
	w.ss.tcp_mem = 2500;
	cr_assert(deep_policy_memory_short(&w.t, &w.s));
	w.s.sockstat = NULL;
	cr_assert_not(deep_policy_memory_short(&w.t, &w.s), "sockstat unread: unknown, not short");
}

/* ---- the port bound: the last run's peak plus the active opens since ---- */

/*
 * Book a good run in w that found `peak` sockets to one destination on
 * ports of the range, with Tcp.ActiveOpens at its current value; then 20
 * ticks and 1,000 s pass, past the 10-tick wait and any budget.
 */
static void book_run(struct world *wd, uint32_t peak)
{
	static struct deep_sample ds;

	memset(&ds, 0, sizeof(ds));
	ds.port_lo = wd->lim.port_range_lo;
	ds.port_hi = wd->lim.port_range_hi;
	ds.n_dests = 1;
	ds.dests[0].total = peak;
	ds.dests[0].established = peak;
	ds.dests[0].in_port_range = peak;
	deep_policy_ran(&wd->book, &wd->in, &ds, wd->in.mono_ms + 100);
	wd->t.ticks += 20;
	wd->in.mono_ms += 1000000;
}

/* A host with 14,200 sockets of the 28,232 ports: the cheap totals alone would look. */
static void many_sockets(struct world *wd)
{
	wd->in.every_ticks = 0;
	wd->ss.tcp_inuse = 10000;
	wd->ss.tcp_tw = 4200;
}

#define LOOKS "sockets near the port range"

/*
 * Half-way to the default 80 % of 28,232 ports is 11,293 sockets on one
 * destination: after a run that found 50, it takes 11,243 active opens.
 */
Test(deep_policy, port_bound_closes_the_hint_after_a_quiet_run, .fini = world_done)
{
	world_init(&w, 20);
	many_sockets(&w);
	cr_assert_str_eq(reason(&w), LOOKS, "before any run: no bound, the look as before");
	book_run(&w, 50);
	cr_assert(w.book.ports_bounded);
	cr_assert_eq(w.book.ports_peak, 50);
	cr_assert_eq(w.book.ports_opens, 100);
	cr_assert_null(reason(&w), "50 sockets then, no connect() since: none can be half-way");
	set_counter(&w, "Tcp.ActiveOpens", 100 + 11242);
	cr_assert_null(reason(&w), "at most 11,292: one short");
	set_counter(&w, "Tcp.ActiveOpens", 100 + 11243);
	cr_assert_str_eq(reason(&w), LOOKS, "enough active opens since to reach half-way");
	/* The look books a new run: the bound starts again from what it counted. */
	book_run(&w, 50);
	cr_assert_eq(w.book.ports_opens, 100 + 11243);
	cr_assert_null(reason(&w));
}

/* The bound is only as good as the counter and the range it was taken against. */
Test(deep_policy, port_bound_open_when_unsure, .fini = world_done)
{
	world_init(&w, 20);
	many_sockets(&w);
	book_run(&w, 50);
	cr_assert_null(reason(&w));

	set_counter(&w, "Tcp.ActiveOpens", 99);
	cr_assert_str_eq(reason(&w), LOOKS, "the counter went backwards");
	set_counter(&w, "Tcp.ActiveOpens", 100);
	cr_assert_null(reason(&w));

	/* Tcp.ActiveOpens sorts first: the set without it. */
	w.counters.items = w.cur + 1;
	w.counters.count = N_NAMES - 1;
	cr_assert_str_eq(reason(&w), LOOKS, "snmp without the counter");
	w.counters.items = w.cur;
	w.counters.count = N_NAMES;
	w.s.counters = NULL;
	cr_assert_str_eq(reason(&w), LOOKS, "no counters this tick");
	w.s.counters = &w.counters;

	w.lim.port_range_lo = 40000;
	cr_assert_str_eq(reason(&w), LOOKS, "the range narrowed since the run counted in it");
	w.lim.port_range_lo = 32768;
	cr_assert_null(reason(&w));
}

/* A run that cannot vouch for every destination gives no bound. */
Test(deep_policy, port_bound_only_from_a_whole_count, .fini = world_done)
{
	static struct deep_sample ds;

	world_init(&w, 20);
	many_sockets(&w);
	/* The run's tick had no Tcp.ActiveOpens: nothing to count from. */
	w.counters.items = w.cur + 1;
	w.counters.count = N_NAMES - 1;
	book_run(&w, 50);
	w.counters.items = w.cur;
	w.counters.count = N_NAMES;
	cr_assert_not(w.book.ports_bounded);
	cr_assert_str_eq(reason(&w), LOOKS);

	/* A walk that skipped malformed entries may have missed a destination's sockets. */
	memset(&ds, 0, sizeof(ds));
	ds.port_lo = w.lim.port_range_lo;
	ds.port_hi = w.lim.port_range_hi;
	ds.skipped = 1;
	deep_policy_ran(&w.book, &w.in, &ds, w.in.mono_ms + 100);
	w.t.ticks += 20;
	w.in.mono_ms += 1000000;
	cr_assert_not(w.book.ports_bounded);
	cr_assert_str_eq(reason(&w), LOOKS);

	/* A walk without the range counted no socket in it. */
	ds.skipped = 0;
	ds.port_lo = ds.port_hi = -1;
	deep_policy_ran(&w.book, &w.in, &ds, w.in.mono_ms + 100);
	cr_assert_not(w.book.ports_bounded);

	/* A failed run keeps the bound of the last good one: it counts from that run's opens. */
	book_run(&w, 50);
	deep_policy_ran(&w.book, &w.in, NULL, w.in.mono_ms + 100);
	cr_assert(w.book.ports_bounded);
	cr_assert_null(reason(&w));
}

/*
 * dests[] lists the 16 destinations with most sockets: one not listed has
 * no more than the 16th, whose total bounds it (on the range or not).
 */
Test(deep_policy, port_bound_counts_the_unlisted, .fini = world_done)
{
	static struct deep_sample ds;

	world_init(&w, 20);
	many_sockets(&w);
	memset(&ds, 0, sizeof(ds));
	ds.port_lo = w.lim.port_range_lo;
	ds.port_hi = w.lim.port_range_hi;
	ds.n_dests = DEEP_TOP_DESTS;
	for (size_t i = 0; i < DEEP_TOP_DESTS; i++) {
		ds.dests[i].total = 12000;
		ds.dests[i].in_port_range = 10;    /* bound to their ports by the application */
	}
	deep_policy_ran(&w.book, &w.in, &ds, w.in.mono_ms + 100);
	cr_assert_not(w.book.dest_warm, "none listed is half-way on the range");
	cr_assert_eq(w.book.ports_peak, 12000);
	w.t.ticks += 20;
	w.in.mono_ms += 1000000;
	cr_assert_str_eq(reason(&w), LOOKS, "an unlisted one may hold up to 12,000");

	ds.n_dests = DEEP_TOP_DESTS - 1;
	deep_policy_ran(&w.book, &w.in, &ds, w.in.mono_ms + 100);
	cr_assert_eq(w.book.ports_peak, 10, "every destination listed");
}

/* A later destination in the list half-way makes the look warm too (the rule reads all of them). */
Test(deep_policy, warm_on_any_listed_destination, .fini = world_done)
{
	static struct deep_sample ds;

	world_init(&w, 20);
	memset(&ds, 0, sizeof(ds));
	ds.port_lo = w.lim.port_range_lo;
	ds.port_hi = w.lim.port_range_hi;
	ds.n_dests = 2;
	ds.dests[0].total = 20000;
	ds.dests[0].in_port_range = 0;
	ds.dests[1].total = 11293;
	ds.dests[1].in_port_range = 11293;
	deep_policy_ran(&w.book, &w.in, &ds, w.in.mono_ms + 100);
	cr_assert(w.book.dest_warm);
}

/* IPv6 sockets (v4-mapped ones count towards IPv4 destinations) are in sockstat6, not sockstat. */
Test(deep_policy, cheap_totals_count_ipv6, .fini = world_done)
{
	world_init(&w, 20);
	many_sockets(&w);
	w.ss.tcp_inuse = 2000;
	w.ss.tcp_tw = 0;
	cr_assert_null(reason(&w));
	w.ss.tcp6_inuse = 12200;
	cr_assert_str_eq(reason(&w), LOOKS, "14,200 sockets, most of them IPv6");
	w.ss.tcp6_inuse = -1;
	cr_assert_null(reason(&w), "no sockstat6: no IPv6 socket");
}

/* With ephemeral_pct under 50 a finding needs less than half the range: the look starts there. */
Test(deep_policy, cheap_totals_follow_a_low_threshold, .fini = world_done)
{
	world_init(&w, 20);
	many_sockets(&w);
	w.ss.tcp_inuse = 9000;                   /* 31.9 % of the range */
	w.ss.tcp_tw = 0;
	cr_assert_null(reason(&w), "under half, and the default threshold is 80 %");
	w.in.ephemeral_pct = 30;
	cr_assert_str_eq(reason(&w), LOOKS, "a finding at 30 % is possible");
	w.in.ephemeral_pct = 33;
	cr_assert_null(reason(&w), "9,000 cannot reach 33 %");
}

/*
 * every_ticks set keeps its meaning: a walk every N ticks whatever the
 * preconditions (status and explain get a tally on quiet ticks); the
 * bound closes only the hint.
 */
Test(deep_policy, periodic_when_set_whatever_the_bound, .fini = world_done)
{
	world_init(&w, 20);
	many_sockets(&w);
	book_run(&w, 50);
	cr_assert_null(reason(&w));
	w.in.every_ticks = 20;
	cr_assert_str_eq(reason(&w), "periodic");
	w.in.every_ticks = 21;
	cr_assert_null(reason(&w), "20 ticks since the run, 21 asked");
}
