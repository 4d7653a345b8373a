/* explain_listener.c: the evidence chain for a live listener: who holds it, its numbers, then diagnose's findings. */
#include "base.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "finding_text.h"
#include "json.h"
#include "explain_int.h"
#include "ownertab.h"
#include "report.h"
#include "report_int.h"

/* "nginx[812]", "nginx[812], nginx[813] and 3 more"; "" when unknown. */
static void format_owners(const struct owner *ow, char *buf, size_t len)
{
	unsigned shown = owner_nprocs(ow) < 3 ? owner_nprocs(ow) : 3;
	unsigned total = ow->nprocs_total > ow->nprocs ? ow->nprocs_total : ow->nprocs;
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < shown && off < len; i++) {
		int n = snprintf(buf + off, len - off, "%s%.*s[%d]", i ? ", " : "",
				 (int)sizeof(ow->procs[i].comm), ow->procs[i].comm, ow->procs[i].pid);
		if (n < 0)
			return;
		off += (size_t)n;
	}
	if (total > shown && off < len)
		snprintf(buf + off, len - off, " and %u more", total - shown);
}

/* A process state worth naming: one that does not run its accept loop. NULL for the others. */
static const char *state_words(char c)
{
	switch (c) {
	case 'T':
	case 't':
		return "is stopped";
	case 'D':
		return "is in uninterruptible sleep (D)";
	case 'Z':
		return "is a zombie";
	default:
		return NULL;
	}
}

static int step_listener(json_t *steps, const struct tracked *tr, const char *target, enum match_kind kind)
{
	const struct owner *ow = tracked_owner(tr);
	char name[LISTENER_NAME_MAX], owners[512], prefix[192], unit[OWNER_UNIT_MAX + 4] = "";
	char state[OWNER_COMM_MAX + 64] = "", user[OWNER_USER_MAX + 16] = "", cmd[OWNER_CMDLINE_MAX + 16] = "";
	const char *sw = state_words(tr->owner_state);

	listener_name(&tr->l, name, sizeof(name));
	if (kind == MATCH_WILDCARD)
		snprintf(prefix, sizeof(prefix), "%s is served by the wildcard listener %s", target, name);
	else
		snprintf(prefix, sizeof(prefix), "%s", name);
	if (owner_nprocs(ow) == 0)
		return step(steps, "listener", "%s (inode %" PRIu32 ", uid %" PRIu32 "): owning process "
			    "unknown (it may live in another PID namespace, or backlogd lacks the privilege "
			    "to read its /proc/PID/fd)", prefix, tr->l.inode, tr->l.uid);
	format_owners(ow, owners, sizeof(owners));
	if (ow->unit[0])
		snprintf(unit, sizeof(unit), " (%.*s)", (int)sizeof(ow->unit), ow->unit);
	/* owner_state is the acceptor's (owner_acceptor), read this tick. */
	if (sw)
		snprintf(state, sizeof(state), "; %.*s[%d] %s", (int)sizeof(owner_acceptor(ow)->comm),
			 owner_acceptor(ow)->comm, owner_acceptor(ow)->pid, sw);
	/* Who runs it and how it was started: the account and the flags to change live there. */
	if (ow->user[0])
		snprintf(user, sizeof(user), ", user %.*s", (int)sizeof(ow->user), ow->user);
	if (ow->procs[0].cmdline[0])
		snprintf(cmd, sizeof(cmd), "; command: %.*s", (int)sizeof(ow->procs[0].cmdline),
			 ow->procs[0].cmdline);
	return step(steps, "listener", "%s held by %s%s%s%s%s", prefix, owners, unit, user, state, cmd);
}

/* The numbers only: whether somaxconn clamped the backlog is the backlog-clamped finding's to say. */
static int step_backlog(json_t *steps, const struct tracked *tr, int64_t somaxconn)
{
	char s[24];

	return step(steps, "backlog", "effective backlog %" PRIu32 "; net.core.somaxconn %s",
		    tr->l.backlog, fmt_i64(somaxconn, s, sizeof(s)));
}

/* A history point against the kernel's own test for a full accept queue. */
static bool point_full(const struct tick_point *p)
{
	const struct listener l = { .queue = p->queue, .backlog = p->backlog };

	return listener_queue_full(&l);
}

static int step_queue(json_t *steps, const struct tracked *tr)
{
	unsigned full_hist = 0, n = tr->hist_len < TRACK_HISTORY ? tr->hist_len : TRACK_HISTORY;
	char hist[96] = "";

	for (unsigned k = 0; k < n; k++) {
		const struct tick_point *p = tracked_hist(tr, k);

		if (p && point_full(p))
			full_hist++;
	}
	if (n > 0)
		snprintf(hist, sizeof(hist), "; full in %u of the last %u ticks", full_hist, n);
	if (listener_queue_full(&tr->l))
		return step(steps, "queue", "queue %" PRIu32 " of %" PRIu32 ": full for %u tick%s, peak %" PRIu32 "%s",
			    tr->l.queue, tr->l.backlog, tr->ticks_full, tr->ticks_full == 1 ? "" : "s",
			    tr->peak_queue, hist);
	return step(steps, "queue", "queue %" PRIu32 " of %" PRIu32 ": not full, peak %" PRIu32 "%s",
		    tr->l.queue, tr->l.backlog, tr->peak_queue, hist);
}

