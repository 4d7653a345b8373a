/* software.c: the common servers told from their process names, with their backlog knob and restart advice in their own words. */
#include "base.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sbuf.h"
#include "software.h"

/*
 * How one server is recognised. A name pattern matches a process name
 * case-insensitively, whole, or as a prefix when it ends in '*' (comm is
 * cut at 15 bytes, and setproctitle rewrites it: "gunicorn: maste").
 * comm[] is tried on comm and on the command line's first word (its
 * basename, without a trailing ':': "nginx: master process", "uWSGI
 * master", "postgres: checkpointer"). An interpreter's servers are known
 * by a word of their command line: via[] names the interpreter, word[] the
 * words ("gunicorn", "http.server").
 */
struct software_def {
	const char *comm[4];
	const char *via[3];
	const char *word[4];
	struct software sw;
};

#define GENERIC_RESTART \
	"restart $S without closing $L: socket activation (a systemd .socket unit owns the " \
	"listener across restarts), an SO_REUSEPORT hand-over (the new process listens before " \
	"the old one closes), or the software's own reload in place (often SIGHUP) instead of " \
	"a stop and a start"
#define GENERIC_CRASH \
	"Restart=on-failure in its unit brings it back quickly, and socket activation (a " \
	"systemd .socket unit holding $L) keeps the listener open while it is down, so " \
	"clients wait instead of being refused"

/*
 * The servers, specific before general: gunicorn and http.server before
 * Python, Tomcat before Java. Defaults and knobs from each project's
 * documentation (nginx ngx_http_core_module "listen"; Apache mpm_common
 * ListenBacklog; HAProxy configuration.txt "backlog", "maxconn"; uWSGI
 * "listen" option; gunicorn settings "backlog"; redis.conf "tcp-backlog";
 * memcached -b; PostgreSQL postmaster.c ListenServerPort; MySQL back_log;
 * Node.js net server.listen; Python socketserver request_queue_size;
 * Tomcat HTTP connector acceptCount; Envoy Listener tcp_backlog_size;
 * systemd.socket Backlog=) and /work/shared/SOFTWARE.md.
 */
