/* test_quiet_ticks.c: ticks without a LISTEN dump: when dump_policy asks for one, and how track carries the listeners of the last dump through the others. */
#include "base.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dump_policy.h"
#include "track.h"

/* The counters the policy weighs, sorted by name as a counters set is. */
static const char *const names[] = {
	"Tcp.OutRsts", "TcpExt.ListenDrops", "TcpExt.ListenOverflows", "TcpExt.SyncookiesFailed",
	"TcpExt.SyncookiesSent", "TcpExt.TCPReqQFullDoCookies", "TcpExt.TCPReqQFullDrop",
};
#define N_NAMES ARRAY_SIZE(names)

struct sample_store {
	struct counter c[N_NAMES];
	struct counters set;
	struct sockstat ss;
	struct listener l[4];
	struct listener_set dump;
	struct tick_sample s;
};

/* A sample: every counter at v, sockstat's TCP inuse at inuse; no listeners (a tick without a dump). */
static struct tick_sample *sample_at(struct sample_store *st, int64_t v, int64_t inuse)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < N_NAMES; i++) {
		snprintf(st->c[i].name, sizeof(st->c[i].name), "%s", names[i]);
		st->c[i].value = v;
	}
	st->set.items = st->c;
	st->set.count = st->set.cap = N_NAMES;
	st->ss.sockets_used = st->ss.tcp_orphan = st->ss.tcp_tw = st->ss.tcp_alloc = -1;
	st->ss.tcp_mem = -1;
	st->ss.tcp_inuse = inuse;
	st->ss.tcp6_inuse = 2;
	st->dump.items = st->l;
	st->dump.cap = ARRAY_SIZE(st->l);
	st->s.counters = &st->set;
	st->s.sockstat = &st->ss;
	return &st->s;
}

static void set_counter(struct sample_store *st, const char *name, int64_t v)
{
	for (size_t i = 0; i < N_NAMES; i++)
		if (strcmp(st->c[i].name, name) == 0)
			st->c[i].value = v;
}

/* Add a listener on 127.0.0.1:port to the sample's dump (and make the sample a dump). */
static struct listener *dump_add(struct sample_store *st, uint64_t cookie, uint16_t port,
				 uint32_t queue, uint32_t drops)
{
	struct listener *l = &st->l[st->dump.count++];

	memset(l, 0, sizeof(*l));
	l->cookie = cookie;
	l->inode = (uint32_t)cookie + 100;
	l->queue = queue;
	l->backlog = 128;
	l->drops = drops;
	l->has_drops = true;
	l->family = AF_INET;
	l->addr[0] = 127;
	l->addr[3] = 1;
	l->port = port;
	st->s.listeners = &st->dump;
	return l;
}

/* A track whose two ticks dumped one listener, counters at 100, 10 TCP sockets; and the policy's input. */
struct world {
	struct track t;
	struct sample_store now;
	struct dump_policy_in in;
};

static void world_init(struct world *w)
{
	struct sample_store past;

	memset(w, 0, sizeof(*w));
	track_init(&w->t);
	for (int i = 1; i <= 2; i++) {
		sample_at(&past, 100, 10);
		dump_add(&past, 7, 8080, 0, 0);
		cr_assert_eq(track_tick(&w->t, &past.s, 1000 * i), 0);
	}
	w->in.track = &w->t;
	w->in.sample = sample_at(&w->now, 100, 10);
	w->in.refresh_ms = 30000;
	w->in.mono_ms = 500000;
	w->in.last_dump_ms = 499000;
}

static void world_done(struct world *w)
{
	track_free(&w->t);
}

Test(dump_policy, quiet_tick_needs_no_dump)
{
	struct world w;

	world_init(&w);
	cr_assert_null(dump_policy_reason(&w.in));
	world_done(&w);
}

Test(dump_policy, first_tick_stale_or_every_tick_always_dump)
{
	struct world w;

	world_init(&w);
	w.in.last_dump_ms = 0;
	cr_assert_str_eq(dump_policy_reason(&w.in), "first tick");
	w.in.last_dump_ms = 499000;
	w.in.stale = true;
	cr_assert_str_eq(dump_policy_reason(&w.in), "listeners not known");
	w.in.stale = false;
	w.in.refresh_ms = 0;
	cr_assert_str_eq(dump_policy_reason(&w.in), "every tick");
	world_done(&w);

	/* A track that never ticked has no counters to compare: the first tick dumps. */
	memset(&w, 0, sizeof(w));
	track_init(&w.t);
	w.in.track = &w.t;
	w.in.sample = sample_at(&w.now, 100, 10);
	w.in.refresh_ms = 30000;
	w.in.last_dump_ms = 1;
	cr_assert_str_eq(dump_policy_reason(&w.in), "first tick");
	track_free(&w.t);
}

