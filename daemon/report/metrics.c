/* metrics.c: the fleet's state as Prometheus text exposition, and the textfile node_exporter collects. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "causes.h"
#include "listener.h"
#include "metrics.h"
#include "monitor.h"
#include "ownertab.h"
#include "report_int.h"
#include "safe_text.h"

/*
 * What one exposition reads: the members in document order, each with its
 * listeners sorted and its namespace's label value. A family's samples must
 * be contiguous, so every family walks the namespaces again.
 */
struct mview {
	FILE *f;
	const struct fleet *fl;
	const struct fleet_member **members;
	size_t n;
	const struct tracked ***listeners;  /* [n], each NULL when the namespace has none */
	char (*netns)[NETNS_NAME_MAX];      /* [n]: its name, or its inode when it has none */
};

/*
 * A label value as the format wants it: backslash, double quote and newline
 * escaped, so a hostile comm cannot end the value or the line; other
 * control bytes, C1 controls and bytes that are not UTF-8 become '?'
 * (they could act on the terminal that `backlogctl metrics` prints to, and
 * the format requires UTF-8). Printable text is kept exactly.
 */
static void put_label_value(FILE *f, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strnlen(s, max);

	for (size_t i = 0; i < len;) {
		int n;

		if (p[i] == '\\' || p[i] == '"') {
			fputc('\\', f);
			fputc(p[i++], f);
		} else if (p[i] == '\n') {
			fputs("\\n", f);
			i++;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			fputc('?', f);
			i++;
		} else if (p[i] < 0x80) {
			fputc(p[i++], f);
		} else if ((n = utf8_char_len(p + i, len - i)) > 0 &&
			   !(p[i] == 0xc2 && p[i + 1] < 0xa0)) {
			fwrite(p + i, 1, (size_t)n, f);
			i += (size_t)n;
		} else {
			/* One '?' per bad byte, one per C1 character, as safe_text() does. */
			fputc('?', f);
			i += n > 0 ? (size_t)n : 1;
		}
	}
}

/* name="value" with a leading comma unless first. */
static void put_label(FILE *f, bool first, const char *name, const char *value, size_t max)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	put_label_value(f, value, max);
	fputc('"', f);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* ---- per listener ---- */

/* netns, listener, port, inode: a SO_REUSEPORT group shares address:port, the socket's inode tells its members apart. */
static void listener_labels(FILE *f, const char *netns, const struct tracked *tr)
{
	char name[LISTENER_NAME_MAX];
	char num[24];

	listener_name(&tr->l, name, sizeof(name));
	put_label(f, true, "netns", netns, NETNS_NAME_MAX);
	put_label(f, false, "listener", name, sizeof(name));
	snprintf(num, sizeof(num), "%u", (unsigned)tr->l.port);
	put_label(f, false, "port", num, sizeof(num));
	snprintf(num, sizeof(num), "%u", (unsigned)tr->l.inode);
	put_label(f, false, "inode", num, sizeof(num));
}

enum lmetric { LM_QUEUE, LM_LIMIT, LM_PEAK, LM_DROPS, LM_INFO };

static const struct {
	const char *name, *type, *help;
} lmetrics[] = {
	[LM_QUEUE] = { "backlogd_listener_accept_queue_length", "gauge",
		       "Connections waiting in the listener's accept queue at the latest tick." },
	[LM_LIMIT] = { "backlogd_listener_accept_queue_limit", "gauge",
		       "The accept queue's limit: the listen() backlog as the kernel clamped it." },
	[LM_PEAK] = { "backlogd_listener_accept_queue_peak", "gauge",
		      "Highest accept queue seen since the previous tick, by the tick and the fast samples between." },
	[LM_DROPS] = { "backlogd_listener_drops_total", "counter",
		       "Packets the listening socket dropped (SK_MEMINFO_DROPS: accept queue overflows among them) since backlogd first saw it." },
	[LM_INFO] = { "backlogd_listener_info", "gauge",
		      "Who holds the listener: its accepting process, unit and container; value 1." },
};

/* The process that accepts, else the first holder; NULL when none is known. */
static const struct owner_proc *info_proc(const struct owner *ow)
{
	if (owner_nprocs(ow) == 0)
		return NULL;
	return owner_acceptor(ow);
}

