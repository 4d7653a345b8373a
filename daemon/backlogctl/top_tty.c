/* top_tty.c: backlogctl top on a terminal (curses: the only file that includes it), or one frame into a pipe. */
#include "base.h"

#include <curses.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "clock.h"
#include "render.h"
#include "render_int.h"
#include "spark.h"
#include "top.h"

/* The daemon is asked at its own tick, but never more often than this. */
#define MIN_REFRESH_MS 250
/* getch() waits this long for a key: the loop's resolution for refreshes and signals. */
#define KEY_WAIT_MS 100
/* Esc alone: 50 ms to tell it from the start of an arrow key's sequence. */
#define ESC_DELAY_MS 50
/* A pipe has no size: this many columns unless $COLUMNS says, and every line of the frame. */
#define PIPE_COLS 80
#define PIPE_ROWS 10000

enum { PAIR_HOT = 1, PAIR_FINDING, PAIR_HEAD };

struct top_tty {
	const char *socket_path;
	struct top_model m;
	bool utf8, colour;
	long long interval_ms;
};

static volatile sig_atomic_t stop_sig;

static void on_stop(int sig)
{
	stop_sig = sig;
}

/*
 * Ask the daemon with its complaints kept in err (the last line, without
 * the program's name) instead of on the screen. Return: the exit status.
 */
static int ask_quiet(const char *path, const json_t *req, json_t **data, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	FILE *was = mem ? client_set_errors(mem) : NULL;
	int status = client_ask(path, req, data);

	if (mem) {
		client_set_errors(was == stderr ? NULL : was);
		fclose(mem);
	}
	err[0] = '\0';
	if (status != EXIT_OK) {
		char none[] = "no reply";
		char *line = buf && *buf ? buf : none;
		size_t n = strlen(line);

		while (n && line[n - 1] == '\n')
			line[--n] = '\0';
		if (strrchr(line, '\n'))
			line = strrchr(line, '\n') + 1;
		if (strncmp(line, PROG ": ", strlen(PROG ": ")) == 0)
			line += strlen(PROG ": ");
		copy_clean(err, errlen, line);
	}
	free(buf);
	return status;
}

/* Ask for a new top document; on failure keep the last one and say why. Return: the exit status. */
static int fetch(struct top_tty *t, bool quiet)
{
	json_t *req = json_pack("{s:s}", "command", "top"), *data = NULL;
	int status;
	long long ms;

	if (!req)
		return EXIT_DAEMON_ERROR;
	if (quiet)
		status = ask_quiet(t->socket_path, req, &data, t->m.error, sizeof(t->m.error));
	else
		status = client_ask(t->socket_path, req, &data);
	json_decref(req);
	if (status == EXIT_OK && !json_is_object(data)) {
		snprintf(t->m.error, sizeof(t->m.error), "the top command gave no document (an older backlogd?)");
		if (!quiet)
			fprintf(stderr, PROG ": backlogd gave no top document (an older version?)\n");
		status = EXIT_DAEMON_ERROR;
	}
	if (status == EXIT_OK) {
		if (top_model_set(&t->m, data) < 0)
			snprintf(t->m.error, sizeof(t->m.error), "out of memory");
		if (jget_int(data, "interval_ms", &ms) && ms > 0)
			t->interval_ms = ms;
	}
	json_decref(data);
	return status;
}

/* ---- a pipe: one frame ---- */

static int print_frame(struct top_tty *t)
{
	const char *env = getenv("COLUMNS");
	long cols = env ? strtol(env, NULL, 10) : 0;
	struct top_frame f;

	if (cols < 20 || cols > 1000)
		cols = PIPE_COLS;
	if (top_frame_render(&f, &t->m, PIPE_ROWS, (size_t)cols, t->utf8) < 0) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_DAEMON_ERROR;
	}
	/* A pipe keeps no screen: no blank lines to fill one, no keys to offer. */
	for (size_t i = 0; i < f.n; i++)
		if (f.kind[i] != TOP_LINE_FILL && f.kind[i] != TOP_LINE_STATUS)
			puts(f.line[i]);
	top_frame_free(&f);
	return EXIT_OK;
}

