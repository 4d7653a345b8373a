/* report.c: the JSON documents of the control protocol and backlogctl --json. */
#include "base.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>

#include "diagnose.h"
#include "findings.h"
#include "fleet.h"
#include "listener.h"
#include "monitor.h"
#include "netns.h"
#include "netstat.h"
#include "report.h"
#include "tcp_state.h"
#include "sysctl.h"
#include "track.h"

/* Enough for one step of an explain chain: a listener, its owners and a finding. */
#define STEP_TEXT_MAX 2048

/*
 * Set key on o, taking v. A NULL v (a failed allocation upstream) is counted
 * as an error so that callers can drop a half-built document instead of
 * sending one with keys silently missing. Return: 0 or -1.
 */
static int put(json_t *o, const char *key, json_t *v)
{
	if (!v)
		return -1;
	/* json_object_set_new() releases v itself when it fails. */
	return json_object_set_new(o, key, v) < 0 ? -1 : 0;
}

static int append(json_t *a, json_t *v)
{
	if (!v)
		return -1;
	return json_array_append_new(a, v) < 0 ? -1 : 0;
}

/* Return: o, or NULL (o released) when rc says something went missing. */
static json_t *finish(json_t *o, int rc)
{
	if (rc != 0 || !o) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * comm, unit names and anything quoting them are bytes from the kernel, not
 * UTF-8, and jansson refuses invalid UTF-8. Replace the bytes that do not
 * decode rather than lose the key. max bounds a fixed-size field that a bug
 * might have left unterminated.
 */
static json_t *jstr(const char *s, size_t max)
{
	size_t len = strnlen(s, max);
	json_t *j = json_stringn(s, len);
	char *copy;

	if (j)
		return j;
	copy = malloc(len + 1);
	if (!copy)
		return NULL;
	for (size_t i = 0; i < len; i++)
		copy[i] = (unsigned char)s[i] >= 0x80 ? '?' : s[i];
	copy[len] = '\0';
	j = json_stringn(copy, len);
	free(copy);
	return j;
}

#define JSTR(field) jstr((field), sizeof(field))

/* An empty field means unknown: null, never "". */
static json_t *jstr_or_null(const char *s, size_t max)
{
	return s[0] ? jstr(s, max) : json_null();
}

#define JSTR_OR_NULL(field) jstr_or_null((field), sizeof(field))

static json_t *jint(int64_t v)
{
	return json_integer((json_int_t)v);
}

/* Sysctls, knobs and host deltas use -1 for unknown; none is legitimately negative. */
static json_t *jint_or_null(int64_t v)
{
	return v < 0 ? json_null() : json_integer((json_int_t)v);
}

/* An nsfs inode is a u64 in principle and about 2^32 in practice: a number, clamped. */
static json_t *ju64_int(uint64_t v)
{
	return json_integer((json_int_t)(v > INT64_MAX ? INT64_MAX : v));
}

/* A u64 does not fit a JSON number that every consumer reads exactly. */
static json_t *ju64_string(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return json_string(buf);
}

/* Process state letter as a one-character string, null when unknown. */
static json_t *jstate(char c)
{
	char buf[2] = { c, '\0' };

	if (c <= ' ' || (unsigned char)c >= 0x7f)
		return json_null();
	return json_string(buf);
}

static const char *family_name(uint8_t family)
{
	switch (family) {
	case AF_INET:
		return "ipv4";
	case AF_INET6:
		return "ipv6";
	default:
		return "unknown";
	}
}

/* syslog priority to the journal's severity words. */
static const char *severity_name(int priority)
{
	if (priority <= LOG_ERR)
		return "err";
	if (priority == LOG_WARNING)
		return "warning";
	if (priority == LOG_NOTICE)
		return "notice";
	return "info";
}

static const char *cause_name(enum cause c)
{
	const char *code = cause_code(c);

	return code ? code : "unknown";
}

static const char *scope_str(enum finding_scope sc)
{
	const char *name = scope_name(sc);

	return name ? name : "unknown";
}

/*
 * Return: true when f is a side effect of another cause. A finding cannot
 * be its own side effect: a finding left zeroed by a rule (explained_by 0)
 * must not be shown as a side effect of backlog-clamped.
 */
static bool is_side_effect(const struct finding *f)
{
	return f->explained_by >= 0 && f->explained_by < CAUSE_COUNT && f->explained_by != (int)f->cause;
}

/*
 * A sysctl made of several numbers is read from one file: one unknown part
 * means the file was not read, so the whole value is null rather than a
 * half-filled array.
 */
static json_t *jpair_or_null(int64_t a, int64_t b)
{
	json_t *arr;
	int rc = 0;

	if (a < 0 || b < 0)
		return json_null();
	arr = json_array();
	rc |= append(arr, jint(a));
	rc |= append(arr, jint(b));
	return finish(arr, rc);
}

static json_t *jtriple_or_null(const int64_t v[3])
{
	json_t *arr;
	int rc = 0;

	if (v[0] < 0 || v[1] < 0 || v[2] < 0)
		return json_null();
	arr = json_array();
	for (int i = 0; i < 3; i++)
		rc |= append(arr, jint(v[i]));
	return finish(arr, rc);
}

/* Return: the limits object; unknown limits are null. */
json_t *report_limits(const struct limits *lim)
{
	json_t *o = json_object();
	int rc = 0;

	rc |= put(o, "somaxconn", jint_or_null(lim->somaxconn));
	rc |= put(o, "tcp_max_syn_backlog", jint_or_null(lim->tcp_max_syn_backlog));
	rc |= put(o, "tcp_syncookies", jint_or_null(lim->tcp_syncookies));
	rc |= put(o, "tcp_abort_on_overflow", jint_or_null(lim->tcp_abort_on_overflow));
	rc |= put(o, "ip_local_port_range", jpair_or_null(lim->port_range_lo, lim->port_range_hi));
	rc |= put(o, "tcp_tw_reuse", jint_or_null(lim->tcp_tw_reuse));
	rc |= put(o, "tcp_max_tw_buckets", jint_or_null(lim->tcp_max_tw_buckets));
	rc |= put(o, "tcp_max_orphans", jint_or_null(lim->tcp_max_orphans));
	rc |= put(o, "tcp_mem", jtriple_or_null(lim->tcp_mem));
	rc |= put(o, "nf_conntrack_max", jint_or_null(lim->nf_conntrack_max));
	return finish(o, rc);
}

static unsigned owner_nprocs(const struct owner *ow)
{
	return ow->nprocs > OWNER_MAX_PROCS ? OWNER_MAX_PROCS : ow->nprocs;
}

/*
 * The owner's real uid. "uid" on a listener stays the socket's (sock_diag),
 * which scripts already read; a zeroed owner (uid 0, no user name) is
 * unknown, not root, so the name decides.
 */
static json_t *owner_uid(const struct owner *ow)
{
	return ow->user[0] && ow->uid >= 0 ? jint(ow->uid) : json_null();
}

/* Return: {inode, name, kind}, unknown parts null. */
json_t *report_netns(uint64_t inode, const char *name, const char *kind)
{
	json_t *o = json_object();
	int rc = 0;

	rc |= put(o, "inode", inode ? ju64_int(inode) : json_null());
	rc |= put(o, "name", name && name[0] ? jstr(name, NETNS_NAME_MAX) : json_null());
	rc |= put(o, "kind", kind ? json_string(kind) : json_null());
	return finish(o, rc);
}

static json_t *report_processes(const struct owner *ow)
{
	json_t *a = json_array();
	int rc = 0;

	for (unsigned i = 0; i < owner_nprocs(ow); i++) {
		json_t *p = json_object();
		int prc = 0;

		prc |= put(p, "pid", json_integer(ow->procs[i].pid));
		prc |= put(p, "comm", JSTR(ow->procs[i].comm));
		prc |= put(p, "cmdline", JSTR_OR_NULL(ow->procs[i].cmdline));
		rc |= append(a, finish(p, prc));
	}
	return finish(a, rc);
}

/* Return: one listener object, or NULL when out of memory. */
json_t *report_listener(const struct tracked *tr)
{
	const struct listener *l = &tr->l;
	char name[LISTENER_NAME_MAX];
	char addr[LISTENER_NAME_MAX];
	unsigned total;
	json_t *o = json_object();
	int rc = 0;

	listener_name(l, name, sizeof(name));
	listener_addr(l, addr, sizeof(addr));
	total = tracked_owner(tr)->nprocs_total > tracked_owner(tr)->nprocs ? tracked_owner(tr)->nprocs_total : tracked_owner(tr)->nprocs;

	rc |= put(o, "listener", JSTR(name));
	rc |= put(o, "address", JSTR(addr));
	rc |= put(o, "port", json_integer(l->port));
	rc |= put(o, "family", json_string(family_name(l->family)));
	rc |= put(o, "queue", json_integer(l->queue));
	rc |= put(o, "backlog", json_integer(l->backlog));
	rc |= put(o, "peak_queue", json_integer(tr->peak_queue));
	rc |= put(o, "full", json_boolean(l->queue > l->backlog));
	rc |= put(o, "drops", l->has_drops ? json_integer(l->drops) : json_null());
	rc |= put(o, "drops_delta", json_integer(tr->drops_delta));
	rc |= put(o, "drops_total", jint((int64_t)(tr->drops_total > INT64_MAX ? INT64_MAX : tr->drops_total)));
	rc |= put(o, "ticks_full", json_integer(tr->ticks_full));
	/* Above half its backlog lately: sampled every fast_interval until it cools. */
	rc |= put(o, "hot", json_boolean(monitor_listener_hot(tr)));
	rc |= put(o, "ticks_seen", json_integer(tr->ticks_seen));
	rc |= put(o, "inode", json_integer(l->inode));
	rc |= put(o, "cookie", ju64_string(l->cookie));
	rc |= put(o, "uid", json_integer(l->uid));
	rc |= put(o, "processes", report_processes(tracked_owner(tr)));
	rc |= put(o, "processes_total", json_integer(total));
	rc |= put(o, "owner_state", jstate(tr->owner_state));
	rc |= put(o, "unit", JSTR_OR_NULL(tracked_owner(tr)->unit));
	rc |= put(o, "user", JSTR_OR_NULL(tracked_owner(tr)->user));
	rc |= put(o, "owner_uid", owner_uid(tracked_owner(tr)));
	rc |= put(o, "first_seen", jint(tr->first_seen_ms / 1000));
	rc |= put(o, "last_seen", jint(tr->last_seen_ms / 1000));
	return finish(o, rc);
}

static int cmp_listener(const struct listener *a, const struct listener *b)
{
	int c;

	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	c = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (c)
		return c;
	if (a->cookie != b->cookie)
		return a->cookie < b->cookie ? -1 : 1;
	return 0;
}

static int cmp_tracked_ptr(const void *pa, const void *pb)
{
	const struct tracked *a = *(const struct tracked *const *)pa;
	const struct tracked *b = *(const struct tracked *const *)pb;

	return cmp_listener(&a->l, &b->l);
}

/*
 * The tracked listeners in a stable order (port, family, address), so that
 * scripts and humans see the same table from one tick to the next.
 * Return: a malloc'd array of t->count pointers, NULL when empty or out of memory.
 */
static const struct tracked **sorted_tracked(const struct track *t)
{
	const struct tracked **v;

	if (t->count == 0)
		return NULL;
	v = calloc(t->count, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < t->count; i++)
		v[i] = &t->items[i];
	qsort(v, t->count, sizeof(*v), cmp_tracked_ptr);
	return v;
}

/*
 * The namespace a document's entries belong to, as the caller knows it: a
 * fleet member (with its kind) or a lone monitor (kind unknown).
 */
struct ns_ref {
	uint64_t inode;
	const char *name;         /* NUL-terminated within NETNS_NAME_MAX */
	const char *kind;         /* NULL when unknown */
};

/* Set "netns" on o (an object) when ns is given. Return: 0 or -1. */
static int tag_netns(json_t *o, const struct ns_ref *ns)
{
	if (!ns)
		return 0;
	if (!json_is_object(o))
		return -1;
	return put(o, "netns", report_netns(ns->inode, ns->name, ns->kind));
}

/* Append t's listeners to a, sorted by port then address, each tagged with ns. Return: 0 or -1. */
static int append_listeners(json_t *a, const struct track *t, const struct ns_ref *ns)
{
	const struct tracked **v = sorted_tracked(t);
	int rc = 0;

	if (t->count > 0 && !v)
		rc = -1;
	for (size_t i = 0; v && i < t->count; i++) {
		json_t *l = report_listener(v[i]);

		if (l && tag_netns(l, ns) < 0) {
			json_decref(l);
			l = NULL;
		}
		rc |= append(a, l);
	}
	free(v);
	return rc;
}

/* Return: the array of listeners, sorted by port then address. */
json_t *report_listeners(const struct track *t)
{
	json_t *a = json_array();

	return finish(a, a ? append_listeners(a, t, NULL) : -1);
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
		rc |= put(o, "drops_total", jint((int64_t)(ev->drops_total > INT64_MAX ? INT64_MAX : ev->drops_total)));
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
 * One finding as JSON. state is "active" or "resolved" (NULL: "active");
 * first_seen and last_seen are wall-clock seconds. Return: NULL when out of memory.
 */
json_t *report_finding(const struct finding *f, const char *state, int64_t first_seen, int64_t last_seen)
{
	json_t *o = json_object();
	int rc = 0;

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
	rc |= put(o, "message", JSTR(f->message));
	rc |= put(o, "remedy", JSTR(f->remedy));
	rc |= put(o, "knob", report_knob(f));
	rc |= put(o, "state", json_string(state ? state : "active"));
	rc |= put(o, "first_seen", jint(first_seen));
	rc |= put(o, "last_seen", jint(last_seen));
	rc |= put(o, "scope", json_string(scope_str(f->scope)));
	rc |= put(o, "role", json_string(is_side_effect(f) ? "side-effect" : "cause"));
	rc |= put(o, "explained_by", is_side_effect(f) ?
		  json_string(cause_name((enum cause)f->explained_by)) : json_null());
	rc |= put(o, "detail", JSTR_OR_NULL(f->detail));
	rc |= put(o, "evidence", report_evidence(f));
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

/*
 * The entries of ft, active first, then by first_seen, as a malloc'd array
 * of pointers. Return: NULL when empty or out of memory (*n = 0 then).
 */
static const struct finding_entry **sorted_entries(const struct finding_table *ft, size_t *n)
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

/* A finding entry with the namespace it came from, for one list over several tables. */
struct entry_ref {
	const struct finding_entry *e;
	const struct ns_ref *ns;  /* NULL: no tag */
	size_t ns_order;          /* the namespace's place in the document */
};

struct entry_vec {
	struct entry_ref *items;
	size_t count;
	size_t cap;
};

/* Add every entry of ft. Return: 0 or -1 when out of memory. */
static int entries_add(struct entry_vec *ev, const struct finding_table *ft, const struct ns_ref *ns,
		       size_t ns_order)
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

/* Active first, by first_seen, as for one table; the same finding in two namespaces: by namespace. */
static int cmp_entry_ref(const void *pa, const void *pb)
{
	const struct entry_ref *a = pa, *b = pb;
	int c = cmp_entry_ptr(&a->e, &b->e);

	if (c)
		return c;
	return a->ns_order < b->ns_order ? -1 : a->ns_order > b->ns_order ? 1 : 0;
}

/* Sort ev and append each entry, tagged with its namespace, to a. Return: 0 or -1. */
static int append_entries(json_t *a, struct entry_vec *ev)
{
	int rc = 0;

	if (ev->count > 1)
		qsort(ev->items, ev->count, sizeof(ev->items[0]), cmp_entry_ref);
	for (size_t i = 0; i < ev->count; i++) {
		json_t *f = report_finding_entry(ev->items[i].e);

		if (f && tag_netns(f, ev->items[i].ns) < 0) {
			json_decref(f);
			f = NULL;
		}
		rc |= append(a, f);
	}
	return rc;
}

/* The findings of ft, each tagged with ns (NULL: its own stamp), active first. */
static json_t *findings_tagged(const struct finding_table *ft, const struct ns_ref *ns)
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

/*
 * The host counters that bear on refused and dropped connections, in the
 * order a person reads them: accept-queue overflows first, then the SYN
 * queue, cookies, resets.
 */
static const char *const host_counter_names[] = {
	"TcpExt.ListenOverflows",
	"TcpExt.ListenDrops",
	"TcpExt.TCPReqQFullDrop",
	"TcpExt.TCPReqQFullDoCookies",
	"TcpExt.SyncookiesSent",
	"TcpExt.SyncookiesRecv",
	"TcpExt.SyncookiesFailed",
	"TcpExt.EmbryonicRsts",
	"TcpExt.TCPAbortOnOverflow",
	"TcpExt.TCPBacklogDrop",
	"TcpExt.TCPTimeWaitOverflow",
	"Tcp.OutRsts",
	"Tcp.AttemptFails",
	"Tcp.PassiveOpens",
};

/* Return: seconds between the last two updates, or a negative value when unknown. */
static double host_interval_s(const struct track *t)
{
	if (!t->have_prev || t->prev_ms <= 0 || t->now_ms <= t->prev_ms)
		return -1.0;
	return (double)(t->now_ms - t->prev_ms) / 1000.0;
}

/* Kernel counters are u64; a JSON number every consumer reads exactly stops at 2^63. */
static json_t *ju64(uint64_t v)
{
	return jint((int64_t)(v > INT64_MAX ? INT64_MAX : v));
}

/* A counter's rise since the previous sample; one that went backwards (a reset) rose by 0. */
static json_t *ju64_delta(uint64_t cur, uint64_t prev)
{
	return ju64(cur >= prev ? cur - prev : 0);
}

/* {inuse, orphan, tw, alloc, mem, tcp6_inuse}, null before the first host sample. */
static json_t *report_sockstat(const struct host_state *hs)
{
	const struct sockstat *ss = &hs->ss;
	json_t *o;
	int rc = 0;

	if (!hs->valid)
		return json_null();
	o = json_object();
	rc |= put(o, "inuse", jint_or_null(ss->tcp_inuse));
	rc |= put(o, "orphan", jint_or_null(ss->tcp_orphan));
	rc |= put(o, "tw", jint_or_null(ss->tcp_tw));
	rc |= put(o, "alloc", jint_or_null(ss->tcp_alloc));
	rc |= put(o, "mem", jint_or_null(ss->tcp_mem));
	rc |= put(o, "tcp6_inuse", jint_or_null(ss->tcp6_inuse));
	return finish(o, rc);
}

/*
 * {present, count, max, drop, early_drop, insert_failed, deltas}: the drop
 * counters are null when the stat file was unreadable, deltas null until
 * two samples had it.
 */
static json_t *report_conntrack(const struct track *t)
{
	const struct conntrack_stat *ct = &t->hs_cur.ct;
	const struct conntrack_stat *pv = &t->hs_prev.ct;
	json_t *o, *d;
	int rc = 0, drc = 0;

	if (!t->hs_cur.valid)
		return json_null();
	o = json_object();
	rc |= put(o, "present", json_boolean(ct->present));
	rc |= put(o, "count", ct->present ? jint_or_null(ct->count) : json_null());
	rc |= put(o, "max", jint_or_null(t->limits.nf_conntrack_max));
	rc |= put(o, "drop", ct->have_stat ? ju64(ct->drop) : json_null());
	rc |= put(o, "early_drop", ct->have_stat ? ju64(ct->early_drop) : json_null());
	rc |= put(o, "insert_failed", ct->have_stat ? ju64(ct->insert_failed) : json_null());
	if (!ct->have_stat || !t->hs_prev.valid || !pv->have_stat)
		return finish(o, rc | put(o, "deltas", json_null()));
	d = json_object();
	drc |= put(d, "drop", ju64_delta(ct->drop, pv->drop));
	drc |= put(d, "early_drop", ju64_delta(ct->early_drop, pv->early_drop));
	drc |= put(d, "insert_failed", ju64_delta(ct->insert_failed, pv->insert_failed));
	rc |= put(o, "deltas", finish(d, drc));
	return finish(o, rc);
}

/* The same interface in the previous sample: same index and name (a rename is a new interface). */
static const struct link_stat *prev_link(const struct track *t, const struct link_stat *cur)
{
	size_t n = t->hs_prev.links.count < LINKS_MAX ? t->hs_prev.links.count : LINKS_MAX;

	if (!t->hs_prev.valid)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct link_stat *p = &t->hs_prev.links.items[i];

		if (p->ifindex == cur->ifindex && strncmp(p->name, cur->name, sizeof(p->name)) == 0)
			return p;
	}
	return NULL;
}

static json_t *report_link(const struct track *t, const struct link_stat *ls)
{
	const struct link_stat *p = prev_link(t, ls);
	json_t *o = json_object(), *d;
	int rc = 0, drc = 0;

	rc |= put(o, "name", JSTR(ls->name));
	rc |= put(o, "ifindex", json_integer(ls->ifindex));
	rc |= put(o, "rx_packets", ju64(ls->rx_packets));
	rc |= put(o, "rx_dropped", ju64(ls->rx_dropped));
	rc |= put(o, "rx_missed_errors", ju64(ls->rx_missed_errors));
	rc |= put(o, "rx_fifo_errors", ju64(ls->rx_fifo_errors));
	if (!p)
		return finish(o, rc | put(o, "deltas", json_null()));
	d = json_object();
	drc |= put(d, "rx_packets", ju64_delta(ls->rx_packets, p->rx_packets));
	drc |= put(d, "rx_dropped", ju64_delta(ls->rx_dropped, p->rx_dropped));
	drc |= put(d, "rx_missed_errors", ju64_delta(ls->rx_missed_errors, p->rx_missed_errors));
	drc |= put(d, "rx_fifo_errors", ju64_delta(ls->rx_fifo_errors, p->rx_fifo_errors));
	rc |= put(o, "deltas", finish(d, drc));
	return finish(o, rc);
}

static json_t *report_links(const struct track *t)
{
	size_t n = t->hs_cur.links.count < LINKS_MAX ? t->hs_cur.links.count : LINKS_MAX;
	json_t *a = json_array();
	int rc = 0;

	for (size_t i = 0; t->hs_cur.valid && i < n; i++)
		rc |= append(a, report_link(t, &t->hs_cur.links.items[i]));
	return finish(a, rc);
}

static const char *kmsg_kind_name(enum kmsg_kind k)
{
	switch (k) {
	case KMSG_SYN_FLOOD:
		return "syn-flood";
	case KMSG_CONNTRACK_FULL:
		return "conntrack-full";
	case KMSG_TCP_OOM:
		return "tcp-oom";
	case KMSG_ORPHANS:
		return "orphans";
	}
	return "unknown";
}

/*
 * One kernel log event. The SYN-flood line names a port (and on newer
 * kernels an address): "listener" puts them in the form listeners are named
 * so that a script can join the two; the other kinds carry none.
 */
static json_t *report_kmsg_event(const struct kmsg_event *ev)
{
	bool syn = ev->kind == KMSG_SYN_FLOOD;
	size_t alen = strnlen(ev->addr, sizeof(ev->addr));
	char name[KMSG_ADDR_MAX + 16];
	json_t *o = json_object();
	int rc = 0;

	if (alen == 0)
		snprintf(name, sizeof(name), "*:%u", (unsigned)ev->port);
	else if (memchr(ev->addr, ':', alen))
		snprintf(name, sizeof(name), "[%.*s]:%u", (int)alen, ev->addr, (unsigned)ev->port);
	else
		snprintf(name, sizeof(name), "%.*s:%u", (int)alen, ev->addr, (unsigned)ev->port);
	rc |= put(o, "kind", json_string(kmsg_kind_name(ev->kind)));
	rc |= put(o, "seq", ju64(ev->seq));
	rc |= put(o, "ts_usec", ju64(ev->ts_usec));
	rc |= put(o, "port", syn && ev->port ? json_integer(ev->port) : json_null());
	rc |= put(o, "addr", syn ? JSTR_OR_NULL(ev->addr) : json_null());
	rc |= put(o, "listener", syn && ev->port ? jstr(name, sizeof(name)) : json_null());
	rc |= put(o, "cookies", syn ? json_boolean(ev->cookies) : json_null());
	return finish(o, rc);
}

static json_t *report_kmsg(const struct track *t)
{
	size_t n = t->n_kmsg < TRACK_KMSG_MAX ? t->n_kmsg : TRACK_KMSG_MAX;
	json_t *a = json_array();
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		rc |= append(a, report_kmsg_event(&t->kmsg[i]));
	return finish(a, rc);
}

/* Listeners with the most half-open connections shown; a host with thousands of ports needs no more. */
#define REPORT_SYNRECV_MAX 64

static int cmp_synrecv_ptr(const void *pa, const void *pb)
{
	const struct synrecv_count *a = *(const struct synrecv_count *const *)pa;
	const struct synrecv_count *b = *(const struct synrecv_count *const *)pb;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* [{listener, count}], most first, at most REPORT_SYNRECV_MAX. */
static json_t *report_synrecv(const struct deep_sample *ds)
{
	const struct synrecv_count **v = NULL;
	size_t n = ds->synrecv ? ds->n_synrecv : 0;
	json_t *a = json_array();
	int rc = 0;

	if (n > 0) {
		v = calloc(n, sizeof(*v));
		if (!v)
			return finish(a, -1);
		for (size_t i = 0; i < n; i++)
			v[i] = &ds->synrecv[i];
		qsort(v, n, sizeof(*v), cmp_synrecv_ptr);
	}
	for (size_t i = 0; i < n && i < REPORT_SYNRECV_MAX; i++) {
		char name[LISTENER_NAME_MAX];
		json_t *o = json_object();
		int orc = 0;

		endpoint_name(v[i]->family, v[i]->addr, v[i]->port, name, sizeof(name));
		orc |= put(o, "listener", JSTR(name));
		orc |= put(o, "count", json_integer(v[i]->count));
		rc |= append(a, finish(o, orc));
	}
	free(v);
	return finish(a, rc);
}

static json_t *report_destinations(const struct deep_sample *ds)
{
	size_t n = ds->n_dests < DEEP_TOP_DESTS ? ds->n_dests : DEEP_TOP_DESTS;
	json_t *a = json_array();
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		const struct dest_count *d = &ds->dests[i];
		char name[LISTENER_NAME_MAX];
		json_t *o = json_object();
		int orc = 0;

		endpoint_name(d->family, d->addr, d->port, name, sizeof(name));
		orc |= put(o, "destination", JSTR(name));
		orc |= put(o, "total", json_integer(d->total));
		orc |= put(o, "established", json_integer(d->established));
		orc |= put(o, "time_wait", json_integer(d->time_wait));
		orc |= put(o, "syn_sent", json_integer(d->syn_sent));
		orc |= put(o, "other", json_integer(d->other));
		orc |= put(o, "in_port_range", json_integer(d->in_port_range));
		rc |= append(a, finish(o, orc));
	}
	return finish(a, rc);
}

static json_t *report_holders(const struct deep_sample *ds)
{
	size_t n = ds->n_holders < DEEP_TOP_HOLDERS ? ds->n_holders : DEEP_TOP_HOLDERS;
	json_t *a = json_array();
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		const struct mem_holder *h = &ds->holders[i];
		char local[LISTENER_NAME_MAX], remote[LISTENER_NAME_MAX];
		json_t *o = json_object();
		int orc = 0;

		endpoint_name(h->family, h->laddr, h->lport, local, sizeof(local));
		endpoint_name(h->family, h->raddr, h->rport, remote, sizeof(remote));
		orc |= put(o, "local", JSTR(local));
		orc |= put(o, "remote", JSTR(remote));
		orc |= put(o, "state", json_string(tcp_state_key(h->state)));
		orc |= put(o, "rqueue", json_integer(h->rqueue));
		orc |= put(o, "wqueue", json_integer(h->wqueue));
		orc |= put(o, "pid", h->pid > 0 ? json_integer(h->pid) : json_null());
		orc |= put(o, "comm", JSTR_OR_NULL(h->comm));
		rc |= append(a, finish(o, orc));
	}
	return finish(a, rc);
}

/* The deep tier's results of this tick; null when it did not run (it runs only when asked). */
static json_t *report_deep(const struct deep_sample *ds)
{
	json_t *o;
	int rc = 0;

	if (!ds)
		return json_null();
	o = json_object();
	rc |= put(o, "sockets_seen", json_integer(ds->sockets_seen));
	rc |= put(o, "synrecv_listeners", json_integer((json_int_t)(ds->synrecv ? ds->n_synrecv : 0)));
	rc |= put(o, "synrecv", report_synrecv(ds));
	rc |= put(o, "destinations", report_destinations(ds));
	rc |= put(o, "holders", report_holders(ds));
	return finish(o, rc);
}

/*
 * Return: {interval_s, counters:{Name:{total, delta, per_sec}}, sockstat,
 * conntrack, links, kmsg, deep}; absent counters are left out, host samples
 * not taken yet are null (links and kmsg empty).
 */
json_t *report_host(const struct track *t)
{
	double interval = host_interval_s(t);
	json_t *o = json_object();
	json_t *counters = json_object();
	int rc = 0;

	for (size_t i = 0; i < ARRAY_SIZE(host_counter_names); i++) {
		const char *name = host_counter_names[i];
		const char *key = strchr(name, '.') + 1;
		int64_t total, delta;
		bool have_delta;
		json_t *c;
		int crc = 0;

		if (!counters_get(&t->host_cur, name, &total))
			continue;
		have_delta = track_host_delta(t, name, &delta);
		c = json_object();
		crc |= put(c, "total", jint(total));
		crc |= put(c, "delta", have_delta ? jint(delta) : json_null());
		crc |= put(c, "per_sec", have_delta && interval > 0 ?
			   json_real((double)delta / interval) : json_null());
		rc |= put(counters, key, finish(c, crc));
	}
	rc |= put(o, "interval_s", interval > 0 ? json_real(interval) : json_null());
	rc |= put(o, "counters", counters);
	rc |= put(o, "sockstat", report_sockstat(&t->hs_cur));
	rc |= put(o, "conntrack", report_conntrack(t));
	rc |= put(o, "links", report_links(t));
	rc |= put(o, "kmsg", report_kmsg(t));
	rc |= put(o, "deep", report_deep(t->deep));
	return finish(o, rc);
}

/* The limits the latest tick used; before any tick, whatever monitor_init read. */
static const struct limits *monitor_limits(const struct monitor *m)
{
	return m->track.ticks > 0 ? &m->track.limits : &m->limits;
}

static json_t *report_daemon(const struct monitor *m, int64_t now)
{
	json_t *o = json_object();
	int rc = 0;

	rc |= put(o, "version", json_string(PACKAGE_VERSION));
	rc |= put(o, "now", jint(now));
	rc |= put(o, "started", jint(m->started));
	rc |= put(o, "uptime_s", jint(now > m->started ? now - m->started : 0));
	rc |= put(o, "ticks", json_integer((json_int_t)m->track.ticks));
	rc |= put(o, "tick_interval_ms", json_integer(m->cfg.tick_ms));
	rc |= put(o, "failed_ticks", json_integer((json_int_t)m->failed_ticks));
	rc |= put(o, "last_error", m->last_error ? json_string(strerror(-m->last_error)) : json_null());
	rc |= put(o, "listeners_count", json_integer((json_int_t)m->track.count));
	rc |= put(o, "findings_active", json_integer((json_int_t)findings_active(&m->findings)));
	rc |= put(o, "kernel_log", json_boolean(m->kmsg_following));
	rc |= put(o, "rtnetlink", json_boolean(m->links != NULL));
	rc |= put(o, "deep_runs", json_integer((json_int_t)m->deep_runs));
	rc |= put(o, "deep_reason", m->deep_ran && m->deep_reason ? json_string(m->deep_reason) : json_null());
	return finish(o, rc);
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
 * How long the address:port went without a listener, at most: from the
 * last tick that saw it to the tick that saw it back (or now while it is
 * still missing). The tick interval is the precision.
 */
static int64_t gap_ms(const struct listener_gap *g, int64_t now_ms)
{
	int64_t end = g->returned_ms > 0 ? g->returned_ms : now_ms;

	return end > g->last_seen_ms ? end - g->last_seen_ms : 0;
}

/* When the gap was noticed: the first tick without it, or the tick that found a new socket. */
static int64_t gap_noticed_ms(const struct listener_gap *g)
{
	if (g->missing_ms > 0)
		return g->missing_ms;
	return g->returned_ms > 0 ? g->returned_ms : g->last_seen_ms;
}

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
	return finish(o, rc);
}

/*
 * Append t's gaps, [{listener, vanished_at, returned_at, gap_ms, old_pid,
 * old_comm, new_pid, new_comm, out_rsts, replaced, netns}], oldest first.
 * Return: 0 or -1.
 */
static int append_gaps(json_t *a, const struct track *t, const struct ns_ref *ns)
{
	size_t n = t->n_gaps < TRACK_GAPS_MAX ? t->n_gaps : TRACK_GAPS_MAX;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		json_t *g = report_gap(t, &t->gaps[i]);

		if (g && tag_netns(g, ns) < 0) {
			json_decref(g);
			g = NULL;
		}
		rc |= append(a, g);
	}
	return rc;
}

