/* diagnose.c: one diagnose() run: the thresholds in force, the host counters' deltas, every rule, then the causal chain. */
#include "base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diagnose.h"
#include "rules.h"

/* The defaults of struct diag_thresholds: written here and nowhere else. */
#define DEFAULT_SLOW_ACCEPT_TICKS 2
#define DEFAULT_FULL_WINDOW_TICKS 3
#define DEFAULT_GAP_MEMORY_SECS 300
#define DEFAULT_EPHEMERAL_PCT 80
#define DEFAULT_ORPHANS_PCT 80
#define DEFAULT_CONNTRACK_PCT 90
#define DEFAULT_REUSEPORT_ROOM_PCT 50
#define DEFAULT_LINK_DROPPED_MIN 10

void finding_list_init(struct finding_list *fl)
{
	memset(fl, 0, sizeof(*fl));
}

void finding_list_clear(struct finding_list *fl)
{
	fl->count = 0;
}

void finding_list_free(struct finding_list *fl)
{
	free(fl->items);
	finding_list_init(fl);
}

/* Return: a zeroed slot at the end of fl, or NULL when out of memory (fl unchanged). */
static struct finding *finding_list_add(struct finding_list *fl)
{
	struct finding *f;

	if (fl->count == fl->cap) {
		size_t ncap = fl->cap ? fl->cap * 2 : 8;
		struct finding *n;

		if (ncap > SIZE_MAX / sizeof(*n))
			return NULL;
		n = realloc(fl->items, ncap * sizeof(*n));
		if (!n)
			return NULL;
		fl->items = n;
		fl->cap = ncap;
	}
	f = &fl->items[fl->count++];
	memset(f, 0, sizeof(*f));
	return f;
}

void diag_thresholds_default(struct diag_thresholds *thr)
{
	thr->slow_accept_ticks = DEFAULT_SLOW_ACCEPT_TICKS;
	thr->full_window_ticks = DEFAULT_FULL_WINDOW_TICKS;
	thr->gap_memory_secs = DEFAULT_GAP_MEMORY_SECS;
	thr->ephemeral_pct = DEFAULT_EPHEMERAL_PCT;
	thr->orphans_pct = DEFAULT_ORPHANS_PCT;
	thr->conntrack_pct = DEFAULT_CONNTRACK_PCT;
	thr->reuseport_room_pct = DEFAULT_REUSEPORT_ROOM_PCT;
	thr->link_dropped_min = DEFAULT_LINK_DROPPED_MIN;
}

/* A zero threshold means "not set": fall back to the default rather than fire on everything. */
static void thresholds_in_force(const struct diag_thresholds *thr, struct diag_thresholds *th)
{
	diag_thresholds_default(th);
	if (!thr)
		return;
#define SET_IF_GIVEN(field) do { if (thr->field) th->field = thr->field; } while (0)
	SET_IF_GIVEN(slow_accept_ticks);
	SET_IF_GIVEN(full_window_ticks);
	SET_IF_GIVEN(gap_memory_secs);
	SET_IF_GIVEN(ephemeral_pct);
	SET_IF_GIVEN(orphans_pct);
	SET_IF_GIVEN(conntrack_pct);
	SET_IF_GIVEN(reuseport_room_pct);
	SET_IF_GIVEN(link_dropped_min);
#undef SET_IF_GIVEN
}

int64_t host_delta(const struct track *t, const char *name)
{
	int64_t d;

	return track_host_delta(t, name, &d) ? d : -1;
}

struct finding *new_finding(struct ctx *c, enum cause cause)
{
	const struct cause_info *ci = cause_info(cause);
	struct finding *f = finding_list_add(c->out);

