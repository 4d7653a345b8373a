/* history.c: a listener's recent queue and drops as JSON, and the top document that carries them. */
#include "base.h"

#include <stdlib.h>

#include "json.h"
#include "ownertab.h"
#include "report.h"
#include "report_int.h"

json_t *report_history(const struct qhist_entry *e)
{
	json_t *o = json_object();
	json_t *queue = json_array();
	json_t *drops = json_array();
	int rc = 0;

	for (unsigned k = 0; k < e->len; k++) {
		const struct qhist_point *p = qhist_at(e, k);

		rc |= append(queue, json_integer(p->queue));
		rc |= append(drops, json_integer(p->drops));
	}
	rc |= put(o, "backlog", json_integer(e->backlog));
	rc |= put(o, "queue", finish(queue, 0));
	rc |= put(o, "drops", finish(drops, 0));
	return finish(o, rc);
}

unsigned history_minute_points(unsigned tick_ms)
{
	unsigned n = tick_ms ? 60000 / tick_ms : QHIST_POINTS;

	return n < 1 ? 1 : n > QHIST_POINTS ? QHIST_POINTS : n;
}

/* The process that accepts (or the first holder) and the unit: who a top row names. */
static int put_owner(json_t *o, const struct tracked *tr)
{
	const struct owner *ow = tracked_owner(tr);
	const struct owner_proc *p = owner_nprocs(ow) > 0 ? owner_acceptor(ow) : NULL;
	int rc = 0;

	rc |= put(o, "pid", p ? json_integer(p->pid) : json_null());
	rc |= put(o, "comm", p ? JSTR(p->comm) : json_null());
	rc |= put(o, "unit", JSTR_OR_NULL(ow->unit));
	return rc;
}

/* One row of top: the listener's numbers now, its owner and its history when kept. */
static json_t *top_row(const struct monitor *m, const struct tracked *tr, const struct ns_ref *ns)
{
	const struct qhist_entry *e = qhist_find(&m->qhist, tr->l.cookie);
	const struct track *t = &m->track;
	int64_t span = t->prev_ms && t->now_ms > t->prev_ms ? t->now_ms - t->prev_ms : 0;
	char name[LISTENER_NAME_MAX];
	json_t *o = json_object();
	int rc = 0;

	listener_name(&tr->l, name, sizeof(name));
	rc |= put(o, "listener", JSTR(name));
	rc |= put(o, "queue", json_integer(tr->l.queue));
	rc |= put(o, "backlog", json_integer(tr->l.backlog));
	rc |= put(o, "full", json_boolean(listener_queue_full(&tr->l)));
	rc |= put(o, "drops_delta", json_integer(tr->drops_delta));
	rc |= put(o, "drops_per_sec", json_real(span ? tr->drops_delta * 1000.0 / (double)span : 0.0));
	rc |= put(o, "drops_minute", ju64(e ? qhist_drops_last(e, history_minute_points(m->cfg.tick_ms)) : 0));
	rc |= put_owner(o, tr);
	if (e)
		rc |= put(o, "history", report_history(e));
	return tagged(finish(o, rc), ns);
}

static int top_listeners(json_t *a, const struct fleet_member **v, const struct ns_ref *refs, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		const struct track *t = &v[i]->mon.track;

		for (size_t k = 0; v[i]->ready && k < t->count; k++)
			rc |= append(a, top_row(&v[i]->mon, &t->items[k], &refs[i]));
	}
	return rc;
}

/* The active findings of every namespace, as the findings document has them. */
static int top_findings(json_t *a, const struct fleet_member **v, const struct ns_ref *refs, size_t n)
{
	struct entry_vec ev = { 0 };
	size_t kept = 0;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++)
		if (v[i]->ready)
			rc |= entries_add(&ev, &v[i]->mon.findings, &refs[i], i);
	for (size_t i = 0; i < ev.count; i++)
		if (ev.items[i].e->state == FINDING_ACTIVE)
			ev.items[kept++] = ev.items[i];
	ev.count = kept;
	if (rc == 0)
		rc |= append_entries(a, &ev);
	free(ev.items);
	return rc;
}

json_t *report_fleet_top(const struct fleet *fl, int64_t now)
{
	const struct fleet_member *host = host_member(fl);
	json_t *o = json_object();
	int rc = 0;

	rc |= put(o, "now", jint(now));
	rc |= put(o, "interval_ms", json_integer(fl->cfg.tick_ms));
	rc |= put(o, "history_ticks", json_integer(QHIST_POINTS));
	rc |= put(o, "daemon", report_fleet_daemon(fl, now));
	rc |= put(o, "limits", host ? report_limits(monitor_limits(&host->mon)) : json_null());
	rc |= put(o, "host", host ? report_host(&host->mon.track) : json_null());
	rc |= put(o, "listeners", fleet_array(fl, top_listeners));
	rc |= put(o, "findings", fleet_array(fl, top_findings));
	return finish(o, rc);
}