/* A lone monitor's namespace: what it was told, kind unknown. */
static struct ns_ref monitor_ns(const struct monitor *m)
{
	return (struct ns_ref){ .inode = m->netns_inode, .name = m->netns_name, .kind = NULL };
}

/* Return: {daemon, limits, host, listeners, findings, gaps} at now (wall clock, seconds). */
json_t *report_status(const struct monitor *m, int64_t now)
{
	struct ns_ref ns = monitor_ns(m);
	json_t *o = json_object();
	json_t *listeners = json_array(), *gaps = json_array();
	int rc = 0;

	rc |= put(o, "daemon", report_daemon(m, now));
	rc |= put(o, "limits", report_limits(monitor_limits(m)));
	rc |= put(o, "host", report_host(&m->track));
	rc |= put(o, "listeners", finish(listeners, listeners ? append_listeners(listeners, &m->track, &ns) : -1));
	rc |= put(o, "findings", findings_tagged(&m->findings, &ns));
	rc |= put(o, "gaps", finish(gaps, gaps ? append_gaps(gaps, &m->track, &ns) : -1));
	return finish(o, rc);
}

/* ---- explain ---- */

struct target {
	bool any_addr;      /* "PORT" or "*:PORT" */
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
};

static bool parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;

	if (!*s)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return false;
	}
	if (v == 0)
		return false;
	*port = (uint16_t)v;
	return true;
}

