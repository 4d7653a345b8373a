/* diagnose.c: the accept-queue rules: which listener overflows, why, what clients saw, what to change. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "diagnose.h"

/* Codes and MESSAGE_IDs are part of the interface (journal catalog, JSON, metrics): never change them. */
static const char *const cause_codes[CAUSE_COUNT] = {
	[CAUSE_BACKLOG_CLAMPED] = "backlog-clamped",
	[CAUSE_BACKLOG_SMALL] = "backlog-small",
	[CAUSE_SLOW_ACCEPT] = "slow-accept",
	[CAUSE_OVERFLOW_RESET] = "overflow-reset",
};

static const char *const cause_ids[CAUSE_COUNT] = {
	[CAUSE_BACKLOG_CLAMPED] = "f4f995886b7d4d8bb8c391bc6ad48794",
	[CAUSE_BACKLOG_SMALL] = "fabc72d41bbe4d6e9d95d63ef2a543cb",
	[CAUSE_SLOW_ACCEPT] = "00398cdd5b44430b87b6d20397ea6d1c",
	[CAUSE_OVERFLOW_RESET] = "ead4b29ec0a141b0b326ad081e3af571",
};

/* Suggested values stay within what a 16-bit backlog (older kernels) can hold. */
#define BACKLOG_CAP 65535
#define SOMAXCONN_FLOOR 4096
#define LISTEN_BACKLOG_FLOOR 128

#define DEFAULT_SLOW_ACCEPT_TICKS 5
#define DEFAULT_FULL_WINDOW_TICKS 3

const char *cause_code(enum cause c)
{
	if ((int)c < 0 || c >= CAUSE_COUNT)
		return NULL;
	return cause_codes[c];
}

const char *cause_message_id(enum cause c)
{
	if ((int)c < 0 || c >= CAUSE_COUNT)
		return NULL;
	return cause_ids[c];
}

int cause_from_code(const char *code)
{
	int c;

	if (!code)
		return -1;
	for (c = 0; c < CAUSE_COUNT; c++)
		if (strcmp(code, cause_codes[c]) == 0)
			return c;
	return -1;
}

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
}

/* A fixed buffer filled piece by piece; output past its end is cut, never overrun. */
struct sbuf {
	char *buf;
	size_t size;
	size_t len;
};

static void sb_init(struct sbuf *sb, char *buf, size_t size)
{
	sb->buf = buf;
	sb->size = size;
	sb->len = 0;
	buf[0] = '\0';
}

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->len + 1 >= sb->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sb->buf + sb->len, sb->size - sb->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sb->size - sb->len)
		sb->len = sb->size - 1;
	else
		sb->len += (size_t)n;
}

/* What the rules decided about one listener this tick. */
struct verdict {
	enum cause cause;
	enum cause underlying;
	bool stopped;              /* owner in state T/t */
	int64_t host_overflows;    /* -1 unknown */
};

/* The queue was seen full (the kernel's sk_acceptq_is_full) within the last window ticks. */
static bool seen_full(const struct tracked *tr, unsigned window)
{
	unsigned k;

	for (k = 0; k < window; k++) {
		const struct tick_point *p = tracked_hist(tr, k);

		if (!p)
			break;
		if (p->queue > p->backlog)
			return true;
	}
	return false;
}

static bool somaxconn_known(const struct limits *lim)
{
	return lim->somaxconn >= 0;
}

/*
 * Return: true when tr overflowed this tick, with *v filled.
 *
 * sk_drops also moves for drops that are no overflow (TCP_DEFER_ACCEPT bare
 * ACKs, memory), so a drop counts only with a full queue seen recently or the
 * host's ListenOverflows moving: the queue can fill and drain between two
 * polls, and then only the counter saw it.
 */
static bool judge(const struct tracked *tr, const struct limits *lim,
		  const struct diag_thresholds *thr, int64_t host_overflows, struct verdict *v)
{
	enum cause cls;

	if (tr->drops_delta == 0)
		return false;
	if (!seen_full(tr, thr->full_window_ticks) && host_overflows <= 0)
		return false;

	v->stopped = tr->owner_state == 'T' || tr->owner_state == 't';
	if (v->stopped || tr->ticks_full >= thr->slow_accept_ticks)
		cls = CAUSE_SLOW_ACCEPT;
	else if (somaxconn_known(lim) && (int64_t)tr->l.backlog >= lim->somaxconn)
		cls = CAUSE_BACKLOG_CLAMPED;
	else
		cls = CAUSE_BACKLOG_SMALL;

	v->underlying = cls;
	v->cause = lim->tcp_abort_on_overflow == 1 ? CAUSE_OVERFLOW_RESET : cls;
	v->host_overflows = host_overflows;
	return true;
}