static void listener_info(FILE *f, const struct fleet_member *fm, const struct tracked *tr)
{
	const struct owner *ow = tracked_owner(tr);
	const struct owner_proc *op = info_proc(ow);
	char pid[16] = "";

	if (op)
		snprintf(pid, sizeof(pid), "%d", op->pid);
	put_label(f, false, "comm", op ? op->comm : "", OWNER_COMM_MAX);
	put_label(f, false, "pid", pid, sizeof(pid));
	put_label(f, false, "unit", ow->unit, sizeof(ow->unit));
	put_label(f, false, "container", fm->ns.kind == NETNS_CONTAINER ? fm->ns.name : "", NETNS_NAME_MAX);
}

static void listener_sample(const struct mview *v, size_t m, const struct tracked *tr, enum lmetric lm)
{
	const struct tick_point *last = tracked_hist(tr, 0);
	FILE *f = v->f;

	fprintf(f, "%s{", lmetrics[lm].name);
	listener_labels(f, v->netns[m], tr);
	if (lm == LM_INFO)
		listener_info(f, v->members[m], tr);
	fputs("} ", f);
	switch (lm) {
	case LM_QUEUE:
		fprintf(f, "%u\n", (unsigned)tr->l.queue);
		break;
	case LM_LIMIT:
		fprintf(f, "%u\n", (unsigned)tr->l.backlog);
		break;
	case LM_PEAK:
		fprintf(f, "%u\n", (unsigned)(last && last->queue > tr->l.queue ? last->queue : tr->l.queue));
		break;
	case LM_DROPS:
		fprintf(f, "%llu\n", (unsigned long long)tr->drops_total);
		break;
	case LM_INFO:
		fputs("1\n", f);
		break;
	}
}

static void listener_metrics(const struct mview *v)
{
	for (size_t lm = 0; lm < ARRAY_SIZE(lmetrics); lm++) {
		family(v->f, lmetrics[lm].name, lmetrics[lm].type, lmetrics[lm].help);
		for (size_t m = 0; m < v->n; m++) {
			const struct track *t = &v->members[m]->mon.track;

			for (size_t i = 0; v->listeners[m] && i < t->count; i++)
				listener_sample(v, m, v->listeners[m][i], (enum lmetric)lm);
		}
	}
}

/* ---- findings ---- */

/*
 * One series per active finding. "subject" is the finding's key (an
 * address:port, "host", an interface, a destination), not its long
 * subject line, whose pid would make a new series at every restart.
 */
static void finding_metrics(const struct mview *v)
{
	FILE *f = v->f;

	family(f, "backlogd_finding_active", "gauge",
	       "An active finding: its cause, severity, subject (address:port, host, interface or destination), "
	       "and role (cause, or side-effect of another finding); value 1.");
	for (size_t m = 0; m < v->n; m++) {
		const struct finding_table *ft = &v->members[m]->mon.findings;

		for (size_t i = 0; i < ft->count; i++) {
			const struct finding *fi = &ft->items[i].f;

			if (ft->items[i].state != FINDING_ACTIVE)
				continue;
			fputs("backlogd_finding_active{", f);
			put_label(f, true, "cause", cause_name(fi->cause), 64);
			put_label(f, false, "severity", severity_name(fi->priority), 16);
			put_label(f, false, "subject", fi->listener, sizeof(fi->listener));
			put_label(f, false, "netns", v->netns[m], NETNS_NAME_MAX);
			put_label(f, false, "role", side_effect_of(fi) != CAUSE_NONE ? "side-effect" : "cause", 16);
			fputs("} 1\n", f);
		}
	}
	family(f, "backlogd_findings_opened_total", "counter",
	       "Findings opened since backlogd started, by cause (a revision of an open finding is not counted).");
	for (int c = CAUSE_FIRST; c < CAUSE_COUNT; c++)
		fprintf(f, "backlogd_findings_opened_total{cause=\"%s\"} %lu\n", cause_name((enum cause)c),
			v->fl->opened[c]);
}

/* ---- per namespace: host counters, limits, tick health ---- */

/*
 * "TcpExt.TCPReqQFullDrop" as backlogd_netstat_tcp_ext_tcp_req_q_full_drop_total:
 * Prometheus names are snake_case (promtool says so); HELP keeps the kernel's name.
 * A capital starts a word after a small letter or digit, or ends a run of
 * capitals when a small letter follows it.
 */