/*
 * "127.0.0.1:8080", "[::1]:443", "*:8080" or "8080". A bare IPv6 address
 * without brackets is refused: its last group cannot be told from a port.
 * Return: true when s parsed.
 */
static bool parse_target(const char *s, struct target *t)
{
	char host[64];
	const char *colon;
	size_t hlen;

	memset(t, 0, sizeof(*t));
	if (parse_port(s, &t->port)) {
		t->any_addr = true;
		return true;
	}
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			return false;
		hlen = (size_t)(end - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return false;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		t->family = AF_INET6;
		return inet_pton(AF_INET6, host, t->addr) == 1 && parse_port(end + 2, &t->port);
	}
	colon = strchr(s, ':');
	if (!colon || strchr(colon + 1, ':'))
		return false;
	hlen = (size_t)(colon - s);
	if (hlen == 0 || hlen >= sizeof(host))
		return false;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (!parse_port(colon + 1, &t->port))
		return false;
	if (strcmp(host, "*") == 0) {
		t->any_addr = true;
		return true;
	}
	t->family = AF_INET;
	return inet_pton(AF_INET, host, t->addr) == 1;
}

enum match_kind {
	MATCH_NONE,
	MATCH_EXACT,        /* the address and port asked for */
	MATCH_PORT,         /* only a port was asked for */
	MATCH_WILDCARD,     /* no exact listener; 0.0.0.0 or :: on that port takes the connections */
};

