/* commands.c: the control protocol's commands, one row each: read-only queries of the fleet. */
#include "base.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "commands.h"
#include "ctl.h"
#include "fleet.h"
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

static json_t *run_explain(void *arg, const char *target, char *err, size_t errlen)
{
	return report_fleet_explain(arg, target, err, errlen);
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
};

json_t *commands_answer(json_t *request, void *fleet)
{
	return ctl_answer(commands, ARRAY_SIZE(commands), request, fleet);
}
