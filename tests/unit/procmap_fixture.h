/* procmap_fixture.h: procmap calls the tests make and the daemon does not: an update with no cgroup hints. */
#ifndef BACKLOGD_PROCMAP_FIXTURE_H
#define BACKLOGD_PROCMAP_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include "procmap.h"

/* procmap_update_hinted with no hints: every new inode is found by the full walk. */
static inline int procmap_update(struct procmap *pm, const uint32_t *inodes, size_t n)
{
	return procmap_update_hinted(pm, inodes, NULL, n);
}

#endif
