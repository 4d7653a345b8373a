/* test_diagnose.c: every rule of the cause catalogue fires when it should, stays silent when it should not, and the causal chain holds. */
#include "base.h"

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>

#include "diagnose.h"
#include "finding_text.h"
#include "track.h"
#include "tick_fixture.h"
#include "owner_fixture.h"

/*
 * A scenario: one listener on 127.0.0.1:8080 driven tick by tick through
 * track_tick, as the monitor would, with the host's ListenOverflows total.
 */
struct scen {
	struct track t;
	struct finding_list out;
	struct diag_thresholds thr;
	struct limits lim;
	struct listener l;
	int64_t overflows;          /* TcpExt.ListenOverflows total; -1: counter not read */
	int64_t now_ms;
	char owner_state;           /* the owner's state letter the monitor reads while drops move; 0 unknown */
};

static void scen_init(struct scen *s, uint32_t backlog, int64_t somaxconn, int64_t abort_on_overflow)
{
	memset(s, 0, sizeof(*s));
	track_init(&s->t);
	finding_list_init(&s->out);
	diag_thresholds_default(&s->thr);
	s->lim.somaxconn = somaxconn;
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
	s->now_ms = 1000000;
}

static void scen_free(struct scen *s)
{
	track_free(&s->t);
	finding_list_free(&s->out);
}

static void set_owner(struct scen *s, const char *comm, int pid, const char *unit, unsigned total)
{
	struct tracked *tr = track_find(&s->t, s->l.cookie);

	cr_assert_not_null(tr, "tick once before setting the owner");
	memset(owner_mut(tr), 0, sizeof(struct owner));
	owner_mut(tr)->nprocs = total < OWNER_MAX_PROCS ? total : OWNER_MAX_PROCS;
	owner_mut(tr)->nprocs_total = total;
	owner_mut(tr)->procs[0].pid = pid;
	snprintf(owner_mut(tr)->procs[0].comm, sizeof(owner_mut(tr)->procs[0].comm), "%s", comm);
	snprintf(owner_mut(tr)->unit, sizeof(owner_mut(tr)->unit), "%s", unit);
}

/*
 * One tick: the listener shows queue and drops_add more drops, the host's
 * ListenOverflows grows by overflows_add. Return: the number of findings.
 */
static size_t tick(struct scen *s, uint32_t queue, uint32_t drops_add, int64_t overflows_add)
{
	struct tick_sample sample = { 0 };
	struct counter c;
	struct counters host;
	struct listener_set set;

	s->l.queue = queue;
	s->l.drops += drops_add;
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "TcpExt.ListenOverflows");
	if (s->overflows >= 0)
		s->overflows += overflows_add;
	c.value = s->overflows;
	memset(&host, 0, sizeof(host));
	host.items = &c;
	host.count = s->overflows >= 0 ? 1 : 0;
	host.cap = 1;
	memset(&set, 0, sizeof(set));
	set.items = &s->l;
	set.count = 1;
	set.cap = 1;
	s->now_ms += 1000;
	sample.listeners = &set;
	sample.counters = &host;
	sample.limits = &s->lim;
	sample.owner_states = s->owner_state ? &s->owner_state : NULL;
	cr_assert_eq(track_tick(&s->t, &sample, s->now_ms), 0);
	cr_assert_eq(diagnose(&s->t, &s->thr, &s->out), 0);
	return s->out.count;
}

static const struct finding *only(const struct scen *s)
{
	cr_assert_eq(s->out.count, 1, "expected one finding, got %zu", s->out.count);
	return &s->out.items[0];
}

/*
 * What a reader sees of f: its words as finding_words() composes them for
 * every consumer. A few are kept at once, so one assertion may name two.
 */
static const struct finding_words *words(const struct finding *f)
{
	static struct finding_words ring[4];
	static unsigned next;
	struct finding_words *w = &ring[next++ % ARRAY_SIZE(ring)];

	finding_words(f, w);
	return w;
}

static bool has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* How many times needle occurs in hay. */
static unsigned occurrences(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (hay = strstr(hay, needle); hay; hay = strstr(hay + 1, needle))
		n++;
	return n;
}

/* ---- silent when it should be ---- */

Test(silent, drops_without_full_queue_or_host_overflows)
{
	struct scen s;
	int i;

	/* TCP_DEFER_ACCEPT and the like move sk_drops with room in the queue. */
	scen_init(&s, 128, 4096, 0);
	tick(&s, 0, 0, 0);
	for (i = 0; i < 10; i++)
		cr_assert_eq(tick(&s, 3, 7, 0), 0, "tick %d", i);
	scen_free(&s);
}

Test(silent, busy_healthy_listener)
{
	struct scen s;
	int i;

	/* Queue just below the backlog (not full), no drops. */
	scen_init(&s, 128, 4096, 0);
	for (i = 0; i < 20; i++)
		cr_assert_eq(tick(&s, 127, 0, 0), 0);
	/* Below the backlog with non-overflow drops: still not full. */
	for (i = 0; i < 5; i++)
		cr_assert_eq(tick(&s, 127, 2, 0), 0);
	scen_free(&s);
}

Test(silent, full_queue_without_drops)
{
	struct scen s;
	int i;

	/* Full for a long time, but nothing dropped yet: no client was hurt. */
	scen_init(&s, 2, 4096, 0);
	for (i = 0; i < 10; i++)
		cr_assert_eq(tick(&s, 3, 0, 5), 0);
	scen_free(&s);
}

Test(silent, first_sight_of_a_dropping_listener)
{
	struct scen s;

	/* Drops before we started watching are history, not this tick. */
	scen_init(&s, 2, 4096, 0);
	s.l.drops = 5000;
	cr_assert_eq(tick(&s, 3, 0, 0), 0);
	scen_free(&s);
}

Test(silent, full_seen_only_outside_the_window)
{
	struct scen s;

	scen_init(&s, 2, 4096, 0);
	tick(&s, 0, 0, 0);
	tick(&s, 3, 0, 0);              /* full, no drop yet */
	tick(&s, 0, 0, 0);
	tick(&s, 0, 0, 0);
	/* The full point is now 3 ticks ago: outside full_window_ticks 3 (0, 1, 2). */
	cr_assert_eq(tick(&s, 0, 4, 0), 0);
	scen_free(&s);
}

Test(silent, unknown_host_counter_is_no_overflow)
{
	struct scen s;

	scen_init(&s, 128, 4096, 0);
	s.overflows = -1;
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 1, 9, 0), 0);
	scen_free(&s);
}

Test(silent, stopped_owner_not_dropping)
{
	struct scen s;

	scen_init(&s, 128, 4096, 0);
	tick(&s, 0, 0, 0);
	set_owner(&s, "nginx", 812, "nginx.service", 1);
	s.owner_state = 'T';
	cr_assert_eq(tick(&s, 4, 0, 0), 0);
	scen_free(&s);
}

/* ---- the overflow test itself ---- */

Test(overflow, full_within_window_counts)
{
	struct scen s;

	scen_init(&s, 2, 4096, 0);
	tick(&s, 0, 0, 0);
	tick(&s, 3, 0, 0);              /* full */
	tick(&s, 0, 0, 0);
	/* Full 2 ticks ago, drops now, host counter silent (it was not read between). */
	cr_assert_eq(tick(&s, 0, 4, 0), 1);
	cr_assert_eq(only(&s)->cause, CAUSE_BACKLOG_SMALL);
	cr_assert_eq(only(&s)->ev.host_overflows, 0);
	scen_free(&s);
}

Test(overflow, host_counter_counts_without_seen_full)
{
	struct scen s;

	/* The queue filled and drained between two polls: only the counter saw it. */
	scen_init(&s, 64, 4096, 0);
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 5, 3, 3), 1);
	cr_assert_eq(only(&s)->cause, CAUSE_BACKLOG_SMALL);
	cr_assert_eq(only(&s)->ev.host_overflows, 3);
	scen_free(&s);
}

Test(overflow, window_is_configurable)
{
	struct scen s;

	scen_init(&s, 2, 4096, 0);
	s.thr.full_window_ticks = 1;
	tick(&s, 0, 0, 0);
	tick(&s, 3, 0, 0);
	cr_assert_eq(tick(&s, 0, 4, 0), 0, "window 1: only the current tick");
	cr_assert_eq(tick(&s, 3, 4, 0), 1);
	scen_free(&s);
}

/* ---- classification ---- */

Test(classify, backlog_small)
{
	struct scen s;
	const struct finding *f;

	scen_init(&s, 2, 4096, 0);
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 3, 5, 5), 1);
	f = only(&s);
	cr_assert_eq(f->cause, CAUSE_BACKLOG_SMALL);
	cr_assert_eq(f->underlying, CAUSE_BACKLOG_SMALL);
	cr_assert_eq(f->priority, LOG_WARNING);
	cr_assert_str_eq(f->knob, "listen() backlog");
	cr_assert_eq(f->knob_current, 2);
	cr_assert_geq(f->knob_suggested, 128);
	cr_assert_leq(f->knob_suggested, 4096);
	cr_assert_eq(f->knob_suggested & (f->knob_suggested - 1), 0, "a power of two");
	cr_assert(has(words(f)->remedy, "from 2 to at least 128"), "%s", words(f)->remedy);
	cr_assert(has(words(f)->remedy, "Java ServerSocket 50"));
	cr_assert(has(words(f)->remedy, "Tomcat acceptCount 100"));
	cr_assert(has(words(f)->remedy, "nginx/Node.js/Redis 511"));
	cr_assert(has(words(f)->remedy, "net.core.somaxconn=4096"), "%s", words(f)->remedy);
	cr_assert(has(words(f)->message, "127.0.0.1:8080"));
	cr_assert(has(words(f)->message, "5 drops"), "%s", words(f)->message);
	cr_assert(has(words(f)->message, "backlog 2"));
	scen_free(&s);
}

Test(classify, backlog_small_suggestion_scales_with_peak_and_is_capped)
{
	struct scen s;

	/* peak 101 -> 4 * 101 = 404 -> 512 */
	scen_init(&s, 100, 4096, 0);
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 101, 1, 1), 1);
	cr_assert_eq(only(&s)->knob_suggested, 512);
	scen_free(&s);

	/* The same burst with somaxconn 300: no more than the cap allows. */
	scen_init(&s, 100, 300, 0);
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 101, 1, 1), 1);
	cr_assert_eq(only(&s)->cause, CAUSE_BACKLOG_SMALL);
	cr_assert_eq(only(&s)->knob_suggested, 300);
	scen_free(&s);

	/* Never suggests less than what is in force. */
	scen_init(&s, 200, 4096, 0);
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 10, 1, 1), 1);
	cr_assert_gt(only(&s)->knob_suggested, 200);
	scen_free(&s);
}

Test(classify, backlog_clamped)
{
	struct scen s;
	const struct finding *f;

	scen_init(&s, 8, 8, 0);
	tick(&s, 0, 0, 0);
	set_owner(&s, "nginx", 812, "nginx.service", 1);
	cr_assert_eq(tick(&s, 9, 2, 2), 1);
	f = only(&s);
	cr_assert_eq(f->cause, CAUSE_BACKLOG_CLAMPED);
	cr_assert_eq(f->underlying, CAUSE_BACKLOG_CLAMPED);
	cr_assert_eq(f->priority, LOG_WARNING);
	cr_assert_str_eq(f->knob, "net.core.somaxconn");
	cr_assert_eq(f->knob_current, 8);
	cr_assert_eq(f->knob_suggested, 4096);
	cr_assert(has(words(f)->remedy, "net.core.somaxconn=8"), "%s", words(f)->remedy);
	cr_assert(has(words(f)->remedy, "from 8 to 4096"));
	cr_assert(has(words(f)->remedy, "sysctl -w net.core.somaxconn=4096"));
	cr_assert(has(words(f)->remedy, "/etc/sysctl.d/"));
	cr_assert(has(words(f)->remedy, "restart nginx.service"), "%s", words(f)->remedy);
	cr_assert(has(words(f)->message, "net.core.somaxconn=8"), "%s", words(f)->message);
	scen_free(&s);
}

Test(classify, backlog_clamped_suggestions)
{
	struct scen s;

	scen_init(&s, 4096, 4096, 0);
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 4097, 1, 1), 1);
	cr_assert_eq(only(&s)->cause, CAUSE_BACKLOG_CLAMPED);
	cr_assert_eq(only(&s)->knob_suggested, 8192);
	scen_free(&s);

	scen_init(&s, 40000, 40000, 0);
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 40001, 1, 1), 1);
	cr_assert_eq(only(&s)->knob_suggested, 65535, "capped at 65535");
	scen_free(&s);

	/* Already at the cap: no bigger number to offer, point at accept(). */
	scen_init(&s, 65535, 65535, 0);
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 65536, 1, 1), 1);
	cr_assert_eq(only(&s)->cause, CAUSE_BACKLOG_CLAMPED);
	cr_assert_eq(only(&s)->knob_suggested, -1);
	cr_assert(has(words(only(&s))->remedy, "net.core.somaxconn=65535"));
	cr_assert(has(words(only(&s))->remedy, "accept()"));
	scen_free(&s);
}

Test(classify, unknown_somaxconn_is_never_clamped)
{
	struct scen s;
	const struct finding *f;

	scen_init(&s, 4096, SYSCTL_UNKNOWN, 0);
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 4097, 3, 3), 1);
	f = only(&s);
	cr_assert_eq(f->cause, CAUSE_BACKLOG_SMALL);
	cr_assert_eq(f->ev.somaxconn, SYSCTL_UNKNOWN);
	cr_assert(has(words(f)->remedy, "could not be read"), "%s", words(f)->remedy);
	cr_assert_not(has(words(f)->remedy, "net.core.somaxconn=-1"));
	scen_free(&s);

	/* Backlog 8 with somaxconn unknown: still not clamped. */
	scen_init(&s, 8, SYSCTL_UNKNOWN, 0);
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 9, 3, 3), 1);
	cr_assert_eq(only(&s)->cause, CAUSE_BACKLOG_SMALL);
	scen_free(&s);
}