static enum match_kind match(const struct target *t, const struct listener *l, bool wildcard_pass)
{
	if (l->port != t->port)
		return MATCH_NONE;
	if (t->any_addr)
		return MATCH_PORT;
	if (!wildcard_pass)
		return l->family == t->family && memcmp(l->addr, t->addr, addr_len(t->family)) == 0 ?
		       MATCH_EXACT : MATCH_NONE;
	/*
	 * A connection to 127.0.0.1:8080 lands on 0.0.0.0:8080, or on a
	 * dual-stack [::]:8080 (sock_diag does not say whether it is v6only,
	 * so it is offered as the candidate).
	 */
	if (listener_is_wildcard(l) && (l->family == t->family || (t->family == AF_INET && l->family == AF_INET6)))
		return MATCH_WILDCARD;
	return MATCH_NONE;
}

/* Append {step, text} to steps. Return: 0 or -1. */
__attribute__((format(printf, 3, 4)))
static int step(json_t *steps, const char *name, const char *fmt, ...)
{
	char text[STEP_TEXT_MAX];
	json_t *o = json_object();
	va_list ap;
	int rc = 0;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	rc |= put(o, "step", json_string(name));
	rc |= put(o, "text", jstr(text, sizeof(text)));
	return append(steps, finish(o, rc));
}

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
	/* owner_state is the first process's: a stopped owner explains a queue that never drains. */
	if (sw)
		snprintf(state, sizeof(state), "; %.*s[%d] %s", (int)sizeof(ow->procs[0].comm),
			 ow->procs[0].comm, ow->procs[0].pid, sw);
	/* Who runs it and how it was started: the account and the flags to change live there. */
	if (ow->user[0])
		snprintf(user, sizeof(user), ", user %.*s", (int)sizeof(ow->user), ow->user);
	if (ow->procs[0].cmdline[0])
		snprintf(cmd, sizeof(cmd), "; command: %.*s", (int)sizeof(ow->procs[0].cmdline),
			 ow->procs[0].cmdline);
	return step(steps, "listener", "%s held by %s%s%s%s%s", prefix, owners, unit, user, state, cmd);
}

static int step_backlog(json_t *steps, const struct tracked *tr, int64_t somaxconn)
{
	uint32_t b = tr->l.backlog;

	if (somaxconn < 0)
		return step(steps, "backlog", "effective backlog %" PRIu32 " = min(listen() backlog, "
			    "net.core.somaxconn); net.core.somaxconn could not be read", b);
	if ((int64_t)b == somaxconn)
		return step(steps, "backlog", "effective backlog %" PRIu32 " = min(listen() backlog, "
			    "net.core.somaxconn %" PRId64 "): clamped by net.core.somaxconn, the application "
			    "asked for %" PRIu32 " or more", b, somaxconn, b);
	if ((int64_t)b < somaxconn)
		return step(steps, "backlog", "effective backlog %" PRIu32 " = min(listen() backlog %" PRIu32
			    ", net.core.somaxconn %" PRId64 "): set by the application's listen() backlog",
			    b, b, somaxconn);
	/* The kernel reads somaxconn at listen() time; a later change waits for the next listen(). */
	return step(steps, "backlog", "effective backlog %" PRIu32 " is above net.core.somaxconn %" PRId64
		    " now in force: somaxconn was lowered after this socket's listen()", b, somaxconn);
}

