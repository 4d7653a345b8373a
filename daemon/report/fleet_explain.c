/* fleet_explain.c: report_fleet_explain: explain in one named namespace, or in every one with the best answers kept. */
#include "base.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain_int.h"
#include "json.h"
#include "netns.h"
#include "report.h"
#include "report_int.h"

/* Return: the member called s, or whose inode s is in decimal; NULL when none. */
static const struct fleet_member *member_named(const struct fleet_member **v, size_t n, const char *s)
{
	unsigned long long inode = 0;
	size_t len = strlen(s);

	for (size_t i = 0; len < NETNS_NAME_MAX && i < n; i++)
		if (strncmp(v[i]->ns.name, s, sizeof(v[i]->ns.name)) == 0)
			return v[i];
	if (len == 0 || len > 20 || strspn(s, "0123456789") != len)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (inode > (ULLONG_MAX - d) / 10)
			return NULL;
		inode = inode * 10 + d;
	}
	for (size_t i = 0; i < n; i++)
		if (v[i]->ns.inode == inode)
			return v[i];
	return NULL;
}

/* "host, blue, pid 812 (nginx)": what to offer when a namespace name is unknown. */
static void known_names(const struct fleet_member **v, size_t n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%.*s", i ? ", " : "",
				 (int)sizeof(v[i]->ns.name), v[i]->ns.name);

		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (n == 0)
		snprintf(buf, len, "none yet");
}

/* Put the fleet's view of the namespace on a chain, on its listener and on its findings. */
static int tag_chain(json_t *chain, const struct ns_ref *ns)
{
	json_t *l = json_object_get(chain, "listener");
	json_t *fs = json_object_get(chain, "findings");
	json_t *f;
	size_t i;
	int rc = tag_netns(chain, ns);

	if (json_is_object(l))
		rc |= tag_netns(l, ns);
	json_array_foreach(fs, i, f)
		rc |= tag_netns(f, ns);
	return rc;
}

/* How strongly a chain answers its target, as report_explain tries them: listeners, subjects, wildcards. */
#define RANK_LISTENER 0
#define RANK_SUBJECT 1
#define RANK_WILDCARD 2
#define RANK_NONE 3

static int chain_rank(const json_t *chain)
{
	const char *m = json_string_value(json_object_get(chain, "match"));

	if (!m || strcmp(m, "subject") == 0)
		return RANK_SUBJECT;
	if (strcmp(m, "wildcard") == 0)
		return RANK_WILDCARD;
	return RANK_LISTENER;
}

/* "blue/127.0.0.1:8080": explain in one namespace. Return: the document, or NULL with err set. */
static json_t *explain_in(const struct fleet_member **v, size_t n, const char *target, const char *slash,
			  char *err, size_t errlen)
{
	char nsname[NETNS_NAME_MAX + 1], sub[512], known[512];
	size_t len = (size_t)(slash - target);
	const struct fleet_member *fm = NULL;
	struct ns_ref ns;
	json_t *x, *c;
	size_t i;
	int rc = 0;

	if (len < sizeof(nsname)) {
		memcpy(nsname, target, len);
		nsname[len] = '\0';
		fm = member_named(v, n, nsname);
	} else {
		snprintf(nsname, sizeof(nsname), "%.*s", (int)(sizeof(nsname) - 1), target);
	}
	if (!fm) {
		known_names(v, n, known, sizeof(known));
		set_err(err, errlen, "no namespace %s (known: %s)", nsname, known);
		return NULL;
	}
	if (!fm->ready) {
		set_err(err, errlen, "namespace %s is not watched yet", nsname);
		return NULL;
	}
	x = report_explain(&fm->mon, slash + 1, sub, sizeof(sub));
	if (!x) {
		set_err(err, errlen, "%s (namespace %s)", sub, nsname);
		return NULL;
	}
	ns = member_ns(fm);
	json_array_foreach(json_object_get(x, "chains"), i, c)
		rc |= tag_chain(c, &ns);
	rc |= put(x, "netns", report_netns(ns.inode, ns.name, ns.kind));
	x = finish(x, rc);
	if (!x)
		set_err(err, errlen, "out of memory explaining %s", target);
	return x;
}

/*
 * Whether a chain is kept at the best rank. Listener and wildcard chains
 * always: the same address in two namespaces is two answers. A subject
 * ("host", "eth0") exists in every namespace, so only the host's, and
 * another namespace's when it has a finding there.
 */
static bool keep_chain(const json_t *chain, int rank, bool from_host, bool subjects_filtered)
{
	if (rank != RANK_SUBJECT || !subjects_filtered)
		return true;
	return from_host || json_array_size(json_object_get(chain, "findings")) > 0;
}

