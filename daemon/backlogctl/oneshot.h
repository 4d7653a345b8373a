/* oneshot.h: backlogctl diagnose: two samples and a diagnosis without the daemon. */
#ifndef BACKLOGCTL_ONESHOT_H
#define BACKLOGCTL_ONESHOT_H

#include <jansson.h>

/*
 * Sample the namespace backlogctl runs in twice, interval_s apart, and
 * diagnose. *doc is then a status-shaped document ({diagnose, limits, host,
 * listeners, findings}) that render_status reads too.
 * Return: EXIT_OK (nothing found) or EXIT_FINDINGS with *doc set, or
 * EXIT_UNREACHABLE after saying why.
 */
int oneshot_diagnose(double interval_s, json_t **doc);

#endif
