/* backlogctl.c: the CLI: asks backlogd over its control socket, or diagnoses once without it. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "diagnose.h"
#include "monitor.h"
#include "netns.h"
#include "render.h"
#include "report.h"
#include "clock.h"

#define PROG "backlogctl"

/* Exit statuses are an interface: scripts and the integration tests test them. */
enum {
	EXIT_OK = 0,
	EXIT_FINDINGS = 1,        /* diagnose: at least one finding */
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,     /* daemon not running, not answering; or no kernel data for diagnose */
	EXIT_DAEMON_ERROR = 4,    /* the daemon answered with an error, or garbage */
};

/* How long the daemon gets to answer, connect to last byte. */
#define REPLY_TIMEOUT_MS 5000
/* A status with tens of thousands of listeners is a few MB; beyond this something is wrong. */
#define REPLY_MAX (64u << 20)
#define DEFAULT_INTERVAL_S 2.0
#define MAX_INTERVAL_S 3600.0

struct cli {
	const char *socket_path;
	bool json;
	double interval_s;
	bool interval_set;
	const char *netns;    /* --netns: one namespace's name or inode, NULL for all */
};

/* ---- the one option table: getopt_long's input and --help's text ---- */

enum {
	OPT_JSON = 256,       /* long-only options get values past any char */
	OPT_NETNS,
};

struct cli_option {
	const char *name;
	int val;              /* short option letter, or OPT_* for long-only */
	const char *arg;      /* argument name, NULL when none */
	const char *help;
};

static const struct cli_option cli_options[] = {
	{ "socket", 'S', "SOCKET", "backlogd's control socket (default " CONFIG_DEFAULT_SOCKET ")" },
	{ "json", OPT_JSON, NULL, "print the JSON document instead of tables" },
	{ "interval", 'i', "SECONDS", "diagnose: time between the two samples (default 2, decimals ok)" },
	{ "netns", OPT_NETNS, "NAME", "only this network namespace (a name or an inode)" },
	{ "help", 'h', NULL, "show this help and exit" },
	{ "version", 'V', NULL, "show the version and exit" },
};

#define N_OPTIONS (ARRAY_SIZE(cli_options))

struct cli_command {
	const char *name;
	const char *args;     /* for --help */
	unsigned nargs;       /* exact number of arguments */
	const char *help;
};

static const struct cli_command cli_commands[] = {
	{ "status", "", 0, "daemon, limits, host counters, listeners and findings" },
	{ "listeners", "", 0, "every listener: queue, backlog, drops, owning process and unit" },
	{ "findings", "", 0, "active and recently resolved findings, with the fix for each" },
	{ "explain", "[NETNS/]ADDR:PORT|PORT|host|IFACE", 1, "the chain of evidence for a listener (all on PORT), the host, an interface or a destination, in every namespace or in NETNS" },
	{ "diagnose", "", 0, "sample twice without the daemon, in backlogctl's own namespace; exit 1 when something is wrong" },
};

#define N_COMMANDS (ARRAY_SIZE(cli_commands))

static void usage(FILE *out)
{
	char left[64];

	fprintf(out, "Usage: " PROG " [OPTIONS] COMMAND [ARGS]\n\n"
		"Explain refused, reset and stalled TCP connections from listeners' accept queues.\n\n"
		"Commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		snprintf(left, sizeof(left), "%s%s%s", cli_commands[i].name,
			 cli_commands[i].args[0] ? " " : "", cli_commands[i].args);
		/* A long synopsis gets a line of its own so the descriptions stay in one column. */
		if (strlen(left) > 25)
			fprintf(out, "  %s\n  %-25s %s\n", left, "", cli_commands[i].help);
		else
			fprintf(out, "  %-25s %s\n", left, cli_commands[i].help);
	}
	fprintf(out, "\nOptions (before or after the command):\n");
	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct cli_option *o = &cli_options[i];
		char shrt[8] = "    ";

		if (o->val < 256)
			snprintf(shrt, sizeof(shrt), "-%c, ", o->val);
		snprintf(left, sizeof(left), "%s--%s%s%s", shrt, o->name, o->arg ? "=" : "", o->arg ? o->arg : "");
		fprintf(out, "  %-25s %s\n", left, o->help);
	}
	fprintf(out, "\nNamespaces: backlogd watches every network namespace; listeners and findings outside\n"
		"its own are marked [NAME]. --netns NAME keeps one (\"host\" is backlogd's own);\n"
		"explain blue/127.0.0.1:8080 looks in namespace blue only.\n");
	fprintf(out, "\nExit status: 0 ok; 1 diagnose found a problem; 2 usage error;\n"
		"3 backlogd unreachable (or, for diagnose, the kernel's data); 4 backlogd returned an error,\n"
		"or --netns names no namespace it watches.\n");
}