Test(classify, slow_accept_when_the_queue_stays_full)
{
	struct scen s;
	const struct finding *f;
	int i;

	scen_init(&s, 16, 4096, 0);
	tick(&s, 0, 0, 0);
	set_owner(&s, "java", 3100, "app.service", 1);
	/* Full at one tick, then the next: not yet a stall (1 s < STALL_MIN_MS). */
	for (i = 1; i <= 2; i++) {
		cr_assert_eq(tick(&s, 17, 2, 2), 1);
		cr_assert_eq(only(&s)->cause, CAUSE_BACKLOG_SMALL, "full for %d ticks", i);
	}
	/* Full at every sample for 2 s, never drained: the application is not accepting. */
	cr_assert_eq(tick(&s, 17, 2, 2), 1);
	f = only(&s);
	cr_assert_eq(f->cause, CAUSE_SLOW_ACCEPT);
	cr_assert_eq(f->underlying, CAUSE_SLOW_ACCEPT);
	cr_assert_eq(f->priority, LOG_ERR);
	cr_assert_eq(f->ev.ticks_full, 3);
	cr_assert_str_eq(f->knob, "accept loop");
	cr_assert(has(words(f)->message, "stayed full for 2.0 s without draining"), "%s", words(f)->message);
	cr_assert(has(words(f)->remedy, "java[3100] is not calling accept() fast enough"), "%s", words(f)->remedy);
	cr_assert(has(words(f)->remedy, "raising the backlog only delays the drops"));
	cr_assert(has(words(f)->remedy, "(no accept() for 2.0 s"), "%s", words(f)->remedy);
	cr_assert_not(has(words(f)->remedy, "stopped"));

	/* Drained, and long after (past the stall's echo) full again: counts from 1. */
	for (i = 0; i < 10; i++)
		cr_assert_eq(tick(&s, 0, 0, 0), 0);
	cr_assert_eq(tick(&s, 17, 1, 1), 1);
	cr_assert_eq(only(&s)->cause, CAUSE_BACKLOG_SMALL);
	scen_free(&s);
}

Test(classify, slow_accept_beats_clamped)
{
	struct scen s;
	int i;

	scen_init(&s, 8, 8, 0);
	tick(&s, 0, 0, 0);
	for (i = 0; i < 2; i++) {
		cr_assert_eq(tick(&s, 9, 1, 1), 1);
		cr_assert_eq(only(&s)->cause, CAUSE_BACKLOG_CLAMPED);
	}
	cr_assert_eq(tick(&s, 9, 1, 1), 1);
	cr_assert_eq(only(&s)->cause, CAUSE_SLOW_ACCEPT);
	scen_free(&s);
}

Test(classify, stopped_owner_is_slow_accept_at_once)
{
	struct scen s;
	const struct finding *f;

	scen_init(&s, 8, 8, 0);
	tick(&s, 0, 0, 0);
	set_owner(&s, "nginx", 812, "nginx.service", 1);
	/* Would be clamped, but the owner is stopped (SIGSTOP, a debugger). */
	s.owner_state = 'T';
	cr_assert_eq(tick(&s, 9, 1, 1), 1);
	f = only(&s);
	cr_assert_eq(f->cause, CAUSE_SLOW_ACCEPT);
	cr_assert_eq(f->ev.ticks_full, 1);
	cr_assert_eq(f->ev.owner_state, 'T');
	cr_assert(has(words(f)->remedy, "nginx[812]"));
	cr_assert(has(words(f)->remedy, "state T"), "%s", words(f)->remedy);
	cr_assert(has(words(f)->remedy, "queue full for 1 tick;"), "%s", words(f)->remedy);
	cr_assert(has(words(f)->message, "stopped"), "%s", words(f)->message);
	scen_free(&s);

	/* 't': stopped by a tracer. */
	scen_init(&s, 128, 4096, 0);
	tick(&s, 0, 0, 0);
	s.owner_state = 't';
	cr_assert_eq(tick(&s, 129, 1, 1), 1);
	cr_assert_eq(only(&s)->cause, CAUSE_SLOW_ACCEPT);
	cr_assert(has(words(only(&s))->remedy, "the application behind 127.0.0.1:8080"), "%s",
		  words(only(&s))->remedy);
	scen_free(&s);

	/* A sleeping owner ('S') is the normal case: classified by the queue. */
	scen_init(&s, 2, 4096, 0);
	tick(&s, 0, 0, 0);
	s.owner_state = 'S';
	cr_assert_eq(tick(&s, 3, 1, 1), 1);
	cr_assert_eq(only(&s)->cause, CAUSE_BACKLOG_SMALL);
	scen_free(&s);
}

/* ---- tcp_abort_on_overflow ---- */

Test(abort, overflow_reset_keeps_the_underlying_cause)
{
	struct scen s;
	const struct finding *f;

	scen_init(&s, 2, 4096, 1);
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 3, 4, 4), 1);
	f = only(&s);
	cr_assert_eq(f->cause, CAUSE_OVERFLOW_RESET);
	cr_assert_eq(f->underlying, CAUSE_BACKLOG_SMALL);
	cr_assert_eq(f->priority, LOG_ERR);
	cr_assert_str_eq(f->knob, "net.ipv4.tcp_abort_on_overflow");
	cr_assert_eq(f->knob_current, 1);
	cr_assert_eq(f->knob_suggested, 0);
	cr_assert_eq(f->ev.abort_on_overflow, 1);
	cr_assert(has(words(f)->message, "ECONNRESET"), "%s", words(f)->message);
	cr_assert_not(has(words(f)->message, "stalled"));
	cr_assert(has(words(f)->remedy, "sysctl -w net.ipv4.tcp_abort_on_overflow=0"), "%s", words(f)->remedy);
	cr_assert(has(words(f)->remedy, "fix the overflow: raise the application's listen() backlog"),
		  "%s", words(f)->remedy);
	scen_free(&s);

	scen_init(&s, 8, 8, 1);
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 9, 1, 1), 1);
	cr_assert_eq(only(&s)->cause, CAUSE_OVERFLOW_RESET);
	cr_assert_eq(only(&s)->underlying, CAUSE_BACKLOG_CLAMPED);
	cr_assert(has(words(only(&s))->remedy, "net.core.somaxconn=8"));
	scen_free(&s);

	scen_init(&s, 128, 4096, 1);
	tick(&s, 0, 0, 0);
	s.owner_state = 'T';
	cr_assert_eq(tick(&s, 129, 1, 1), 1);
	cr_assert_eq(only(&s)->cause, CAUSE_OVERFLOW_RESET);
	cr_assert_eq(only(&s)->underlying, CAUSE_SLOW_ACCEPT);
	scen_free(&s);
}

Test(abort, econnreset_only_when_abort_is_one)
{
	struct scen s;
	const struct finding *f;

	scen_init(&s, 2, 4096, 0);
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 3, 1, 1), 1);
	f = only(&s);
	cr_assert_not(has(words(f)->message, "ECONNRESET"), "%s", words(f)->message);
	cr_assert_not(has(words(f)->message, "reset"));
	cr_assert(has(words(f)->message, "connect timeouts or stalls"));
	cr_assert(has(words(f)->message, "retransmitted after 1, 3, 7 s"));
	cr_assert(has(words(f)->message, "stalled on their first request"));
	cr_assert_eq(f->ev.abort_on_overflow, 0);
	scen_free(&s);

	/* Unknown: both outcomes are possible, and the message says so. */
	scen_init(&s, 2, 4096, SYSCTL_UNKNOWN);
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 3, 1, 1), 1);
	f = only(&s);
	cr_assert_eq(f->cause, CAUSE_BACKLOG_SMALL, "unknown abort is no overflow-reset");
	cr_assert_not(has(words(f)->message, "ECONNRESET"), "%s", words(f)->message);
	cr_assert(has(words(f)->message, "timeouts"));
	cr_assert(has(words(f)->message, "immediate resets"));
	cr_assert(has(words(f)->message, "could not be read"));
	cr_assert_eq(f->ev.abort_on_overflow, SYSCTL_UNKNOWN);
	scen_free(&s);
}

/* ---- identity, evidence, texts ---- */

Test(finding, subject_names_listener_process_and_unit)
{
	struct scen s;
	const struct finding *f;

	scen_init(&s, 2, 4096, 0);
	tick(&s, 0, 0, 0);
	set_owner(&s, "nginx", 812, "nginx.service", 1);
	cr_assert_eq(tick(&s, 3, 1, 1), 1);
	f = only(&s);
	cr_assert_str_eq(f->listener, "127.0.0.1:8080");
	cr_assert_str_eq(f->subject, "127.0.0.1:8080 nginx[812] nginx.service");
	cr_assert_eq(f->pid, 812);
	cr_assert_str_eq(f->comm, "nginx");
	cr_assert_str_eq(f->unit, "nginx.service");
	cr_assert_eq(f->cookie, 0xabc);
	cr_assert_eq(f->inode, 4242);
	scen_free(&s);

	/* A pre-fork server: several processes share the socket. */
	scen_init(&s, 2, 4096, 0);
	tick(&s, 0, 0, 0);
	set_owner(&s, "nginx", 812, "nginx.service", 4);
	cr_assert_eq(tick(&s, 3, 1, 1), 1);
	cr_assert_str_eq(only(&s)->subject, "127.0.0.1:8080 nginx[812] +3 more nginx.service");
	scen_free(&s);

	/* No unit (not under systemd). */
	scen_init(&s, 2, 4096, 0);
	tick(&s, 0, 0, 0);
	set_owner(&s, "redis-server", 77, "", 1);
	cr_assert_eq(tick(&s, 3, 1, 1), 1);
	cr_assert_str_eq(only(&s)->subject, "127.0.0.1:8080 redis-server[77]");
	scen_free(&s);

	/* Owner unknown (another user's socket without privileges). */
	scen_init(&s, 2, 4096, 0);
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 3, 1, 1), 1);
	f = only(&s);
	cr_assert_str_eq(f->subject, "127.0.0.1:8080");
	cr_assert_eq(f->pid, 0);
	cr_assert_str_eq(f->comm, "");
	cr_assert_str_eq(f->unit, "");
	scen_free(&s);
}

Test(finding, ipv6_listener_name)
{
	struct scen s;

	scen_init(&s, 2, 4096, 0);
	s.l.family = AF_INET6;
	memset(s.l.addr, 0, sizeof(s.l.addr));
	s.l.addr[15] = 1;
	s.l.port = 443;
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 3, 1, 1), 1);
	cr_assert_str_eq(only(&s)->listener, "[::1]:443");
	cr_assert(has(words(only(&s))->message, "[::1]:443"));
	scen_free(&s);
}

Test(finding, evidence_holds_the_numbers)
{
	struct scen s;
	const struct finding_evidence *ev;

	scen_init(&s, 2, 4096, 0);
	tick(&s, 0, 0, 0);
	tick(&s, 3, 4, 4);
	s.owner_state = 'S';
	cr_assert_eq(tick(&s, 3, 6, 5), 1);
	ev = &only(&s)->ev;
	cr_assert_eq(ev->drops_delta, 6);
	cr_assert_eq(ev->drops_total, 10);
	cr_assert_eq(ev->queue, 3);
	cr_assert_eq(ev->backlog, 2);
	cr_assert_eq(ev->peak_queue, 3);
	cr_assert_eq(ev->ticks_full, 2);
	cr_assert_eq(ev->somaxconn, 4096);
	cr_assert_eq(ev->abort_on_overflow, 0);
	cr_assert_eq(ev->host_overflows, 5);
	cr_assert_eq(ev->owner_state, 'S');
	scen_free(&s);

	/* First tick after start: no host delta yet, -1. */
	scen_init(&s, 2, 4096, 0);
	s.l.drops = 0;
	cr_assert_eq(tick(&s, 3, 0, 0), 0);
	scen_free(&s);
}

Test(finding, long_owner_strings_are_cut_not_overrun)
{
	struct scen s;
	const struct finding *f;
	char unit[OWNER_UNIT_MAX];
	struct tracked *tr;

	memset(unit, 'u', sizeof(unit) - 1);
	unit[sizeof(unit) - 1] = '\0';
	scen_init(&s, 2, 4096, 1);
	tick(&s, 0, 0, 0);
	set_owner(&s, "abcdefghijklmno", 2147483647, unit, 4000000000u);
	/* A comm that fills its array with no NUL must not be read past. */
	tr = track_find(&s.t, s.l.cookie);
	memset(owner_mut(tr)->procs[0].comm, 'c', sizeof(owner_mut(tr)->procs[0].comm));
	memset(owner_mut(tr)->unit, 'u', sizeof(owner_mut(tr)->unit));
	cr_assert_eq(tick(&s, 3, 1, 1), 1);
	f = only(&s);
	cr_assert_lt(strlen(f->subject), sizeof(f->subject));
	cr_assert_lt(strlen(words(f)->message), sizeof(words(f)->message));
	cr_assert_lt(strlen(words(f)->remedy), sizeof(words(f)->remedy));
	cr_assert_eq(strlen(f->comm), sizeof(f->comm) - 1);
	cr_assert_eq(strlen(f->unit), sizeof(f->unit) - 1);
	cr_assert(has(f->subject, "127.0.0.1:8080 ccccccccccccccc[2147483647]"));
	scen_free(&s);
}

Test(finding, messages_are_one_sentence)
{
	struct scen s;
	const struct finding *f;

	scen_init(&s, 8, 8, 0);
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 9, 1, 1), 1);
	f = only(&s);
	/* Dots inside addresses and sysctl names, but no sentence break. */
	cr_assert_null(strstr(words(f)->message, ". "), "%s", words(f)->message);
	cr_assert_eq(words(f)->message[strlen(words(f)->message) - 1], '.');
	cr_assert_null(strstr(words(f)->remedy, ". "), "%s", words(f)->remedy);
	scen_free(&s);
}

Test(finding, only_the_dropping_listener_fires)
{
	struct track t;
	struct finding_list out;
	struct listener l[3];
	struct listener_set set;
	struct limits lim = { .somaxconn = 4096, .tcp_max_syn_backlog = 512, .tcp_syncookies = 1,
			      .tcp_abort_on_overflow = 0 };
	int k;

	track_init(&t);
	finding_list_init(&out);
	memset(l, 0, sizeof(l));
	for (k = 0; k < 3; k++) {
		l[k].cookie = 100 + (uint64_t)k;
		l[k].family = AF_INET;
		l[k].addr[0] = 10;
		l[k].addr[3] = (uint8_t)(k + 1);
		l[k].port = 80;
		l[k].backlog = 4;
		l[k].has_drops = true;
	}
	set.items = l;
	set.count = 3;
	set.cap = 3;
	cr_assert_eq(tick_listeners(&t, &set, NULL, &lim, 1000), 0);
	l[0].queue = 4;               /* busy */
	l[1].queue = 5;               /* full and dropping */
	l[1].drops = 3;
	l[2].drops = 9;               /* dropping with room: not an overflow */
	cr_assert_eq(tick_listeners(&t, &set, NULL, &lim, 2000), 0);
	cr_assert_eq(diagnose(&t, NULL, &out), 0);
	cr_assert_eq(out.count, 1);
	cr_assert_str_eq(out.items[0].listener, "10.0.0.2:80");
	cr_assert_eq(out.items[0].ev.host_overflows, -1, "no counters read: unknown");

	/* out is cleared on every run. */
	l[1].queue = 0;
	cr_assert_eq(tick_listeners(&t, &set, NULL, &lim, 3000), 0);
	cr_assert_eq(tick_listeners(&t, &set, NULL, &lim, 4000), 0);
	cr_assert_eq(tick_listeners(&t, &set, NULL, &lim, 5000), 0);
	cr_assert_eq(diagnose(&t, NULL, &out), 0);
	cr_assert_eq(out.count, 0);

	/*
	 * Nothing tracked any more: no accept-queue finding; what is left is
	 * that the three addresses lost their listeners (listener-gap).
	 */
	set.count = 0;
	cr_assert_eq(tick_listeners(&t, &set, NULL, &lim, 6000), 0);
	cr_assert_eq(diagnose(&t, NULL, &out), 0);
	cr_assert_eq(out.count, 3);
	for (k = 0; k < 3; k++)
		cr_assert_eq(out.items[k].cause, CAUSE_LISTENER_GAP);
	finding_list_free(&out);
	track_free(&t);
}