static int cause_priority(enum cause c)
{
	switch (c) {
	case CAUSE_BACKLOG_CLAMPED:
	case CAUSE_BACKLOG_SMALL:
		return LOG_WARNING;
	case CAUSE_SLOW_ACCEPT:
	case CAUSE_OVERFLOW_RESET:
	case CAUSE_COUNT:
		break;
	}
	return LOG_ERR;
}

static bool owner_known(const struct tracked *tr)
{
	return tr->owner.nprocs > 0;
}

/* "nginx[812]" or "nginx[812] +3 more"; "" when the owner is unknown. */
static void who(const struct tracked *tr, struct sbuf *sb)
{
	const struct owner *o = &tr->owner;

	if (!owner_known(tr))
		return;
	/* Bounded reads: the kernel's comm is at most 15 bytes, and a unit fits its array. */
	sb_printf(sb, "%.*s[%d]", (int)sizeof(o->procs[0].comm) - 1, o->procs[0].comm,
		  o->procs[0].pid);
	if (o->nprocs_total > 1)
		sb_printf(sb, " +%u more", o->nprocs_total - 1);
}

static void fill_identity(struct finding *f, const struct tracked *tr)
{
	const struct owner *o = &tr->owner;
	struct sbuf sb;

	listener_name(&tr->l, f->listener, sizeof(f->listener));
	f->cookie = tr->l.cookie;
	f->inode = tr->l.inode;
	if (owner_known(tr)) {
		f->pid = o->procs[0].pid;
		snprintf(f->comm, sizeof(f->comm), "%.*s", (int)sizeof(o->procs[0].comm) - 1,
			 o->procs[0].comm);
	}
	snprintf(f->unit, sizeof(f->unit), "%.*s", (int)sizeof(o->unit) - 1, o->unit);

	sb_init(&sb, f->subject, sizeof(f->subject));
	sb_printf(&sb, "%s", f->listener);
	if (owner_known(tr)) {
		sb_printf(&sb, " ");
		who(tr, &sb);
	}
	if (f->unit[0])
		sb_printf(&sb, " %s", f->unit);
}

static void fill_evidence(struct finding *f, const struct tracked *tr, const struct limits *lim,
			  const struct verdict *v)
{
	f->ev.drops_delta = tr->drops_delta;
	f->ev.drops_total = tr->drops_total;
	f->ev.queue = tr->l.queue;
	f->ev.backlog = tr->l.backlog;
	f->ev.peak_queue = tr->peak_queue;
	f->ev.ticks_full = tr->ticks_full;
	f->ev.somaxconn = somaxconn_known(lim) ? lim->somaxconn : SYSCTL_UNKNOWN;
	f->ev.abort_on_overflow = lim->tcp_abort_on_overflow >= 0 ? lim->tcp_abort_on_overflow
								  : SYSCTL_UNKNOWN;
	f->ev.host_overflows = v->host_overflows;
	f->ev.owner_state = tr->owner_state;
}

/* Who to name in a sentence: the owner, or the listener when the owner is unknown. */
static void actor(const struct tracked *tr, const struct finding *f, struct sbuf *sb)
{
	if (owner_known(tr))
		who(tr, sb);
	else
		sb_printf(sb, "the application behind %s", f->listener);
}

