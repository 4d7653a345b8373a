/* finding_log.h: a bounded memory of finding events (opened, revised, resolved), for "what happened at 03:12". */
#ifndef BACKLOGD_FINDING_LOG_H
#define BACKLOGD_FINDING_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "findings.h"

/*
 * The daemon's bound: FINDING_LOG_CAPACITY events of FINDING_LOG_EVENT_MAX
 * bytes at most (1,024 events, 1.125 MiB), allocated at the first event.
 */
#define FINDING_LOG_CAPACITY 1024
#define FINDING_LOG_SUBJECT_MAX 128
#define FINDING_LOG_NETNS_MAX 96
#define FINDING_LOG_KIND_MAX 16
/* The message and the remedy together, each with its NUL: room for the usual ones whole. */
#define FINDING_LOG_TEXT_MAX 768
#define FINDING_LOG_EVENT_MAX 1152
/* The longest window one may ask for, in seconds: ten years, far past what 1,024 events hold. */
#define FINDING_LOG_SINCE_MAX (3650LL * 86400)

/*
 * One event, compact: a finding_entry is 4 KiB of evidence, most of which
 * a person asking "what happened" does not need. Text from outside is
 * kept as safe_text() makes it, cut at a character with "…" when too long.
 */
struct finding_log_event {
	int64_t at;                /* wall clock, seconds: the tick that saw the event */
	int64_t first_seen;        /* the episode's, wall clock seconds */
	enum finding_event event;
	enum cause cause;
	enum cause underlying;     /* overflow-reset's own cause; else == cause */
	enum cause revised_from;   /* REVISED: the verdict before; else CAUSE_NONE */
	int priority;              /* syslog */
	char listener[LISTENER_NAME_MAX];
	char subject[FINDING_LOG_SUBJECT_MAX];
	uint64_t netns_inode;      /* 0 unknown */
	char netns_name[FINDING_LOG_NETNS_MAX];
	char netns_kind[FINDING_LOG_KIND_MAX];  /* "host", "named", ...; "" unknown */
	bool clients_known;        /* the eBPF tier's totals for the finding's peers */
	uint64_t clients_total;
	uint64_t clients_peers;
	uint16_t remedy_off;       /* the remedy starts at text + remedy_off */
	char text[FINDING_LOG_TEXT_MAX];  /* the message of finding_words(), NUL, its remedy, NUL */
};

struct finding_log {
	struct finding_log_event *ring;  /* capacity slots; NULL until the first event */
	size_t capacity;
	size_t head;               /* the slot the next event takes */
	size_t count;              /* events kept, at most capacity */
	uint64_t dropped;          /* overwritten since started */
	uint64_t lost;             /* not kept for want of memory */
	int64_t started;           /* wall clock, seconds: what the log covers when nothing was dropped */
};

/* An empty log of capacity events (at least 1), covering from started (wall seconds); allocates nothing. */
void finding_log_init(struct finding_log *log, size_t capacity, int64_t started);
void finding_log_free(struct finding_log *log);

/*
 * Keep event ev of e, as findings_update's callback reports it: its time
 * is the entry's own (last_seen when opened, revised_at, resolved_at).
 * netns_kind is the namespace's kind as the documents name it, or NULL.
 * The oldest event makes room when the log is full.
 * Return: 0, or -ENOMEM (counted in lost; the log is unchanged).
 */
int finding_log_add(struct finding_log *log, const struct finding_entry *e, enum finding_event ev,
		    const char *netns_kind);

/*
 * The next event at or after from (wall seconds), oldest first by arrival;
 * *pos starts at 0 and is moved past it. Return: the event, or NULL at the end.
 */
const struct finding_log_event *finding_log_next(const struct finding_log *log, int64_t from, size_t *pos);

/* Return: when the log's memory starts: its oldest event once one was dropped, else started. */
int64_t finding_log_kept_from(const struct finding_log *log);

/* Return: the remedy of ev (the message is ev->text). */
const char *finding_log_remedy(const struct finding_log_event *ev);

/* Return: "opened", "revised" or "resolved". */
const char *finding_event_name(enum finding_event ev);

#endif