Test(finding, zero_thresholds_fall_back_to_defaults)
{
	struct scen s;

	scen_init(&s, 2, 4096, 0);
	s.thr.slow_accept_ticks = 0;
	s.thr.full_window_ticks = 0;
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 3, 1, 0), 1);
	cr_assert_eq(only(&s)->cause, CAUSE_BACKLOG_SMALL, "not slow-accept after one tick");
	scen_free(&s);
}

/* ---- catalogue ---- */

Test(catalogue, codes_and_message_ids)
{
	/* Stable: JSON and metrics use the codes, the journal catalog is keyed by the ids. */
	static const struct { enum cause cause; const char *code, *id; } want[] = {
		{ CAUSE_BACKLOG_CLAMPED, "backlog-clamped", "f4f995886b7d4d8bb8c391bc6ad48794" },
		{ CAUSE_BACKLOG_SMALL, "backlog-small", "fabc72d41bbe4d6e9d95d63ef2a543cb" },
		{ CAUSE_SLOW_ACCEPT, "slow-accept", "00398cdd5b44430b87b6d20397ea6d1c" },
		{ CAUSE_OVERFLOW_RESET, "overflow-reset", "ead4b29ec0a141b0b326ad081e3af571" },
		{ CAUSE_SYN_QUEUE_DROP, "syn-queue-drop", "d430a915dabe4802b6d238d5887b8a65" },
		{ CAUSE_SYN_FLOOD, "syn-flood", "9ccfcc6d733c48a49f8035786d798991" },
		{ CAUSE_LISTENER_GAP, "listener-gap", "95f02181b73f4a5a94d39ccb21365212" },
		{ CAUSE_REUSEPORT_IMBALANCE, "reuseport-imbalance", "b37e6c99108147e4ae64f562fb67d02f" },
		{ CAUSE_EPHEMERAL_PORTS, "ephemeral-ports", "8ec28674a2d0405886a98c3e7f1d843b" },
		{ CAUSE_TIMEWAIT_OVERFLOW, "timewait-overflow", "7372b3c617fc47889f7127d63d3ff3b0" },
		{ CAUSE_TCP_MEMORY, "tcp-memory", "96ba42052ad34bb8bda36f51b899f3cb" },
		{ CAUSE_ORPHANS, "orphans", "0a52de87bdfe4acab7f99d6e64353dde" },
		{ CAUSE_CONNTRACK_FULL, "conntrack-full", "d506fbd99dfb4d46818101b5f5ad0517" },
		{ CAUSE_LINK_DROPS, "link-drops", "d13df3cb4f3d4a0cb074b71ad0cba1b2" },
	};
	size_t k;

	/* Every real cause once: CAUSE_NONE is not one of them. */
	cr_assert_eq(ARRAY_SIZE(want), CAUSE_COUNT - CAUSE_FIRST);
	for (k = 0; k < ARRAY_SIZE(want); k++) {
		cr_assert_str_eq(cause_code(want[k].cause), want[k].code);
		cr_assert_str_eq(cause_message_id(want[k].cause), want[k].id);
		cr_assert_eq(cause_from_code(want[k].code), want[k].cause);
	}
	cr_assert_null(cause_code(CAUSE_NONE));
	cr_assert_null(cause_message_id(CAUSE_NONE));
	cr_assert_null(cause_info(CAUSE_NONE));
	cr_assert_null(cause_code(CAUSE_COUNT));
	cr_assert_null(cause_message_id(CAUSE_COUNT));
	cr_assert_null(cause_code((enum cause)-1));
	cr_assert_eq(cause_from_code("no-such-cause"), CAUSE_NONE);
	cr_assert_eq(cause_from_code("none"), CAUSE_NONE);
	cr_assert_eq(cause_from_code(""), CAUSE_NONE);
	cr_assert_eq(cause_from_code(NULL), CAUSE_NONE);
}

/* The one table: every cause has a code, a 32-hex-digit id, a family, a severity; none repeats. */
Test(catalogue, table_is_whole_and_unique)
{
	int c, d;

	for (c = CAUSE_FIRST; c < CAUSE_COUNT; c++) {
		const struct cause_info *ci = cause_info((enum cause)c);
		size_t i;

		cr_assert_not_null(ci);
		cr_assert_not_null(ci->code);
		cr_assert_gt(strlen(ci->code), 0);
		cr_assert_eq(cause_from_code(ci->code), c, "%s round-trips", ci->code);
		cr_assert_not_null(ci->message_id);
		cr_assert_eq(strlen(ci->message_id), 32, "%s", ci->code);
		for (i = 0; i < 32; i++)
			cr_assert(isxdigit((unsigned char)ci->message_id[i]) &&
				  !isupper((unsigned char)ci->message_id[i]), "%s", ci->code);
		cr_assert_neq(ci->family, FAMILY_NONE, "%s has a family", ci->code);
		cr_assert_eq(cause_family((enum cause)c), ci->family);
		/* The syslog numbers alert hands to the journal. */
		cr_assert(ci->severity == SEVERITY_ERR || ci->severity == SEVERITY_WARNING ||
			  ci->severity == SEVERITY_NOTICE, "%s", ci->code);
		cr_assert_eq(SEVERITY_ERR, LOG_ERR);
		cr_assert_eq(SEVERITY_WARNING, LOG_WARNING);
		cr_assert_eq(SEVERITY_NOTICE, LOG_NOTICE);
		for (d = CAUSE_FIRST; d < c; d++) {
			cr_assert_str_neq(ci->code, cause_code((enum cause)d));
			cr_assert_str_neq(ci->message_id, cause_message_id((enum cause)d));
		}
	}
	cr_assert_eq(cause_family(CAUSE_NONE), FAMILY_NONE);
	/* The families of the design's catalogue. */
	cr_assert_eq(cause_family(CAUSE_OVERFLOW_RESET), FAMILY_ACCEPT_QUEUE);
	cr_assert_eq(cause_family(CAUSE_SYN_FLOOD), FAMILY_SYN);
	cr_assert_eq(cause_family(CAUSE_REUSEPORT_IMBALANCE), FAMILY_GAPS);
	cr_assert_eq(cause_family(CAUSE_LINK_DROPS), FAMILY_HOST_LIMITS);
}

Test(catalogue, scope_names)
{
	cr_assert_str_eq(scope_name(SCOPE_LISTENER), "listener");
	cr_assert_str_eq(scope_name(SCOPE_HOST), "host");
	cr_assert_str_eq(scope_name(SCOPE_INTERFACE), "interface");
	cr_assert_str_eq(scope_name(SCOPE_DESTINATION), "destination");
	cr_assert_not_null(scope_name((enum finding_scope)99), "printed by callers: never NULL");
}

Test(catalogue, default_thresholds)
{
	struct diag_thresholds thr;

	diag_thresholds_default(&thr);
	cr_assert_eq(thr.slow_accept_ticks, 2);
	cr_assert_eq(thr.full_window_ticks, 3);
	cr_assert_eq(thr.gap_memory_secs, 300);
	cr_assert_eq(thr.ephemeral_pct, 80);
	cr_assert_eq(thr.orphans_pct, 80);
	cr_assert_eq(thr.conntrack_pct, 90);
	cr_assert_eq(thr.reuseport_room_pct, 50);
}

/* ======== the catalogue beyond the accept queue ======== */

/*
 * A world: several listeners, named host counters, the host probes
 * (sockstat, conntrack, links), kernel log events and a deep sample, all
 * driven tick by tick through track_tick, as the
 * monitor does. It starts healthy; each test breaks one thing.
 */
#define W_LISTENERS 8
#define W_COUNTERS 16
#define W_EVENTS 8
#define W_SYNRECV 8

struct world {
	struct track t;
	struct finding_list out;
	struct diag_thresholds thr;
	struct limits lim;
	struct listener l[W_LISTENERS];
	size_t nl;
	struct counter c[W_COUNTERS];
	size_t nc;
	struct sockstat ss;
	struct conntrack_stat ct;
	struct link_table links;
	struct kmsg_event ev[W_EVENTS];   /* this tick's, cleared after it */
	size_t nev;
	struct deep_sample deep;
	struct synrecv_count sr[W_SYNRECV];
	bool use_deep;
	int64_t now_ms;
	uint64_t state_cookie;            /* the listener whose owner reads as state_letter ('T': stopped) */
	char state_letter;
};

static void w_counter(struct world *w, const char *name, int64_t add)
{
	size_t i;

	for (i = 0; i < w->nc; i++) {
		if (strcmp(w->c[i].name, name) == 0) {
			w->c[i].value += add;
			return;
		}
	}
	/* Kept sorted by name, as netstat_read leaves them: counters_get searches. */
	cr_assert_lt(w->nc, W_COUNTERS);
	for (i = w->nc; i > 0 && strcmp(w->c[i - 1].name, name) > 0; i--)
		w->c[i] = w->c[i - 1];
	snprintf(w->c[i].name, sizeof(w->c[0].name), "%s", name);
	w->c[i].value = 1000000 + add;
	w->nc++;
}

static void w_init(struct world *w)
{
	static const char *const names[] = {
		"TcpExt.ListenOverflows", "TcpExt.ListenDrops", "TcpExt.TCPReqQFullDrop",
		"TcpExt.TCPReqQFullDoCookies", "TcpExt.SyncookiesSent", "TcpExt.TCPTimeWaitOverflow",
		"TcpExt.TCPMemoryPressures", "TcpExt.TCPAbortOnMemory", "Tcp.OutRsts",
		"TcpExt.SyncookiesRecv",
	};
	size_t i;

	memset(w, 0, sizeof(*w));
	track_init(&w->t);
	finding_list_init(&w->out);
	diag_thresholds_default(&w->thr);
	w->lim.somaxconn = 4096;
	w->lim.tcp_max_syn_backlog = 512;
	w->lim.tcp_syncookies = 1;
	w->lim.tcp_abort_on_overflow = 0;
	w->lim.port_range_lo = 32768;
	w->lim.port_range_hi = 60999;
	w->lim.tcp_tw_reuse = 2;
	w->lim.tcp_max_tw_buckets = 262144;
	w->lim.tcp_max_orphans = 65536;
	w->lim.tcp_mem[0] = 92000;
	w->lim.tcp_mem[1] = 123000;
	w->lim.tcp_mem[2] = 185000;
	w->lim.nf_conntrack_max = 262144;
	for (i = 0; i < ARRAY_SIZE(names); i++)
		w_counter(w, names[i], 0);
	w->ss = (struct sockstat){ .sockets_used = 300, .tcp_inuse = 40, .tcp_orphan = 12,
				   .tcp_tw = 150, .tcp_alloc = 60, .tcp_mem = 500, .tcp6_inuse = 3 };
	w->ct = (struct conntrack_stat){ .present = true, .count = 1200, .have_stat = true,
					 .drop = 7, .early_drop = 1, .insert_failed = 2 };
	w->links.count = 2;
	w->links.items[0] = (struct link_stat){ .ifindex = 1, .name = "lo", .rx_packets = 10 };
	w->links.items[1] = (struct link_stat){ .ifindex = 2, .name = "eth0", .rx_packets = 5000,
						.rx_dropped = 3, .rx_missed_errors = 1 };
	w->deep.synrecv = w->sr;
	w->deep.cap_synrecv = W_SYNRECV;
	w->deep.port_lo = 32768;
	w->deep.port_hi = 60999;
	w->use_deep = true;
	w->now_ms = 5000000;
}

static void w_free(struct world *w)
{
	track_free(&w->t);
	finding_list_free(&w->out);
}

static struct listener *w_listener(struct world *w, uint64_t cookie, uint8_t a, uint8_t b,
				   uint8_t c, uint8_t d, uint16_t port, uint32_t backlog)
{
	struct listener *l;

	cr_assert_lt(w->nl, W_LISTENERS);
	l = &w->l[w->nl++];
	memset(l, 0, sizeof(*l));
	l->cookie = cookie;
	l->inode = (uint32_t)cookie + 5000;
	l->family = AF_INET;
	l->addr[0] = a;
	l->addr[1] = b;
	l->addr[2] = c;
	l->addr[3] = d;
	l->port = port;
	l->backlog = backlog;
	l->has_drops = true;
	return l;
}

static struct listener *w_find(struct world *w, uint64_t cookie)
{
	size_t i;

	for (i = 0; i < w->nl; i++)
		if (w->l[i].cookie == cookie)
			return &w->l[i];
	cr_assert_fail("no listener %" PRIu64, cookie);
	return NULL;
}

static void w_remove(struct world *w, uint64_t cookie)
{
	size_t i;

	for (i = 0; i < w->nl; i++) {
		if (w->l[i].cookie == cookie) {
			w->l[i] = w->l[--w->nl];
			return;
		}
	}
	cr_assert_fail("no listener %" PRIu64, cookie);
}

static void w_owner(struct world *w, uint64_t cookie, const char *comm, int pid, const char *unit)
{
	struct tracked *tr = track_find(&w->t, cookie);

	cr_assert_not_null(tr, "tick once before setting the owner");
	memset(owner_mut(tr), 0, sizeof(struct owner));
	owner_mut(tr)->nprocs = 1;
	owner_mut(tr)->nprocs_total = 1;
	owner_mut(tr)->procs[0].pid = pid;
	snprintf(owner_mut(tr)->procs[0].comm, sizeof(owner_mut(tr)->procs[0].comm), "%s", comm);
	snprintf(owner_mut(tr)->unit, sizeof(owner_mut(tr)->unit), "%s", unit);
}

