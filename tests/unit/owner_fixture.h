/* owner_fixture.h: owners for hand-built tracked listeners, which only point at one (procmap keeps them in the daemon). */
#ifndef BACKLOGD_OWNER_FIXTURE_H
#define BACKLOGD_OWNER_FIXTURE_H

#include <string.h>
#include <criterion/criterion.h>
#include "track.h"

#define FIXTURE_OWNERS 64

/* Criterion runs each test in its own process: the pool starts empty for each. */
static struct owner fixture_owners[FIXTURE_OWNERS];
static size_t fixture_owners_used;

/*
 * tr's owner, to be written: the first call gives tr a pool slot holding a
 * copy of what it had (owner_unknown when nothing), later calls the same.
 */
static inline struct owner *owner_mut(struct tracked *tr)
{
	struct owner *o;

	if (tr->owner >= fixture_owners && tr->owner < fixture_owners + fixture_owners_used)
		return &fixture_owners[tr->owner - fixture_owners];
	cr_assert_lt(fixture_owners_used, FIXTURE_OWNERS, "owner pool too small");
	o = &fixture_owners[fixture_owners_used++];
	*o = *tracked_owner(tr);
	tr->owner = o;
	return o;
}

#endif