static int step_queue(json_t *steps, const struct tracked *tr)
{
	unsigned full_hist = 0, n = tr->hist_len < TRACK_HISTORY ? tr->hist_len : TRACK_HISTORY;
	char hist[96] = "";

	for (unsigned k = 0; k < n; k++) {
		const struct tick_point *p = tracked_hist(tr, k);

		if (p && p->queue > p->backlog)
			full_hist++;
	}
	if (n > 0)
		snprintf(hist, sizeof(hist), "; full in %u of the last %u ticks", full_hist, n);
	if (tr->l.queue > tr->l.backlog)
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

static int step_drops(json_t *steps, const struct track *t, const struct tracked *tr)
{
	char host[96] = "";
	int64_t overflows;
	unsigned n;
	uint64_t recent = recent_drops(tr, &n);

	if (track_host_delta(t, "TcpExt.ListenOverflows", &overflows))
		snprintf(host, sizeof(host), "; host ListenOverflows +%" PRId64 " this tick", overflows);
	if (!tr->l.has_drops)
		return step(steps, "drops", "the kernel gave no drop counter for this listener "
			    "(no SK_MEMINFO)%s", host);
	if (tr->drops_total == 0)
		return step(steps, "drops", "listener dropped nothing since first seen%s", host);
	return step(steps, "drops", "listener dropped %" PRIu64 " since first seen (+%" PRIu32
		    " this tick, +%" PRIu64 " in the last %u ticks)%s",
		    tr->drops_total, tr->drops_delta, recent, n, host);
}

static int step_clients(json_t *steps, const struct tracked *tr, const struct limits *lim)
{
	if (!tr->l.has_drops || tr->drops_total == 0) {
		if (tr->l.queue > tr->l.backlog)
			return step(steps, "clients", "no drop counted yet, but the queue is full: the next "
				    "connection attempts will be dropped");
		return step(steps, "clients", "no connection attempt was dropped at this listener since it was first seen");
	}
	if (lim->tcp_abort_on_overflow == 1)
		return step(steps, "clients", "clients completing the handshake while the queue was full got "
			    "an immediate reset (ECONNRESET), because net.ipv4.tcp_abort_on_overflow = 1");
	return step(steps, "clients", "while the queue was full the kernel dropped SYNs and handshake ACKs: "
		    "clients saw connect() stall for 1 s, 3 s, 7 s... as they retransmitted, or time out; "
		    "no resets (net.ipv4.tcp_abort_on_overflow = %s)",
		    lim->tcp_abort_on_overflow == 0 ? "0" : "unknown");
}

/*
 * What one chain is about: a tracked listener (its findings by cookie or by
 * name), or a subject with no listener behind it: "host", an interface, a
 * destination, or an address:port whose listener is gone.
 */
struct chain_subject {
	const struct tracked *tr;     /* a listener chain; NULL for the others */
	enum finding_scope scope;     /* the others: the scope of key */
	const char *key;              /* the listener's name, or the finding key */
};

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

/* "5m ago", "2h 3m ago": how long before now_s. */
static void format_ago(int64_t now_s, int64_t then, char *buf, size_t len)
{
	int64_t d = now_s > then ? now_s - then : 0;

	if (d < 60)
		snprintf(buf, len, "%" PRId64 " s ago", d);
	else if (d < 3600)
		snprintf(buf, len, "%" PRId64 " min ago", d / 60);
	else if (d < 86400)
		snprintf(buf, len, "%" PRId64 " h %" PRId64 " min ago", d / 3600, d % 3600 / 60);
	else
		snprintf(buf, len, "%" PRId64 " d ago", d / 86400);
}

/* "1.5 s", "250 ms". */
static void format_msecs(int64_t ms, char *buf, size_t len)
{
	if (ms < 1000)
		snprintf(buf, len, "%" PRId64 " ms", ms);
	else
		snprintf(buf, len, "%.1f s", (double)ms / 1000.0);
}

/* A limit or count in a sentence: "?" when unknown. */
static const char *fmt_i64(int64_t v, char *buf, size_t len)
{
	if (v < 0)
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%" PRId64, v);
	return buf;
}

/* The active finding that f is a side effect of: on the same key when there is one, else anywhere. */
static const struct finding *find_cause_of(const struct monitor *m, const struct finding *f)
{
	const struct finding *any = NULL;

	for (size_t i = 0; i < m->findings.count; i++) {
		const struct finding_entry *e = &m->findings.items[i];

		if (e->state != FINDING_ACTIVE || (int)e->f.cause != f->explained_by || is_side_effect(&e->f))
			continue;
		if (strncmp(e->f.listener, f->listener, sizeof(f->listener)) == 0)
			return &e->f;
		if (!any)
			any = &e->f;
	}
	return any;
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

/* One finding's steps: the finding (or the side effect and what it follows from), its numbers, its detail. */
static int steps_one_finding(json_t *steps, const struct monitor *m, const struct finding *f)
{
	char extra[STEP_TEXT_MAX];
	int rc = 0;

	if (is_side_effect(f)) {
		const struct finding *c = find_cause_of(m, f);
		char where[LISTENER_NAME_MAX + 8] = "";

		if (c && strncmp(c->listener, f->listener, sizeof(f->listener)) != 0)
			snprintf(where, sizeof(where), " on %.*s", (int)sizeof(c->listener), c->listener);
		rc |= step(steps, "side effect", "%s (%s), side effect of %s%s: %.*s Fix: %.*s",
			   cause_name(f->cause), severity_name(f->priority),
			   cause_name((enum cause)f->explained_by), where,
			   (int)sizeof(f->message), f->message, (int)sizeof(f->remedy), f->remedy);
	} else {
		rc |= step(steps, "finding", "%s (%s): %.*s Fix: %.*s", cause_name(f->cause),
			   severity_name(f->priority), (int)sizeof(f->message), f->message,
			   (int)sizeof(f->remedy), f->remedy);
	}
	if (format_extra(f, extra, sizeof(extra)))
		rc |= step(steps, "evidence", "%s", extra);
	if (f->detail[0])
		rc |= step(steps, "detail", "%.*s", (int)sizeof(f->detail), f->detail);
	return rc;
}

/*
 * The finding steps for one subject, and its findings as JSON (active
 * first). The active ones are told primary cause first, each followed by
 * its own side effects; side effects of a cause elsewhere come last. A
 * subject with no active finding gets one step saying it is healthy.
 */
static int steps_findings(json_t *steps, json_t *findings, const struct monitor *m,
			  const struct chain_subject *cs, const char *what)
{
	char ago[48];
	const struct finding_entry *last_resolved = NULL;
	const struct finding_entry **v, **act = NULL;
	bool *done = NULL;
	size_t n, na = 0;
	int rc = 0;

	v = sorted_entries(&m->findings, &n);
	if (m->findings.count > 0 && !v)
		return -1;
	if (n > 0) {
		act = calloc(n, sizeof(*act));
		done = calloc(n, sizeof(*done));
		if (!act || !done) {
			rc = -1;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct finding_entry *e = v[i];

		if (!finding_is_for(&e->f, cs))
			continue;
		rc |= append(findings, report_finding_entry(e));
		if (e->state == FINDING_ACTIVE) {
			act[na++] = e;
		} else if (!last_resolved || e->resolved_at > last_resolved->resolved_at) {
			last_resolved = e;
		}
	}
	for (size_t i = 0; i < na; i++) {
		if (is_side_effect(&act[i]->f))
			continue;
		rc |= steps_one_finding(steps, m, &act[i]->f);
		done[i] = true;
		for (size_t j = 0; j < na; j++) {
			if (done[j] || !is_side_effect(&act[j]->f) || act[j]->f.explained_by != (int)act[i]->f.cause)
				continue;
			rc |= steps_one_finding(steps, m, &act[j]->f);
			done[j] = true;
		}
	}
	for (size_t j = 0; j < na; j++)
		if (!done[j])
			rc |= steps_one_finding(steps, m, &act[j]->f);
	if (na > 0)
		goto out;
	if (last_resolved) {
		format_ago(m->track.now_ms / 1000, last_resolved->resolved_at, ago, sizeof(ago));
		rc |= step(steps, "finding", "healthy: no active finding (%s resolved %s)",
			   cause_name(last_resolved->f.cause), ago);
	} else {
		rc |= step(steps, "finding", "healthy: no finding on %s", what);
	}
out:
	free(done);
	free(act);
	free(v);
	return rc;
}

/* The owner of a gap's listener, "tcpload[812]", or "an unknown process". */
static void format_owner1(const struct owner *ow, char *buf, size_t len)
{
	if (ow && owner_nprocs(ow) > 0 && ow->procs[0].pid > 0)
		snprintf(buf, len, "%.*s[%d]", (int)sizeof(ow->procs[0].comm), ow->procs[0].comm, ow->procs[0].pid);
	else
		snprintf(buf, len, "an unknown process");
}

/* One listener gap in words: how long, who held it before and after, what clients saw. */
static int step_gap(json_t *steps, const struct track *t, const struct listener_gap *g)
{
	const struct tracked *now = g->returned_ms > 0 && g->new_cookie ? track_find(t, g->new_cookie) : NULL;
	char before[OWNER_COMM_MAX + 24], after[OWNER_COMM_MAX + 24], len[32], ago[48], rsts[96] = "";

	format_owner1(&g->old_owner, before, sizeof(before));
	format_owner1(now ? tracked_owner(now) : NULL, after, sizeof(after));
	format_msecs(gap_ms(g, t->now_ms), len, sizeof(len));
	format_ago(t->now_ms / 1000, gap_noticed_ms(g) / 1000, ago, sizeof(ago));
	if (g->out_rsts >= 0)
		snprintf(rsts, sizeof(rsts), "; the host sent %" PRId64 " resets (Tcp.OutRsts) meanwhile", g->out_rsts);
	if (g->returned_ms <= 0)
		return step(steps, "gap", "%.*s has had no listener for %s (noticed %s; held by %s before): "
			    "connections to it are refused (ECONNREFUSED)%s",
			    (int)sizeof(g->listener), g->listener, len, ago, before, rsts);
	if (g->replaced)
		return step(steps, "gap", "%.*s was replaced by a new socket between two ticks (%s): %s "
			    "before, %s after; connections in between may have been refused%s",
			    (int)sizeof(g->listener), g->listener, ago, before, after, rsts);
	return step(steps, "gap", "%.*s had no listener for up to %s (%s): %s before, %s after; "
		    "connections in that window were refused (ECONNREFUSED)%s",
		    (int)sizeof(g->listener), g->listener, len, ago, before, after, rsts);
}

/* The most recent gap recorded on name, or NULL. */
static const struct listener_gap *latest_gap(const struct track *t, const char *name)
{
	size_t n = t->n_gaps < TRACK_GAPS_MAX ? t->n_gaps : TRACK_GAPS_MAX;

	for (size_t i = n; i-- > 0; )
		if (strncmp(t->gaps[i].listener, name, sizeof(t->gaps[i].listener)) == 0)
			return &t->gaps[i];
	return NULL;
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

		if (c->family != tr->l.family || c->port != tr->l.port ||
		    memcmp(c->addr, tr->l.addr, addr_len(c->family)) != 0)
			continue;
		return step(steps, "syn queue", "%" PRIu32 " connection%s half-open (SYN_RECV) on this address:port; "
			    "net.ipv4.tcp_max_syn_backlog %s, net.ipv4.tcp_syncookies %s",
			    c->count, c->count == 1 ? "" : "s",
			    fmt_i64(t->limits.tcp_max_syn_backlog, a, sizeof(a)),
			    fmt_i64(t->limits.tcp_syncookies, b, sizeof(b)));
	}
	return 0;
}

static json_t *explain_chain(const struct monitor *m, const struct tracked *tr,
			     const char *target, enum match_kind kind)
{
	static const char *const kinds[] = {
		[MATCH_NONE] = "none", [MATCH_EXACT] = "exact",
		[MATCH_PORT] = "port", [MATCH_WILDCARD] = "wildcard",
	};
	const struct limits *lim = monitor_limits(m);
	char name[LISTENER_NAME_MAX];
	struct chain_subject cs = { .tr = tr, .scope = SCOPE_LISTENER, .key = name };
	const struct listener_gap *g;
	json_t *o = json_object();
	json_t *steps = json_array();
	json_t *findings = json_array();
	int rc = 0;

	listener_name(&tr->l, name, sizeof(name));
	if (!steps || !findings) {
		rc = -1;
		goto out;
	}
	rc |= step_listener(steps, tr, target, kind);
	rc |= step_backlog(steps, tr, lim->somaxconn);
	rc |= step_queue(steps, tr);
	rc |= step_drops(steps, &m->track, tr);
	rc |= step_clients(steps, tr, lim);
	rc |= step_synrecv(steps, &m->track, tr);
	g = latest_gap(&m->track, name);
	if (g)
		rc |= step_gap(steps, &m->track, g);
	rc |= steps_findings(steps, findings, m, &cs, "this listener");
out:
	rc |= put(o, "match", json_string(kinds[kind]));
	rc |= put(o, "scope", json_string(scope_str(SCOPE_LISTENER)));
	rc |= put(o, "subject", JSTR(name));
	rc |= put(o, "listener", report_listener(tr));
	rc |= put(o, "steps", steps);
	rc |= put(o, "findings", findings);
	return finish(o, rc);
}

/* ---- explain: subjects other than a live listener ---- */

/* Host-wide sockets against their limits, conntrack, and what the kernel logged this tick. */
static int steps_host(json_t *steps, const struct track *t)
{
	const struct sockstat *ss = &t->hs_cur.ss;
	const struct limits *lim = &t->limits;
	const struct conntrack_stat *ct = &t->hs_cur.ct;
	char b[10][24];
	int rc = 0;

	if (!t->hs_cur.valid)
		return step(steps, "sockets", "no host-wide sample yet (sockstat, conntrack, interfaces)");
	rc |= step(steps, "sockets", "TCP sockets in use %s (IPv6 %s); orphaned %s of net.ipv4.tcp_max_orphans %s; "
		   "TIME_WAIT %s of net.ipv4.tcp_max_tw_buckets %s; memory %s pages, net.ipv4.tcp_mem "
		   "pressure at %s, hard limit %s",
		   fmt_i64(ss->tcp_inuse, b[0], 24), fmt_i64(ss->tcp6_inuse, b[1], 24),
		   fmt_i64(ss->tcp_orphan, b[2], 24), fmt_i64(lim->tcp_max_orphans, b[3], 24),
		   fmt_i64(ss->tcp_tw, b[4], 24), fmt_i64(lim->tcp_max_tw_buckets, b[5], 24),
		   fmt_i64(ss->tcp_mem, b[6], 24), fmt_i64(lim->tcp_mem[1], b[7], 24),
		   fmt_i64(lim->tcp_mem[2], b[8], 24));
	if (!ct->present) {
		rc |= step(steps, "conntrack", "no connection tracking table (nf_conntrack is not loaded)");
	} else {
		const struct conntrack_stat *pv = &t->hs_prev.ct;
		char drops[160] = "";

		if (ct->have_stat && t->hs_prev.valid && pv->have_stat)
			snprintf(drops, sizeof(drops), "; this tick: drop +%" PRIu64 ", early_drop +%" PRIu64
				 ", insert_failed +%" PRIu64,
				 ct->drop >= pv->drop ? ct->drop - pv->drop : 0,
				 ct->early_drop >= pv->early_drop ? ct->early_drop - pv->early_drop : 0,
				 ct->insert_failed >= pv->insert_failed ? ct->insert_failed - pv->insert_failed : 0);
		rc |= step(steps, "conntrack", "%s connections tracked of net.netfilter.nf_conntrack_max %s%s",
			   fmt_i64(ct->count, b[0], 24), fmt_i64(lim->nf_conntrack_max, b[1], 24), drops);
	}
	if (t->n_kmsg > 0) {
		char text[STEP_TEXT_MAX];
		size_t off = 0, n = t->n_kmsg < TRACK_KMSG_MAX ? t->n_kmsg : TRACK_KMSG_MAX;

		text[0] = '\0';
		for (size_t i = 0; i < n && off < sizeof(text); i++) {
			const struct kmsg_event *ev = &t->kmsg[i];
			int w;

			if (ev->kind == KMSG_SYN_FLOOD)
				w = snprintf(text + off, sizeof(text) - off, "%spossible SYN flooding on %.*s%sport %u (%s)",
					     off ? "; " : "", (int)strnlen(ev->addr, sizeof(ev->addr)), ev->addr,
					     ev->addr[0] ? " " : "", (unsigned)ev->port,
					     ev->cookies ? "sending cookies" : "dropping requests");
			else
				w = snprintf(text + off, sizeof(text) - off, "%s%s", off ? "; " : "",
					     kmsg_kind_name(ev->kind));
			if (w < 0)
				break;
			off += (size_t)w;
		}
		rc |= step(steps, "kernel", "the kernel logged this tick: %s", text);
	}
	return rc;
}

static int step_interface(json_t *steps, const struct track *t, const char *name)
{
	size_t n = t->hs_cur.links.count < LINKS_MAX ? t->hs_cur.links.count : LINKS_MAX;

	for (size_t i = 0; t->hs_cur.valid && i < n; i++) {
		const struct link_stat *ls = &t->hs_cur.links.items[i];
		const struct link_stat *p;
		char d[3][48];

		if (strncmp(ls->name, name, sizeof(ls->name)) != 0)
			continue;
		p = prev_link(t, ls);
		for (int k = 0; k < 3; k++)
			d[k][0] = '\0';
		if (p) {
			snprintf(d[0], sizeof(d[0]), " (+%" PRIu64 " this tick)",
				 ls->rx_dropped >= p->rx_dropped ? ls->rx_dropped - p->rx_dropped : 0);
			snprintf(d[1], sizeof(d[1]), " (+%" PRIu64 ")",
				 ls->rx_missed_errors >= p->rx_missed_errors ? ls->rx_missed_errors - p->rx_missed_errors : 0);
			snprintf(d[2], sizeof(d[2]), " (+%" PRIu64 ")",
				 ls->rx_fifo_errors >= p->rx_fifo_errors ? ls->rx_fifo_errors - p->rx_fifo_errors : 0);
		}
		return step(steps, "interface", "%.*s (ifindex %d): rx_dropped %" PRIu64 "%s, rx_missed_errors %"
			    PRIu64 "%s, rx_fifo_errors %" PRIu64 "%s, of %" PRIu64 " packets received",
			    (int)sizeof(ls->name), ls->name, ls->ifindex, ls->rx_dropped, d[0],
			    ls->rx_missed_errors, d[1], ls->rx_fifo_errors, d[2], ls->rx_packets);
	}
	return step(steps, "interface", "%s is not among the interfaces of the latest sample", name);
}

static int step_destination(json_t *steps, const struct track *t, const char *key)
{
	const struct deep_sample *ds = t->deep;
	size_t n;

	if (!ds)
		return step(steps, "destination", "no per-destination tally this tick: the deep tier runs only "
			    "when a cheap signal asks for it, or every few ticks");
	n = ds->n_dests < DEEP_TOP_DESTS ? ds->n_dests : DEEP_TOP_DESTS;
	for (size_t i = 0; i < n; i++) {
		const struct dest_count *d = &ds->dests[i];
		char name[LISTENER_NAME_MAX], range[96] = "";

		endpoint_name(d->family, d->addr, d->port, name, sizeof(name));
		if (strcmp(name, key) != 0)
			continue;
		if (ds->port_lo >= 0 && ds->port_hi >= ds->port_lo)
			snprintf(range, sizeof(range), " (net.ipv4.ip_local_port_range %" PRId64 "-%" PRId64
				 ": %" PRId64 " ports)", ds->port_lo, ds->port_hi, ds->port_hi - ds->port_lo + 1);
		return step(steps, "destination", "%s: %" PRIu32 " sockets towards it (established %" PRIu32
			    ", time_wait %" PRIu32 ", syn_sent %" PRIu32 ", other %" PRIu32 "), %" PRIu32
			    " of them on a local port from the ephemeral range%s",
			    name, d->total, d->established, d->time_wait, d->syn_sent, d->other,
			    d->in_port_range, range);
	}
	return step(steps, "destination", "%s is not among the %zu destinations with most sockets in this "
		    "tick's walk", key, n);
}

/* Steps for a subject with no live listener: its own numbers first, then its findings. */
static json_t *explain_subject_chain(const struct monitor *m, enum finding_scope scope, const char *key)
{
	static const char *const what[] = {
		[SCOPE_LISTENER] = "this address:port", [SCOPE_HOST] = "the host",
		[SCOPE_INTERFACE] = "this interface", [SCOPE_DESTINATION] = "this destination",
	};
	struct chain_subject cs = { .tr = NULL, .scope = scope, .key = key };
	const struct listener_gap *g;
	json_t *o = json_object();
	json_t *steps = json_array();
	json_t *findings = json_array();
	int rc = 0;

	if (!steps || !findings) {
		rc = -1;
		goto out;
	}
	switch (scope) {
	case SCOPE_HOST:
		rc |= steps_host(steps, &m->track);
		break;
	case SCOPE_INTERFACE:
		rc |= step_interface(steps, &m->track, key);
		break;
	case SCOPE_DESTINATION:
		rc |= step_destination(steps, &m->track, key);
		break;
	case SCOPE_LISTENER:
		rc |= step(steps, "listener", "no listener on %s now", key);
		g = latest_gap(&m->track, key);
		if (g)
			rc |= step_gap(steps, &m->track, g);
		break;
	}
	rc |= steps_findings(steps, findings, m, &cs,
			     (unsigned)scope < ARRAY_SIZE(what) ? what[scope] : "this subject");
out:
	rc |= put(o, "match", json_string("subject"));
	rc |= put(o, "scope", json_string(scope_str(scope)));
	rc |= put(o, "subject", jstr(key, strlen(key)));
	rc |= put(o, "listener", json_null());
	rc |= put(o, "steps", steps);
	rc |= put(o, "findings", findings);
	return finish(o, rc);
}

static bool same_endpoint(const struct target *a, const struct target *b)
{
	return a->family == b->family && a->port == b->port && memcmp(a->addr, b->addr, addr_len(a->family)) == 0;
}

/*
 * Whether a finding key answers target: the same text, or (for listener and
 * destination keys) the same address and port however written; a bare
 * port names a local port, so it matches listener keys only.
 */
static bool key_matches(const char *target, const struct target *tp, enum finding_scope scope, const char *key)
{
	struct target k;

	if (strcmp(key, target) == 0)
		return true;
	if (!tp || (scope != SCOPE_LISTENER && scope != SCOPE_DESTINATION) || !parse_target(key, &k))
		return false;
	if (tp->any_addr || k.any_addr)
		return scope == SCOPE_LISTENER && k.port == tp->port;
	return same_endpoint(&k, tp);
}

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
	const struct finding_entry **v;
	size_t n, ng = t->n_gaps < TRACK_GAPS_MAX ? t->n_gaps : TRACK_GAPS_MAX;
	size_t nl = t->hs_cur.links.count < LINKS_MAX ? t->hs_cur.links.count : LINKS_MAX;
	int rc = 0;

	if (strcmp(target, "host") == 0)
		rc |= subjects_add(sl, SCOPE_HOST, "host");
	v = sorted_entries(&m->findings, &n);
	if (m->findings.count > 0 && !v)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct finding *f = &v[i]->f;

		/* The key of a finding is NUL-terminated by diagnose; a damaged one is skipped, not read past. */
		if (!memchr(f->listener, '\0', sizeof(f->listener)))
			continue;
		if (key_matches(target, tp, f->scope, f->listener))
			rc |= subjects_add(sl, f->scope, f->listener);
	}
	free(v);
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

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Append a chain for every listener that matches t in this pass. Return: how many matched. */
static size_t add_listener_chains(const struct monitor *m, const struct tracked **v, const struct target *t,
				  const char *target, bool wildcard_pass, json_t *chains, int *rc)
{
	size_t matched = 0;

	for (size_t i = 0; v && i < m->track.count; i++) {
		enum match_kind k = match(t, &v[i]->l, wildcard_pass);

		if (k == MATCH_NONE)
			continue;
		matched++;
		if (!chains || append(chains, explain_chain(m, v[i], target, k)) < 0)
			*rc = -1;
	}
	return matched;
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
	struct subject_list sl = { 0 };
	struct target t;
	bool parsed;
	json_t *o, *chains;
	size_t matched = 0;
	int rc = 0;

	if (!target || !*target) {
		set_err(err, errlen, "bad target '': expected ADDR:PORT, [ADDR6]:PORT, *:PORT, PORT, "
			"host, an interface or a destination ADDR:PORT");
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
	if (matched == 0) {
		if (find_subjects(m, target, parsed ? &t : NULL, &sl) < 0)
			rc = -1;
		for (size_t i = 0; i < sl.count; i++) {
			matched++;
			if (!chains || append(chains, explain_subject_chain(m, sl.items[i].scope, sl.items[i].key)) < 0)
				rc = -1;
		}
		free(sl.items);
	}
	if (matched == 0 && parsed && !t.any_addr)
		matched = add_listener_chains(m, v, &t, target, true, chains, &rc);
	free(v);
	rc |= put(o, "chains", chains);
	if (matched == 0) {
		json_decref(o);
		if (parsed)
			set_err(err, errlen, "no listener on %s", target);
		else
			set_err(err, errlen, "bad target '%s': expected ADDR:PORT, [ADDR6]:PORT, *:PORT, PORT, "
				"host, an interface or a destination ADDR:PORT", target);
		return NULL;
	}
	o = finish(o, rc);
	if (!o)
		set_err(err, errlen, "out of memory explaining %s", target);
	return o;
}

/* ---- every namespace: the fleet ---- */

/*
 * The words of enum netns_kind, kept here rather than asking netns.c: the
 * documents must not depend on the namespace scanner being linked in, and
 * a value out of range must still print.
 */
static const char *kind_word(enum netns_kind k)
{
	switch (k) {
	case NETNS_HOST:
		return "host";
	case NETNS_NAMED:
		return "named";
	case NETNS_CONTAINER:
		return "container";
	case NETNS_PROCESS:
		return "process";
	}
	return "unknown";
}

/* A member's namespace as the fleet knows it, kind included. */
static struct ns_ref member_ns(const struct fleet_member *fm)
{
	return (struct ns_ref){ .inode = fm->ns.inode, .name = fm->ns.name, .kind = kind_word(fm->ns.kind) };
}

static int cmp_member_ptr(const void *pa, const void *pb)
{
	const struct fleet_member *a = *(const struct fleet_member *const *)pa;
	const struct fleet_member *b = *(const struct fleet_member *const *)pb;
	int c = strncmp(a->ns.name, b->ns.name, sizeof(a->ns.name));

	if (c)
		return c;
	return a->ns.inode < b->ns.inode ? -1 : a->ns.inode > b->ns.inode ? 1 : 0;
}

/*
 * The members in document order: the host (members[0]) first, the others by
 * name then inode, so that output does not reshuffle as namespaces come and
 * go. Return: a malloc'd array of *n pointers; NULL with *n = 0 when there
 * are none, or when out of memory (then *oom is set).
 */
static const struct fleet_member **ordered_members(const struct fleet *fl, size_t *n, bool *oom)
{
	const struct fleet_member **v;
	size_t k = 0;

	*n = 0;
	*oom = false;
	if (!fl->members || fl->count == 0)
		return NULL;
	v = calloc(fl->count, sizeof(*v));
	if (!v) {
		*oom = true;
		return NULL;
	}
	for (size_t i = 0; i < fl->count; i++)
		if (fl->members[i])
			v[k++] = fl->members[i];
	if (k > 1) {
		/* members[0] stays first only when it is there; a hole there leaves no host to pin. */
		size_t from = fl->members[0] ? 1 : 0;

		qsort(v + from, k - from, sizeof(*v), cmp_member_ptr);
	}
	*n = k;
	if (k == 0) {
		free(v);
		return NULL;
	}
	return v;
}

/* The host member, ready, or NULL: limits and host counters come from it. */
static const struct fleet_member *host_member(const struct fleet *fl)
{
	if (!fl->members || fl->count == 0 || !fl->members[0] || !fl->members[0]->ready)
		return NULL;
	return fl->members[0];
}

/* Member i's namespace refs, kept alive for as long as entries point at them. */
static struct ns_ref *member_refs(const struct fleet_member **v, size_t n)
{
	struct ns_ref *refs = n ? calloc(n, sizeof(*refs)) : NULL;

	for (size_t i = 0; refs && i < n; i++)
		refs[i] = member_ns(v[i]);
	return refs;
}

/* Append every ready member's listeners to a. Return: 0 or -1. */
static int fleet_append_listeners(json_t *a, const struct fleet_member **v, const struct ns_ref *refs, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i]->ready)
			rc |= append_listeners(a, &v[i]->mon.track, &refs[i]);
	return rc;
}

