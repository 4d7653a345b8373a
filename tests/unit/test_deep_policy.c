/* test_deep_policy.c: when the deep tier runs: periodic within its time budget, on the cheap signals that only it explains, and not on their look-alikes. */
#include "base.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "deep_policy.h"

/* The counters deep_policy weighs, sorted as a counters set is, all at one value unless a test moves one. */
static const char *const names[] = {
	"TcpExt.ListenDrops", "TcpExt.ListenOverflows", "TcpExt.SyncookiesSent",
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
