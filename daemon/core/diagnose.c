/* diagnose.c: the rules: which listener, destination, interface or host limit failed clients, why, and what to change. */
#include "base.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>

#include "diagnose.h"
#include "tcp_state.h"

/* Codes and MESSAGE_IDs are part of the interface (journal catalog, JSON, metrics): never change them. */
static const char *const cause_codes[CAUSE_COUNT] = {
	[CAUSE_BACKLOG_CLAMPED] = "backlog-clamped",
	[CAUSE_BACKLOG_SMALL] = "backlog-small",
	[CAUSE_SLOW_ACCEPT] = "slow-accept",
	[CAUSE_OVERFLOW_RESET] = "overflow-reset",
	[CAUSE_SYN_QUEUE_DROP] = "syn-queue-drop",
	[CAUSE_SYN_FLOOD] = "syn-flood",
	[CAUSE_LISTENER_GAP] = "listener-gap",
	[CAUSE_REUSEPORT_IMBALANCE] = "reuseport-imbalance",
	[CAUSE_EPHEMERAL_PORTS] = "ephemeral-ports",
	[CAUSE_TIMEWAIT_OVERFLOW] = "timewait-overflow",
	[CAUSE_TCP_MEMORY] = "tcp-memory",
	[CAUSE_ORPHANS] = "orphans",
	[CAUSE_CONNTRACK_FULL] = "conntrack-full",
	[CAUSE_LINK_DROPS] = "link-drops",
};

static const char *const cause_ids[CAUSE_COUNT] = {
	[CAUSE_BACKLOG_CLAMPED] = "f4f995886b7d4d8bb8c391bc6ad48794",
	[CAUSE_BACKLOG_SMALL] = "fabc72d41bbe4d6e9d95d63ef2a543cb",
	[CAUSE_SLOW_ACCEPT] = "00398cdd5b44430b87b6d20397ea6d1c",
	[CAUSE_OVERFLOW_RESET] = "ead4b29ec0a141b0b326ad081e3af571",
	[CAUSE_SYN_QUEUE_DROP] = "d430a915dabe4802b6d238d5887b8a65",
	[CAUSE_SYN_FLOOD] = "9ccfcc6d733c48a49f8035786d798991",
	[CAUSE_LISTENER_GAP] = "95f02181b73f4a5a94d39ccb21365212",
	[CAUSE_REUSEPORT_IMBALANCE] = "b37e6c99108147e4ae64f562fb67d02f",
	[CAUSE_EPHEMERAL_PORTS] = "8ec28674a2d0405886a98c3e7f1d843b",
	[CAUSE_TIMEWAIT_OVERFLOW] = "7372b3c617fc47889f7127d63d3ff3b0",
	[CAUSE_TCP_MEMORY] = "96ba42052ad34bb8bda36f51b899f3cb",
	[CAUSE_ORPHANS] = "0a52de87bdfe4acab7f99d6e64353dde",
	[CAUSE_CONNTRACK_FULL] = "d506fbd99dfb4d46818101b5f5ad0517",
	[CAUSE_LINK_DROPS] = "d13df3cb4f3d4a0cb074b71ad0cba1b2",
};

/* Suggested values stay within what a 16-bit backlog (older kernels) can hold. */
#define BACKLOG_CAP 65535
#define SOMAXCONN_FLOOR 4096
#define LISTEN_BACKLOG_FLOOR 128

#define DEFAULT_SLOW_ACCEPT_TICKS 5
#define DEFAULT_FULL_WINDOW_TICKS 3
#define DEFAULT_GAP_MEMORY_SECS 300
#define DEFAULT_EPHEMERAL_PCT 80
#define DEFAULT_ORPHANS_PCT 80
#define DEFAULT_CONNTRACK_PCT 90
#define DEFAULT_REUSEPORT_ROOM_PCT 50
#define DEFAULT_LINK_DROPPED_MIN 10

/* The widest ip_local_port_range that leaves the well-known ports alone. */
#define PORT_RANGE_WIDE_LO 1024
#define PORT_RANGE_WIDE_HI 65535
/* The kernel's own default for tcp_max_tw_buckets on a machine with memory to spare. */
#define TW_BUCKETS_FLOOR 262144

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

const char *scope_name(enum finding_scope s)
{
	switch (s) {
	case SCOPE_LISTENER:
		return "listener";
	case SCOPE_HOST:
		return "host";
	case SCOPE_INTERFACE:
		return "interface";
	case SCOPE_DESTINATION:
		return "destination";
	}
	/* Never NULL: callers print it. */
	return "unknown";
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
	thr->gap_memory_secs = DEFAULT_GAP_MEMORY_SECS;
	thr->ephemeral_pct = DEFAULT_EPHEMERAL_PCT;
	thr->orphans_pct = DEFAULT_ORPHANS_PCT;
	thr->conntrack_pct = DEFAULT_CONNTRACK_PCT;
	thr->reuseport_room_pct = DEFAULT_REUSEPORT_ROOM_PCT;
	thr->link_dropped_min = DEFAULT_LINK_DROPPED_MIN;
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
	case CAUSE_SYN_QUEUE_DROP:
	case CAUSE_SYN_FLOOD:
	case CAUSE_TIMEWAIT_OVERFLOW:
	case CAUSE_LINK_DROPS:
		return LOG_WARNING;
	case CAUSE_SLOW_ACCEPT:
	case CAUSE_OVERFLOW_RESET:
	case CAUSE_LISTENER_GAP:
	case CAUSE_REUSEPORT_IMBALANCE:
	case CAUSE_EPHEMERAL_PORTS:
	case CAUSE_TCP_MEMORY:
	case CAUSE_ORPHANS:
	case CAUSE_CONNTRACK_FULL:
	case CAUSE_COUNT:
		break;
	}
	return LOG_ERR;
}

static bool owner_known(const struct tracked *tr)
{
	return tracked_owner(tr)->nprocs > 0;
}

/* "nginx[812]" or "nginx[812] +3 more"; "" when the owner is unknown. */
static void who_owner(const struct owner *o, struct sbuf *sb)
{
	if (o->nprocs == 0)
		return;
	/* Bounded reads: the kernel's comm is at most 15 bytes, and a unit fits its array. */
	sb_printf(sb, "%.*s[%d]", (int)sizeof(o->procs[0].comm) - 1, o->procs[0].comm,
		  o->procs[0].pid);
	if (o->nprocs_total > 1)
		sb_printf(sb, " +%u more", o->nprocs_total - 1);
}

static void who(const struct tracked *tr, struct sbuf *sb)
{
	who_owner(tracked_owner(tr), sb);
}

/*
 * The owner's user and first command line, so that an alert names who runs
 * the listener without a second lookup. A zeroed owner (uid 0, user "") is
 * unknown, not root: the user name is what says the uid was read.
 */
static void owner_account(struct finding *f, const struct owner *o)
{
	if (!o)
		return;
	snprintf(f->cmdline, sizeof(f->cmdline), "%.*s", (int)sizeof(o->procs[0].cmdline) - 1,
		 o->procs[0].cmdline);
	if (o->user[0] && o->uid >= 0) {
		snprintf(f->user, sizeof(f->user), "%.*s", (int)sizeof(o->user) - 1, o->user);
		f->uid = o->uid;
	}
}

