/*
 * fuzz_config.c: the configuration file (config_load), read from a file as
 * backlogd reads /etc/backlogd/backlogd.conf, then a listener checked
 * against the ignore lists it may have set.
 */
#include "base.h"

#include <stdio.h>
#include <string.h>
#include <netinet/in.h>

#include "config.h"
#include "fuzz.h"
#include "listener.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[256], err[256];
	struct config cfg;
	struct listener l;

	snprintf(path, sizeof(path), "%s/backlogd.conf", fuzz_put_file("backlogd.conf", data, size));
	config_defaults(&cfg);
	if (config_load(path, &cfg, err, sizeof(err)) < 0)
		return 0;
	memset(&l, 0, sizeof(l));
	l.family = AF_INET;
	l.port = 8080;
	config_ignores(&cfg, &l);
	return 0;
}