static const struct software_def defs[] = {
	{ .comm = { "systemd" }, .sw = {
		"systemd socket activation", "Backlog=",
		"set `Backlog=$N` in the [Socket] section of the .socket unit that listens on $L "
		"(it is $C now), then systemctl daemon-reload and restart that .socket unit",
		"systemd holds $L for its service, so restarting the service leaves no gap: look "
		"for a stop or restart of the .socket unit itself",
		GENERIC_CRASH } },
	{ .comm = { "nginx" }, .sw = {
		"nginx", "listen ... backlog=",
		"set `listen $L backlog=$N;` in nginx.conf (it is $C now) and run `nginx -s "
		"reload`: the master calls listen() again with the new backlog on the open socket",
		"reload $S instead of stopping and starting it: `nginx -s reload` (systemctl "
		"reload nginx) keeps the master and its listening sockets and replaces only the "
		"workers; for a new nginx binary, send USR2 to the master, then QUIT to the old one",
		"Restart=on-failure in its unit brings the master back quickly; nginx's error log "
		"and the core dump say why it died",
		"nginx workers accept up to `worker_connections` each: check it, and the error log for "
		"\"worker_connections are not enough\"" } },
	{ .comm = { "apache2", "httpd" }, .sw = {
		"Apache httpd", "ListenBacklog",
		"set `ListenBacklog $N` in the Apache configuration (it is $C now) and stop and "
		"start Apache (systemctl restart apache2): a graceful restart keeps the open socket",
		"use `apachectl graceful` (systemctl reload apache2) instead of a stop and a start: "
		"the parent keeps its listening sockets and replaces its children",
		GENERIC_CRASH,
		"when every Apache worker is busy nothing accepts: `MaxRequestWorkers` (its error log says when "
		"it was reached)" } },
	{ .comm = { "haproxy" }, .sw = {
		"HAProxy", "backlog / maxconn",
		"set `backlog $N` on the bind line or the frontend (it is $C now; without it "
		"HAProxy uses the frontend's maxconn as the backlog), and check `maxconn`, global "
		"and per frontend: at maxconn HAProxy stops accepting and the queue fills while "
		"it looks healthy; then reload HAProxy",
		"reload $S with its listeners handed over instead of a stop and a start: run it "
		"master-worker (-W, or master-worker in global) with `expose-fd listeners` on its "
		"stats socket, so the new process takes the sockets (-x), then systemctl reload "
		"haproxy",
		GENERIC_CRASH,
		"HAProxy stops accepting at `maxconn` (global and per frontend): raise it if the "
		"connections are legitimate" } },
	{ .comm = { "uwsgi*" }, .sw = {
		"uWSGI", "--listen",
		"start uWSGI with `--listen $N` (`listen = $N` in its ini file; it is $C now, "
		"default 100) and restart it; uWSGI refuses to start when it is above "
		"net.core.somaxconn, so raise that first if it is lower",
		"reload $S in place instead of a stop and a start: SIGHUP to the uWSGI master (or "
		"--touch-reload FILE) keeps the socket and replaces the workers",
		GENERIC_CRASH,
		"uWSGI accepts only while a worker is free: more `--processes` or `--threads`, and "
		"`harakiri` for stuck requests" } },
	{ .comm = { "gunicorn*" }, .via = { "python*" }, .word = { "gunicorn" }, .sw = {
		"gunicorn", "--backlog",
		"start gunicorn with `--backlog $N` (`backlog = $N` in its config file; it is $C "
		"now, default 2048) and restart the master",
		"send HUP to the gunicorn master instead of a stop and a start: it keeps its socket "
		"and replaces the workers; for new code or a new gunicorn, USR2 starts a new master "
		"on the same socket, then WINCH and TERM the old one",
		GENERIC_CRASH,
		"gunicorn accepts only while a worker is free: more `--workers` or `--threads`, or "
		"async workers, and `--timeout` for stuck requests" } },
	{ .comm = { "uvicorn*" }, .via = { "python*" }, .word = { "uvicorn" }, .sw = {
		"uvicorn", "--backlog",
		"start uvicorn with `--backlog $N` (it is $C now, default 2048) and restart it",
		GENERIC_RESTART, GENERIC_CRASH } },
	{ .via = { "python*" }, .word = { "http.server", "socketserver" }, .sw = {
		"Python http.server", "request_queue_size",
		"set `request_queue_size = $N` on the server class (a subclass of "
		"http.server.ThreadingHTTPServer; socketserver's default is 5, it is $C now) and "
		"restart it; http.server's plain HTTPServer also serves one request at a time",
		GENERIC_RESTART, GENERIC_CRASH,
		"http.server's HTTPServer serves one request at a time: use ThreadingHTTPServer" } },
	{ .comm = { "python*" }, .sw = {
		"Python", "listen() backlog",
		"raise the backlog the Python server passes to listen() from $C to at least $N "
		"(socketserver `request_queue_size = $N`, default 5; asyncio `loop.create_server"
		"(..., backlog=$N)`, default 100; uvicorn and hypercorn `--backlog $N`) and "
		"restart it",
		GENERIC_RESTART, GENERIC_CRASH } },
	{ .comm = { "redis-server", "valkey-server" }, .sw = {
		"Redis", "tcp-backlog",
		"set `tcp-backlog $N` in redis.conf (it is $C now; CONFIG SET cannot change it) "
		"and restart redis-server, with net.core.somaxconn at least as large (Redis warns "
		"at start when it is lower)",
		"Redis has no restart that keeps its listening socket: every restart of $S refuses "
		"clients until it listens again; change settings with CONFIG SET (and CONFIG "
		"REWRITE) instead of restarting where you can, and keep clients served across "
		"restarts with a replica and Sentinel (or a proxy) that fails over",
		"a replica with Sentinel (or a proxy) that fails over keeps clients served while "
		"it is down; Redis writes a crash report to its log",
		"Redis accepts on its one main thread, which a slow command (KEYS, a big DEL, a "
		"script) blocks: SLOWLOG GET shows them" } },
	{ .comm = { "memcached" }, .sw = {
		"memcached", "-b",
		"start memcached with `-b $N` (in /etc/memcached.conf on Debian; it is $C now, "
		"default 1024) and restart it",
		"memcached has no restart that keeps its socket: each restart of $S refuses "
		"clients and empties the cache; clients that spread keys over several servers "
		"ride it out",
		"clients that spread keys over several memcached servers ride out the loss of "
		"one, and Restart=on-failure brings it back" } },
	{ .comm = { "postgres", "postmaster" }, .sw = {
		"PostgreSQL", "max_connections",
		"PostgreSQL has no backlog setting: the postmaster asks listen() for twice "
		"max_connections, at most 10,000 (it is $C now), and refusals are more often "
		"max_connections itself (its log says \"sorry, too many clients already\"); put a "
		"pooler such as PgBouncer in front, or raise max_connections and restart PostgreSQL",
		"apply settings with `pg_ctl reload` (SELECT pg_reload_conf()), which does not "
		"close the socket; for the settings that need a restart, a pooler (PgBouncer) in "
		"front can pause clients instead of refusing them",
		"a pooler (PgBouncer) or a standby with failover keeps clients served while it is "
		"down; PostgreSQL's log says why the postmaster died" } },
	{ .comm = { "mysqld", "mariadbd" }, .sw = {
		"MySQL/MariaDB", "back_log",
		"set `back_log = $N` under [mysqld] in my.cnf (it is $C now; by default it "
		"follows max_connections) and restart the server",
		"change dynamic settings with SET GLOBAL instead of restarting $S; across "
		"restarts, a proxy (ProxySQL, MaxScale) or a replica keeps clients served",
		GENERIC_CRASH } },
	{ .comm = { "node", "nodejs" }, .sw = {
		"Node.js", "server.listen({ backlog })",
		"pass the backlog to listen: `server.listen({ port, host, backlog: $N })` (it is "
		"$C now, Node's default 511) and restart the process",
		"Node.js has no built-in restart that keeps the socket: use a cluster whose primary "
		"holds it while the workers are replaced (pm2 reload does this), or systemd socket "
		"activation, instead of a stop and a start of $S",
		GENERIC_CRASH,
		"Node.js accepts on its event loop: synchronous work or a long GC blocked it, and "
		"the event loop delay (perf_hooks monitorEventLoopDelay) shows when" } },
	{ .via = { "java" }, .word = { "tomcat", "catalina" }, .sw = {
		"Tomcat", "acceptCount",
		"set `acceptCount=\"$N\"` on the Connector in server.xml (Spring Boot: "
		"`server.tomcat.accept-count=$N`; it is $C now, default 100) and restart Tomcat",
		GENERIC_RESTART, GENERIC_CRASH,
		"Tomcat accepts only while its `maxThreads` (or `maxConnections`) allow, and a long GC "
		"pause stops it: check both" } },
	{ .comm = { "java" }, .sw = {
		"Java", "listen() backlog",
		"raise the backlog the Java server passes to listen() from $C to at least $N "
		"(`new ServerSocket(port, $N)`, default 50; Tomcat `acceptCount`, Spring Boot "
		"`server.tomcat.accept-count`, default 100; Netty `ChannelOption.SO_BACKLOG`; "
		"Jetty `acceptQueueSize`) and restart it",
		GENERIC_RESTART, GENERIC_CRASH,
		"a long GC pause stops accept() for its length: check the GC log" } },
	{ .comm = { "envoy" }, .sw = {
		"Envoy", "tcp_backlog_size",
		"set `tcp_backlog_size: $N` on the listener (it is $C now) and push the listener "
		"update or hot-restart Envoy",
		"use Envoy's hot restart (a new process with --restart-epoch one higher takes the "
		"listening sockets from the old one) instead of a stop and a start of $S",
		GENERIC_CRASH } },
};

