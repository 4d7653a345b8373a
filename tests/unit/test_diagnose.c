/* test_diagnose.c: every accept-queue rule fires when it should and stays silent when it should not. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>

#include "diagnose.h"
#include "track.h"

/*
 * A scenario: one listener on 127.0.0.1:8080 driven tick by tick through
 * track_update, as the monitor would, with the host's ListenOverflows total.
 */
struct scen {
	struct track t;
	struct finding_list out;
	struct diag_thresholds thr;
	struct limits lim;
	struct listener l;
	int64_t overflows;          /* TcpExt.ListenOverflows total; -1: counter not read */
	int64_t now_ms;
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
	memset(&tr->owner, 0, sizeof(tr->owner));
	tr->owner.inode = s->l.inode;
	tr->owner.nprocs = total < OWNER_MAX_PROCS ? total : OWNER_MAX_PROCS;
	tr->owner.nprocs_total = total;
	tr->owner.procs[0].pid = pid;
	snprintf(tr->owner.procs[0].comm, sizeof(tr->owner.procs[0].comm), "%s", comm);
	snprintf(tr->owner.unit, sizeof(tr->owner.unit), "%s", unit);
}

/*
 * One tick: the listener shows queue and drops_add more drops, the host's
 * ListenOverflows grows by overflows_add. Return: the number of findings.
 */
static size_t tick(struct scen *s, uint32_t queue, uint32_t drops_add, int64_t overflows_add)
{
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
	cr_assert_eq(track_update(&s->t, &set, &host, &s->lim, s->now_ms), 0);
	cr_assert_eq(diagnose(&s->t, &s->thr, &s->out), 0);
	return s->out.count;
}

static const struct finding *only(const struct scen *s)
{
	cr_assert_eq(s->out.count, 1, "expected one finding, got %zu", s->out.count);
	return &s->out.items[0];
}

static bool has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
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

	/* Queue at the backlog but never above it (not full), no drops. */
	scen_init(&s, 128, 4096, 0);
	for (i = 0; i < 20; i++)
		cr_assert_eq(tick(&s, 128, 0, 0), 0);
	/* At the backlog, not above it, with non-overflow drops: still not full. */
	for (i = 0; i < 5; i++)
		cr_assert_eq(tick(&s, 128, 2, 0), 0);
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
	track_find(&s.t, s.l.cookie)->owner_state = 'T';
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
	cr_assert(has(f->remedy, "from 2 to at least 128"), "%s", f->remedy);
	cr_assert(has(f->remedy, "Java ServerSocket 50"));
	cr_assert(has(f->remedy, "Tomcat acceptCount 100"));
	cr_assert(has(f->remedy, "nginx/Node.js/Redis 511"));
	cr_assert(has(f->remedy, "net.core.somaxconn=4096"), "%s", f->remedy);
	cr_assert(has(f->message, "127.0.0.1:8080"));
	cr_assert(has(f->message, "5 drops"), "%s", f->message);
	cr_assert(has(f->message, "backlog 2"));
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
	cr_assert(has(f->remedy, "net.core.somaxconn=8"), "%s", f->remedy);
	cr_assert(has(f->remedy, "from 8 to 4096"));
	cr_assert(has(f->remedy, "sysctl -w net.core.somaxconn=4096"));
	cr_assert(has(f->remedy, "/etc/sysctl.d/"));
	cr_assert(has(f->remedy, "restart nginx.service"), "%s", f->remedy);
	cr_assert(has(f->message, "net.core.somaxconn=8"), "%s", f->message);
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
	cr_assert(has(only(&s)->remedy, "net.core.somaxconn=65535"));
	cr_assert(has(only(&s)->remedy, "accept()"));
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
	cr_assert(has(f->remedy, "could not be read"), "%s", f->remedy);
	cr_assert_not(has(f->remedy, "net.core.somaxconn=-1"));
	scen_free(&s);

	/* Backlog 8 with somaxconn unknown: still not clamped. */
	scen_init(&s, 8, SYSCTL_UNKNOWN, 0);
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 9, 3, 3), 1);
	cr_assert_eq(only(&s)->cause, CAUSE_BACKLOG_SMALL);
	scen_free(&s);
}

