/* finding_log.c: a bounded ring of finding events, oldest overwritten, each a compact record of the finding's words. */
#include "base.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "finding_log.h"
#include "finding_text.h"
#include "safe_text.h"

_Static_assert(sizeof(struct finding_log_event) <= FINDING_LOG_EVENT_MAX,
	       "a log event outgrew the bound the README states");
_Static_assert(FINDING_LOG_TEXT_MAX <= UINT16_MAX, "remedy_off is 16 bits");

/* What marks text cut short: U+2026 HORIZONTAL ELLIPSIS. */
#define CUT_MARK "\xe2\x80\xa6"

void finding_log_init(struct finding_log *log, size_t capacity, int64_t started)
{
	memset(log, 0, sizeof(*log));
	log->capacity = capacity ? capacity : 1;
	log->started = started;
}

void finding_log_free(struct finding_log *log)
{
	free(log->ring);
	finding_log_init(log, log->capacity, log->started);
}

/*
 * Copy s into out[size], made safe for a terminal; text longer than fits
 * ends at a whole character followed by "…". Return: the length written.
 */
static size_t clip(char *out, size_t size, const char *s)
{
	size_t len = strlen(s), n;

	/* safe_text never lengthens: what fits before fits after. */
	if (len < size)
		return safe_text(out, size, s, len);
	n = safe_text(out, size - (sizeof(CUT_MARK) - 1), s, len);
	memcpy(out + n, CUT_MARK, sizeof(CUT_MARK));
	return n + sizeof(CUT_MARK) - 1;
}

/*
 * The message and the remedy into one buffer: both whole when they fit,
 * else the shorter whole if it takes no more than half, and the longer
 * cut to the rest; two long ones get half each.
 */
static void keep_words(struct finding_log_event *ev, const struct finding_words *w)
{
	size_t m = strlen(w->message) + 1, r = strlen(w->remedy) + 1;
	size_t half = FINDING_LOG_TEXT_MAX / 2, mroom;

	if (m + r <= FINDING_LOG_TEXT_MAX || m <= half)
		mroom = m;
	else if (r <= half)
		mroom = FINDING_LOG_TEXT_MAX - r;
	else
		mroom = half;
	ev->remedy_off = (uint16_t)(clip(ev->text, mroom, w->message) + 1);
	clip(ev->text + ev->remedy_off, FINDING_LOG_TEXT_MAX - ev->remedy_off, w->remedy);
}

/* When the entry says ev happened: the tick that opened, revised or resolved it. */
static int64_t event_time(const struct finding_entry *e, enum finding_event ev)
{
	if (ev == FINDING_EVENT_RESOLVED && e->resolved_at)
		return e->resolved_at;
	if (ev == FINDING_EVENT_REVISED && e->revised_at)
		return e->revised_at;
	return e->last_seen;
}

int finding_log_add(struct finding_log *log, const struct finding_entry *e, enum finding_event ev,
		    const char *netns_kind)
{
	const struct finding *f = &e->f;
	struct finding_log_event *x;
	struct finding_words w;

	if (!log->ring) {
		log->ring = calloc(log->capacity, sizeof(*log->ring));
		if (!log->ring) {
			log->lost++;
			return -ENOMEM;
		}
	}
	if (log->count == log->capacity)
		log->dropped++;
	else
		log->count++;
	x = &log->ring[log->head];
	log->head = (log->head + 1) % log->capacity;

	memset(x, 0, sizeof(*x));
	x->at = event_time(e, ev);
	x->first_seen = e->first_seen;
	x->event = ev;
	x->cause = f->cause;
	x->underlying = f->underlying;
	x->revised_from = ev == FINDING_EVENT_REVISED ? e->revised_from : CAUSE_NONE;
	x->priority = f->priority;
	clip(x->listener, sizeof(x->listener), f->listener);
	clip(x->subject, sizeof(x->subject), f->subject);
	x->netns_inode = f->netns_inode;
	clip(x->netns_name, sizeof(x->netns_name), f->netns_name);
	clip(x->netns_kind, sizeof(x->netns_kind), netns_kind ? netns_kind : "");
	x->clients_known = f->clients.known;
	x->clients_total = f->clients.total;
	x->clients_peers = f->clients.peers;
	finding_words(f, &w);
	keep_words(x, &w);
	return 0;
}

const struct finding_log_event *finding_log_next(const struct finding_log *log, int64_t from, size_t *pos)
{
	/* The oldest event sits where the next one will go once the ring is full. */
	size_t oldest = log->count == log->capacity ? log->head : 0;

	while (log->ring && *pos < log->count) {
		const struct finding_log_event *ev = &log->ring[(oldest + (*pos)++) % log->capacity];

		if (ev->at >= from)
			return ev;
	}
	return NULL;
}

int64_t finding_log_kept_from(const struct finding_log *log)
{
	if (log->dropped == 0 || !log->ring)
		return log->started;
	return log->ring[log->head].at;
}

const char *finding_log_remedy(const struct finding_log_event *ev)
{
	return ev->text + ev->remedy_off;
}

const char *finding_event_name(enum finding_event ev)
{
	switch (ev) {
	case FINDING_EVENT_OPENED:
		return "opened";
	case FINDING_EVENT_REVISED:
		return "revised";
	case FINDING_EVENT_RESOLVED:
		return "resolved";
	}
	return "unknown";
}
