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

static int syn_queue_drop_one(struct ctx *c, const struct tracked *tr, int64_t synrecv)
{
	struct finding *f = new_finding(c, CAUSE_SYN_QUEUE_DROP);
	struct sbuf sb;

	if (!f)
		return -ENOMEM;
	sb_init(&sb, f->body.happened, sizeof(f->body.happened));
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
int rule_syn_queue_drop(struct ctx *c)
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

/* What the flood did and what clients saw; e: the kernel line, or NULL. */
static void syn_flood_message(struct finding *f, const struct ctx *c, const struct tracked *tr,
			      const struct kmsg_event *e, bool dropping, int64_t synrecv)
{
	struct sbuf sb;

	sb_init(&sb, f->body.happened, sizeof(f->body.happened));
	if (f->scope == SCOPE_HOST)
		sb_printf(&sb, "The host is under a SYN flood: a listener's SYN queue");
	else
		sb_printf(&sb, "%s is under a SYN flood: its SYN queue", f->listener);
	if (tr)
		sb_printf(&sb, " (as long as its backlog of %" PRIu32 ")", tr->l.backlog);
	if (dropping)
		sb_printf(&sb, " filled and with net.ipv4.tcp_syncookies=0 the kernel dropped new "
			  "requests (TCPReqQFullDrop ");
	else
		sb_printf(&sb, " filled and the kernel answered with syncookies "
			  "(TCPReqQFullDoCookies ");
	sb_delta(&sb, dropping ? c->reqq_drop : c->reqq_cookies);
	if (!dropping) {
		sb_printf(&sb, ", SyncookiesSent ");
		sb_delta(&sb, c->cookies_sent);
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
}

static void syn_flood_remedy(struct finding *f, const struct ctx *c, const struct tracked *tr,
			     const struct kmsg_event *e, int64_t synrecv)
{
	const struct limits *lim = c->lim;
	struct sbuf sb;
	int64_t sug;

	sb_init(&sb, f->body.fix, sizeof(f->body.fix));
	sb_printf(&sb, "find the source of the SYN burst (ss -tn state syn-recv");
	if (tr || e)
		sb_printf(&sb, " '( sport = :%u )'", tr ? (unsigned)tr->l.port : (unsigned)e->port);
	sb_printf(&sb, " lists the half-open peers; a few sources can be filtered or rate-limited "
		  "upstream), then raise ");
	sug = raise_backlog(&sb, f, tr, lim, synrecv, "the flooded listener");
	set_knob(f, "listen() backlog", tr ? (int64_t)tr->l.backlog : -1, sug);
	sb_printf(&sb, ", since the SYN queue is as long as the backlog");
	if (lim->tcp_syncookies == 0) {
		sb_printf(&sb, ", and set net.ipv4.tcp_syncookies=1 (now 0) so that a full SYN queue "
			  "answers with cookies instead of dropping");
		/* Cookies keep the flood from refusing anyone: the first thing to change. */
		set_knob(f, "net.ipv4.tcp_syncookies", 0, 1);
	}
}

/*
 * One syn-flood finding. tr: the listener, or NULL; key: its name (from the
 * kernel line when tr is NULL), "host" when nothing names it; e: the kernel
 * line, or NULL when only the counters moved.
 */
static int syn_flood_one(struct ctx *c, const struct tracked *tr, const char *key,
			 const struct kmsg_event *e)
{
	bool dropping = e ? !e->cookies : c->lim->tcp_syncookies == 0;
	int64_t synrecv = tr ? synrecv_for(c->t->deep, tr) : -1;
	struct finding *f;

	if (have_finding(c->out, CAUSE_SYN_FLOOD, key))
		return 0;
	f = new_finding(c, CAUSE_SYN_FLOOD);
	if (!f)
		return -ENOMEM;
	if (dropping)
		f->priority = SEVERITY_ERR;
	if (tr) {
		fill_identity(f, tr);
		listener_evidence(f, tr);
	} else if (strcmp(key, "host") == 0) {
		set_host(f);
	} else {
		set_key(f, key);
	}
	syn_flood_message(f, c, tr, e, dropping, synrecv);

	add_ev(f, "reqq_full_do_cookies", c->reqq_cookies);
	add_ev(f, "syncookies_sent", c->cookies_sent);
	add_ev(f, "reqq_full_drop", c->reqq_drop);
	add_ev(f, "kmsg_syn_flood", (int64_t)count_kmsg(c->t, KMSG_SYN_FLOOD));
	add_ev(f, "tcp_syncookies", c->lim->tcp_syncookies);
	if (tr)
		add_ev(f, "syn_recv", synrecv);
	syn_flood_remedy(f, c, tr, e, synrecv);
	return 0;
}

/*
 * A full SYN queue with syncookies on counts TCPReqQFullDoCookies and sends
 * cookies; the first time per listener the kernel also logs which port, and
 * that line names the listener when our counters moved too. With
 * tcp_syncookies=2 every SYN gets a cookie and both counters move on every
 * connection (tcp_conn_request), so they say nothing about a flood then.
 */
int rule_syn_flood(struct ctx *c)
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

