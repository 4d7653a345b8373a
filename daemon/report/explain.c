/* explain.c: report_explain: which chains answer a target (listeners, then subjects, then wildcards), in one document. */
#include "base.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "explain_int.h"
#include "report.h"
#include "report_int.h"

#define BAD_TARGET_HINT "expected ADDR:PORT, [ADDR6]:PORT, *:PORT, PORT, host, an interface or a destination ADDR:PORT"

struct subject_list {
	struct {
		enum finding_scope scope;
		const char *key;
	} *items;
	size_t count;
	size_t cap;
};

/* Add (scope, key) once. Return: 0 or -1 when out of memory. */
static int subjects_add(struct subject_list *sl, enum finding_scope scope, const char *key)
{
	for (size_t i = 0; i < sl->count; i++)
		if (sl->items[i].scope == scope && strcmp(sl->items[i].key, key) == 0)
			return 0;
	if (sl->count == sl->cap) {
		size_t cap = sl->cap ? sl->cap * 2 : 8;
		void *n = realloc(sl->items, cap * sizeof(*sl->items));

		if (!n)
			return -1;
		sl->items = n;
		sl->cap = cap;
	}
	sl->items[sl->count].scope = scope;
	sl->items[sl->count].key = key;
	sl->count++;
	return 0;
}

/* Finding keys that answer target; a damaged key (not NUL-terminated) is skipped, not read past. */
static int find_finding_subjects(const struct monitor *m, const char *target, const struct target *tp,
				 struct subject_list *sl)
{
	const struct finding_entry **v;
	size_t n;
	int rc = 0;

	v = sorted_entries(&m->findings, &n);
	if (m->findings.count > 0 && !v)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct finding *f = &v[i]->f;

		if (memchr(f->listener, '\0', sizeof(f->listener)) && key_matches(target, tp, f->scope, f->listener))
			rc |= subjects_add(sl, f->scope, f->listener);
	}
	free(v);
	return rc;
}

/*
 * The subjects other than live listeners that target names: "host"; finding
 * keys (an interface, a destination, the address:port of a vanished
 * listener); recorded listener gaps; an interface of the latest sample.
 * Return: 0 or -1 when out of memory.
 */
static int find_subjects(const struct monitor *m, const char *target, const struct target *tp,
			 struct subject_list *sl)
{
	const struct track *t = &m->track;
	size_t ng = t->n_gaps < TRACK_GAPS_MAX ? t->n_gaps : TRACK_GAPS_MAX;
	size_t nl = t->hs_cur.links.count < LINKS_MAX ? t->hs_cur.links.count : LINKS_MAX;
	int rc = 0;

	if (strcmp(target, "host") == 0)
		rc |= subjects_add(sl, SCOPE_HOST, "host");
	if (find_finding_subjects(m, target, tp, sl) < 0)
		return -1;
	for (size_t i = 0; i < ng; i++) {
		const struct listener_gap *g = &t->gaps[i];

		if (memchr(g->listener, '\0', sizeof(g->listener)) &&
		    key_matches(target, tp, SCOPE_LISTENER, g->listener))
			rc |= subjects_add(sl, SCOPE_LISTENER, g->listener);
	}
	for (size_t i = 0; !tp && t->hs_cur.valid && i < nl; i++) {
		const struct link_stat *ls = &t->hs_cur.links.items[i];

		if (strncmp(ls->name, target, sizeof(ls->name)) == 0 && memchr(ls->name, '\0', sizeof(ls->name)))
			rc |= subjects_add(sl, SCOPE_INTERFACE, ls->name);
	}
	return rc;
}

/* Append a chain for every listener that matches t in this pass. Return: how many matched. */
static size_t add_listener_chains(const struct monitor *m, const struct tracked **v, const struct target *t,
				  const char *target, bool wildcard_pass, json_t *chains, int *rc)
{
	size_t matched = 0;

	for (size_t i = 0; v && i < m->track.count; i++) {
		enum match_kind k = match_listener(t, &v[i]->l, wildcard_pass);

		if (k == MATCH_NONE)
			continue;
		matched++;
		if (!chains || append(chains, explain_listener_chain(m, v[i], target, k)) < 0)
			*rc = -1;
	}
	return matched;
}

/* Append a chain for every subject target names. Return: how many matched. */
static size_t add_subject_chains(const struct monitor *m, const char *target, const struct target *tp,
				 json_t *chains, int *rc)
{
	struct subject_list sl = { 0 };

	if (find_subjects(m, target, tp, &sl) < 0)
		*rc = -1;
	for (size_t i = 0; i < sl.count; i++)
		if (!chains || append(chains, explain_subject_chain(m, sl.items[i].scope, sl.items[i].key)) < 0)
			*rc = -1;
	free(sl.items);
	return sl.count;
}

/*
 * The evidence chain for target: {target, chains:[{match, scope, subject,
 * listener, steps:[{step, text}], findings}]}.
 * - A listener: "127.0.0.1:8080", "[::1]:443", "*:8080", "8080". A
 *   port-only target may match several listeners, hence always an array.
 * - Otherwise a finding's subject: "host", an interface ("eth0"), a
 *   destination ("10.0.0.5:5432"), or the address:port of a listener that
 *   vanished (its gap and findings).
 * - Last, an address with no listener of its own falls back to the
 *   wildcard listener on that port, which is where its connections go;
 *   a finding on that exact address comes first, since a destination is
 *   not a local address at all.
 * Return: the document, or NULL with err set (no match, bad target, out of memory).
 */
json_t *report_explain(const struct monitor *m, const char *target, char *err, size_t errlen)
{
	const struct tracked **v;
	struct target t;
	bool parsed;
	json_t *o, *chains;
	size_t matched = 0;
	int rc = 0;

	if (!target || !*target) {
		set_err(err, errlen, "bad target '': " BAD_TARGET_HINT);
		return NULL;
	}
	parsed = parse_target(target, &t);
	v = sorted_tracked(&m->track);
	if (m->track.count > 0 && !v) {
		set_err(err, errlen, "out of memory explaining %s", target);
		return NULL;
	}
	o = json_object();
	chains = json_array();
	rc |= put(o, "target", jstr(target, strlen(target)));
	if (parsed)
		matched = add_listener_chains(m, v, &t, target, false, chains, &rc);
	if (matched == 0)
		matched = add_subject_chains(m, target, parsed ? &t : NULL, chains, &rc);
	if (matched == 0 && parsed && !t.any_addr)
		matched = add_listener_chains(m, v, &t, target, true, chains, &rc);
	free(v);
	rc |= put(o, "chains", chains);
	if (matched == 0) {
		json_decref(o);
		if (parsed)
			set_err(err, errlen, "no listener on %s", target);
		else
			set_err(err, errlen, "bad target '%s': " BAD_TARGET_HINT, target);
		return NULL;
	}
	o = finish(o, rc);
	if (!o)
		set_err(err, errlen, "out of memory explaining %s", target);
	return o;
}
