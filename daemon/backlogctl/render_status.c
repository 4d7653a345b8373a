/* render_status.c: the status document: header, limits, host state, gaps, namespace errors. */
#include "base.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "render_int.h"

/* An interface name (IFNAMSIZ 16) with room to spare. */
#define LINK_CELL 32

/* ", 3 listeners": a count from the daemon object, when it sent one. */
static void count_item(FILE *out, const json_t *d, const char *key, const char *what)
{
	long long v;

	if (jget_int(d, key, &v))
		fprintf(out, ", %lld %s%s", v, what, v == 1 ? "" : "s");
}

/* "cannot read: net/netstat, net/snmp": sources the latest tick went without. */
static void render_unreadable(FILE *out, const json_t *a)
{
	char clean[CELL_MAX];
	size_t i, shown = 0;
	json_t *v;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			continue;
		copy_clean(clean, sizeof(clean), json_string_value(v));
		fprintf(out, "%s%s", shown++ ? ", " : "cannot read: ", clean);
	}
	if (shown)
		fputs(" (what they count is unknown)\n", out);
}

/* "namespaces capped: watching 8 of 302 (max_namespaces), ...": only when some are skipped. */
static void render_capped(FILE *out, const json_t *d)
{
	const char *why = jget_str(d, "namespaces_capped");
	long long watched, found, cap;

	if (!why || !jget_int(d, "namespaces_count", &watched) || !jget_int(d, "namespaces_found", &found))
		return;
	fprintf(out, "namespaces capped: watching %lld of %lld, ", watched, found);
	if (strcmp(why, "open files") == 0)
		fputs("the open-file limit is near", out);
	else if (jget_int(d, "namespaces_cap", &cap))
		fprintf(out, "max_namespaces = %lld", cap);
	else
		fputs("max_namespaces", out);
	fputs("; named and container namespaces come first\n", out);
}

/*
 * The eBPF tier only when it is not all there: without it the findings do
 * not name clients, and whoever reads the status should learn why.
 */
static void render_bpf(FILE *out, const json_t *d)
{
	const char *why = jget_str(d, "bpf_why");
	char clean[CELL_MAX];

	if (!why)
		return;
	copy_clean(clean, sizeof(clean), why);
	if (json_is_true(jget(d, "bpf")))
		fprintf(out, "eBPF tier partly running: %s\n", clean);
	else
		fprintf(out, "eBPF tier off (findings do not name the clients): %s\n", clean);
}

/* "backlogd 0.1.0, up 12s, 2 ticks every 1 s, 3 listeners, 2 active findings" and any error lines under it. */
static void render_daemon(FILE *out, const json_t *d)
{
	const char *version = jget_str(d, "version");
	const char *err = jget_str(d, "last_error");
	const char *scan_err = jget_str(d, "scan_error");
	char up[32], tick[32], clean[CELL_MAX];
	long long v;

	fprintf(out, "backlogd %s", version ? version : "(unknown version)");
	if (jget_int(d, "uptime_s", &v)) {
		format_duration(up, sizeof(up), v);
		fprintf(out, ", up %s", up);
	}
	if (jget_int(d, "ticks", &v)) {
		fprintf(out, ", %lld ticks", v);
		if (jget_int(d, "tick_interval_ms", &v) && v > 0) {
			format_ms(tick, sizeof(tick), v);
			fprintf(out, " every %s", tick);
		}
	}
	/* One namespace is the old daemon's whole world: say the count only when it is news. */
	if (jget_int(d, "namespaces_count", &v) && (v != 1 || json_is_true(jget(d, "scan"))))
		count_item(out, d, "namespaces_count", "namespace");
	count_item(out, d, "listeners_count", "listener");
	count_item(out, d, "findings_active", "active finding");
	fputc('\n', out);
	if (err) {
		copy_clean(clean, sizeof(clean), err);
		fprintf(out, "last error: %s", clean);
		if (jget_int(d, "failed_ticks", &v))
			fprintf(out, " (%lld failed tick%s)", v, v == 1 ? "" : "s");
		fputc('\n', out);
	}
	if (scan_err) {
		copy_clean(clean, sizeof(clean), scan_err);
		fprintf(out, "namespace scan failed: %s (the namespaces found before are still watched)\n", clean);
	}
	render_unreadable(out, jget(d, "unreadable"));
	render_capped(out, d);
	render_bpf(out, d);
}

