/* findings_doc.c: the findings document: each finding with its words, evidence and namespace, active first. */
#include "base.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "finding_text.h"
#include "json.h"
#include "report.h"
#include "report_int.h"

/* Return: the cause f is a side effect of, or CAUSE_NONE when f is a cause in its own right. */
enum cause side_effect_of(const struct finding *f)
{
	return finding_is_side_effect(f) ? f->explained_by : CAUSE_NONE;
}

const char *cause_name(enum cause c)
{
	const char *code = cause_code(c);

	return code ? code : "unknown";
}

const char *severity_name(int priority)
{
	if (priority <= LOG_ERR)
		return "err";
	if (priority == LOG_WARNING)
		return "warning";
	if (priority == LOG_NOTICE)
		return "notice";
	return "info";
}

/*
 * An evidence name as a JSON key: diagnose promises lower_snake_case, but a
 * key jansson refuses (not UTF-8) would lose the whole finding, so anything
 * else is made an underscore. Return: false when nothing is left.
 */
static bool evidence_key(const char *name, size_t max, char *key, size_t len)
{
	size_t n = strnlen(name, max), i;

	if (n >= len)
		n = len - 1;
	for (i = 0; i < n; i++) {
		char c = name[i];

		key[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_';
	}
	key[i] = '\0';
	return n > 0;
}

/*
 * The accept-queue numbers mean something only for a listener; the other
 * scopes carry their own named numbers in extra[]. An extra[] name that
 * repeats an accept-queue key is left out: those keys keep the meaning
 * scripts already rely on.
 */
static json_t *report_evidence(const struct finding *f)
{
	const struct finding_evidence *ev = &f->ev;
	size_t n_extra = f->n_extra < FINDING_EXTRA_MAX ? f->n_extra : FINDING_EXTRA_MAX;
	json_t *o = json_object();
	int rc = 0;

	if (f->scope == SCOPE_LISTENER) {
		rc |= put(o, "drops_delta", json_integer(ev->drops_delta));
		rc |= put(o, "drops_total", ju64(ev->drops_total));
		rc |= put(o, "queue", json_integer(ev->queue));
		rc |= put(o, "backlog", json_integer(ev->backlog));
		rc |= put(o, "peak_queue", json_integer(ev->peak_queue));
		rc |= put(o, "ticks_full", json_integer(ev->ticks_full));
		rc |= put(o, "somaxconn", jint_or_null(ev->somaxconn));
		rc |= put(o, "abort_on_overflow", jint_or_null(ev->abort_on_overflow));
		rc |= put(o, "host_overflows", jint_or_null(ev->host_overflows));
		rc |= put(o, "owner_state", jstate(ev->owner_state));
	}
	for (size_t i = 0; o && i < n_extra; i++) {
		char key[sizeof(f->extra[i].name) + 1];

		if (!evidence_key(f->extra[i].name, sizeof(f->extra[i].name), key, sizeof(key)) ||
		    json_object_get(o, key))
			continue;
		rc |= put(o, key, jint(f->extra[i].value));
	}
	return finish(o, rc);
}

static json_t *report_knob(const struct finding *f)
{
	json_t *o;
	int rc = 0;

	if (!f->knob[0])
		return json_null();
	o = json_object();
	rc |= put(o, "name", JSTR(f->knob));
	rc |= put(o, "current", jint_or_null(f->knob_current));
	rc |= put(o, "suggested", jint_or_null(f->knob_suggested));
	return finish(o, rc);
}

/*
 * Who the eBPF tier saw dropped at the listener (refused, for a gap): the
 * busiest peers and the totals over all of them; null when the tier saw
 * nothing for it or was off. Times are wall-clock milliseconds.
 */
static json_t *report_clients(const struct finding *f)
{
	const struct finding_clients *c = &f->clients;
	size_t n = c->n < FINDING_CLIENTS_MAX ? c->n : FINDING_CLIENTS_MAX;
	json_t *o, *top;
	int rc = 0;

	if (!c->known)
		return json_null();
	o = json_object();
	top = json_array();
	for (size_t i = 0; top && i < n; i++) {
		const struct finding_client *p = &c->top[i];
		char addr[LISTENER_NAME_MAX];
		json_t *po = json_object();
		int prc = 0;

		prc |= put(po, "addr", json_string(endpoint_addr(p->family, p->addr, addr, sizeof(addr))));
		prc |= put(po, "port", json_integer(p->port));
		prc |= put(po, "count", ju64(p->count));
		prc |= put(po, "first_ms", jint(p->first_ms));
		prc |= put(po, "last_ms", jint(p->last_ms));
		rc |= append(top, finish(po, prc));
	}
	rc |= put(o, "total", ju64(c->total));
	rc |= put(o, "peers", ju64(c->peers));
	rc |= put(o, "first_ms", jint(c->first_ms));
	rc |= put(o, "last_ms", jint(c->last_ms));
	rc |= put(o, "top", top);
	return finish(o, rc);
}

/*
 * One finding as JSON. state is "active" or "resolved" (NULL: "active");
 * first_seen and last_seen are wall-clock seconds. Return: NULL when out of memory.
 */
json_t *report_finding(const struct finding *f, const char *state, int64_t first_seen, int64_t last_seen)
{
	enum cause of = side_effect_of(f);
	struct finding_words words;
	json_t *o = json_object();
	int rc = 0;

	finding_words(f, &words);
	rc |= put(o, "cause", json_string(cause_name(f->cause)));
	/* Only overflow-reset wraps another cause; elsewhere the key would only repeat cause. */
	if (f->cause == CAUSE_OVERFLOW_RESET)
		rc |= put(o, "underlying", json_string(cause_name(f->underlying)));
	rc |= put(o, "severity", json_string(severity_name(f->priority)));
	rc |= put(o, "priority", json_integer(f->priority));
	rc |= put(o, "listener", JSTR(f->listener));
	rc |= put(o, "subject", JSTR(f->subject));
	rc |= put(o, "cookie", ju64_string(f->cookie));
	rc |= put(o, "pid", f->pid > 0 ? json_integer(f->pid) : json_null());
	rc |= put(o, "comm", JSTR_OR_NULL(f->comm));
	rc |= put(o, "unit", JSTR_OR_NULL(f->unit));
	rc |= put(o, "user", JSTR_OR_NULL(f->user));
	rc |= put(o, "uid", f->user[0] && f->uid >= 0 ? jint(f->uid) : json_null());
	rc |= put(o, "cmdline", JSTR_OR_NULL(f->cmdline));
	rc |= put(o, "message", jstr(words.message, sizeof(words.message)));
	rc |= put(o, "remedy", jstr(words.remedy, sizeof(words.remedy)));
	rc |= put(o, "knob", report_knob(f));
	rc |= put(o, "state", json_string(state ? state : "active"));
	rc |= put(o, "first_seen", jint(first_seen));
	rc |= put(o, "last_seen", jint(last_seen));
	rc |= put(o, "scope", json_string(scope_name(f->scope)));
	rc |= put(o, "role", json_string(of != CAUSE_NONE ? "side-effect" : "cause"));
	rc |= put(o, "explained_by", of != CAUSE_NONE ? json_string(cause_name(of)) : json_null());
	rc |= put(o, "detail", JSTR_OR_NULL(f->detail));
	rc |= put(o, "evidence", report_evidence(f));
	rc |= put(o, "clients", report_clients(f));
	/* The monitor's stamp; status and explain put the fleet's view (with its kind) over it. */
	rc |= put(o, "netns", report_netns(f->netns_inode, f->netns_name, NULL));
	return finish(o, rc);
}

/* Return: one finding-table entry with its state, and resolved_at when resolved. */
json_t *report_finding_entry(const struct finding_entry *e)
{
	bool resolved = e->state == FINDING_RESOLVED;
	json_t *o = report_finding(&e->f, resolved ? "resolved" : "active", e->first_seen, e->last_seen);
	int rc = 0;

	if (!o)
		return NULL;
	if (resolved)
		rc |= put(o, "resolved_at", jint(e->resolved_at));
	rc |= put(o, "fired_ticks", json_integer((json_int_t)e->fired_ticks));
	/* A listener's overflow is one finding: what it said before its latest revision, and when. */
	rc |= put(o, "revised_from", e->revised_from != CAUSE_NONE ?
		  json_string(cause_name(e->revised_from)) : json_null());
	rc |= put(o, "revised_at", e->revised_at ? jint(e->revised_at) : json_null());
	return finish(o, rc);
}

static int cmp_entry_ptr(const void *pa, const void *pb)
{
	const struct finding_entry *a = *(const struct finding_entry *const *)pa;
	const struct finding_entry *b = *(const struct finding_entry *const *)pb;
	int c;

	if (a->state != b->state)
		return a->state == FINDING_ACTIVE ? -1 : 1;
	if (a->first_seen != b->first_seen)
		return a->first_seen < b->first_seen ? -1 : 1;
	/* Ties are common (one tick opens several); keep the order stable anyway. */
	c = strncmp(a->f.listener, b->f.listener, sizeof(a->f.listener));
	if (c)
		return c;
	return (int)a->f.cause - (int)b->f.cause;
}

const struct finding_entry **sorted_entries(const struct finding_table *ft, size_t *n)
{
	const struct finding_entry **v;

	*n = 0;
	if (ft->count == 0)
		return NULL;
	v = calloc(ft->count, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < ft->count; i++)
		v[i] = &ft->items[i];
	qsort(v, ft->count, sizeof(*v), cmp_entry_ptr);
	*n = ft->count;
	return v;
}

int entries_add(struct entry_vec *ev, const struct finding_table *ft, const struct ns_ref *ns, size_t ns_order)
{
	if (ft->count > ev->cap - ev->count) {
		size_t cap = ev->count + ft->count + 16;
		struct entry_ref *n = realloc(ev->items, cap * sizeof(*n));

		if (!n)
			return -1;
		ev->items = n;
		ev->cap = cap;
	}
	for (size_t i = 0; i < ft->count; i++)
		ev->items[ev->count++] = (struct entry_ref){ .e = &ft->items[i], .ns = ns, .ns_order = ns_order };
	return 0;
}

/* As for one table; the same finding in two namespaces: by namespace. */
static int cmp_entry_ref(const void *pa, const void *pb)
{
	const struct entry_ref *a = pa, *b = pb;
	int c = cmp_entry_ptr(&a->e, &b->e);

	if (c)
		return c;
	return a->ns_order < b->ns_order ? -1 : a->ns_order > b->ns_order ? 1 : 0;
}

int append_entries(json_t *a, struct entry_vec *ev)
{
	int rc = 0;

	if (ev->count > 1)
		qsort(ev->items, ev->count, sizeof(ev->items[0]), cmp_entry_ref);
	for (size_t i = 0; i < ev->count; i++)
		rc |= append(a, tagged(report_finding_entry(ev->items[i].e), ev->items[i].ns));
	return rc;
}

json_t *findings_tagged(const struct finding_table *ft, const struct ns_ref *ns)
{
	struct entry_vec ev = { 0 };
	json_t *a = json_array();
	int rc = a ? 0 : -1;

	if (entries_add(&ev, ft, ns, 0) < 0)
		rc = -1;
	else if (a)
		rc |= append_entries(a, &ev);
	free(ev.items);
	return finish(a, rc);
}

/* Return: the array of findings, active first, each group by first_seen. */
json_t *report_findings(const struct finding_table *ft)
{
	return findings_tagged(ft, NULL);
}
