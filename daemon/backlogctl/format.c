/* format.c: durations, rates, times and numbers as a person reads them, into fixed buffers. */
#include "base.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "render_int.h"

void format_duration(char *buf, size_t len, long long s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm %02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh %02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd %02lldh", s / 86400, s % 86400 / 3600);
}

void format_ms(char *buf, size_t len, long long ms)
{
	if (ms >= 1000 && ms % 1000 == 0)
		snprintf(buf, len, "%lld s", ms / 1000);
	else if (ms >= 1000)
		snprintf(buf, len, "%.1f s", (double)ms / 1000.0);
	else
		snprintf(buf, len, "%lld ms", ms);
}

void format_rate(char *buf, size_t len, double per_sec)
{
	if (per_sec >= 100.0 || per_sec == 0.0)
		snprintf(buf, len, "%.0f/s", per_sec);
	else
		snprintf(buf, len, "%.1f/s", per_sec);
}

void format_time(char *buf, size_t len, const json_t *o, const char *key)
{
	long long v;
	struct tm tm;
	time_t t;

	if (!jget_int(o, key, &v) || v <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	t = (time_t)v;
	if (!localtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%lld", v);
}

void format_time_ms(char *buf, size_t len, const json_t *o, const char *key)
{
	long long v;
	struct tm tm;
	time_t t;
	char hms[16];

	if (!jget_int(o, key, &v) || v <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	t = (time_t)(v / 1000);
	if (!localtime_r(&t, &tm) || strftime(hms, sizeof(hms), "%H:%M:%S", &tm) == 0)
		snprintf(buf, len, "%lld", v);
	else
		snprintf(buf, len, "%s.%03lld", hms, v % 1000);
}

bool format_int_array(char *buf, size_t len, const json_t *a, const char *sep)
{
	size_t i, off = 0;
	const json_t *v;
	long long x;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return false;
	buf[0] = '\0';
	json_array_foreach(a, i, v) {
		int w;

		if (!jvalue_int(v, &x))
			return false;
		w = snprintf(buf + off, len - off, "%s%lld", i ? sep : "", x);
		if (w < 0 || (size_t)w >= len - off)
			return false;
		off += (size_t)w;
	}
	return true;
}

void line_add(char *buf, size_t len, const char *sep, const char *fmt, ...)
{
	size_t off = strlen(buf);
	va_list ap;

	if (off > 0 && off < len) {
		int w = snprintf(buf + off, len - off, "%s", sep);

		if (w < 0)
			return;
		off += (size_t)w;
	}
	if (off >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + off, len - off, fmt, ap);
	va_end(ap);
}
