/* base.h: the first include of every file: the autoconf header and the few macros every module uses. */
#ifndef BACKLOGD_BASE_H
#define BACKLOGD_BASE_H

/* Autoconf's header (_GNU_SOURCE and the package version); include/config.h is the config module. */
#include "version.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
