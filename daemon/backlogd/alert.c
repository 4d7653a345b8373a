/* alert.c: one journal record per finding opening, revision and resolution. */
#include "base.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "alert.h"
#include "diagnose.h"
#include "finding_text.h"
#include "safe_text.h"

/* One MESSAGE_ID for every resolution, so `journalctl MESSAGE_ID=` finds them all. */
#define ALERT_RESOLVED_MESSAGE_ID "5b0e8a3c2f4d4e6f9a1b7c8d9e0f1a2b"
/* The fixed fields, the scope, namespace and owner ones, and one per extra[] evidence item. */
#define ALERT_MAX_FIELDS (40 + FINDING_EXTRA_MAX)
/* "BACKLOGD_DETAIL=" plus the longest detail, and MESSAGE with message, remedy and namespace, fit whole. */
#define ALERT_MESSAGE_MAX (2 * FINDING_WORDS_MAX + FINDING_SUBJECT_MAX + 256 + 128)
#define ALERT_FIELD_MAX (ALERT_MESSAGE_MAX + 64 > FINDING_DETAIL_MAX + 64 ? \
			 ALERT_MESSAGE_MAX + 64 : FINDING_DETAIL_MAX + 64)
/* The journal refuses field names longer than this. */
#define ALERT_NAME_MAX 64

static bool alert_to_stderr;

void alert_init(bool to_stderr)
{
	alert_to_stderr = to_stderr;
}

struct record {
	struct iovec iov[ALERT_MAX_FIELDS];
	char buf[ALERT_MAX_FIELDS][ALERT_FIELD_MAX];
	int n;
};

