/* json.h: building JSON values for the report documents: keys that cannot go missing silently, bytes that are not UTF-8. */
#ifndef BACKLOGD_REPORT_JSON_H
#define BACKLOGD_REPORT_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Set key on o, taking v. A NULL v (a failed allocation upstream) is counted
 * as an error so that callers can drop a half-built document instead of
 * sending one with keys silently missing. Return: 0 or -1.
 */
int put(json_t *o, const char *key, json_t *v);
/* Append v to a, taking it; a NULL v counts as an error, as for put. Return: 0 or -1. */
int append(json_t *a, json_t *v);
/* Return: o, or NULL (o released) when rc says something went missing. */
json_t *finish(json_t *o, int rc);

/* s (at most max bytes) as a string, bytes that are not UTF-8 replaced by '?'. */
json_t *jstr(const char *s, size_t max);
/* As jstr, but an empty s means unknown: null, never "". */
json_t *jstr_or_null(const char *s, size_t max);
#define JSTR(field) jstr((field), sizeof(field))
#define JSTR_OR_NULL(field) jstr_or_null((field), sizeof(field))

json_t *jint(int64_t v);
/* Sysctls, knobs and host deltas use -1 for unknown: null then. */
json_t *jint_or_null(int64_t v);
/* A u64 (a kernel counter, an nsfs inode) as a number, clamped at 2^63 - 1. */
json_t *ju64(uint64_t v);
/* A u64 that must stay exact (a socket cookie), as a decimal string. */
json_t *ju64_string(uint64_t v);
/* A process state letter as a one-character string; null when unknown. */
json_t *jstate(char c);

#endif