Test(dump_policy, every_listen_counter_that_moves_dumps)
{
	static const char *const listen[] = {
		"TcpExt.ListenOverflows", "TcpExt.ListenDrops", "TcpExt.TCPReqQFullDrop",
		"TcpExt.TCPReqQFullDoCookies", "TcpExt.SyncookiesSent", "TcpExt.SyncookiesFailed",
	};
	struct world w;

	for (size_t i = 0; i < ARRAY_SIZE(listen); i++) {
		world_init(&w);
		set_counter(&w.now, listen[i], 101);
		cr_assert_str_eq(dump_policy_reason(&w.in), listen[i]);
		world_done(&w);
	}
	/* Resets sent move no listener: no dump for them. */
	world_init(&w);
	set_counter(&w.now, "Tcp.OutRsts", 500);
	cr_assert_null(dump_policy_reason(&w.in));
	/* A counter that went backwards (a namespace made again) is no drop. */
	set_counter(&w.now, "TcpExt.ListenDrops", 3);
	cr_assert_null(dump_policy_reason(&w.in));
	world_done(&w);
}

Test(dump_policy, unreadable_counters_dump)
{
	struct world w;

	world_init(&w);
	w.now.set.count = 0;
	cr_assert_str_eq(dump_policy_reason(&w.in), "counters not known");
	w.now.s.counters = NULL;
	cr_assert_str_eq(dump_policy_reason(&w.in), "counters not known");
	world_done(&w);
}

Test(dump_policy, socket_count_that_moves_or_is_unknown_dumps)
{
	struct world w;

	world_init(&w);
	w.now.ss.tcp_inuse = 9;
	cr_assert_str_eq(dump_policy_reason(&w.in), "TCP sockets came or went");
	w.now.ss.tcp_inuse = 10;
	w.now.ss.tcp6_inuse = 3;
	cr_assert_str_eq(dump_policy_reason(&w.in), "TCP sockets came or went");
	w.now.ss.tcp6_inuse = 2;
	cr_assert_null(dump_policy_reason(&w.in));
	w.now.ss.tcp_inuse = -1;
	cr_assert_str_eq(dump_policy_reason(&w.in), "TCP sockets came or went");
	w.now.s.sockstat = NULL;
	cr_assert_str_eq(dump_policy_reason(&w.in), "TCP sockets came or went");
	world_done(&w);
}

Test(dump_policy, hot_listener_owners_kernel_log_and_refresh_dump)
{
	struct kmsg_event ev = { 0 };
	struct world w;

	world_init(&w);
	w.in.hot = 1;
	cr_assert_str_eq(dump_policy_reason(&w.in), "a listener is hot");
	w.in.hot = 0;

	w.in.owners_moved = true;
	cr_assert_str_eq(dump_policy_reason(&w.in), "owners changed");
	w.in.owners_moved = false;

	w.now.s.kmsg = &ev;
	w.now.s.n_kmsg = 1;
	cr_assert_str_eq(dump_policy_reason(&w.in), "kernel log");
	w.now.s.n_kmsg = 0;

	w.in.mono_ms = w.in.last_dump_ms + 29999;
	cr_assert_null(dump_policy_reason(&w.in));
	w.in.mono_ms = w.in.last_dump_ms + 30000;
	cr_assert_str_eq(dump_policy_reason(&w.in), "refresh");
	world_done(&w);
}

Test(dump_policy, a_listener_missing_dumps_for_a_minute)
{
	struct world w;

	world_init(&w);
	w.t.n_gaps = 1;
	w.t.gaps[0].missing_ms = w.t.now_ms;
	cr_assert_str_eq(dump_policy_reason(&w.in), "a listener is missing");
	w.t.gaps[0].missing_ms = w.t.now_ms - DUMP_GAP_WATCH_MS + 1;
	cr_assert_str_eq(dump_policy_reason(&w.in), "a listener is missing");
	/* Missing for longer: its return moves the socket count, and the refresh catches the rest. */
	w.t.gaps[0].missing_ms = w.t.now_ms - DUMP_GAP_WATCH_MS;
	cr_assert_null(dump_policy_reason(&w.in));
	/* Back: nothing to wait for. */
	w.t.gaps[0].missing_ms = w.t.now_ms;
	w.t.gaps[0].returned_ms = w.t.now_ms;
	cr_assert_null(dump_policy_reason(&w.in));
	world_done(&w);
}

/* A tick without a dump: listeners NULL, counters at v. */
static void carry(struct track *t, int64_t v, int64_t now_ms)
{
	struct sample_store st;

	cr_assert_eq(track_tick(t, sample_at(&st, v, 10), now_ms), 0);
}

