/* tmp_fixture.h: a directory of the test's own under /tmp, made before and removed after (.init = tmp_setup, .fini = tmp_teardown). */
#ifndef BACKLOGD_TMP_FIXTURE_H
#define BACKLOGD_TMP_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <criterion/criterion.h>

/* Criterion runs each test in its own process: each gets its own directory. */
static char tmp[] = "/tmp/backlogd-test-XXXXXX";

static inline void tmp_setup(void)
{
	cr_assert_not_null(mkdtemp(tmp));
}

static inline void tmp_teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	cr_assert_eq(system(cmd), 0);
}

#endif