/* Every ready namespace's answer to one target, and what they add up to. */
struct answers {
	json_t **xs;              /* per ordered member: report_explain's document, or NULL */
	size_t ready;             /* members asked */
	int best;                 /* the best chain rank found, RANK_NONE when none */
	bool subjects_filtered;   /* at the subject rank, whether some chain is vouched for */
	char first_err[512];      /* the first namespace's error */
};

/* Ask every ready member. Return: 0, or -1 when out of memory. */
static int answers_collect(struct answers *as, const struct fleet *fl, const struct fleet_member **v, size_t n,
			   const char *target)
{
	char e[512];
	json_t *c;
	size_t i;

	memset(as, 0, sizeof(*as));
	as->best = RANK_NONE;
	as->xs = calloc(n ? n : 1, sizeof(*as->xs));
	if (!as->xs)
		return -1;
	for (size_t k = 0; k < n; k++) {
		if (!v[k]->ready)
			continue;
		as->ready++;
		e[0] = '\0';
		as->xs[k] = report_explain(&v[k]->mon, target, e, sizeof(e));
		if (!as->xs[k] && !as->first_err[0])
			snprintf(as->first_err, sizeof(as->first_err), "%s", e);
		json_array_foreach(json_object_get(as->xs[k], "chains"), i, c)
			if (chain_rank(c) < as->best)
				as->best = chain_rank(c);
	}
	/* Subjects: is there one the host or a finding vouches for? Otherwise every namespace's is kept. */
	for (size_t k = 0; as->best == RANK_SUBJECT && k < n; k++)
		json_array_foreach(json_object_get(as->xs[k], "chains"), i, c)
			if (chain_rank(c) == RANK_SUBJECT && keep_chain(c, RANK_SUBJECT, v[k] == fl->members[0], true))
				as->subjects_filtered = true;
	return 0;
}

static void answers_free(struct answers *as, size_t n)
{
	for (size_t k = 0; as->xs && k < n; k++)
		json_decref(as->xs[k]);
	free(as->xs);
}

/* The chains kept, each tagged with its namespace, in one document. Return: NULL when out of memory. */
static json_t *answers_document(const struct answers *as, const struct fleet *fl, const struct fleet_member **v,
				size_t n, const char *target)
{
	json_t *o = json_object(), *chains = json_array(), *c;
	size_t i;
	int rc = 0;

	rc |= put(o, "target", jstr(target, strlen(target)));
	rc |= put(o, "netns", json_null());
	for (size_t k = 0; chains && k < n; k++) {
		struct ns_ref ns;

		if (!as->xs[k])
			continue;
		ns = member_ns(v[k]);
		json_array_foreach(json_object_get(as->xs[k], "chains"), i, c) {
			int r = chain_rank(c);

			if (r != as->best || !keep_chain(c, r, v[k] == fl->members[0], as->subjects_filtered))
				continue;
			rc |= tag_chain(c, &ns);
			rc |= append(chains, json_incref(c));
		}
	}
	rc |= put(o, "chains", chains);
	return finish(o, rc);
}

/* Explain target in every ready namespace. Return: the document, or NULL with err set. */
static json_t *explain_everywhere(const struct fleet *fl, const struct fleet_member **v, size_t n,
				  const char *target, char *err, size_t errlen)
{
	struct answers as;
	json_t *o = NULL;

	if (answers_collect(&as, fl, v, n, target) < 0) {
		set_err(err, errlen, "out of memory explaining %s", target);
	} else if (as.best == RANK_NONE) {
		if (as.ready == 0)
			set_err(err, errlen, "no namespace is watched yet");
		else if (as.ready > 1 && strncmp(as.first_err, "no listener on ", 15) == 0)
			set_err(err, errlen, "%s in any of the %zu namespaces", as.first_err, as.ready);
		else
			set_err(err, errlen, "%s", as.first_err);
	} else {
		o = answers_document(&as, fl, v, n, target);
		if (!o)
			set_err(err, errlen, "out of memory explaining %s", target);
	}
	answers_free(&as, n);
	return o;
}

/* The evidence chains for target in every namespace, or in the one "NETNS/" names; see report.h. */
json_t *report_fleet_explain(const struct fleet *fl, const char *target, char *err, size_t errlen)
{
	size_t n;
	bool oom;
	const struct fleet_member **v = ordered_members(fl, &n, &oom);
	/* An interface or an address never holds '/': the namespace is everything before the last one. */
	const char *slash = target ? strrchr(target, '/') : NULL;
	json_t *o;

	if (oom) {
		set_err(err, errlen, "out of memory explaining %s", target ? target : "");
		return NULL;
	}
	if (!target)
		target = "";
	if (slash)
		o = explain_in(v, n, target, slash, err, errlen);
	else
		o = explain_everywhere(fl, v, n, target, err, errlen);
	free(v);
	return o;
}
