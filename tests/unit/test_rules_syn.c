/* test_rules_syn.c: a SYN flood is SYNs that do not complete; a legitimate burst, a kernel line of another namespace, or accept-queue overflows with cookies off are not. */
#include "base.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "diagnose.h"
#include "finding_text.h"
#include "track.h"

/*
 * One network namespace as the monitor sees it, tick by tick: listeners,
 * the TcpExt counters the SYN rules read, kernel log lines and the deep
 * tier's SYN_RECV counts. It starts healthy; each test breaks one thing.
 */
#define NS_LISTENERS 4
#define NS_SYNRECV 4
#define NS_EVENTS 4

static const char *const counter_names[] = {
	/* Sorted, as netstat_read leaves them: counters_get searches. */
	"TcpExt.ListenDrops", "TcpExt.ListenOverflows", "TcpExt.SyncookiesRecv",
	"TcpExt.SyncookiesSent", "TcpExt.TCPReqQFullDoCookies", "TcpExt.TCPReqQFullDrop",
};
#define NS_COUNTERS ARRAY_SIZE(counter_names)

struct ns {
	struct track t;
	struct finding_list out;
	struct limits lim;
	struct listener l[NS_LISTENERS];
	size_t nl;
	struct counter c[NS_COUNTERS];
	struct kmsg_event ev[NS_EVENTS];   /* this tick's, cleared after it */
	size_t nev;
	struct deep_sample deep;
	struct synrecv_count sr[NS_SYNRECV];
	bool use_deep;
	int64_t now_ms;
	struct finding_words fw;
};

static void ns_init(struct ns *n)
{
	size_t i;

	memset(n, 0, sizeof(*n));
	track_init(&n->t);
	finding_list_init(&n->out);
	n->lim.somaxconn = 4096;
	n->lim.tcp_max_syn_backlog = 512;
	n->lim.tcp_syncookies = 1;
	n->lim.tcp_abort_on_overflow = 0;
	for (i = 0; i < NS_COUNTERS; i++) {
		snprintf(n->c[i].name, sizeof(n->c[i].name), "%s", counter_names[i]);
		n->c[i].value = 5000;
	}
	n->deep.synrecv = n->sr;
	n->deep.cap_synrecv = NS_SYNRECV;
	n->use_deep = true;
	n->now_ms = 7000000;
}

static void ns_free(struct ns *n)
{
	track_free(&n->t);
	finding_list_free(&n->out);
}

/* A listener on a.b.c.d:port; the deep tier counts its requests in SYN_RECV (0 until set). */
static struct listener *ns_listener(struct ns *n, uint64_t cookie, uint8_t a, uint8_t d, uint16_t port,
				    uint32_t backlog)
{
	struct listener *l;
	struct synrecv_count *s;

	cr_assert_lt(n->nl, NS_LISTENERS);
	l = &n->l[n->nl++];
	memset(l, 0, sizeof(*l));
	l->cookie = cookie;
	l->inode = (uint32_t)cookie + 9000;
	l->family = AF_INET;
	l->addr[0] = a;
	l->addr[3] = d;
	l->port = port;
	l->backlog = backlog;
	l->has_drops = true;
	s = &n->sr[n->deep.n_synrecv++];
	memset(s, 0, sizeof(*s));
	s->family = AF_INET;
	memcpy(s->addr, l->addr, 4);
	s->port = port;
	return l;
}

/* Requests of listener i (in the order added) in SYN_RECV, as the deep tier counts them. */
static void ns_synrecv(struct ns *n, size_t i, uint32_t count)
{
	n->sr[i].count = count;
}

static void ns_counter(struct ns *n, const char *name, int64_t add)
{
	size_t i;

	for (i = 0; i < NS_COUNTERS; i++) {
		if (strcmp(n->c[i].name, name) == 0) {
			n->c[i].value += add;
			return;
		}
	}
	cr_assert_fail("no counter %s", name);
}

