/* top.h: backlogctl top: the model (rows, sort, filters, keys), the frame renderer and the terminal loop. */
#ifndef BACKLOGCTL_TOP_H
#define BACKLOGCTL_TOP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "table.h"

/* The daemon keeps at most this many points of history per listener. */
#define TOP_HISTORY_MAX 60
#define TOP_TEXT_MAX 128
#define TOP_INPUT_MAX 64

/* One listener of the top document, its names already neutralised. */
struct top_row {
	char listener[TOP_TEXT_MAX];
	char comm[TOP_TEXT_MAX];      /* "nginx[812]", "-" when unknown */
	char unit[TOP_TEXT_MAX];
	char ns[TOP_TEXT_MAX];        /* "host", "blue", "inode 4026532000" */
	long long ns_inode;           /* -1 when unknown */
	bool ns_host;
	char target[2 * TOP_TEXT_MAX]; /* what explain is asked for: "4026532000/127.0.0.1:8080" */
	long long queue, backlog;     /* -1 when unknown */
	long long drops_minute;       /* -1 when unknown */
	double drops_per_sec;         /* < 0 when unknown */
	double fill;                  /* queue / backlog, 0 when unknown */
	bool full;
	size_t nq, nd;
	long long hq[TOP_HISTORY_MAX], hd[TOP_HISTORY_MAX];
};

enum top_sort {
	TOP_SORT_BUSIEST,     /* drops in the last minute, then queue fill */
	TOP_SORT_FILL,
	TOP_SORT_DROPS,       /* drops per second */
	TOP_SORT_LISTENER,
	TOP_SORT_NS,
	TOP_SORT_COUNT,
};

enum top_mode {
	TOP_MODE_LIST,
	TOP_MODE_PROMPT_NS,
	TOP_MODE_PROMPT_SEARCH,
};

/* Keys past any byte: the terminal loop maps its own key codes to these. */
enum {
	TOP_KEY_ENTER = '\n',
	TOP_KEY_ESC = 27,
	TOP_KEY_BACKSPACE = 127,
	TOP_KEY_UP = 0x100,
	TOP_KEY_DOWN,
	TOP_KEY_PGUP,
	TOP_KEY_PGDN,
	TOP_KEY_HOME,
	TOP_KEY_END,
};

enum top_action {
	TOP_ACT_NONE,         /* nothing changed */
	TOP_ACT_REDRAW,
	TOP_ACT_QUIT,
	TOP_ACT_EXPLAIN,      /* show the explain of top_selected() */
};

struct top_model {
	json_t *doc;                  /* the latest top document (a reference), NULL before the first */
	struct top_row *rows;         /* every listener of doc */
	size_t nrows;
	size_t *view;                 /* the rows shown, in order: indices into rows */
	size_t nview;
	enum top_sort sort;
	enum top_mode mode;
	char ns_filter[TOP_INPUT_MAX];
	char search[TOP_INPUT_MAX];
	char input[TOP_INPUT_MAX];    /* the prompt's text being typed */
	size_t sel;                   /* index into view */
	size_t page;                  /* rows a page key moves, set by the renderer's layout */
	char error[CELL_MAX];         /* the last failure to reach the daemon, "" when none */
};

/* ---- top_model.c: pure ---- */
void top_model_init(struct top_model *m);
void top_model_done(struct top_model *m);
/*
 * Take a new top document (the model keeps its own reference): rebuild the
 * rows, keep the sort, the filters and the selected listener. Return: 0, or
 * -1 when out of memory (the model then shows no rows).
 */
int top_model_set(struct top_model *m, const json_t *doc);
/* Re-apply sort, filter and search to the rows, keeping the selected listener when it is still shown. */
void top_model_refresh(struct top_model *m);
/* Return: the selected row, NULL when none is shown. */
const struct top_row *top_selected(const struct top_model *m);
/* Return: the sort's label, "busiest", "fill", ... */
const char *top_sort_name(enum top_sort s);
/* Return: what the key does, after its effect on the model. */
enum top_action top_key(struct top_model *m, int key);

/* ---- top_frame.c: pure ---- */
struct top_frame {
	size_t rows, cols;
	size_t n;                     /* lines in use, <= rows */
	char **line;                  /* UTF-8, display width <= cols, no trailing newline */
	unsigned char *kind;          /* enum top_line per line: what the terminal may colour */
	size_t list_rows;             /* lines given to listeners: what a page key moves */
};

enum top_line {
	TOP_LINE_TEXT,
	TOP_LINE_HEAD,                /* the column titles */
	TOP_LINE_ROW,
	TOP_LINE_ROW_HOT,             /* a listener dropping or full */
	TOP_LINE_ROW_SEL,             /* the selected listener */
	TOP_LINE_FINDING,
	TOP_LINE_STATUS,              /* the prompt, the keys or the error */
	TOP_LINE_FILL,                /* blank, keeping the status line at the bottom */
};

/* Return: the display width of UTF-8 s (wcwidth, unknown characters 1, controls 0). */
size_t top_width(const char *s);
/*
 * Copy the start of s that fits cols columns into out (len bytes), controls
 * shown as '?'. Return: the bytes of s taken, for a caller that wraps.
 */
size_t top_fit(char *out, size_t len, const char *s, size_t cols);
/*
 * Lay out one frame of m at rows x cols (the listeners' sparklines with
 * block characters when utf8). Return: 0, or -1 when out of memory.
 */
int top_frame_render(struct top_frame *f, const struct top_model *m, size_t rows, size_t cols, bool utf8);
void top_frame_free(struct top_frame *f);

/* ---- top_tty.c: the terminal ---- */
/*
 * Run the live view against the daemon at socket_path, the namespace filter
 * preset to netns (NULL for none); without a terminal print one frame to
 * stdout. Return: the exit status.
 */
int top_run(const char *socket_path, const char *netns);

#endif