static void w_event(struct world *w, enum kmsg_kind kind, uint16_t port, const char *addr,
		    bool cookies)
{
	struct kmsg_event *e;

	cr_assert_lt(w->nev, W_EVENTS);
	e = &w->ev[w->nev++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->seq = 100 + w->nev;
	e->port = port;
	snprintf(e->addr, sizeof(e->addr), "%s", addr);
	e->cookies = cookies;
}

static void w_synrecv(struct world *w, uint8_t d, uint16_t port, uint32_t count)
{
	struct synrecv_count *s;

	cr_assert_lt(w->deep.n_synrecv, W_SYNRECV);
	s = &w->sr[w->deep.n_synrecv++];
	memset(s, 0, sizeof(*s));
	s->family = AF_INET;
	s->addr[0] = 10;
	s->addr[3] = d;
	s->port = port;
	s->count = count;
}

static struct dest_count *w_dest(struct world *w, uint8_t d, uint16_t port, uint32_t est,
				 uint32_t tw)
{
	struct dest_count *dc;

	cr_assert_lt(w->deep.n_dests, DEEP_TOP_DESTS);
	dc = &w->deep.dests[w->deep.n_dests++];
	memset(dc, 0, sizeof(*dc));
	dc->family = AF_INET;
	dc->addr[0] = 10;
	dc->addr[3] = d;
	dc->port = port;
	dc->established = est;
	dc->time_wait = tw;
	dc->total = est + tw;
	dc->in_port_range = est + tw;
	return dc;
}

/* Run diagnose again on the same track (it is pure), after the test changed owners. */
static size_t w_diagnose(struct world *w)
{
	cr_assert_eq(diagnose(&w->t, &w->thr, &w->out), 0);
	return w->out.count;
}

/* One tick of the whole world. Return: the number of findings. */
static size_t w_tick(struct world *w)
{
	struct listener_set set = { .items = w->l, .count = w->nl, .cap = W_LISTENERS };
	struct counters host = { .items = w->c, .count = w->nc, .cap = W_COUNTERS };

	char states[W_LISTENERS] = { 0 };
	struct tick_sample s = { .listeners = &set, .counters = &host, .limits = &w->lim, .sockstat = &w->ss,
				 .conntrack = &w->ct, .links = &w->links, .kmsg = w->ev, .n_kmsg = w->nev,
				 .deep = w->use_deep ? &w->deep : NULL, .owner_states = states };

	for (size_t i = 0; i < w->nl; i++)
		states[i] = w->l[i].cookie == w->state_cookie ? w->state_letter : 0;

	w->now_ms += 1000;
	cr_assert_eq(track_tick(&w->t, &s, w->now_ms), 0);
	w->nev = 0;
	return w_diagnose(w);
}

static size_t w_count(const struct world *w, enum cause c)
{
	size_t i, n = 0;

	for (i = 0; i < w->out.count; i++)
		if (w->out.items[i].cause == c)
			n++;
	return n;
}

static const struct finding *w_get(const struct world *w, enum cause c)
{
	size_t i;

	for (i = 0; i < w->out.count; i++)
		if (w->out.items[i].cause == c)
			return &w->out.items[i];
	cr_assert_fail("no %s finding among %zu", cause_code(c), w->out.count);
	return NULL;
}

static int64_t xv(const struct finding *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n_extra; i++)
		if (strcmp(f->extra[i].name, name) == 0)
			return f->extra[i].value;
	cr_assert_fail("%s: no evidence named %s", cause_code(f->cause), name);
	return 0;
}

/*
 * What every finding owes its reader: one sentence of message, a remedy
 * that names a knob, evidence with journal-ready names, a key that matches
 * its scope, a valid place in the causal chain.
 */
static void assert_well_formed(const struct finding *f)
{
	size_t i, j, len = strlen(words(f)->message);

	cr_assert_gt(len, 0);
	cr_assert_null(strstr(words(f)->message, ". "), "%s: %s", cause_code(f->cause), words(f)->message);
	cr_assert_eq(words(f)->message[len - 1], '.', "%s: %s", cause_code(f->cause), words(f)->message);
	cr_assert_gt(strlen(words(f)->remedy), 0);
	cr_assert_null(strstr(words(f)->remedy, ". "), "%s: %s", cause_code(f->cause), words(f)->remedy);
	cr_assert_gt(strlen(f->knob), 0, "%s names a knob", cause_code(f->cause));
	cr_assert_gt(strlen(f->listener), 0);
	cr_assert_gt(strlen(f->subject), 0);
	cr_assert(f->explained_by >= CAUSE_NONE && f->explained_by < CAUSE_COUNT);
	cr_assert_neq(f->explained_by, f->cause);
	cr_assert(f->priority >= LOG_EMERG && f->priority <= LOG_DEBUG);
	if (f->scope == SCOPE_HOST)
		cr_assert_str_eq(f->listener, "host");
	if (f->cause >= CAUSE_SYN_QUEUE_DROP)
		cr_assert_gt(f->n_extra, 0, "%s carries evidence", cause_code(f->cause));
	for (i = 0; i < f->n_extra; i++) {
		const char *n = f->extra[i].name;

		cr_assert_gt(strlen(n), 0);
		for (j = 0; n[j]; j++)
			cr_assert(islower((unsigned char)n[j]) || isdigit((unsigned char)n[j]) ||
				  n[j] == '_', "%s: evidence name %s", cause_code(f->cause), n);
		/* The journal already has BACKLOGD_DROPS, _QUEUE, ... from ev: no clash. */
		cr_assert(strcmp(n, "drops") && strcmp(n, "queue") && strcmp(n, "backlog") &&
			  strcmp(n, "pid") && strcmp(n, "somaxconn"), "%s", n);
	}
}

static void assert_all_well_formed(const struct world *w)
{
	size_t i;

	for (i = 0; i < w->out.count; i++)
		assert_well_formed(&w->out.items[i]);
}

/* ---- a healthy world is silent, every rule included ---- */

Test(healthy, busy_host_with_every_probe_is_silent)
{
	struct world w;
	int i;

	w_init(&w);
	w_listener(&w, 1, 127, 0, 0, 1, 8080, 511);
	w_listener(&w, 2, 0, 0, 0, 0, 443, 4096);
	w_listener(&w, 3, 10, 0, 0, 1, 5432, 200);
	w_listener(&w, 4, 10, 0, 0, 1, 5432, 200);   /* an SO_REUSEPORT pair */
	w_synrecv(&w, 1, 443, 20);
	w_dest(&w, 5, 5432, 300, 9000);                /* 33% of the range */
	w.deep.holders[0] = (struct mem_holder){ .family = AF_INET, .state = 1, .rqueue = 4096 };
	w.deep.n_holders = 1;
	for (i = 0; i < 12; i++) {
		/* Everything moves the way a busy, healthy host's counters do. */
		w_counter(&w, "Tcp.OutRsts", 3);
		w.l[0].queue = 100;
		w.l[2].queue = (uint32_t)(i % 3);
		w.ss.tcp_tw += 10;
		w.ct.count += 50;
		w.links.items[1].rx_packets += 7000;
		cr_assert_eq(w_tick(&w), 0, "tick %d: %s", i,
			     w.out.count ? words(&w.out.items[0])->message : "");
	}
	w_free(&w);
}

Test(healthy, without_deep_tier_or_host_probes)
{
	struct world w;
	int i;

	w_init(&w);
	w.use_deep = false;
	w.ss = (struct sockstat){ -1, -1, -1, -1, -1, -1, -1, 0 };
	w.ct.present = false;
	w.ct.have_stat = false;
	w.ct.count = -1;
	w.links.count = 0;
	w_listener(&w, 1, 127, 0, 0, 1, 8080, 511);
	for (i = 0; i < 5; i++)
		cr_assert_eq(w_tick(&w), 0);
	w_free(&w);
}

/* ---- syn-queue-drop ---- */

static void syn_queue_setup(struct world *w)
{
	w_init(w);
	w->lim.tcp_syncookies = 0;
	w_listener(w, 1, 10, 0, 0, 1, 80, 128);
	w_listener(w, 2, 10, 0, 0, 2, 80, 128);
	w_tick(w);
}

Test(syn_queue_drop, fires_on_the_listener_whose_syn_recv_reached_its_backlog)
{
	struct world w;
	const struct finding *f;

	syn_queue_setup(&w);
	w_owner(&w, 1, "nginx", 812, "nginx.service");
	/* Both drop with room in the accept queue; only the first has a full SYN queue. */
	w_find(&w, 1)->queue = 3;
	w_find(&w, 1)->drops += 12;
	w_find(&w, 2)->drops += 2;
	w_synrecv(&w, 1, 80, 129);
	w_synrecv(&w, 2, 80, 2);
	w_counter(&w, "TcpExt.TCPReqQFullDrop", 40);
	w_counter(&w, "TcpExt.ListenDrops", 52);
	w_tick(&w);
	cr_assert_eq(w_count(&w, CAUSE_SYN_QUEUE_DROP), 1);
	cr_assert_eq(w.out.count, 1, "no accept-queue finding: ListenOverflows did not move");
	f = w_get(&w, CAUSE_SYN_QUEUE_DROP);
	cr_assert_eq(f->scope, SCOPE_LISTENER);
	cr_assert_str_eq(f->listener, "10.0.0.1:80");
	cr_assert_str_eq(f->subject, "10.0.0.1:80 nginx[812] nginx.service");
	cr_assert_eq(f->explained_by, CAUSE_NONE);
	cr_assert_eq(f->priority, LOG_WARNING);
	cr_assert_eq(xv(f, "reqq_full_drop"), 40);
	cr_assert_eq(xv(f, "listen_drops"), 52);
	cr_assert_eq(xv(f, "listen_overflows"), 0);
	cr_assert_eq(xv(f, "syn_recv"), 129);
	cr_assert_eq(xv(f, "tcp_syncookies"), 0);
	cr_assert_eq(xv(f, "tcp_max_syn_backlog"), 512);
	cr_assert_eq(f->ev.drops_delta, 12);
	cr_assert_str_eq(f->knob, "net.ipv4.tcp_syncookies");
	cr_assert_eq(f->knob_current, 0);
	cr_assert_eq(f->knob_suggested, 1);
	cr_assert(has(words(f)->message, "SYN queue was full"), "%s", words(f)->message);
	cr_assert(has(words(f)->message, "129 requests in SYN_RECV"), "%s", words(f)->message);
	cr_assert(has(words(f)->message, "connect timeouts"), "%s", words(f)->message);
	cr_assert(has(words(f)->remedy, "net.ipv4.tcp_syncookies=1 (now 0"), "%s", words(f)->remedy);
	cr_assert(has(words(f)->remedy, "from 128 to at least 512"), "%s", words(f)->remedy);
	cr_assert(has(words(f)->remedy, "not net.ipv4.tcp_max_syn_backlog=512"), "%s", words(f)->remedy);
	assert_all_well_formed(&w);
	w_free(&w);
}

Test(syn_queue_drop, wildcard_listener_matches_any_address_of_its_port)
{
	struct world w;

	w_init(&w);
	w.lim.tcp_syncookies = 0;
	w_listener(&w, 1, 0, 0, 0, 0, 80, 64);
	w_listener(&w, 2, 0, 0, 0, 0, 81, 64);
	w_tick(&w);
	w_find(&w, 1)->drops += 5;
	w_find(&w, 2)->drops += 5;
	w_synrecv(&w, 1, 80, 40);
	w_synrecv(&w, 2, 80, 40);   /* 80 in all on port 80 */
	w_synrecv(&w, 1, 81, 3);
	w_counter(&w, "TcpExt.TCPReqQFullDrop", 10);
	w_tick(&w);
	cr_assert_eq(w_count(&w, CAUSE_SYN_QUEUE_DROP), 1);
	cr_assert_str_eq(w_get(&w, CAUSE_SYN_QUEUE_DROP)->listener, "0.0.0.0:80");
	cr_assert_eq(xv(w_get(&w, CAUSE_SYN_QUEUE_DROP), "syn_recv"), 80);
	w_free(&w);
}

Test(syn_queue_drop, without_deep_every_listener_dropping_with_room)
{
	struct world w;

	syn_queue_setup(&w);
	w.use_deep = false;
	w_find(&w, 1)->drops += 4;
	w_find(&w, 2)->drops += 4;
	/* tcp_max_syn_backlog drops: ListenDrops beyond the overflows, no TCPReqQFullDrop. */
	w_counter(&w, "TcpExt.ListenDrops", 8);
	w_tick(&w);
	cr_assert_eq(w_count(&w, CAUSE_SYN_QUEUE_DROP), 2);
	cr_assert_eq(xv(w_get(&w, CAUSE_SYN_QUEUE_DROP), "syn_recv"), -1, "unknown, no deep tier");
	assert_all_well_formed(&w);
	w_free(&w);
}

Test(syn_queue_drop, host_scope_when_no_listener_is_identifiable)
{
	struct world w;
	const struct finding *f;

	syn_queue_setup(&w);
	w_counter(&w, "TcpExt.TCPReqQFullDrop", 9);
	w_counter(&w, "TcpExt.ListenDrops", 9);
	w_tick(&w);
	f = w_get(&w, CAUSE_SYN_QUEUE_DROP);
	cr_assert_eq(f->scope, SCOPE_HOST);
	cr_assert_str_eq(f->listener, "host");
	cr_assert_eq(f->cookie, 0);
	cr_assert(has(words(f)->message, "none could be singled out"), "%s", words(f)->message);
	assert_all_well_formed(&w);
	w_free(&w);
}

Test(syn_queue_drop, silent_with_syncookies_on_or_unknown_or_only_overflows)
{
	struct world w;

	syn_queue_setup(&w);
	w.lim.tcp_syncookies = 1;
	w_find(&w, 1)->drops += 12;
	w_counter(&w, "TcpExt.TCPReqQFullDrop", 40);
	w_counter(&w, "TcpExt.ListenDrops", 52);
	w_tick(&w);
	cr_assert_eq(w_count(&w, CAUSE_SYN_QUEUE_DROP), 0);

	w.lim.tcp_syncookies = SYSCTL_UNKNOWN;
	w_find(&w, 1)->drops += 12;
	w_counter(&w, "TcpExt.TCPReqQFullDrop", 40);
	w_tick(&w);
	cr_assert_eq(w_count(&w, CAUSE_SYN_QUEUE_DROP), 0);

	/* Syncookies off, but every drop is an accept-queue overflow. */
	w.lim.tcp_syncookies = 0;
	w_counter(&w, "TcpExt.ListenDrops", 6);
	w_counter(&w, "TcpExt.ListenOverflows", 6);
	w_tick(&w);
	cr_assert_eq(w_count(&w, CAUSE_SYN_QUEUE_DROP), 0);
	w_free(&w);
}

/* ---- syn-flood ---- */