/* The kernel's "Possible SYN flooding on port ADDR:PORT. Sending cookies." ("" addr: port only). */
static void ns_line(struct ns *n, const char *addr, uint16_t port)
{
	struct kmsg_event *e;

	cr_assert_lt(n->nev, NS_EVENTS);
	e = &n->ev[n->nev++];
	memset(e, 0, sizeof(*e));
	e->kind = KMSG_SYN_FLOOD;
	e->seq = 500 + n->nev;
	e->port = port;
	snprintf(e->addr, sizeof(e->addr), "%s", addr);
	e->cookies = true;
}

/* One tick. Return: the number of findings. */
static size_t ns_tick(struct ns *n)
{
	struct listener_set set = { .items = n->l, .count = n->nl, .cap = NS_LISTENERS };
	struct counters host = { .items = n->c, .count = NS_COUNTERS, .cap = NS_COUNTERS };
	struct tick_sample s = { .listeners = &set, .counters = &host, .limits = &n->lim,
				 .kmsg = n->ev, .n_kmsg = n->nev, .deep = n->use_deep ? &n->deep : NULL };

	n->now_ms += 1000;
	cr_assert_eq(track_tick(&n->t, &s, n->now_ms), 0);
	n->nev = 0;
	cr_assert_eq(diagnose(&n->t, NULL, &n->out), 0);
	return n->out.count;
}

static size_t ns_count(const struct ns *n, enum cause c)
{
	size_t i, k = 0;

	for (i = 0; i < n->out.count; i++)
		if (n->out.items[i].cause == c)
			k++;
	return k;
}

static const struct finding *ns_get(const struct ns *n, enum cause c)
{
	size_t i;

	for (i = 0; i < n->out.count; i++)
		if (n->out.items[i].cause == c)
			return &n->out.items[i];
	cr_assert_fail("no %s finding among %zu", cause_code(c), n->out.count);
	return NULL;
}

/* The finding's evidence named name; -2 when it has none of that name. */
static int64_t ev(const struct finding *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n_extra; i++)
		if (strcmp(f->extra[i].name, name) == 0)
			return f->extra[i].value;
	return -2;
}

static const char *message(struct ns *n, const struct finding *f)
{
	finding_words(f, &n->fw);
	return n->fw.message;
}

/* One sentence, ending in a full stop, as finding_words promises every reader. */
static void assert_one_sentence(const char *m)
{
	size_t len = strlen(m);

	cr_assert_gt(len, 0);
	cr_assert_null(strstr(m, ". "), "%s", m);
	cr_assert_eq(m[len - 1], '.', "%s", m);
}

/* A slow-accepting listener with backlog 8 takes a burst: the case the issue was filed for. */
static void burst_tick(struct ns *n, uint32_t queue, int64_t sent, int64_t recv)
{
	n->l[0].queue = queue;
	n->l[0].drops += 20;
	ns_counter(n, "TcpExt.ListenOverflows", 20);
	ns_counter(n, "TcpExt.ListenDrops", 20);
	ns_counter(n, "TcpExt.TCPReqQFullDoCookies", sent + 30);
	ns_counter(n, "TcpExt.SyncookiesSent", sent);
	ns_counter(n, "TcpExt.SyncookiesRecv", recv);
}

