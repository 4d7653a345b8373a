/* findings.h: finding lifecycle: open once, refresh, resolve after a quiet period. */
#ifndef BACKLOGD_FINDINGS_H
#define BACKLOGD_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "diagnose.h"

enum finding_state {
	FINDING_ACTIVE,
	FINDING_RESOLVED,
};

struct finding_entry {
	struct finding f;          /* the latest firing of it */
	enum finding_state state;
	int64_t first_seen;        /* wall clock, seconds; a revision keeps it */
	int64_t last_seen;
	int64_t resolved_at;       /* 0 while active */
	unsigned long fired_ticks;
	/*
	 * The verdict before the latest revision of this episode: its cause,
	 * or for overflow-reset before and after, its underlying cause (the
	 * one that changed). CAUSE_NONE when never revised.
	 */
	enum cause revised_from;
	int64_t revised_at;        /* wall clock, seconds; 0 when never revised */
};

/* What just happened to an entry, for the callback. */
enum finding_event {
	FINDING_EVENT_OPENED,      /* a new episode */
	FINDING_EVENT_REVISED,     /* the same episode, another verdict: e->revised_from says which was */
	FINDING_EVENT_RESOLVED,    /* not seen for the quiet period (or its namespace went) */
};

struct finding_table {
	struct finding_entry *items;  /* active first is not guaranteed */
	size_t count;
	size_t cap;
	size_t max_resolved;       /* resolved entries kept for status, oldest dropped */
};

/* Called once per event of e; never per tick. */
typedef void (*finding_cb)(const struct finding_entry *e, enum finding_event ev, void *arg);

void findings_init(struct finding_table *ft, size_t max_resolved);
void findings_free(struct finding_table *ft);

/*
 * Merge this tick's firing findings into ft at time now (seconds). The key
 * is cause + listener, except that the accept-queue family (backlog-small,
 * backlog-clamped, slow-accept, overflow-reset) shares one key per listener:
 * a listener's overflow has one cause at a time. A new key opens (cb
 * OPENED); a firing key is refreshed, or revised in place when its verdict
 * changed (cb REVISED: first_seen kept, revised_from set); an active key
 * not fired for quiet_secs resolves (cb RESOLVED); a resolved key that
 * fires again reopens.
 * Return: 0 or -ENOMEM (ft stays consistent).
 */
int findings_update(struct finding_table *ft, const struct finding_list *firing,
		    int64_t now, unsigned quiet_secs, finding_cb cb, void *arg);

/* Return: number of active entries. */
size_t findings_active(const struct finding_table *ft);

#endif