/* Return: drops over the kept history (what "recently" means in the text). */
static uint64_t recent_drops(const struct tracked *tr, unsigned *ticks)
{
	unsigned n = tr->hist_len < TRACK_HISTORY ? tr->hist_len : TRACK_HISTORY;
	uint64_t sum = 0;

	for (unsigned k = 0; k < n; k++) {
		const struct tick_point *p = tracked_hist(tr, k);

		if (p)
			sum += p->drops_delta;
	}
	*ticks = n;
	return sum;
}

/*
 * The listener's own drop counter, and beside it ListenOverflows: a monitor
 * reads /proc/net/netstat inside its namespace, so the counter is that
 * namespace's (every listener in it), the host's only in the host's.
 */
static int step_drops(json_t *steps, const struct track *t, const struct tracked *tr)
{
	char ns[96] = "";
	int64_t overflows;
	unsigned n;
	uint64_t recent = recent_drops(tr, &n);

	if (track_host_delta(t, "TcpExt.ListenOverflows", &overflows))
		snprintf(ns, sizeof(ns), "; this network namespace's ListenOverflows +%" PRId64 " this tick", overflows);
	if (!tr->l.has_drops)
		return step(steps, "drops", "the kernel gave no drop counter for this listener "
			    "(no SK_MEMINFO)%s", ns);
	if (tr->drops_total == 0)
		return step(steps, "drops", "listener dropped nothing since first seen%s", ns);
	return step(steps, "drops", "listener dropped %" PRIu64 " since first seen (+%" PRIu32
		    " this tick, +%" PRIu64 " in the last %u ticks)%s",
		    tr->drops_total, tr->drops_delta, recent, n, ns);
}

/* Does this deep-tier count belong to the listener's address:port? */
static bool synrecv_is_for(const struct synrecv_count *c, const struct listener *l)
{
	struct listener at = { .family = c->family, .port = c->port };

	memcpy(at.addr, c->addr, sizeof(at.addr));
	return listener_same_endpoint(&at, l);
}

/* Half-open connections on the listener's address:port, when the deep tier counted them this tick. */
static int step_synrecv(json_t *steps, const struct track *t, const struct tracked *tr)
{
	const struct deep_sample *ds = t->deep;
	char a[24], b[24];

	if (!ds || !ds->synrecv)
		return 0;
	for (size_t i = 0; i < ds->n_synrecv; i++) {
		const struct synrecv_count *c = &ds->synrecv[i];

		if (!synrecv_is_for(c, &tr->l))
			continue;
		return step(steps, "syn queue", "%" PRIu32 " connection%s half-open (SYN_RECV) on this address:port; "
			    "net.ipv4.tcp_max_syn_backlog %s, net.ipv4.tcp_syncookies %s",
			    c->count, c->count == 1 ? "" : "s",
			    fmt_i64(t->limits.tcp_max_syn_backlog, a, sizeof(a)),
			    fmt_i64(t->limits.tcp_syncookies, b, sizeof(b)));
	}
	return 0;
}

/*
 * What clients saw is diagnose's to say: the first finding told on this
 * listener, quoted. With no finding nothing is claimed; the steps above
 * give the numbers.
 */
static int step_clients(json_t *steps, const struct told_findings *tf)
{
	struct finding_words words;

	if (tf->count == 0)
		return 0;
	finding_words(&tf->items[0]->f, &words);
	return step(steps, "clients", "%s", words.message);
}

/* The listener's recent queue and drops when it was ever hot or dropping, with the tick they are counted in. */
static int put_history(json_t *o, const struct monitor *m, const struct tracked *tr)
{
	const struct qhist_entry *e = qhist_find(&m->qhist, tr->l.cookie);
	json_t *h;

	if (!e)
		return 0;
	h = report_history(e);
	if (h && put(h, "interval_ms", json_integer(m->cfg.tick_ms)) < 0) {
		json_decref(h);
		h = NULL;
	}
	return put(o, "history", h);
}

json_t *explain_listener_chain(const struct monitor *m, const struct tracked *tr, const char *target,
			       enum match_kind kind)
{
	static const char *const kinds[] = {
		[MATCH_NONE] = "none", [MATCH_EXACT] = "exact",
		[MATCH_PORT] = "port", [MATCH_WILDCARD] = "wildcard",
	};
	char name[LISTENER_NAME_MAX];
	struct chain_subject cs = { .tr = tr, .scope = SCOPE_LISTENER, .key = name };
	struct told_findings tf = { 0 };
	const struct listener_gap *g;
	json_t *o = json_object();
	json_t *steps = json_array();
	json_t *findings = json_array();
	int rc = 0;

	listener_name(&tr->l, name, sizeof(name));
	if (!steps || !findings || told_gather(m, &cs, findings, &tf) < 0) {
		rc = -1;
		goto out;
	}
	rc |= step_listener(steps, tr, target, kind);
	rc |= step_backlog(steps, tr, monitor_limits(m)->somaxconn);
	rc |= step_queue(steps, tr);
	rc |= step_drops(steps, &m->track, tr);
	rc |= step_synrecv(steps, &m->track, tr);
	g = latest_gap(&m->track, name);
	if (g)
		rc |= step_gap(steps, &m->track, g);
	rc |= step_clients(steps, &tf);
	rc |= steps_told(steps, m, &tf, "this listener", true);
out:
	told_free(&tf);
	rc |= put(o, "match", json_string(kinds[kind]));
	rc |= put(o, "scope", json_string(scope_name(SCOPE_LISTENER)));
	rc |= put(o, "subject", JSTR(name));
	rc |= put(o, "listener", report_listener(tr));
	rc |= put(o, "steps", steps);
	rc |= put(o, "findings", findings);
	rc |= put_history(o, m, tr);
	return finish(o, rc);
}