/* The first line: the daemon's, or what a one-shot diagnose document says of itself. */
static void render_header(FILE *out, const json_t *doc)
{
	const json_t *d = jget(doc, "daemon");
	const json_t *diag = jget(doc, "diagnose");
	double interval;

	if (json_is_object(d))
		render_daemon(out, d);
	else if (json_is_object(diag) && jget_num(diag, "interval_s", &interval))
		fprintf(out, "one-shot diagnosis (no daemon): two samples %.1f s apart\n", interval);
	else if (json_is_object(diag))
		fputs("one-shot diagnosis (no daemon)\n", out);
	else
		fputs("backlogd (no daemon information)\n", out);
}

static void limit_item(FILE *out, const json_t *lim, const char *key, const char *label, bool first)
{
	long long v;

	fprintf(out, "%s%s ", first ? "" : "  ", label);
	if (jget_int(lim, key, &v))
		fprintf(out, "%lld", v);
	else
		fputs("?", out);
}

/*
 * The limits of the other causes on a second line under the first, only
 * those known: a daemon that sends none (an older one) prints nothing.
 */
static void render_more_limits(FILE *out, const json_t *lim)
{
	static const struct {
		const char *key, *label;
	} ints[] = {
		{ "tcp_tw_reuse", "tw_reuse" },
		{ "tcp_max_tw_buckets", "max_tw_buckets" },
		{ "tcp_max_orphans", "max_orphans" },
		{ "nf_conntrack_max", "conntrack_max" },
	};
	char buf[96];
	long long v;
	bool any = false;

	if (format_int_array(buf, sizeof(buf), jget(lim, "ip_local_port_range"), "-")) {
		fprintf(out, "        port_range %s", buf);
		any = true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ints); i++) {
		if (!jget_int(lim, ints[i].key, &v))
			continue;
		fprintf(out, "%s%s %lld", any ? "  " : "        ", ints[i].label, v);
		any = true;
	}
	if (format_int_array(buf, sizeof(buf), jget(lim, "tcp_mem"), " ")) {
		fprintf(out, "%stcp_mem %s", any ? "  " : "        ", buf);
		any = true;
	}
	if (any)
		fputc('\n', out);
}

static void render_limits(FILE *out, const json_t *doc)
{
	const json_t *lim = jget(doc, "limits");

	if (!json_is_object(lim))
		return;
	fputs("limits: ", out);
	limit_item(out, lim, "somaxconn", "somaxconn", true);
	limit_item(out, lim, "tcp_max_syn_backlog", "tcp_max_syn_backlog", false);
	limit_item(out, lim, "tcp_syncookies", "syncookies", false);
	limit_item(out, lim, "tcp_abort_on_overflow", "abort_on_overflow", false);
	fputc('\n', out);
	render_more_limits(out, lim);
}

/*
 * The host counters with something to say (a nonzero total or delta); a
 * wall of zeros would bury the one that moved.
 */
static void render_host(FILE *out, const json_t *doc)
{
	static const char *const head[] = { "HOST COUNTER", "TOTAL", "DELTA", "RATE" };
	const json_t *host = jget(doc, "host");
	const json_t *counters = jget(host, "counters");
	const char *name;
	const json_t *c;
	struct table t;
	double interval, rate;

	if (!json_is_object(counters) || json_object_size(counters) == 0)
		return;
	table_init(&t, head, "lrrr");
	json_object_foreach((json_t *)counters, name, c) {
		char cells[4][CELL_MAX];
		long long total = 0, delta = 0;
		bool have_total = jget_int(c, "total", &total);
		bool have_delta = jget_int(c, "delta", &delta);

		if (total == 0 && delta == 0)
			continue;
		copy_clean(cells[0], CELL_MAX, name);
		if (have_total)
			snprintf(cells[1], CELL_MAX, "%lld", total);
		else
			snprintf(cells[1], CELL_MAX, "-");
		cell_delta(cells[2], CELL_MAX, c, "delta");
		if (have_delta && jget_num(c, "per_sec", &rate))
			format_rate(cells[3], CELL_MAX, rate);
		else
			snprintf(cells[3], CELL_MAX, "-");
		table_add(&t, cells);
	}
	fputc('\n', out);
	if (t.nrows == 0) {
		fputs("Host counters: all zero.\n", out);
	} else {
		if (jget_num(host, "interval_s", &interval))
			fprintf(out, "Host counters (delta over the last %.1f s):\n", interval);
		table_print(out, &t);
	}
	table_free(&t);
}

