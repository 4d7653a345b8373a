/* oneshot.c: backlogctl diagnose: sample the kernel twice and diagnose, without the daemon. */
#include "base.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "config.h"
#include "monitor.h"
#include "netns.h"
#include "oneshot.h"
#include "report.h"

static void sleep_seconds(double s)
{
	struct timespec req, rem;

	req.tv_sec = (time_t)s;
	req.tv_nsec = (long)((s - (double)req.tv_sec) * 1e9);
	while (nanosleep(&req, &rem) < 0 && errno == EINTR)
		req = rem;
}

/* Put the namespace diagnose sampled on every entry of a, as the daemon does. Return: 0 or -1. */
static int tag_netns(json_t *a, const struct monitor *m)
{
	size_t i;
	json_t *x;

	json_array_foreach(a, i, x)
		if (json_object_set_new(x, "netns", report_netns(m->netns_inode, m->netns_name, "host")) < 0)
			return -1;
	return 0;
}

/* {diagnose:{version, interval_s, at}, limits, host, listeners, findings}: render_status reads it too. */
static json_t *diagnose_document(const struct monitor *m, double interval_s, int64_t now_s)
{
	json_t *findings = json_array();
	json_t *listeners = report_listeners(&m->track);
	json_t *doc;

	for (size_t i = 0; findings && i < m->firing.count; i++) {
		json_t *f = report_finding(&m->firing.items[i], "active", now_s, now_s);

		if (!f || json_array_append_new(findings, f) < 0) {
			json_decref(findings);
			findings = NULL;
		}
	}
	if (!findings || !listeners || tag_netns(findings, m) < 0 || tag_netns(listeners, m) < 0) {
		json_decref(findings);
		json_decref(listeners);
		return NULL;
	}
	doc = json_pack("{s:{s:s, s:f, s:I}, s:o?, s:o?, s:o, s:o}",
			"diagnose", "version", PACKAGE_VERSION, "interval_s", interval_s, "at", (json_int_t)now_s,
			"limits", report_limits(&m->track.limits),
			"host", report_host(&m->track),
			"listeners", listeners,
			"findings", findings);
	return doc;
}

int oneshot_diagnose(double interval_s, json_t **doc)
{
	struct config cfg;
	struct monitor m;
	int rc, status;

	*doc = NULL;
	config_defaults(&cfg);
	cfg.tick_ms = (unsigned)(interval_s * 1000.0 + 0.5);
	/* Two ticks, one answer: each reads the listeners, whatever moved. */
	cfg.listener_refresh_ms = 0;
	rc = monitor_init(&m, &cfg, "/proc");
	if (rc < 0) {
		fprintf(stderr, PROG ": cannot sample the kernel's listeners: %s\n", strerror(-rc));
		return EXIT_UNREACHABLE;
	}
	/* diagnose sees only the namespace it runs in, which is "host" from where it stands. */
	m.netns_inode = netns_self_inode("/proc");
	snprintf(m.netns_name, sizeof(m.netns_name), "host");
	if (geteuid() != 0)
		fprintf(stderr, PROG ": note: not running as root, so the processes behind other users' "
			"listeners are not shown\n");
	rc = monitor_tick(&m, clock_wall_ms(), NULL, NULL);
	if (rc == 0) {
		sleep_seconds(interval_s);
		/* The last tick: a signal for the deep tier (sockets near the port range) is looked at now. */
		m.deep_oneshot = true;
		rc = monitor_tick(&m, clock_wall_ms(), NULL, NULL);
	}
	if (rc < 0) {
		fprintf(stderr, PROG ": sampling failed: %s\n", strerror(-rc));
		status = EXIT_UNREACHABLE;
		goto out_done;
	}
	*doc = diagnose_document(&m, interval_s, clock_wall_ms() / 1000);
	if (!*doc) {
		fprintf(stderr, PROG ": out of memory\n");
		status = EXIT_UNREACHABLE;
		goto out_done;
	}
	status = m.firing.count > 0 ? EXIT_FINDINGS : EXIT_OK;
out_done:
	monitor_done(&m);
	return status;
}
