/* rules_accept.c: the accept-queue rules: backlog-clamped, backlog-small, slow-accept, overflow-reset. */
#include "base.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rules.h"
#include "software.h"

/* Suggested values stay within what a 16-bit backlog (older kernels) can hold. */
#define BACKLOG_CAP 65535
#define SOMAXCONN_FLOOR 4096
#define LISTEN_BACKLOG_FLOOR 128

/*
 * A queue seen full at every sample, ticks and fast ones, for this long is
 * an application that stopped accepting (a blocked event loop, a GC pause, a
 * stopped worker): one that accepts lets it dip below full between arrivals,
 * and a burst that a small backlog cannot hold is over within a tick or two.
 */
#define STALL_MIN_MS 1500
/*
 * After a stall, the clients whose SYNs it dropped retry 1, 3 and 7 s later,
 * all at once: the overflow they make within this long is the stall's echo,
 * not a backlog too small for the traffic.
 */
#define STALL_ECHO_MS 8000

/* What the rules decided about one listener this tick. */
struct verdict {
	enum cause cause;
	enum cause underlying;
	bool stopped;              /* owner in state T/t */
	bool stalled;              /* full with no drain for STALL_MIN_MS, now */
	bool echo;                 /* an overflow within STALL_ECHO_MS of a stall that ended */
	int64_t stall_ms;          /* the stall's length so far (stalled) or in all (echo) */
	int64_t stall_ago_ms;      /* echo: how long ago it ended */
};

/* Smallest power of two >= x, for x <= 2^62. */
static int64_t pow2_at_least(int64_t x)
{
	int64_t p = 1;

	while (p < x)
		p *= 2;
	return p;
}

int64_t suggest_backlog(const struct limits *lim, int64_t backlog, int64_t want)
{
	int64_t sug = pow2_at_least(max64(LISTEN_BACKLOG_FLOOR, max64(want, backlog + 1)));

	sug = min64(sug, somaxconn_known(lim) ? min64(lim->somaxconn, BACKLOG_CAP) : BACKLOG_CAP);
	return sug > backlog ? sug : -1;
}

/* The queue was seen full (acceptq_full) within the last window ticks. */
static bool seen_full(const struct tracked *tr, unsigned window)
{
	unsigned k;

	for (k = 0; k < window; k++) {
		const struct tick_point *p = tracked_hist(tr, k);

		if (!p)
			break;
		if (acceptq_full(p->queue, p->backlog))
			return true;
	}
	return false;
}

/*
 * The stall evidence of tr: a full run that overflowed (its drops show
 * clients were turned away, not merely kept waiting), seen full by at least
 * slow_accept_ticks ticks and for STALL_MIN_MS, going on now, or ended
 * within STALL_ECHO_MS.
 */
static void judge_stall(const struct tracked *tr, const struct ctx *c, struct verdict *v)
{
	int64_t ago = c->t->now_ms - tr->stall_end_ms;

	v->stall_ms = tracked_full_ms(tr);
	v->stalled = v->stall_ms >= STALL_MIN_MS && tr->ticks_full >= c->th.slow_accept_ticks &&
		     tr->full_drops > 0;
	if (v->stalled || tr->stall_end_ms == 0 || tr->stall_ms < STALL_MIN_MS || tr->stall_drops == 0)
		return;
	if (ago >= 0 && ago <= STALL_ECHO_MS) {
		v->echo = true;
		v->stall_ms = tr->stall_ms;
		v->stall_ago_ms = ago;
	}
}

/*
 * Return: true when tr overflowed this tick, or its queue stays full with no
 * accept() after overflowing, with *v filled.
 *
 * sk_drops also moves for drops that are no overflow (TCP_DEFER_ACCEPT bare
 * ACKs, memory), so a drop counts only with a full queue seen recently or the
 * host's ListenOverflows moving: the queue can fill and drain between two
 * polls, and then only the counter saw it.
 *
 * One cause per listener: the application (stopped owner, a stall now or
 * lately) before the backlog, because a bigger backlog only delays the
 * drops of an application that does not accept.
 */
