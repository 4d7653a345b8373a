/* test_software.c: the servers told from their names get their own knob and restart advice; a gap whose holder the kernel killed says it crashed. */
#include "base.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/core/sbuf.h"
#include "diagnose.h"
#include "finding_text.h"
#include "software.h"
#include "track.h"

static bool has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* The backlog remedy of the software of (comm, cmdline), for 127.0.0.1:8080 at 511 -> 2048. */
static const char *backlog_words(const char *comm, const char *cmdline, const char **name)
{
	static char buf[FINDING_TEXT_MAX];
	const struct software *sw = software_of_proc(comm, cmdline);
	struct sbuf sb;

	sb_init(&sb, buf, sizeof(buf));
	software_backlog_fix(sw, &sb, "127.0.0.1:8080", 511, 2048);
	*name = sw->name;
	return buf;
}

struct case_ {
	const char *comm, *cmdline, *name, *knob;
};

/* Typical names of each server's processes, as procinfo reads them. */
static const struct case_ cases[] = {
	{ "nginx", "nginx: master process /usr/sbin/nginx -g daemon on; master_process on;", "nginx",
	  "`listen 127.0.0.1:8080 backlog=2048;`" },
	{ "nginx", "nginx: worker process", "nginx", "backlog=2048" },
	{ "apache2", "/usr/sbin/apache2 -k start", "Apache httpd", "`ListenBacklog 2048`" },
	{ "httpd", "/usr/sbin/httpd -DFOREGROUND", "Apache httpd", "ListenBacklog 2048" },
	{ "haproxy", "/usr/sbin/haproxy -Ws -f /etc/haproxy/haproxy.cfg -p /run/haproxy.pid", "HAProxy",
	  "`backlog 2048`" },
	{ "uwsgi", "uWSGI master", "uWSGI", "`--listen 2048`" },
	{ "uwsgi", "/usr/bin/uwsgi --ini /etc/uwsgi/app.ini", "uWSGI", "--listen 2048" },
	{ "gunicorn: maste", "gunicorn: master [app:app]", "gunicorn", "`--backlog 2048`" },
	{ "python3", "/usr/bin/python3 /usr/bin/gunicorn -w 4 app:app", "gunicorn", "--backlog 2048" },
	{ "python3", "/usr/bin/python3 /usr/bin/uvicorn app:app", "uvicorn", "--backlog 2048" },
	{ "redis-server", "/usr/bin/redis-server 127.0.0.1:6379", "Redis", "`tcp-backlog 2048`" },
	{ "valkey-server", "/usr/bin/valkey-server *:6379", "Redis", "tcp-backlog 2048" },
	{ "memcached", "/usr/bin/memcached -m 64 -p 11211 -u memcache", "memcached", "`-b 2048`" },
	{ "postgres", "/usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main", "PostgreSQL",
	  "max_connections" },
	{ "postgres", "postgres: 15/main: checkpointer", "PostgreSQL", "PgBouncer" },
	{ "mysqld", "/usr/sbin/mysqld", "MySQL/MariaDB", "`back_log = 2048`" },
	{ "mariadbd", "/usr/sbin/mariadbd", "MySQL/MariaDB", "back_log = 2048" },
	{ "node", "node /srv/app/server.js", "Node.js", "`server.listen({ port, host, backlog: 2048 })`" },
	{ "nodejs", "/usr/bin/nodejs server.js", "Node.js", "backlog: 2048" },
	{ "python3", "python3 -m http.server 8000", "Python http.server", "`request_queue_size = 2048`" },
	{ "python3", "/usr/bin/python3 ./serve.py", "Python", "request_queue_size = 2048" },
	{ "java", "/usr/lib/jvm/java-17-openjdk-amd64/bin/java -Djava.util.logging.config.file=/var/lib/tomcat10/conf/logging.properties",
	  "Tomcat", "`acceptCount=\"2048\"`" },
	{ "java", "java -jar /srv/app.jar", "Java", "`new ServerSocket(port, 2048)`" },
	{ "envoy", "envoy -c /etc/envoy/envoy.yaml", "Envoy", "`tcp_backlog_size: 2048`" },
	{ "systemd", "/sbin/init", "systemd socket activation", "`Backlog=2048`" },
};

