/* spark.h: a series as a sparkline (▁▂▃▄▅▆▇█) and a value against its limit as a bar: top and explain. */
#ifndef BACKLOGCTL_SPARK_H
#define BACKLOGCTL_SPARK_H

#include <stdbool.h>
#include <stddef.h>

/* A point the series does not have (a tick before the daemon watched it): a blank cell. */
#define SPARK_NONE (-1LL)

/* Return: true when the locale's character set is UTF-8 (the block characters can be shown). */
bool spark_utf8(void);

/*
 * Write the last width points of v[0, n) (oldest first) as width cells into
 * buf (len bytes, NUL-terminated): each point scaled to 0..max, 0 as the
 * lowest block, any point above 0 at least the second, max and above the
 * full one; SPARK_NONE and the cells before the series starts are blank,
 * so that the newest point is always at the right. utf8 picks the block
 * characters, else the ASCII ramp "_.,-=+*#". A buffer too short for width
 * cells holds as many as fit. Return: the cells written.
 */
size_t spark_line(char *buf, size_t len, const long long *v, size_t n, size_t width, long long max, bool utf8);

/* Return: the largest point of v[0, n), 0 when there is none: the scale of a series with no limit of its own. */
long long spark_max(const long long *v, size_t n);

/*
 * "[#####     ]": value against max in width columns, brackets included
 * (width >= 3); "[  ?  ]"-style blanks when max is unknown (<= 0) or value
 * is negative. Return: the columns written.
 */
size_t spark_bar(char *buf, size_t len, long long value, long long max, size_t width);

#endif