static const struct software generic = {
	"", "listen() backlog",
	"raise the application's listen() backlog from $C to at least $N (common defaults: "
	"Java ServerSocket 50, Tomcat acceptCount 100, nginx/Node.js/Redis 511)",
	GENERIC_RESTART, GENERIC_CRASH, NULL,
};

/* name (len bytes, not NUL-terminated) against one pattern. */
static bool name_matches(const char *pat, const char *name, size_t len)
{
	size_t plen = strlen(pat);

	if (plen && pat[plen - 1] == '*')
		return len >= plen - 1 && strncasecmp(pat, name, plen - 1) == 0;
	return len == plen && strncasecmp(pat, name, plen) == 0;
}

static bool any_matches(const char *const pats[], size_t npats, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < npats && pats[i]; i++)
		if (name_matches(pats[i], name, len))
			return true;
	return false;
}

/* The basename of the command line's first word, without a trailing ':'. */
static const char *argv0_name(const char *cmdline, size_t *len)
{
	const char *end = cmdline + strcspn(cmdline, " "), *base = cmdline, *p;

	for (p = cmdline; p < end; p++)
		if (*p == '/')
			base = p + 1;
	if (end > base && end[-1] == ':')
		end--;
	*len = (size_t)(end - base);
	return base;
}

static bool def_matches(const struct software_def *d, const char *comm, const char *cmdline)
{
	size_t clen = strnlen(comm, OWNER_COMM_MAX), alen, i;
	const char *a0 = argv0_name(cmdline, &alen);

	if (any_matches(d->comm, ARRAY_SIZE(d->comm), comm, clen) ||
	    (alen && any_matches(d->comm, ARRAY_SIZE(d->comm), a0, alen)))
		return true;
	if (!any_matches(d->via, ARRAY_SIZE(d->via), comm, clen) &&
	    !(alen && any_matches(d->via, ARRAY_SIZE(d->via), a0, alen)))
		return false;
	for (i = 0; i < ARRAY_SIZE(d->word) && d->word[i]; i++)
		if (strstr(cmdline, d->word[i]))
			return true;
	return false;
}