static void field(struct record *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void field(struct record *r, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (r->n == ALERT_MAX_FIELDS)
		return;
	va_start(ap, fmt);
	len = vsnprintf(r->buf[r->n], ALERT_FIELD_MAX, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	if (len >= ALERT_FIELD_MAX)
		len = ALERT_FIELD_MAX - 1;
	r->iov[r->n].iov_base = r->buf[r->n];
	r->iov[r->n].iov_len = (size_t)len;
	r->n++;
}

/* Return: true when the record already has a field called name (NAME=...). */
static bool has_field(const struct record *r, const char *name, size_t len)
{
	for (int i = 0; i < r->n; i++)
		if (r->iov[i].iov_len > len && memcmp(r->buf[i], name, len) == 0 && r->buf[i][len] == '=')
			return true;
	return false;
}

/*
 * BACKLOGD_<NAME> for each extra[] evidence item: upper case, anything but
 * [A-Z0-9_] made an underscore, at most ALERT_NAME_MAX characters as the
 * journal demands. A name that would repeat a field already sent (an item
 * called "drops") is left out rather than give the field two values.
 */
static void extra_fields(struct record *r, const struct finding *f)
{
	size_t n = f->n_extra < FINDING_EXTRA_MAX ? f->n_extra : FINDING_EXTRA_MAX;

	for (size_t i = 0; i < n; i++) {
		const char *src = f->extra[i].name;
		size_t len = strnlen(src, sizeof(f->extra[i].name));
		char name[ALERT_NAME_MAX + 1] = "BACKLOGD_";
		size_t off = strlen(name);

		if (len == 0)
			continue;
		for (size_t k = 0; k < len && off < ALERT_NAME_MAX; k++) {
			char c = src[k];

			if (c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
				c = '_';
			name[off++] = c;
		}
		name[off] = '\0';
		if (has_field(r, name, off))
			continue;
		field(r, "%s=%lld", name, (long long)f->extra[i].value);
	}
}

/*
 * Without a journal the same record goes to stderr with an sd-daemon
 * prefix. The journal's fields keep the names exact; this line is
 * neutralised, so a process or unit name cannot end it, start a forged
 * "<N>" line or reach a terminal as an escape.
 */
static void to_stderr(int priority, const char *message)
{
	char line[ALERT_MESSAGE_MAX];

	safe_text(line, sizeof(line), message, strlen(message));
	fprintf(stderr, "<%d>backlogd: %s\n", priority, line);
}

/* Return: the cause f is a side effect of, or NULL when it is a cause in its own right. */
static const char *side_effect_of(const struct finding *f)
{
	return finding_is_side_effect(f) ? cause_code(f->explained_by) : NULL;
}

/*
 * Whether f is about backlogd's own namespace. The monitor stamps only an
 * inode and a name, and the fleet names its own namespace "host"; an
 * unstamped finding (one monitor, no fleet) is the host's too.
 */
static bool in_host_netns(const struct finding *f)
{
	size_t len = strnlen(f->netns_name, sizeof(f->netns_name));

	return len == 0 || (len == 4 && memcmp(f->netns_name, "host", 4) == 0);
}

/* "open", "revised", "resolved": BACKLOGD_STATE. */
static const char *event_state(enum finding_event ev)
{
	return ev == FINDING_EVENT_OPENED ? "open" : ev == FINDING_EVENT_REVISED ? "revised" : "resolved";
}

/*
 * One journal record for e opening, being revised or resolving. A side
 * effect gets its own record, at notice at most: the record of its cause is
 * the one to act on. Its words come from finding_words(), which says once
 * that it is a side effect; the record adds none of its own. A revision is
 * the new verdict's record, saying which it replaces; its message says why.
 */
void alert_message(const struct finding_entry *e, enum finding_event ev, char *buf, size_t len)
{
	const struct finding *f = &e->f;
	const char *code = cause_code(f->cause);
	char where[sizeof(f->netns_name) + 4] = "";
	struct finding_words w;

	if (!code)
		code = "unknown";
	/* The same address in two namespaces is two listeners: the text must say which. */
	if (!in_host_netns(f))
		snprintf(where, sizeof(where), "[%.*s] ", (int)sizeof(f->netns_name), f->netns_name);
	finding_words(f, &w);
	if (ev == FINDING_EVENT_OPENED)
		snprintf(buf, len, "%s%s on %s: %s Fix: %s", where, code, f->subject, w.message, w.remedy);
	else if (ev == FINDING_EVENT_REVISED)
		snprintf(buf, len, "%s%s on %s (revised from %s): %s Fix: %s", where, code, f->subject,
			 cause_code(e->revised_from) ? cause_code(e->revised_from) : "unknown",
			 w.message, w.remedy);
	else
		snprintf(buf, len, "%sresolved: %s on %s, not seen for the quiet period (active %lld s)",
			 where, code, f->subject, (long long)(e->last_seen - e->first_seen));
}

void alert_emit(const struct finding_entry *e, enum finding_event ev)
{
	bool opened = ev != FINDING_EVENT_RESOLVED;
	const struct finding *f = &e->f;
	const char *code = cause_code(f->cause);
	const char *by = side_effect_of(f);
	const char *scope = scope_name(f->scope);
	struct finding_words w;
	struct record *r;
	char message[ALERT_MESSAGE_MAX];
	char clients[FINDING_CLIENTS_WORDS_MAX];
	/* The severities are syslog's priorities (causes.h). */
	int priority = opened ? (int)f->priority : LOG_INFO;
	int ret = -1;

	if (!code)
		code = "unknown";
	if (by && priority < LOG_NOTICE)
		priority = LOG_NOTICE;
	alert_message(e, ev, message, sizeof(message));
	finding_words(f, &w);

	r = calloc(1, sizeof(*r));
	if (r) {
		field(r, "MESSAGE=%s", message);
		field(r, "MESSAGE_ID=%s", opened ? cause_message_id(f->cause) : ALERT_RESOLVED_MESSAGE_ID);
		field(r, "PRIORITY=%d", priority);
		field(r, "SYSLOG_IDENTIFIER=backlogd");
		field(r, "BACKLOGD_CAUSE=%s", code);
		if (f->underlying != f->cause)
			field(r, "BACKLOGD_UNDERLYING=%s", cause_code(f->underlying));
		field(r, "BACKLOGD_STATE=%s", event_state(ev));
		if (ev == FINDING_EVENT_REVISED && cause_code(e->revised_from))
			field(r, "BACKLOGD_REVISED_FROM=%s", cause_code(e->revised_from));
		field(r, "BACKLOGD_SCOPE=%s", scope ? scope : "unknown");
		if (by)
			field(r, "BACKLOGD_EXPLAINED_BY=%s", by);
		/* The finding's key whatever its scope: catalog texts and filters use one field. */
		field(r, "BACKLOGD_LISTENER=%s", f->listener);
		if (f->scope == SCOPE_INTERFACE)
			field(r, "BACKLOGD_INTERFACE=%s", f->listener);
		else if (f->scope == SCOPE_DESTINATION)
			field(r, "BACKLOGD_DESTINATION=%s", f->listener);
		field(r, "BACKLOGD_SUBJECT=%s", f->subject);
		if (f->pid > 0) {
			field(r, "BACKLOGD_PID=%d", f->pid);
			field(r, "BACKLOGD_COMM=%s", f->comm);
		}
		if (f->unit[0])
			field(r, "BACKLOGD_UNIT=%s", f->unit);
		if (f->user[0]) {
			field(r, "BACKLOGD_USER=%.*s", (int)sizeof(f->user), f->user);
			if (f->uid >= 0)
				field(r, "BACKLOGD_UID=%lld", (long long)f->uid);
		}
		if (f->cmdline[0])
			field(r, "BACKLOGD_CMDLINE=%.*s", (int)sizeof(f->cmdline), f->cmdline);
		/* Every record says its namespace, so one filter finds a container's history. */
		if (f->netns_inode)
			field(r, "BACKLOGD_NETNS=%llu", (unsigned long long)f->netns_inode);
		field(r, "BACKLOGD_NETNS_NAME=%.*s", (int)sizeof(f->netns_name),
		      in_host_netns(f) && !f->netns_name[0] ? "host" : f->netns_name);
		/* The accept-queue numbers describe a listener; on a host or an interface they would be zeros. */
		if (f->scope == SCOPE_LISTENER) {
			field(r, "BACKLOGD_DROPS=%llu", (unsigned long long)f->ev.drops_total);
			field(r, "BACKLOGD_DROPS_DELTA=%u", f->ev.drops_delta);
			field(r, "BACKLOGD_QUEUE=%u", f->ev.queue);
			field(r, "BACKLOGD_BACKLOG=%u", f->ev.backlog);
			field(r, "BACKLOGD_PEAK_QUEUE=%u", f->ev.peak_queue);
			field(r, "BACKLOGD_TICKS_FULL=%u", f->ev.ticks_full);
		}
		if (f->ev.somaxconn >= 0)
			field(r, "BACKLOGD_SOMAXCONN=%lld", (long long)f->ev.somaxconn);
		if (f->ev.abort_on_overflow >= 0)
			field(r, "BACKLOGD_ABORT_ON_OVERFLOW=%lld", (long long)f->ev.abort_on_overflow);
		field(r, "BACKLOGD_REMEDY=%s", w.remedy);
		if (f->knob[0])
			field(r, "BACKLOGD_KNOB=%s", f->knob);
		if (f->detail[0])
			field(r, "BACKLOGD_DETAIL=%.*s", (int)sizeof(f->detail), f->detail);
		/* Who the eBPF tier saw dropped (or refused, for a gap); absent when the tier did not. */
		if (f->clients.known) {
			finding_clients_words(f, clients, sizeof(clients));
			field(r, "BACKLOGD_CLIENTS=%s", clients);
		}
		extra_fields(r, f);
		ret = sd_journal_sendv(r->iov, r->n);
		free(r);
	}
	if (ret < 0 || alert_to_stderr)
		to_stderr(priority, message);
}