Test(classify, slow_accept_after_five_full_ticks)
{
	struct scen s;
	const struct finding *f;
	int i;

	scen_init(&s, 16, 4096, 0);
	tick(&s, 0, 0, 0);
	set_owner(&s, "java", 3100, "app.service", 1);
	for (i = 1; i <= 4; i++) {
		cr_assert_eq(tick(&s, 17, 2, 2), 1);
		cr_assert_eq(only(&s)->cause, CAUSE_BACKLOG_SMALL, "full for %d ticks", i);
	}
	cr_assert_eq(tick(&s, 17, 2, 2), 1);
	f = only(&s);
	cr_assert_eq(f->cause, CAUSE_SLOW_ACCEPT);
	cr_assert_eq(f->underlying, CAUSE_SLOW_ACCEPT);
	cr_assert_eq(f->priority, LOG_ERR);
	cr_assert_eq(f->ev.ticks_full, 5);
	cr_assert_str_eq(f->knob, "accept loop");
	cr_assert(has(f->remedy, "java[3100] is not calling accept() fast enough"), "%s", f->remedy);
	cr_assert(has(f->remedy, "queue full for 5 ticks"));
	cr_assert(has(f->remedy, "raising the backlog only delays the drops"));
	cr_assert_not(has(f->remedy, "stopped"));

	/* Drained: the run is over, no finding; full again: counts from 1. */
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
	for (i = 0; i < 4; i++) {
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
	track_find(&s.t, s.l.cookie)->owner_state = 'T';
	cr_assert_eq(tick(&s, 9, 1, 1), 1);
	f = only(&s);
	cr_assert_eq(f->cause, CAUSE_SLOW_ACCEPT);
	cr_assert_eq(f->ev.ticks_full, 1);
	cr_assert_eq(f->ev.owner_state, 'T');
	cr_assert(has(f->remedy, "nginx[812]"));
	cr_assert(has(f->remedy, "state T"), "%s", f->remedy);
	cr_assert(has(f->remedy, "queue full for 1 tick;"), "%s", f->remedy);
	cr_assert(has(f->message, "stopped"), "%s", f->message);
	scen_free(&s);

	/* 't': stopped by a tracer. */
	scen_init(&s, 128, 4096, 0);
	tick(&s, 0, 0, 0);
	track_find(&s.t, s.l.cookie)->owner_state = 't';
	cr_assert_eq(tick(&s, 129, 1, 1), 1);
	cr_assert_eq(only(&s)->cause, CAUSE_SLOW_ACCEPT);
	cr_assert(has(only(&s)->remedy, "the application behind 127.0.0.1:8080"), "%s",
		  only(&s)->remedy);
	scen_free(&s);

	/* A sleeping owner ('S') is the normal case: classified by the queue. */
	scen_init(&s, 2, 4096, 0);
	tick(&s, 0, 0, 0);
	track_find(&s.t, s.l.cookie)->owner_state = 'S';
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
	cr_assert(has(f->message, "ECONNRESET"), "%s", f->message);
	cr_assert_not(has(f->message, "stalled"));
	cr_assert(has(f->remedy, "sysctl -w net.ipv4.tcp_abort_on_overflow=0"), "%s", f->remedy);
	cr_assert(has(f->remedy, "fix the overflow: raise the application's listen() backlog"),
		  "%s", f->remedy);
	scen_free(&s);

	scen_init(&s, 8, 8, 1);
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 9, 1, 1), 1);
	cr_assert_eq(only(&s)->cause, CAUSE_OVERFLOW_RESET);
	cr_assert_eq(only(&s)->underlying, CAUSE_BACKLOG_CLAMPED);
	cr_assert(has(only(&s)->remedy, "net.core.somaxconn=8"));
	scen_free(&s);

	scen_init(&s, 128, 4096, 1);
	tick(&s, 0, 0, 0);
	track_find(&s.t, s.l.cookie)->owner_state = 'T';
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
	cr_assert_not(has(f->message, "ECONNRESET"), "%s", f->message);
	cr_assert_not(has(f->message, "reset"));
	cr_assert(has(f->message, "connect timeouts or stalls"));
	cr_assert(has(f->message, "retransmitted after 1, 3, 7 s"));
	cr_assert(has(f->message, "stalled on their first request"));
	cr_assert_eq(f->ev.abort_on_overflow, 0);
	scen_free(&s);

	/* Unknown: both outcomes are possible, and the message says so. */
	scen_init(&s, 2, 4096, SYSCTL_UNKNOWN);
	tick(&s, 0, 0, 0);
	cr_assert_eq(tick(&s, 3, 1, 1), 1);
	f = only(&s);
	cr_assert_eq(f->cause, CAUSE_BACKLOG_SMALL, "unknown abort is no overflow-reset");
	cr_assert_not(has(f->message, "ECONNRESET"), "%s", f->message);
	cr_assert(has(f->message, "timeouts"));
	cr_assert(has(f->message, "immediate resets"));
	cr_assert(has(f->message, "could not be read"));
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
	cr_assert(has(only(&s)->message, "[::1]:443"));
	scen_free(&s);
}