/* Print "backlogctl: ..." and the pointer to --help. Return: EXIT_USAGE. */
__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry '" PROG " --help'.\n", stderr);
	return EXIT_USAGE;
}

static const struct cli_option *option_by_val(int val)
{
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (cli_options[i].val == val)
			return &cli_options[i];
	return NULL;
}

/* Seconds > 0, decimals allowed ("0.5", "2"). Return: true when s is one. */
static bool parse_interval(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0.0 || v > MAX_INTERVAL_S)
		return false;
	*out = v;
	return true;
}

/*
 * Parse argv with options anywhere: "backlogctl status --json" and
 * "backlogctl --json status" mean the same. Words that are not options
 * go to words[] in order. Return: -1 to go on, or the exit status
 * (--help, --version, a usage error).
 */
static int parse_args(int argc, char **argv, struct cli *cli, char **words, size_t *nwords)
{
	struct option longopts[N_OPTIONS + 1];
	/* "-": return non-options in order (even under POSIXLY_CORRECT); ":": report a missing argument as ':'. */
	char shortopts[2 + 2 * N_OPTIONS + 1] = "-:";
	size_t sp = 2;
	int c;

	memset(longopts, 0, sizeof(longopts));
	for (size_t i = 0; i < N_OPTIONS; i++) {
		longopts[i].name = cli_options[i].name;
		longopts[i].has_arg = cli_options[i].arg ? required_argument : no_argument;
		longopts[i].val = cli_options[i].val;
		if (cli_options[i].val < 256) {
			shortopts[sp++] = (char)cli_options[i].val;
			if (cli_options[i].arg)
				shortopts[sp++] = ':';
		}
	}
	shortopts[sp] = '\0';

	*nwords = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct cli_option *o;

		switch (c) {
		case 1:
			words[(*nwords)++] = optarg;
			break;
		case 'S':
			if (!*optarg)
				return usage_error("--socket needs a path");
			cli->socket_path = optarg;
			break;
		case OPT_JSON:
			cli->json = true;
			break;
		case OPT_NETNS:
			if (!*optarg)
				return usage_error("--netns needs a namespace name or inode");
			cli->netns = optarg;
			break;
		case 'i':
			if (!parse_interval(optarg, &cli->interval_s))
				return usage_error("bad --interval '%s': expected seconds above 0 and at most %.0f "
						   "(decimals allowed)", optarg, MAX_INTERVAL_S);
			cli->interval_set = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf(PROG " %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		case ':':
			o = option_by_val(optopt);
			return usage_error("option --%s needs an argument (%s)", o ? o->name : "?",
					   o && o->arg ? o->arg : "?");
		default:
			/* getopt leaves the offending word just before optind. */
			o = option_by_val(optopt);
			if (o && !o->arg)
				return usage_error("option --%s takes no argument", o->name);
			if (optopt > 0 && optopt < 256)
				return usage_error("unknown option '-%c'", optopt);
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	/* Everything after "--" is a word, even when it starts with '-'. */
	while (optind < argc)
		words[(*nwords)++] = argv[optind++];
	return -1;
}

/* ---- talking to the daemon ---- */

/* Wait for events on fd until deadline. Return: 1 ready, 0 timed out, -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - clock_mono_ms();
		struct pollfd pfd = { .fd = fd, .events = events };
		int n;

		if (left <= 0)
			return 0;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* Return: 0, -ETIMEDOUT, or -errno. */
static int send_all(int fd, const char *buf, size_t len, int64_t deadline)
{
	while (len > 0) {
		/* MSG_NOSIGNAL: a daemon that went away is an error message, not a SIGPIPE death. */
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		int w;

		if (n >= 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		w = wait_fd(fd, POLLOUT, deadline);
		if (w <= 0)
			return w == 0 ? -ETIMEDOUT : w;
	}
	return 0;
}

/*
 * Read one line (the reply) into a malloc'd, NUL-terminated *out, newline
 * stripped. A reply cut short by EOF is returned as is for the parser to
 * judge. Return: 0, -ETIMEDOUT, -EFBIG, -ECONNRESET (EOF before any byte), -errno.
 */
static int read_line(int fd, char **out, int64_t deadline)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;
	int rc;

	for (;;) {
		char *nl;
		ssize_t n;

		if (cap - len < 4096) {
			size_t ncap = cap ? cap * 2 : 16384;
			char *nb;

			if (ncap > REPLY_MAX + 1) {
				rc = -EFBIG;
				goto out_free;
			}
			nb = realloc(buf, ncap);
			if (!nb) {
				rc = -ENOMEM;
				goto out_free;
			}
			buf = nb;
			cap = ncap;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n == 0) {
			if (len == 0) {
				rc = -ECONNRESET;
				goto out_free;
			}
			break;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				rc = -errno;
				goto out_free;
			}
			rc = wait_fd(fd, POLLIN, deadline);
			if (rc <= 0) {
				rc = rc == 0 ? -ETIMEDOUT : rc;
				goto out_free;
			}
			continue;
		}
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl) {
			len = (size_t)(nl - buf);
			break;
		}
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
out_free:
	free(buf);
	return rc;
}

static const char *connect_hint(int err)
{
	switch (err) {
	case EACCES:
	case EPERM:
		return "run as root or as a member of the backlogd group";
	case EAGAIN:
		return "backlogd is not accepting connections; systemctl status backlogd";
	default:
		return "is backlogd running? systemctl status backlogd";
	}
}

/* Return: a connected, non-blocking socket, or -1 with the exit status in *exit_code. */
static int connect_daemon(const char *path, int *exit_code)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	/* A daemon whose own accept queue is full must not hang us: bound connect() too. */
	struct timeval tv = { .tv_sec = REPLY_TIMEOUT_MS / 1000, .tv_usec = REPLY_TIMEOUT_MS % 1000 * 1000 };
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		*exit_code = usage_error("socket path too long (%zu bytes, at most %zu): %s",
					 strlen(path), sizeof(sun.sun_path) - 1, path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, PROG ": socket: %s\n", strerror(errno));
		*exit_code = EXIT_UNREACHABLE;
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno == EINTR)
			continue;
		err = errno;
		fprintf(stderr, PROG ": cannot connect to %s: %s (%s)\n", path, strerror(err), connect_hint(err));
		close(fd);
		*exit_code = EXIT_UNREACHABLE;
		return -1;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		fprintf(stderr, PROG ": fcntl: %s\n", strerror(errno));
		close(fd);
		*exit_code = EXIT_UNREACHABLE;
		return -1;
	}
	return fd;
}

