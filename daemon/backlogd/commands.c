/* commands.c: the control protocol's commands, one row each: read-only queries of the fleet. */
#include "base.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "commands.h"
#include "ctl.h"
#include "fleet.h"
#include "metrics.h"
#include "report.h"

static json_t *run_status(void *arg, const char *target, char *err, size_t errlen)
{
	(void)target, (void)err, (void)errlen;
	return report_fleet_status(arg, (int64_t)time(NULL));
}

static json_t *run_listeners(void *arg, const char *target, char *err, size_t errlen)
{
	(void)target, (void)err, (void)errlen;
	return report_fleet_listeners(arg);
}

static json_t *run_findings(void *arg, const char *target, char *err, size_t errlen)
{
	(void)target, (void)err, (void)errlen;
	return report_fleet_findings(arg);
}

/* findings --since: the events of the daemon's log in the last SECONDS. */
static json_t *run_events(void *arg, const char *target, char *err, size_t errlen)
{
	const struct fleet *fl = arg;
	long long since;
	char *end;

	errno = 0;
	since = strtoll(target, &end, 10);
	if (target[0] < '0' || target[0] > '9' || *end || errno || since < 1 || since > FINDING_LOG_SINCE_MAX) {
		snprintf(err, errlen, "events needs a whole number of seconds from 1 to %lld as its target",
			 (long long)FINDING_LOG_SINCE_MAX);
		return NULL;
	}
	if (!fl->log) {
		snprintf(err, errlen, "this daemon keeps no event log");
		return NULL;
	}
	return report_finding_events(fl->log, (int64_t)time(NULL), since);
}

static json_t *run_explain(void *arg, const char *target, char *err, size_t errlen)
{
	return report_fleet_explain(arg, target, err, errlen);
}

/* The Prometheus text exposition, as one JSON string: backlogctl metrics prints it as it is. */
static json_t *run_metrics(void *arg, const char *target, char *err, size_t errlen)
{
	size_t len;
	char *text = metrics_text(arg, &len);
	json_t *s;

	(void)target;
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* Every outside name was made UTF-8; a NULL here is memory. */
	s = json_stringn(text, len);
	free(text);
	if (!s)
		snprintf(err, errlen, "cannot encode the metrics");
	return s;
}

/* One document with everything a live view draws, for backlogctl top every tick. */
static json_t *run_top(void *arg, const char *target, char *err, size_t errlen)
{
	(void)target, (void)err, (void)errlen;
	return report_fleet_top(arg, (int64_t)time(NULL));
}

/* A liveness check for scripts and health probes. */
static json_t *run_ping(void *arg, const char *target, char *err, size_t errlen)
{
	(void)arg, (void)target, (void)err, (void)errlen;
	return json_string("pong");
}

/* The order is the one the unknown-command error lists. */
static const struct ctl_command commands[] = {
	{ "status", run_status, false, NULL },
	{ "listeners", run_listeners, false, NULL },
	{ "findings", run_findings, false, NULL },
	{ "explain", run_explain, true, "ADDR:PORT or PORT" },
	{ "ping", run_ping, false, NULL },
	{ "metrics", run_metrics, false, NULL },
	{ "top", run_top, false, NULL },
	{ "events", run_events, true, "SECONDS: the window findings --since shows" },
};

json_t *commands_answer(json_t *request, void *fleet)
{
	return ctl_answer(commands, ARRAY_SIZE(commands), request, fleet);
}
