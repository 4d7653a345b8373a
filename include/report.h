/* report.h: the JSON documents of the control protocol and --json output. */
#ifndef BACKLOGD_REPORT_H
#define BACKLOGD_REPORT_H

#include <jansson.h>
#include "findings.h"
#include "monitor.h"
#include "sysctl.h"
#include "track.h"

/* {somaxconn, tcp_max_syn_backlog, tcp_syncookies, tcp_abort_on_overflow}; unknown is null. */
json_t *report_limits(const struct limits *lim);
/* {address, port, family, listener, queue, backlog, peak_queue, drops, drops_delta, processes:[{pid,comm}], unit, ...} */
json_t *report_listener(const struct tracked *tr);
json_t *report_listeners(const struct track *t);
/* {cause, severity, listener, subject, message, remedy, state, first_seen, last_seen, evidence:{...}} */
json_t *report_finding_entry(const struct finding_entry *e);
json_t *report_finding(const struct finding *f, const char *state, int64_t first_seen, int64_t last_seen);
json_t *report_findings(const struct finding_table *ft);
/* {counters: {ListenOverflows: {total, delta, per_sec}, ...}} */
json_t *report_host(const struct track *t);
/* {daemon:{...}, limits, host, listeners, findings} */
json_t *report_status(const struct monitor *m, int64_t now);
/* Evidence chain for "ADDR:PORT" or "PORT". Return: NULL with err set when no listener matches. */
json_t *report_explain(const struct monitor *m, const char *target, char *err, size_t errlen);

#endif