/*
 * Send request as one line and read one reply line from the daemon at
 * path. Return: EXIT_OK with *data (a new reference to the reply's "data",
 * null when absent), or the exit status after saying why on stderr.
 */
static int ask_daemon(const char *path, const json_t *request, json_t **data)
{
	int64_t deadline = clock_mono_ms() + REPLY_TIMEOUT_MS;
	char *req = NULL, *line = NULL;
	json_t *reply = NULL;
	const json_t *ok;
	json_error_t jerr;
	int fd, rc, status = EXIT_UNREACHABLE;

	fd = connect_daemon(path, &status);
	if (fd < 0)
		return status;
	req = json_dumps(request, JSON_COMPACT);
	if (!req) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out_close;
	}
	rc = send_all(fd, req, strlen(req), deadline);
	if (rc == 0)
		rc = send_all(fd, "\n", 1, deadline);
	if (rc < 0) {
		fprintf(stderr, PROG ": cannot send the request to %s: %s\n", path, strerror(-rc));
		goto out_free;
	}
	rc = read_line(fd, &line, deadline);
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, PROG ": no reply from backlogd at %s within %d s\n", path, REPLY_TIMEOUT_MS / 1000);
		goto out_free;
	}
	if (rc == -ECONNRESET) {
		fprintf(stderr, PROG ": backlogd at %s closed the connection without replying\n", path);
		goto out_free;
	}
	if (rc == -EFBIG) {
		fprintf(stderr, PROG ": reply from %s larger than %u MiB\n", path, REPLY_MAX >> 20);
		status = EXIT_DAEMON_ERROR;
		goto out_free;
	}
	if (rc < 0) {
		fprintf(stderr, PROG ": reading the reply from %s: %s\n", path, strerror(-rc));
		goto out_free;
	}

	status = EXIT_DAEMON_ERROR;
	reply = json_loads(line, 0, &jerr);
	ok = json_object_get(reply, "ok");
	if (!reply || !json_is_boolean(ok)) {
		fprintf(stderr, PROG ": malformed reply from backlogd: %s\n",
			reply ? "no \"ok\" member" : jerr.text);
		goto out_free;
	}
	if (!json_is_true(ok)) {
		const char *msg = json_string_value(json_object_get(reply, "error"));

		fprintf(stderr, PROG ": backlogd: %s\n", msg ? msg : "unspecified error");
		goto out_free;
	}
	*data = json_object_get(reply, "data");
	*data = *data ? json_incref(*data) : json_null();
	status = EXIT_OK;