Test(software, each_server_gets_its_own_knob)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *name, *w = backlog_words(cases[i].comm, cases[i].cmdline, &name);

		cr_assert_str_eq(name, cases[i].name, "%s / %s", cases[i].comm, cases[i].cmdline);
		cr_assert(has(w, cases[i].knob), "%s: %s", cases[i].name, w);
		cr_assert(!has(w, "Java ServerSocket 50"), "%s got the generic words: %s", name, w);
		cr_assert(!has(w, "$"), "a template token left: %s", w);
		cr_assert(!has(w, ". "), "one sentence: %s", w);
	}
}

Test(software, unknown_gets_the_generic_listen_words)
{
	static const char *const unknown[][2] = {
		{ "myserver", "./myserver --port 8080" },
		/* Look-alikes: a word of another server in an argument, a shell running it, a longer name. */
		{ "python3", "python3 worker.py --redis-server localhost --nginx" },
		{ "bash", "bash -c nginx" },
		{ "nginx-prometheu", "/usr/bin/nginx-prometheus-exporter" },
		{ "redis-cli", "redis-cli -p 6379" },
		{ "", "" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(unknown); i++) {
		const char *name, *w = backlog_words(unknown[i][0], unknown[i][1], &name);
		bool py = strcmp(unknown[i][0], "python3") == 0;

		cr_assert_str_eq(name, py ? "Python" : "", "%s / %s", unknown[i][0], unknown[i][1]);
		if (!py) {
			cr_assert(software_generic(software_of_proc(unknown[i][0], unknown[i][1])));
			cr_assert(has(w, "raise the application's listen() backlog from 511 to at least 2048"),
				  "%s", w);
			cr_assert(has(w, "Java ServerSocket 50"), "%s", w);
		}
	}
}

Test(software, owner_is_known_by_any_of_its_processes)
{
	struct owner o;

	memset(&o, 0, sizeof(o));
	cr_assert(software_generic(software_of(&o)), "no process: generic");
	cr_assert(software_generic(software_of(NULL)));
	o.nprocs = 2;
	o.procs[0].pid = 1;
	snprintf(o.procs[0].comm, sizeof(o.procs[0].comm), "sh");
	o.procs[1].pid = 70;
	snprintf(o.procs[1].comm, sizeof(o.procs[1].comm), "redis-server");
	cr_assert_str_eq(software_of(&o)->name, "Redis");
	/* Arrays full to the last byte, no NUL: read bounded. */
	memset(o.procs[1].comm, 'x', sizeof(o.procs[1].comm));
	memset(o.procs[1].cmdline, 'y', sizeof(o.procs[1].cmdline));
	cr_assert(software_generic(software_of(&o)));
}

/* Every server's restart and crash words: one sentence, tokens replaced, nginx's reload only for nginx. */
Test(software, restart_and_crash_words)
{
	char buf[FINDING_TEXT_MAX];
	size_t i;

	for (i = 0; i <= ARRAY_SIZE(cases); i++) {
		const struct software *sw = i < ARRAY_SIZE(cases) ?
			software_of_proc(cases[i].comm, cases[i].cmdline) : software_of_proc("x", "x");
		bool nginx = strcmp(sw->name, "nginx") == 0;
		struct sbuf sb;

		sb_init(&sb, buf, sizeof(buf));
		software_restart_fix(sw, &sb, "127.0.0.1:8080", "svc.service");
		cr_assert(!has(buf, "$") && !has(buf, ". "), "%s: %s", sw->name, buf);
		cr_assert_eq(has(buf, "nginx -s reload"), nginx, "%s: %s", sw->name, buf);
		cr_assert_lt(strlen(buf), sizeof(buf) - 1, "%s: cut", sw->name);
		sb_init(&sb, buf, sizeof(buf));
		software_crash_fix(sw, &sb, "127.0.0.1:8080", "svc.service");
		cr_assert(!has(buf, "$") && !has(buf, ". ") && !has(buf, "nginx -s reload"), "%s: %s",
			  sw->name, buf);
		sb_init(&sb, buf, sizeof(buf));
		software_stall_hint(sw, &sb);
		cr_assert(!has(buf, "$") && !has(buf, ". "), "%s: %s", sw->name, buf);
		cr_assert(buf[0] == '\0' || strncmp(buf, "; ", 2) == 0, "%s: %s", sw->name, buf);
	}
}

/* ---- the rules, on a synthetic history ---- */

struct world {
	struct track t;
	struct finding_list out;
	struct diag_thresholds thr;
	struct limits lim;
	struct listener l[2];
	const struct owner *owners[2];
	struct owner o[2];
	size_t nl;
	struct kmsg_event ev[4];
	size_t nev;
	struct proc_exit ex[8];
	size_t nex;
	struct counter c[2];
	int64_t now_ms;
};

static void w_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	track_init(&w->t);
	finding_list_init(&w->out);
	diag_thresholds_default(&w->thr);
	limits_unknown(&w->lim);
	w->lim.somaxconn = 4096;
	w->lim.tcp_abort_on_overflow = 0;
	snprintf(w->c[0].name, sizeof(w->c[0].name), "TcpExt.ListenOverflows");
	snprintf(w->c[1].name, sizeof(w->c[1].name), "Tcp.OutRsts");
	w->now_ms = 1000000;
}

