/* sources.h: which /proc files of a tick could not be read, said once per change and shown in status. */
#ifndef BACKLOGD_SOURCES_H
#define BACKLOGD_SOURCES_H

#include <stdbool.h>
#include <stddef.h>

/* The files a tick reads whole; a sysctl has its own "unknown" in limits. */
enum source {
	SOURCE_NETSTAT,
	SOURCE_SNMP,
	SOURCE_SOCKSTAT,
	SOURCE_COUNT
};

/* The latest read of each source: 0 when it was read, else its -errno. Zeroed: all readable. */
struct sources {
	int err[SOURCE_COUNT];
};

/* "net/netstat", "net/snmp", "net/sockstat": the path under the proc root. */
const char *source_name(enum source src);

/*
 * Record the read of src under proc_root (err: 0 or -errno). A file that
 * stops being readable is logged once, with why, and once more when it is
 * back; a file that stays missing says nothing more tick after tick.
 */
void sources_note(struct sources *s, const char *proc_root, enum source src, int err);

/* Return: whether src could not be read by its latest read. */
bool sources_unreadable(const struct sources *s, enum source src);

#endif