static bool judge(const struct tracked *tr, const struct ctx *c, struct verdict *v)
{
	const struct limits *lim = c->lim;
	bool overflow;
	enum cause cls;

	memset(v, 0, sizeof(*v));
	overflow = tr->drops_delta > 0 &&
		   (seen_full(tr, c->th.full_window_ticks) || c->overflows > 0);
	judge_stall(tr, c, v);
	if (!overflow && !v->stalled)
		return false;

	v->stopped = tr->owner_state == 'T' || tr->owner_state == 't';
	if (v->stopped || v->stalled || v->echo)
		cls = CAUSE_SLOW_ACCEPT;
	else if (somaxconn_known(lim) && (int64_t)tr->l.backlog >= lim->somaxconn)
		cls = CAUSE_BACKLOG_CLAMPED;
	else
		cls = CAUSE_BACKLOG_SMALL;

	v->underlying = cls;
	v->cause = lim->tcp_abort_on_overflow == 1 ? CAUSE_OVERFLOW_RESET : cls;
	return true;
}

/* Why the queue overflowed, by the verdict's class. */
static void write_reason(struct sbuf *sb, const struct finding *f, const struct tracked *tr,
			 const struct limits *lim, const struct verdict *v)
{
	if (v->underlying == CAUSE_SLOW_ACCEPT && v->stopped) {
		sb_printf(sb, "because the owning process ");
		actor(tr, f, sb);
		sb_printf(sb, " is stopped (state %c) and cannot accept()", tr->owner_state);
		if (v->stalled) {
			sb_printf(sb, "; the queue has stayed full for ");
			sb_secs(sb, v->stall_ms);
		}
	} else if (v->underlying == CAUSE_SLOW_ACCEPT && v->stalled) {
		sb_printf(sb, "because the application stalled: the queue has stayed full for ");
		sb_secs(sb, v->stall_ms);
		sb_printf(sb, " without draining, so ");
		actor(tr, f, sb);
		sb_printf(sb, " has not called accept() in that time");
		/* Read while it drops: a process blocked in the kernel explains the stall. */
		if (tr->owner_state == 'D')
			sb_printf(sb, " (its process is in uninterruptible sleep, state D: blocked in "
				  "the kernel, on disk or network file system I/O)");
	} else if (v->underlying == CAUSE_SLOW_ACCEPT && v->echo) {
		sb_printf(sb, "because the application stalled: the queue stayed full for ");
		sb_secs(sb, v->stall_ms);
		sb_printf(sb, " without draining until ");
		sb_secs(sb, v->stall_ago_ms);
		sb_printf(sb, " ago, while ");
		actor(tr, f, sb);
		sb_printf(sb, " did not call accept(), and the clients it turned away are retrying");
	} else if (v->underlying == CAUSE_BACKLOG_CLAMPED) {
		sb_printf(sb, "because its backlog is capped at net.core.somaxconn=%" PRId64,
			  lim->somaxconn);
	} else {
		sb_printf(sb, "because its listen() backlog of %" PRIu32 " is too small for its bursts",
			  tr->l.backlog);
	}
}

/*
 * What clients saw with net.ipv4.tcp_abort_on_overflow=1, in proportion.
 * The reset is sent only when a handshake's final ACK meets the full queue
 * (tcp_minisocks.c tcp_check_req: listen_overflow, then embryonic_reset,
 * which counts EmbryonicRsts); a SYN that meets it is dropped in
 * tcp_conn_request as ever, and its client retries. Both count
 * ListenOverflows. So of this tick's ListenOverflows, the EmbryonicRsts are
 * the resets and the rest dropped SYNs. Both counters are the namespace's.
 */
static void abort_proportions(struct sbuf *sb, const struct ctx *c, int64_t *resets,
			      int64_t *syn_drops)
{
	int64_t ovf = c->overflows, rst = host_delta(c->t, "TcpExt.EmbryonicRsts");

	*resets = *syn_drops = -1;
	if (ovf <= 0 || rst < 0) {
		sb_printf(sb, "; with net.ipv4.tcp_abort_on_overflow=1, clients whose final ACK met "
			  "the full queue got ECONNRESET at once, and those whose SYN met it were "
			  "dropped and retried after 1, 3, 7 s (TcpExt.ListenOverflows and "
			  "EmbryonicRsts did not move or could not be read to tell how many of each).");
		return;
	}
	*resets = min64(rst, ovf);
	*syn_drops = ovf - *resets;
	sb_printf(sb, "; with net.ipv4.tcp_abort_on_overflow=1 only a connection whose final ACK "
		  "meets the full queue is reset: of %" PRId64 " overflow%s in this network namespace "
		  "in the last tick (TcpExt.ListenOverflows), %" PRId64 " got ECONNRESET at once "
		  "(TcpExt.EmbryonicRsts) and %" PRId64 " were dropped SYNs, whose clients retry "
		  "after 1, 3, 7 s and time out if the queue stays full.",
		  ovf, ovf == 1 ? "" : "s", *resets, *syn_drops);
}

