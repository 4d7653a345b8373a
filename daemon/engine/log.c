/* log.c: daemon logging to stderr, with sd-daemon "<N>" prefixes under systemd. */
#include "base.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "safe_text.h"

static int log_verbose;
static bool log_use_prefix;

void log_init(int verbose, bool prefixes)
{
	log_verbose = verbose;
	/* journald reads "<N>" at the start of a line as the priority. */
	log_use_prefix = prefixes || getenv("JOURNAL_STREAM") != NULL;
}

bool log_prefixes(void)
{
	return log_use_prefix;
}

static void log_vwrite(int pri, const char *errstr, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	/* Names in the line came from outside: one line, no terminal escapes, no forged "<N>". */
	safe_text_inplace(line);
	if (log_use_prefix)
		fprintf(stderr, "<%d>", pri);
	else
		fputs("backlogd: ", stderr);
	if (errstr)
		fprintf(stderr, "%s: %s\n", line, errstr);
	else
		fprintf(stderr, "%s\n", line);
}

void log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

void log_warnx(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, NULL, fmt, ap);
	va_end(ap);
	errno = saved;
}

void log_info(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
	errno = saved;
}

void log_debug(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, NULL, fmt, ap);
	va_end(ap);
	errno = saved;
}

void fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, strerror(saved), fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
