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
	int64_t first_seen;        /* wall clock, seconds */
	int64_t last_seen;
	int64_t resolved_at;       /* 0 while active */
	unsigned long fired_ticks;
};

struct finding_table {
	struct finding_entry *items;  /* active first is not guaranteed */
	size_t count;
	size_t cap;
	size_t max_resolved;       /* resolved entries kept for status, oldest dropped */
};

/* opened: true when e just opened, false when it just resolved. */
typedef void (*finding_cb)(const struct finding_entry *e, bool opened, void *arg);

void findings_init(struct finding_table *ft, size_t max_resolved);
void findings_free(struct finding_table *ft);

/*
 * Merge this tick's firing findings (keyed by cause + listener) into ft at
 * time now (seconds). A new key opens (cb opened=true); a firing key is
 * refreshed; an active key not fired for quiet_secs resolves (cb
 * opened=false); a resolved key that fires again reopens.
 * Return: 0 or -ENOMEM (ft stays consistent).
 */
int findings_update(struct finding_table *ft, const struct finding_list *firing,
		    int64_t now, unsigned quiet_secs, finding_cb cb, void *arg);

/* Return: number of active entries. */
size_t findings_active(const struct finding_table *ft);

#endif