static void snake_name(char *out, size_t size, const char *key)
{
	size_t o = (size_t)snprintf(out, size, "backlogd_netstat_");

	for (size_t i = 0; key[i] && o + 8 < size; i++) {
		char c = key[i];
		bool upper = c >= 'A' && c <= 'Z';
		bool after_small = i > 0 && ((key[i - 1] >= 'a' && key[i - 1] <= 'z') ||
					     (key[i - 1] >= '0' && key[i - 1] <= '9'));
		bool ends_run = i > 0 && key[i - 1] >= 'A' && key[i - 1] <= 'Z' &&
				key[i + 1] >= 'a' && key[i + 1] <= 'z';

		if (c == '.') {
			out[o++] = '_';
			continue;
		}
		if (upper && (after_small || ends_run) && out[o - 1] != '_')
			out[o++] = '_';
		out[o++] = upper ? (char)(c - 'A' + 'a') : c;
	}
	snprintf(out + o, size - o, "_total");
}

static void counter_metrics(const struct mview *v)
{
	for (size_t k = 0; k < host_counter_count; k++) {
		const char *key = host_counter_names[k];
		char name[COUNTER_NAME_MAX + 32];
		bool any = false;

		snake_name(name, sizeof(name), key);
		for (size_t m = 0; m < v->n; m++) {
			int64_t value;

			if (!counters_get(&v->members[m]->mon.track.host_cur, key, &value) || value < 0)
				continue;
			if (!any) {
				char help[COUNTER_NAME_MAX + 64];

				snprintf(help, sizeof(help), "The kernel's %s counter (/proc/net/netstat or snmp) in the namespace.", key);
				family(v->f, name, "counter", help);
				any = true;
			}
			fprintf(v->f, "%s{", name);
			put_label(v->f, true, "netns", v->netns[m], NETNS_NAME_MAX);
			fprintf(v->f, "} %lld\n", (long long)value);
		}
	}
}

static const struct {
	const char *name, *help;
	size_t offset;
} limit_metrics[] = {
	{ "backlogd_limit_somaxconn", "net.core.somaxconn: the cap on every listen() backlog.",
	  offsetof(struct limits, somaxconn) },
	{ "backlogd_limit_tcp_max_syn_backlog", "net.ipv4.tcp_max_syn_backlog: the SYN queue's cap.",
	  offsetof(struct limits, tcp_max_syn_backlog) },
	{ "backlogd_limit_tcp_syncookies", "net.ipv4.tcp_syncookies: 0 off, 1 when the SYN queue overflows, 2 always.",
	  offsetof(struct limits, tcp_syncookies) },
	{ "backlogd_limit_tcp_abort_on_overflow", "net.ipv4.tcp_abort_on_overflow: 1 resets clients when the accept queue is full.",
	  offsetof(struct limits, tcp_abort_on_overflow) },
	{ "backlogd_limit_tcp_max_tw_buckets", "net.ipv4.tcp_max_tw_buckets: TIME-WAIT sockets allowed.",
	  offsetof(struct limits, tcp_max_tw_buckets) },
	{ "backlogd_limit_tcp_max_orphans", "net.ipv4.tcp_max_orphans: orphaned sockets allowed (host-wide).",
	  offsetof(struct limits, tcp_max_orphans) },
	{ "backlogd_limit_nf_conntrack_max", "net.netfilter.nf_conntrack_max: conntrack entries allowed.",
	  offsetof(struct limits, nf_conntrack_max) },
};

/* The limits in force; one that could not be read is left out, not shown as 0. */
static void limit_gauges(const struct mview *v)
{
	for (size_t k = 0; k < ARRAY_SIZE(limit_metrics); k++) {
		family(v->f, limit_metrics[k].name, "gauge", limit_metrics[k].help);
		for (size_t m = 0; m < v->n; m++) {
			const struct limits *lim = monitor_limits(&v->members[m]->mon);
			int64_t value;

			memcpy(&value, (const char *)lim + limit_metrics[k].offset, sizeof(value));
			if (value < 0)
				continue;
			fprintf(v->f, "%s{", limit_metrics[k].name);
			put_label(v->f, true, "netns", v->netns[m], NETNS_NAME_MAX);
			fprintf(v->f, "} %lld\n", (long long)value);
		}
	}
}

/* One series per namespace of an unsigned number the monitor keeps. */
static void per_ns(const struct mview *v, const char *name, const char *type, const char *help,
		   unsigned long (*get)(const struct monitor *))
{
	family(v->f, name, type, help);
	for (size_t m = 0; m < v->n; m++) {
		fprintf(v->f, "%s{", name);
		put_label(v->f, true, "netns", v->netns[m], NETNS_NAME_MAX);
		fprintf(v->f, "} %lu\n", get(&v->members[m]->mon));
	}
}

static unsigned long mon_deep_runs(const struct monitor *m) { return m->deep_runs; }
static unsigned long mon_failed_ticks(const struct monitor *m) { return m->failed_ticks; }
static unsigned long mon_failing(const struct monitor *m) { return m->last_error != 0; }
static unsigned long mon_ticks(const struct monitor *m) { return (unsigned long)m->track.ticks; }

