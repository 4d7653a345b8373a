/* software.h: the common servers told from their process names, with their backlog knob and restart advice in their own words. */
#ifndef BACKLOGD_SOFTWARE_H
#define BACKLOGD_SOFTWARE_H

#include <stdbool.h>
#include <stdint.h>

#include "procmap.h"

struct sbuf;

/*
 * What backlogd says to the user of one kind of server. Templates are
 * expanded by the functions below: $N the suggested backlog, $C the
 * current one, $L the listener ("127.0.0.1:8080"), $S what to restart (the
 * unit, else the process name).
 */
struct software {
	const char *name;          /* as its users call it: "nginx", "Redis"; "" for the generic entry */
	const char *knob;          /* the backlog setting in its words, short: "tcp-backlog" */
	const char *set_backlog;   /* how to set the backlog to $N and make it apply */
	const char *restart;       /* how to restart without refusing clients */
	const char *after_crash;   /* what keeps clients served when it dies */
	const char *stall;         /* why it stops accepting, in its own terms; NULL: nothing to add */
};

/*
 * The software of one process, from its comm and command line (both as
 * procinfo neutralised them); the generic entry when it is none of the
 * known ones. Return: never NULL.
 */
const struct software *software_of_proc(const char *comm, const char *cmdline);

/* The software of an owner: its first recognised process; the generic entry when none is. */
const struct software *software_of(const struct owner *o);

/* Return: true when sw is the generic entry (no server recognised). */
bool software_generic(const struct software *sw);

/*
 * Append to sb how to set sw's backlog to sug (it is cur now) on listener
 * in sw's own words, with how to make it apply.
 */
void software_backlog_fix(const struct software *sw, struct sbuf *sb, const char *listener,
			  int64_t cur, int64_t sug);

/* Append to sb how to restart svc (running sw) without closing listener. */
void software_restart_fix(const struct software *sw, struct sbuf *sb, const char *listener,
			  const char *svc);

/* Append to sb, after "; ", why sw stops accepting in its own terms; nothing when it has none. */
void software_stall_hint(const struct software *sw, struct sbuf *sb);

/* Append to sb what keeps svc's clients served when sw dies on listener. */
void software_crash_fix(const struct software *sw, struct sbuf *sb, const char *listener,
			const char *svc);

#endif
