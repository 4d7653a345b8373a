/* main.c: backlogctl: options, the command table, and printing the answer as tables or JSON. */
#include "base.h"

#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "client.h"
#include "config.h"
#include "finding_log.h"
#include "nsfilter.h"
#include "oneshot.h"
#include "render.h"
#include "top.h"

/* diagnose: the time between its two samples. */
#define DEFAULT_INTERVAL_S 2.0
#define MAX_INTERVAL_S 3600.0

/* ---- the one option table: getopt_long's input and --help's text ---- */

enum {
	OPT_JSON = 256,       /* long-only options get values past any char */
	OPT_NETNS,
	OPT_SINCE,
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
	{ "since", OPT_SINCE, "DURATION", "findings: the window, 90s, 15m, 2h, 1d or seconds" },
	{ "help", 'h', NULL, "show this help and exit" },
	{ "version", 'V', NULL, "show the version and exit" },
};

#define N_OPTIONS (ARRAY_SIZE(cli_options))

struct cli_command {
	const char *name;
	const char *args;     /* for --help */
	unsigned nargs;       /* exact number of arguments */
	const char *help;
	/* Prints the document as tables; status-shaped documents all go to render_status. */
	void (*render)(FILE *out, const json_t *doc);
	bool local;           /* runs without the daemon, in backlogctl's own namespace */
	bool whole_status;    /* the answer is a status document (--netns cuts it apart differently) */
	bool whole_text;      /* the answer is one text for every namespace: --netns does not apply */
	bool live;            /* a full-screen view (top) unless --json asks for the document */
	const char *missing;  /* the usage error when the argument is missing */
	bool takes_since;     /* --since asks for the events of a window instead */
	const char *list_key; /* the answer carries its list (for --netns) under this key */
};

/* metrics: the exposition is text already; printed as it came, for promtool or a pipe. */
static void render_text(FILE *out, const json_t *doc)
{
	if (json_is_string(doc))
		fwrite(json_string_value(doc), 1, json_string_length(doc), out);
}

static const struct cli_command cli_commands[] = {
	{ "status", "", 0, "daemon, limits, host counters, listeners and findings",
	  .render = render_status, .whole_status = true },
	{ "listeners", "", 0, "every listener: queue, backlog, drops, owning process and unit",
	  .render = render_listeners },
	{ "findings", "[--since DURATION]", 0, "active and recently resolved findings, with the fix for each; with --since, what opened, was revised or resolved in that window",
	  .render = render_findings, .takes_since = true },
	{ "explain", "[NETNS/]ADDR:PORT|PORT|host|IFACE", 1, "the chain of evidence for a listener (all on PORT), the host, an interface or a destination, in every namespace or in NETNS",
	  .render = render_explain,
	  .missing = "explain needs a target: ADDR:PORT, [ADDR6]:PORT, PORT, host, an interface or a destination ADDR:PORT" },
	{ "top", "", 0, "a live view: limits, host rates, the busiest listeners with their history, findings (q quits)",
	  .render = render_status, .live = true },
	{ "metrics", "", 0, "every metric in the Prometheus text format, as a scrape would see it",
	  .render = render_text, .whole_text = true },
	{ "diagnose", "", 0, "sample twice without the daemon, in backlogctl's own namespace; exit 1 when something is wrong",
	  .render = render_status, .local = true },
};

#define N_COMMANDS (ARRAY_SIZE(cli_commands))

/* findings --since: the daemon's events command, its window in seconds as the target. */
static const struct cli_command findings_since = {
	"events", "", 0, "", .render = render_finding_events, .list_key = "events",
};

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
		"3 backlogd not running (or, for diagnose, no kernel data); 4 backlogd returned an error,\n"
		"or --netns names no namespace it watches; 5 backlogd running but no whole reply came\n"
		"(permission denied, busy, timed out, connection closed mid-reply).\n");
}

int usage_error(const char *fmt, ...)
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
 * A window: whole seconds, or with a unit, "90s", "15m", "2h", "1d"; at
 * least 1 s and at most FINDING_LOG_SINCE_MAX. Return: true when s is one.
 */
static bool parse_since(const char *s, long long *out)
{
	static const struct { char unit; long long secs; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	long long v, mult = 1;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno)
		return false;
	if (*end) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(units) && units[i].unit != *end; i++)
			;
		if (i == ARRAY_SIZE(units) || end[1])
			return false;
		mult = units[i].secs;
	}
	if (v < 1 || v > FINDING_LOG_SINCE_MAX / mult)
		return false;
	*out = v * mult;
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
		case OPT_SINCE:
			if (!parse_since(optarg, &cli->since_s))
				return usage_error("bad --since '%s': expected a duration such as 90s, 15m, 2h, 1d "
						   "or whole seconds, from 1 s to %lld days", optarg,
						   (long long)(FINDING_LOG_SINCE_MAX / 86400));
			cli->since_set = true;
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