static void self_metrics(const struct mview *v)
{
	FILE *f = v->f;

	family(f, "backlogd_build_info", "gauge", "backlogd's version; value 1.");
	fputs("backlogd_build_info{", f);
	put_label(f, true, "version", PACKAGE_VERSION, 64);
	fputs("} 1\n", f);
	family(f, "backlogd_tick_duration_seconds", "gauge", "How long the latest tick of every namespace took.");
	fprintf(f, "backlogd_tick_duration_seconds %.6f\n", (double)v->fl->tick_us / 1e6);
	family(f, "backlogd_namespaces_watched", "gauge", "Network namespaces backlogd watches.");
	fprintf(f, "backlogd_namespaces_watched %zu\n", v->n);
	family(f, "backlogd_namespace_scan_failing", "gauge", "1 when the latest scan for namespaces failed.");
	fprintf(f, "backlogd_namespace_scan_failing %d\n", v->fl->last_scan_error != 0);
	per_ns(v, "backlogd_ticks_total", "counter", "Ticks taken in the namespace.", mon_ticks);
	per_ns(v, "backlogd_tick_failures_total", "counter",
	       "Ticks that failed in the namespace (the previous state was kept).", mon_failed_ticks);
	per_ns(v, "backlogd_tick_failing", "gauge", "1 when the namespace's latest tick failed.", mon_failing);
	per_ns(v, "backlogd_deep_runs_total", "counter",
	       "Runs of the deep tier (every socket read) in the namespace.", mon_deep_runs);
}

/* ---- the whole exposition ---- */

static void view_free(struct mview *v)
{
	for (size_t m = 0; v->listeners && m < v->n; m++)
		free(v->listeners[m]);
	free(v->listeners);
	free(v->netns);
	free(v->members);
}

/* Return: 0 or -ENOMEM. */
static int view_init(struct mview *v, const struct fleet *fl)
{
	bool oom = false;
	size_t n;

	*v = (struct mview){ .fl = fl };
	v->members = ordered_members(fl, &n, &oom);
	if (oom)
		return -ENOMEM;
	/* A namespace whose monitor is not ready yet has nothing to show. */
	for (size_t m = 0; m < n; m++)
		if (v->members[m]->ready)
			v->members[v->n++] = v->members[m];
	if (v->n == 0)
		return 0;
	v->listeners = calloc(v->n, sizeof(*v->listeners));
	v->netns = calloc(v->n, sizeof(*v->netns));
	if (!v->listeners || !v->netns)
		return -ENOMEM;
	for (size_t m = 0; m < v->n; m++) {
		const struct fleet_member *fm = v->members[m];

		v->listeners[m] = sorted_tracked(&fm->mon.track);
		if (fm->mon.track.count > 0 && !v->listeners[m])
			return -ENOMEM;
		if (fm->ns.name[0])
			snprintf(v->netns[m], NETNS_NAME_MAX, "%.*s", NETNS_NAME_MAX - 1, fm->ns.name);
		else
			snprintf(v->netns[m], NETNS_NAME_MAX, "%llu", (unsigned long long)fm->ns.inode);
	}
	return 0;
}

char *metrics_text(const struct fleet *fl, size_t *len)
{
	struct mview v;
	char *text = NULL;
	size_t size = 0;
	int rc = view_init(&v, fl);

	*len = 0;
	if (rc == 0)
		v.f = open_memstream(&text, &size);
	if (rc < 0 || !v.f) {
		view_free(&v);
		return NULL;
	}
	listener_metrics(&v);
	finding_metrics(&v);
	counter_metrics(&v);
	limit_gauges(&v);
	self_metrics(&v);
	rc = ferror(v.f) ? -1 : 0;
	if (fclose(v.f) != 0 || rc < 0) {
		free(text);
		text = NULL;
	}
	view_free(&v);
	if (text)
		*len = size;
	return text;
}

int metrics_textfile(const struct fleet *fl, const char *path)
{
	size_t len, off = 0, plen = strlen(path);
	char *text = metrics_text(fl, &len);
	char *tmp = malloc(plen + 5);
	int fd = -1, rc = 0;

	if (!text || !tmp) {
		rc = -ENOMEM;
		goto out;
	}
	/* In the same directory, so the rename replaces path in one step. */
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp", 5);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	while (off < len && rc == 0) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno != EINTR)
			rc = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
out:
	free(tmp);
	free(text);
	return rc;
}
