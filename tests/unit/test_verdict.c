/* test_verdict.c: one listener's overflow has one cause at a time: track, diagnose and findings together, tick by tick, with fast samples. */
#include "base.h"

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "daemon/backlogctl/render.h"
#include "daemon/backlogd/alert.h"
#include "diagnose.h"
#include "fast_peaks.h"
#include "finding_text.h"
#include "findings.h"
#include "report.h"
#include "track.h"

#define MAX_EVENTS 64
#define TICK_MS 500     /* the integration tests' tick */

/*
 * One listener on 127.0.0.1:8080 as the daemon sees it: each tick its
 * queue and drops, the fast samples between ticks (did the queue dip below
 * full?), the namespace's ListenOverflows and EmbryonicRsts; then diagnose
 * and the finding table, whose events are recorded.
 */
struct verdict_scen {
	struct track t;
	struct finding_list out;
	struct finding_table ft;
	struct limits lim;
	struct listener l;
	int64_t overflows;          /* TcpExt.ListenOverflows total */
	int64_t embryonic_rsts;     /* TcpExt.EmbryonicRsts total; -1: not read */
	int64_t now_ms;
	char owner_state;           /* the owner's state the monitor reads while drops move; 0 unknown */
	unsigned n;
	enum finding_event event[MAX_EVENTS];
	enum cause cause[MAX_EVENTS];
	enum cause revised_from[MAX_EVENTS];
};

static void scen_init(struct verdict_scen *s, uint32_t backlog, int64_t abort_on_overflow)
{
	memset(s, 0, sizeof(*s));
	track_init(&s->t);
	finding_list_init(&s->out);
	findings_init(&s->ft, 8);
	s->lim.somaxconn = 4096;
	s->lim.tcp_max_syn_backlog = 512;
	s->lim.tcp_syncookies = 1;
	s->lim.tcp_abort_on_overflow = abort_on_overflow;
	s->l.cookie = 0xabc;
	s->l.inode = 4242;
	s->l.family = AF_INET;
	s->l.port = 8080;
	s->l.addr[0] = 127;
	s->l.addr[3] = 1;
	s->l.backlog = backlog;
	s->l.has_drops = true;
	s->overflows = 1000;
	s->embryonic_rsts = 50;
	s->now_ms = 1000000;
}

static void scen_free(struct verdict_scen *s)
{
	track_free(&s->t);
	finding_list_free(&s->out);
	findings_free(&s->ft);
}

static void record(const struct finding_entry *e, enum finding_event ev, void *arg)
{
	struct verdict_scen *s = arg;

	cr_assert_lt(s->n, MAX_EVENTS);
	s->event[s->n] = ev;
	s->cause[s->n] = e->f.cause;
	s->revised_from[s->n] = e->revised_from;
	s->n++;
}

/*
 * One tick: the fast samples since the last one saw the queue at dip (0:
 * none taken; below the backlog: it drained), then the tick sees queue and
 * drops_add more drops; ListenOverflows grows by drops_add, EmbryonicRsts
 * by rsts_add. Return: the active findings after it.
 */
static size_t tick(struct verdict_scen *s, uint32_t dip, uint32_t queue, uint32_t drops_add,
		   int64_t rsts_add)
{
	struct tick_sample sample = { 0 };
	struct counter c[2];
	struct counters host;
	struct listener_set set, fast;
	struct listener fl;
	struct fast_peaks fp;

	/* Sorted by name, as counters_get searches them. */
	memset(c, 0, sizeof(c));
	snprintf(c[0].name, sizeof(c[0].name), "TcpExt.EmbryonicRsts");
	snprintf(c[1].name, sizeof(c[1].name), "TcpExt.ListenOverflows");
	if (s->embryonic_rsts >= 0)
		s->embryonic_rsts += rsts_add;
	s->overflows += drops_add;
	c[0].value = s->embryonic_rsts;
	c[1].value = s->overflows;
	memset(&host, 0, sizeof(host));
	host.items = s->embryonic_rsts >= 0 ? &c[0] : &c[1];
	host.count = s->embryonic_rsts >= 0 ? 2 : 1;
	host.cap = host.count;

	fast_peaks_init(&fp);
	if (dip) {
		fl = s->l;
		fl.queue = dip;
		memset(&fast, 0, sizeof(fast));
		fast.items = &fl;
		fast.count = fast.cap = 1;
		cr_assert_eq(fast_peaks_add(&fp, &fast), 0);
		sample.fast = &fp;
	}

	s->l.queue = queue;
	s->l.drops += drops_add;
	memset(&set, 0, sizeof(set));
	set.items = &s->l;
	set.count = set.cap = 1;
	s->now_ms += TICK_MS;
	sample.listeners = &set;
	sample.counters = &host;
	sample.limits = &s->lim;
	sample.owner_states = s->owner_state ? &s->owner_state : NULL;
	cr_assert_eq(track_tick(&s->t, &sample, s->now_ms), 0);
	cr_assert_eq(diagnose(&s->t, NULL, &s->out), 0);
	cr_assert_eq(findings_update(&s->ft, &s->out, s->now_ms / 1000, 30, record, s), 0);
	fast_peaks_free(&fp);
	return findings_active(&s->ft);
}