Test(syn_flood, counters_name_the_listener_with_most_syn_recv)
{
	struct world w;
	const struct finding *f;

	w_init(&w);
	w_listener(&w, 1, 10, 0, 0, 1, 80, 128);
	w_listener(&w, 2, 10, 0, 0, 2, 443, 256);
	w_tick(&w);
	w_owner(&w, 2, "haproxy", 77, "haproxy.service");
	w_synrecv(&w, 1, 80, 5);
	w_synrecv(&w, 2, 443, 257);
	w_counter(&w, "TcpExt.TCPReqQFullDoCookies", 900);
	w_counter(&w, "TcpExt.SyncookiesSent", 910);
	w_tick(&w);
	cr_assert_eq(w.out.count, 1);
	f = w_get(&w, CAUSE_SYN_FLOOD);
	cr_assert_eq(f->scope, SCOPE_LISTENER);
	cr_assert_str_eq(f->listener, "10.0.0.2:443");
	cr_assert_str_eq(f->subject, "10.0.0.2:443 haproxy[77] haproxy.service");
	cr_assert_eq(f->priority, LOG_WARNING);
	cr_assert_eq(xv(f, "reqq_full_do_cookies"), 900);
	cr_assert_eq(xv(f, "syncookies_sent"), 910);
	cr_assert_eq(xv(f, "syn_recv"), 257);
	cr_assert_eq(xv(f, "kmsg_syn_flood"), 0);
	cr_assert(has(words(f)->message, "SYN flood"), "%s", words(f)->message);
	cr_assert(has(words(f)->message, "window scaling and SACK"), "%s", words(f)->message);
	cr_assert(has(words(f)->message, "slower handshakes"), "%s", words(f)->message);
	cr_assert(has(words(f)->remedy, "source of the SYN burst"), "%s", words(f)->remedy);
	cr_assert(has(words(f)->remedy, "from 256 to at least 1024"), "%s", words(f)->remedy);
	cr_assert_str_eq(f->knob, "listen() backlog");
	cr_assert_eq(f->knob_current, 256);
	cr_assert_eq(f->knob_suggested, 1024);
	assert_all_well_formed(&w);
	w_free(&w);
}

Test(syn_flood, kernel_line_names_the_listener)
{
	struct world w;
	const struct finding *f;

	w_init(&w);
	w_listener(&w, 1, 10, 0, 0, 1, 8080, 128);
	w_listener(&w, 2, 10, 0, 0, 2, 8080, 128);
	w_listener(&w, 3, 10, 0, 0, 1, 80, 128);
	w_tick(&w);
	/* Cookies that do not come back, and the named listener's own SYN queue full of requests. */
	w_synrecv(&w, 2, 8080, 129);
	w_event(&w, KMSG_SYN_FLOOD, 8080, "10.0.0.2", true);
	w_counter(&w, "TcpExt.TCPReqQFullDoCookies", 40);
	w_counter(&w, "TcpExt.SyncookiesSent", 40);
	w_tick(&w);
	cr_assert_eq(w_count(&w, CAUSE_SYN_FLOOD), 1);
	f = w_get(&w, CAUSE_SYN_FLOOD);
	cr_assert_str_eq(f->listener, "10.0.0.2:8080");
	cr_assert_eq(f->cookie, 2);
	cr_assert_eq(xv(f, "kmsg_syn_flood"), 1);
	cr_assert(has(words(f)->message, "Possible SYN flooding on port 10.0.0.2:8080 (Sending cookies)"),
		  "%s", words(f)->message);
	assert_all_well_formed(&w);

	/* The line is logged once per listener: the next tick without it and without counters is quiet. */
	cr_assert_eq(w_tick(&w), 0);

	/* An older kernel names only the port. */
	w.deep.n_synrecv = 0;
	w_synrecv(&w, 1, 80, 130);
	w_event(&w, KMSG_SYN_FLOOD, 80, "", true);
	w_counter(&w, "TcpExt.SyncookiesSent", 25);
	w_tick(&w);
	cr_assert_eq(w_count(&w, CAUSE_SYN_FLOOD), 1);
	cr_assert_str_eq(w_get(&w, CAUSE_SYN_FLOOD)->listener, "10.0.0.1:80");
	cr_assert_eq(xv(w_get(&w, CAUSE_SYN_FLOOD), "kmsg_syn_flood"), 1);
	assert_all_well_formed(&w);
	w_free(&w);
}

/*
 * "Dropping request" comes with the first full-SYN-queue drop of any listener
 * when cookies are off: that is syn-queue-drop, alone, not a flood.
 */
Test(syn_flood, dropping_request_with_cookies_off_is_syn_queue_drop_alone)
{
	struct world w;
	const struct finding *f;

	w_init(&w);
	w.lim.tcp_syncookies = 0;
	w_listener(&w, 1, 127, 0, 0, 1, 8080, 128);
	w_tick(&w);
	w_find(&w, 1)->drops += 30;
	w_counter(&w, "TcpExt.TCPReqQFullDrop", 30);
	w_counter(&w, "TcpExt.ListenDrops", 30);
	w_synrecv(&w, 127, 8080, 0);
	w_event(&w, KMSG_SYN_FLOOD, 8080, "127.0.0.1", false);
	w_tick(&w);
	cr_assert_eq(w.out.count, 1);
	f = &w.out.items[0];
	cr_assert_eq(f->cause, CAUSE_SYN_QUEUE_DROP);
	cr_assert_eq(f->explained_by, CAUSE_NONE);
	cr_assert_str_eq(f->knob, "net.ipv4.tcp_syncookies");
	cr_assert_eq(f->knob_suggested, 1);
	assert_all_well_formed(&w);
	w_free(&w);
}

/* /dev/kmsg is shared by every namespace: a line no cookie counter of ours backs up is not ours. */
Test(syn_flood, kernel_line_of_another_namespace_is_ignored)
{
	struct world w;

	w_init(&w);
	w_listener(&w, 1, 127, 0, 0, 1, 8080, 128);
	w_tick(&w);
	w_event(&w, KMSG_SYN_FLOOD, 8080, "127.0.0.1", true);
	cr_assert_eq(w_tick(&w), 0);
	w_event(&w, KMSG_SYN_FLOOD, 7109, "127.0.0.1", true);
	cr_assert_eq(w_tick(&w), 0);
	w_free(&w);
}

Test(syn_flood, host_scope_without_a_name_or_deep_tier)
{
	struct world w;
	const struct finding *f;

	w_init(&w);
	w.use_deep = false;
	w_listener(&w, 1, 127, 0, 0, 1, 8080, 128);
	w_tick(&w);
	w_counter(&w, "TcpExt.SyncookiesSent", 50);
	w_tick(&w);
	f = w_get(&w, CAUSE_SYN_FLOOD);
	cr_assert_eq(f->scope, SCOPE_HOST);
	cr_assert_str_eq(f->listener, "host");
	cr_assert_eq(f->knob_current, -1);
	assert_all_well_formed(&w);
	w_free(&w);
}

/* With tcp_syncookies=2 every SYN gets a cookie: whether they come back still decides. */
Test(syn_flood, syncookies_2_silent_while_cookies_come_back)
{
	struct world w;
	int i;

	w_init(&w);
	w.lim.tcp_syncookies = 2;
	w_listener(&w, 1, 127, 0, 0, 1, 8080, 128);
	for (i = 0; i < 4; i++) {
		w_counter(&w, "TcpExt.TCPReqQFullDoCookies", 300);
		w_counter(&w, "TcpExt.SyncookiesSent", 300);
		w_counter(&w, "TcpExt.SyncookiesRecv", 297);
		cr_assert_eq(w_tick(&w), 0);
	}
	/* No request socket is made with =2: an unanswered flood is the host's. */
	w_counter(&w, "TcpExt.SyncookiesSent", 300);
	w_counter(&w, "TcpExt.SyncookiesRecv", 3);
	cr_assert_eq(w_tick(&w), 1);
	cr_assert_eq(w_get(&w, CAUSE_SYN_FLOOD)->scope, SCOPE_HOST);
	w_free(&w);
}

Test(chain, syn_flood_explains_backlog_small_on_the_same_listener)
{
	struct world w;
	const struct finding *f;

	w_init(&w);
	w_listener(&w, 1, 127, 0, 0, 1, 8080, 8);
	w_listener(&w, 2, 127, 0, 0, 1, 9090, 8);
	w_tick(&w);
	w_find(&w, 1)->queue = 9;
	w_find(&w, 1)->drops += 20;
	w_find(&w, 2)->queue = 9;
	w_find(&w, 2)->drops += 3;
	w_counter(&w, "TcpExt.ListenOverflows", 23);
	w_counter(&w, "TcpExt.ListenDrops", 23);
	w_counter(&w, "TcpExt.TCPReqQFullDoCookies", 400);
	/* Cookies that never come back: a proven flood (a burst that returns them is test_rules_syn.c's). */
	w_counter(&w, "TcpExt.SyncookiesSent", 400);
	w_event(&w, KMSG_SYN_FLOOD, 8080, "127.0.0.1", true);
	w_synrecv(&w, 0, 0, 0);
	w.sr[0].addr[0] = 127;
	w.sr[0].addr[3] = 1;
	w.sr[0].port = 8080;
	w.sr[0].count = 9;
	w_tick(&w);
	cr_assert_eq(w.out.count, 3);
	/* Primaries first: the flood, and the other listener's own overflow. */
	cr_assert_eq(w.out.items[0].explained_by, CAUSE_NONE);
	cr_assert_eq(w.out.items[1].explained_by, CAUSE_NONE);
	f = &w.out.items[2];
	cr_assert_eq(f->cause, CAUSE_BACKLOG_SMALL);
	cr_assert_str_eq(f->listener, "127.0.0.1:8080");
	cr_assert_eq(f->explained_by, CAUSE_SYN_FLOOD);
	cr_assert(has(words(f)->message, "Side effect of syn-flood on 127.0.0.1:8080: 127.0.0.1:8080 "
		      "overflowed"), "%s", words(f)->message);
	cr_assert_str_eq(w_get(&w, CAUSE_SYN_FLOOD)->listener, "127.0.0.1:8080");
	/* 9090 has no flood: its backlog-small stands on its own. */
	cr_assert_eq(w.out.items[0].cause == CAUSE_BACKLOG_SMALL ? w.out.items[0].explained_by
								: w.out.items[1].explained_by, CAUSE_NONE);
	cr_assert(has(w_get(&w, CAUSE_BACKLOG_SMALL)->listener, "127.0.0.1:9090"));
	assert_all_well_formed(&w);
	w_free(&w);
}

/* ---- listener-gap ---- */

Test(listener_gap, returned_gap_names_both_owners_and_the_resets)
{
	struct world w;
	const struct finding *f;
	int i;

	w_init(&w);
	w.thr.gap_memory_secs = 10;
	w_listener(&w, 1, 127, 0, 0, 1, 8080, 511);
	w_tick(&w);
	w_owner(&w, 1, "nginx", 812, "nginx.service");
	w_tick(&w);

	/* Stopped: gone two ticks, clients refused (the host sends RSTs). */
	w_remove(&w, 1);
	w_counter(&w, "Tcp.OutRsts", 5);
	w_tick(&w);
	f = w_get(&w, CAUSE_LISTENER_GAP);
	cr_assert_eq(xv(f, "absent"), 1);
	cr_assert_eq(f->priority, LOG_ERR, "refusing clients right now");
	cr_assert(has(words(f)->message, "has had no listener"), "%s", words(f)->message);
	cr_assert(has(words(f)->message, "ECONNREFUSED"), "%s", words(f)->message);
	cr_assert(has(words(f)->message, "nginx[812]"), "%s", words(f)->message);
	cr_assert_str_eq(f->subject, "127.0.0.1:8080 nginx[812] nginx.service");
	cr_assert(has(words(f)->remedy, "start nginx.service again"), "%s", words(f)->remedy);
	assert_all_well_formed(&w);
	w_counter(&w, "Tcp.OutRsts", 7);
	w_tick(&w);

	/* Started again: a new socket, a new process. */
	w_listener(&w, 2, 127, 0, 0, 1, 8080, 511);
	w_tick(&w);
	w_owner(&w, 2, "nginx", 900, "nginx.service");
	cr_assert_eq(w_diagnose(&w), 1);
	f = w_get(&w, CAUSE_LISTENER_GAP);
	cr_assert_eq(f->scope, SCOPE_LISTENER);
	cr_assert_str_eq(f->listener, "127.0.0.1:8080");
	cr_assert_str_eq(f->subject, "127.0.0.1:8080 nginx[900] nginx.service");
	cr_assert_eq(f->pid, 900);
	cr_assert_eq(f->cookie, 2);
	cr_assert_eq(f->priority, LOG_WARNING);
	cr_assert_eq(xv(f, "gap_ms"), 3000, "from the last tick it was seen to the first back");
	cr_assert_eq(xv(f, "missing_ticks"), 2);
	cr_assert_eq(xv(f, "out_rsts"), 12);
	cr_assert_eq(xv(f, "old_pid"), 812);
	cr_assert_eq(xv(f, "new_pid"), 900);
	cr_assert_eq(xv(f, "replaced"), 0);
	cr_assert_eq(xv(f, "absent"), 0);
	cr_assert(has(words(f)->message, "no listener for up to 3.0 s (2 ticks found it absent)"), "%s",
		  words(f)->message);
	cr_assert(has(words(f)->message, "between nginx[812] and nginx[900]"), "%s", words(f)->message);
	cr_assert(has(words(f)->message, "12 TCP resets"), "%s", words(f)->message);
	cr_assert(has(words(f)->message, "ECONNREFUSED"), "%s", words(f)->message);
	cr_assert_str_eq(f->knob, "restart method");
	/* nginx's own way (test_software.c has the others). */
	cr_assert(has(words(f)->remedy, "`nginx -s reload`"), "%s", words(f)->remedy);
	cr_assert(has(words(f)->remedy, "reload nginx.service"), "%s", words(f)->remedy);
	assert_all_well_formed(&w);

	/* Remembered for gap_memory_secs after it returned, then forgotten. */
	for (i = 1; i <= 10; i++)
		cr_assert_eq(w_tick(&w), 1, "%d s after", i);
	cr_assert_eq(w_tick(&w), 0);
	w_free(&w);
}

