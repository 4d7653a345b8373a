/* explain_gap.c: the "gap" step: an address:port that went without a listener, as track recorded it. */
#include "base.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "explain_int.h"
#include "report_int.h"

const struct listener_gap *latest_gap(const struct track *t, const char *name)
{
	size_t n = t->n_gaps < TRACK_GAPS_MAX ? t->n_gaps : TRACK_GAPS_MAX;

	for (size_t i = n; i-- > 0; )
		if (strncmp(t->gaps[i].listener, name, sizeof(t->gaps[i].listener)) == 0)
			return &t->gaps[i];
	return NULL;
}

/*
 * What clients saw during the gap is the listener-gap finding's to say;
 * this step gives the times, the owners and the namespace's reset counter.
 */
int step_gap(json_t *steps, const struct track *t, const struct listener_gap *g)
{
	const struct tracked *now = g->returned_ms > 0 && g->new_cookie ? track_find(t, g->new_cookie) : NULL;
	char before[OWNER_COMM_MAX + 24], after[OWNER_COMM_MAX + 24], len[32], ago[48], rsts[96] = "";
	int name_len = (int)strnlen(g->listener, sizeof(g->listener));

	format_owner1(&g->old_owner, before, sizeof(before));
	format_owner1(now ? tracked_owner(now) : NULL, after, sizeof(after));
	format_msecs(gap_ms(g, t->now_ms), len, sizeof(len));
	format_ago(t->now_ms / 1000, gap_noticed_ms(g) / 1000, ago, sizeof(ago));
	/* Tcp.OutRsts is the namespace's, every socket's: a count beside the gap, not a cause. */
	if (g->out_rsts >= 0)
		snprintf(rsts, sizeof(rsts), "; this network namespace sent %" PRId64 " resets (Tcp.OutRsts) meanwhile",
			 g->out_rsts);
	if (g->returned_ms <= 0)
		return step(steps, "gap", "%.*s has had no listener for %s (noticed %s; held by %s before)%s",
			    name_len, g->listener, len, ago, before, rsts);
	if (g->replaced)
		return step(steps, "gap", "%.*s was replaced by a new socket between two ticks (%s): %s before, "
			    "%s after%s", name_len, g->listener, ago, before, after, rsts);
	return step(steps, "gap", "%.*s had no listener for up to %s (%s): %s before, %s after%s",
		    name_len, g->listener, len, ago, before, after, rsts);
}
