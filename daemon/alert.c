/* alert.c: one journal record per finding opening and per resolution. */
#include <stdarg.h>
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

/* One MESSAGE_ID for every resolution, so `journalctl MESSAGE_ID=` finds them all. */
#define ALERT_RESOLVED_MESSAGE_ID "5b0e8a3c2f4d4e6f9a1b7c8d9e0f1a2b"
#define ALERT_MAX_FIELDS 24
#define ALERT_FIELD_MAX 1024

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

/* Without a journal the same record goes to stderr with an sd-daemon prefix. */
static void to_stderr(int priority, const char *message)
{
	fprintf(stderr, "<%d>backlogd: %s\n", priority, message);
}

void alert_emit(const struct finding_entry *e, bool opened)
{
	const struct finding *f = &e->f;
	const char *code = cause_code(f->cause);
	struct record *r;
	char message[2 * FINDING_TEXT_MAX + 256];
	int priority = opened ? f->priority : LOG_INFO;
	int ret = -1;

	if (opened)
		snprintf(message, sizeof(message), "%s on %s: %s Fix: %s",
			 code, f->subject, f->message, f->remedy);
	else
		snprintf(message, sizeof(message), "resolved: %s on %s, no drops for the quiet period (active %lld s)",
			 code, f->subject, (long long)(e->last_seen - e->first_seen));

	r = calloc(1, sizeof(*r));
	if (r) {
		field(r, "MESSAGE=%s", message);
		field(r, "MESSAGE_ID=%s", opened ? cause_message_id(f->cause) : ALERT_RESOLVED_MESSAGE_ID);
		field(r, "PRIORITY=%d", priority);
		field(r, "SYSLOG_IDENTIFIER=backlogd");
		field(r, "BACKLOGD_CAUSE=%s", code);
		if (f->underlying != f->cause)
			field(r, "BACKLOGD_UNDERLYING=%s", cause_code(f->underlying));
		field(r, "BACKLOGD_STATE=%s", opened ? "open" : "resolved");
		field(r, "BACKLOGD_LISTENER=%s", f->listener);
		field(r, "BACKLOGD_SUBJECT=%s", f->subject);
		if (f->pid > 0) {
			field(r, "BACKLOGD_PID=%d", f->pid);
			field(r, "BACKLOGD_COMM=%s", f->comm);
		}
		if (f->unit[0])
			field(r, "BACKLOGD_UNIT=%s", f->unit);
		field(r, "BACKLOGD_DROPS=%llu", (unsigned long long)f->ev.drops_total);
		field(r, "BACKLOGD_DROPS_DELTA=%u", f->ev.drops_delta);
		field(r, "BACKLOGD_QUEUE=%u", f->ev.queue);
		field(r, "BACKLOGD_BACKLOG=%u", f->ev.backlog);
		field(r, "BACKLOGD_PEAK_QUEUE=%u", f->ev.peak_queue);
		field(r, "BACKLOGD_TICKS_FULL=%u", f->ev.ticks_full);
		if (f->ev.somaxconn >= 0)
			field(r, "BACKLOGD_SOMAXCONN=%lld", (long long)f->ev.somaxconn);
		if (f->ev.abort_on_overflow >= 0)
			field(r, "BACKLOGD_ABORT_ON_OVERFLOW=%lld", (long long)f->ev.abort_on_overflow);
		field(r, "BACKLOGD_REMEDY=%s", f->remedy);
		if (f->knob[0])
			field(r, "BACKLOGD_KNOB=%s", f->knob);
		ret = sd_journal_sendv(r->iov, r->n);
		free(r);
	}
	if (ret < 0 || alert_to_stderr)
		to_stderr(priority, message);
}
