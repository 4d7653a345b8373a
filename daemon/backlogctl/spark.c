/* spark.c: sparklines and bars, the same in top's rows and in explain's history. */
#include "base.h"

#include <langinfo.h>
#include <string.h>

#include "spark.h"

/* U+2581..U+2588, three bytes each in UTF-8. */
static const char *const blocks[8] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
static const char ramp[8] = { '_', '.', ',', '-', '=', '+', '*', '#' };

bool spark_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);

	return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

/* Return: 0..7, the level of point x on a scale of 0..max. */
static unsigned level(long long x, long long max)
{
	if (x <= 0)
		return 0;
	if (max <= 0 || x >= max)
		return 7;
	/* Rounded up: a single drop on a scale of a thousand still shows. */
	unsigned l = (unsigned)((x * 7 + max - 1) / max);

	return l < 1 ? 1 : l > 7 ? 7 : l;
}

long long spark_max(const long long *v, size_t n)
{
	long long m = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

size_t spark_line(char *buf, size_t len, const long long *v, size_t n, size_t width, long long max, bool utf8)
{
	size_t off = 0, cells = 0;
	/* The newest points when there are more than cells; blanks before a short series. */
	size_t first = n > width ? n - width : 0;
	size_t blanks = n < width ? width - n : 0;

	if (len == 0)
		return 0;
	for (size_t c = 0; c < width; c++) {
		const char *s;
		char one[2] = { ' ', '\0' };

		if (c >= blanks && v[first + c - blanks] != SPARK_NONE) {
			unsigned l = level(v[first + c - blanks], max);

			if (utf8)
				s = blocks[l];
			else
				one[0] = ramp[l], s = one;
		} else {
			s = one;
		}
		if (off + strlen(s) >= len)
			break;
		memcpy(buf + off, s, strlen(s));
		off += strlen(s);
		cells++;
	}
	buf[off] = '\0';
	return cells;
}

size_t spark_bar(char *buf, size_t len, long long value, long long max, size_t width)
{
	size_t inner, fill;

	if (len == 0)
		return 0;
	if (width < 3 || width >= len) {
		buf[0] = '\0';
		return 0;
	}
	inner = width - 2;
	buf[0] = '[';
	memset(buf + 1, ' ', inner);
	buf[width - 1] = ']';
	buf[width] = '\0';
	if (max <= 0 || value < 0) {
		buf[1 + inner / 2] = '?';
		return width;
	}
	if (value >= max)
		fill = inner;
	else
		/* Rounded, but a queue above 0 shows at least one mark. */
		fill = (size_t)((value * (long long)inner * 2 + max) / (2 * max));
	if (value > 0 && fill == 0)
		fill = 1;
	memset(buf + 1, '#', fill);
	return width;
}