/* Append every ready member's findings to a, active first across namespaces. Return: 0 or -1. */
static int fleet_append_findings(json_t *a, const struct fleet_member **v, const struct ns_ref *refs, size_t n)
{
	struct entry_vec ev = { 0 };
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++)
		if (v[i]->ready)
			rc |= entries_add(&ev, &v[i]->mon.findings, &refs[i], i);
	if (rc == 0)
		rc |= append_entries(a, &ev);
	free(ev.items);
	return rc;
}

/* Return: one array built by fill over the ordered members, or NULL when anything is missing. */
static json_t *fleet_array(const struct fleet *fl,
			   int (*fill)(json_t *, const struct fleet_member **, const struct ns_ref *, size_t))
{
	size_t n;
	bool oom;
	const struct fleet_member **v = ordered_members(fl, &n, &oom);
	struct ns_ref *refs = member_refs(v, n);
	json_t *a = json_array();
	int rc = oom || (n > 0 && !refs) || !a ? -1 : 0;

	if (rc == 0)
		rc |= fill(a, v, refs, n);
	free(refs);
	free(v);
	return finish(a, rc);
}

/* Return: every namespace's listeners, flat, host first, each with "netns". */
json_t *report_fleet_listeners(const struct fleet *fl)
{
	return fleet_array(fl, fleet_append_listeners);
}