/* One sentence: what happened, with the numbers, and what clients saw; the evidence behind it. */
static void write_message(struct finding *f, const struct tracked *tr, const struct ctx *c,
			  const struct verdict *v)
{
	const struct limits *lim = c->lim;
	struct sbuf sb;

	sb_init(&sb, f->body.happened, sizeof(f->body.happened));
	/* "in one tick": the message is read long after the tick that wrote it. */
	if (tr->drops_delta)
		sb_printf(&sb, "%s overflowed its accept queue: %" PRIu32 " drop%s in one tick",
			  f->listener, tr->drops_delta, tr->drops_delta == 1 ? "" : "s");
	else
		sb_printf(&sb, "%s has a full accept queue that does not drain: no new drop in the "
			  "last tick", f->listener);
	sb_printf(&sb, " (%" PRIu64 " since first seen), queue %" PRIu32 " of backlog %" PRIu32
		  " (peak %" PRIu32 "), ", tr->drops_total, tr->l.queue, tr->l.backlog, tr->peak_queue);
	write_reason(&sb, f, tr, lim, v);
	if (v->stalled || v->echo)
		add_ev(f, "stall_ms", v->stall_ms);

	/* net/ipv4/tcp_minisocks.c tcp_check_req: the sysctl decides drop (retry) or RST. */
	if (lim->tcp_abort_on_overflow == 1) {
		int64_t resets, syn_drops;

		abort_proportions(&sb, c, &resets, &syn_drops);
		add_ev(f, "overflow_resets", resets);
		add_ev(f, "overflow_syn_drops", syn_drops);
	} else if (lim->tcp_abort_on_overflow == 0) {
		sb_printf(&sb, "; clients saw connect timeouts or stalls: SYNs were dropped and "
			  "retransmitted after 1, 3, 7 s, and connections that completed the "
			  "handshake stalled on their first request.");
	} else {
		sb_printf(&sb, "; clients saw connect timeouts or stalls (SYNs retransmitted after "
			  "1, 3, 7 s, first requests stalled), or immediate resets if "
			  "net.ipv4.tcp_abort_on_overflow is 1 (it could not be read).");
	}
}

/* A bigger queue is not the way out: the application must accept() faster. */
static void accept_faster(struct sbuf *sb, const struct finding *f, const struct tracked *tr)
{
	actor(tr, f, sb);
	sb_printf(sb, " must accept() faster; check its accept loop and worker pool");
}

static void remedy_clamped(struct finding *f, const struct tracked *tr, const struct limits *lim,
			   struct sbuf *sb)
{
	const struct software *sw = software_of(tracked_owner(tr));
	int64_t cur = lim->somaxconn;
	int64_t sug = min64(BACKLOG_CAP, max64(SOMAXCONN_FLOOR, 2 * cur));

	set_knob(f, "net.core.somaxconn", cur, sug > cur ? sug : -1);
	if (sug <= cur) {
		sb_printf(sb, "net.core.somaxconn=%" PRId64 " caps every listen() backlog and "
			  "is already large: ", cur);
		accept_faster(sb, f, tr);
		return;
	}
	sb_printf(sb, "raise net.core.somaxconn from %" PRId64 " to %" PRId64
		  " (sysctl -w net.core.somaxconn=%" PRId64 "; persist in /etc/sysctl.d/), "
		  "then restart %s so that listen() takes the new cap: "
		  "net.core.somaxconn=%" PRId64 " caps every listen() backlog and the "
		  "application asked for at least %" PRId64,
		  cur, sug, sug, f->unit[0] ? f->unit : f->comm[0] ? f->comm : "the application",
		  cur, cur);
	/* The application's own request may be below the new cap: name its knob. */
	if (!software_generic(sw))
		sb_printf(sb, "; %s's own backlog is `%s`, raise it too if it asks for less "
			  "than %" PRId64, sw->name, sw->knob, sug);
}

