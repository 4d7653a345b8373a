/* sources.c: which /proc files of a tick could not be read, logged once per change. */
#include "base.h"

#include <string.h>

#include "log.h"
#include "sources.h"

static const char *const names[SOURCE_COUNT] = {
	[SOURCE_NETSTAT] = "net/netstat",
	[SOURCE_SNMP] = "net/snmp",
	[SOURCE_SOCKSTAT] = "net/sockstat",
};

const char *source_name(enum source src)
{
	return (unsigned)src < SOURCE_COUNT ? names[src] : "?";
}

void sources_note(struct sources *s, const char *proc_root, enum source src, int err)
{
	int was;

	if ((unsigned)src >= SOURCE_COUNT)
		return;
	was = s->err[src];
	s->err[src] = err;
	/*
	 * Once per transition: a missing file would otherwise say so every
	 * tick, and a flood of the same line hides the one that matters.
	 */
	if (err && !was)
		log_warnx("cannot read %s/%s: %s; what it counts is unknown until it can be read",
			  proc_root, names[src], strerror(-err));
	else if (!err && was)
		log_info("%s/%s can be read again", proc_root, names[src]);
}

bool sources_unreadable(const struct sources *s, enum source src)
{
	return (unsigned)src < SOURCE_COUNT && s->err[src] != 0;
}
