/* fuzz_common.c: the scratch file and the fixture fleet of fuzz.h. */
#include "base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "finding_log.h"
#include "fleet.h"
#include "fuzz.h"

static void die(const char *what)
{
	perror(what);
	abort();
}

static void remove_dir(void)
{
	char cmd[128];
	const char *dir = fuzz_put_file(NULL, NULL, 0);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: could not remove %s\n", dir);
}

const char *fuzz_put_file(const char *relpath, const uint8_t *data, size_t size)
{
	static char dir[] = "/tmp/backlogd-fuzz-XXXXXX";
	static bool made;
	char path[512];
	FILE *f;

	if (!made) {
		if (!mkdtemp(dir))
			die("mkdtemp");
		made = true;
		atexit(remove_dir);
	}
	if (!relpath)
		return dir;
	snprintf(path, sizeof(path), "%s/%s", dir, relpath);
	for (char *s = strchr(path + strlen(dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			die(path);
		*s = '/';
	}
	f = fopen(path, "w");
	if (!f)
		die(path);
	if (size && fwrite(data, 1, size, f) != size)
		die("fwrite");
	if (fclose(f) != 0)
		die("fclose");
	return dir;
}

/* As backlogd does: every finding event into the log the events command reads. */
static void log_event(const struct finding_entry *e, enum finding_event ev, void *arg)
{
	finding_log_add(arg, e, ev, "host");
}

struct fleet *fuzz_fleet(void)
{
	static struct fleet fl;
	static struct config cfg;
	static struct finding_log log;
	static bool made;
	int64_t now_ms = clock_wall_ms();

	if (made)
		return &fl;
	config_defaults(&cfg);
	if (fleet_init(&fl, &cfg, FIXTURES "/proc/host", NULL, false) < 0)
		die("fleet_init");
	finding_log_init(&log, 16, now_ms / 1000);
	fl.log = &log;
	fleet_tick(&fl, now_ms, log_event, &log);
	fleet_tick(&fl, now_ms + 1000, log_event, &log);
	made = true;
	return &fl;
}

char *fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}
