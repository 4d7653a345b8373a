/* table.h: backlogctl's aligned tables and the text that goes around them. */
#ifndef BACKLOGCTL_TABLE_H
#define BACKLOGCTL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TABLE_MAX_COLS 8
#define CELL_MAX 256

struct table {
	size_t ncols;
	const char *const *head;
	const char *align;        /* one 'l' or 'r' per column */
	char **cells;             /* nrows * ncols strings */
	size_t nrows;
	size_t cap;
	size_t width[TABLE_MAX_COLS];
};

/* Start an empty table: one column per letter of align ('l' or 'r'), head its titles. */
void table_init(struct table *t, const char *const *head, const char *align);
/* Add a row (copied). Out of memory drops the row: output is best effort. Return: true when added. */
bool table_add(struct table *t, char cells[][CELL_MAX]);
void table_free(struct table *t);
void table_print_head(FILE *out, const struct table *t);
void table_print_row(FILE *out, const struct table *t, size_t i);
/* The head, then every row. */
void table_print(FILE *out, const struct table *t);

/* Return: the columns s takes on a terminal (UTF-8 characters, not bytes). */
size_t display_width(const char *s);
/* Copy s into buf, control characters (a newline in a comm) made harmless for a table. */
void copy_clean(char *buf, size_t len, const char *s);

/* Return: the terminal's width when out is one, 0 (no wrapping) for pipes and files. */
size_t term_width(FILE *out);
/*
 * Print indent spaces, prefix, then text, folding text at spaces to fit
 * width with continuation lines hung under the start of text. width 0
 * prints one line, so that piped output stays one record per line.
 */
void print_wrapped(FILE *out, size_t indent, const char *prefix, const char *text, size_t width);
/*
 * print_wrapped for a text that may hold several lines (a finding's detail
 * is a list): each line is wrapped on its own, the later ones hung under
 * the first instead of repeating prefix.
 */
void print_wrapped_lines(FILE *out, size_t indent, const char *prefix, const char *text, size_t width);

#endif