Test(legit_burst, cookies_that_come_back_are_evidence_on_the_backlog_finding)
{
	struct ns n;
	int i;

	ns_init(&n);
	ns_listener(&n, 1, 127, 1, 8080, 8);
	ns_tick(&n);
	for (i = 0; i < 3; i++) {
		const struct finding *f;

		/*
		 * Requests whose final ACK met the full accept queue stay in
		 * SYN_RECV: the SYN queue is at its limit too, and the kernel
		 * logs its "Possible SYN flooding" line. Yet the cookies return.
		 */
		burst_tick(&n, i == 1 ? 5 : 9, 40, 38);
		ns_synrecv(&n, 0, 9);
		if (i == 0)
			ns_line(&n, "127.0.0.1", 8080);
		ns_tick(&n);
		cr_assert_eq(ns_count(&n, CAUSE_SYN_FLOOD), 0, "tick %d: %s", i,
			     message(&n, &n.out.items[0]));
		cr_assert_eq(n.out.count, 1, "tick %d", i);
		f = ns_get(&n, CAUSE_BACKLOG_SMALL);
		cr_assert_eq(f->explained_by, CAUSE_NONE);
		cr_assert_str_eq(f->listener, "127.0.0.1:8080");
		cr_assert(strstr(message(&n, f), "the kernel answered 40 SYNs with syncookies in one "
			  "tick (38 came back"), "%s", message(&n, f));
		cr_assert(strstr(message(&n, f), "lost TCP options such as window scaling and SACK"),
			  "%s", message(&n, f));
		cr_assert_null(strstr(message(&n, f), "flood"), "%s", message(&n, f));
		assert_one_sentence(message(&n, f));
		cr_assert_eq(ev(f, "syncookies_sent"), 40);
		cr_assert_eq(ev(f, "syncookies_recv"), 38);
	}
	ns_free(&n);
}

/* TCPReqQFullDoCookies also counts SYNs dropped at a full accept queue, with no cookie sent: no flood. */
Test(legit_burst, do_cookies_without_cookies_sent_is_no_flood)
{
	struct ns n;

	ns_init(&n);
	ns_listener(&n, 1, 127, 1, 8080, 8);
	ns_tick(&n);
	burst_tick(&n, 9, 0, 0);
	ns_synrecv(&n, 0, 9);
	ns_tick(&n);
	cr_assert_eq(ns_count(&n, CAUSE_SYN_FLOOD), 0);
	cr_assert_eq(ns_get(&n, CAUSE_BACKLOG_SMALL)->explained_by, CAUSE_NONE);
	cr_assert_eq(ev(ns_get(&n, CAUSE_BACKLOG_SMALL), "syncookies_sent"), -2, "no cookie to speak of");
	ns_free(&n);
}

Test(flood, unanswered_cookies_on_the_listener_with_its_requests_at_the_limit)
{
	struct ns n;
	const struct finding *f;

	ns_init(&n);
	ns_listener(&n, 1, 10, 1, 80, 128);
	ns_listener(&n, 2, 10, 2, 443, 256);
	ns_tick(&n);
	ns_synrecv(&n, 0, 129);
	ns_synrecv(&n, 1, 3);
	ns_counter(&n, "TcpExt.TCPReqQFullDoCookies", 300);
	ns_counter(&n, "TcpExt.SyncookiesSent", 300);
	ns_counter(&n, "TcpExt.SyncookiesRecv", 4);
	ns_line(&n, "10.0.0.1", 80);
	cr_assert_eq(ns_tick(&n), 1);
	f = ns_get(&n, CAUSE_SYN_FLOOD);
	cr_assert_eq(f->scope, SCOPE_LISTENER);
	cr_assert_str_eq(f->listener, "10.0.0.1:80");
	cr_assert_eq(ev(f, "syn_recv"), 129);
	cr_assert_eq(ev(f, "syncookies_sent"), 300);
	cr_assert_eq(ev(f, "syncookies_recv"), 4);
	cr_assert_eq(ev(f, "kmsg_syn_flood"), 1);
	cr_assert(strstr(message(&n, f), "SyncookiesSent +300, SyncookiesRecv +4"), "%s", message(&n, f));
	cr_assert(strstr(message(&n, f), "129 requests in SYN_RECV"), "%s", message(&n, f));
	assert_one_sentence(message(&n, f));
	ns_free(&n);
}

/*
 * One namespace, two listeners: a flood on 10.0.0.1:80, and 127.0.0.1:8080
 * stalled with its accept queue full and its SYN queue full of clients whose
 * final ACK met it. The unanswered cookies are 80's: 8080's overflow stays
 * its own cause.
 */