Test(listener_gap, open_gap_fires_while_young_only)
{
	struct world w;
	int i;

	w_init(&w);
	w.thr.gap_memory_secs = 5;
	w_listener(&w, 1, 127, 0, 0, 1, 8080, 511);
	w_listener(&w, 2, 127, 0, 0, 1, 22, 128);
	w_tick(&w);
	w_remove(&w, 1);
	/* Young: reported although nobody is refused. */
	for (i = 0; i < 4; i++) {
		cr_assert_eq(w_tick(&w), 1, "tick %d", i);
		cr_assert_eq(w.out.items[0].priority, LOG_WARNING);
	}
	/* Young, and the host refuses clients: an error, with the resets as evidence. */
	w_counter(&w, "Tcp.OutRsts", 4);
	cr_assert_eq(w_tick(&w), 1);
	cr_assert_eq(w.out.items[0].priority, LOG_ERR);
	cr_assert_eq(xv(&w.out.items[0], "out_rsts_tick"), 4);
	cr_assert_eq(xv(&w.out.items[0], "out_rsts"), 4);
	cr_assert(has(words(&w.out.items[0])->message, "(4 in the last tick)"), "%s", words(&w.out.items[0])->message);
	/* Old: silent, even while the host sends resets (they may be anyone's). */
	cr_assert_eq(w_tick(&w), 0);
	w_counter(&w, "Tcp.OutRsts", 9);
	cr_assert_eq(w_tick(&w), 0);
	w_free(&w);
}

Test(listener_gap, replaced_in_one_tick_is_a_notice_only_with_resets)
{
	struct world w;
	const struct finding *f;

	w_init(&w);
	w_listener(&w, 1, 127, 0, 0, 1, 8080, 511);
	w_tick(&w);
	w_owner(&w, 1, "app", 10, "");
	/* Replaced without a single reset: nobody was refused, nothing to say. */
	w_remove(&w, 1);
	w_listener(&w, 2, 127, 0, 0, 1, 8080, 511);
	cr_assert_eq(w_tick(&w), 0);
	cr_assert_eq(w.t.n_gaps, 1);
	cr_assert(w.t.gaps[0].replaced);

	/* Replaced while resets moved in that tick: a low-priority notice, for that tick. */
	w_remove(&w, 2);
	w_listener(&w, 3, 127, 0, 0, 1, 8080, 511);
	w_counter(&w, "Tcp.OutRsts", 3);
	cr_assert_eq(w_tick(&w), 1);
	f = w_get(&w, CAUSE_LISTENER_GAP);
	cr_assert_eq(f->priority, LOG_NOTICE);
	cr_assert_eq(xv(f, "replaced"), 1);
	cr_assert_eq(xv(f, "missing_ticks"), 0);
	cr_assert_eq(xv(f, "out_rsts"), 3);
	cr_assert(has(words(f)->message, "closed and opened again between two ticks"), "%s", words(f)->message);
	assert_all_well_formed(&w);
	w_counter(&w, "Tcp.OutRsts", 3);
	cr_assert_eq(w_tick(&w), 0, "only in the tick it happened");
	w_free(&w);
}

Test(listener_gap, silent_for_a_reuseport_member_or_a_steady_listener)
{
	struct world w;
	int i;

	w_init(&w);
	w_listener(&w, 1, 0, 0, 0, 0, 80, 511);
	w_listener(&w, 2, 0, 0, 0, 0, 80, 511);
	w_tick(&w);
	w_remove(&w, 2);
	w_counter(&w, "Tcp.OutRsts", 9);
	cr_assert_eq(w_tick(&w), 0);
	for (i = 0; i < 3; i++) {
		w_counter(&w, "Tcp.OutRsts", 9);
		cr_assert_eq(w_tick(&w), 0);
	}
	w_free(&w);
}

Test(listener_gap, newest_gap_of_an_address_stands_for_it)
{
	struct world w;

	w_init(&w);
	w_listener(&w, 1, 127, 0, 0, 1, 8080, 511);
	w_tick(&w);
	w_remove(&w, 1);
	w_tick(&w);
	w_listener(&w, 2, 127, 0, 0, 1, 8080, 511);
	w_tick(&w);
	w_remove(&w, 2);
	w_tick(&w);
	cr_assert_eq(w.t.n_gaps, 2);
	cr_assert_eq(w_count(&w, CAUSE_LISTENER_GAP), 1, "one finding per address:port");
	cr_assert_eq(xv(w_get(&w, CAUSE_LISTENER_GAP), "absent"), 1, "the newest: still open");
	w_free(&w);
}

/* ---- reuseport-imbalance ---- */

static void reuseport_setup(struct world *w, uint32_t q1, uint32_t q3)
{
	w_init(w);
	w_listener(w, 1, 0, 0, 0, 0, 8080, 128);
	w_listener(w, 2, 0, 0, 0, 0, 8080, 128);
	w_listener(w, 3, 0, 0, 0, 0, 8080, 128);
	w_tick(w);
	w_owner(w, 1, "worker", 101, "app.service");
	w_owner(w, 2, "worker", 102, "app.service");
	w_owner(w, 3, "worker", 103, "app.service");
	w_find(w, 1)->queue = q1;
	w_find(w, 2)->queue = 129;
	w_find(w, 2)->drops += 5;
	w_find(w, 3)->queue = q3;
	w_counter(w, "TcpExt.ListenOverflows", 5);
	w_counter(w, "TcpExt.ListenDrops", 5);
	w_tick(w);
}

Test(reuseport, stuck_member_is_named_and_its_overflow_explained)
{
	struct world w;
	const struct finding *f;

	reuseport_setup(&w, 1, 3);
	cr_assert_eq(w.out.count, 2);
	f = &w.out.items[0];
	cr_assert_eq(f->cause, CAUSE_REUSEPORT_IMBALANCE);
	cr_assert_eq(f->explained_by, CAUSE_NONE);
	cr_assert_eq(f->scope, SCOPE_LISTENER);
	cr_assert_str_eq(f->listener, "0.0.0.0:8080");
	cr_assert_str_eq(f->subject, "0.0.0.0:8080 worker[102] app.service");
	cr_assert_eq(f->pid, 102);
	cr_assert_eq(f->cookie, 2);
	cr_assert_eq(f->priority, LOG_ERR);
	cr_assert_eq(xv(f, "members"), 3);
	cr_assert_eq(xv(f, "others_max_queue"), 3);
	cr_assert_eq(xv(f, "others_backlog"), 128);
	cr_assert_eq(xv(f, "room_pct"), 50);
	cr_assert_eq(xv(f, "stuck_pid"), 102);
	cr_assert_eq(f->ev.queue, 129);
	cr_assert_eq(f->ev.drops_delta, 5);
	cr_assert(has(words(f)->message, "SO_REUSEPORT group of 3 sockets and only one member, held by "
		      "worker[102], overflowed"), "%s", words(f)->message);
	cr_assert(has(words(f)->message, "the other 2 held at most 3 each"), "%s", words(f)->message);
	cr_assert(has(words(f)->message, "timed out"), "%s", words(f)->message);
	cr_assert(has(words(f)->remedy, "worker[102]"), "%s", words(f)->remedy);
	f = &w.out.items[1];
	cr_assert_eq(f->cause, CAUSE_BACKLOG_SMALL);
	cr_assert_eq(f->cookie, 2);
	cr_assert_eq(f->explained_by, CAUSE_REUSEPORT_IMBALANCE);
	cr_assert(has(words(f)->message, "Side effect of reuseport-imbalance on 0.0.0.0:8080: "), "%s",
		  words(f)->message);
	assert_all_well_formed(&w);
	w_free(&w);
}

Test(reuseport, silent_when_the_others_are_busy_too)
{
	struct world w;
	const struct finding *f;

	/* 100 of 128 is 78%: above room_pct 50, the group as a whole is short. */
	reuseport_setup(&w, 1, 100);
	cr_assert_eq(w_count(&w, CAUSE_REUSEPORT_IMBALANCE), 0);
	f = w_get(&w, CAUSE_BACKLOG_SMALL);
	cr_assert_eq(f->explained_by, CAUSE_NONE);
	w_free(&w);

	/* The threshold is configurable. */
	w_init(&w);
	w_free(&w);
	reuseport_setup(&w, 1, 100);
	w.thr.reuseport_room_pct = 80;
	w_diagnose(&w);
	cr_assert_eq(w_count(&w, CAUSE_REUSEPORT_IMBALANCE), 1);
	w_free(&w);
}

Test(reuseport, a_single_listener_is_no_group)
{
	struct world w;

	w_init(&w);
	w_listener(&w, 1, 0, 0, 0, 0, 8080, 128);
	w_listener(&w, 2, 127, 0, 0, 1, 8080, 128);   /* same port, other address */
	w_tick(&w);
	w_find(&w, 1)->queue = 129;
	w_find(&w, 1)->drops += 5;
	w_counter(&w, "TcpExt.ListenOverflows", 5);
	w_tick(&w);
	cr_assert_eq(w.out.count, 1);
	cr_assert_eq(w.out.items[0].cause, CAUSE_BACKLOG_SMALL);
	cr_assert_eq(w.out.items[0].explained_by, CAUSE_NONE);
	cr_assert_eq(w.out.items[0].scope, SCOPE_LISTENER);
	w_free(&w);
}

/* ---- ephemeral-ports ---- */

Test(ephemeral, destination_near_the_port_range)
{
	struct world w;
	const struct finding *f;
	struct dest_count *d;

	w_init(&w);
	w_tick(&w);
	w_dest(&w, 5, 5432, 1200, 24800);      /* 26000 of 28232: 92% */
	w_dest(&w, 6, 80, 100, 100);
	w_tick(&w);
	cr_assert_eq(w.out.count, 1);
	f = w_get(&w, CAUSE_EPHEMERAL_PORTS);
	cr_assert_eq(f->scope, SCOPE_DESTINATION);
	cr_assert_str_eq(f->listener, "10.0.0.5:5432");
	cr_assert_str_eq(f->subject, "10.0.0.5:5432");
	cr_assert_eq(f->priority, LOG_WARNING);
	cr_assert_eq(xv(f, "sockets"), 26000);
	cr_assert_eq(xv(f, "established"), 1200);
	cr_assert_eq(xv(f, "time_wait"), 24800);
	cr_assert_eq(xv(f, "port_range_size"), 28232);
	cr_assert_eq(xv(f, "port_range_lo"), 32768);
	cr_assert_eq(xv(f, "port_range_hi"), 60999);
	cr_assert_eq(xv(f, "tcp_tw_reuse"), 2);
	cr_assert_str_eq(f->knob, "net.ipv4.ip_local_port_range");
	cr_assert_eq(f->knob_current, 28232, "range sizes");
	cr_assert_eq(f->knob_suggested, 64512);
	cr_assert(has(words(f)->message, "EADDRNOTAVAIL"), "%s", words(f)->message);
	cr_assert(has(words(f)->message, "24800 in TIME_WAIT"), "%s", words(f)->message);
	cr_assert(has(words(f)->remedy, "from 32768-60999 to 1024-65535"), "%s", words(f)->remedy);
	cr_assert(has(words(f)->remedy, "net.ipv4.tcp_tw_reuse=1 (now 2, loopback only)"), "%s", words(f)->remedy);
	cr_assert(has(words(f)->remedy, "connection pool"), "%s", words(f)->remedy);
	assert_all_well_formed(&w);

	/* Every port taken: connect() is failing now. */
	w.deep.dests[0].in_port_range = 28232;
	w_tick(&w);
	cr_assert_eq(w_get(&w, CAUSE_EPHEMERAL_PORTS)->priority, LOG_ERR);

	/* IPv6 destinations are keyed as such. */
	w.deep.n_dests = 0;
	d = w_dest(&w, 0, 80, 27000, 0);
	d->family = AF_INET6;
	memset(d->addr, 0, sizeof(d->addr));
	d->addr[15] = 1;
	w_tick(&w);
	cr_assert_str_eq(w_get(&w, CAUSE_EPHEMERAL_PORTS)->listener, "[::1]:80");
	w_free(&w);
}

Test(ephemeral, wide_range_points_at_tw_reuse_then_reuse)
{
	struct world w;
	const struct finding *f;

	w_init(&w);
	w.lim.port_range_lo = 1024;
	w.lim.port_range_hi = 65535;
	w.deep.port_lo = 1024;
	w.deep.port_hi = 65535;
	w_dest(&w, 5, 443, 100, 60000);
	w_tick(&w);
	f = w_get(&w, CAUSE_EPHEMERAL_PORTS);
	cr_assert_str_eq(f->knob, "net.ipv4.tcp_tw_reuse");
	cr_assert_eq(f->knob_current, 2);
	cr_assert_eq(f->knob_suggested, 1);
	cr_assert_not(has(words(f)->remedy, "widen"), "%s", words(f)->remedy);

	w.lim.tcp_tw_reuse = 1;
	w_tick(&w);
	f = w_get(&w, CAUSE_EPHEMERAL_PORTS);
	cr_assert_str_eq(f->knob, "connection reuse");
	assert_all_well_formed(&w);
	w_free(&w);
}

Test(ephemeral, silent_below_threshold_or_without_deep_or_range)
{
	struct world w;

	w_init(&w);
	w_dest(&w, 5, 5432, 1000, 18000);      /* 67% */
	cr_assert_eq(w_tick(&w), 0);
	/* No deep tier this tick: nothing to count. */
	w.deep.dests[0].in_port_range = 28000;
	w.use_deep = false;
	cr_assert_eq(w_tick(&w), 0);
	/* Range unknown everywhere: no size to compare with. */
	w.use_deep = true;
	w.lim.port_range_lo = SYSCTL_UNKNOWN;
	w.lim.port_range_hi = SYSCTL_UNKNOWN;
	w.deep.port_lo = -1;
	w.deep.port_hi = -1;
	cr_assert_eq(w_tick(&w), 0);
	/* The threshold is configurable. */
	w.lim.port_range_lo = 32768;
	w.lim.port_range_hi = 60999;
	w.deep.port_lo = 32768;
	w.deep.port_hi = 60999;
	w.deep.dests[0].in_port_range = 19000;
	w.thr.ephemeral_pct = 60;
	cr_assert_eq(w_tick(&w), 1);
	w_free(&w);
}

/* ---- timewait-overflow ---- */

Test(timewait, overflow_rising_names_the_bucket_limit)
{
	struct world w;
	const struct finding *f;

	w_init(&w);
	w_tick(&w);
	w.ss.tcp_tw = 262144;
	w_counter(&w, "TcpExt.TCPTimeWaitOverflow", 37);
	w_tick(&w);
	cr_assert_eq(w.out.count, 1);
	f = w_get(&w, CAUSE_TIMEWAIT_OVERFLOW);
	cr_assert_eq(f->scope, SCOPE_HOST);
	cr_assert_str_eq(f->listener, "host");
	cr_assert_eq(f->explained_by, CAUSE_NONE);
	cr_assert_eq(xv(f, "tw_overflow"), 37);
	cr_assert_eq(xv(f, "tw"), 262144);
	cr_assert_eq(xv(f, "tcp_max_tw_buckets"), 262144);
	cr_assert_str_eq(f->knob, "net.ipv4.tcp_max_tw_buckets");
	cr_assert_eq(f->knob_current, 262144);
	cr_assert_eq(f->knob_suggested, 524288);
	cr_assert(has(words(f)->remedy, "from 262144 to 524288"), "%s", words(f)->remedy);
	cr_assert(has(words(f)->message, "early"), "%s", words(f)->message);
	assert_all_well_formed(&w);

	/* A small limit: suggest at least 262144. */
	w.lim.tcp_max_tw_buckets = 4096;
	w_counter(&w, "TcpExt.TCPTimeWaitOverflow", 1);
	w_tick(&w);
	cr_assert_eq(w_get(&w, CAUSE_TIMEWAIT_OVERFLOW)->knob_suggested, 262144);

	/* Not rising: silent. */
	cr_assert_eq(w_tick(&w), 0);
	w_free(&w);
}

