/* netstat_int.h: netstat.c's line splitting, field names and lookup, shared with netstat_layout.c. */
#ifndef BACKLOGD_NETSTAT_INT_H
#define BACKLOGD_NETSTAT_INT_H

#include <stdbool.h>
#include "netstat.h"
#include "procfile.h"

/* A "Prefix: ..." line split at the colon. */
struct pline {
	struct span prefix;
	struct span rest;
};

/*
 * Split a line into its prefix and the rest. The prefix is non-empty, has
 * no blanks, and the colon is followed by a blank or the end of the line.
 */
bool netstat_split_line(struct span line, struct pline *out);
bool netstat_same_prefix(const struct pline *a, const struct pline *b);

/* "Prefix.Field" into dst. Return: false when it does not fit COUNTER_NAME_MAX. */
bool netstat_field_name(char dst[COUNTER_NAME_MAX], struct span prefix, struct span field);

/* Return: the entry of c named name, or NULL (a binary search: items[] is sorted). */
const struct counter *netstat_find(const struct counters *c, const char *name);

#endif