static void remedy_slow_accept(struct finding *f, const struct tracked *tr,
			       const struct verdict *v, struct sbuf *sb)
{
	set_knob(f, "accept loop", -1, -1);
	actor(tr, f, sb);
	sb_printf(sb, " is not calling accept() fast enough (");
	/* The stall's own length says more than a tick count that restarts at each drain. */
	if (v->stalled || v->echo) {
		sb_printf(sb, "no accept() for ");
		sb_secs(sb, v->stall_ms);
	} else
		sb_printf(sb, "queue full for %u tick%s", tr->ticks_full, tr->ticks_full == 1 ? "" : "s");
	if (v->stopped)
		sb_printf(sb, "; process is stopped (state %c), SIGCONT resumes it", tr->owner_state);
	sb_printf(sb, "): check its accept loop and worker pool; raising the backlog only "
		  "delays the drops");
	software_stall_hint(software_of(tracked_owner(tr)), sb);
}

static void remedy_small(struct finding *f, const struct tracked *tr, const struct limits *lim,
			 struct sbuf *sb)
{
	int64_t backlog = tr->l.backlog;
	/* Room for four times the worst burst seen, and more than now. */
	int64_t sug = suggest_backlog(lim, backlog, 4 * (int64_t)tr->peak_queue);

	set_knob(f, "listen() backlog", backlog, sug);
	if (sug < 0) {
		sb_printf(sb, "the listen() backlog of %" PRId64 " is already at its cap: ", backlog);
		accept_faster(sb, f, tr);
		return;
	}
	/* In the words of the software that holds it: nginx backlog=, Redis tcp-backlog, ... */
	software_backlog_fix(software_of(tracked_owner(tr)), sb, f->listener, backlog, sug);
	sb_printf(sb, "; ");
	if (somaxconn_known(lim))
		sb_printf(sb, "net.core.somaxconn=%" PRId64 " allows up to %" PRId64,
			  lim->somaxconn, lim->somaxconn);
	else
		sb_printf(sb, "net.core.somaxconn (could not be read) caps it");
}

/* The remedy of the overflow's own class, into sb; sets the structured knob of f. */
static void write_remedy(struct finding *f, const struct tracked *tr, const struct limits *lim,
			 const struct verdict *v, struct sbuf *sb)
{
	if (v->underlying == CAUSE_BACKLOG_CLAMPED)
		remedy_clamped(f, tr, lim, sb);
	else if (v->underlying == CAUSE_SLOW_ACCEPT)
		remedy_slow_accept(f, tr, v, sb);
	else
		remedy_small(f, tr, lim, sb);
}

static void fill_remedy(struct finding *f, const struct tracked *tr, const struct limits *lim,
			const struct verdict *v)
{
	struct sbuf sb;

	sb_init(&sb, f->body.fix, sizeof(f->body.fix));
	if (v->cause == CAUSE_OVERFLOW_RESET)
		sb_printf(&sb, "net.ipv4.tcp_abort_on_overflow=1 turns each overflow into an immediate "
			  "reset; set it to 0 (sysctl -w net.ipv4.tcp_abort_on_overflow=0) so clients "
			  "retry, and fix the overflow: ");
	write_remedy(f, tr, lim, v, &sb);
	/* The underlying remedy set the knob too; the sysctl is the first thing to change. */
	if (v->cause == CAUSE_OVERFLOW_RESET)
		set_knob(f, "net.ipv4.tcp_abort_on_overflow", 1, 0);
}

/* The accept-queue rules, with SO_REUSEPORT groups looked at as a whole. */
int rule_accept_queue(struct ctx *c)
{
	const struct track *t = c->t;
	size_t i;

	for (i = 0; i < t->count; i++) {
		const struct tracked *tr = &t->items[i];
		struct verdict v;
		struct finding *f;

		if (!judge(tr, c, &v))
			continue;
		f = new_finding(c, v.cause);
		if (!f)
			return -ENOMEM;
		f->underlying = v.underlying;
		fill_identity(f, tr);
		listener_evidence(f, tr);
		write_message(f, tr, c, &v);
		fill_remedy(f, tr, c->lim, &v);
		if (rule_reuseport_member(c, tr) < 0)
			return -ENOMEM;
	}
	return 0;
}
