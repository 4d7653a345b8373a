/* alert.h: finding state changes as journal records (or stderr without a journal). */
#ifndef BACKLOGD_ALERT_H
#define BACKLOGD_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include "findings.h"
#include "sysctl.h"

/* to_stderr: also write each alert to stderr (foreground). */
void alert_init(bool to_stderr);

/*
 * The record's MESSAGE for e opening, being revised or resolving, into buf:
 * the namespace when not the host's, the cause, the subject, the cause it
 * was revised from, then the words of finding_words() (whose message says
 * why) and nothing of its own. Cut to len.
 */
void alert_message(const struct finding_entry *e, enum finding_event ev, char *buf, size_t len);

/* One record for an opening, a revision or a resolution. */
void alert_emit(const struct finding_entry *e, enum finding_event ev);

#endif