/* The one active finding on the listener; it must be the only one. */
static const struct finding_entry *the_finding(const struct verdict_scen *s)
{
	size_t i;

	cr_assert_eq(findings_active(&s->ft), 1, "expected one active finding, got %zu",
		     findings_active(&s->ft));
	for (i = 0; i < s->ft.count; i++)
		if (s->ft.items[i].state == FINDING_ACTIVE)
			return &s->ft.items[i];
	return NULL;
}

static int64_t extra(const struct finding *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n_extra; i++)
		if (strcmp(f->extra[i].name, name) == 0)
			return f->extra[i].value;
	return -2;
}

static bool says(const struct finding *f, const char *what)
{
	static struct finding_words w;

	finding_words(f, &w);
	return strstr(w.message, what) != NULL;
}

static unsigned events_of(const struct verdict_scen *s, enum finding_event ev)
{
	unsigned i, n = 0;

	for (i = 0; i < s->n; i++)
		if (s->event[i] == ev)
			n++;
	return n;
}

/* A burst of connects fills the small queue each interval, and the application drains it between. */
static void bursty(struct verdict_scen *s, int ticks)
{
	for (int i = 0; i < ticks; i++) {
		cr_assert_eq(tick(s, 1, 6, 4, 0), 1, "tick %d", i);
		cr_assert_eq(the_finding(s)->f.cause, CAUSE_BACKLOG_SMALL, "tick %d", i);
	}
}

Test(verdict, a_draining_queue_that_overflows_is_backlog_small_only)
{
	struct verdict_scen s;

	scen_init(&s, 5, 0);
	tick(&s, 0, 0, 0, 0);
	/* Full at every tick for 20 s, but the fast samples see it drain every time. */
	bursty(&s, 40);
	cr_assert_eq(s.n, 1, "one opening, nothing else");
	cr_assert_eq(s.event[0], FINDING_EVENT_OPENED);
	cr_assert_eq(the_finding(&s)->revised_from, CAUSE_NONE);
	cr_assert_eq(extra(&the_finding(&s)->f, "stall_ms"), -2, "no stall told");
	scen_free(&s);
}

Test(verdict, a_queue_that_stops_draining_revises_backlog_small_to_slow_accept)
{
	struct verdict_scen s;
	const struct finding_entry *e;
	int64_t opened_at;
	int i;

	scen_init(&s, 5, 0);
	tick(&s, 0, 0, 0, 0);
	bursty(&s, 6);
	opened_at = the_finding(&s)->first_seen;
	/* The application stops accepting: full at every sample, no dip, SYNs still dropped. */
	for (i = 0; i < 2; i++) {
		cr_assert_eq(tick(&s, 0, 6, 3, 0), 1);
		cr_assert_eq(the_finding(&s)->f.cause, CAUSE_BACKLOG_SMALL, "%d ms is no stall yet",
			     (i + 1) * TICK_MS);
	}
	/* 1.5 s full with no drain since the last burst's tick: a stall. */
	cr_assert_eq(tick(&s, 0, 6, 3, 0), 1, "never both active");
	e = the_finding(&s);
	cr_assert_eq(e->f.cause, CAUSE_SLOW_ACCEPT);
	cr_assert_eq(e->revised_from, CAUSE_BACKLOG_SMALL);
	cr_assert_eq(e->first_seen, opened_at, "the same episode");
	cr_assert_eq(s.n, 2);
	cr_assert_eq(s.event[1], FINDING_EVENT_REVISED);
	cr_assert_eq(s.cause[1], CAUSE_SLOW_ACCEPT);
	cr_assert_eq(s.revised_from[1], CAUSE_BACKLOG_SMALL);
	cr_assert_eq(extra(&e->f, "stall_ms"), 1500);
	cr_assert(says(&e->f, "the application stalled: the queue has stayed full for 1.5 s without draining"));

	/* Arrivals stop, the queue stays full: still the application, the stall grows, no new event. */
	for (i = 0; i < 4; i++)
		cr_assert_eq(tick(&s, 0, 6, 0, 0), 1);
	e = the_finding(&s);
	cr_assert_eq(e->f.cause, CAUSE_SLOW_ACCEPT);
	cr_assert_eq(extra(&e->f, "stall_ms"), 3500);
	cr_assert(says(&e->f, "does not drain"));
	cr_assert_eq(s.n, 2, "one revision, nothing more");
	cr_assert_eq(events_of(&s, FINDING_EVENT_OPENED), 1);
	scen_free(&s);
}