/* The interfaces that dropped anything: "eth0 +3 (12 total)", summed over the three counters. */
static void host_link_drops(char *buf, size_t len, const json_t *links)
{
	static const char *const keys[] = { "rx_dropped", "rx_missed_errors", "rx_fifo_errors" };
	size_t i;
	const json_t *l;

	json_array_foreach(links, i, l) {
		const json_t *d = jget(l, "deltas");
		long long total = 0, delta = 0, v;
		bool have_delta = json_is_object(d);
		char name[LINK_CELL];

		for (size_t k = 0; k < 3; k++) {
			if (jget_int(l, keys[k], &v) && v > 0 && total <= LLONG_MAX - v)
				total += v;
			if (have_delta && jget_int(d, keys[k], &v) && v > 0 && delta <= LLONG_MAX - v)
				delta += v;
		}
		if (total == 0)
			continue;
		cell_str(name, sizeof(name), l, "name");
		if (have_delta)
			line_add(buf, len, ", ", "%s +%lld (%lld total)", name, delta, total);
		else
			line_add(buf, len, ", ", "%s %lld total", name, total);
	}
}

/*
 * One compact line for the host-wide state: TCP sockets and memory,
 * conntrack when the module is loaded, interfaces that dropped packets.
 * Nothing is printed when the daemon sent none of them.
 */
static void render_host_line(FILE *out, const json_t *doc)
{
	const json_t *host = jget(doc, "host");
	const json_t *ss = jget(host, "sockstat");
	const json_t *ct = jget(host, "conntrack");
	char line[1024] = "", part[512] = "";
	long long v, max;

	if (json_is_object(ss)) {
		if (jget_int(ss, "inuse", &v))
			line_add(part, sizeof(part), ", ", "tcp %lld in use", v);
		if (jget_int(ss, "tcp6_inuse", &v))
			line_add(part, sizeof(part), ", ", "tcp6 %lld", v);
		if (jget_int(ss, "orphan", &v))
			line_add(part, sizeof(part), ", ", "%lld orphaned", v);
		if (jget_int(ss, "tw", &v))
			line_add(part, sizeof(part), ", ", "%lld time-wait", v);
		if (jget_int(ss, "mem", &v))
			line_add(part, sizeof(part), ", ", "mem %lld pages", v);
		if (part[0])
			line_add(line, sizeof(line), "; ", "%s", part);
	}
	if (json_is_object(ct) && json_is_true(jget(ct, "present"))) {
		const json_t *d = jget(ct, "deltas");

		part[0] = '\0';
		if (jget_int(ct, "count", &v) && jget_int(ct, "max", &max))
			line_add(part, sizeof(part), ", ", "conntrack %lld of %lld", v, max);
		else if (jget_int(ct, "count", &v))
			line_add(part, sizeof(part), ", ", "conntrack %lld", v);
		else
			line_add(part, sizeof(part), ", ", "conntrack");
		if (jget_int(d, "drop", &v))
			line_add(part, sizeof(part), ", ", "+%lld drops", v);
		if (jget_int(d, "insert_failed", &v) && v > 0)
			line_add(part, sizeof(part), ", ", "+%lld insert failures", v);
		line_add(line, sizeof(line), "; ", "%s", part);
	}
	part[0] = '\0';
	host_link_drops(part, sizeof(part), jget_array(host, "links"));
	if (part[0])
		line_add(line, sizeof(line), "; ", "link drops: %s", part);
	if (line[0]) {
		copy_clean(line, sizeof(line), line);
		fprintf(out, "host: %s\n", line);
	}
}

