/* table.c: backlogctl's aligned table printer, display widths and word wrapping. */
#include "base.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "safe_text.h"
#include "table.h"

/* Wrapping narrower than this helps nobody; print the long line instead. */
#define WRAP_MIN 40

/* Columns count characters, not bytes: a UTF-8 unit name must not skew the table. */
size_t display_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* A comm or unit name is whatever a local user made it: no terminal escapes reach the screen. */
void copy_clean(char *buf, size_t len, const char *s)
{
	/* buf may be s: safe_text() reads ahead of where it writes. */
	safe_text(buf, len, s, strlen(s));
}

void table_init(struct table *t, const char *const *head, const char *align)
{
	memset(t, 0, sizeof(*t));
	t->ncols = strlen(align);
	if (t->ncols > TABLE_MAX_COLS)
		t->ncols = TABLE_MAX_COLS;
	t->head = head;
	t->align = align;
	for (size_t c = 0; c < t->ncols; c++)
		t->width[c] = display_width(head[c]);
}

bool table_add(struct table *t, char cells[][CELL_MAX])
{
	char **row;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **n = realloc(t->cells, cap * t->ncols * sizeof(*n));

		if (!n)
			return false;
		t->cells = n;
		t->cap = cap;
	}
	row = t->cells + t->nrows * t->ncols;
	for (size_t c = 0; c < t->ncols; c++) {
		row[c] = strdup(cells[c]);
		if (!row[c]) {
			while (c-- > 0)
				free(row[c]);
			return false;
		}
		/* A cell may quote a name from outside whichever renderer filled it. */
		safe_text_inplace(row[c]);
	}
	for (size_t c = 0; c < t->ncols; c++) {
		size_t w = display_width(row[c]);

		if (w > t->width[c])
			t->width[c] = w;
	}
	t->nrows++;
	return true;
}

void table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

static void pad(FILE *out, size_t n)
{
	while (n-- > 0)
		fputc(' ', out);
}

static void table_print_cells(FILE *out, const struct table *t, const char *const *cells)
{
	for (size_t c = 0; c < t->ncols; c++) {
		size_t w = display_width(cells[c]);
		size_t fill = t->width[c] > w ? t->width[c] - w : 0;
		bool last = c + 1 == t->ncols;

		if (c > 0)
			fputs("  ", out);
		if (t->align[c] == 'r')
			pad(out, fill);
		fputs(cells[c], out);
		/* No trailing blanks after the last column: they annoy diff and grep. */
		if (t->align[c] != 'r' && !last)
			pad(out, fill);
	}
	fputc('\n', out);
}

void table_print_head(FILE *out, const struct table *t)
{
	table_print_cells(out, t, t->head);
}

void table_print_row(FILE *out, const struct table *t, size_t i)
{
	table_print_cells(out, t, (const char *const *)(t->cells + i * t->ncols));
}

void table_print(FILE *out, const struct table *t)
{
	table_print_head(out, t);
	for (size_t i = 0; i < t->nrows; i++)
		table_print_row(out, t, i);
}

size_t term_width(FILE *out)
{
	struct winsize ws;
	int fd = fileno(out);

	if (fd < 0 || !isatty(fd))
		return 0;
	if (ioctl(fd, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0)
		return 80;
	return ws.ws_col;
}

static void print_wrapped_clean(FILE *out, size_t indent, const char *prefix, const char *text, size_t width);

/* The text quotes names from outside (a comm in a subject): neutralised before it is laid out. */
void print_wrapped(FILE *out, size_t indent, const char *prefix, const char *text, size_t width)
{
	char *clean = strdup(text);

	if (!clean) {
		pad(out, indent);
		fprintf(out, "%s?\n", prefix);
		return;
	}
	safe_text_inplace(clean);
	print_wrapped_clean(out, indent, prefix, clean, width);
	free(clean);
}

static void print_wrapped_clean(FILE *out, size_t indent, const char *prefix, const char *text, size_t width)
{
	size_t hang = indent + display_width(prefix);
	size_t room = width > hang ? width - hang : 0;
	const char *p = text;

	pad(out, indent);
	fputs(prefix, out);
	if (width == 0 || room < WRAP_MIN) {
		for (; *p; p++)
			fputc((unsigned char)*p < 0x20 ? ' ' : *p, out);
		fputc('\n', out);
		return;
	}
	while (*p) {
		size_t used = 0, cut = 0, i;

		while (*p == ' ')
			p++;
		/* Find the last space within room; a word longer than room is cut hard. */
		for (i = 0; p[i]; i++) {
			if (((unsigned char)p[i] & 0xc0) != 0x80)
				used++;
			if (used > room)
				break;
			if (p[i] == ' ')
				cut = i;
		}
		if (!p[i])
			cut = i;
		else if (cut == 0)
			cut = i;
		for (size_t k = 0; k < cut; k++)
			fputc((unsigned char)p[k] < 0x20 ? ' ' : p[k], out);
		fputc('\n', out);
		p += cut;
		while (*p == ' ')
			p++;
		if (*p)
			pad(out, hang);
	}
}

void print_wrapped_lines(FILE *out, size_t indent, const char *prefix, const char *text, size_t width)
{
	size_t hang = display_width(prefix);
	const char *p = text;
	bool first = true;

	do {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *line = strndup(p, n);

		/* Blank lines inside a list say nothing; out of memory prints nothing rather than crash. */
		if (line && (n > 0 || first))
			print_wrapped(out, first ? indent : indent + hang, first ? prefix : "", line, width);
		free(line);
		first = false;
		p = nl ? nl + 1 : NULL;
	} while (p && *p);
}