Test(chain, ephemeral_ports_explain_timewait_overflow)
{
	struct world w;
	const struct finding *f;

	w_init(&w);
	w_tick(&w);
	w_dest(&w, 5, 5432, 1200, 24800);
	w_counter(&w, "TcpExt.TCPTimeWaitOverflow", 37);
	w_tick(&w);
	cr_assert_eq(w.out.count, 2);
	cr_assert_eq(w.out.items[0].cause, CAUSE_EPHEMERAL_PORTS);
	f = &w.out.items[1];
	cr_assert_eq(f->cause, CAUSE_TIMEWAIT_OVERFLOW);
	cr_assert_eq(f->explained_by, CAUSE_EPHEMERAL_PORTS);
	cr_assert(has(words(f)->message, "Side effect of ephemeral-ports on 10.0.0.5:5432: the TIME_WAIT "
		      "table is full"), "%s", words(f)->message);
	assert_all_well_formed(&w);

	/* Ports held by established connections only leave no TIME_WAIT behind. */
	w.deep.n_dests = 0;
	w_dest(&w, 5, 5432, 26000, 0);
	w_counter(&w, "TcpExt.TCPTimeWaitOverflow", 5);
	w_tick(&w);
	cr_assert_eq(w_get(&w, CAUSE_TIMEWAIT_OVERFLOW)->explained_by, CAUSE_NONE);
	w_free(&w);
}

/* ---- tcp-memory ---- */

Test(tcp_memory, pressure_lists_the_top_holders)
{
	struct world w;
	const struct finding *f;
	struct mem_holder *h;

	w_init(&w);
	w_tick(&w);
	w.ss.tcp_mem = 130000;
	h = &w.deep.holders[0];
	memset(h, 0, sizeof(*h));
	h->family = AF_INET;
	h->state = 1;
	h->laddr[0] = 10;
	h->laddr[3] = 1;
	h->lport = 5432;
	h->raddr[0] = 10;
	h->raddr[3] = 9;
	h->rport = 40122;
	h->rqueue = 4194304;
	h->inode = 77;
	h->pid = 311;
	snprintf(h->comm, sizeof(h->comm), "postgres");
	h = &w.deep.holders[1];
	memset(h, 0, sizeof(*h));
	h->family = AF_INET;
	h->state = 9;
	h->laddr[0] = 10;
	h->raddr[0] = 10;
	h->wqueue = 65536;
	w.deep.n_holders = 2;
	w_counter(&w, "TcpExt.TCPMemoryPressures", 1);
	w_tick(&w);
	cr_assert_eq(w.out.count, 1);
	f = w_get(&w, CAUSE_TCP_MEMORY);
	cr_assert_eq(f->scope, SCOPE_HOST);
	cr_assert_eq(f->priority, LOG_WARNING);
	cr_assert_eq(xv(f, "mem_pages"), 130000);
	cr_assert_eq(xv(f, "tcp_mem_min"), 92000);
	cr_assert_eq(xv(f, "tcp_mem_pressure"), 123000);
	cr_assert_eq(xv(f, "tcp_mem_max"), 185000);
	cr_assert_eq(xv(f, "memory_pressures"), 1);
	cr_assert_eq(xv(f, "abort_on_memory"), 0);
	cr_assert_eq(xv(f, "top_unread_bytes"), 4194304);
	cr_assert(has(f->detail, "10.0.0.1:5432 -> 10.0.0.9:40122 ESTABLISHED unread 4194304 B "
		      "unsent 0 B postgres[311]"), "%s", f->detail);
	cr_assert(has(f->detail, "\n10.0.0.0:0 -> 10.0.0.0:0 LAST_ACK unread 0 B unsent 65536 B "
		      "(orphaned)"), "%s", f->detail);
	cr_assert(has(words(f)->message, "under pressure"), "%s", words(f)->message);
	cr_assert(has(words(f)->message, "92000 123000 185000"), "%s", words(f)->message);
	cr_assert(has(words(f)->message, "stalls"), "%s", words(f)->message);
	cr_assert(has(words(f)->remedy, "postgres[311]"), "%s", words(f)->remedy);
	cr_assert(has(words(f)->remedy, "to 184000 246000 370000 pages"), "%s", words(f)->remedy);
	cr_assert_str_eq(f->knob, "net.ipv4.tcp_mem");
	cr_assert_eq(f->knob_current, 123000);
	cr_assert_eq(f->knob_suggested, 246000);
	assert_all_well_formed(&w);
	w_free(&w);
}

Test(tcp_memory, aborts_or_the_kernel_line_alone_fire_as_errors)
{
	struct world w;
	const struct finding *f;

	w_init(&w);
	w.use_deep = false;
	w_tick(&w);
	w_counter(&w, "TcpExt.TCPAbortOnMemory", 12);
	w_tick(&w);
	f = w_get(&w, CAUSE_TCP_MEMORY);
	cr_assert_eq(f->priority, LOG_ERR);
	cr_assert_eq(xv(f, "abort_on_memory"), 12);
	cr_assert(has(words(f)->message, "resets on the connections it aborted"), "%s", words(f)->message);
	cr_assert(has(words(f)->remedy, "ss -tmn"), "%s", words(f)->remedy);
	cr_assert_str_eq(f->detail, "");
	assert_all_well_formed(&w);

	w_event(&w, KMSG_TCP_OOM, 0, "", false);
	w_tick(&w);
	f = w_get(&w, CAUSE_TCP_MEMORY);
	cr_assert_eq(xv(f, "kmsg_tcp_oom"), 1);
	cr_assert(has(words(f)->message, "out of memory -- consider tuning tcp_mem"), "%s", words(f)->message);
	cr_assert_eq(w_tick(&w), 0);
	w_free(&w);
}

Test(tcp_memory, silent_below_pressure_or_with_unknown_limits)
{
	struct world w;

	w_init(&w);
	w.ss.tcp_mem = 122999;
	cr_assert_eq(w_tick(&w), 0);
	w.ss.tcp_mem = 200000;
	w.lim.tcp_mem[0] = w.lim.tcp_mem[1] = w.lim.tcp_mem[2] = SYSCTL_UNKNOWN;
	cr_assert_eq(w_tick(&w), 0);
	w_free(&w);
}

Test(chain, tcp_memory_explains_orphans)
{
	struct world w;
	const struct finding *f;

	w_init(&w);
	w_tick(&w);
	w.ss.tcp_mem = 190000;
	w.ss.tcp_orphan = 60000;
	w_event(&w, KMSG_ORPHANS, 0, "", false);
	w_tick(&w);
	cr_assert_eq(w.out.count, 2);
	cr_assert_eq(w.out.items[0].cause, CAUSE_TCP_MEMORY);
	cr_assert(has(words(&w.out.items[0])->message, "at its limit"), "%s", words(&w.out.items[0])->message);
	cr_assert_eq(w.out.items[0].priority, LOG_ERR);
	f = &w.out.items[1];
	cr_assert_eq(f->cause, CAUSE_ORPHANS);
	cr_assert_eq(f->explained_by, CAUSE_TCP_MEMORY);
	cr_assert(has(words(f)->message, "Side effect of tcp-memory: the host holds"), "%s", words(f)->message);
	/*
	 * Text is composed once: diagnose() stores the fact (the cause, and no
	 * key for a host-wide one), finding_words() says it once, and no stored
	 * field holds the clause for a consumer to print again.
	 */
	cr_assert(finding_is_side_effect(f));
	cr_assert_not(finding_is_side_effect(&w.out.items[0]));
	cr_assert_eq(occurrences(words(f)->message, "ide effect of"), 1, "%s", words(f)->message);
	cr_assert(strncmp(words(f)->message, "Side effect of tcp-memory: ", 27) == 0);
	cr_assert_eq(occurrences(words(f)->remedy, "ide effect of"), 0);
	cr_assert_eq(occurrences(words(&w.out.items[0])->message, "ide effect of"), 0);
	cr_assert_str_eq(f->explained_by_key, "");
	cr_assert_eq(occurrences(f->body.happened, "ide effect"), 0, "%s", f->body.happened);
	assert_all_well_formed(&w);
	w_free(&w);
}

/* A zeroed finding is a cause in its own right: CAUSE_NONE is what zero means. */
Test(chain, zeroed_finding_is_no_side_effect)
{
	struct finding f;
	struct finding_words fw;

	memset(&f, 0, sizeof(f));
	cr_assert_eq(f.explained_by, CAUSE_NONE);
	cr_assert_not(finding_is_side_effect(&f));
	finding_words(&f, &fw);
	cr_assert_str_eq(fw.message, "");
	cr_assert_str_eq(fw.remedy, "");
	/* Nor is a finding that names its own cause. */
	f.cause = CAUSE_BACKLOG_CLAMPED;
	f.explained_by = CAUSE_BACKLOG_CLAMPED;
	cr_assert_not(finding_is_side_effect(&f));
}

/* A finding from another namespace says where to run its remedy, once, and keeps it whole. */
Test(finding, remedy_names_the_namespace_once)
{
	struct finding f;
	struct finding_words fw;

	memset(&f, 0, sizeof(f));
	f.cause = CAUSE_BACKLOG_SMALL;
	snprintf(f.body.happened, sizeof(f.body.happened), "127.0.0.1:8080 overflowed.");
	memset(f.body.fix, 'x', sizeof(f.body.fix) - 1);
	snprintf(f.netns_name, sizeof(f.netns_name), "blue");
	snprintf(f.netns_enter, sizeof(f.netns_enter), "ip netns exec blue");
	finding_words(&f, &fw);
	cr_assert(strncmp(fw.remedy, "in network namespace blue (enter it with ip netns exec blue): xxx",
			  64) == 0, "%s", fw.remedy);
	cr_assert_eq(occurrences(fw.remedy, "network namespace"), 1);
	cr_assert_eq(strlen(fw.remedy), strlen("in network namespace blue (enter it with ip netns exec "
					       "blue): ") + sizeof(f.body.fix) - 1, "not cut");
	cr_assert_str_eq(fw.message, "127.0.0.1:8080 overflowed.");
}

/* ---- orphans ---- */

Test(orphans, near_the_limit)
{
	struct world w;
	const struct finding *f;

	w_init(&w);
	w.ss.tcp_orphan = 60000;      /* 91% of 65536 */
	w_tick(&w);
	cr_assert_eq(w.out.count, 1);
	f = w_get(&w, CAUSE_ORPHANS);
	cr_assert_eq(f->scope, SCOPE_HOST);
	cr_assert_eq(f->explained_by, CAUSE_NONE);
	cr_assert_eq(f->priority, LOG_WARNING);
	cr_assert_eq(xv(f, "orphans"), 60000);
	cr_assert_eq(xv(f, "tcp_max_orphans"), 65536);
	cr_assert_eq(xv(f, "kmsg_orphans"), 0);
	cr_assert_str_eq(f->knob, "net.ipv4.tcp_max_orphans");
	cr_assert_eq(f->knob_current, 65536);
	cr_assert_eq(f->knob_suggested, 131072);
	cr_assert(has(words(f)->message, "91% of net.ipv4.tcp_max_orphans=65536"), "%s", words(f)->message);
	cr_assert(has(words(f)->message, "resets"), "%s", words(f)->message);
	cr_assert(has(words(f)->remedy, "from 65536 to 131072"), "%s", words(f)->remedy);
	cr_assert(has(words(f)->remedy, "peers that do not close"), "%s", words(f)->remedy);
	assert_all_well_formed(&w);

	/* The kernel line alone is enough, as an error. */
	w.ss.tcp_orphan = 10;
	w_event(&w, KMSG_ORPHANS, 0, "", false);
	w_tick(&w);
	f = w_get(&w, CAUSE_ORPHANS);
	cr_assert_eq(f->priority, LOG_ERR);
	cr_assert(has(words(f)->message, "too many orphaned sockets"), "%s", words(f)->message);
	w_free(&w);
}

Test(orphans, silent_below_threshold_or_limit_unknown)
{
	struct world w;

	w_init(&w);
	w.ss.tcp_orphan = 52000;      /* 79% */
	cr_assert_eq(w_tick(&w), 0);
	w.ss.tcp_orphan = 65536;
	w.lim.tcp_max_orphans = SYSCTL_UNKNOWN;
	cr_assert_eq(w_tick(&w), 0);
	w.lim.tcp_max_orphans = 0;
	cr_assert_eq(w_tick(&w), 0, "0 is no limit to compare with");
	w_free(&w);
}

/* ---- conntrack-full ---- */

Test(conntrack, table_near_full_with_no_listen_counter_moving)
{
	struct world w;
	const struct finding *f;

	w_init(&w);
	w_tick(&w);
	w.ct.count = 250000;          /* 95% of 262144 */
	w.ct.drop += 512;
	w.ct.early_drop += 30;
	w_tick(&w);
	cr_assert_eq(w.out.count, 1);
	f = w_get(&w, CAUSE_CONNTRACK_FULL);
	cr_assert_eq(f->scope, SCOPE_HOST);
	cr_assert_eq(f->explained_by, CAUSE_NONE);
	cr_assert_eq(f->priority, LOG_ERR);
	cr_assert_eq(xv(f, "conntrack_count"), 250000);
	cr_assert_eq(xv(f, "nf_conntrack_max"), 262144);
	cr_assert_eq(xv(f, "drop"), 512);
	cr_assert_eq(xv(f, "early_drop"), 30);
	cr_assert_eq(xv(f, "insert_failed"), 0);
	cr_assert_eq(xv(f, "listen_overflows"), 0);
	cr_assert_eq(xv(f, "listen_drops"), 0);
	cr_assert(has(words(f)->message, "conntrack table is full"), "%s", words(f)->message);
	cr_assert(has(words(f)->message, "no listen counter moved"), "%s", words(f)->message);
	cr_assert(has(words(f)->message, "connect timeouts"), "%s", words(f)->message);
	cr_assert_str_eq(f->knob, "net.netfilter.nf_conntrack_max");
	cr_assert_eq(f->knob_current, 262144);
	cr_assert_eq(f->knob_suggested, 524288);
	cr_assert(has(words(f)->remedy, "from 262144 to 524288"), "%s", words(f)->remedy);
	cr_assert(has(words(f)->remedy, "timeout"), "%s", words(f)->remedy);
	assert_all_well_formed(&w);
	w_free(&w);
}

