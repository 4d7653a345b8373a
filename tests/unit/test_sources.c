/* test_sources.c: a /proc file that cannot be read is logged once per change, not once per tick; log lines carry outside names neutralised. */
#include "base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "log.h"
#include "sources.h"

/* Run the notes with stderr going to a file; return what was written. */
static char *logged(void (*fn)(struct sources *), struct sources *s)
{
	FILE *f = tmpfile();
	int saved = dup(2);
	static char text[4096];
	size_t n;

	cr_assert_not_null(f);
	cr_assert_geq(saved, 0);
	fflush(stderr);
	cr_assert_geq(dup2(fileno(f), 2), 0);
	fn(s);
	fflush(stderr);
	cr_assert_geq(dup2(saved, 2), 0);
	close(saved);
	rewind(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static size_t count(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void missing_present_missing(struct sources *s)
{
	for (int i = 0; i < 5; i++)
		sources_note(s, "/P", SOURCE_NETSTAT, -ENOENT);
	for (int i = 0; i < 5; i++)
		sources_note(s, "/P", SOURCE_NETSTAT, 0);
	for (int i = 0; i < 5; i++)
		sources_note(s, "/P", SOURCE_NETSTAT, -EFBIG);
	/* Another file's fate is its own. */
	sources_note(s, "/P", SOURCE_SNMP, 0);
}

Test(sources, logged_once_per_transition)
{
	struct sources s = { 0 };
	char *text;

	log_init(0, false);
	text = logged(missing_present_missing, &s);
	cr_assert_eq(count(text, "\n"), 3, "%s", text);
	cr_assert_eq(count(text, "cannot read /P/net/netstat: No such file or directory"), 1, "%s", text);
	cr_assert_eq(count(text, "/P/net/netstat can be read again"), 1, "%s", text);
	cr_assert_eq(count(text, "cannot read /P/net/netstat: File too large"), 1, "%s", text);
	cr_assert(sources_unreadable(&s, SOURCE_NETSTAT));
	cr_assert_not(sources_unreadable(&s, SOURCE_SNMP));
	cr_assert_str_eq(source_name(SOURCE_SNMP), "net/snmp");
}

static void always_readable(struct sources *s)
{
	for (int i = 0; i < 5; i++)
		sources_note(s, "/proc", SOURCE_SOCKSTAT, 0);
}

Test(sources, readable_says_nothing)
{
	struct sources s = { 0 };

	log_init(0, false);
	cr_assert_str_eq(logged(always_readable, &s), "");
	cr_assert_not(sources_unreadable(&s, SOURCE_SOCKSTAT));
}

static void log_hostile(struct sources *s)
{
	(void)s;
	log_warnx("watching %s", "pid 812 (\x1b[2J\a\n<0>forged\xc2\x9b)");
}

/* A name inside a log line cannot end the line, start a forged "<0>" line or reach a terminal raw. */
Test(sources, log_lines_are_neutralised)
{
	log_init(0, true);
	cr_assert_str_eq(logged(log_hostile, NULL), "<4>watching pid 812 (?[2J?" "?<0>forged?)\n");
	log_init(0, false);
	cr_assert_str_eq(logged(log_hostile, NULL), "backlogd: watching pid 812 (?[2J?" "?<0>forged?)\n");
}