Test(track_carry, listeners_stand_as_last_dumped_with_no_drop)
{
	struct sample_store st;
	struct tracked *tr;
	struct track t;
	static const struct owner nginx = { .nprocs = 1, .nprocs_total = 1 };
	const struct owner *owners[1] = { &nginx };

	track_init(&t);
	sample_at(&st, 100, 10);
	dump_add(&st, 7, 8080, 3, 5);
	cr_assert_eq(track_tick(&t, &st.s, 1000), 0);
	sample_at(&st, 100, 10);
	dump_add(&st, 7, 8080, 4, 9);
	st.s.owners = owners;
	cr_assert_eq(track_tick(&t, &st.s, 2000), 0);
	tr = track_find(&t, 7);
	cr_assert_eq(tr->drops_delta, 4);
	tr->owner_state = 'T';

	carry(&t, 100, 3000);
	tr = track_find(&t, 7);
	cr_assert_not_null(tr, "a tick without a dump loses no listener");
	cr_assert_eq(t.count, 1);
	cr_assert_eq(tr->drops_delta, 0, "no drop without a dump");
	cr_assert_eq(tr->drops_total, 4);
	cr_assert_eq(tr->l.queue, 4);
	cr_assert_eq(tr->last_seen_ms, 3000);
	cr_assert_eq(tr->ticks_seen, 3);
	cr_assert_eq(tr->owner, &nginx, "the owner stays");
	cr_assert_eq(tr->owner_state, 0, "read only while dropping");
	cr_assert_eq(tr->hist_len, 3);
	cr_assert_eq(tracked_hist(tr, 0)->queue, 4);
	cr_assert_eq(tracked_hist(tr, 0)->drops_delta, 0);
	cr_assert_eq(tracked_hist(tr, 1)->drops_delta, 4);
	cr_assert_eq(t.ticks, 3);
	cr_assert_eq(t.now_ms, 3000);
	cr_assert_eq(t.prev_ms, 2000);
	cr_assert_eq(t.new_count + t.gone_count, 0);

	/* The next dump counts every drop since the last dump: the counter is cumulative. */
	carry(&t, 100, 4000);
	sample_at(&st, 100, 10);
	dump_add(&st, 7, 8080, 0, 15);
	cr_assert_eq(track_tick(&t, &st.s, 5000), 0);
	tr = track_find(&t, 7);
	cr_assert_eq(tr->drops_delta, 6);
	cr_assert_eq(tr->drops_total, 10);
	cr_assert(track_same_listeners(&t, &st.dump), "the sort keys of the last dump still serve");
	track_free(&t);
}

Test(track_carry, host_counters_move_on_a_tick_without_dump)
{
	struct track t;
	int64_t d;

	track_init(&t);
	carry(&t, 100, 1000);
	carry(&t, 130, 2000);
	cr_assert(track_host_delta(&t, "TcpExt.ListenOverflows", &d));
	cr_assert_eq(d, 30);
	cr_assert_eq(t.hs_cur.ss.tcp_inuse, 10);
	track_free(&t);
}

Test(track_carry, a_gap_grows_and_counts_resets_without_a_dump)
{
	struct sample_store st;
	struct track t;
	const struct listener_gap *g;

	track_init(&t);
	for (int i = 1; i <= 2; i++) {
		sample_at(&st, 100, 10);
		dump_add(&st, 7, 8080, 0, 0);
		cr_assert_eq(track_tick(&t, &st.s, 1000 * i), 0);
	}
	carry(&t, 100, 3000);
	sample_at(&st, 105, 9);
	st.s.listeners = &st.dump;   /* a dump with no listener */
	cr_assert_eq(track_tick(&t, &st.s, 4000), 0);
	cr_assert_eq(t.n_gaps, 1);
	g = &t.gaps[0];
	cr_assert_eq(g->last_seen_ms, 3000, "the last tick it stood, carried");
	cr_assert_eq(g->out_rsts, 5);
	cr_assert_eq(g->missing_ticks, 1);

	carry(&t, 112, 5000);
	cr_assert_eq(g->missing_ticks, 2);
	cr_assert_eq(g->out_rsts, 12, "so far, while absent");
	cr_assert_eq(g->returned_ms, 0);

	/* Back as a new socket at the next dump. */
	sample_at(&st, 112, 10);
	dump_add(&st, 8, 8080, 0, 0);
	cr_assert_eq(track_tick(&t, &st.s, 6000), 0);
	cr_assert_eq(g->returned_ms, 6000);
	cr_assert_eq(g->new_cookie, 8);
	track_free(&t);
}

Test(track_carry, a_listener_born_between_dumps_counts_its_drops)
{
	struct sample_store st;
	struct track t;

	track_init(&t);
	sample_at(&st, 100, 10);
	dump_add(&st, 7, 8080, 0, 0);
	cr_assert_eq(track_tick(&t, &st.s, 1000), 0);
	carry(&t, 100, 2000);
	sample_at(&st, 103, 11);
	dump_add(&st, 7, 8080, 0, 0);
	dump_add(&st, 9, 9090, 0, 3);
	cr_assert_eq(track_tick(&t, &st.s, 3000), 0);
	cr_assert_eq(track_find(&t, 9)->drops_delta, 3, "created since the last dump: every drop is new");
	track_free(&t);
}