static void fill_identity(struct finding *f, const struct tracked *tr)
{
	const struct owner *o = tracked_owner(tr);
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
	owner_account(f, owner_known(tr) ? o : NULL);

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
	/* judge() gives only accept-queue classes; the others cannot reach here. */
	case CAUSE_SYN_QUEUE_DROP:
	case CAUSE_SYN_FLOOD:
	case CAUSE_LISTENER_GAP:
	case CAUSE_REUSEPORT_IMBALANCE:
	case CAUSE_EPHEMERAL_PORTS:
	case CAUSE_TIMEWAIT_OVERFLOW:
	case CAUSE_TCP_MEMORY:
	case CAUSE_ORPHANS:
	case CAUSE_CONNTRACK_FULL:
	case CAUSE_LINK_DROPS:
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
	case CAUSE_SYN_QUEUE_DROP:
	case CAUSE_SYN_FLOOD:
	case CAUSE_LISTENER_GAP:
	case CAUSE_REUSEPORT_IMBALANCE:
	case CAUSE_EPHEMERAL_PORTS:
	case CAUSE_TIMEWAIT_OVERFLOW:
	case CAUSE_TCP_MEMORY:
	case CAUSE_ORPHANS:
	case CAUSE_CONNTRACK_FULL:
	case CAUSE_LINK_DROPS:
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

/* ---- the catalogue beyond the accept queue ---- */

/* One diagnose() run: the track, the thresholds in force, and the host counters' deltas of this tick. */
struct ctx {
	const struct track *t;
	const struct limits *lim;
	struct diag_thresholds th;
	struct finding_list *out;
	/* Deltas since the previous tick; -1 when the counter was not read on both. */
	int64_t overflows;         /* TcpExt.ListenOverflows */
	int64_t listen_drops;      /* TcpExt.ListenDrops */
	int64_t reqq_drop;         /* TcpExt.TCPReqQFullDrop */
	int64_t reqq_cookies;      /* TcpExt.TCPReqQFullDoCookies */
	int64_t cookies_sent;      /* TcpExt.SyncookiesSent */
	int64_t tw_overflow;       /* TcpExt.TCPTimeWaitOverflow */
	int64_t mem_pressures;     /* TcpExt.TCPMemoryPressures */
	int64_t abort_mem;         /* TcpExt.TCPAbortOnMemory */
	int64_t out_rsts;          /* Tcp.OutRsts */
};

static int64_t host_delta(const struct track *t, const char *name)
{
	int64_t d;

	return track_host_delta(t, name, &d) ? d : -1;
}

/*
 * A finding of cause c about scope, ready for its rule to fill: a cause in
 * its own right, no knob yet. Return: NULL when out of memory.
 */
static struct finding *new_finding(struct ctx *c, enum cause cause, enum finding_scope scope,
				   int priority)
{
	struct finding *f = finding_list_add(c->out);

	if (!f)
		return NULL;
	f->cause = cause;
	f->underlying = cause;
	f->scope = scope;
	f->explained_by = -1;
	f->priority = priority;
	f->knob_current = -1;
	f->knob_suggested = -1;
	f->ev.somaxconn = somaxconn_known(c->lim) ? c->lim->somaxconn : SYSCTL_UNKNOWN;
	f->ev.abort_on_overflow = c->lim->tcp_abort_on_overflow >= 0 ? c->lim->tcp_abort_on_overflow
								     : SYSCTL_UNKNOWN;
	f->ev.host_overflows = c->overflows;
	return f;
}

/* One named number of evidence; past FINDING_EXTRA_MAX the rest are left out. */
static void add_ev(struct finding *f, const char *name, int64_t value)
{
	struct evidence_item *e;

	if (f->n_extra >= FINDING_EXTRA_MAX)
		return;
	e = &f->extra[f->n_extra++];
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->value = value;
}

static void set_knob(struct finding *f, const char *knob, int64_t cur, int64_t sug)
{
	snprintf(f->knob, sizeof(f->knob), "%s", knob);
	f->knob_current = cur;
	f->knob_suggested = sug;
}

/* A key that is no listener: "host", "eth0", "10.0.0.5:5432"; the subject is the key. */
static void set_key(struct finding *f, const char *key)
{
	snprintf(f->listener, sizeof(f->listener), "%s", key);
	snprintf(f->subject, sizeof(f->subject), "%s", key);
}

/* The listener's numbers in the common evidence, for rules about one listener. */
static void listener_evidence(struct finding *f, const struct tracked *tr)
{
	f->ev.drops_delta = tr->drops_delta;
	f->ev.drops_total = tr->drops_total;
	f->ev.queue = tr->l.queue;
	f->ev.backlog = tr->l.backlog;
	f->ev.peak_queue = tr->peak_queue;
	f->ev.ticks_full = tr->ticks_full;
	f->ev.owner_state = tr->owner_state;
}

/*
 * Requests in SYN_RECV towards tr's address and port in the deep sample;
 * -1 when the deep tier did not run. Request sockets name no listener: an
 * SO_REUSEPORT group shares one count, and a wildcard listener takes every
 * address of its port.
 */
static int64_t synrecv_for(const struct deep_sample *ds, const struct tracked *tr)
{
	int64_t n = 0;
	size_t i;

	if (!ds)
		return -1;
	for (i = 0; i < ds->n_synrecv; i++) {
		const struct synrecv_count *s = &ds->synrecv[i];

		if (s->family != tr->l.family || s->port != tr->l.port)
			continue;
		if (listener_is_wildcard(&tr->l) || memcmp(s->addr, tr->l.addr, addr_len(s->family)) == 0)
			n += s->count;
	}
	return n;
}

/* "3.2 s" from milliseconds: a gap is read by people, tenths are enough. */
static void fmt_secs(struct sbuf *sb, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	sb_printf(sb, "%" PRId64 ".%" PRId64 " s", ms / 1000, (ms % 1000) / 100);
}

/* "+12", or "unknown" for a counter that was not read on both ticks. */
static void fmt_delta(struct sbuf *sb, int64_t d)
{
	if (d < 0)
		sb_printf(sb, "unknown");
	else
		sb_printf(sb, "+%" PRId64, d);
}

/* A sysctl value, or "unknown" when it could not be read. */
static void fmt_val(struct sbuf *sb, int64_t v)
{
	if (v < 0)
		sb_printf(sb, "unknown");
	else
		sb_printf(sb, "%" PRId64, v);
}

/* The listen() backlog to suggest when at least want requests must fit; -1 when none is bigger. */
static int64_t suggest_backlog(const struct limits *lim, int64_t backlog, int64_t want)
{
	int64_t sug = pow2_at_least(max64(LISTEN_BACKLOG_FLOOR, max64(want, backlog + 1)));

	sug = min64(sug, somaxconn_known(lim) ? min64(lim->somaxconn, BACKLOG_CAP) : BACKLOG_CAP);
	return sug > backlog ? sug : -1;
}

static void somaxconn_clause(struct sbuf *sb, const struct limits *lim)
{
	if (somaxconn_known(lim))
		sb_printf(sb, "net.core.somaxconn=%" PRId64 " caps it", lim->somaxconn);
	else
		sb_printf(sb, "net.core.somaxconn (could not be read) caps it");
}

static size_t count_kmsg(const struct track *t, enum kmsg_kind kind)
{
	size_t i, n = 0;

	for (i = 0; i < t->n_kmsg; i++)
		if (t->kmsg[i].kind == kind)
			n++;
	return n;
}

/* Identity from an owner that may belong to a socket no longer tracked (a vanished listener). */
static void owner_identity(struct finding *f, const char *key, const struct owner *o,
			   uint64_t cookie, uint32_t inode)
{
	struct sbuf sb;

	snprintf(f->listener, sizeof(f->listener), "%s", key);
	f->cookie = cookie;
	f->inode = inode;
	if (o && o->nprocs > 0) {
		f->pid = o->procs[0].pid;
		snprintf(f->comm, sizeof(f->comm), "%.*s", (int)sizeof(o->procs[0].comm) - 1,
			 o->procs[0].comm);
	}
	if (o)
		snprintf(f->unit, sizeof(f->unit), "%.*s", (int)sizeof(o->unit) - 1, o->unit);
	owner_account(f, o && o->nprocs > 0 ? o : NULL);
	sb_init(&sb, f->subject, sizeof(f->subject));
	sb_printf(&sb, "%s", key);
	if (o && o->nprocs > 0) {
		sb_printf(&sb, " ");
		who_owner(o, &sb);
	}
	if (f->unit[0])
		sb_printf(&sb, " %s", f->unit);
}

/* ---- syn-queue-drop ---- */

static const char syn_retry_clients[] =
	"clients saw connect timeouts: their SYNs were dropped and retransmitted after 1, 3, 7 s";

static void syn_queue_drop_remedy(struct finding *f, const struct ctx *c, const struct tracked *tr,
				  int64_t synrecv)
{
	const struct limits *lim = c->lim;
	struct sbuf sb;

	set_knob(f, "net.ipv4.tcp_syncookies", 0, 1);
	sb_init(&sb, f->remedy, sizeof(f->remedy));
	sb_printf(&sb, "set net.ipv4.tcp_syncookies=1 (now 0; sysctl -w net.ipv4.tcp_syncookies=1, "
		  "persist in /etc/sysctl.d/) so that a full SYN queue answers with cookies "
		  "instead of dropping, and raise ");
	if (tr) {
		int64_t backlog = tr->l.backlog;
		int64_t sug = suggest_backlog(lim, backlog, 2 * max64(backlog, synrecv));

		if (sug > 0)
			sb_printf(&sb, "the listen() backlog of %s from %" PRId64 " to at least %" PRId64
				  " (", f->listener, backlog, sug);
		else
			sb_printf(&sb, "the listen() backlog of %s, now %" PRId64 " (", f->listener,
				  backlog);
		somaxconn_clause(&sb, lim);
		sb_printf(&sb, ")");
	} else {
		sb_printf(&sb, "the listen() backlog of the busy listeners (");
		somaxconn_clause(&sb, lim);
		sb_printf(&sb, ")");
	}
	sb_printf(&sb, ": the SYN queue is as long as the listener's backlog, not "
		  "net.ipv4.tcp_max_syn_backlog=");
	fmt_val(&sb, lim->tcp_max_syn_backlog);
	sb_printf(&sb, ", which with cookies off only drops SYNs from unproven peers past three "
		  "quarters of it");
}

static int syn_queue_drop_one(struct ctx *c, const struct tracked *tr, int64_t synrecv)
{
	struct finding *f = new_finding(c, CAUSE_SYN_QUEUE_DROP, tr ? SCOPE_LISTENER : SCOPE_HOST,
					 cause_priority(CAUSE_SYN_QUEUE_DROP));
	struct sbuf sb;

	if (!f)
		return -ENOMEM;
	sb_init(&sb, f->message, sizeof(f->message));
	if (tr) {
		fill_identity(f, tr);
		listener_evidence(f, tr);
		sb_printf(&sb, "%s dropped connection requests because its SYN queue was full with "
			  "net.ipv4.tcp_syncookies=0: %" PRIu32 " drop%s in one tick with room in its "
			  "accept queue (%" PRIu32 " of backlog %" PRIu32 ")", f->listener,
			  tr->drops_delta, tr->drops_delta == 1 ? "" : "s", tr->l.queue,
			  tr->l.backlog);
		if (synrecv >= 0)
			sb_printf(&sb, ", %" PRId64 " requests in SYN_RECV", synrecv);
		sb_printf(&sb, ", host-wide TCPReqQFullDrop ");
	} else {
		set_key(f, "host");
		sb_printf(&sb, "Listeners dropped connection requests from full SYN queues with "
			  "net.ipv4.tcp_syncookies=0, and none could be singled out: TCPReqQFullDrop ");
	}
	fmt_delta(&sb, c->reqq_drop);
	sb_printf(&sb, " and ListenDrops ");
	fmt_delta(&sb, c->listen_drops);
	sb_printf(&sb, " against ListenOverflows ");
	fmt_delta(&sb, c->overflows);
	sb_printf(&sb, " in one tick; %s.", syn_retry_clients);

	add_ev(f, "reqq_full_drop", c->reqq_drop);
	add_ev(f, "listen_drops", c->listen_drops);
	add_ev(f, "listen_overflows", c->overflows);
	add_ev(f, "tcp_syncookies", c->lim->tcp_syncookies);
	add_ev(f, "tcp_max_syn_backlog", c->lim->tcp_max_syn_backlog);
	if (tr)
		add_ev(f, "syn_recv", synrecv);
	syn_queue_drop_remedy(f, c, tr, synrecv);
	return 0;
}

/*
 * With syncookies off, a full SYN queue drops the SYN (TCPReqQFullDrop,
 * ListenDrops, the listener's sk_drops) and ListenOverflows stays still;
 * drops beyond the overflows are the SYN queue's (or tcp_max_syn_backlog's).
 * The listeners dropping with room in their accept queue are the ones; among
 * them, those whose SYN_RECV count reached the backlog first.
 */
static int rule_syn_queue_drop(struct ctx *c)
{
	const struct track *t = c->t;
	size_t i, ncand = 0, npref = 0;

	if (c->lim->tcp_syncookies != 0)
		return 0;
	if (!(c->reqq_drop > 0 ||
	      (c->listen_drops >= 0 && c->overflows >= 0 && c->listen_drops > c->overflows)))
		return 0;

	for (i = 0; i < t->count; i++) {
		const struct tracked *tr = &t->items[i];
		int64_t sr;

		if (tr->drops_delta == 0 || listener_queue_full(&tr->l))
			continue;
		ncand++;
		sr = synrecv_for(t->deep, tr);
		if (sr >= 0 && sr >= (int64_t)tr->l.backlog)
			npref++;
	}
	if (ncand == 0)
		return syn_queue_drop_one(c, NULL, -1);
	for (i = 0; i < t->count; i++) {
		const struct tracked *tr = &t->items[i];
		int64_t sr;

		if (tr->drops_delta == 0 || listener_queue_full(&tr->l))
			continue;
		sr = synrecv_for(t->deep, tr);
		if (npref && !(sr >= 0 && sr >= (int64_t)tr->l.backlog))
			continue;
		if (syn_queue_drop_one(c, tr, sr) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* ---- syn-flood ---- */

/*
 * The listener a "Possible SYN flooding on port [ADDR]:PORT" line names: the
 * one bound to that address and port; older kernels name only the port, and
 * then any listener on it will do. NULL when none is tracked.
 */
static const struct tracked *listener_for_kmsg(const struct track *t, const struct kmsg_event *e)
{
	const struct tracked *any = NULL;
	char addr[LISTENER_NAME_MAX];
	size_t i;

	if (e->port == 0)
		return NULL;
	for (i = 0; i < t->count; i++) {
		const struct tracked *tr = &t->items[i];

		if (tr->l.port != e->port)
			continue;
		if (!e->addr[0])
			return tr;
		listener_addr(&tr->l, addr, sizeof(addr));
		if (strncmp(addr, e->addr, sizeof(e->addr)) == 0)
			return tr;
		if (!any)
			any = tr;
	}
	/* An address was named and none matched: the listener is gone, not this other one. */
	return e->addr[0] ? NULL : any;
}

/* What a SYN flood line names, as a listener key: "127.0.0.1:8080", "[::1]:443", or "8080". */
static void kmsg_endpoint(const struct kmsg_event *e, char *buf, size_t len)
{
	int alen = (int)strnlen(e->addr, sizeof(e->addr));

	if (alen == 0)
		snprintf(buf, len, "%u", (unsigned)e->port);
	else if (memchr(e->addr, ':', (size_t)alen))
		snprintf(buf, len, "[%.*s]:%u", alen, e->addr, (unsigned)e->port);
	else
		snprintf(buf, len, "%.*s:%u", alen, e->addr, (unsigned)e->port);
}

static bool have_finding(const struct finding_list *out, enum cause cause, const char *key)
{
	size_t i;

	for (i = 0; i < out->count; i++)
		if (out->items[i].cause == cause &&
		    strncmp(out->items[i].listener, key, sizeof(out->items[i].listener)) == 0)
			return true;
	return false;
}

/*
 * One syn-flood finding. tr: the listener, or NULL; key: its name (from the
 * kernel line when tr is NULL), "host" when nothing names it; e: the kernel
 * line, or NULL when only the counters moved.
 */
static int syn_flood_one(struct ctx *c, const struct tracked *tr, const char *key,
			 const struct kmsg_event *e)
{
	const struct limits *lim = c->lim;
	bool dropping = e ? !e->cookies : lim->tcp_syncookies == 0;
	int64_t synrecv = tr ? synrecv_for(c->t->deep, tr) : -1;
	struct finding *f;
	struct sbuf sb;

	if (have_finding(c->out, CAUSE_SYN_FLOOD, key))
		return 0;
	f = new_finding(c, CAUSE_SYN_FLOOD, strcmp(key, "host") ? SCOPE_LISTENER : SCOPE_HOST,
			dropping ? LOG_ERR : LOG_WARNING);
	if (!f)
		return -ENOMEM;
	if (tr) {
		fill_identity(f, tr);
		listener_evidence(f, tr);
	} else {
		set_key(f, key);
	}

	sb_init(&sb, f->message, sizeof(f->message));
	if (f->scope == SCOPE_HOST)
		sb_printf(&sb, "The host is under a SYN flood: a listener's SYN queue");
	else
		sb_printf(&sb, "%s is under a SYN flood: its SYN queue", key);
	if (tr)
		sb_printf(&sb, " (as long as its backlog of %" PRIu32 ")", tr->l.backlog);
	if (dropping)
		sb_printf(&sb, " filled and with net.ipv4.tcp_syncookies=0 the kernel dropped new "
			  "requests (TCPReqQFullDrop ");
	else
		sb_printf(&sb, " filled and the kernel answered with syncookies "
			  "(TCPReqQFullDoCookies ");
	fmt_delta(&sb, dropping ? c->reqq_drop : c->reqq_cookies);
	if (!dropping) {
		sb_printf(&sb, ", SyncookiesSent ");
		fmt_delta(&sb, c->cookies_sent);
	}
	sb_printf(&sb, " in one tick)");
	if (synrecv >= 0)
		sb_printf(&sb, " with %" PRId64 " requests in SYN_RECV", synrecv);
	if (e) {
		char named[LISTENER_NAME_MAX];

		kmsg_endpoint(e, named, sizeof(named));
		sb_printf(&sb, ", and the kernel logged Possible SYN flooding on port %s (%s)",
			  named, e->cookies ? "Sending cookies" : "Dropping request");
	}
	if (dropping)
		sb_printf(&sb, "; %s.", syn_retry_clients);
	else
		sb_printf(&sb, "; clients saw slower handshakes, and connections made with a cookie "
			  "lost TCP options such as window scaling and SACK.");

	add_ev(f, "reqq_full_do_cookies", c->reqq_cookies);
	add_ev(f, "syncookies_sent", c->cookies_sent);
	add_ev(f, "reqq_full_drop", c->reqq_drop);
	add_ev(f, "kmsg_syn_flood", (int64_t)count_kmsg(c->t, KMSG_SYN_FLOOD));
	add_ev(f, "tcp_syncookies", lim->tcp_syncookies);
	if (tr)
		add_ev(f, "syn_recv", synrecv);

	sb_init(&sb, f->remedy, sizeof(f->remedy));
	sb_printf(&sb, "find the source of the SYN burst (ss -tn state syn-recv");
	if (tr || e)
		sb_printf(&sb, " '( sport = :%u )'", tr ? (unsigned)tr->l.port : (unsigned)e->port);
	sb_printf(&sb, " lists the half-open peers; a few sources can be filtered or rate-limited "
		  "upstream), then raise ");
	if (tr) {
		int64_t backlog = tr->l.backlog;
		int64_t sug = suggest_backlog(lim, backlog, 2 * max64(backlog, synrecv));

		if (sug > 0)
			sb_printf(&sb, "the listen() backlog of %s from %" PRId64 " to at least %" PRId64,
				  key, backlog, sug);
		else
			sb_printf(&sb, "the listen() backlog of %s, now %" PRId64, key, backlog);
		set_knob(f, "listen() backlog", backlog, sug);
	} else {
		sb_printf(&sb, "the listen() backlog of the flooded listener");
		set_knob(f, "listen() backlog", -1, -1);
	}
	sb_printf(&sb, " (");
	somaxconn_clause(&sb, lim);
	sb_printf(&sb, "), since the SYN queue is as long as the backlog");
	if (lim->tcp_syncookies == 0) {
		sb_printf(&sb, ", and set net.ipv4.tcp_syncookies=1 (now 0) so that a full SYN queue "
			  "answers with cookies instead of dropping");
		/* Cookies keep the flood from refusing anyone: the first thing to change. */
		set_knob(f, "net.ipv4.tcp_syncookies", 0, 1);
	}
	return 0;
}

/*
 * A full SYN queue with syncookies on counts TCPReqQFullDoCookies and sends
 * cookies; the first time per listener the kernel also logs which port, and
 * that line names the listener when our counters moved too. With
 * tcp_syncookies=2 every SYN gets a cookie and both counters move on every
 * connection (tcp_conn_request), so they say nothing about a flood then.
 */
static int rule_syn_flood(struct ctx *c)
{
	const struct track *t = c->t;
	const struct tracked *best = NULL;
	int64_t best_sr = 0;
	bool counters = c->lim->tcp_syncookies != 2 && (c->reqq_cookies > 0 || c->cookies_sent > 0);
	size_t i, named = 0;

	for (i = 0; i < t->n_kmsg; i++) {
		const struct kmsg_event *e = &t->kmsg[i];
		const struct tracked *tr;
		char key[LISTENER_NAME_MAX];

		if (e->kind != KMSG_SYN_FLOOD)
			continue;
		/*
		 * "Dropping request" is a full SYN queue with cookies off, which
		 * syn-queue-drop reports (TCPReqQFullDrop). And /dev/kmsg is shared
		 * by every network namespace: a line that no cookie counter of ours
		 * backs up is another namespace's flood.
		 */
		if (!e->cookies || !counters)
			continue;
		named++;
		tr = listener_for_kmsg(t, e);
		if (tr)
			listener_name(&tr->l, key, sizeof(key));
		else if (e->port && e->addr[0])
			/* Named by the kernel, not tracked (it vanished): still that listener's key. */
			kmsg_endpoint(e, key, sizeof(key));
		else
			snprintf(key, sizeof(key), "host");
		if (syn_flood_one(c, tr, key, e) < 0)
			return -ENOMEM;
	}
	if (named || !counters)
		return 0;

	for (i = 0; i < t->count; i++) {
		int64_t sr = synrecv_for(t->deep, &t->items[i]);

		if (sr > best_sr) {
			best_sr = sr;
			best = &t->items[i];
		}
	}
	if (best) {
		char key[LISTENER_NAME_MAX];

		listener_name(&best->l, key, sizeof(key));
		return syn_flood_one(c, best, key, NULL);
	}
	return syn_flood_one(c, NULL, "host", NULL);
}

/* ---- listener-gap ---- */

/* "nginx[812]", or what to call an owner nobody could resolve. */
static void owner_or(struct sbuf *sb, const struct owner *o, const char *unknown)
{
	if (o && o->nprocs > 0)
		who_owner(o, sb);
	else
		sb_printf(sb, "%s", unknown);
}

static int gap_finding(struct ctx *c, const struct listener_gap *g, bool open)
{
	const struct track *t = c->t;
	const struct tracked *nt = open ? NULL : track_find(t, g->new_cookie);
	const struct owner *cur = nt && tracked_owner(nt)->nprocs > 0 ? tracked_owner(nt) : &g->old_owner;
	int64_t gap_ms = (open ? t->now_ms : g->returned_ms) - g->last_seen_ms;
	char svc[OWNER_UNIT_MAX];
	struct finding *f;
	struct sbuf sb;
	int prio;

	if (open)
		prio = c->out_rsts > 0 ? LOG_ERR : LOG_WARNING;
	else if (g->replaced)
		prio = LOG_NOTICE;
	else
		prio = g->out_rsts > 0 ? LOG_WARNING : LOG_NOTICE;
	f = new_finding(c, CAUSE_LISTENER_GAP, SCOPE_LISTENER, prio);
	if (!f)
		return -ENOMEM;
	owner_identity(f, g->listener, cur, nt ? nt->l.cookie : 0, nt ? nt->l.inode : 0);
	if (nt)
		listener_evidence(f, nt);

	sb_init(&sb, f->message, sizeof(f->message));
	if (open) {
		sb_printf(&sb, "%s has had no listener for ", g->listener);
		fmt_secs(&sb, gap_ms);
		sb_printf(&sb, " (%u tick%s) since ", g->missing_ticks, g->missing_ticks == 1 ? "" : "s");
		owner_or(&sb, &g->old_owner, "its last listener");
		sb_printf(&sb, " stopped listening");
		if (g->out_rsts >= 0)
			sb_printf(&sb, ", and the host sent %" PRId64 " TCP resets since", g->out_rsts);
		if (c->out_rsts >= 0)
			sb_printf(&sb, " (%" PRId64 " in the last tick)", c->out_rsts);
		sb_printf(&sb, "; clients connecting to it now get ECONNREFUSED (connection refused).");
	} else if (g->replaced) {
		sb_printf(&sb, "%s was closed and opened again between two ticks (", g->listener);
		owner_or(&sb, &g->old_owner, "the old socket");
		sb_printf(&sb, ", then ");
		owner_or(&sb, nt ? tracked_owner(nt) : NULL, "a new one");
		sb_printf(&sb, ") while the host sent %" PRId64 " TCP resets; clients that connected "
			  "in that moment got ECONNREFUSED (connection refused).", g->out_rsts);
	} else {
		sb_printf(&sb, "%s had no listener for up to ", g->listener);
		fmt_secs(&sb, gap_ms);
		sb_printf(&sb, " (%u tick%s found it absent) between ", g->missing_ticks,
			  g->missing_ticks == 1 ? "" : "s");
		owner_or(&sb, &g->old_owner, "the old listener");
		sb_printf(&sb, " and ");
		owner_or(&sb, nt ? tracked_owner(nt) : NULL, "the new one");
		if (g->out_rsts > 0)
			sb_printf(&sb, ", and the host sent %" PRId64 " TCP resets in that time; clients "
				  "that connected in the gap got ECONNREFUSED (connection refused).",
				  g->out_rsts);
		else if (g->out_rsts == 0)
			sb_printf(&sb, ", and the host sent no TCP reset in that time; a client that "
				  "connected in the gap would have got ECONNREFUSED (connection refused), "
				  "and none did.");
		else
			sb_printf(&sb, "; clients that connected in the gap got ECONNREFUSED "
				  "(connection refused).");
	}

	add_ev(f, "gap_ms", gap_ms);
	add_ev(f, "missing_ticks", g->missing_ticks);
	add_ev(f, "out_rsts", g->out_rsts);
	add_ev(f, "out_rsts_tick", c->out_rsts);
	add_ev(f, "old_pid", g->old_owner.nprocs > 0 ? g->old_owner.procs[0].pid : 0);
	add_ev(f, "new_pid", nt && tracked_owner(nt)->nprocs > 0 ? tracked_owner(nt)->procs[0].pid : 0);
	add_ev(f, "replaced", g->replaced ? 1 : 0);
	add_ev(f, "absent", open ? 1 : 0);

	/* The unit is what an operator restarts; the process name when there is none. */
	if (cur->unit[0])
		snprintf(svc, sizeof(svc), "%.*s", (int)sizeof(cur->unit) - 1, cur->unit);
	else if (g->old_owner.unit[0])
		snprintf(svc, sizeof(svc), "%.*s", (int)sizeof(g->old_owner.unit) - 1,
			 g->old_owner.unit);
	else if (cur->nprocs > 0)
		snprintf(svc, sizeof(svc), "%.*s", (int)sizeof(cur->procs[0].comm) - 1,
			 cur->procs[0].comm);
	else
		snprintf(svc, sizeof(svc), "the service");
	set_knob(f, "restart method", -1, -1);
	sb_init(&sb, f->remedy, sizeof(f->remedy));
	if (open)
		sb_printf(&sb, "start %s again if it should be running, and from then on restart it",
			  svc);
	else
		sb_printf(&sb, "restart %s", svc);
	sb_printf(&sb, " without closing %s: socket activation (a systemd .socket unit owns the "
		  "listener across restarts), an SO_REUSEPORT hand-over (the new process listens "
		  "before the old one closes), or a reload in place (SIGHUP, nginx -s reload) "
		  "instead of a stop and a start", g->listener);
	return 0;
}

/*
 * A vanished listener refuses clients (ECONNREFUSED, and Tcp.OutRsts moves;
 * no TcpExt counter does). A gap that closed is reported for gap_memory_secs;
 * one still open likewise, and no longer: past that the listener was stopped
 * on purpose rather than restarted, and the host's later resets (OutRsts is
 * host-wide) say nothing about it. A socket replaced between two ticks counts
 * only when resets moved in that very tick. The newest firing gap of an
 * address:port stands for it.
 */
static int rule_listener_gap(struct ctx *c)
{
	const struct track *t = c->t;
	int64_t memory_ms = (int64_t)c->th.gap_memory_secs * 1000;
	size_t i;

	for (i = t->n_gaps; i-- > 0; ) {
		const struct listener_gap *g = &t->gaps[i];
		bool open = g->returned_ms == 0, fire;

		if (open)
			fire = t->now_ms - g->missing_ms < memory_ms;
		else if (g->replaced)
			fire = g->returned_ms == t->now_ms && g->out_rsts > 0;
		else
			fire = t->now_ms - g->returned_ms <= memory_ms;
		if (!fire || have_finding(c->out, CAUSE_LISTENER_GAP, g->listener))
			continue;
		if (gap_finding(c, g, open) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* ---- reuseport-imbalance ---- */

struct group {
	unsigned others;           /* members besides the stuck one */
	uint32_t others_max_queue;
	uint32_t others_backlog;   /* the smallest backlog among them */
};

/*
 * tr overflows; its SO_REUSEPORT siblings are the other tracked sockets on
 * the same family, address and port. Return: true when there are some and
 * every one has its queue within room_pct of its backlog: the kernel hashes
 * each connection to one member, and only tr's share is lost.
 */
static bool reuseport_stuck(const struct track *t, const struct tracked *tr, unsigned room_pct,
			    struct group *g)
{
	size_t i;

	memset(g, 0, sizeof(*g));
	for (i = 0; i < t->count; i++) {
		const struct tracked *o = &t->items[i];

		if (o == tr || !listener_same_endpoint(&o->l, &tr->l))
			continue;
		if ((uint64_t)o->l.queue * 100 > (uint64_t)room_pct * o->l.backlog)
			return false;
		if (g->others == 0 || o->l.backlog < g->others_backlog)
			g->others_backlog = o->l.backlog;
		if (o->l.queue > g->others_max_queue)
			g->others_max_queue = o->l.queue;
		g->others++;
	}
	return g->others > 0;
}

static int reuseport_finding(struct ctx *c, const struct tracked *tr, const struct group *g)
{
	struct finding *f = new_finding(c, CAUSE_REUSEPORT_IMBALANCE, SCOPE_LISTENER,
					cause_priority(CAUSE_REUSEPORT_IMBALANCE));
	struct sbuf sb;

	if (!f)
		return -ENOMEM;
	fill_identity(f, tr);
	listener_evidence(f, tr);
	sb_init(&sb, f->message, sizeof(f->message));
	sb_printf(&sb, "%s is an SO_REUSEPORT group of %u sockets and only one member, ",
		  f->listener, g->others + 1);
	if (owner_known(tr))
		sb_printf(&sb, "held by ");
	else
		sb_printf(&sb, "socket inode %" PRIu32 " (owner unknown), ", tr->l.inode);
	who(tr, &sb);
	sb_printf(&sb, "%soverflowed, queue %" PRIu32 " of backlog %" PRIu32 " with %" PRIu32
		  " drop%s in one tick, while ", owner_known(tr) ? ", " : "", tr->l.queue,
		  tr->l.backlog, tr->drops_delta, tr->drops_delta == 1 ? "" : "s");
	if (g->others == 1)
		sb_printf(&sb, "the other held %" PRIu32, g->others_max_queue);
	else
		sb_printf(&sb, "the other %u held at most %" PRIu32 " each", g->others,
			  g->others_max_queue);
	sb_printf(&sb, "; clients hashed to that socket ");
	if (c->lim->tcp_abort_on_overflow == 1)
		sb_printf(&sb, "got ECONNRESET (net.ipv4.tcp_abort_on_overflow=1)");
	else
		sb_printf(&sb, "timed out or stalled");
	sb_printf(&sb, " while the rest were served.");

	add_ev(f, "members", g->others + 1);
	add_ev(f, "others_max_queue", g->others_max_queue);
	add_ev(f, "others_backlog", g->others_backlog);
	add_ev(f, "room_pct", c->th.reuseport_room_pct);
	add_ev(f, "stuck_pid", f->pid);

	set_knob(f, "accept loop", -1, -1);
	sb_init(&sb, f->remedy, sizeof(f->remedy));
	actor(tr, f, &sb);
	if (tr->owner_state == 'T' || tr->owner_state == 't')
		sb_printf(&sb, " is stopped (state %c, SIGCONT resumes it)", tr->owner_state);
	else
		sb_printf(&sb, " stopped accepting on its socket");
	sb_printf(&sb, ": look at that process (a blocked accept loop, a stuck event loop, a long "
		  "request) and restart it if it does not recover; the kernel hashes each new "
		  "connection to one member by its addresses and ports, so the idle members cannot "
		  "take its share, and a bigger backlog only delays the drops");
	return 0;
}

/* The accept-queue rules of the first slice, with SO_REUSEPORT groups looked at as a whole. */
static int rule_accept_queue(struct ctx *c)
{
	const struct track *t = c->t;
	size_t i;

	for (i = 0; i < t->count; i++) {
		const struct tracked *tr = &t->items[i];
		struct verdict v;
		struct finding *f;
		struct group g;

		if (!judge(tr, c->lim, &c->th, c->overflows, &v))
			continue;
		f = new_finding(c, v.cause, SCOPE_LISTENER, cause_priority(v.cause));
		if (!f)
			return -ENOMEM;
		f->underlying = v.underlying;
		fill_identity(f, tr);
		fill_evidence(f, tr, c->lim, &v);
		write_message(f, tr, c->lim, &v);
		fill_remedy(f, tr, c->lim, &v);
		if (reuseport_stuck(t, tr, c->th.reuseport_room_pct, &g) &&
		    reuseport_finding(c, tr, &g) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* ---- ephemeral-ports ---- */

/*
 * connect() takes a local port from ip_local_port_range; towards one remote
 * address:port every connection needs its own, TIME_WAIT ones included. No
 * counter moves when they run out: the client gets EADDRNOTAVAIL. So the
 * rule counts sockets per destination (the deep tier), against the range.
 */
static int rule_ephemeral_ports(struct ctx *c)
{
	const struct deep_sample *ds = c->t->deep;
	const struct limits *lim = c->lim;
	int64_t lo, hi, size;
	bool in_range;
	size_t i;

	if (!ds)
		return 0;
	if (lim->port_range_lo >= 0 && lim->port_range_hi >= lim->port_range_lo) {
		lo = lim->port_range_lo;
		hi = lim->port_range_hi;
	} else if (ds->port_lo >= 0 && ds->port_hi >= ds->port_lo) {
		lo = ds->port_lo;
		hi = ds->port_hi;
	} else {
		return 0;
	}
	size = hi - lo + 1;
	/* in_port_range is only counted when the deep tier knew the range. */
	in_range = ds->port_lo >= 0 && ds->port_hi >= ds->port_lo;

	for (i = 0; i < ds->n_dests && i < DEEP_TOP_DESTS; i++) {
		const struct dest_count *d = &ds->dests[i];
		int64_t used = in_range ? d->in_port_range : d->total;
		char key[LISTENER_NAME_MAX];
		struct finding *f;
		struct sbuf sb;

		if (used * 100 < (int64_t)c->th.ephemeral_pct * size)
			continue;
		endpoint_name(d->family, d->addr, d->port, key, sizeof(key));
		f = new_finding(c, CAUSE_EPHEMERAL_PORTS, SCOPE_DESTINATION,
				used >= size ? LOG_ERR : LOG_WARNING);
		if (!f)
			return -ENOMEM;
		set_key(f, key);

		sb_init(&sb, f->message, sizeof(f->message));
		sb_printf(&sb, "Connections from this host to %s hold %" PRId64 " local ports, %" PRId64
			  "%% of the %" PRId64 " in net.ipv4.ip_local_port_range %" PRId64 "-%" PRId64
			  " (%" PRIu32 " established, %" PRIu32 " in TIME_WAIT, %" PRIu32
			  " connecting, %" PRIu32 " in other states); %s this host's own clients get "
			  "EADDRNOTAVAIL (cannot assign requested address) from connect() to it.", key,
			  used, used * 100 / size, size, lo, hi, d->established, d->time_wait, d->syn_sent,
			  d->other, used >= size ? "the range is used up:" : "when the range runs out");

		add_ev(f, "sockets", used);
		add_ev(f, "established", d->established);
		add_ev(f, "time_wait", d->time_wait);
		add_ev(f, "syn_sent", d->syn_sent);
		add_ev(f, "other", d->other);
		add_ev(f, "port_range_size", size);
		add_ev(f, "port_range_lo", lo);
		add_ev(f, "port_range_hi", hi);
		add_ev(f, "tcp_tw_reuse", lim->tcp_tw_reuse);

		sb_init(&sb, f->remedy, sizeof(f->remedy));
		if (lo > PORT_RANGE_WIDE_LO || hi < PORT_RANGE_WIDE_HI) {
			/* knob_current/suggested are the range's sizes: the number compared above. */
			set_knob(f, "net.ipv4.ip_local_port_range", size,
				 PORT_RANGE_WIDE_HI - PORT_RANGE_WIDE_LO + 1);
			sb_printf(&sb, "widen net.ipv4.ip_local_port_range from %" PRId64 "-%" PRId64
				  " to %d-%d (sysctl -w net.ipv4.ip_local_port_range=\"%d %d\"; keep "
				  "listeners out of it with net.ipv4.ip_local_reserved_ports), ", lo, hi,
				  PORT_RANGE_WIDE_LO, PORT_RANGE_WIDE_HI, PORT_RANGE_WIDE_LO,
				  PORT_RANGE_WIDE_HI);
		} else if (lim->tcp_tw_reuse != 1 && d->time_wait > 0) {
			set_knob(f, "net.ipv4.tcp_tw_reuse", lim->tcp_tw_reuse, 1);
		} else {
			set_knob(f, "connection reuse", -1, -1);
		}
		if (lim->tcp_tw_reuse != 1) {
			sb_printf(&sb, "let connect() reuse TIME_WAIT ports with net.ipv4.tcp_tw_reuse=1 (now ");
			fmt_val(&sb, lim->tcp_tw_reuse);
			sb_printf(&sb, "%s), ", lim->tcp_tw_reuse == 2 ? ", loopback only" : "");
		}
		sb_printf(&sb, "and reuse connections to %s (keep-alive, a connection pool) instead of "
			  "opening one per request", key);
	}
	return 0;
}

/* ---- timewait-overflow ---- */

static int rule_timewait_overflow(struct ctx *c)
{
	const struct track *t = c->t;
	int64_t max = c->lim->tcp_max_tw_buckets;
	int64_t tw = t->hs_cur.valid ? t->hs_cur.ss.tcp_tw : -1;
	int64_t sug = max64(max >= 0 ? 2 * max : 0, TW_BUCKETS_FLOOR);
	struct finding *f;
	struct sbuf sb;

	if (c->tw_overflow <= 0)
		return 0;
	f = new_finding(c, CAUSE_TIMEWAIT_OVERFLOW, SCOPE_HOST, cause_priority(CAUSE_TIMEWAIT_OVERFLOW));
	if (!f)
		return -ENOMEM;
	set_key(f, "host");
	sb_init(&sb, f->message, sizeof(f->message));
	sb_printf(&sb, "The TIME_WAIT table is full: %" PRId64 " closing connection%s skipped "
		  "TIME_WAIT in one tick (TCPTimeWaitOverflow) with ", c->tw_overflow,
		  c->tw_overflow == 1 ? "" : "s");
	fmt_val(&sb, tw);
	sb_printf(&sb, " sockets in TIME_WAIT against net.ipv4.tcp_max_tw_buckets=");
	fmt_val(&sb, max);
	sb_printf(&sb, "; their peers may see the port pair reused early, and late segments of "
		  "an old connection can hit a new one and draw resets.");

	add_ev(f, "tw_overflow", c->tw_overflow);
	add_ev(f, "tw", tw);
	add_ev(f, "tcp_max_tw_buckets", max);

	if (sug <= max)
		sug = -1;
	set_knob(f, "net.ipv4.tcp_max_tw_buckets", max, sug);
	sb_init(&sb, f->remedy, sizeof(f->remedy));
	if (sug > 0) {
		sb_printf(&sb, "raise net.ipv4.tcp_max_tw_buckets from ");
		fmt_val(&sb, max);
		sb_printf(&sb, " to %" PRId64 " (sysctl -w net.ipv4.tcp_max_tw_buckets=%" PRId64
			  "; persist in /etc/sysctl.d/; a bucket costs a few hundred bytes), and ",
			  sug, sug);
	}
	sb_printf(&sb, "find who closes so many connections (ss -tan state time-wait shows the "
		  "peers): connection reuse leaves fewer TIME_WAIT sockets behind");
	return 0;
}

/* ---- tcp-memory ---- */

/* "10.0.0.1:5432 -> 10.0.0.9:40122 ESTABLISHED unread 4194304 B unsent 0 B postgres[311]" */
static void holder_line(struct sbuf *sb, const struct mem_holder *h)
{
	char l[LISTENER_NAME_MAX], r[LISTENER_NAME_MAX];

	endpoint_name(h->family, h->laddr, h->lport, l, sizeof(l));
	endpoint_name(h->family, h->raddr, h->rport, r, sizeof(r));
	sb_printf(sb, "%s -> %s %s unread %" PRIu32 " B unsent %" PRIu32 " B", l, r,
		  tcp_state_name(h->state), h->rqueue, h->wqueue);
	if (h->pid > 0)
		sb_printf(sb, " %.*s[%d]", (int)sizeof(h->comm) - 1, h->comm, h->pid);
	else if (h->inode == 0)
		sb_printf(sb, " (orphaned)");
}

static void tcp_mem_triple(struct sbuf *sb, const struct limits *lim, int mult)
{
	if (lim->tcp_mem[0] < 0 || lim->tcp_mem[1] < 0 || lim->tcp_mem[2] < 0) {
		sb_printf(sb, "(unknown)");
		return;
	}
	sb_printf(sb, "%" PRId64 " %" PRId64 " %" PRId64, lim->tcp_mem[0] * mult,
		  lim->tcp_mem[1] * mult, lim->tcp_mem[2] * mult);
}

/*
 * Socket buffers are charged to a global pool counted in pages (sockstat
 * "mem"); past tcp_mem[1] the kernel shrinks buffers (TCPMemoryPressures),
 * past tcp_mem[2] it aborts sockets (TCPAbortOnMemory, "out of memory --
 * consider tuning tcp_mem"). The usual culprit is data nobody reads.
 */
bool diagnose_tcp_memory_short(const struct track *t)
{
	int64_t mem = t->hs_cur.valid ? t->hs_cur.ss.tcp_mem : -1;

	return (mem >= 0 && t->limits.tcp_mem[1] > 0 && mem >= t->limits.tcp_mem[1]) ||
	       host_delta(t, "TcpExt.TCPMemoryPressures") > 0 ||
	       host_delta(t, "TcpExt.TCPAbortOnMemory") > 0 || count_kmsg(t, KMSG_TCP_OOM) > 0;
}

static int rule_tcp_memory(struct ctx *c)
{
	const struct track *t = c->t;
	const struct limits *lim = c->lim;
	const struct deep_sample *ds = t->deep;
	int64_t mem = t->hs_cur.valid ? t->hs_cur.ss.tcp_mem : -1;
	size_t oom = count_kmsg(t, KMSG_TCP_OOM), i;
	bool pressure = mem >= 0 && lim->tcp_mem[1] > 0 && mem >= lim->tcp_mem[1];
	bool over = mem >= 0 && lim->tcp_mem[2] > 0 && mem >= lim->tcp_mem[2];
	struct finding *f;
	struct sbuf sb;

	if (!diagnose_tcp_memory_short(t))
		return 0;
	f = new_finding(c, CAUSE_TCP_MEMORY, SCOPE_HOST,
			c->abort_mem > 0 || oom || over ? LOG_ERR : LOG_WARNING);
	if (!f)
		return -ENOMEM;
	set_key(f, "host");

	sb_init(&sb, f->message, sizeof(f->message));
	sb_printf(&sb, "TCP memory %s: sockets hold ", over ? "is at its limit" :
		  pressure ? "is under pressure" : "ran short");
	fmt_val(&sb, mem);
	sb_printf(&sb, " pages against net.ipv4.tcp_mem ");
	tcp_mem_triple(&sb, lim, 1);
	sb_printf(&sb, " (min, pressure, max), TCPMemoryPressures ");
	fmt_delta(&sb, c->mem_pressures);
	sb_printf(&sb, " and TCPAbortOnMemory ");
	fmt_delta(&sb, c->abort_mem);
	sb_printf(&sb, " in one tick");
	if (oom)
		sb_printf(&sb, ", and the kernel logged out of memory -- consider tuning tcp_mem");
	sb_printf(&sb, "; clients saw stalls as the kernel shrank socket buffers%s.",
		  c->abort_mem > 0 || oom || over ? ", and resets on the connections it aborted"
						   : ", and resets once it starts aborting connections");

	add_ev(f, "mem_pages", mem);
	add_ev(f, "tcp_mem_min", lim->tcp_mem[0]);
	add_ev(f, "tcp_mem_pressure", lim->tcp_mem[1]);
	add_ev(f, "tcp_mem_max", lim->tcp_mem[2]);
	add_ev(f, "memory_pressures", c->mem_pressures);
	add_ev(f, "abort_on_memory", c->abort_mem);
	add_ev(f, "kmsg_tcp_oom", (int64_t)oom);
	if (ds && ds->n_holders)
		add_ev(f, "top_unread_bytes", ds->holders[0].rqueue);

	/* The list of who holds the memory: the finding's point, so it goes in whole. */
	sb_init(&sb, f->detail, sizeof(f->detail));
	for (i = 0; ds && i < ds->n_holders && i < DEEP_TOP_HOLDERS; i++) {
		if (i)
			sb_printf(&sb, "\n");
		holder_line(&sb, &ds->holders[i]);
	}

	set_knob(f, "net.ipv4.tcp_mem", lim->tcp_mem[1] > 0 ? lim->tcp_mem[1] : -1,
		 lim->tcp_mem[1] > 0 ? 2 * lim->tcp_mem[1] : -1);
	sb_init(&sb, f->remedy, sizeof(f->remedy));
	sb_printf(&sb, "first the applications that do not read their sockets: ");
	if (ds && ds->n_holders) {
		const struct mem_holder *h = &ds->holders[0];

		sb_printf(&sb, "the top holder is ");
		holder_line(&sb, h);
		sb_printf(&sb, " (all %zu listed in the detail)", ds->n_holders);
	} else {
		sb_printf(&sb, "ss -tmn lists each socket's memory, the largest Recv-Q first (the "
			  "deep tier did not run this tick)");
	}
	sb_printf(&sb, "; then, only if the memory is in real use, raise net.ipv4.tcp_mem from ");
	tcp_mem_triple(&sb, lim, 1);
	sb_printf(&sb, " to ");
	tcp_mem_triple(&sb, lim, 2);
	sb_printf(&sb, " pages");
	return 0;
}

/* ---- orphans ---- */

/*
 * Orphans are sockets the application closed and the peer has not: past
 * tcp_max_orphans the kernel resets them ("too many orphaned sockets").
 */
static int rule_orphans(struct ctx *c)
{
	const struct track *t = c->t;
	int64_t orph = t->hs_cur.valid ? t->hs_cur.ss.tcp_orphan : -1;
	int64_t max = c->lim->tcp_max_orphans;
	size_t logged = count_kmsg(t, KMSG_ORPHANS);
	bool near = orph >= 0 && max > 0 && orph * 100 >= (int64_t)c->th.orphans_pct * max;
	struct finding *f;
	struct sbuf sb;

	if (!near && logged == 0)
		return 0;
	f = new_finding(c, CAUSE_ORPHANS, SCOPE_HOST,
			logged || (max > 0 && orph >= max) ? LOG_ERR : LOG_WARNING);
	if (!f)
		return -ENOMEM;
	set_key(f, "host");
	sb_init(&sb, f->message, sizeof(f->message));
	sb_printf(&sb, "The host holds ");
	fmt_val(&sb, orph);
	sb_printf(&sb, " orphaned TCP sockets (closed by their application, not yet by the peer)");
	if (orph >= 0 && max > 0)
		sb_printf(&sb, ", %" PRId64 "%% of net.ipv4.tcp_max_orphans=%" PRId64, orph * 100 / max,
			  max);
	if (logged)
		sb_printf(&sb, ", and the kernel logged too many orphaned sockets");
	sb_printf(&sb, "; past the limit the kernel resets orphaned connections, so peers saw "
		  "resets instead of the end of their data.");

	add_ev(f, "orphans", orph);
	add_ev(f, "tcp_max_orphans", max);
	add_ev(f, "kmsg_orphans", (int64_t)logged);

	set_knob(f, "net.ipv4.tcp_max_orphans", max > 0 ? max : -1, max > 0 ? 2 * max : -1);
	sb_init(&sb, f->remedy, sizeof(f->remedy));
	sb_printf(&sb, "find the peers that do not close (ss -tan state fin-wait-1 or state "
		  "last-ack shows them) and ");
	if (max > 0)
		sb_printf(&sb, "raise net.ipv4.tcp_max_orphans from %" PRId64 " to %" PRId64
			  " (sysctl -w net.ipv4.tcp_max_orphans=%" PRId64 "; an orphan can hold up to "
			  "64 KiB of unswappable memory)", max, 2 * max, 2 * max);
	else
		sb_printf(&sb, "raise net.ipv4.tcp_max_orphans (it could not be read)");
	sb_printf(&sb, ", or shorten their life with net.ipv4.tcp_orphan_retries");
	return 0;
}

/* ---- conntrack-full ---- */

static int64_t u64_delta(uint64_t prev, uint64_t cur)
{
	/* Per-CPU sums go backwards only when the module was reloaded: nothing known moved. */
	if (cur < prev)
		return 0;
	return cur - prev > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)(cur - prev);
}

/*
 * A full conntrack table drops packets before TCP sees them: clients time
 * out and no listen counter moves, which is how it is told from an
 * accept-queue overflow.
 */
static int rule_conntrack_full(struct ctx *c)
{
	const struct track *t = c->t;
	const struct conntrack_stat *cur = &t->hs_cur.ct, *prev = &t->hs_prev.ct;
	int64_t max = c->lim->nf_conntrack_max;
	int64_t count = t->hs_cur.valid && cur->present ? cur->count : -1;
	int64_t drop = -1, early = -1, failed = -1;
	size_t logged = count_kmsg(t, KMSG_CONNTRACK_FULL);
	bool near = count >= 0 && max > 0 && count * 100 >= (int64_t)c->th.conntrack_pct * max;
	bool moved, quiet_listen;
	struct finding *f;
	struct sbuf sb;

	if (t->hs_cur.valid && t->hs_prev.valid && cur->have_stat && prev->have_stat) {
		drop = u64_delta(prev->drop, cur->drop);
		early = u64_delta(prev->early_drop, cur->early_drop);
		failed = u64_delta(prev->insert_failed, cur->insert_failed);
	}
	moved = drop > 0 || early > 0 || failed > 0;
	if (!near && !moved && logged == 0)
		return 0;
	f = new_finding(c, CAUSE_CONNTRACK_FULL, SCOPE_HOST,
			moved || logged ? LOG_ERR : LOG_WARNING);
	if (!f)
		return -ENOMEM;
	set_key(f, "host");
	quiet_listen = c->overflows == 0 && c->listen_drops == 0;

	sb_init(&sb, f->message, sizeof(f->message));
	if (near)
		sb_printf(&sb, "The conntrack table is full: %" PRId64 " of net.netfilter."
			  "nf_conntrack_max=%" PRId64 " entries", count, max);
	else if (count >= 0)
		sb_printf(&sb, "Connection tracking dropped packets with its table at %" PRId64
			  " of net.netfilter.nf_conntrack_max=", count);
	else
		sb_printf(&sb, "Connection tracking dropped packets");
	if (!near && count >= 0)
		fmt_val(&sb, max);
	sb_printf(&sb, ", with drop ");
	fmt_delta(&sb, drop);
	sb_printf(&sb, ", early_drop ");
	fmt_delta(&sb, early);
	sb_printf(&sb, " and insert_failed ");
	fmt_delta(&sb, failed);
	sb_printf(&sb, " in one tick");
	if (logged)
		sb_printf(&sb, " and the kernel logged nf_conntrack: table full, dropping packet");
	if (quiet_listen)
		sb_printf(&sb, ", and no listen counter moved (ListenOverflows +0, ListenDrops +0)");
	else if (c->overflows > 0 || c->listen_drops > 0)
		sb_printf(&sb, ", while listen counters moved too (ListenOverflows +%" PRId64
			  ", ListenDrops +%" PRId64 ")", max64(c->overflows, 0),
			  max64(c->listen_drops, 0));
	sb_printf(&sb, "; clients saw connect timeouts: their SYNs were dropped before reaching "
		  "any listener.");

	add_ev(f, "conntrack_count", count);
	add_ev(f, "nf_conntrack_max", max);
	add_ev(f, "drop", drop);
	add_ev(f, "early_drop", early);
	add_ev(f, "insert_failed", failed);
	add_ev(f, "listen_overflows", c->overflows);
	add_ev(f, "listen_drops", c->listen_drops);
	add_ev(f, "kmsg_conntrack_full", (int64_t)logged);

	set_knob(f, "net.netfilter.nf_conntrack_max", max > 0 ? max : -1, max > 0 ? 2 * max : -1);
	sb_init(&sb, f->remedy, sizeof(f->remedy));
	if (max > 0)
		sb_printf(&sb, "raise net.netfilter.nf_conntrack_max from %" PRId64 " to %" PRId64
			  " (sysctl -w net.netfilter.nf_conntrack_max=%" PRId64 "; raise "
			  "nf_conntrack hashsize with it)", max, 2 * max, 2 * max);
	else
		sb_printf(&sb, "raise net.netfilter.nf_conntrack_max (it could not be read)");
	sb_printf(&sb, ", shorten the conntrack timeouts that hold dead entries "
		  "(net.netfilter.nf_conntrack_tcp_timeout_time_wait, "
		  "nf_conntrack_tcp_timeout_established), or exempt busy traffic from tracking "
		  "with a notrack rule");
	return 0;
}

/* ---- link-drops ---- */

static const struct link_stat *link_by_ifindex(const struct link_table *lt, int ifindex)
{
	size_t i;

	for (i = 0; i < lt->count && i < LINKS_MAX; i++)
		if (lt->items[i].ifindex == ifindex)
			return &lt->items[i];
	return NULL;
}

/* Packets lost on an interface never reach TCP: clients only see timeouts and retransmissions. */
static int rule_link_drops(struct ctx *c)
{
	const struct track *t = c->t;
	size_t i;

	if (!t->hs_cur.valid || !t->hs_prev.valid)
		return 0;
	for (i = 0; i < t->hs_cur.links.count && i < LINKS_MAX; i++) {
		const struct link_stat *cur = &t->hs_cur.links.items[i];
		const struct link_stat *prev = link_by_ifindex(&t->hs_prev.links, cur->ifindex);
		int64_t dropped, missed, fifo, pkts;
		char name[LINK_NAME_MAX];
		struct finding *f;
		struct sbuf sb;

		if (!prev)
			continue;
		dropped = u64_delta(prev->rx_dropped, cur->rx_dropped);
		missed = u64_delta(prev->rx_missed_errors, cur->rx_missed_errors);
		fifo = u64_delta(prev->rx_fifo_errors, cur->rx_fifo_errors);
		pkts = u64_delta(prev->rx_packets, cur->rx_packets);
		/*
		 * rx_dropped also counts frames no protocol wants (LLDP, unknown
		 * EtherTypes): a few a tick are noise. The NIC running out of
		 * buffers (missed, fifo) is never noise.
		 */
		if (missed + fifo <= 0 && dropped < (int64_t)c->th.link_dropped_min)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)sizeof(cur->name) - 1, cur->name);
		f = new_finding(c, CAUSE_LINK_DROPS, SCOPE_INTERFACE, cause_priority(CAUSE_LINK_DROPS));
		if (!f)
			return -ENOMEM;
		set_key(f, name);
		sb_init(&sb, f->message, sizeof(f->message));
		sb_printf(&sb, "%s dropped %" PRId64 " received packets in one tick (rx_dropped +%" PRId64
			  ", rx_missed_errors +%" PRId64 ", rx_fifo_errors +%" PRId64 ", of %" PRId64
			  " received); clients whose packets were among them saw timeouts and slow "
			  "retransmissions, since lost packets never reach TCP.", name,
			  dropped + missed + fifo, dropped, missed, fifo, pkts);
		add_ev(f, "rx_dropped", dropped);
		add_ev(f, "rx_missed_errors", missed);
		add_ev(f, "rx_fifo_errors", fifo);
		add_ev(f, "rx_packets", pkts);
		add_ev(f, "ifindex", cur->ifindex);

		/* The knob is the first thing the remedy names. */
		set_knob(f, missed + fifo > 0 ? "NIC rx ring (ethtool -G)" : "net.core.netdev_max_backlog",
			 -1, -1);
		sb_init(&sb, f->remedy, sizeof(f->remedy));
		if (missed + fifo > 0)
			sb_printf(&sb, "the NIC ran out of receive buffers: see the ring size with ethtool "
				  "-g %s and raise it with ethtool -G %s rx N (up to the hardware "
				  "maximum), and spread interrupts over more CPUs (RSS, irqbalance)",
				  name, name);
		else
			sb_printf(&sb, "the kernel dropped them after the NIC (rx_dropped): check the "
				  "input backlog (net.core.netdev_max_backlog, softnet_stat), the ring "
				  "size (ethtool -g %s, ethtool -G %s rx N) and the interface itself", name,
				  name);
	}
	return 0;
}

/* ---- causal chain ---- */

static bool is_overflow(enum cause c)
{
	return c == CAUSE_BACKLOG_SMALL || c == CAUSE_BACKLOG_CLAMPED || c == CAUSE_SLOW_ACCEPT ||
	       c == CAUSE_OVERFLOW_RESET;
}

static int64_t extra_value(const struct finding *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n_extra; i++)
		if (strcmp(f->extra[i].name, name) == 0)
			return f->extra[i].value;
	return -1;
}

/* Does by (a cause in its own right) explain f? The rules of the causal chain. */
static bool explains(const struct finding *by, const struct finding *f)
{
	switch (by->cause) {
	case CAUSE_SYN_FLOOD:
		/* A flood that fills the accept queue is the flood first, the backlog second. */
		return (is_overflow(f->cause) || f->cause == CAUSE_SYN_QUEUE_DROP) &&
		       strncmp(by->listener, f->listener, sizeof(f->listener)) == 0;
	case CAUSE_REUSEPORT_IMBALANCE:
		return is_overflow(f->cause) && f->cookie == by->cookie;
	case CAUSE_SYN_QUEUE_DROP:
		/*
		 * The overflow rule takes a listener's drops as an overflow when the
		 * host's ListenOverflows moved; when this very listener drops from
		 * its SYN queue, those drops are the SYN queue's, not the accept queue's.
		 */
		return is_overflow(f->cause) && f->cookie == by->cookie;
	case CAUSE_EPHEMERAL_PORTS:
		/* Only churn that leaves TIME_WAIT sockets behind fills the TIME_WAIT table. */
		return f->cause == CAUSE_TIMEWAIT_OVERFLOW && extra_value(by, "time_wait") > 0;
	case CAUSE_TCP_MEMORY:
		return f->cause == CAUSE_ORPHANS;
	case CAUSE_BACKLOG_CLAMPED:
	case CAUSE_BACKLOG_SMALL:
	case CAUSE_SLOW_ACCEPT:
	case CAUSE_OVERFLOW_RESET:
	case CAUSE_LISTENER_GAP:
	case CAUSE_TIMEWAIT_OVERFLOW:
	case CAUSE_ORPHANS:
	case CAUSE_CONNTRACK_FULL:
	case CAUSE_LINK_DROPS:
	case CAUSE_COUNT:
		break;
	}
	return false;
}

/* Say in the message what f is a side effect of, first, where it cannot be cut off. */
static void mark_side_effect(struct finding *f, const struct finding *by)
{
	char msg[FINDING_TEXT_MAX];
	struct sbuf sb;

	f->explained_by = (int)by->cause;
	memcpy(msg, f->message, sizeof(msg));
	/* It goes on after a colon now: "The TIME_WAIT ..." becomes "the TIME_WAIT ...", "TCP" stays. */
	if (isupper((unsigned char)msg[0]) && islower((unsigned char)msg[1]))
		msg[0] = (char)tolower((unsigned char)msg[0]);
	sb_init(&sb, f->message, sizeof(f->message));
	if (by->scope == SCOPE_HOST)
		sb_printf(&sb, "Side effect of %s: %s", cause_code(by->cause), msg);
	else
		sb_printf(&sb, "Side effect of %s on %s: %s", cause_code(by->cause), by->listener, msg);
}

/*
 * Explainers are themselves primaries (none of the chain's explainers is
 * explained by another), so one pass over the pairs is enough.
 */
static void explain(struct finding_list *out)
{
	size_t i, j;

	for (i = 0; i < out->count; i++) {
		struct finding *f = &out->items[i];

		for (j = 0; j < out->count && f->explained_by < 0; j++) {
			const struct finding *by = &out->items[j];

			if (j != i && by->explained_by < 0 && explains(by, f))
				mark_side_effect(f, by);
		}
	}
}

/* Primaries first, each group in rule order (a stable partition; findings are few). */
static void order_primaries_first(struct finding_list *out)
{
	struct finding tmp;
	size_t w = 0, i;

	for (i = 0; i < out->count; i++) {
		if (out->items[i].explained_by >= 0)
			continue;
		if (i != w) {
			tmp = out->items[i];
			memmove(&out->items[w + 1], &out->items[w], (i - w) * sizeof(out->items[0]));
			out->items[w] = tmp;
		}
		w++;
	}
}

/* A zero threshold means "not set": fall back to the default rather than fire on everything. */
static void thresholds_in_force(const struct diag_thresholds *thr, struct diag_thresholds *th)
{
	diag_thresholds_default(th);
	if (!thr)
		return;
	if (thr->slow_accept_ticks)
		th->slow_accept_ticks = thr->slow_accept_ticks;
	if (thr->full_window_ticks)
		th->full_window_ticks = thr->full_window_ticks;
	if (thr->gap_memory_secs)
		th->gap_memory_secs = thr->gap_memory_secs;
	if (thr->ephemeral_pct)
		th->ephemeral_pct = thr->ephemeral_pct;
	if (thr->orphans_pct)
		th->orphans_pct = thr->orphans_pct;
	if (thr->conntrack_pct)
		th->conntrack_pct = thr->conntrack_pct;
	if (thr->reuseport_room_pct)
		th->reuseport_room_pct = thr->reuseport_room_pct;
	if (thr->link_dropped_min)
		th->link_dropped_min = thr->link_dropped_min;
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
	explain(out);
	order_primaries_first(out);
	return 0;
}
