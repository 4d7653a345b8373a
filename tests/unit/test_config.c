/* test_config.c: backlogd.conf parsing: defaults, every key, and file:line errors. */
#include "base.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

static char conf_path[64];

/* Write text to a fresh temporary file; its path is in conf_path. */
static void write_conf(const char *text)
{
	int fd;

	snprintf(conf_path, sizeof(conf_path), "/tmp/backlogd-conf-XXXXXX");
	fd = mkstemp(conf_path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void remove_conf(void)
{
	if (conf_path[0])
		unlink(conf_path);
}

TestSuite(config, .fini = remove_conf);

Test(config, defaults_serve)
{
	struct config cfg;

	config_defaults(&cfg);
	cr_assert_eq(cfg.tick_ms, 1000);
	cr_assert_eq(cfg.quiet_secs, 60);
	cr_assert_eq(cfg.client_timeout_ms, 5000);
	cr_assert_str_eq(cfg.socket_path, "/run/backlogd/backlogd.sock");
	cr_assert_gt(cfg.thr.slow_accept_ticks, 0);
	cr_assert_gt(cfg.thr.full_window_ticks, 0);
	cr_assert_eq(cfg.n_ignore_ports, 0);
	/* Off: the deep tier runs when a cheap signal asks (deep_policy.c says why that misses nothing). */
	cr_assert_eq(cfg.deep_every_ticks, 0);
	cr_assert_eq(cfg.namespaces, CONFIG_NS_AUTO);
	cr_assert_eq(cfg.bpf, CONFIG_BPF_AUTO);
	cr_assert_eq(cfg.fast_ms, 100);
	cr_assert_eq(cfg.thr.gap_memory_secs, 300);
	cr_assert_eq(cfg.thr.ephemeral_pct, 80);
}

Test(config, every_key)
{
	struct config cfg;
	char err[256] = "";

	write_conf("# comment\n[daemon]\ninterval = 0.5\nquiet_period = 120\n"
		   "client_timeout = 2\nsocket = /tmp/x.sock\nnamespaces = no\nnamespace_scan = 2\n"
		   "fast_interval = 0.05\nbpf = no\n\n"
		   "[diagnose]\nslow_accept_ticks = 9\nfull_window_ticks = 4\ngap_memory = 120\n"
		   "ephemeral_pct = 70\norphans_pct = 75\nconntrack_pct = 85\nreuseport_room_pct = 40\n"
		   "link_dropped_min = 50\n"
		   "[deep]\nevery_ticks = 30\n"
		   "[ignore]\nports = 22, 53 8080\naddresses = 127.0.0.53 ::1\nports = 9\n");
	config_defaults(&cfg);
	cr_assert_eq(config_load(conf_path, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.tick_ms, 500);
	cr_assert_eq(cfg.quiet_secs, 120);
	cr_assert_eq(cfg.client_timeout_ms, 2000);
	cr_assert_str_eq(cfg.socket_path, "/tmp/x.sock");
	cr_assert_eq(cfg.namespaces, CONFIG_NS_NO);
	cr_assert_eq(cfg.bpf, CONFIG_BPF_NO);
	cr_assert_eq(cfg.namespace_scan_ticks, 2);
	cr_assert_eq(cfg.fast_ms, 50);
	cr_assert_eq(cfg.thr.slow_accept_ticks, 9);
	cr_assert_eq(cfg.thr.full_window_ticks, 4);
	cr_assert_eq(cfg.thr.gap_memory_secs, 120);
	cr_assert_eq(cfg.thr.ephemeral_pct, 70);
	cr_assert_eq(cfg.thr.orphans_pct, 75);
	cr_assert_eq(cfg.thr.conntrack_pct, 85);
	cr_assert_eq(cfg.thr.reuseport_room_pct, 40);
	cr_assert_eq(cfg.thr.link_dropped_min, 50);
	cr_assert_eq(cfg.deep_every_ticks, 30);
	cr_assert_eq(cfg.n_ignore_ports, 4);
	cr_assert_eq(cfg.ignore_ports[2], 8080);
	cr_assert_eq(cfg.ignore_ports[3], 9);
	cr_assert_eq(cfg.n_ignore_addrs, 2);
	cr_assert_eq(cfg.ignore_addrs[0].family, AF_INET);
	cr_assert_eq(cfg.ignore_addrs[1].family, AF_INET6);
}

/* Each bad file must fail with FILE:LINE and leave the config untouched. */
static void expect_error(const char *text, int line, const char *needle)
{
	struct config cfg, before;
	char err[256] = "", want[128];

	write_conf(text);
	config_defaults(&cfg);
	before = cfg;
	cr_assert_eq(config_load(conf_path, &cfg, err, sizeof(err)), -EINVAL, "accepted: %s", text);
	snprintf(want, sizeof(want), "%s:%d: ", conf_path, line);
	cr_assert(strstr(err, want) == err, "error '%s' lacks '%s'", err, want);
	cr_assert(strstr(err, needle), "error '%s' lacks '%s'", err, needle);
	cr_assert(memcmp(&cfg, &before, sizeof(cfg)) == 0, "config changed by a bad file");
	unlink(conf_path);
}

Test(config, unknown_key)
{
	expect_error("[daemon]\ninterval = 2\nintreval = 3\n", 3, "unknown key 'intreval'");
}

Test(config, unknown_section)
{
	/* The header's own line, and even with no key under it: a typo must not hide keys. */
	expect_error("[daemon]\ninterval = 2\n[daemons]\ninterval = 3\n", 3, "unknown section [daemons]");
	expect_error("[daemon]\ninterval = 2\n[deamon]\n", 3, "unknown section [deamon]");
	expect_error("[daemon\ninterval = 2\n", 1, "syntax error");
}

Test(config, key_outside_section)
{
	expect_error("interval = 2\n", 1, "unknown");
}

Test(config, bad_values)
{
	expect_error("[daemon]\ninterval = fast\n", 2, "interval");
	expect_error("[daemon]\ninterval = 0\n", 2, "0.1 to 3600");
	expect_error("[daemon]\ninterval = nan\n", 2, "interval");
	expect_error("[daemon]\nquiet_period = -1\n", 2, "quiet_period");
	expect_error("[daemon]\nquiet_period = 99999999999999999999\n", 2, "quiet_period");
	expect_error("[daemon]\nsocket = relative.sock\n", 2, "absolute path");
	expect_error("[daemon]\nnamespaces = maybe\n", 2, "want auto, yes or no");
	expect_error("[daemon]\nbpf = on\n", 2, "want auto, yes or no");
	expect_error("[daemon]\nfast_interval = 0.001\n", 2, "fast_interval");
	expect_error("[diagnose]\nslow_accept_ticks = 0\n", 2, "slow_accept_ticks");
	expect_error("[diagnose]\nfull_window_ticks = 33\n", 2, "full_window_ticks");
	expect_error("[ignore]\nports = 22 70000\n", 2, "'70000' is not a port");
	expect_error("[diagnose]\norphans_pct = 101\n", 2, "percentage");
	expect_error("[diagnose]\nconntrack_pct = 0\n", 2, "percentage");
	expect_error("[diagnose]\ngap_memory = 0\n", 2, "gap_memory");
	expect_error("[diagnose]\nlink_dropped_min = 0\n", 2, "link_dropped_min");
	expect_error("[deep]\nevery_ticks = -3\n", 2, "every_ticks");
	expect_error("[deep]\nsometimes = 1\n", 2, "unknown key 'sometimes'");
	expect_error("[ignore]\naddresses = 10.0.0.300\n", 2, "not an IPv4 or IPv6 address");
}

Test(config, errors_say_the_range_and_keep_the_reason)
{
	char text[1200];
	size_t off;

	expect_error("[diagnose]\nfull_window_ticks = 33\n", 2, "want a whole number from 1 to 32");
	expect_error("[daemon]\nfast_interval = 61\n", 2, "want seconds from 0.01 to 60, or 0 (off)");
	expect_error("[daemon]\nclient_timeout = 0.05\n", 2, "[daemon] client_timeout = '0.05': want seconds from 0.1 to 600");
	expect_error("[daemon]\nsocket = x\n", 2, "shorter than 108 bytes");
	/* A long list is cut in the message; the reason after it is not. */
	off = (size_t)snprintf(text, sizeof(text), "[ignore]\nports =");
	for (int i = 1; i < 100; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, " %d", i);
	snprintf(text + off, sizeof(text) - off, " 0\n");
	expect_error(text, 2, "more than 64 entries");
}

Test(config, fast_interval_zero_is_off)
{
	struct config cfg;
	char err[256] = "";

	write_conf("[daemon]\nfast_interval = 0\n");
	config_defaults(&cfg);
	cr_assert_eq(config_load(conf_path, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.fast_ms, 0);
}

/* The diagnosis defaults are diagnose's own: config repeats none of them. */
Test(config, diagnose_defaults_come_from_diagnose)
{
	struct diag_thresholds thr;
	struct config cfg;

	diag_thresholds_default(&thr);
	config_defaults(&cfg);
	cr_assert(memcmp(&cfg.thr, &thr, sizeof(thr)) == 0);
}

/* The command line's -i and -S go through the file's parser. */
Test(config, set_one_key)
{
	struct config cfg;
	char err[160] = "";

	config_defaults(&cfg);
	cr_assert(config_set(&cfg, "daemon", "interval", "0.25", err, sizeof(err)), "%s", err);
	cr_assert_eq(cfg.tick_ms, 250);
	cr_assert(config_set(&cfg, "daemon", "socket", "/tmp/y.sock", err, sizeof(err)), "%s", err);
	cr_assert_str_eq(cfg.socket_path, "/tmp/y.sock");
	cr_assert_not(config_set(&cfg, "daemon", "interval", "0", err, sizeof(err)));
	cr_assert_str_eq(err, "want seconds from 0.1 to 3600");
	cr_assert_eq(cfg.tick_ms, 250);
	cr_assert_not(config_set(&cfg, "daemon", "intervals", "1", err, sizeof(err)));
	cr_assert_str_eq(err, "no key 'intervals' in [daemon]");
}

/* [metrics] textfile: off by default, an absolute path, and nothing turns it off again. */
Test(config, metrics_textfile)
{
	struct config cfg;
	char err[160] = "";

	config_defaults(&cfg);
	cr_assert_str_eq(cfg.metrics_textfile, "");
	cr_assert(config_set(&cfg, "metrics", "textfile", "/var/lib/node/backlogd.prom", err, sizeof(err)), "%s", err);
	cr_assert_str_eq(cfg.metrics_textfile, "/var/lib/node/backlogd.prom");
	cr_assert_not(config_set(&cfg, "metrics", "textfile", "backlogd.prom", err, sizeof(err)));
	cr_assert(strstr(err, "absolute path"), "%s", err);
	cr_assert_str_eq(cfg.metrics_textfile, "/var/lib/node/backlogd.prom");
	cr_assert(config_set(&cfg, "metrics", "textfile", "", err, sizeof(err)), "%s", err);
	cr_assert_str_eq(cfg.metrics_textfile, "");
	expect_error("[metrics]\ntextfile = rel/x.prom\n", 2, "absolute path");
}

Test(config, syntax_error)
{
	expect_error("[daemon]\n\ninterval 2\n", 3, "syntax error");
}

Test(config, first_error_wins)
{
	expect_error("[daemon]\nbogus = 1\ninterval = x\n", 2, "unknown key 'bogus'");
}

Test(config, missing_file)
{
	struct config cfg;
	char err[256] = "";

	config_defaults(&cfg);
	cr_assert_eq(config_load("/nonexistent/backlogd.conf", &cfg, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "/nonexistent/backlogd.conf"));
}

/* A path that is not a regular file is refused with a reason, never read as empty. */
static void expect_not_a_file(const char *path)
{
	struct config cfg, before;
	char err[256] = "";

	config_defaults(&cfg);
	cfg.tick_ms = 2000;
	before = cfg;
	cr_assert_eq(config_load(path, &cfg, err, sizeof(err)), -EINVAL, "%s accepted", path);
	cr_assert(strstr(err, "not a regular file"), "%s", err);
	cr_assert(memcmp(&cfg, &before, sizeof(cfg)) == 0, "config changed by %s", path);
}

Test(config, directory_and_fifo_are_refused)
{
	char dir[] = "/tmp/backlogd-confdir-XXXXXX", fifo[64];

	cr_assert_not_null(mkdtemp(dir));
	expect_not_a_file(dir);
	/* A FIFO nobody writes to must not block the load. */
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	expect_not_a_file(fifo);
	unlink(fifo);
	rmdir(dir);
}

Test(config, dev_null_is_the_defaults)
{
	struct config cfg;
	char err[256] = "";

	config_defaults(&cfg);
	cr_assert_eq(config_load("/dev/null", &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.tick_ms, 1000);
}

/* A list longer than the 199 bytes libinih cut lines at is read whole, with its comment. */
Test(config, long_lines_and_comments)
{
	struct config cfg;
	char text[2400], err[256] = "";
	size_t off;

	off = (size_t)snprintf(text, sizeof(text), "[ignore] ; ports kept off\nports =");
	for (int p = 1000; p < 1060; p++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, " %d", p);
	snprintf(text + off, sizeof(text) - off, " ; sixty\r\n[daemon]\ninterval: 2\n");
	cr_assert_gt(strlen(text), 300);
	write_conf(text);
	config_defaults(&cfg);
	cr_assert_eq(config_load(conf_path, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.n_ignore_ports, 60);
	cr_assert_eq(cfg.ignore_ports[59], 1059);
	cr_assert_eq(cfg.tick_ms, 2000);
	unlink(conf_path);
	/* Past the reader's own limit the error names the real line and says why. */
	memset(text, 'x', 2200);
	memcpy(text, "[daemon]\n\n", 10);
	text[2200] = '\0';
	expect_error(text, 3, "line longer than");
}

Test(config, ignores)
{
	struct config cfg;
	struct listener l = { .family = AF_INET, .port = 8080 };
	char err[256] = "";

	write_conf("[ignore]\nports = 22\naddresses = 127.0.0.53 ::1\n");
	config_defaults(&cfg);
	cr_assert_eq(config_load(conf_path, &cfg, err, sizeof(err)), 0, "%s", err);
	inet_pton(AF_INET, "127.0.0.1", l.addr);
	cr_assert_not(config_ignores(&cfg, &l));
	l.port = 22;
	cr_assert(config_ignores(&cfg, &l));
	l.port = 53;
	inet_pton(AF_INET, "127.0.0.53", l.addr);
	cr_assert(config_ignores(&cfg, &l));
	l.family = AF_INET6;
	memset(l.addr, 0, sizeof(l.addr));
	l.addr[15] = 1;
	cr_assert(config_ignores(&cfg, &l));
	l.addr[15] = 2;
	cr_assert_not(config_ignores(&cfg, &l));
}
