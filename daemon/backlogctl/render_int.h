/* render_int.h: what backlogctl's render_*.c files share: reading the documents, units, namespaces. */
#ifndef BACKLOGCTL_RENDER_INT_H
#define BACKLOGCTL_RENDER_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "render.h"
#include "table.h"

/*
 * The documents may come from a daemon of another version: every key may be
 * missing, null or of another type. Every reader therefore checks the type
 * and the callers fall back to "-" rather than trust the shape.
 */

/* ---- jread.c: typed getters, NULL or false when the key is absent or of another type ---- */
const json_t *jget(const json_t *o, const char *key);
const char *jget_str(const json_t *o, const char *key);
const json_t *jget_array(const json_t *o, const char *key);
/* Integers and reals both count: a future daemon may send either. */
bool jget_num(const json_t *o, const char *key, double *out);
/* A number that a long long holds. */
bool jvalue_int(const json_t *v, long long *out);
bool jget_int(const json_t *o, const char *key, long long *out);
/*
 * The newest max points of array a (a series, oldest first) into v, each a
 * count >= 0 or gap where a holds anything else. Return: how many.
 */
size_t jvalue_series(const json_t *a, long long *v, size_t max, long long gap);
/* Accept the array itself, or a document (status, diagnose) that carries it under key. */
const json_t *array_or_member(const json_t *doc, const char *key);
/* Return: true when both are strings and equal. */
bool str_is(const char *a, const char *b);

/* Cells: the value of key as text, "-" when unknown. */
void cell_str(char *buf, size_t len, const json_t *o, const char *key);
void cell_int(char *buf, size_t len, const json_t *o, const char *key);
/* "+5" for new drops, "0" when none, "-" when unknown. */
void cell_delta(char *buf, size_t len, const json_t *o, const char *key);

/* ---- format.c: units a person reads at a glance ---- */
/* "45s", "12m 05s", "3h 04m", "2d 03h": an uptime. */
void format_duration(char *buf, size_t len, long long s);
/* "1 s", "1.5 s", "250 ms". */
void format_ms(char *buf, size_t len, long long ms);
/* "2.5/s", "120/s". */
void format_rate(char *buf, size_t len, double per_sec);
/* Local time of the epoch at key; "-" when the daemon gave none. */
void format_time(char *buf, size_t len, const json_t *o, const char *key);
/* "15:40:01.123": the local time of the epoch milliseconds at key (a drop's); "-" when none. */
void format_time_ms(char *buf, size_t len, const json_t *o, const char *key);
/* "32768-60999", "1 2 3": an array of integers joined by sep. Return: false when a is not one. */
bool format_int_array(char *buf, size_t len, const json_t *a, const char *sep);
/* Append sep (unless buf is empty), then fmt, to a line being built; a full line keeps what fitted. */
void line_add(char *buf, size_t len, const char *sep, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- render_ns.c: network namespaces as a reader names them ---- */
/*
 * A "netns" object ({inode, name, kind}) and a namespaces[] entry carry the
 * same keys, so both are read alike. Return: true for the host's namespace,
 * which is also what an entry with none (an older daemon) means.
 */
bool ns_is_host(const json_t *ns);
/* Whether two entries are in the same namespace: by inode when both have one, else by name. */
bool same_ns(const json_t *a, const json_t *b);
/* "blue", "inode 4026532000", "?". */
void ns_label(char *buf, size_t len, const json_t *ns);
/* "[blue] " before a subject in another namespace than the host's, "" otherwise. */
void ns_prefix(char *buf, size_t len, const json_t *ns);
/* "namespace blue (named, inode 4026532000)": the line over a namespace's listeners. */
void ns_heading(char *buf, size_t len, const json_t *ns);

/* ---- render_findings.c ---- */
/* A finding's words under its row, indented: message, detail, clients, "fix: " remedy. */
void render_finding_words(FILE *out, const json_t *f, size_t width);

/* ---- render_listeners.c ---- */
/* The LISTENER table of array a, grouped by the namespaces of nss (NULL: as a gives them). */
void render_listener_groups(FILE *out, const json_t *a, const json_t *nss);

#endif