Test(finding, evidence_holds_the_numbers)
{
	struct scen s;
	const struct finding_evidence *ev;

	scen_init(&s, 2, 4096, 0);
	tick(&s, 0, 0, 0);
	tick(&s, 3, 4, 4);
	track_find(&s.t, s.l.cookie)->owner_state = 'S';
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
	memset(tr->owner.procs[0].comm, 'c', sizeof(tr->owner.procs[0].comm));
	memset(tr->owner.unit, 'u', sizeof(tr->owner.unit));
	cr_assert_eq(tick(&s, 3, 1, 1), 1);
	f = only(&s);
	cr_assert_lt(strlen(f->subject), sizeof(f->subject));
	cr_assert_lt(strlen(f->message), sizeof(f->message));
	cr_assert_lt(strlen(f->remedy), sizeof(f->remedy));
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
	cr_assert_null(strstr(f->message, ". "), "%s", f->message);
	cr_assert_eq(f->message[strlen(f->message) - 1], '.');
	cr_assert_null(strstr(f->remedy, ". "), "%s", f->remedy);
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
	cr_assert_eq(track_update(&t, &set, NULL, &lim, 1000), 0);
	l[0].queue = 4;               /* busy */
	l[1].queue = 5;               /* full and dropping */
	l[1].drops = 3;
	l[2].drops = 9;               /* dropping with room: not an overflow */
	cr_assert_eq(track_update(&t, &set, NULL, &lim, 2000), 0);
	cr_assert_eq(diagnose(&t, NULL, &out), 0);
	cr_assert_eq(out.count, 1);
	cr_assert_str_eq(out.items[0].listener, "10.0.0.2:80");
	cr_assert_eq(out.items[0].ev.host_overflows, -1, "no counters read: unknown");

	/* out is cleared on every run. */
	l[1].queue = 0;
	cr_assert_eq(track_update(&t, &set, NULL, &lim, 3000), 0);
	cr_assert_eq(track_update(&t, &set, NULL, &lim, 4000), 0);
	cr_assert_eq(track_update(&t, &set, NULL, &lim, 5000), 0);
	cr_assert_eq(diagnose(&t, NULL, &out), 0);
	cr_assert_eq(out.count, 0);

	/*
	 * Nothing tracked any more: no accept-queue finding; what is left is
	 * that the three addresses lost their listeners (listener-gap).
	 */
	set.count = 0;
	cr_assert_eq(track_update(&t, &set, NULL, &lim, 6000), 0);
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
	const char *codes[] = { "backlog-clamped", "backlog-small", "slow-accept", "overflow-reset",
				"syn-queue-drop", "syn-flood", "listener-gap", "reuseport-imbalance",
				"ephemeral-ports", "timewait-overflow", "tcp-memory", "orphans",
				"conntrack-full", "link-drops" };
	int c, d;

	cr_assert_eq(sizeof(codes) / sizeof(codes[0]), CAUSE_COUNT);

	for (c = 0; c < CAUSE_COUNT; c++) {
		const char *id = cause_message_id((enum cause)c);
		size_t i;

		cr_assert_str_eq(cause_code((enum cause)c), codes[c]);
		cr_assert_eq(cause_from_code(codes[c]), c);
		cr_assert_not_null(id);
		cr_assert_eq(strlen(id), 32);
		for (i = 0; i < 32; i++)
			cr_assert(isxdigit((unsigned char)id[i]) && !isupper((unsigned char)id[i]));
		for (d = 0; d < c; d++)
			cr_assert_str_neq(id, cause_message_id((enum cause)d));
	}
	cr_assert_null(cause_code(CAUSE_COUNT));
	cr_assert_null(cause_message_id(CAUSE_COUNT));
	cr_assert_null(cause_code((enum cause)-1));
	cr_assert_eq(cause_from_code("syn-flood"), CAUSE_SYN_FLOOD);
	cr_assert_eq(cause_from_code("no-such-cause"), -1);
	cr_assert_eq(cause_from_code(""), -1);
	cr_assert_eq(cause_from_code(NULL), -1);
	/* Stable: the journal catalog is keyed by these. */
	cr_assert_str_eq(cause_message_id(CAUSE_BACKLOG_CLAMPED), "f4f995886b7d4d8bb8c391bc6ad48794");
	cr_assert_str_eq(cause_message_id(CAUSE_OVERFLOW_RESET), "ead4b29ec0a141b0b326ad081e3af571");
	cr_assert_str_eq(cause_message_id(CAUSE_BACKLOG_SMALL), "fabc72d41bbe4d6e9d95d63ef2a543cb");
	cr_assert_str_eq(cause_message_id(CAUSE_SLOW_ACCEPT), "00398cdd5b44430b87b6d20397ea6d1c");
	cr_assert_str_eq(cause_message_id(CAUSE_SYN_QUEUE_DROP), "d430a915dabe4802b6d238d5887b8a65");
	cr_assert_str_eq(cause_message_id(CAUSE_LINK_DROPS), "d13df3cb4f3d4a0cb074b71ad0cba1b2");
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
	cr_assert_eq(thr.slow_accept_ticks, 5);
	cr_assert_eq(thr.full_window_ticks, 3);
	cr_assert_eq(thr.gap_memory_secs, 300);
	cr_assert_eq(thr.ephemeral_pct, 80);
	cr_assert_eq(thr.orphans_pct, 80);
	cr_assert_eq(thr.conntrack_pct, 90);
	cr_assert_eq(thr.reuseport_room_pct, 50);
}
