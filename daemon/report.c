/* report.c: the JSON documents of the control protocol and backlogctl --json. */
#include "version.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>

#include "diagnose.h"
#include "findings.h"
#include "listener.h"
#include "monitor.h"
#include "netstat.h"
#include "report.h"
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

/* Return: the limits object; unknown limits are null. */
json_t *report_limits(const struct limits *lim)
{
	json_t *o = json_object();
	int rc = 0;

	rc |= put(o, "somaxconn", jint_or_null(lim->somaxconn));
	rc |= put(o, "tcp_max_syn_backlog", jint_or_null(lim->tcp_max_syn_backlog));
	rc |= put(o, "tcp_syncookies", jint_or_null(lim->tcp_syncookies));
	rc |= put(o, "tcp_abort_on_overflow", jint_or_null(lim->tcp_abort_on_overflow));
	return finish(o, rc);
}

static unsigned owner_nprocs(const struct owner *ow)
{
	return ow->nprocs > OWNER_MAX_PROCS ? OWNER_MAX_PROCS : ow->nprocs;
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
	total = tr->owner.nprocs_total > tr->owner.nprocs ? tr->owner.nprocs_total : tr->owner.nprocs;

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
	rc |= put(o, "ticks_seen", json_integer(tr->ticks_seen));
	rc |= put(o, "inode", json_integer(l->inode));
	rc |= put(o, "cookie", ju64_string(l->cookie));
	rc |= put(o, "uid", json_integer(l->uid));
	rc |= put(o, "processes", report_processes(&tr->owner));
	rc |= put(o, "processes_total", json_integer(total));
	rc |= put(o, "owner_state", jstate(tr->owner_state));
	rc |= put(o, "unit", JSTR_OR_NULL(tr->owner.unit));
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

/* Return: the array of listeners, sorted by port then address. */
json_t *report_listeners(const struct track *t)
{
	const struct tracked **v = sorted_tracked(t);
	json_t *a = json_array();
	int rc = 0;

	if (t->count > 0 && !v)
		rc = -1;
	for (size_t i = 0; v && i < t->count; i++)
		rc |= append(a, report_listener(v[i]));
	free(v);
	return finish(a, rc);
}

static json_t *report_evidence(const struct finding_evidence *ev)
{
	json_t *o = json_object();
	int rc = 0;

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
	rc |= put(o, "message", JSTR(f->message));
	rc |= put(o, "remedy", JSTR(f->remedy));
	rc |= put(o, "knob", report_knob(f));
	rc |= put(o, "state", json_string(state ? state : "active"));
	rc |= put(o, "first_seen", jint(first_seen));
	rc |= put(o, "last_seen", jint(last_seen));
	rc |= put(o, "evidence", report_evidence(&f->ev));
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

/* Return: the array of findings, active first, each group by first_seen. */
json_t *report_findings(const struct finding_table *ft)
{
	size_t n;
	const struct finding_entry **v = sorted_entries(ft, &n);
	json_t *a = json_array();
	int rc = 0;

	if (ft->count > 0 && !v)
		rc = -1;
	for (size_t i = 0; i < n; i++)
		rc |= append(a, report_finding_entry(v[i]));
	free(v);
	return finish(a, rc);
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

/* Return: {interval_s, counters:{Name:{total, delta, per_sec}}}; absent counters are left out. */
json_t *report_host(const struct track *t)
{
	double interval = host_interval_s(t);
	json_t *o = json_object();
	json_t *counters = json_object();
	int rc = 0;

	for (size_t i = 0; i < sizeof(host_counter_names) / sizeof(host_counter_names[0]); i++) {
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
	return finish(o, rc);
}

/* Return: {daemon, limits, host, listeners, findings} at now (wall clock, seconds). */
json_t *report_status(const struct monitor *m, int64_t now)
{
	json_t *o = json_object();
	int rc = 0;

	rc |= put(o, "daemon", report_daemon(m, now));
	rc |= put(o, "limits", report_limits(monitor_limits(m)));
	rc |= put(o, "host", report_host(&m->track));
	rc |= put(o, "listeners", report_listeners(&m->track));
	rc |= put(o, "findings", report_findings(&m->findings));
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

static size_t addr_len(uint8_t family)
{
	return family == AF_INET ? 4 : 16;
}

static bool is_wildcard(const struct listener *l)
{
	static const uint8_t zero[16];

	return memcmp(l->addr, zero, addr_len(l->family)) == 0;
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
	if (is_wildcard(l) && (l->family == t->family || (t->family == AF_INET && l->family == AF_INET6)))
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
	const struct owner *ow = &tr->owner;
	char name[LISTENER_NAME_MAX], owners[512], prefix[192], unit[OWNER_UNIT_MAX + 4] = "";
	char state[OWNER_COMM_MAX + 64] = "";
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
	return step(steps, "listener", "%s held by %s%s%s", prefix, owners, unit, state);
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

static bool finding_is_for(const struct finding *f, const struct tracked *tr, const char *name)
{
	if (f->cookie != 0 && f->cookie == tr->l.cookie)
		return true;
	return strncmp(f->listener, name, sizeof(f->listener)) == 0;
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

/*
 * The finding steps for tr, and its findings as JSON (active first). A
 * listener with no active finding gets one step saying it is healthy.
 */
static int steps_findings(json_t *steps, json_t *findings, const struct monitor *m,
			  const struct tracked *tr)
{
	char name[LISTENER_NAME_MAX], ago[48];
	const struct finding_entry *last_resolved = NULL;
	const struct finding_entry **v;
	size_t n, active = 0;
	int rc = 0;

	listener_name(&tr->l, name, sizeof(name));
	v = sorted_entries(&m->findings, &n);
	if (m->findings.count > 0 && !v)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct finding_entry *e = v[i];
		const struct finding *f = &e->f;

		if (!finding_is_for(f, tr, name))
			continue;
		rc |= append(findings, report_finding_entry(e));
		if (e->state != FINDING_ACTIVE) {
			if (!last_resolved || e->resolved_at > last_resolved->resolved_at)
				last_resolved = e;
			continue;
		}
		active++;
		rc |= step(steps, "finding", "%s (%s): %.*s Fix: %.*s", cause_name(f->cause),
			   severity_name(f->priority), (int)sizeof(f->message), f->message,
			   (int)sizeof(f->remedy), f->remedy);
	}
	free(v);
	if (active > 0)
		return rc;
	if (last_resolved) {
		format_ago(m->track.now_ms / 1000, last_resolved->resolved_at, ago, sizeof(ago));
		return rc | step(steps, "finding", "healthy: no active finding (%s resolved %s)",
				 cause_name(last_resolved->f.cause), ago);
	}
	return rc | step(steps, "finding", "healthy: no finding on this listener");
}

static json_t *explain_chain(const struct monitor *m, const struct tracked *tr,
			     const char *target, enum match_kind kind)
{
	static const char *const kinds[] = {
		[MATCH_NONE] = "none", [MATCH_EXACT] = "exact",
		[MATCH_PORT] = "port", [MATCH_WILDCARD] = "wildcard",
	};
	const struct limits *lim = monitor_limits(m);
	json_t *o = json_object();
	json_t *steps = json_array();
	json_t *findings = json_array();
	int rc = 0;

	if (!steps || !findings) {
		rc = -1;
		goto out;
	}
	rc |= step_listener(steps, tr, target, kind);
	rc |= step_backlog(steps, tr, lim->somaxconn);
	rc |= step_queue(steps, tr);
	rc |= step_drops(steps, &m->track, tr);
	rc |= step_clients(steps, tr, lim);
	rc |= steps_findings(steps, findings, m, tr);
out:
	rc |= put(o, "match", json_string(kinds[kind]));
	rc |= put(o, "listener", report_listener(tr));
	rc |= put(o, "steps", steps);
	rc |= put(o, "findings", findings);
	return finish(o, rc);
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

/*
 * The evidence chain for target ("127.0.0.1:8080", "[::1]:443", "*:8080",
 * "8080"): {target, chains:[{match, listener, steps:[{step, text}], findings}]}.
 * A port-only target may match several listeners, hence always an array.
 * An address with no listener of its own falls back to the wildcard
 * listener on that port, which is where its connections go.
 * Return: the document, or NULL with err set (no match, bad target, out of memory).
 */
json_t *report_explain(const struct monitor *m, const char *target, char *err, size_t errlen)
{
	const struct tracked **v;
	struct target t;
	json_t *o, *chains;
	size_t matched = 0;
	int rc = 0;

	if (!target || !parse_target(target, &t)) {
		set_err(err, errlen, "bad target '%s': expected ADDR:PORT, [ADDR6]:PORT, *:PORT or PORT",
			target ? target : "");
		return NULL;
	}
	v = sorted_tracked(&m->track);
	if (m->track.count > 0 && !v) {
		set_err(err, errlen, "out of memory explaining %s", target);
		return NULL;
	}
	o = json_object();
	chains = json_array();
	rc |= put(o, "target", jstr(target, strlen(target)));
	for (int pass = 0; pass < 2 && matched == 0; pass++) {
		for (size_t i = 0; i < m->track.count; i++) {
			enum match_kind k = match(&t, &v[i]->l, pass == 1);

			if (k == MATCH_NONE)
				continue;
			matched++;
			if (!chains || append(chains, explain_chain(m, v[i], target, k)) < 0)
				rc = -1;
		}
		if (t.any_addr)
			break;
	}
	free(v);
	rc |= put(o, "chains", chains);
	if (matched == 0) {
		json_decref(o);
		set_err(err, errlen, "no listener on %s", target);
		return NULL;
	}
	o = finish(o, rc);
	if (!o)
		set_err(err, errlen, "out of memory explaining %s", target);
	return o;
}