out_free:
	json_decref(reply);
	free(line);
	free(req);
out_close:
	close(fd);
	return status;
}

/* Print data as indented JSON for scripts. Return: EXIT_OK, or EXIT_DAEMON_ERROR if it cannot be encoded. */
static int print_json(const json_t *data)
{
	char *s = json_dumps(data, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));

	if (!s) {
		fprintf(stderr, PROG ": cannot encode the reply as JSON\n");
		return EXIT_DAEMON_ERROR;
	}
	puts(s);
	free(s);
	return EXIT_OK;
}

/* ---- --netns: one namespace out of the daemon's answer ---- */

/*
 * Whether ns (an entry's "netns", or a namespaces[] entry: the same keys)
 * is called want: its name, or its inode in decimal. An entry without one
 * comes from a daemon that watches only its own namespace: "host".
 */
static bool ns_called(const json_t *ns, const char *want)
{
	const char *name = json_string_value(json_object_get(ns, "name"));
	const json_t *inode = json_object_get(ns, "inode");
	char buf[32];

	if (!json_is_object(ns))
		return strcmp(want, "host") == 0;
	if (name && strcmp(name, want) == 0)
		return true;
	if (!json_is_integer(inode))
		return false;
	snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(inode));
	return strcmp(buf, want) == 0;
}

/* Return: the namespaces[] entry called want, or NULL. */
static json_t *ns_entry(const json_t *nss, const char *want)
{
	size_t i;
	json_t *x;

	json_array_foreach(nss, i, x)
		if (json_is_object(x) && ns_called(x, want))
			return x;
	return NULL;
}

/* Say which namespaces there are when want is none of them. Return: EXIT_DAEMON_ERROR. */
static int ns_unknown(const json_t *nss, const char *want)
{
	size_t i;
	const json_t *x;
	int n = 0;

	fprintf(stderr, PROG ": no namespace %s (known: ", want);
	json_array_foreach(nss, i, x) {
		const char *name = json_string_value(json_object_get(x, "name"));
		const json_t *inode = json_object_get(x, "inode");

		if (name)
			fprintf(stderr, "%s%s", n++ ? ", " : "", name);
		else if (json_is_integer(inode))
			fprintf(stderr, "%s%" JSON_INTEGER_FORMAT, n++ ? ", " : "", json_integer_value(inode));
	}
	/* A daemon that sends no namespaces[] watches its own only. */
	fprintf(stderr, "%s)\n", json_is_array(nss) ? "" : "host");
	return EXIT_DAEMON_ERROR;
}

/*
 * The entries of a (an array) in namespace want, as a new array; a itself
 * (a new reference) when it is not an array. Return: NULL when out of memory.
 */
static json_t *ns_filter(json_t *a, const char *want)
{
	json_t *kept, *x;
	size_t i;

	if (!json_is_array(a))
		return json_incref(a);
	kept = json_array();
	json_array_foreach(a, i, x)
		if (kept && ns_called(json_object_get(x, "netns"), want) && json_array_append(kept, x) < 0) {
			json_decref(kept);
			return NULL;
		}
	return kept;
}

/* Replace doc's key with its entries in want; an absent key stays absent. Return: 0 or -1. */
static int ns_filter_key(json_t *doc, const char *key, const char *want)
{
	json_t *a = json_object_get(doc, key);

	if (!a)
		return 0;
	return json_object_set_new(doc, key, ns_filter(a, want));
}