/* ---- the terminal ---- */

static attr_t line_attr(const struct top_tty *t, unsigned char kind)
{
	switch (kind) {
	case TOP_LINE_HEAD:
		return A_BOLD | (t->colour ? COLOR_PAIR(PAIR_HEAD) : 0);
	case TOP_LINE_ROW_HOT:
		return t->colour ? COLOR_PAIR(PAIR_HOT) : A_BOLD;
	case TOP_LINE_ROW_SEL:
	case TOP_LINE_STATUS:
		return A_REVERSE;
	case TOP_LINE_FINDING:
		return t->colour ? COLOR_PAIR(PAIR_FINDING) : A_NORMAL;
	default:
		return A_NORMAL;
	}
}

static void draw(struct top_tty *t)
{
	struct top_frame f;
	int rows, cols;

	getmaxyx(stdscr, rows, cols);
	erase();
	if (rows > 0 && cols > 0 && top_frame_render(&f, &t->m, (size_t)rows, (size_t)cols, t->utf8) == 0) {
		for (size_t i = 0; i < f.n; i++) {
			attrset(line_attr(t, f.kind[i]));
			mvaddnstr((int)i, 0, f.line[i], -1);
			/* The reverse bar of the selection and the status line spans the screen. */
			if (f.kind[i] == TOP_LINE_STATUS || f.kind[i] == TOP_LINE_ROW_SEL)
				for (int x = getcurx(stdscr); x < cols - 1 && x >= 0; x++)
					addch(' ');
		}
		attrset(A_NORMAL);
		t->m.page = f.list_rows ? f.list_rows : 1;
		top_frame_free(&f);
	}
	refresh();
}

/* Curses's key codes as the model knows them. */
static int map_key(int ch)
{
	switch (ch) {
	case KEY_UP: return TOP_KEY_UP;
	case KEY_DOWN: return TOP_KEY_DOWN;
	case KEY_PPAGE: return TOP_KEY_PGUP;
	case KEY_NPAGE: return TOP_KEY_PGDN;
	case KEY_HOME: return TOP_KEY_HOME;
	case KEY_END: return TOP_KEY_END;
	case KEY_ENTER: return TOP_KEY_ENTER;
	case KEY_BACKSPACE: return TOP_KEY_BACKSPACE;
	default: return ch;
	}
}

/* ---- Enter: the selected listener's explain, paged ---- */

/* The explain text, or why there is none, as malloc'd text. */
static char *explain_text(struct top_tty *t, const struct top_row *r)
{
	json_t *req = json_pack("{s:s, s:s}", "command", "explain", "target", r->target), *data = NULL;
	char err[CELL_MAX], *buf = NULL;
	size_t len = 0;
	FILE *mem;
	int status;

	if (!req)
		return NULL;
	status = ask_quiet(t->socket_path, req, &data, err, sizeof(err));
	json_decref(req);
	mem = open_memstream(&buf, &len);
	if (!mem) {
		json_decref(data);
		return NULL;
	}
	if (status == EXIT_OK)
		render_explain(mem, data);
	else
		fprintf(mem, "explain %s: %s\n", r->target, err);
	json_decref(data);
	fclose(mem);
	return buf;
}

/* Show text a screen at a time: Space, Down and PgDn go on, any other key returns. */
static void page_text(const char *text)
{
	const char *p = text;
	int rows, cols, ch;

	for (;;) {
		getmaxyx(stdscr, rows, cols);
		erase();
		for (int y = 0; y < rows - 1 && p && *p; y++) {
			char line[1024];
			const char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);
			char *one = strndup(p, n);
			size_t took;

			if (!one)
				break;
			/* A line wider than the screen goes on under itself. */
			took = top_fit(line, sizeof(line), one, (size_t)(cols > 0 ? cols : 1));
			free(one);
			mvaddstr(y, 0, line);
			p = took < n ? p + (took ? took : n) : nl ? nl + 1 : NULL;
		}
		attrset(A_REVERSE);
		mvaddstr(rows - 1, 0, p && *p ? "Space: more, any other key: back" : "any key: back");
		attrset(A_NORMAL);
		refresh();
		do
			ch = getch();
		while (ch == ERR && !stop_sig);
		if (stop_sig || !(p && *p) || (ch != ' ' && ch != KEY_NPAGE && ch != KEY_DOWN))
			return;
	}
}

