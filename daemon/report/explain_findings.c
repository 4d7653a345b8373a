/* explain_findings.c: the findings on a chain's subject, in diagnose's own words, primary causes first. */
#include "base.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finding_text.h"
#include "json.h"
#include "explain_int.h"
#include "report.h"
#include "report_int.h"

static bool finding_is_for(const struct finding *f, const struct chain_subject *cs)
{
	/* Only listener findings sit on a listener: a destination may look like one. */
	if (cs->tr) {
		if (f->scope != SCOPE_LISTENER)
			return false;
		if (f->cookie != 0 && f->cookie == cs->tr->l.cookie)
			return true;
		return strncmp(f->listener, cs->key, sizeof(f->listener)) == 0;
	}
	return f->scope == cs->scope && strncmp(f->listener, cs->key, sizeof(f->listener)) == 0;
}

/* "orphans 980, tcp_max_orphans 1024". Return: false when f has no named numbers. */
static bool format_extra(const struct finding *f, char *buf, size_t len)
{
	size_t n = f->n_extra < FINDING_EXTRA_MAX ? f->n_extra : FINDING_EXTRA_MAX, off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%.*s %" PRId64, off ? ", " : "",
				 (int)sizeof(f->extra[i].name), f->extra[i].name, f->extra[i].value);

		if (w < 0)
			break;
		off += (size_t)w;
	}
	return off > 0;
}

/*
 * The "peers" step: the busiest peers the eBPF tier saw dropped (refused,
 * for a gap), each with its count and when, then what the others add up
 * to. Not "clients": that step quotes what the clients saw.
 */
static int step_peers(json_t *steps, const struct finding *f, int64_t now_ms)
{
	const struct finding_clients *c = &f->clients;
	size_t n = c->n < FINDING_CLIENTS_MAX ? c->n : FINDING_CLIENTS_MAX, off = 0;
	char text[STEP_TEXT_MAX], first[48], last[48], name[LISTENER_NAME_MAX];

	text[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const struct finding_client *p = &c->top[i];
		int w;

		format_ago(now_ms / 1000, p->first_ms / 1000, first, sizeof(first));
		format_ago(now_ms / 1000, p->last_ms / 1000, last, sizeof(last));
		w = snprintf(text + off, sizeof(text) - off, "%s %" PRIu64 " %s, first %s, last %s\n",
			     endpoint_name(p->family, p->addr, p->port, name, sizeof(name)), p->count,
			     finding_clients_noun(f, p->count), first, last);
		if (w < 0 || (size_t)w >= sizeof(text) - off)
			break;
		off += (size_t)w;
	}
	if (c->peers > n)
		return step(steps, "peers", "%sand %" PRIu64 " more peer%s, %" PRIu64 " %s in all", text,
			    c->peers - n, c->peers - n == 1 ? "" : "s", c->total, finding_clients_noun(f, c->total));
	return step(steps, "peers", "%s%" PRIu64 " %s in all", text, c->total, finding_clients_noun(f, c->total));
}

/*
 * One finding's steps: the finding (or the side effect) with diagnose's
 * message and remedy, its named numbers, its detail. The message, which
 * names what a side effect follows from, is left out when the chain quoted
 * it in a step of its own.
 */
static int steps_one_finding(json_t *steps, const struct finding *f, bool message_quoted, int64_t now_ms)
{
	struct finding_words words;
	char extra[STEP_TEXT_MAX];
	int rc = 0;

	finding_words(f, &words);
	rc |= step(steps, finding_is_side_effect(f) ? "side effect" : "finding", "%s (%s)%s %s%sFix: %s",
		   cause_name(f->cause), severity_name(f->priority), message_quoted ? "." : ":",
		   message_quoted ? "" : words.message, message_quoted ? "" : " ", words.remedy);
	if (format_extra(f, extra, sizeof(extra)))
		rc |= step(steps, "evidence", "%s", extra);
	if (f->detail[0])
		rc |= step(steps, "detail", "%.*s", (int)sizeof(f->detail), f->detail);
	if (f->clients.known)
		rc |= step_peers(steps, f, now_ms);
	return rc;
}

/*
 * Put the active findings in the order they are told: each primary cause
 * followed by its own side effects; side effects of a cause elsewhere last.
 * act holds n entries in table order; out receives them reordered.
 */
static void told_order(const struct finding_entry **act, size_t n, const struct finding_entry **out, bool *done)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (finding_is_side_effect(&act[i]->f))
			continue;
		out[k++] = act[i];
		done[i] = true;
		for (size_t j = 0; j < n; j++) {
			if (done[j] || side_effect_of(&act[j]->f) != act[i]->f.cause)
				continue;
			out[k++] = act[j];
			done[j] = true;
		}
	}
	for (size_t j = 0; j < n; j++)
		if (!done[j])
			out[k++] = act[j];
}

int told_gather(const struct monitor *m, const struct chain_subject *cs, json_t *findings,
		struct told_findings *tf)
{
	const struct finding_entry **v, **act = NULL;
	bool *done = NULL;
	size_t n, na = 0;
	int rc = 0;

	memset(tf, 0, sizeof(*tf));
	v = sorted_entries(&m->findings, &n);
	if (m->findings.count > 0 && !v)
		return -1;
	if (n > 0) {
		act = calloc(n, sizeof(*act));
		done = calloc(n, sizeof(*done));
		tf->items = calloc(n, sizeof(*tf->items));
		if (!act || !done || !tf->items) {
			rc = -1;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct finding_entry *e = v[i];

		if (!finding_is_for(&e->f, cs))
			continue;
		rc |= append(findings, report_finding_entry(e));
		if (e->state == FINDING_ACTIVE)
			act[na++] = e;
		else if (!tf->last_resolved || e->resolved_at > tf->last_resolved->resolved_at)
			tf->last_resolved = e;
	}
	told_order(act, na, tf->items, done);
	tf->count = na;
out:
	free(done);
	free(act);
	free(v);
	return rc;
}

void told_free(struct told_findings *tf)
{
	free(tf->items);
	memset(tf, 0, sizeof(*tf));
}

int steps_told(json_t *steps, const struct monitor *m, const struct told_findings *tf, const char *what,
	       bool first_message_quoted)
{
	char ago[48];
	int rc = 0;

	for (size_t i = 0; i < tf->count; i++)
		rc |= steps_one_finding(steps, &tf->items[i]->f, i == 0 && first_message_quoted, m->track.now_ms);
	if (tf->count > 0)
		return rc;
	if (tf->last_resolved) {
		format_ago(m->track.now_ms / 1000, tf->last_resolved->resolved_at, ago, sizeof(ago));
		return step(steps, "finding", "healthy: no active finding (%s resolved %s)",
			    cause_name(tf->last_resolved->f.cause), ago);
	}
	return step(steps, "finding", "healthy: no finding on %s", what);
}