static void w_free(struct world *w)
{
	track_free(&w->t);
	finding_list_free(&w->out);
}

/* Listener slot i on 127.0.0.1:port, held by comm[pid] with cmdline in unit. */
static void w_listen(struct world *w, size_t i, uint64_t cookie, uint16_t port, const char *comm,
		     int pid, const char *cmdline, const char *unit)
{
	struct listener *l = &w->l[i];
	struct owner *o = &w->o[i];

	memset(l, 0, sizeof(*l));
	l->cookie = cookie;
	l->inode = (uint32_t)cookie + 100;
	l->family = AF_INET;
	l->addr[0] = 127;
	l->addr[3] = 1;
	l->port = port;
	l->backlog = 511;
	l->has_drops = true;
	memset(o, 0, sizeof(*o));
	o->nprocs = o->nprocs_total = 1;
	o->uid = -1;
	o->procs[0].pid = pid;
	snprintf(o->procs[0].comm, sizeof(o->procs[0].comm), "%s", comm);
	snprintf(o->procs[0].cmdline, sizeof(o->procs[0].cmdline), "%s", cmdline);
	snprintf(o->unit, sizeof(o->unit), "%s", unit);
	w->owners[i] = o;
	if (i >= w->nl)
		w->nl = i + 1;
}

static void w_death(struct world *w, enum kmsg_kind kind, int pid, const char *comm,
		    const char *sig)
{
	struct kmsg_event *e = &w->ev[w->nev++];

	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->seq = 500 + w->nev;
	e->pid = pid;
	snprintf(e->comm, sizeof(e->comm), "%s", comm);
	snprintf(e->signal, sizeof(e->signal), "%s", sig);
}

/* An exit event: killed by sig, or (sig NULL) exited with status. */
static void w_exit(struct world *w, int pid, const char *sig, int status)
{
	struct proc_exit *e = &w->ex[w->nex++];

	memset(e, 0, sizeof(*e));
	e->pid = pid;
	e->status = sig ? -1 : status;
	snprintf(e->signal, sizeof(e->signal), "%s", sig ? sig : "");
}

static size_t w_tick(struct world *w)
{
	struct listener_set set = { .items = w->l, .count = w->nl, .cap = 2 };
	struct counters host = { .items = w->c, .count = 2, .cap = 2 };
	struct tick_sample s = { .listeners = &set, .counters = &host, .limits = &w->lim,
				 .owners = w->owners, .kmsg = w->ev, .n_kmsg = w->nev,
				 .exits = w->ex, .n_exits = w->nex };

	w->now_ms += 1000;
	cr_assert_eq(track_tick(&w->t, &s, w->now_ms), 0);
	w->nev = 0;
	w->nex = 0;
	cr_assert_eq(diagnose(&w->t, &w->thr, &w->out), 0);
	return w->out.count;
}