/* "tcpload[812]" from a gap's pid and comm keys; "-" when unknown. */
static void cell_pid_comm(char *buf, size_t len, const json_t *o, const char *pid_key, const char *comm_key)
{
	const char *comm = jget_str(o, comm_key);
	long long pid;
	char clean[64];

	copy_clean(clean, sizeof(clean), comm ? comm : "?");
	if (jget_int(o, pid_key, &pid))
		snprintf(buf, len, "%s[%lld]", clean, pid);
	else if (comm)
		snprintf(buf, len, "%s", clean);
	else
		snprintf(buf, len, "-");
}

/*
 * The RECENT LISTENER GAPS table: which address:port went without a
 * listener, when, for how long, who held it before and after. Printed only
 * when there were any.
 */
static void render_gaps(FILE *out, const json_t *doc)
{
	static const char *const head[] = { "LISTENER", "VANISHED", "GAP", "BEFORE", "AFTER", "RESETS" };
	const json_t *a = jget_array(doc, "gaps");
	struct table t;
	size_t i;
	const json_t *g;

	if (json_array_size(a) == 0)
		return;
	table_init(&t, head, "llrllr");
	json_array_foreach(a, i, g) {
		char cells[6][CELL_MAX], prefix[104], name[CELL_MAX - 104];
		long long ms;

		if (!json_is_object(g))
			continue;
		ns_prefix(prefix, sizeof(prefix), jget(g, "netns"));
		cell_str(name, sizeof(name), g, "listener");
		snprintf(cells[0], CELL_MAX, "%s%s", prefix, name);
		format_time(cells[1], CELL_MAX, g, "vanished_at");
		if (json_is_true(jget(g, "absent")))
			snprintf(cells[2], CELL_MAX, "still absent");
		else if (json_is_true(jget(g, "replaced")))
			snprintf(cells[2], CELL_MAX, "replaced");
		else if (jget_int(g, "gap_ms", &ms))
			format_ms(cells[2], CELL_MAX, ms);
		else
			snprintf(cells[2], CELL_MAX, "-");
		cell_pid_comm(cells[3], CELL_MAX, g, "old_pid", "old_comm");
		cell_pid_comm(cells[4], CELL_MAX, g, "new_pid", "new_comm");
		cell_int(cells[5], CELL_MAX, g, "out_rsts");
		table_add(&t, cells);
	}
	if (t.nrows > 0) {
		fputs("\nRECENT LISTENER GAPS\n", out);
		table_print(out, &t);
	}
	table_free(&t);
}

/* A namespace whose latest tick failed keeps its last state: say so, or its numbers look current. */
static void render_ns_errors(FILE *out, const json_t *nss)
{
	size_t i;
	const json_t *x;

	json_array_foreach(nss, i, x) {
		const char *err = jget_str(x, "last_error");
		char label[96], clean[CELL_MAX];

		if (!err)
			continue;
		ns_label(label, sizeof(label), x);
		copy_clean(clean, sizeof(clean), err);
		fprintf(out, "namespace %s: latest tick failed: %s\n", label, clean);
	}
}

/* Print a status (or one-shot diagnose) document: header, limits, host, listeners, gaps, findings. */
void render_status(FILE *out, const json_t *status)
{
	if (!json_is_object(status)) {
		fputs("backlogctl: the daemon sent no status document\n", out);
		return;
	}
	render_header(out, status);
	render_limits(out, status);
	render_host_line(out, status);
	render_host(out, status);
	fputc('\n', out);
	render_listener_groups(out, jget_array(status, "listeners"), jget_array(status, "namespaces"));
	render_ns_errors(out, jget_array(status, "namespaces"));
	render_gaps(out, status);
	fputc('\n', out);
	render_findings(out, jget(status, "findings"));
}