Test(flood, requests_behind_a_full_accept_queue_are_not_a_flood_on_it)
{
	struct ns n;

	ns_init(&n);
	ns_listener(&n, 1, 10, 1, 80, 128);
	ns_listener(&n, 2, 127, 1, 8080, 8);
	ns_tick(&n);
	ns_synrecv(&n, 0, 129);
	ns_synrecv(&n, 1, 9);
	n.l[1].queue = 9;
	n.l[1].drops += 20;
	ns_counter(&n, "TcpExt.ListenOverflows", 20);
	ns_counter(&n, "TcpExt.ListenDrops", 20);
	ns_counter(&n, "TcpExt.SyncookiesSent", 300);
	ns_tick(&n);
	cr_assert_eq(ns_count(&n, CAUSE_SYN_FLOOD), 1);
	cr_assert_str_eq(ns_get(&n, CAUSE_SYN_FLOOD)->listener, "10.0.0.1:80");
	cr_assert_str_eq(ns_get(&n, CAUSE_BACKLOG_SMALL)->listener, "127.0.0.1:8080");
	cr_assert_eq(ns_get(&n, CAUSE_BACKLOG_SMALL)->explained_by, CAUSE_NONE);
	ns_free(&n);
}

/* A slow flood: few cookies this tick, but none back and the SYN queue full of half-open requests. */
Test(flood, half_open_requests_at_the_limit_with_few_cookies)
{
	struct ns n;

	ns_init(&n);
	ns_listener(&n, 1, 10, 1, 80, 128);
	ns_tick(&n);
	ns_synrecv(&n, 0, 129);
	ns_counter(&n, "TcpExt.SyncookiesSent", 4);
	cr_assert_eq(ns_tick(&n), 1);
	cr_assert_str_eq(ns_get(&n, CAUSE_SYN_FLOOD)->listener, "10.0.0.1:80");

	/* The same full SYN queue, its cookies coming back: clients that complete. */
	ns_counter(&n, "TcpExt.SyncookiesSent", 4);
	ns_counter(&n, "TcpExt.SyncookiesRecv", 3);
	cr_assert_eq(ns_tick(&n), 0);

	/* No cookie at all this tick: requests waiting on TCP_DEFER_ACCEPT look the same. */
	cr_assert_eq(ns_tick(&n), 0);
	ns_free(&n);
}

Test(flood, without_deep_tier_the_host_not_a_guess)
{
	struct ns n;
	const struct finding *f;

	ns_init(&n);
	n.use_deep = false;
	ns_listener(&n, 1, 10, 1, 80, 128);
	ns_tick(&n);
	ns_counter(&n, "TcpExt.SyncookiesSent", 50);
	cr_assert_eq(ns_tick(&n), 1);
	f = ns_get(&n, CAUSE_SYN_FLOOD);
	cr_assert_eq(f->scope, SCOPE_HOST);
	cr_assert_str_eq(f->listener, "host");
	assert_one_sentence(message(&n, f));
	ns_free(&n);
}

/*
 * The kernel log is every namespace's; its line names ADDR:PORT and no
 * namespace. Here the line is another namespace's: ours has a listener on
 * the same address, healthy.
 */
Test(kmsg, a_line_for_a_quiet_listener_makes_no_finding)
{
	struct ns n;

	ns_init(&n);
	ns_listener(&n, 1, 127, 1, 8080, 128);
	ns_tick(&n);
	ns_line(&n, "127.0.0.1", 8080);
	cr_assert_eq(ns_tick(&n), 0);

	/* Our own cookies come back (a legitimate burst elsewhere here): still nothing on 8080. */
	ns_line(&n, "127.0.0.1", 8080);
	ns_counter(&n, "TcpExt.SyncookiesSent", 30);
	ns_counter(&n, "TcpExt.SyncookiesRecv", 30);
	cr_assert_eq(ns_tick(&n), 0);
	ns_free(&n);
}