Test(conntrack, drops_or_the_kernel_line_alone)
{
	struct world w;
	const struct finding *f;

	w_init(&w);
	w_tick(&w);
	w.ct.insert_failed += 3;
	w_tick(&w);
	f = w_get(&w, CAUSE_CONNTRACK_FULL);
	cr_assert_eq(xv(f, "insert_failed"), 3);
	cr_assert(has(words(f)->message, "dropped packets"), "%s", words(f)->message);
	cr_assert_not(has(words(f)->message, "is full"), "the table is not full: %s", words(f)->message);
	assert_all_well_formed(&w);

	w_event(&w, KMSG_CONNTRACK_FULL, 0, "", false);
	w_tick(&w);
	f = w_get(&w, CAUSE_CONNTRACK_FULL);
	cr_assert_eq(xv(f, "kmsg_conntrack_full"), 1);
	cr_assert_eq(f->priority, LOG_ERR);

	/* Near full, nothing dropped yet: a warning. */
	w.ct.count = 240000;
	w_tick(&w);
	cr_assert_eq(w_get(&w, CAUSE_CONNTRACK_FULL)->priority, LOG_WARNING);

	/* It stands alone: an overflow at the same time is no side effect of it, nor it of that. */
	w_listener(&w, 1, 127, 0, 0, 1, 80, 2);
	w_tick(&w);
	w_find(&w, 1)->queue = 3;
	w_find(&w, 1)->drops += 2;
	w_counter(&w, "TcpExt.ListenOverflows", 2);
	w_tick(&w);
	cr_assert_eq(w_get(&w, CAUSE_CONNTRACK_FULL)->explained_by, CAUSE_NONE);
	cr_assert_eq(w_get(&w, CAUSE_BACKLOG_SMALL)->explained_by, CAUSE_NONE);
	cr_assert(has(words(w_get(&w, CAUSE_CONNTRACK_FULL))->message, "listen counters moved too"));
	w_free(&w);
}

Test(conntrack, silent_when_roomy_absent_or_counters_reset)
{
	struct world w;

	w_init(&w);
	w.ct.count = 200000;          /* 76% */
	cr_assert_eq(w_tick(&w), 0);
	/* Module reloaded: the per-CPU sums start again from 0. */
	w.ct.drop = 0;
	w.ct.early_drop = 0;
	w.ct.insert_failed = 0;
	cr_assert_eq(w_tick(&w), 0);
	/* Module not loaded. */
	w.ct = (struct conntrack_stat){ .present = false, .count = -1 };
	cr_assert_eq(w_tick(&w), 0);
	cr_assert_eq(w_tick(&w), 0);
	w_free(&w);
}

/* ---- link-drops ---- */

Test(link_drops, interface_drops_rising)
{
	struct world w;
	const struct finding *f;

	w_init(&w);
	w_tick(&w);
	w.links.items[1].rx_dropped += 100;
	w.links.items[1].rx_missed_errors += 20;
	w.links.items[1].rx_packets += 50000;
	w_tick(&w);
	cr_assert_eq(w.out.count, 1);
	f = w_get(&w, CAUSE_LINK_DROPS);
	cr_assert_eq(f->scope, SCOPE_INTERFACE);
	cr_assert_str_eq(f->listener, "eth0");
	cr_assert_str_eq(f->subject, "eth0");
	cr_assert_eq(f->priority, LOG_WARNING);
	cr_assert_eq(xv(f, "rx_dropped"), 100);
	cr_assert_eq(xv(f, "rx_missed_errors"), 20);
	cr_assert_eq(xv(f, "rx_fifo_errors"), 0);
	cr_assert_eq(xv(f, "rx_packets"), 50000);
	cr_assert_eq(xv(f, "ifindex"), 2);
	cr_assert(has(words(f)->message, "eth0 dropped 120 received packets"), "%s", words(f)->message);
	cr_assert(has(words(f)->message, "timeouts"), "%s", words(f)->message);
	cr_assert(has(words(f)->remedy, "ethtool -G eth0"), "%s", words(f)->remedy);
	assert_all_well_formed(&w);

	/* Matched by ifindex, not position: a new interface in front changes nothing. */
	w.links.items[2] = w.links.items[1];
	w.links.items[1] = (struct link_stat){ .ifindex = 9, .name = "veth9", .rx_dropped = 5000 };
	w.links.count = 3;
	w.links.items[2].rx_fifo_errors += 4;
	w_tick(&w);
	cr_assert_eq(w.out.count, 1, "veth9 has no previous sample");
	f = w_get(&w, CAUSE_LINK_DROPS);
	cr_assert_str_eq(f->listener, "eth0");
	cr_assert_eq(xv(f, "rx_fifo_errors"), 4);
	cr_assert_eq(xv(f, "rx_dropped"), 0);
	w_free(&w);
}

/* rx_dropped alone is noise below link_dropped_min (LLDP and other unknown frames count there). */
Test(link_drops, rx_dropped_alone_needs_the_threshold_and_names_its_knob)
{
	struct world w;
	const struct finding *f;

	w_init(&w);
	w_tick(&w);
	w.links.items[1].rx_dropped += 3;
	cr_assert_eq(w_tick(&w), 0, "3 unknown-protocol frames are not a finding");
	w.links.items[1].rx_dropped += 10;
	cr_assert_eq(w_tick(&w), 1);
	f = w_get(&w, CAUSE_LINK_DROPS);
	cr_assert_str_eq(f->knob, "net.core.netdev_max_backlog");
	cr_assert(has(words(f)->remedy, "net.core.netdev_max_backlog"), "%s", words(f)->remedy);
	/* Any missed frame is the NIC out of buffers: reported, with the ring as the knob. */
	w.links.items[1].rx_missed_errors += 1;
	cr_assert_eq(w_tick(&w), 1);
	f = w_get(&w, CAUSE_LINK_DROPS);
	cr_assert_str_eq(f->knob, "NIC rx ring (ethtool -G)");
	cr_assert(has(words(f)->remedy, "ethtool -G eth0"), "%s", words(f)->remedy);
	w_free(&w);
}

Test(link_drops, silent_when_flat_or_reset)
{
	struct world w;

	w_init(&w);
	w.links.items[1].rx_packets += 100;
	cr_assert_eq(w_tick(&w), 0);
	cr_assert_eq(w_tick(&w), 0);
	/* A driver reset the counters: backwards is no drop. */
	w.links.items[1].rx_dropped = 0;
	w.links.items[1].rx_missed_errors = 0;
	cr_assert_eq(w_tick(&w), 0);
	w_free(&w);
}

/* ---- everything at once ---- */

Test(chain, every_cause_fires_well_formed_primaries_first)
{
	struct world w;
	bool seen[CAUSE_COUNT] = { false };
	size_t i;
	bool side = false;

	w_init(&w);
	w_listener(&w, 1, 127, 0, 0, 1, 8080, 8);                     /* syn-flood + backlog-small */
	w_listener(&w, 2, 0, 0, 0, 0, 9000, 128);                     /* reuseport pair */
	w_listener(&w, 3, 0, 0, 0, 0, 9000, 128);
	w_listener(&w, 4, 10, 0, 0, 7, 7000, 128);                    /* drops with room */
	w_listener(&w, 5, 127, 0, 0, 1, 6000, 128);                   /* listener-gap */
	w_listener(&w, 6, 127, 0, 0, 1, 5000, 4);                     /* slow-accept */
	w_tick(&w);
	w_remove(&w, 5);
	w_find(&w, 1)->queue = 9;
	w_find(&w, 1)->drops += 3;
	w_find(&w, 2)->queue = 129;
	w_find(&w, 2)->drops += 3;
	w_find(&w, 4)->drops += 3;
	w_find(&w, 6)->queue = 5;
	w_find(&w, 6)->drops += 1;
	w.state_cookie = 6;
	w.state_letter = 'T';
	w_synrecv(&w, 7, 7000, 200);
	w_synrecv(&w, 0, 0, 0);                                       /* 8080's requests at its limit */
	w.sr[w.deep.n_synrecv - 1].addr[0] = 127;
	w.sr[w.deep.n_synrecv - 1].addr[3] = 1;
	w.sr[w.deep.n_synrecv - 1].port = 8080;
	w.sr[w.deep.n_synrecv - 1].count = 9;
	w_event(&w, KMSG_SYN_FLOOD, 8080, "127.0.0.1", true);
	w_counter(&w, "TcpExt.TCPReqQFullDoCookies", 4);
	w_counter(&w, "TcpExt.SyncookiesSent", 40);                   /* none came back: proven */
	w_counter(&w, "TcpExt.ListenOverflows", 7);
	w_counter(&w, "TcpExt.ListenDrops", 20);
	w_counter(&w, "TcpExt.TCPReqQFullDrop", 13);
	w_counter(&w, "TcpExt.TCPTimeWaitOverflow", 2);
	w_counter(&w, "Tcp.OutRsts", 10);
	w_dest(&w, 5, 5432, 1000, 25000);
	w.ss.tcp_mem = 200000;
	w.ss.tcp_orphan = 65000;
	w.ct.count = 262000;
	w.links.items[1].rx_missed_errors += 8;
	w_tick(&w);

	for (i = 0; i < w.out.count; i++) {
		const struct finding *f = &w.out.items[i];

		seen[f->cause] = true;
		assert_well_formed(f);
		cr_assert_eq(occurrences(words(f)->message, "ide effect of"),
			     finding_is_side_effect(f) ? 1u : 0u, "%s", words(f)->message);
		if (finding_is_side_effect(f))
			side = true;
		else
			cr_assert_not(side, "a primary after a side effect: %s", cause_code(f->cause));
	}
	/* syn-queue-drop needs cookies off, syn-flood cookies on: not both in one namespace. */
	for (i = CAUSE_FIRST; i < CAUSE_COUNT; i++)
		if (i != CAUSE_BACKLOG_CLAMPED && i != CAUSE_OVERFLOW_RESET && i != CAUSE_SYN_QUEUE_DROP)
			cr_assert(seen[i], "%s fired", cause_code((enum cause)i));
	for (i = 0; i < w.out.count; i++) {
		const struct finding *f = &w.out.items[i];

		if (f->cause != CAUSE_BACKLOG_SMALL)
			continue;
		if (strcmp(f->listener, "127.0.0.1:8080") == 0)
			cr_assert_eq(f->explained_by, CAUSE_SYN_FLOOD);
		else if (strcmp(f->listener, "0.0.0.0:9000") == 0)
			cr_assert_eq(f->explained_by, CAUSE_REUSEPORT_IMBALANCE);
	}
	cr_assert_eq(w_get(&w, CAUSE_TIMEWAIT_OVERFLOW)->explained_by, CAUSE_EPHEMERAL_PORTS);
	cr_assert_eq(w_get(&w, CAUSE_ORPHANS)->explained_by, CAUSE_TCP_MEMORY);
	/* A pair with owners unknown: the socket is named by its inode. */
	cr_assert(has(words(w_get(&w, CAUSE_REUSEPORT_IMBALANCE))->message,
		      "only one member, socket inode 5002 (owner unknown), overflowed"), "%s",
		  words(w_get(&w, CAUSE_REUSEPORT_IMBALANCE))->message);
	cr_assert(has(words(w_get(&w, CAUSE_REUSEPORT_IMBALANCE))->message, "while the other held 0;"));
	cr_assert(has(words(w_get(&w, CAUSE_LISTENER_GAP))->message, "since its last listener stopped"));
	cr_assert_eq(w_get(&w, CAUSE_CONNTRACK_FULL)->explained_by, CAUSE_NONE);
	cr_assert_eq(w_get(&w, CAUSE_SLOW_ACCEPT)->explained_by, CAUSE_NONE);
	cr_assert_eq(w_get(&w, CAUSE_LINK_DROPS)->explained_by, CAUSE_NONE);
	cr_assert_eq(w_get(&w, CAUSE_LISTENER_GAP)->explained_by, CAUSE_NONE);
	w_free(&w);
}

/* The first slice's findings are primaries about listeners. */
Test(chain, accept_queue_findings_are_listener_primaries)
{
	struct scen s;

	scen_init(&s, 2, 4096, 0);
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 3, 5, 5), 1);
	cr_assert_eq(only(&s)->scope, SCOPE_LISTENER);
	cr_assert_eq(only(&s)->explained_by, CAUSE_NONE);
	cr_assert_eq(only(&s)->n_extra, 0);
	cr_assert_str_eq(only(&s)->detail, "");
	scen_free(&s);
}

/*
 * Another listener's overflow moves the host's ListenOverflows in the same
 * tick: the overflow rule then reads this listener's SYN-queue drops as an
 * accept-queue overflow too. That finding is a side effect of syn-queue-drop.
 */
Test(syn_queue_drop, explains_an_overflow_read_into_the_same_listener)
{
	struct world w;
	const struct finding *f;
	const struct finding_words *fw;

	syn_queue_setup(&w);
	w_find(&w, 1)->queue = 3;
	w_find(&w, 1)->drops += 12;
	w_synrecv(&w, 1, 80, 129);
	w_counter(&w, "TcpExt.TCPReqQFullDrop", 12);
	w_counter(&w, "TcpExt.ListenDrops", 20);
	w_counter(&w, "TcpExt.ListenOverflows", 8);
	w_tick(&w);
	cr_assert_eq(w_count(&w, CAUSE_SYN_QUEUE_DROP), 1);
	f = w_get(&w, CAUSE_SYN_QUEUE_DROP);
	cr_assert_eq(f->explained_by, CAUSE_NONE);
	cr_assert_eq(w.out.count, 2, "the overflow rule also read it: %zu findings", w.out.count);
	cr_assert_eq(w.out.items[0].cause, CAUSE_SYN_QUEUE_DROP, "the cause comes first");
	cr_assert_eq(w.out.items[1].explained_by, CAUSE_SYN_QUEUE_DROP);
	cr_assert_eq(w.out.items[1].cookie, f->cookie);
	/* Said once, naming the listener of the cause. */
	fw = words(&w.out.items[1]);
	cr_assert_eq(occurrences(fw->message, "ide effect of"), 1, "%s", fw->message);
	cr_assert(strncmp(fw->message, "Side effect of syn-queue-drop on 10.0.0.1:80: 10.0.0.1:80 "
			  "overflowed", 56) == 0, "%s", fw->message);
	w_free(&w);
}
