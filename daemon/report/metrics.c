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
#include "textbuf.h"

/*
 * What one exposition reads: the members in document order, each with its
 * listeners sorted and its namespace's label value. A family's samples must
 * be contiguous, so every family walks the namespaces again; each
 * listener's labels are composed once (labels, at label_off[m][i]) and
 * copied into its five families.
 */
struct mview {
	struct textbuf *o;
	const struct fleet *fl;
	const struct fleet_member **members;
	size_t n;
	const struct tracked ***listeners;  /* [n], each NULL when the namespace has none */
	char (*netns)[NETNS_NAME_MAX];      /* [n]: its name, or its inode when it has none */
	struct textbuf labels;              /* every listener's labels, one after another */
	size_t **label_off;                 /* [n][count + 1]: where each listener's labels start */
};

/* Bytes a label value keeps as they are: printable ASCII other than \\ and ". */
static bool plain_byte(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\' && c != '"';
}

/*
 * A label value as the format wants it: backslash, double quote and newline
 * escaped, so a hostile comm cannot end the value or the line; other
 * control bytes, C1 controls and bytes that are not UTF-8 become '?'
 * (they could act on the terminal that `backlogctl metrics` prints to, and
 * the format requires UTF-8). Printable text is kept exactly, copied a run
 * at a time.
 */
static void put_label_value(struct textbuf *o, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strnlen(s, max);

	for (size_t i = 0; i < len;) {
		size_t run = i;
		int n;

		while (run < len && plain_byte(p[run]))
			run++;
		if (run > i) {
			tb_put(o, s + i, run - i);
			i = run;
			continue;
		}
		if (p[i] == '\\' || p[i] == '"') {
			tb_char(o, '\\');
			tb_char(o, (char)p[i++]);
		} else if (p[i] == '\n') {
			tb_str(o, "\\n");
			i++;
		} else if (p[i] < 0x80) {
			tb_char(o, '?');  /* the other controls and DEL */
			i++;
		} else if ((n = utf8_char_len(p + i, len - i)) > 0 &&
			   !(p[i] == 0xc2 && p[i + 1] < 0xa0)) {
			tb_put(o, s + i, (size_t)n);
			i += (size_t)n;
		} else {
			/* One '?' per bad byte, one per C1 character, as safe_text() does. */
			tb_char(o, '?');
			i += n > 0 ? (size_t)n : 1;
		}
	}
}

/* name="value" with a leading comma unless first. */
static void put_label(struct textbuf *o, bool first, const char *name, const char *value, size_t max)
{
	if (!first)
		tb_char(o, ',');
	tb_str(o, name);
	tb_put(o, "=\"", 2);
	put_label_value(o, value, max);
	tb_char(o, '"');
}