Test(kmsg, a_line_does_not_pin_our_flood_on_a_healthy_listener)
{
	struct ns n;
	size_t i;

	ns_init(&n);
	ns_listener(&n, 1, 127, 1, 8080, 128);
	ns_listener(&n, 2, 10, 1, 80, 128);
	ns_tick(&n);
	/* Our flood is on 10.0.0.1:80; the line names 127.0.0.1:8080, healthy here. */
	ns_synrecv(&n, 1, 129);
	ns_counter(&n, "TcpExt.SyncookiesSent", 200);
	ns_line(&n, "127.0.0.1", 8080);
	cr_assert_eq(ns_tick(&n), 1);
	cr_assert_str_eq(ns_get(&n, CAUSE_SYN_FLOOD)->listener, "10.0.0.1:80");
	cr_assert_eq(ev(ns_get(&n, CAUSE_SYN_FLOOD), "kmsg_syn_flood"), 0);

	/* Without the deep tier: the flood is the host's, never the healthy listener's. */
	n.use_deep = false;
	ns_counter(&n, "TcpExt.SyncookiesSent", 200);
	ns_line(&n, "127.0.0.1", 8080);
	ns_tick(&n);
	for (i = 0; i < n.out.count; i++)
		cr_assert_str_neq(n.out.items[i].listener, "127.0.0.1:8080");
	cr_assert_eq(ns_get(&n, CAUSE_SYN_FLOOD)->scope, SCOPE_HOST);
	ns_free(&n);
}

/* Without the deep tier, the listener's own drops may agree with the line. */
Test(kmsg, a_line_backed_by_the_listeners_own_drops)
{
	struct ns n;

	ns_init(&n);
	n.use_deep = false;
	ns_listener(&n, 1, 127, 1, 8080, 8);
	ns_tick(&n);
	burst_tick(&n, 9, 60, 0);
	ns_line(&n, "127.0.0.1", 8080);
	ns_tick(&n);
	cr_assert_str_eq(ns_get(&n, CAUSE_SYN_FLOOD)->listener, "127.0.0.1:8080");
	cr_assert_eq(ns_get(&n, CAUSE_BACKLOG_SMALL)->explained_by, CAUSE_SYN_FLOOD,
		     "a proven flood explains the overflow of its own listener");
	ns_free(&n);
}

Test(kmsg, a_line_with_no_listener_here_is_no_phantom)
{
	struct ns n;
	size_t i;

	ns_init(&n);
	ns_listener(&n, 1, 127, 1, 8080, 128);
	ns_tick(&n);
	ns_line(&n, "10.9.9.9", 9);
	cr_assert_eq(ns_tick(&n), 0);

	n.use_deep = false;
	ns_line(&n, "10.9.9.9", 9);
	ns_counter(&n, "TcpExt.SyncookiesSent", 100);
	ns_tick(&n);
	for (i = 0; i < n.out.count; i++)
		cr_assert_null(strstr(n.out.items[i].listener, ":9"), "%s", n.out.items[i].listener);
	cr_assert_eq(ns_count(&n, CAUSE_SYN_FLOOD), 1);
	cr_assert_eq(ns_get(&n, CAUSE_SYN_FLOOD)->scope, SCOPE_HOST);
	ns_free(&n);
}

/* ---- tcp_syncookies=0: the SYN queue's drops are ListenDrops - ListenOverflows ---- */

Test(syncookies_off, accept_queue_overflows_alone_blame_no_syn_queue)
{
	struct ns n;

	ns_init(&n);
	n.lim.tcp_syncookies = 0;
	ns_listener(&n, 1, 127, 1, 8080, 128);
	ns_tick(&n);
	/* The queue drained before the sample; every drop was an overflow. */
	n.l[0].drops += 10;
	ns_counter(&n, "TcpExt.ListenOverflows", 10);
	ns_counter(&n, "TcpExt.ListenDrops", 10);
	ns_tick(&n);
	cr_assert_eq(ns_count(&n, CAUSE_SYN_QUEUE_DROP), 0);
	ns_free(&n);
}