/* Return: every namespace's findings, flat, active first, each with "netns". */
json_t *report_fleet_findings(const struct fleet *fl)
{
	return fleet_array(fl, fleet_append_findings);
}

static int fleet_append_gaps(json_t *a, const struct fleet_member **v, const struct ns_ref *refs, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i]->ready)
			rc |= append_gaps(a, &v[i]->mon.track, &refs[i]);
	return rc;
}

/*
 * One entry of namespaces[]. A member whose monitor is not ready has no
 * numbers yet: they are null, not zero, so that "no listeners" is not
 * claimed for a namespace nobody has looked at.
 */
static json_t *report_namespace(const struct fleet_member *fm)
{
	const struct monitor *m = &fm->mon;
	bool ready = fm->ready;
	json_t *o = json_object();
	int rc = 0;

	rc |= put(o, "inode", fm->ns.inode ? ju64_int(fm->ns.inode) : json_null());
	rc |= put(o, "name", JSTR_OR_NULL(fm->ns.name));
	rc |= put(o, "kind", json_string(kind_word(fm->ns.kind)));
	rc |= put(o, "pid", fm->ns.pid > 0 ? json_integer(fm->ns.pid) : json_null());
	rc |= put(o, "ready", json_boolean(ready));
	rc |= put(o, "first_seen", fm->first_seen > 0 ? jint(fm->first_seen) : json_null());
	rc |= put(o, "ticks", ready ? json_integer((json_int_t)m->track.ticks) : json_null());
	rc |= put(o, "limits", ready ? report_limits(monitor_limits(m)) : json_null());
	rc |= put(o, "listeners_count", ready ? json_integer((json_int_t)m->track.count) : json_null());
	rc |= put(o, "findings_active", ready ?
		  json_integer((json_int_t)findings_active(&m->findings)) : json_null());
	rc |= put(o, "failed_ticks", ready ? json_integer((json_int_t)m->failed_ticks) : json_null());
	rc |= put(o, "last_error", ready && m->last_error ? json_string(strerror(-m->last_error)) : json_null());
	return finish(o, rc);
}

