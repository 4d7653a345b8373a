/* chain.c: the causal chain: which finding is a side effect of which cause, and primaries first. */
#include "base.h"

#include <stdio.h>
#include <string.h>

#include "rules.h"

bool finding_is_side_effect(const struct finding *f)
{
	/* A finding cannot be its own side effect, whatever a caller left in explained_by. */
	return cause_info(f->explained_by) != NULL && f->explained_by != f->cause;
}

static bool is_overflow(const struct finding *f)
{
	return cause_family(f->cause) == FAMILY_ACCEPT_QUEUE;
}

static bool same_key(const struct finding *a, const struct finding *b)
{
	return strncmp(a->listener, b->listener, sizeof(a->listener)) == 0;
}

static int64_t extra_value(const struct finding *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n_extra; i++)
		if (strcmp(f->extra[i].name, name) == 0)
			return f->extra[i].value;
	return -1;
}

/*
 * syn_flood_proven() asked again of a syn-flood finding, from the numbers
 * its rule kept as evidence: a finding that says flood without proof of
 * SYNs that do not complete demotes nothing.
 */
static bool flood_proven(const struct finding *by)
{
	struct syn_flood_signs s = {
		.cookies_sent = extra_value(by, "syncookies_sent"),
		.cookies_recv = extra_value(by, "syncookies_recv"),
		.syn_recv = extra_value(by, "syn_recv"),
		.backlog = by->scope == SCOPE_LISTENER ? (int64_t)by->ev.backlog : -1,
	};

	return syn_flood_proven(&s);
}

/* Does by (a cause in its own right) explain f? The rules of the causal chain; no other cause explains. */
static bool explains(const struct finding *by, const struct finding *f)
{
	/*
	 * A proven flood that fills the accept queue is the flood first, the
	 * backlog second. Without that proof the overflow is the cause: a
	 * burst of clients that complete their handshakes is no flood.
	 */
	if (by->cause == CAUSE_SYN_FLOOD)
		return (is_overflow(f) || f->cause == CAUSE_SYN_QUEUE_DROP) && same_key(by, f) &&
		       flood_proven(by);
	/*
	 * One stuck member of an SO_REUSEPORT group overflows on its own socket.
	 * And the overflow rule takes a listener's drops as an overflow when the
	 * host's ListenOverflows moved; when this very listener drops from its
	 * SYN queue, those drops are the SYN queue's, not the accept queue's.
	 */
	if (by->cause == CAUSE_REUSEPORT_IMBALANCE || by->cause == CAUSE_SYN_QUEUE_DROP)
		return is_overflow(f) && f->cookie == by->cookie;
	/* Only churn that leaves TIME_WAIT sockets behind fills the TIME_WAIT table. */
	if (by->cause == CAUSE_EPHEMERAL_PORTS)
		return f->cause == CAUSE_TIMEWAIT_OVERFLOW && extra_value(by, "time_wait") > 0;
	if (by->cause == CAUSE_TCP_MEMORY)
		return f->cause == CAUSE_ORPHANS;
	return false;
}

/* The fact only: finding_words() says it, once. */
static void mark_side_effect(struct finding *f, const struct finding *by)
{
	f->explained_by = by->cause;
	if (by->scope == SCOPE_HOST)
		f->explained_by_key[0] = '\0';
	else
		snprintf(f->explained_by_key, sizeof(f->explained_by_key), "%s", by->listener);
}

/*
 * Explainers are themselves primaries (none of the chain's explainers is
 * explained by another), so one pass over the pairs is enough.
 */
static void mark_side_effects(struct finding_list *out)
{
	size_t i, j;

	for (i = 0; i < out->count; i++) {
		struct finding *f = &out->items[i];

		for (j = 0; j < out->count && !finding_is_side_effect(f); j++) {
			const struct finding *by = &out->items[j];

			if (j != i && !finding_is_side_effect(by) && explains(by, f))
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
		if (finding_is_side_effect(&out->items[i]))
			continue;
		if (i != w) {
			tmp = out->items[i];
			memmove(&out->items[w + 1], &out->items[w], (i - w) * sizeof(out->items[0]));
			out->items[w] = tmp;
		}
		w++;
	}
}

void chain_explain(struct finding_list *out)
{
	mark_side_effects(out);
	order_primaries_first(out);
}