/*
 * A status document cut to one namespace: its listeners, findings, gaps and
 * namespaces[] entry; its limits in place of the host's; the host counters
 * dropped unless it is the host (the counters are per namespace, and the
 * document holds only the host's); the header counts made its own.
 * Return: EXIT_OK, or the exit status after saying why.
 */
static int ns_filter_status(json_t *doc, const char *want)
{
	json_t *nss = json_object_get(doc, "namespaces");
	json_t *entry = ns_entry(nss, want);
	json_t *daemon = json_object_get(doc, "daemon");
	json_t *only;
	const char *kind;
	int rc = 0;

	if (!json_is_object(doc))
		return EXIT_OK;
	if (json_is_array(nss) ? !entry : strcmp(want, "host") != 0)
		return ns_unknown(nss, want);
	rc |= ns_filter_key(doc, "listeners", want);
	rc |= ns_filter_key(doc, "findings", want);
	rc |= ns_filter_key(doc, "gaps", want);
	if (entry) {
		kind = json_string_value(json_object_get(entry, "kind"));
		if (json_is_object(json_object_get(entry, "limits")))
			rc |= json_object_set(doc, "limits", json_object_get(entry, "limits"));
		if (!kind || strcmp(kind, "host") != 0)
			rc |= json_object_set_new(doc, "host", json_null());
		if (json_is_object(daemon)) {
			json_t *v = json_object_get(entry, "listeners_count");

			if (v)
				rc |= json_object_set(daemon, "listeners_count", v);
			v = json_object_get(entry, "findings_active");
			if (v)
				rc |= json_object_set(daemon, "findings_active", v);
		}
		/* namespaces[] entries carry inode and name themselves, not under "netns": keep this one. */
		only = json_array();
		if (!only || json_array_append(only, entry) < 0)
			rc = -1;
		rc |= json_object_set_new(doc, "namespaces", only);
	}
	if (rc) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_DAEMON_ERROR;
	}
	return EXIT_OK;
}

/*
 * Keep namespace want in *data (a status document, or the listeners or
 * findings array). An array with nothing there may mean a namespace with
 * no listeners or one that does not exist: the status's namespaces[] tells.
 * Return: EXIT_OK, or the exit status after saying why.
 */
static int ns_select(const struct cli *cli, const char *command, json_t **data)
{
	json_t *kept, *req, *st = NULL;
	int status;

	if (strcmp(command, "status") == 0)
		return ns_filter_status(*data, cli->netns);
	kept = ns_filter(*data, cli->netns);
	if (!kept) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_DAEMON_ERROR;
	}
	if (json_is_array(kept) && json_array_size(kept) == 0) {
		req = json_pack("{s:s}", "command", "status");
		status = req ? ask_daemon(cli->socket_path, req, &st) : EXIT_DAEMON_ERROR;
		json_decref(req);
		if (status == EXIT_OK && (json_is_array(json_object_get(st, "namespaces")) ?
					  !ns_entry(json_object_get(st, "namespaces"), cli->netns) :
					  strcmp(cli->netns, "host") != 0))
			status = ns_unknown(json_object_get(st, "namespaces"), cli->netns);
		json_decref(st);
		if (status != EXIT_OK) {
			json_decref(kept);
			return status;
		}
	}
	json_decref(*data);
	*data = kept;
	return EXIT_OK;
}