static int fleet_append_namespaces(json_t *a, const struct fleet_member **v, const struct ns_ref *refs, size_t n)
{
	int rc = 0;

	(void)refs;
	for (size_t i = 0; i < n; i++)
		rc |= append(a, report_namespace(v[i]));
	return rc;
}

/*
 * The host monitor's daemon object, with the counts summed over every
 * namespace (the header and the flat lists must agree) and the fleet's own
 * numbers. Without a ready host monitor, only what the fleet knows.
 */
static json_t *report_fleet_daemon(const struct fleet *fl, int64_t now)
{
	const struct fleet_member *host = host_member(fl);
	size_t listeners = 0, active = 0, n = 0;
	unsigned long fast_dumps = 0, fast_full = 0;
	json_t *o;
	int rc = 0;

	if (host) {
		o = report_daemon(&host->mon, now);
	} else {
		o = json_object();
		rc |= put(o, "version", json_string(PACKAGE_VERSION));
		rc |= put(o, "now", jint(now));
		rc |= put(o, "ticks", json_integer(0));
		rc |= put(o, "last_error", json_null());
	}
	if (!o)
		return NULL;
	for (size_t i = 0; fl->members && i < fl->count; i++) {
		const struct fleet_member *fm = fl->members[i];

		if (!fm)
			continue;
		n++;
		if (!fm->ready)
			continue;
		listeners += fm->mon.track.count;
		active += findings_active(&fm->mon.findings);
		fast_dumps += fm->mon.fast_dumps;
		fast_full += fm->mon.fast_full;
	}
	rc |= put(o, "fast_interval_ms", json_integer(fl->cfg.fast_ms));
	rc |= put(o, "fast_dumps", json_integer((json_int_t)fast_dumps));
	rc |= put(o, "fast_full", json_integer((json_int_t)fast_full));
	rc |= put(o, "listeners_count", json_integer((json_int_t)listeners));
	rc |= put(o, "findings_active", json_integer((json_int_t)active));
	rc |= put(o, "namespaces_count", json_integer((json_int_t)n));
	rc |= put(o, "scan", json_boolean(fl->scan));
	rc |= put(o, "scans", json_integer((json_int_t)fl->scans));
	rc |= put(o, "ns_added", json_integer((json_int_t)fl->ns_added));
	rc |= put(o, "ns_removed", json_integer((json_int_t)fl->ns_removed));
	rc |= put(o, "scan_error", fl->last_scan_error ? json_string(strerror(-fl->last_scan_error)) : json_null());
	return finish(o, rc);
}

/* Return: the status of every namespace at now (wall clock, seconds); see report.h. */
json_t *report_fleet_status(const struct fleet *fl, int64_t now)
{
	const struct fleet_member *host = host_member(fl);
	json_t *o = json_object();
	int rc = 0;

	rc |= put(o, "daemon", report_fleet_daemon(fl, now));
	rc |= put(o, "limits", host ? report_limits(monitor_limits(&host->mon)) : json_null());
	rc |= put(o, "host", host ? report_host(&host->mon.track) : json_null());
	rc |= put(o, "listeners", fleet_array(fl, fleet_append_listeners));
	rc |= put(o, "findings", fleet_array(fl, fleet_append_findings));
	rc |= put(o, "gaps", fleet_array(fl, fleet_append_gaps));
	rc |= put(o, "namespaces", fleet_array(fl, fleet_append_namespaces));
	return finish(o, rc);
}

/* ---- explain across namespaces ---- */

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
static int chain_rank(const json_t *chain)
{
	const char *m = json_string_value(json_object_get(chain, "match"));

	if (!m || strcmp(m, "subject") == 0)
		return 1;
	if (strcmp(m, "wildcard") == 0)
		return 2;
	return 0;
}

#define RANK_NONE 3

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
	if (rank != 1 || !subjects_filtered)
		return true;
	return from_host || json_array_size(json_object_get(chain, "findings")) > 0;
}

/* Explain target in every ready namespace. Return: the document, or NULL with err set. */
static json_t *explain_everywhere(const struct fleet *fl, const struct fleet_member **v, size_t n,
				  const char *target, char *err, size_t errlen)
{
	json_t **xs = calloc(n ? n : 1, sizeof(*xs));
	json_t *o = NULL, *chains = NULL, *c;
	char first_err[512] = "", e[512];
	int best = RANK_NONE, rc = 0;
	size_t ready = 0, kept_subjects = 0, i;

	if (!xs) {
		set_err(err, errlen, "out of memory explaining %s", target);
		return NULL;
	}
	for (size_t k = 0; k < n; k++) {
		if (!v[k]->ready)
			continue;
		ready++;
		e[0] = '\0';
		xs[k] = report_explain(&v[k]->mon, target, e, sizeof(e));
		if (!xs[k] && !first_err[0])
			snprintf(first_err, sizeof(first_err), "%s", e);
		json_array_foreach(json_object_get(xs[k], "chains"), i, c)
			if (chain_rank(c) < best)
				best = chain_rank(c);
	}
	/* Subjects: is there one the host or a finding vouches for? Otherwise every namespace's is kept. */
	for (size_t k = 0; best == 1 && k < n; k++)
		json_array_foreach(json_object_get(xs[k], "chains"), i, c)
			if (chain_rank(c) == 1 && keep_chain(c, 1, v[k] == fl->members[0], true))
				kept_subjects++;
	if (best == RANK_NONE) {
		if (ready == 0)
			set_err(err, errlen, "no namespace is watched yet");
		else if (ready > 1 && strncmp(first_err, "no listener on ", 15) == 0)
			set_err(err, errlen, "%s in any of the %zu namespaces", first_err, ready);
		else
			set_err(err, errlen, "%s", first_err);
		goto out;
	}
	o = json_object();
	chains = json_array();
	rc |= put(o, "target", jstr(target, strlen(target)));
	rc |= put(o, "netns", json_null());
	for (size_t k = 0; chains && k < n; k++) {
		struct ns_ref ns;

		if (!xs[k])
			continue;
		ns = member_ns(v[k]);
		json_array_foreach(json_object_get(xs[k], "chains"), i, c) {
			int r = chain_rank(c);

			if (r != best || !keep_chain(c, r, v[k] == fl->members[0], kept_subjects > 0))
				continue;
			rc |= tag_chain(c, &ns);
			rc |= append(chains, json_incref(c));
		}
	}
	rc |= put(o, "chains", chains);
	o = finish(o, rc);
	if (!o)
		set_err(err, errlen, "out of memory explaining %s", target);
out:
	for (size_t k = 0; k < n; k++)
		json_decref(xs[k]);
	free(xs);
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