/*
 * A stalled application with cookies off: the requests whose final ACK met
 * the full accept queue fill the SYN queue, and later SYNs count as
 * TCPReqQFullDrop. Cookies would not help: the accept queue is the cause.
 */
Test(syncookies_off, a_syn_queue_full_behind_a_full_accept_queue_is_not_blamed)
{
	struct ns n;
	size_t i;

	ns_init(&n);
	n.lim.tcp_syncookies = 0;
	ns_listener(&n, 1, 127, 1, 8080, 128);
	ns_tick(&n);
	n.l[0].queue = 129;
	n.l[0].drops += 30;
	ns_synrecv(&n, 0, 129);
	ns_counter(&n, "TcpExt.ListenOverflows", 10);
	ns_counter(&n, "TcpExt.ListenDrops", 30);
	ns_counter(&n, "TcpExt.TCPReqQFullDrop", 20);
	ns_tick(&n);
	cr_assert_eq(ns_count(&n, CAUSE_SYN_QUEUE_DROP), 0);
	cr_assert_gt(n.out.count, 0);
	for (i = 0; i < n.out.count; i++) {
		finding_words(&n.out.items[i], &n.fw);
		cr_assert_null(strstr(n.fw.remedy, "tcp_syncookies"), "%s", n.fw.remedy);
	}
	ns_free(&n);
}

/* The same, sampled just after the application drained its queue: the tick before saw it full. */
Test(syncookies_off, a_queue_drained_before_the_sample_still_counts_as_full)
{
	struct ns n;

	ns_init(&n);
	n.lim.tcp_syncookies = 0;
	ns_listener(&n, 1, 127, 1, 8080, 4);
	ns_tick(&n);
	n.l[0].queue = 5;
	n.l[0].drops += 40;
	ns_counter(&n, "TcpExt.ListenOverflows", 40);
	ns_counter(&n, "TcpExt.ListenDrops", 40);
	ns_tick(&n);
	n.l[0].queue = 0;
	n.l[0].drops += 30;
	ns_counter(&n, "TcpExt.ListenOverflows", 10);
	ns_counter(&n, "TcpExt.ListenDrops", 30);
	ns_counter(&n, "TcpExt.TCPReqQFullDrop", 20);
	ns_tick(&n);
	cr_assert_eq(ns_count(&n, CAUSE_SYN_QUEUE_DROP), 0);
	cr_assert_gt(n.out.count, 0, "the accept queue's finding stays");

	/*
	 * Seen on a real kernel: a tick with room in the accept queue and only
	 * SYN-queue drops, the requests of the last overflow still waiting in
	 * SYN_RECV for their SYN-ACK to be sent again. Not the host's either.
	 */
	n.l[0].queue = 4;
	n.l[0].drops += 21;
	ns_counter(&n, "TcpExt.ListenDrops", 21);
	ns_counter(&n, "TcpExt.TCPReqQFullDrop", 21);
	ns_tick(&n);
	cr_assert_eq(ns_count(&n, CAUSE_SYN_QUEUE_DROP), 0);
	ns_free(&n);
}

Test(syncookies_off, only_the_drops_beyond_the_overflows_are_the_syn_queues)
{
	struct ns n;
	const struct finding *f;

	ns_init(&n);
	n.lim.tcp_syncookies = 0;
	ns_listener(&n, 1, 10, 1, 80, 128);
	ns_tick(&n);
	n.l[0].queue = 3;
	n.l[0].drops += 50;
	ns_counter(&n, "TcpExt.ListenOverflows", 48);
	ns_counter(&n, "TcpExt.ListenDrops", 50);
	ns_tick(&n);
	f = ns_get(&n, CAUSE_SYN_QUEUE_DROP);
	cr_assert_eq(ev(f, "syn_queue_drops"), 2);
	cr_assert(strstr(message(&n, f), ": 2 drops in one tick"), "%s", message(&n, f));
	ns_free(&n);
}