/* A stall's dropped SYNs come back all at once after it: that overflow is still the stall's. */
Test(verdict, the_overflow_right_after_a_stall_is_the_stall)
{
	struct verdict_scen s;
	int i;

	scen_init(&s, 5, 0);
	tick(&s, 0, 0, 0, 0);
	for (i = 0; i < 6; i++)
		tick(&s, 0, 6, 3, 0);
	cr_assert_eq(the_finding(&s)->f.cause, CAUSE_SLOW_ACCEPT);
	cr_assert_eq(s.n, 2, "backlog-small at first, revised once");
	/* Accepting again; the retried SYNs overflow it in bursts it drains. */
	for (i = 0; i < 8; i++) {
		tick(&s, 1, 6, 2, 0);
		cr_assert_eq(the_finding(&s)->f.cause, CAUSE_SLOW_ACCEPT, "tick %d after", i);
	}
	cr_assert(says(&the_finding(&s)->f, "the clients it turned away are retrying"));
	cr_assert_eq(extra(&the_finding(&s)->f, "stall_ms"), 2500);
	cr_assert_eq(s.n, 2);
	/* Long after it, bursts are the backlog's again: one more revision. */
	for (i = 0; i < 12; i++)
		tick(&s, 1, 6, 2, 0);
	cr_assert_eq(the_finding(&s)->f.cause, CAUSE_BACKLOG_SMALL);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(s.revised_from[2], CAUSE_SLOW_ACCEPT);
	scen_free(&s);
}

/* 5 of 5 is full: a queue that sits exactly at its limit is no drain, and its run is not reset. */
Test(verdict, a_queue_sampled_at_its_limit_counts_as_full)
{
	struct verdict_scen s;
	int i;

	scen_init(&s, 5, 0);
	tick(&s, 0, 0, 0, 0);
	for (i = 0; i < 4; i++)
		tick(&s, i % 2 ? 5 : 0, i % 2 ? 5 : 6, 2, 0);
	cr_assert_eq(the_finding(&s)->f.cause, CAUSE_SLOW_ACCEPT,
		     "5 of 5 between 6 of 5 must not break the run");
	cr_assert_eq(extra(&the_finding(&s)->f, "stall_ms"), 1500);
	scen_free(&s);

	/* The look-alike: 4 of 5 between them is a drain. */
	scen_init(&s, 5, 0);
	tick(&s, 0, 0, 0, 0);
	for (i = 0; i < 8; i++)
		tick(&s, i % 2 ? 4 : 0, i % 2 ? 4 : 6, 2, 0);
	cr_assert_eq(the_finding(&s)->f.cause, CAUSE_BACKLOG_SMALL);
	scen_free(&s);
}

/* With abort_on_overflow=1 most overflows are still dropped SYNs: say how many of each. */
Test(verdict, abort_on_overflow_says_resets_and_dropped_syns_in_proportion)
{
	struct verdict_scen s;
	const struct finding *f;

	scen_init(&s, 5, 1);
	tick(&s, 0, 0, 0, 0);
	cr_assert_eq(tick(&s, 1, 6, 10, 3), 1);
	f = &the_finding(&s)->f;
	cr_assert_eq(f->cause, CAUSE_OVERFLOW_RESET);
	cr_assert_eq(f->underlying, CAUSE_BACKLOG_SMALL);
	cr_assert_eq(extra(f, "overflow_resets"), 3);
	cr_assert_eq(extra(f, "overflow_syn_drops"), 7);
	cr_assert(says(f, "of 10 overflows"));
	cr_assert(says(f, "3 got ECONNRESET at once (TcpExt.EmbryonicRsts)"));
	cr_assert(says(f, "7 were dropped SYNs"));
	cr_assert_not(says(f, "clients got ECONNRESET at once"));
	scen_free(&s);

	/* More resets than overflows (other embryonic resets): never more resets than overflows. */
	scen_init(&s, 5, 1);
	tick(&s, 0, 0, 0, 0);
	tick(&s, 1, 6, 4, 9);
	f = &the_finding(&s)->f;
	cr_assert_eq(extra(f, "overflow_resets"), 4);
	cr_assert_eq(extra(f, "overflow_syn_drops"), 0);
	scen_free(&s);

	/* EmbryonicRsts not read: no numbers made up. */
	scen_init(&s, 5, 1);
	s.embryonic_rsts = -1;
	tick(&s, 0, 0, 0, 0);
	tick(&s, 1, 6, 10, 0);
	f = &the_finding(&s)->f;
	cr_assert_eq(extra(f, "overflow_resets"), -1);
	cr_assert(says(f, "could not be read"));
	cr_assert_not(says(f, "of 10 overflows"));
	scen_free(&s);

	/* abort_on_overflow=0: no reset is claimed at all. */
	scen_init(&s, 5, 0);
	tick(&s, 0, 0, 0, 0);
	tick(&s, 1, 6, 10, 3);
	f = &the_finding(&s)->f;
	cr_assert_eq(f->cause, CAUSE_BACKLOG_SMALL);
	cr_assert_not(says(f, "ECONNRESET"));
	cr_assert_eq(extra(f, "overflow_resets"), -2);
	scen_free(&s);
}