const struct software *software_of_proc(const char *comm, const char *cmdline)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(defs); i++)
		if (def_matches(&defs[i], comm, cmdline))
			return &defs[i].sw;
	return &generic;
}

const struct software *software_of(const struct owner *o)
{
	unsigned i;

	for (i = 0; o && i < o->nprocs && i < OWNER_MAX_PROCS; i++) {
		char comm[OWNER_COMM_MAX + 1], cmd[OWNER_CMDLINE_MAX + 1];
		const struct software *sw;

		/* The owner's arrays may be full to the last byte: read them bounded. */
		snprintf(comm, sizeof(comm), "%.*s", (int)sizeof(o->procs[i].comm), o->procs[i].comm);
		snprintf(cmd, sizeof(cmd), "%.*s", (int)sizeof(o->procs[i].cmdline),
			 o->procs[i].cmdline);
		sw = software_of_proc(comm, cmd);
		if (!software_generic(sw))
			return sw;
	}
	return &generic;
}

bool software_generic(const struct software *sw)
{
	return sw == &generic;
}

struct words {
	const char *listener;
	const char *svc;
	int64_t cur;
	int64_t sug;
};

/* A template into sb, its $-tokens replaced; an unknown token is written as it is. */
static void expand(struct sbuf *sb, const char *tpl, const struct words *w)
{
	const char *p = tpl;

	while (*p) {
		size_t run = strcspn(p, "$");

		sb_printf(sb, "%.*s", (int)run, p);
		p += run;
		if (!*p)
			break;
		switch (p[1]) {
		case 'N':
			sb_printf(sb, "%" PRId64, w->sug);
			break;
		case 'C':
			sb_printf(sb, "%" PRId64, w->cur);
			break;
		case 'L':
			sb_printf(sb, "%s", w->listener);
			break;
		case 'S':
			sb_printf(sb, "%s", w->svc);
			break;
		default:
			sb_printf(sb, "$");
			p++;
			continue;
		}
		p += 2;
	}
}

void software_backlog_fix(const struct software *sw, struct sbuf *sb, const char *listener,
			  int64_t cur, int64_t sug)
{
	struct words w = { listener, "", cur, sug };

	expand(sb, sw->set_backlog, &w);
}

void software_restart_fix(const struct software *sw, struct sbuf *sb, const char *listener,
			  const char *svc)
{
	struct words w = { listener, svc, -1, -1 };

	expand(sb, sw->restart, &w);
}

void software_stall_hint(const struct software *sw, struct sbuf *sb)
{
	if (sw->stall)
		sb_printf(sb, "; %s", sw->stall);
}

void software_crash_fix(const struct software *sw, struct sbuf *sb, const char *listener,
			const char *svc)
{
	struct words w = { listener, svc, -1, -1 };

	expand(sb, sw->after_crash, &w);
}
