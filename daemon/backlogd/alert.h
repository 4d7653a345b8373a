/* alert.h: finding state changes as journal records (or stderr without a journal). */
#ifndef BACKLOGD_ALERT_H
#define BACKLOGD_ALERT_H

#include <stdbool.h>
#include "findings.h"
#include "sysctl.h"

/* to_stderr: also write each alert to stderr (foreground). */
void alert_init(bool to_stderr);

/* One record for an opening (opened) or a resolution. */
void alert_emit(const struct finding_entry *e, bool opened);

#endif
