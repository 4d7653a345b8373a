/* steps.c: one step of an explain chain, and the few ways steps write times, counts and owners. */
#include "base.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "json.h"
#include "explain_int.h"
#include "report_int.h"

int step(json_t *steps, const char *name, const char *fmt, ...)
{
	char text[STEP_TEXT_MAX];
	json_t *o = json_object();
	va_list ap;
	int rc = 0;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	rc |= put(o, "step", json_string(name));
	rc |= put(o, "text", jstr(text, sizeof(text)));
	return append(steps, finish(o, rc));
}

void format_ago(int64_t now_s, int64_t then, char *buf, size_t len)
{
	int64_t d = now_s > then ? now_s - then : 0;

	if (d < 60)
		snprintf(buf, len, "%" PRId64 " s ago", d);
	else if (d < 3600)
		snprintf(buf, len, "%" PRId64 " min ago", d / 60);
	else if (d < 86400)
		snprintf(buf, len, "%" PRId64 " h %" PRId64 " min ago", d / 3600, d % 3600 / 60);
	else
		snprintf(buf, len, "%" PRId64 " d ago", d / 86400);
}

void format_msecs(int64_t ms, char *buf, size_t len)
{
	if (ms < 1000)
		snprintf(buf, len, "%" PRId64 " ms", ms);
	else
		snprintf(buf, len, "%.1f s", (double)ms / 1000.0);
}

const char *fmt_i64(int64_t v, char *buf, size_t len)
{
	if (v < 0)
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%" PRId64, v);
	return buf;
}

void format_owner1(const struct owner *ow, char *buf, size_t len)
{
	if (ow && owner_nprocs(ow) > 0 && ow->procs[0].pid > 0)
		snprintf(buf, len, "%.*s[%d]", (int)sizeof(ow->procs[0].comm), ow->procs[0].comm, ow->procs[0].pid);
	else
		snprintf(buf, len, "an unknown process");
}

void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