static const struct finding *w_get(const struct world *w, enum cause c)
{
	size_t i;

	for (i = 0; i < w->out.count; i++)
		if (w->out.items[i].cause == c)
			return &w->out.items[i];
	cr_assert_fail("no %s finding among %zu", cause_code(c), w->out.count);
	return NULL;
}

static const struct finding_words *words(const struct finding *f)
{
	static struct finding_words ring[4];
	static unsigned next;
	struct finding_words *fw = &ring[next++ % ARRAY_SIZE(ring)];

	finding_words(f, fw);
	return fw;
}

static const char redis_cmd[] = "/usr/bin/redis-server 127.0.0.1:6379";

/* redis-server[123] on :6379, seen for two ticks. */
static void w_redis(struct world *w)
{
	w_init(w);
	w_listen(w, 0, 1, 6379, "redis-server", 123, redis_cmd, "redis-server.service");
	w_tick(w);
	w_tick(w);
}

/* The gap's words must say the crash and give no restart advice of another server. */
static void assert_crashed(const struct finding *f, const char *how)
{
	cr_assert(has(words(f)->message, how), "%s", words(f)->message);
	cr_assert(!has(words(f)->message, ". "), "one sentence: %s", words(f)->message);
	cr_assert(!has(words(f)->remedy, "nginx -s reload"), "%s", words(f)->remedy);
	cr_assert(!has(words(f)->remedy, "SO_REUSEPORT hand-over"), "%s", words(f)->remedy);
	cr_assert_str_eq(f->knob, "crash");
}

Test(gap, segfault_in_the_same_tick_says_crashed)
{
	struct world w;
	const struct finding *f;

	w_redis(&w);
	w.nl = 0;
	w_death(&w, KMSG_SEGFAULT, 123, "redis-server", "SIGSEGV");
	w_tick(&w);
	f = w_get(&w, CAUSE_LISTENER_GAP);
	assert_crashed(f, "since redis-server[123] crashed (SIGSEGV: the kernel logged a segfault)");
	cr_assert(has(words(f)->remedy, "coredumpctl info 123"), "%s", words(f)->remedy);
	cr_assert(has(words(f)->remedy, "start redis-server.service again"), "%s", words(f)->remedy);
	cr_assert(has(words(f)->remedy, "Sentinel"), "Redis's own way to ride it out: %s",
		  words(f)->remedy);

	/* Back under a new pid: the closed gap still says how it began. */
	w_listen(&w, 0, 2, 6379, "redis-server", 456, redis_cmd, "redis-server.service");
	w_tick(&w);
	f = w_get(&w, CAUSE_LISTENER_GAP);
	assert_crashed(f, "between redis-server[123] crashing (SIGSEGV: the kernel logged a segfault) "
		       "and redis-server[456]");
	w_free(&w);
}

Test(gap, death_line_before_or_after_the_gap_is_matched)
{
	struct world w;

	/* The line read a tick before the listener is found gone. */
	w_redis(&w);
	w_death(&w, KMSG_TRAP, 123, "redis-server", "SIGFPE");
	w_tick(&w);
	cr_assert_eq(w.out.count, 0);
	w.nl = 0;
	w_tick(&w);
	assert_crashed(w_get(&w, CAUSE_LISTENER_GAP),
		       "since redis-server[123] crashed (SIGFPE: the kernel logged a fatal trap)");
	w_free(&w);

	/* The line read a tick after. */
	w_redis(&w);
	w.nl = 0;
	w_tick(&w);
	cr_assert(!has(words(w_get(&w, CAUSE_LISTENER_GAP))->message, "crashed"));
	w_death(&w, KMSG_OOM_KILL, 123, "redis-server", "SIGKILL");
	w_tick(&w);
	assert_crashed(w_get(&w, CAUSE_LISTENER_GAP),
		       "since redis-server[123] was killed by the kernel's OOM killer (SIGKILL)");
	cr_assert(has(words(w_get(&w, CAUSE_LISTENER_GAP))->remedy, "MemoryMax="));
	w_free(&w);
}

