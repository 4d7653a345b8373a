/* gaps.c: the gaps document: address:ports whose listener vanished, with who held them before and after. */
#include "base.h"

#include "json.h"
#include "report_int.h"

/* The tick interval is the precision: from the last tick that saw it to the tick that saw it back. */
int64_t gap_ms(const struct listener_gap *g, int64_t now_ms)
{
	int64_t end = g->returned_ms > 0 ? g->returned_ms : now_ms;

	return end > g->last_seen_ms ? end - g->last_seen_ms : 0;
}

int64_t gap_noticed_ms(const struct listener_gap *g)
{
	if (g->missing_ms > 0)
		return g->missing_ms;
	return g->returned_ms > 0 ? g->returned_ms : g->last_seen_ms;
}

/* The first process of an owner: pid and comm, or nulls when unknown. */
static int put_owner(json_t *o, const char *pid_key, const char *comm_key, const struct owner *ow)
{
	bool known = ow && owner_nprocs(ow) > 0 && ow->procs[0].pid > 0;
	int rc = 0;

	rc |= put(o, pid_key, known ? json_integer(ow->procs[0].pid) : json_null());
	rc |= put(o, comm_key, known ? JSTR(ow->procs[0].comm) : json_null());
	return rc;
}

/*
 * The kernel's word that a gap's old holder was killed: {kind, pid, comm,
 * signal}; from its exit event alone, kind "exit" and its status too.
 */
static json_t *report_death(const struct proc_death *d)
{
	json_t *o = json_object();
	int rc = 0;

	rc |= put(o, "kind", json_string(d->by_exit ? "exit" : kmsg_kind_name(d->kind)));
	rc |= put(o, "pid", json_integer(d->pid));
	rc |= put(o, "comm", JSTR(d->comm));
	rc |= put(o, "signal", JSTR_OR_NULL(d->signal));
	if (d->by_exit)
		rc |= put(o, "status", d->exit_status >= 0 ? json_integer(d->exit_status) : json_null());
	return finish(o, rc);
}

/* {listener, vanished_at, returned_at, absent, gap_ms, old_pid, old_comm, old_unit, new_pid, new_comm, out_rsts, replaced, died} */
static json_t *report_gap(const struct track *t, const struct listener_gap *g)
{
	const struct tracked *now = g->returned_ms > 0 && g->new_cookie ? track_find(t, g->new_cookie) : NULL;
	json_t *o = json_object();
	int rc = 0;

	rc |= put(o, "listener", JSTR(g->listener));
	rc |= put(o, "vanished_at", jint(gap_noticed_ms(g) / 1000));
	rc |= put(o, "returned_at", g->returned_ms > 0 ? jint(g->returned_ms / 1000) : json_null());
	rc |= put(o, "absent", json_boolean(g->returned_ms <= 0));
	rc |= put(o, "gap_ms", jint(gap_ms(g, t->now_ms)));
	rc |= put_owner(o, "old_pid", "old_comm", &g->old_owner);
	rc |= put(o, "old_unit", JSTR_OR_NULL(g->old_owner.unit));
	rc |= put_owner(o, "new_pid", "new_comm", now ? tracked_owner(now) : NULL);
	rc |= put(o, "out_rsts", jint_or_null(g->out_rsts));
	rc |= put(o, "replaced", json_boolean(g->replaced));
	rc |= put(o, "died", g->death.pid > 0 ? report_death(&g->death) : json_null());
	return finish(o, rc);
}

int append_gaps(json_t *a, const struct track *t, const struct ns_ref *ns)
{
	size_t n = t->n_gaps < TRACK_GAPS_MAX ? t->n_gaps : TRACK_GAPS_MAX;
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		rc |= append(a, tagged(report_gap(t, &t->gaps[i]), ns));
	return rc;
}