static void family(struct textbuf *o, const char *name, const char *type, const char *help)
{
	tb_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The start of a sample: name{ and the first label, netns. */
static void sample_start(struct textbuf *o, const char *name, const char *netns)
{
	tb_str(o, name);
	tb_char(o, '{');
	put_label(o, true, "netns", netns, NETNS_NAME_MAX);
}

/* The end of a sample whose value is a whole number. */
static void sample_end(struct textbuf *o, uint64_t value)
{
	tb_put(o, "} ", 2);
	tb_u64(o, value);
	tb_char(o, '\n');
}

/* ---- per listener ---- */

/* netns, listener, port, inode: a SO_REUSEPORT group shares address:port, the socket's inode tells its members apart. */
static void listener_labels(struct textbuf *o, const char *netns, const struct tracked *tr)
{
	char name[LISTENER_NAME_MAX];

	listener_name(&tr->l, name, sizeof(name));
	put_label(o, true, "netns", netns, NETNS_NAME_MAX);
	put_label(o, false, "listener", name, sizeof(name));
	tb_str(o, ",port=\"");
	tb_u64(o, tr->l.port);
	tb_str(o, "\",inode=\"");
	tb_u64(o, tr->l.inode);
	tb_char(o, '"');
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

static void listener_info(struct textbuf *o, const struct fleet_member *fm, const struct tracked *tr)
{
	const struct owner *ow = tracked_owner(tr);
	const struct owner_proc *op = info_proc(ow);
	char pid[16] = "";

	if (op)
		snprintf(pid, sizeof(pid), "%d", op->pid);
	put_label(o, false, "comm", op ? op->comm : "", OWNER_COMM_MAX);
	put_label(o, false, "pid", pid, sizeof(pid));
	put_label(o, false, "unit", ow->unit, sizeof(ow->unit));
	put_label(o, false, "container", fm->ns.kind == NETNS_CONTAINER ? fm->ns.name : "", NETNS_NAME_MAX);
}

static void listener_sample(const struct mview *v, size_t m, size_t i, enum lmetric lm)
{
	const struct tracked *tr = v->listeners[m][i];
	const struct tick_point *last = tracked_hist(tr, 0);
	const size_t *off = v->label_off[m];
	struct textbuf *o = v->o;
	uint64_t value = 1;

	tb_str(o, lmetrics[lm].name);
	tb_char(o, '{');
	tb_put(o, v->labels.p + off[i], off[i + 1] - off[i]);
	switch (lm) {
	case LM_QUEUE:
		value = tr->l.queue;
		break;
	case LM_LIMIT:
		value = tr->l.backlog;
		break;
	case LM_PEAK:
		value = last && last->queue > tr->l.queue ? last->queue : tr->l.queue;
		break;
	case LM_DROPS:
		value = tr->drops_total;
		break;
	case LM_INFO:
		listener_info(o, v->members[m], tr);
		break;
	}
	sample_end(o, value);
}

static void listener_metrics(const struct mview *v)
{
	for (size_t lm = 0; lm < ARRAY_SIZE(lmetrics); lm++) {
		family(v->o, lmetrics[lm].name, lmetrics[lm].type, lmetrics[lm].help);
		for (size_t m = 0; m < v->n; m++) {
			const struct track *t = &v->members[m]->mon.track;

			for (size_t i = 0; v->listeners[m] && i < t->count; i++)
				listener_sample(v, m, i, (enum lmetric)lm);
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
	struct textbuf *f = v->o;

	family(f, "backlogd_finding_active", "gauge",
	       "An active finding: its cause, severity, subject (address:port, host, interface or destination), "
	       "and role (cause, or side-effect of another finding); value 1.");
	for (size_t m = 0; m < v->n; m++) {
		const struct finding_table *ft = &v->members[m]->mon.findings;

		for (size_t i = 0; i < ft->count; i++) {
			const struct finding *fi = &ft->items[i].f;

			if (ft->items[i].state != FINDING_ACTIVE)
				continue;
			tb_str(f, "backlogd_finding_active{");
			put_label(f, true, "cause", cause_name(fi->cause), 64);
			put_label(f, false, "severity", severity_name(fi->priority), 16);
			put_label(f, false, "subject", fi->listener, sizeof(fi->listener));
			put_label(f, false, "netns", v->netns[m], NETNS_NAME_MAX);
			put_label(f, false, "role", side_effect_of(fi) != CAUSE_NONE ? "side-effect" : "cause", 16);
			tb_str(f, "} 1\n");
		}
	}
	family(f, "backlogd_findings_opened_total", "counter",
	       "Findings opened since backlogd started, by cause (a revision of an open finding is not counted).");
	for (int c = CAUSE_FIRST; c < CAUSE_COUNT; c++)
		tb_printf(f, "backlogd_findings_opened_total{cause=\"%s\"} %lu\n", cause_name((enum cause)c),
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
				family(v->o, name, "counter", help);
				any = true;
			}
			sample_start(v->o, name, v->netns[m]);
			sample_end(v->o, (uint64_t)value);
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
		family(v->o, limit_metrics[k].name, "gauge", limit_metrics[k].help);
		for (size_t m = 0; m < v->n; m++) {
			const struct limits *lim = monitor_limits(&v->members[m]->mon);
			int64_t value;

			memcpy(&value, (const char *)lim + limit_metrics[k].offset, sizeof(value));
			if (value < 0)
				continue;
			sample_start(v->o, limit_metrics[k].name, v->netns[m]);
			sample_end(v->o, (uint64_t)value);
		}
	}
}

/* One series per namespace of an unsigned number the monitor keeps. */
static void per_ns(const struct mview *v, const char *name, const char *type, const char *help,
		   unsigned long (*get)(const struct monitor *))
{
	family(v->o, name, type, help);
	for (size_t m = 0; m < v->n; m++) {
		sample_start(v->o, name, v->netns[m]);
		sample_end(v->o, get(&v->members[m]->mon));
	}
}

static unsigned long mon_deep_runs(const struct monitor *m) { return m->deep_runs; }
static unsigned long mon_dumps(const struct monitor *m) { return m->dumps; }
static unsigned long mon_failed_ticks(const struct monitor *m) { return m->failed_ticks; }
static unsigned long mon_failing(const struct monitor *m) { return m->last_error != 0; }
static unsigned long mon_ticks(const struct monitor *m) { return (unsigned long)m->track.ticks; }

/* Why the latest tick failed, per failing namespace: the errno's text, a bounded set of values. */
static void tick_errors(const struct mview *v)
{
	family(v->o, "backlogd_tick_error_info", "gauge",
	       "Why the namespace's latest tick failed (only while it fails); value 1.");
	for (size_t m = 0; m < v->n; m++) {
		int err = v->members[m]->mon.last_error;

		if (err == 0)
			continue;
		sample_start(v->o, "backlogd_tick_error_info", v->netns[m]);
		put_label(v->o, false, "error", strerror(err < 0 ? -err : err), 128);
		sample_end(v->o, 1);
	}
}

/* The eBPF tier is host-wide: no netns label. */
static void bpf_metrics(struct textbuf *f, const struct tier_report *t)
{
	family(f, "backlogd_bpf_running", "gauge", "1 when the eBPF tier runs (status says why not).");
	tb_printf(f, "backlogd_bpf_running %d\n", t->on);
	family(f, "backlogd_bpf_events_total", "counter",
	       "Drops and refusals the eBPF tier reported in watched namespaces.");
	tb_printf(f, "backlogd_bpf_events_total %llu\n", (unsigned long long)t->events);
	family(f, "backlogd_bpf_lost_total", "counter", "eBPF tier events lost to a full ring buffer.");
	tb_printf(f, "backlogd_bpf_lost_total %llu\n", (unsigned long long)t->lost);
}

static void self_metrics(const struct mview *v)
{
	struct textbuf *f = v->o;

	family(f, "backlogd_build_info", "gauge", "backlogd's version; value 1.");
	tb_str(f, "backlogd_build_info{");
	put_label(f, true, "version", PACKAGE_VERSION, 64);
	tb_str(f, "} 1\n");
	family(f, "backlogd_tick_duration_seconds", "gauge", "How long the latest tick of every namespace took.");
	tb_printf(f, "backlogd_tick_duration_seconds %.6f\n", (double)v->fl->tick_us / 1e6);
	family(f, "backlogd_tick_interval_seconds", "gauge", "The configured interval between ticks.");
	tb_printf(f, "backlogd_tick_interval_seconds %.3f\n", (double)v->fl->cfg.tick_ms / 1000.0);
	family(f, "backlogd_namespaces_watched", "gauge", "Network namespaces backlogd watches.");
	tb_printf(f, "backlogd_namespaces_watched %zu\n", v->n);
	family(f, "backlogd_namespace_scan_failing", "gauge", "1 when the latest scan for namespaces failed.");
	tb_printf(f, "backlogd_namespace_scan_failing %d\n", v->fl->last_scan_error != 0);
	bpf_metrics(f, &v->fl->members[0]->mon.bpf);
	per_ns(v, "backlogd_ticks_total", "counter", "Ticks taken in the namespace.", mon_ticks);
	per_ns(v, "backlogd_tick_failures_total", "counter",
	       "Ticks that failed in the namespace (the previous state was kept).", mon_failed_ticks);
	per_ns(v, "backlogd_tick_failing", "gauge", "1 when the namespace's latest tick failed.", mon_failing);
	per_ns(v, "backlogd_deep_runs_total", "counter",
	       "Runs of the deep tier (every socket read) in the namespace.", mon_deep_runs);
	per_ns(v, "backlogd_listener_dumps_total", "counter",
	       "LISTEN dumps in the namespace (a quiet tick dumps none).", mon_dumps);
	tick_errors(v);
}

/* ---- the whole exposition ---- */

static void view_free(struct mview *v)
{
	for (size_t m = 0; m < v->n; m++) {
		if (v->listeners)
			free(v->listeners[m]);
		if (v->label_off)
			free(v->label_off[m]);
	}
	free(v->listeners);
	free(v->label_off);
	free(v->netns);
	free(v->members);
	tb_free(&v->labels);
}

/* Every listener's labels of namespace m, composed once. Return: 0 or -ENOMEM. */
static int compose_labels(struct mview *v, size_t m)
{
	size_t count = v->members[m]->mon.track.count;
	size_t *off = malloc((count + 1) * sizeof(*off));

	v->label_off[m] = off;
	if (!off)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++) {
		off[i] = v->labels.len;
		listener_labels(&v->labels, v->netns[m], v->listeners[m][i]);
	}
	off[count] = v->labels.len;
	return v->labels.oom ? -ENOMEM : 0;
}

/* Return: 0 or -ENOMEM. */
static int view_init(struct mview *v, const struct fleet *fl, size_t *listeners)
{
	bool oom = false;
	size_t n;

	*v = (struct mview){ .fl = fl };
	*listeners = 0;
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
	v->label_off = calloc(v->n, sizeof(*v->label_off));
	v->netns = calloc(v->n, sizeof(*v->netns));
	if (!v->listeners || !v->label_off || !v->netns)
		return -ENOMEM;
	for (size_t m = 0; m < v->n; m++)
		*listeners += v->members[m]->mon.track.count;
	/* About 90 bytes of labels a listener: room for them at once, no regrowing. */
	tb_init(&v->labels, *listeners * 96 + 256);
	for (size_t m = 0; m < v->n; m++) {
		const struct fleet_member *fm = v->members[m];

		v->listeners[m] = sorted_tracked(&fm->mon.track);
		if (fm->mon.track.count > 0 && !v->listeners[m])
			return -ENOMEM;
		if (fm->ns.name[0])
			snprintf(v->netns[m], NETNS_NAME_MAX, "%.*s", NETNS_NAME_MAX - 1, fm->ns.name);
		else
			snprintf(v->netns[m], NETNS_NAME_MAX, "%llu", (unsigned long long)fm->ns.inode);
		if (compose_labels(v, m) < 0)
			return -ENOMEM;
	}
	return 0;
}

char *metrics_text(const struct fleet *fl, size_t *len)
{
	struct textbuf out;
	struct mview v;
	size_t listeners;
	char *text;

	*len = 0;
	if (view_init(&v, fl, &listeners) < 0) {
		view_free(&v);
		return NULL;
	}
	/* Five samples of about 130 bytes a listener, and the rest: grown once at most. */
	tb_init(&out, listeners * 5 * 136 + 16384);
	v.o = &out;
	listener_metrics(&v);
	finding_metrics(&v);
	counter_metrics(&v);
	limit_gauges(&v);
	self_metrics(&v);
	view_free(&v);
	text = tb_take(&out, len);
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