/* Another process's death, a reused pid under another name, a death long before: a restart. */
Test(gap, deaths_of_others_are_not_a_crash)
{
	static const struct { int pid; const char *comm; int ticks_before; } others[] = {
		{ 124, "redis-server", 0 },
		{ 123, "bash", 0 },
		{ 123, "redis-server", 35 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(others); i++) {
		struct world w;
		const struct finding *f;
		int k;

		w_redis(&w);
		w_death(&w, KMSG_SEGFAULT, others[i].pid, others[i].comm, "SIGSEGV");
		for (k = 0; k < others[i].ticks_before; k++)
			w_tick(&w);
		w.nl = 0;
		w_tick(&w);
		w_listen(&w, 0, 2, 6379, "redis-server", 456, redis_cmd, "redis-server.service");
		w_tick(&w);
		f = w_get(&w, CAUSE_LISTENER_GAP);
		cr_assert(!has(words(f)->message, "crash"), "%zu: %s", i, words(f)->message);
		cr_assert_str_eq(f->knob, "restart method");
		/* A deliberate restart of Redis: Redis's advice, never nginx's. */
		cr_assert(has(words(f)->remedy, "Redis has no restart that keeps its listening socket"),
			  "%s", words(f)->remedy);
		cr_assert(has(words(f)->remedy, "CONFIG SET"), "%s", words(f)->remedy);
		cr_assert(!has(words(f)->remedy, "nginx -s reload"), "%s", words(f)->remedy);
		w_free(&w);
	}
}

/* The exit event alone (no kernel line): a crash signal or a non-zero status is a crash. */
Test(gap, exit_event_says_how_it_ended)
{
	static const struct { const char *sig; int status; const char *open, *closed, *fix; } k[] = {
		{ "SIGKILL", 0, "since redis-server[123] was killed by SIGKILL (by an operator, "
		  "systemd's stop timeout or the OOM killer)", "between redis-server[123] being killed "
		  "by SIGKILL (by an operator, systemd's stop timeout or the OOM killer) and "
		  "redis-server[456]", "find who sent it" },
		{ "SIGABRT", 0, "since redis-server[123] crashed (killed by SIGABRT)",
		  "between redis-server[123] crashing (killed by SIGABRT) and redis-server[456]",
		  "coredumpctl info 123" },
		{ NULL, 1, "since redis-server[123] exited with status 1",
		  "between redis-server[123] exiting with status 1 and redis-server[456]",
		  "journalctl -u redis-server.service" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(k); i++) {
		struct world w;
		const struct finding *f;

		w_redis(&w);
		w.nl = 0;
		/* Someone else's failures in the same tick are not the holder's. */
		w_exit(&w, 77, NULL, 1);
		w_exit(&w, 123, k[i].sig, k[i].status);
		w_exit(&w, 78, "SIGSEGV", 0);
		w_tick(&w);
		f = w_get(&w, CAUSE_LISTENER_GAP);
		assert_crashed(f, k[i].open);
		cr_assert(has(words(f)->remedy, k[i].fix), "%zu: %s", i, words(f)->remedy);
		cr_assert(has(words(f)->remedy, "Sentinel"), "Redis's crash advice: %s",
			  words(f)->remedy);
		cr_assert(!has(words(f)->remedy, "Redis has no restart that keeps"), "%s",
			  words(f)->remedy);
		cr_assert_eq(w.t.n_deaths, 1, "only the holder's exit is kept");
		w_listen(&w, 0, 2, 6379, "redis-server", 456, redis_cmd, "redis-server.service");
		w_tick(&w);
		assert_crashed(w_get(&w, CAUSE_LISTENER_GAP), k[i].closed);
		w_free(&w);
	}
}

/* The exit read a tick after the gap was seen, or a tick before (a holder among others). */
Test(gap, exit_event_before_or_after_the_gap_is_matched)
{
	struct world w;

	w_redis(&w);
	w.nl = 0;
	w_tick(&w);
	cr_assert(!has(words(w_get(&w, CAUSE_LISTENER_GAP))->message, "exited"));
	w_exit(&w, 123, NULL, 2);
	w_tick(&w);
	assert_crashed(w_get(&w, CAUSE_LISTENER_GAP), "since redis-server[123] exited with status 2");
	w_free(&w);

	w_redis(&w);
	w_exit(&w, 123, "SIGKILL", 0);
	w_tick(&w);
	cr_assert_eq(w.out.count, 0);
	w.nl = 0;
	w_tick(&w);
	assert_crashed(w_get(&w, CAUSE_LISTENER_GAP), "since redis-server[123] was killed by SIGKILL");
	w_free(&w);
}

/* The kernel's line says more than the event: it wins whichever comes first. */
Test(gap, kernel_line_wins_over_the_exit_event)
{
	int order;

	for (order = 0; order < 2; order++) {
		struct world w;

		w_redis(&w);
		w.nl = 0;
		if (order == 0) {
			w_exit(&w, 123, "SIGSEGV", 0);
			w_tick(&w);
			w_death(&w, KMSG_SEGFAULT, 123, "redis-server", "SIGSEGV");
		} else {
			w_death(&w, KMSG_SEGFAULT, 123, "redis-server", "SIGSEGV");
			w_tick(&w);
			w_exit(&w, 123, "SIGSEGV", 0);
		}
		w_tick(&w);
		assert_crashed(w_get(&w, CAUSE_LISTENER_GAP),
			       "since redis-server[123] crashed (SIGSEGV: the kernel logged a segfault)");
		cr_assert_eq(w.t.n_deaths, 1, "one death per pid");
		cr_assert(!w.t.deaths[0].by_exit);
		w_free(&w);
	}
}

/* A stop (SIGTERM unhandled, 128+SIGTERM from a runtime) is a restart: Redis's restart advice. */
Test(gap, stop_signals_are_a_restart)
{
	static const struct { const char *sig; int status; } k[] = {
		{ "SIGTERM", 0 }, { "SIGINT", 0 }, { "SIGQUIT", 0 }, { "SIGHUP", 0 }, { NULL, 143 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(k); i++) {
		struct world w;
		const struct finding *f;

		w_redis(&w);
		w.nl = 0;
		w_exit(&w, 123, k[i].sig, k[i].status);
		w_tick(&w);
		w_listen(&w, 0, 2, 6379, "redis-server", 456, redis_cmd, "redis-server.service");
		w_tick(&w);
		f = w_get(&w, CAUSE_LISTENER_GAP);
		cr_assert(!has(words(f)->message, "crash"), "%zu: %s", i, words(f)->message);
		cr_assert(!has(words(f)->message, "killed"), "%zu: %s", i, words(f)->message);
		cr_assert_str_eq(f->knob, "restart method");
		cr_assert(has(words(f)->remedy, "Redis has no restart that keeps its listening socket"),
			  "%s", words(f)->remedy);
		cr_assert(!has(words(f)->remedy, "nginx -s reload"), "%s", words(f)->remedy);
		w_free(&w);
	}
}

Test(gap, deliberate_restart_gets_the_softwares_advice)
{
	static const struct { const char *comm, *cmdline, *want; } sw[] = {
		{ "nginx", "nginx: master process /usr/sbin/nginx", "`nginx -s reload`" },
		{ "haproxy", "/usr/sbin/haproxy -Ws -f /etc/haproxy/haproxy.cfg", "expose-fd listeners" },
		{ "uwsgi", "uWSGI master", "SIGHUP to the uWSGI master" },
		{ "myserver", "./myserver", "socket activation" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sw); i++) {
		struct world w;
		const struct finding *f;

		w_init(&w);
		w_listen(&w, 0, 1, 8080, sw[i].comm, 812, sw[i].cmdline, "");
		w_tick(&w);
		w_tick(&w);
		w.nl = 0;
		w_tick(&w);
		w_listen(&w, 0, 2, 8080, sw[i].comm, 900, sw[i].cmdline, "");
		w_tick(&w);
		f = w_get(&w, CAUSE_LISTENER_GAP);
		cr_assert(has(words(f)->remedy, sw[i].want), "%s: %s", sw[i].comm, words(f)->remedy);
		cr_assert_eq(has(words(f)->remedy, "nginx -s reload"), i == 0, "%s: %s", sw[i].comm,
			     words(f)->remedy);
		cr_assert(!has(words(f)->message, "crash"), "%s", words(f)->message);
		w_free(&w);
	}
}

/* An overflow on a small Redis tcp-backlog: the remedy says tcp-backlog, not listen(). */
Test(accept, backlog_small_names_the_knob_of_the_holder)
{
	struct world w;
	const struct finding *f;

	w_init(&w);
	w_listen(&w, 0, 1, 6379, "redis-server", 123, redis_cmd, "");
	w.l[0].backlog = 8;
	w_tick(&w);
	w.l[0].queue = 9;
	w.l[0].drops = 20;
	w.c[0].value = 20;
	w_tick(&w);
	f = w_get(&w, CAUSE_BACKLOG_SMALL);
	cr_assert(has(words(f)->remedy, "set `tcp-backlog 128` in redis.conf (it is 8 now"), "%s",
		  words(f)->remedy);
	cr_assert(has(words(f)->remedy, "net.core.somaxconn=4096"), "%s", words(f)->remedy);
	cr_assert(!has(words(f)->remedy, "Java ServerSocket"), "%s", words(f)->remedy);
	cr_assert_str_eq(f->knob, "listen() backlog", "the structured knob stays stable");
	w_free(&w);
}

/* Clamped at somaxconn: raise the sysctl, and the server's own knob too. */
Test(accept, backlog_clamped_names_the_knob_too)
{
	struct world w;
	const struct finding *f;

	w_init(&w);
	w.lim.somaxconn = 128;
	w_listen(&w, 0, 1, 8080, "nginx", 812, "nginx: master process /usr/sbin/nginx", "nginx.service");
	w.l[0].backlog = 128;
	w_tick(&w);
	w.l[0].queue = 129;
	w.l[0].drops = 20;
	w.c[0].value = 20;
	w_tick(&w);
	f = w_get(&w, CAUSE_BACKLOG_CLAMPED);
	cr_assert(has(words(f)->remedy, "net.core.somaxconn from 128 to 4096"), "%s", words(f)->remedy);
	cr_assert(has(words(f)->remedy, "nginx's own backlog is `listen ... backlog=`"), "%s",
		  words(f)->remedy);
	w_free(&w);
}

/* A queue that stays full: the application, in its own terms (HAProxy at maxconn), never a bigger backlog. */
Test(accept, slow_accept_says_why_in_the_softwares_terms)
{
	static const struct { const char *comm, *cmdline, *want; } sw[] = {
		{ "haproxy", "/usr/sbin/haproxy -Ws -f /etc/haproxy/haproxy.cfg", "stops accepting at `maxconn`" },
		{ "redis-server", "/usr/bin/redis-server *:6379", "SLOWLOG GET" },
		{ "myserver", "./myserver", NULL },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sw); i++) {
		struct world w;
		const struct finding *f;
		int k;

		w_init(&w);
		w_listen(&w, 0, 1, 8080, sw[i].comm, 812, sw[i].cmdline, "");
		w.l[0].backlog = 16;
		w_tick(&w);
		for (k = 1; k <= 8; k++) {
			w.l[0].queue = 17;
			w.l[0].drops += 5;
			w.c[0].value += 5;
			w_tick(&w);
		}
		f = w_get(&w, CAUSE_SLOW_ACCEPT);
		cr_assert(has(words(f)->remedy, "raising the backlog only delays the drops"), "%s",
			  words(f)->remedy);
		if (sw[i].want)
			cr_assert(has(words(f)->remedy, sw[i].want), "%s: %s", sw[i].comm, words(f)->remedy);
		else
			cr_assert(has(words(f)->remedy, "delays the drops") &&
				  !has(strstr(words(f)->remedy, "delays the drops"), ";"),
				  "nothing added for unknown software: %s", words(f)->remedy);
		cr_assert(!has(words(f)->remedy, ". "), "one sentence: %s", words(f)->remedy);
		w_free(&w);
	}
}