static void show_explain(struct top_tty *t)
{
	const struct top_row *r = top_selected(&t->m);
	char *text = r ? explain_text(t, r) : NULL;

	if (text)
		page_text(text);
	free(text);
}

/* ---- the loop ---- */

static void start_colours(struct top_tty *t)
{
	const char *no = getenv("NO_COLOR");

	/* https://no-color.org: set and not empty means no colour. */
	t->colour = has_colors() && !(no && *no);
	if (!t->colour)
		return;
	start_color();
	use_default_colors();
	init_pair(PAIR_HOT, COLOR_RED, -1);
	init_pair(PAIR_FINDING, COLOR_YELLOW, -1);
	init_pair(PAIR_HEAD, COLOR_CYAN, -1);
}

static void run_loop(struct top_tty *t)
{
	int64_t next = clock_mono_ms() + (t->interval_ms > MIN_REFRESH_MS ? t->interval_ms : MIN_REFRESH_MS);
	bool dirty = true;

	while (!stop_sig) {
		int64_t now = clock_mono_ms();
		int ch;

		if (now >= next) {
			fetch(t, true);
			next = now + (t->interval_ms > MIN_REFRESH_MS ? t->interval_ms : MIN_REFRESH_MS);
			dirty = true;
		}
		if (dirty)
			draw(t);
		dirty = false;
		ch = getch();
		if (ch == ERR)
			continue;
		dirty = true;
		if (ch == KEY_RESIZE)
			continue;
		switch (top_key(&t->m, map_key(ch))) {
		case TOP_ACT_QUIT:
			return;
		case TOP_ACT_EXPLAIN:
			show_explain(t);
			break;
		case TOP_ACT_NONE:
			dirty = false;
			break;
		default:
			break;
		}
	}
}

/* Curses on the terminal of stdin and stdout. Return: the exit status, 128 + the signal that stopped it. */
static int run_terminal(struct top_tty *t)
{
	struct sigaction sa;
	SCREEN *scr;

	/* Ours before curses starts: ncurses installs its own (which exit 1) only where none is set. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* newterm, not initscr: initscr exits on an unknown $TERM; here a plain frame is printed instead. */
	scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		const char *term = getenv("TERM");
		char clean[64];

		copy_clean(clean, sizeof(clean), term ? term : "(unset)");
		fprintf(stderr, PROG ": cannot drive the terminal (TERM=%s): one frame instead\n", clean);
		return print_frame(t);
	}
	set_escdelay(ESC_DELAY_MS);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	timeout(KEY_WAIT_MS);
	start_colours(t);
	run_loop(t);
	/* Every way out restores the terminal: the alternate screen off, the cursor back, echo on. */
	endwin();
	delscreen(scr);
	return stop_sig ? 128 + stop_sig : EXIT_OK;
}

int top_run(const char *socket_path, const char *netns)
{
	struct top_tty t = { .socket_path = socket_path, .interval_ms = 1000 };
	int status;

	/* main() took LC_CTYPE from the environment: curses and the sparklines follow it. */
	t.utf8 = spark_utf8();
	top_model_init(&t.m);
	if (netns)
		snprintf(t.m.ns_filter, sizeof(t.m.ns_filter), "%s", netns);
	/* The first answer decides: a daemon that is not there is an error, as for every command. */
	status = fetch(&t, false);
	if (status == EXIT_OK) {
		if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
			status = run_terminal(&t);
		else
			status = print_frame(&t);
	}
	top_model_done(&t.m);
	return status;
}