	if (!f)
		return NULL;
	f->cause = cause;
	f->underlying = cause;
	f->scope = ci->scope;
	f->explained_by = CAUSE_NONE;
	f->priority = ci->severity;
	f->knob_current = -1;
	f->knob_suggested = -1;
	f->ev.somaxconn = somaxconn_known(c->lim) ? c->lim->somaxconn : SYSCTL_UNKNOWN;
	f->ev.abort_on_overflow = c->lim->tcp_abort_on_overflow >= 0 ? c->lim->tcp_abort_on_overflow
								     : SYSCTL_UNKNOWN;
	f->ev.host_overflows = c->overflows;
	return f;
}

void add_ev(struct finding *f, const char *name, int64_t value)
{
	struct evidence_item *e;

	if (f->n_extra >= FINDING_EXTRA_MAX)
		return;
	e = &f->extra[f->n_extra++];
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->value = value;
}

void set_knob(struct finding *f, const char *knob, int64_t cur, int64_t sug)
{
	snprintf(f->knob, sizeof(f->knob), "%s", knob);
	f->knob_current = cur;
	f->knob_suggested = sug;
}

void set_key(struct finding *f, const char *key)
{
	snprintf(f->listener, sizeof(f->listener), "%s", key);
	snprintf(f->subject, sizeof(f->subject), "%s", key);
}

void set_host(struct finding *f)
{
	set_key(f, "host");
	f->scope = SCOPE_HOST;
}

void listener_evidence(struct finding *f, const struct tracked *tr)
{
	f->ev.drops_delta = tr->drops_delta;
	f->ev.drops_total = tr->drops_total;
	f->ev.queue = tr->l.queue;
	f->ev.backlog = tr->l.backlog;
	f->ev.peak_queue = tr->peak_queue;
	f->ev.ticks_full = tr->ticks_full;
	f->ev.owner_state = tr->owner_state;
}

bool have_finding(const struct finding_list *out, enum cause cause, const char *key)
{
	size_t i;

	for (i = 0; i < out->count; i++)
		if (out->items[i].cause == cause &&
		    strncmp(out->items[i].listener, key, sizeof(out->items[i].listener)) == 0)
			return true;
	return false;
}

size_t count_kmsg(const struct track *t, enum kmsg_kind kind)
{
	size_t i, n = 0;

	for (i = 0; i < t->n_kmsg; i++)
		if (t->kmsg[i].kind == kind)
			n++;
	return n;
}

int diagnose(const struct track *t, const struct diag_thresholds *thr, struct finding_list *out)
{
	static int (*const rules[])(struct ctx *) = {
		rule_accept_queue,
		rule_syn_queue_drop,
		rule_syn_flood,
		rule_listener_gap,
		rule_ephemeral_ports,
		rule_timewait_overflow,
		rule_tcp_memory,
		rule_orphans,
		rule_conntrack_full,
		rule_link_drops,
	};
	struct ctx c;
	size_t i;

	finding_list_clear(out);
	memset(&c, 0, sizeof(c));
	c.t = t;
	c.lim = &t->limits;
	c.out = out;
	thresholds_in_force(thr, &c.th);
	c.overflows = host_delta(t, "TcpExt.ListenOverflows");
	c.listen_drops = host_delta(t, "TcpExt.ListenDrops");
	c.reqq_drop = host_delta(t, "TcpExt.TCPReqQFullDrop");
	c.reqq_cookies = host_delta(t, "TcpExt.TCPReqQFullDoCookies");
	c.cookies_sent = host_delta(t, "TcpExt.SyncookiesSent");
	c.tw_overflow = host_delta(t, "TcpExt.TCPTimeWaitOverflow");
	c.mem_pressures = host_delta(t, "TcpExt.TCPMemoryPressures");
	c.abort_mem = host_delta(t, "TcpExt.TCPAbortOnMemory");
	c.out_rsts = host_delta(t, "Tcp.OutRsts");

	for (i = 0; i < ARRAY_SIZE(rules); i++)
		if (rules[i](&c) < 0)
			return -ENOMEM;
	chain_explain(out);
	return 0;
}