/* One sentence: what happened, with the numbers, and what clients saw. */
static void write_message(struct finding *f, const struct tracked *tr, const struct limits *lim,
			  const struct verdict *v)
{
	struct sbuf sb;

	sb_init(&sb, f->message, sizeof(f->message));
	/* "in one tick": the message is read long after the tick that wrote it. */
	sb_printf(&sb, "%s overflowed its accept queue: %" PRIu32 " drop%s in one tick (%" PRIu64
		  " since first seen), queue %" PRIu32 " of backlog %" PRIu32 " (peak %" PRIu32 "), ",
		  f->listener, tr->drops_delta, tr->drops_delta == 1 ? "" : "s", tr->drops_total,
		  tr->l.queue, tr->l.backlog, tr->peak_queue);

	switch (v->underlying) {
	case CAUSE_SLOW_ACCEPT:
		if (v->stopped) {
			sb_printf(&sb, "because the owning process ");
			actor(tr, f, &sb);
			sb_printf(&sb, " is stopped (state %c) and cannot accept()", tr->owner_state);
		} else {
			sb_printf(&sb, "because the queue stayed full for %u tick%s: ", tr->ticks_full,
				  tr->ticks_full == 1 ? "" : "s");
			actor(tr, f, &sb);
			sb_printf(&sb, " is not calling accept() fast enough");
		}
		break;
	case CAUSE_BACKLOG_CLAMPED:
		sb_printf(&sb, "because its backlog is capped at net.core.somaxconn=%" PRId64,
			  lim->somaxconn);
		break;
	case CAUSE_BACKLOG_SMALL:
	case CAUSE_OVERFLOW_RESET:
	case CAUSE_COUNT:
		sb_printf(&sb, "because its listen() backlog of %" PRIu32 " is too small for its bursts",
			  tr->l.backlog);
		break;
	}

	/* net/ipv4/tcp_minisocks.c tcp_check_req: the sysctl decides drop (retry) or RST. */
	if (lim->tcp_abort_on_overflow == 1)
		sb_printf(&sb, "; with net.ipv4.tcp_abort_on_overflow=1 clients got ECONNRESET at once.");
	else if (lim->tcp_abort_on_overflow == 0)
		sb_printf(&sb, "; clients saw connect timeouts or stalls: SYNs were dropped and "
			  "retransmitted after 1, 3, 7 s, and connections that completed the "
			  "handshake stalled on their first request.");
	else
		sb_printf(&sb, "; clients saw connect timeouts or stalls (SYNs retransmitted after "
			  "1, 3, 7 s, first requests stalled), or immediate resets if "
			  "net.ipv4.tcp_abort_on_overflow is 1 (it could not be read).");
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* Smallest power of two >= x, for x <= 2^62. */
static int64_t pow2_at_least(int64_t x)
{
	int64_t p = 1;

	while (p < x)
		p *= 2;
	return p;
}

/* The remedy for an overflow of class cls, into sb; sets the structured knob of f. */
static void write_remedy(struct finding *f, enum cause cls, const struct tracked *tr,
			 const struct limits *lim, const struct verdict *v, struct sbuf *sb)
{
	int64_t backlog = tr->l.backlog;
	int64_t cur, sug;

	switch (cls) {
	case CAUSE_BACKLOG_CLAMPED:
		cur = lim->somaxconn;
		sug = min64(BACKLOG_CAP, max64(SOMAXCONN_FLOOR, 2 * cur));
		snprintf(f->knob, sizeof(f->knob), "net.core.somaxconn");
		f->knob_current = cur;
		if (sug <= cur) {
			/* Already at the cap: a bigger queue is not the way out. */
			f->knob_suggested = -1;
			sb_printf(sb, "net.core.somaxconn=%" PRId64 " caps every listen() backlog and "
				  "is already large: ", cur);
			actor(tr, f, sb);
			sb_printf(sb, " must accept() faster; check its accept loop and worker pool");
			break;
		}
		f->knob_suggested = sug;
		sb_printf(sb, "raise net.core.somaxconn from %" PRId64 " to %" PRId64
			  " (sysctl -w net.core.somaxconn=%" PRId64 "; persist in /etc/sysctl.d/), "
			  "then restart %s so that listen() takes the new cap: "
			  "net.core.somaxconn=%" PRId64 " caps every listen() backlog and the "
			  "application asked for at least %" PRId64,
			  cur, sug, sug, f->unit[0] ? f->unit : f->comm[0] ? f->comm : "the application",
			  cur, cur);
		break;
	case CAUSE_SLOW_ACCEPT:
		snprintf(f->knob, sizeof(f->knob), "accept loop");
		f->knob_current = -1;
		f->knob_suggested = -1;
		actor(tr, f, sb);
		sb_printf(sb, " is not calling accept() fast enough (queue full for %u tick%s",
			  tr->ticks_full, tr->ticks_full == 1 ? "" : "s");
		if (v->stopped)
			sb_printf(sb, "; process is stopped (state %c), SIGCONT resumes it",
				  tr->owner_state);
		sb_printf(sb, "): check its accept loop and worker pool; raising the backlog only "
			  "delays the drops");
		break;
	case CAUSE_BACKLOG_SMALL:
	case CAUSE_OVERFLOW_RESET:
	case CAUSE_COUNT:
		/* Room for four times the worst burst seen, and more than now. */
		sug = pow2_at_least(max64(LISTEN_BACKLOG_FLOOR,
					  max64(4 * (int64_t)tr->peak_queue, backlog + 1)));
		sug = min64(sug, somaxconn_known(lim) ? min64(lim->somaxconn, BACKLOG_CAP) : BACKLOG_CAP);
		snprintf(f->knob, sizeof(f->knob), "listen() backlog");
		f->knob_current = backlog;
		if (sug <= backlog) {
			f->knob_suggested = -1;
			sb_printf(sb, "the listen() backlog of %" PRId64 " is already at its cap: ",
				  backlog);
			actor(tr, f, sb);
			sb_printf(sb, " must accept() faster; check its accept loop and worker pool");
			break;
		}
		f->knob_suggested = sug;
		sb_printf(sb, "raise the application's listen() backlog from %" PRId64
			  " to at least %" PRId64 " (common defaults: Java ServerSocket 50, Tomcat "
			  "acceptCount 100, nginx/Node.js/Redis 511); ", backlog, sug);
		if (somaxconn_known(lim))
			sb_printf(sb, "net.core.somaxconn=%" PRId64 " allows up to %" PRId64,
				  lim->somaxconn, lim->somaxconn);
		else
			sb_printf(sb, "net.core.somaxconn (could not be read) caps it");
		break;
	}
}

static void fill_remedy(struct finding *f, const struct tracked *tr, const struct limits *lim,
			const struct verdict *v)
{
	struct sbuf sb;

	sb_init(&sb, f->remedy, sizeof(f->remedy));
	if (v->cause != CAUSE_OVERFLOW_RESET) {
		write_remedy(f, v->cause, tr, lim, v, &sb);
		return;
	}
	sb_printf(&sb, "net.ipv4.tcp_abort_on_overflow=1 turns each overflow into an immediate "
		  "reset; set it to 0 (sysctl -w net.ipv4.tcp_abort_on_overflow=0) so clients "
		  "retry, and fix the overflow: ");
	/* The underlying remedy sets the knob too; the sysctl is the first thing to change. */
	write_remedy(f, v->underlying, tr, lim, v, &sb);
	snprintf(f->knob, sizeof(f->knob), "net.ipv4.tcp_abort_on_overflow");
	f->knob_current = 1;
	f->knob_suggested = 0;
}

int diagnose(const struct track *t, const struct diag_thresholds *thr, struct finding_list *out)
{
	struct diag_thresholds th;
	int64_t host_overflows = -1, d;
	size_t i;

	finding_list_clear(out);
	diag_thresholds_default(&th);
	/* A zero threshold would make every drop slow-accept, or no drop an overflow. */
	if (thr && thr->slow_accept_ticks)
		th.slow_accept_ticks = thr->slow_accept_ticks;
	if (thr && thr->full_window_ticks)
		th.full_window_ticks = thr->full_window_ticks;

	if (track_host_delta(t, "TcpExt.ListenOverflows", &d))
		host_overflows = d;

	for (i = 0; i < t->count; i++) {
		const struct tracked *tr = &t->items[i];
		struct verdict v;
		struct finding *f;

		if (!judge(tr, &t->limits, &th, host_overflows, &v))
			continue;
		f = finding_list_add(out);
		if (!f)
			return -ENOMEM;
		f->cause = v.cause;
		f->underlying = v.underlying;
		f->priority = cause_priority(v.cause);
		fill_identity(f, tr);
		fill_evidence(f, tr, &t->limits, &v);
		write_message(f, tr, &t->limits, &v);
		fill_remedy(f, tr, &t->limits, &v);
	}
	return 0;
}