/* A full queue that never overflowed turned nobody away: no finding, however long. */
Test(verdict, a_full_queue_without_drops_is_no_stall)
{
	struct verdict_scen s;
	int i;

	scen_init(&s, 5, 0);
	tick(&s, 0, 0, 0, 0);
	for (i = 0; i < 20; i++)
		cr_assert_eq(tick(&s, 0, 5, 0, 0), 0);
	cr_assert_eq(s.n, 0);
	scen_free(&s);
}

/* The revision as every consumer says it: the journal's MESSAGE, the findings JSON and backlogctl findings. */
Test(verdict, a_revision_is_said_in_the_journal_json_and_table)
{
	struct verdict_scen s;
	const struct finding_entry *e;
	char message[8192];
	char *table = NULL;
	size_t table_len = 0;
	json_t *doc, *je;
	FILE *out;
	int i;

	scen_init(&s, 5, 0);
	tick(&s, 0, 0, 0, 0);
	bursty(&s, 2);
	for (i = 0; i < 4; i++)
		tick(&s, 0, 6, 3, 0);
	e = the_finding(&s);
	cr_assert_eq(e->f.cause, CAUSE_SLOW_ACCEPT);

	alert_message(e, FINDING_EVENT_REVISED, message, sizeof(message));
	cr_assert(strstr(message, "slow-accept on 127.0.0.1:8080 (revised from backlog-small): ") == message,
		  "%s", message);
	cr_assert(strstr(message, "stayed full for"), "the record says why: %s", message);
	alert_message(e, FINDING_EVENT_OPENED, message, sizeof(message));
	cr_assert_null(strstr(message, "revised"), "%s", message);

	doc = report_findings(&s.ft);
	cr_assert_eq(json_array_size(doc), 1);
	je = json_array_get(doc, 0);
	cr_assert_str_eq(json_string_value(json_object_get(je, "cause")), "slow-accept");
	cr_assert_str_eq(json_string_value(json_object_get(je, "revised_from")), "backlog-small");
	cr_assert_eq(json_integer_value(json_object_get(je, "revised_at")), e->revised_at);
	cr_assert_eq(json_integer_value(json_object_get(je, "first_seen")), e->first_seen);

	out = open_memstream(&table, &table_len);
	cr_assert_not_null(out);
	render_findings(out, doc);
	cr_assert_eq(fclose(out), 0);
	cr_assert(strstr(table, "revised from backlog-small at "), "%s", table);
	cr_assert_eq(strstr(table, "backlog-small"), strstr(table, "revised from backlog-small") + 13,
		     "backlog-small named only as what it was: %s", table);
	free(table);
	json_decref(doc);
	scen_free(&s);
}

/* The holder's state is evidence: blocked in the kernel (D) is said; it alone is no stall. */
Test(verdict, a_stalled_owner_in_state_d_is_said)
{
	struct verdict_scen s;
	int i;

	scen_init(&s, 5, 0);
	tick(&s, 0, 0, 0, 0);
	for (i = 0; i < 3; i++)
		tick(&s, 0, 6, 3, 0);
	cr_assert_not(says(&the_finding(&s)->f, "state D"), "the owner's state was not read");
	s.owner_state = 'D';
	tick(&s, 0, 6, 3, 0);
	cr_assert_eq(the_finding(&s)->f.cause, CAUSE_SLOW_ACCEPT);
	cr_assert(says(&the_finding(&s)->f, "uninterruptible sleep, state D"));
	scen_free(&s);

	/* D at a tick that is no stall: backlog-small, nothing said of it. */
	scen_init(&s, 5, 0);
	tick(&s, 0, 0, 0, 0);
	s.owner_state = 'D';
	tick(&s, 0, 6, 3, 0);
	cr_assert_eq(the_finding(&s)->f.cause, CAUSE_BACKLOG_SMALL);
	cr_assert_not(says(&the_finding(&s)->f, "state D"));
	scen_free(&s);
}
