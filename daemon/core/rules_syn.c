/* rules_syn.c: the SYN-queue rules: syn-queue-drop (cookies off) and syn-flood (requests that do not complete). */
#include "base.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rules.h"

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

/* ---- syn-queue-drop ---- */

static const char syn_retry_clients[] =
	"clients saw connect timeouts: their SYNs were dropped and retransmitted after 1, 3, 7 s";

static void somaxconn_clause(struct sbuf *sb, const struct limits *lim)
{
	if (somaxconn_known(lim))
		sb_printf(sb, "net.core.somaxconn=%" PRId64 " caps it", lim->somaxconn);
	else
		sb_printf(sb, "net.core.somaxconn (could not be read) caps it");
}

/*
 * "the listen() backlog of KEY from N to at least M (somaxconn caps it)", or
 * "..., now N (...)" when no bigger one fits, or "the listen() backlog of
 * ANON (...)" without a listener: a SYN queue is as long as the backlog, so
 * twice the requests seen must fit. Return: the suggested backlog, -1 none.
 */
static int64_t raise_backlog(struct sbuf *sb, const struct finding *f, const struct tracked *tr,
			     const struct limits *lim, int64_t synrecv, const char *anon)
{
	int64_t backlog, sug = -1;

	if (!tr) {
		sb_printf(sb, "the listen() backlog of %s (", anon);
	} else {
		backlog = tr->l.backlog;
		sug = suggest_backlog(lim, backlog, 2 * max64(backlog, synrecv));
		if (sug > 0)
			sb_printf(sb, "the listen() backlog of %s from %" PRId64 " to at least %" PRId64
				  " (", f->listener, backlog, sug);
		else
			sb_printf(sb, "the listen() backlog of %s, now %" PRId64 " (", f->listener,
				  backlog);
	}
	somaxconn_clause(sb, lim);
	sb_printf(sb, ")");
	return sug;
}

static void syn_queue_drop_remedy(struct finding *f, const struct ctx *c, const struct tracked *tr,
				  int64_t synrecv)
{
	const struct limits *lim = c->lim;
	struct sbuf sb;

	set_knob(f, "net.ipv4.tcp_syncookies", 0, 1);
	sb_init(&sb, f->body.fix, sizeof(f->body.fix));
	sb_printf(&sb, "set net.ipv4.tcp_syncookies=1 (now 0; sysctl -w net.ipv4.tcp_syncookies=1, "
		  "persist in /etc/sysctl.d/) so that a full SYN queue answers with cookies "
		  "instead of dropping, and raise ");
	raise_backlog(&sb, f, tr, lim, synrecv, "the busy listeners");
	sb_printf(&sb, ": the SYN queue is as long as the listener's backlog, not "
		  "net.ipv4.tcp_max_syn_backlog=");
	sb_value(&sb, lim->tcp_max_syn_backlog);
	sb_printf(&sb, ", which with cookies off only drops SYNs from unproven peers past three "
		  "quarters of it");
}

/*
 * SYNs the SYN queue dropped this tick: every accept-queue overflow counts
 * once in ListenOverflows and once in ListenDrops, and a SYN dropped from a
 * full SYN queue (TCPReqQFullDrop) or past three quarters of
 * tcp_max_syn_backlog counts in ListenDrops alone. So ListenDrops -
 * ListenOverflows, and at least TCPReqQFullDrop; -1 when none was read.
 */
static int64_t syn_queue_drops(const struct ctx *c)
{
	int64_t d = c->reqq_drop;

	if (c->listen_drops >= 0 && c->overflows >= 0)
		d = max64(d, c->listen_drops - c->overflows);
	return d;
}

/*
 * tr's accept queue was seen full (the kernel's sk_acceptq_is_full) within
 * the last window ticks, fast samples included. Then requests whose final
 * ACK met the full accept queue sit in SYN_RECV and fill the SYN queue: its
 * drops are the accept queue's doing. (rules_accept.c asks the same of its
 * own history for the overflow rule.)
 */
static bool accept_seen_full(const struct tracked *tr, unsigned window)
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