/* The answer as JSON (--json) or as the command's tables. Return: the exit status. */
static int print_answer(const struct cli *cli, const struct cli_command *cmd, const json_t *data)
{
	if (cli->json)
		return print_json(data);
	cmd->render(stdout, data);
	return EXIT_OK;
}

/* Ask the daemon, keep --netns's namespace, print. Return: the exit status. */
static int run_daemon_command(const struct cli *cli, const struct cli_command *cmd, const char *target)
{
	json_t *request, *data = NULL;
	char *scoped = NULL, since[24];
	int status;

	if (cli->since_set) {
		cmd = &findings_since;
		snprintf(since, sizeof(since), "%lld", cli->since_s);
		target = since;
	} else if (target && cli->netns) {
		/* explain takes the namespace in its target: the daemon then looks nowhere else. */
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
	request = target ? json_pack("{s:s, s:s}", "command", cmd->name, "target", target) :
			   json_pack("{s:s}", "command", cmd->name);
	free(scoped);
	if (!request)
		/* json_pack refuses text that is not UTF-8; argv can be anything. */
		return usage_error("%s: the argument is not valid UTF-8 text", cmd->name);
	status = client_ask(cli->socket_path, request, &data);
	json_decref(request);
	if (status == EXIT_OK && cli->netns && cmd->live)
		status = nsfilter_lists(data, cli->netns);
	else if (status == EXIT_OK && cli->netns && cmd->list_key)
		status = nsfilter_select_key(cli->socket_path, cli->netns, cmd->list_key, data);
	else if (status == EXIT_OK && cli->netns && !cmd->nargs)
		status = nsfilter_select(cli->socket_path, cli->netns, cmd->whole_status, &data);
	if (status == EXIT_OK)
		status = print_answer(cli, cmd, data);
	json_decref(data);
	return status;
}

/* diagnose: its exit status says whether something was found, unless the answer could not be printed. */
static int run_local_command(const struct cli *cli, const struct cli_command *cmd)
{
	json_t *doc = NULL;
	int status = oneshot_diagnose(cli->interval_set ? cli->interval_s : DEFAULT_INTERVAL_S, &doc);

	if (doc && print_answer(cli, cmd, doc) != EXIT_OK)
		status = EXIT_DAEMON_ERROR;
	json_decref(doc);
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

/* The options that do not fit cmd, or its arguments miscounted. Return: -1 when all is well, else the exit status. */
static int check_usage(const struct cli *cli, const struct cli_command *cmd, size_t nargs)
{
	if (nargs != cmd->nargs) {
		if (nargs == 0 && cmd->missing)
			return usage_error("%s", cmd->missing);
		if (cmd->nargs == 1)
			return usage_error("%s takes one target", cmd->name);
		return usage_error("%s takes no arguments", cmd->name);
	}
	if (cli->interval_set && !cmd->local)
		return usage_error("--interval only applies to diagnose");
	if (cli->since_set && !cmd->takes_since)
		return usage_error("--since only applies to findings");
	if (cli->netns && cmd->whole_text)
		return usage_error("--netns does not apply to %s: every series has a netns label", cmd->name);
	if (cli->netns && cmd->local)
		return usage_error("--netns does not apply to diagnose: it samples the namespace it runs in "
				   "(run it under ip netns exec or nsenter -n)");
	return -1;
}

int main(int argc, char **argv)
{
	struct cli cli = { .socket_path = CONFIG_DEFAULT_SOCKET, .interval_s = DEFAULT_INTERVAL_S };
	const struct cli_command *cmd;
	char **words;
	size_t nwords;
	int status;

	/*
	 * The terminal's character set, for top's screen and the sparklines'
	 * block characters; only LC_CTYPE, so that numbers keep their '.'
	 * whatever the user's LC_NUMERIC.
	 */
	setlocale(LC_CTYPE, "");
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
	status = check_usage(&cli, cmd, nwords - 1);
	if (status >= 0)
		goto out;
	if (cmd->local)
		status = run_local_command(&cli, cmd);
	else if (cmd->live && !cli.json)
		status = top_run(cli.socket_path, cli.netns);
	else
		status = run_daemon_command(&cli, cmd, cmd->nargs ? words[1] : NULL);
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