static int run_daemon_command(const struct cli *cli, const char *command, const char *target)
{
	json_t *request, *data = NULL;
	char *scoped = NULL;
	int status;

	/* explain takes the namespace in its target: the daemon then looks nowhere else. */
	if (target && cli->netns) {
		size_t len = strlen(cli->netns) + strlen(target) + 2;

		if (strchr(target, '/'))
			return usage_error("give the namespace once: --netns %s, or %s", cli->netns, target);
		scoped = malloc(len);
		if (!scoped) {
			fprintf(stderr, PROG ": out of memory\n");
			return EXIT_DAEMON_ERROR;
		}
		snprintf(scoped, len, "%s/%s", cli->netns, target);
		target = scoped;
	}
	request = target ? json_pack("{s:s, s:s}", "command", command, "target", target) :
			   json_pack("{s:s}", "command", command);
	free(scoped);
	if (!request)
		/* json_pack refuses text that is not UTF-8; argv can be anything. */
		return usage_error("%s: the argument is not valid UTF-8 text", command);
	status = ask_daemon(cli->socket_path, request, &data);
	json_decref(request);
	if (status == EXIT_OK && cli->netns && !target)
		status = ns_select(cli, command, &data);
	if (status != EXIT_OK) {
		json_decref(data);
		return status;
	}
	if (cli->json)
		status = print_json(data);
	else if (strcmp(command, "status") == 0)
		render_status(stdout, data);
	else if (strcmp(command, "listeners") == 0)
		render_listeners(stdout, data);
	else if (strcmp(command, "findings") == 0)
		render_findings(stdout, data);
	else
		render_explain(stdout, data);
	json_decref(data);
	return status;
}

/* ---- diagnose: one shot, no daemon ---- */

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

static int run_diagnose(const struct cli *cli)
{
	double interval = cli->interval_set ? cli->interval_s : DEFAULT_INTERVAL_S;
	struct config cfg;
	struct monitor m;
	json_t *doc;
	int rc, status;

	config_defaults(&cfg);
	cfg.tick_ms = (unsigned)(interval * 1000.0 + 0.5);
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
		sleep_seconds(interval);
		rc = monitor_tick(&m, clock_wall_ms(), NULL, NULL);
	}
	if (rc < 0) {
		fprintf(stderr, PROG ": sampling failed: %s\n", strerror(-rc));
		status = EXIT_UNREACHABLE;
		goto out_done;
	}
	doc = diagnose_document(&m, interval, clock_wall_ms() / 1000);
	if (!doc) {
		fprintf(stderr, PROG ": out of memory\n");
		status = EXIT_UNREACHABLE;
		goto out_done;
	}
	status = m.firing.count > 0 ? EXIT_FINDINGS : EXIT_OK;
	if (cli->json) {
		if (print_json(doc) != EXIT_OK)
			status = EXIT_DAEMON_ERROR;
	} else {
		render_status(stdout, doc);
	}
	json_decref(doc);
out_done:
	monitor_done(&m);
	return status;
}

/* ---- main ---- */

static const struct cli_command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(cli_commands[i].name, name) == 0)
			return &cli_commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	struct cli cli = { .socket_path = CONFIG_DEFAULT_SOCKET, .interval_s = DEFAULT_INTERVAL_S };
	const struct cli_command *cmd;
	char **words;
	size_t nwords;
	int status;

	words = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*words));
	if (!words) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_UNREACHABLE;
	}
	status = parse_args(argc, argv, &cli, words, &nwords);
	if (status >= 0)
		goto out;
	if (nwords == 0) {
		usage(stderr);
		status = EXIT_USAGE;
		goto out;
	}
	cmd = find_command(words[0]);
	if (!cmd) {
		status = usage_error("unknown command '%s'", words[0]);
		goto out;
	}
	if (nwords - 1 != cmd->nargs) {
		if (strcmp(cmd->name, "explain") == 0)
			status = usage_error(nwords == 1 ?
					     "explain needs a target: ADDR:PORT, [ADDR6]:PORT, PORT, "
					     "host, an interface or a destination ADDR:PORT" :
					     "explain takes one target");
		else
			status = usage_error("%s takes no arguments", cmd->name);
		goto out;
	}
	if (cli.interval_set && strcmp(cmd->name, "diagnose") != 0) {
		status = usage_error("--interval only applies to diagnose");
		goto out;
	}
	if (cli.netns && strcmp(cmd->name, "diagnose") == 0) {
		status = usage_error("--netns does not apply to diagnose: it samples the namespace it runs in "
				     "(run it under ip netns exec or nsenter -n)");
		goto out;
	}
	if (strcmp(cmd->name, "diagnose") == 0)
		status = run_diagnose(&cli);
	else
		status = run_daemon_command(&cli, cmd->name, cmd->nargs ? words[1] : NULL);
out:
	free(words);
	/* Output that never reached its file is a failure, whatever was found. */
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, PROG ": write error: %s\n", strerror(errno));
		if (status == EXIT_OK || status == EXIT_FINDINGS)
			status = EXIT_DAEMON_ERROR;
	}
	return status;
}