/* A listener whose drops may be its SYN queue's: dropping, its accept queue not seen full lately. */
static bool syn_queue_candidate(const struct ctx *c, const struct tracked *tr)
{
	return tr->drops_delta > 0 && !accept_seen_full(tr, c->th.full_window_ticks);
}

/* sqd: the SYN queue's drops this tick, of which tr's are at most its own drops. */
static int syn_queue_drop_one(struct ctx *c, const struct tracked *tr, int64_t synrecv, int64_t sqd)
{
	struct finding *f = new_finding(c, CAUSE_SYN_QUEUE_DROP);
	struct sbuf sb;

	if (!f)
		return -ENOMEM;
	sb_init(&sb, f->body.happened, sizeof(f->body.happened));
	if (tr) {
		int64_t mine = min64(tr->drops_delta, sqd);

		fill_identity(f, tr);
		listener_evidence(f, tr);
		sb_printf(&sb, "%s dropped connection requests because its SYN queue was full with "
			  "net.ipv4.tcp_syncookies=0: %" PRId64 " drop%s in one tick with room in its "
			  "accept queue (%" PRIu32 " of backlog %" PRIu32 ")", f->listener,
			  mine, mine == 1 ? "" : "s", tr->l.queue, tr->l.backlog);
		if (synrecv >= 0)
			sb_printf(&sb, ", %" PRId64 " requests in SYN_RECV", synrecv);
		sb_printf(&sb, ", host-wide TCPReqQFullDrop ");
	} else {
		set_host(f);
		sb_printf(&sb, "Listeners dropped connection requests from full SYN queues with "
			  "net.ipv4.tcp_syncookies=0, and none could be singled out: TCPReqQFullDrop ");
	}
	sb_delta(&sb, c->reqq_drop);
	sb_printf(&sb, " and ListenDrops ");
	sb_delta(&sb, c->listen_drops);
	sb_printf(&sb, " against ListenOverflows ");
	sb_delta(&sb, c->overflows);
	sb_printf(&sb, " in one tick; %s.", syn_retry_clients);

	add_ev(f, "syn_queue_drops", sqd);
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
 * only drops beyond the overflows are the SYN queue's (syn_queue_drops).
 * The listeners dropping with room in their accept queue are the ones; among
 * them, those whose SYN_RECV count reached the backlog first. When none had
 * room lately and an accept queue overflowed, the SYN queue filled with
 * requests whose final ACK met that full accept queue (they stay in
 * SYN_RECV until a SYN-ACK is sent again, even once the accept queue has
 * room): the accept queue's finding is the cause, and the SYN queue is not
 * blamed nor cookies advised.
 */
int rule_syn_queue_drop(struct ctx *c)
{
	const struct track *t = c->t;
	int64_t sqd = syn_queue_drops(c);
	size_t i, ncand = 0, npref = 0, nbehind = 0;

	if (c->lim->tcp_syncookies != 0 || sqd <= 0)
		return 0;

	for (i = 0; i < t->count; i++) {
		const struct tracked *tr = &t->items[i];
		int64_t sr;

		if (!syn_queue_candidate(c, tr)) {
			nbehind += tr->drops_delta > 0;
			continue;
		}
		ncand++;
		sr = synrecv_for(t->deep, tr);
		if (sr >= 0 && sr >= (int64_t)tr->l.backlog)
			npref++;
	}
	if (ncand == 0)
		return nbehind || c->overflows > 0 ? 0 : syn_queue_drop_one(c, NULL, -1, sqd);
	for (i = 0; i < t->count; i++) {
		const struct tracked *tr = &t->items[i];
		int64_t sr;

		if (!syn_queue_candidate(c, tr))
			continue;
		sr = synrecv_for(t->deep, tr);
		if (npref && !(sr >= 0 && sr >= (int64_t)tr->l.backlog))
			continue;
		if (syn_queue_drop_one(c, tr, sr, sqd) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* ---- syn-flood ---- */

/* Cookies that never came back, in one tick, before they prove a flood: a few are a timing accident. */
#define FLOOD_UNANSWERED_MIN 10

/*
 * Cookies sent and fewer than half back: SyncookiesSent counts the cookies
 * a full SYN queue answered with (cookie_init_sequence), SyncookiesRecv the
 * final ACKs that carried a valid one (cookie_v4_check). A client that is
 * real completes its handshake within a round trip, so its cookie comes back
 * in the same tick or the next; a spoofed or abandoned SYN never does.
 * TCPReqQFullDoCookies does not decide: it also moves for SYNs that found the
 * accept queue full and were dropped as overflows without any cookie, which
 * is what every small backlog under load does.
 */
static bool cookies_unanswered(const struct syn_flood_signs *s)
{
	if (s->cookies_sent < 0 || s->cookies_recv < 0)
		return false;
	return s->cookies_sent - s->cookies_recv >= FLOOD_UNANSWERED_MIN &&
	       2 * s->cookies_recv < s->cookies_sent;
}

/* The listener's SYN queue holds as many requests as its backlog (the kernel's inet_csk_reqsk_queue_is_full). */
static bool requests_at_limit(const struct syn_flood_signs *s)
{
	return s->syn_recv > 0 && s->backlog >= 0 && s->syn_recv >= s->backlog;
}

/*
 * A flood is SYNs that do not complete. Either many cookies went unanswered
 * this tick (above), or the listener's SYN queue is full of half-open
 * requests while it still sends cookies that mostly do not come back. Half-
 * open requests alone do not decide: a client whose final ACK met a full
 * accept queue, or that waits on TCP_DEFER_ACCEPT, leaves its request in
 * SYN_RECV too, so the queue must be overflowing now (cookies sent) with
 * handshakes that do not finish. Cookies sent and coming back, with
 * connections established, are a legitimate burst, whatever the kernel log
 * says: its cause is the accept queue's, and the cookies are its evidence.
 */
bool syn_flood_proven(const struct syn_flood_signs *s)
{
	if (cookies_unanswered(s))
		return true;
	return requests_at_limit(s) && s->cookies_sent > 0 && s->cookies_recv >= 0 &&
	       2 * s->cookies_recv < s->cookies_sent;
}

/* TcpExt.SyncookiesRecv this tick; -1 unknown. */
static int64_t cookies_recv(const struct ctx *c)
{
	return host_delta(c->t, "TcpExt.SyncookiesRecv");
}

static struct syn_flood_signs signs_for(const struct ctx *c, const struct tracked *tr)
{
	struct syn_flood_signs s = { .cookies_sent = c->cookies_sent, .cookies_recv = cookies_recv(c),
				     .syn_recv = -1, .backlog = -1 };

	if (tr) {
		s.syn_recv = synrecv_for(c->t->deep, tr);
		s.backlog = tr->l.backlog;
	}
	return s;
}

/*
 * The "Possible SYN flooding on port [ADDR]:PORT. Sending cookies." line of
 * this tick that names tr, or NULL. Older kernels name only the port. A
 * "Dropping request" line is a full SYN queue with cookies off, which is
 * syn-queue-drop's.
 */
static const struct kmsg_event *kmsg_line_for(const struct track *t, const struct tracked *tr)
{
	char addr[LISTENER_NAME_MAX];
	size_t i;

	listener_addr(&tr->l, addr, sizeof(addr));
	for (i = 0; i < t->n_kmsg; i++) {
		const struct kmsg_event *e = &t->kmsg[i];

		if (e->kind != KMSG_SYN_FLOOD || !e->cookies || e->port != tr->l.port)
			continue;
		if (!e->addr[0] || strncmp(addr, e->addr, sizeof(e->addr)) == 0)
			return e;
	}
	return NULL;
}

/*
 * Is the flood on tr? Its own requests at the SYN queue's limit say so while
 * its accept queue has room; behind a full accept queue they may be clients
 * whose final ACK met it, waiting in SYN_RECV (another listener's cookies may
 * be the ones unanswered). /dev/kmsg is shared by every network namespace
 * and its line names no namespace, so a line only points at tr when tr's own
 * evidence agrees: its requests at the limit when the deep tier counted
 * them, else its own drops or full queue. A line never makes a finding alone.
 */
static bool flood_on(const struct ctx *c, const struct tracked *tr, const struct kmsg_event **line)
{
	struct syn_flood_signs s = signs_for(c, tr);

	*line = kmsg_line_for(c->t, tr);
	if (!syn_flood_proven(&s))
		return false;
	if (requests_at_limit(&s) && !listener_queue_full(&tr->l))
		return true;
	if (!*line)
		return false;
	if (s.syn_recv >= 0)
		return requests_at_limit(&s);
	return tr->drops_delta > 0 || listener_queue_full(&tr->l);
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

/* "(SyncookiesSent +N, SyncookiesRecv +M in one tick)" */
static void cookie_counts(struct sbuf *sb, const struct ctx *c)
{
	sb_printf(sb, "(SyncookiesSent ");
	sb_delta(sb, c->cookies_sent);
	sb_printf(sb, ", SyncookiesRecv ");
	sb_delta(sb, cookies_recv(c));
	sb_printf(sb, " in one tick)");
}

/* What the flood did and what clients saw; e: the kernel line naming tr, or NULL. */
static void syn_flood_message(struct finding *f, const struct ctx *c, const struct tracked *tr,
			      const struct kmsg_event *e, int64_t synrecv)
{
	struct sbuf sb;

	sb_init(&sb, f->body.happened, sizeof(f->body.happened));
	if (tr) {
		sb_printf(&sb, "%s is under a SYN flood: SYNs that never complete the handshake fill "
			  "its SYN queue (as long as its backlog of %" PRIu32, f->listener, tr->l.backlog);
		if (synrecv >= 0)
			sb_printf(&sb, ", %" PRId64 " requests in SYN_RECV", synrecv);
		sb_printf(&sb, ") and the kernel answers the rest with syncookies that do not come back ");
	} else {
		sb_printf(&sb, "The host is under a SYN flood: the kernel answered SYNs with syncookies "
			  "that did not come back, and no listener's own requests single one out ");
	}
	cookie_counts(&sb, c);
	if (e) {
		char named[LISTENER_NAME_MAX];

		kmsg_endpoint(e, named, sizeof(named));
		sb_printf(&sb, ", and the kernel logged Possible SYN flooding on port %s (Sending cookies)",
			  named);
	}
	sb_printf(&sb, "; clients saw slower handshakes, and connections made with a cookie lost TCP "
		  "options such as window scaling and SACK.");
}

static void syn_flood_remedy(struct finding *f, const struct ctx *c, const struct tracked *tr,
			     int64_t synrecv)
{
	struct sbuf sb;
	int64_t sug;

	sb_init(&sb, f->body.fix, sizeof(f->body.fix));
	sb_printf(&sb, "find the source of the SYN burst (ss -tn state syn-recv");
	if (tr)
		sb_printf(&sb, " '( sport = :%u )'", (unsigned)tr->l.port);
	sb_printf(&sb, " lists the half-open peers; a few sources can be filtered or rate-limited "
		  "upstream), then raise ");
	sug = raise_backlog(&sb, f, tr, c->lim, synrecv, "the flooded listener");
	set_knob(f, "listen() backlog", tr ? (int64_t)tr->l.backlog : -1, sug);
	sb_printf(&sb, ", since the SYN queue is as long as the backlog");
}

/*
 * One syn-flood finding. tr: the listener, or NULL for the host; e: the
 * kernel line that names tr, or NULL. The evidence holds every number
 * syn_flood_proven() read, for the causal chain to ask it again.
 */
static int syn_flood_one(struct ctx *c, const struct tracked *tr, const struct kmsg_event *e)
{
	int64_t synrecv = tr ? synrecv_for(c->t->deep, tr) : -1;
	char key[LISTENER_NAME_MAX] = "host";
	struct finding *f;

	/* An SO_REUSEPORT group shares its address and its count of requests: one finding. */
	if (tr)
		listener_name(&tr->l, key, sizeof(key));
	if (have_finding(c->out, CAUSE_SYN_FLOOD, key))
		return 0;
	f = new_finding(c, CAUSE_SYN_FLOOD);
	if (!f)
		return -ENOMEM;
	if (tr) {
		fill_identity(f, tr);
		listener_evidence(f, tr);
	} else {
		set_host(f);
	}
	syn_flood_message(f, c, tr, e, synrecv);

	add_ev(f, "reqq_full_do_cookies", c->reqq_cookies);
	add_ev(f, "syncookies_sent", c->cookies_sent);
	add_ev(f, "syncookies_recv", cookies_recv(c));
	add_ev(f, "kmsg_syn_flood", e ? 1 : 0);
	add_ev(f, "tcp_syncookies", c->lim->tcp_syncookies);
	if (tr)
		add_ev(f, "syn_recv", synrecv);
	syn_flood_remedy(f, c, tr, synrecv);
	return 0;
}

/* The listener of an accept-queue finding in out, or NULL for any other finding. */
static const struct tracked *overflowing(const struct ctx *c, const struct finding *f)
{
	if (cause_family(f->cause) != FAMILY_ACCEPT_QUEUE || f->scope != SCOPE_LISTENER || !f->cookie)
		return NULL;
	return track_find(c->t, f->cookie);
}

/* "...; the kernel answered N SYNs with syncookies ...": the clause goes before f's full stop, if it fits. */
static void say_cookies(struct finding *f, int64_t sent, int64_t recv)
{
	size_t len = strnlen(f->body.happened, sizeof(f->body.happened));
	char clause[256];
	struct sbuf sb;

	if (len == 0 || f->body.happened[len - 1] != '.')
		return;
	sb_init(&sb, clause, sizeof(clause));
	sb_printf(&sb, "; the kernel answered %" PRId64 " SYNs with syncookies in one tick (", sent);
	if (recv >= 0)
		sb_printf(&sb, "%" PRId64 " came back: clients completing their handshakes", recv);
	else
		sb_printf(&sb, "SyncookiesRecv unknown");
	sb_printf(&sb, "), and those clients lost TCP options such as window scaling and SACK.");
	if (len - 1 + sb.len >= sizeof(f->body.happened))
		return;
	memcpy(&f->body.happened[len - 1], clause, sb.len + 1);
	add_ev(f, "syncookies_sent", sent);
	add_ev(f, "syncookies_recv", recv);
}

/*
 * A legitimate burst: the accept queue's finding stays the cause and the
 * cookies are its evidence. The counters are the namespace's: when a kernel
 * line names overflowing listeners, only those; else each overflowing one.
 */
static void cookies_on_overflows(struct ctx *c)
{
	size_t i, named = 0;

	for (i = 0; i < c->out->count; i++) {
		const struct tracked *tr = overflowing(c, &c->out->items[i]);

		if (tr && kmsg_line_for(c->t, tr))
			named++;
	}
	for (i = 0; i < c->out->count; i++) {
		const struct tracked *tr = overflowing(c, &c->out->items[i]);

		if (tr && (!named || kmsg_line_for(c->t, tr)))
			say_cookies(&c->out->items[i], c->cookies_sent, cookies_recv(c));
	}
}

/*
 * syn-flood, only where syn_flood_proven() holds: on each listener whose own
 * evidence shows it, else on the host. With tcp_syncookies=0 no cookie is
 * sent and a full SYN queue drops: syn-queue-drop says that. With
 * tcp_syncookies=2 every SYN gets a cookie, and whether they come back still
 * tells a flood from a crowd.
 */
int rule_syn_flood(struct ctx *c)
{
	const struct track *t = c->t;
	struct syn_flood_signs ns = signs_for(c, NULL);
	size_t i, n = 0;

	if (c->lim->tcp_syncookies == 0 || c->cookies_sent <= 0)
		return 0;
	for (i = 0; i < t->count; i++) {
		const struct kmsg_event *line;

		if (!flood_on(c, &t->items[i], &line))
			continue;
		if (syn_flood_one(c, &t->items[i], line) < 0)
			return -ENOMEM;
		n++;
	}
	if (n == 0 && syn_flood_proven(&ns))
		return syn_flood_one(c, NULL, NULL);
	if (n == 0)
		cookies_on_overflows(c);
	return 0;
}
