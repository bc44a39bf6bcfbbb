/* SPDX-License-Identifier: MIT */
/*
 * table.c - aligned text tables for nestctl's human output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nestctl.h"

#define TABLE_COLS_MAX 16

struct nestctl_table {
	size_t ncols;
	char *headers[TABLE_COLS_MAX];
	bool right[TABLE_COLS_MAX];
	char **cells; /* nrows * ncols */
	size_t nrows;
	size_t cap;
};

struct nestctl_table *nestctl_table_new(const char *const *headers, size_t ncols)
{
	struct nestctl_table *t;

	if (ncols == 0 || ncols > TABLE_COLS_MAX)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ncols = ncols;
	for (size_t i = 0; i < ncols; i++) {
		t->headers[i] = strdup(headers[i]);
		if (!t->headers[i])
			return nestctl_table_free(t);
	}
	return t;
}

void nestctl_table_align_right(struct nestctl_table *t, size_t col)
{
	if (t && col < t->ncols)
		t->right[col] = true;
}

int nestctl_table_add(struct nestctl_table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **n = realloc(t->cells, cap * t->ncols * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->cells = n;
		t->cap = cap;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		char **slot = &t->cells[t->nrows * t->ncols + i];

		*slot = strdup(cells[i] ? cells[i] : "-");
		if (!*slot) {
			for (size_t j = 0; j < i; j++)
				free(t->cells[t->nrows * t->ncols + j]);
			return -ENOMEM;
		}
	}
	t->nrows++;
	return 0;
}

size_t nestctl_table_rows(const struct nestctl_table *t)
{
	return t ? t->nrows : 0;
}

static void table_print_row(const struct nestctl_table *t, char *const *row, const size_t *w)
{
	for (size_t i = 0; i < t->ncols; i++) {
		bool last = i + 1 == t->ncols;
		int width = (int)w[i];

		if (t->right[i])
			printf("%*s", width, row[i]);
		else if (last)
			fputs(row[i], stdout); /* no trailing blanks */
		else
			printf("%-*s", width, row[i]);
		fputs(last ? "\n" : "  ", stdout);
	}
}

void nestctl_table_print(const struct nestctl_table *t, bool legend)
{
	size_t w[TABLE_COLS_MAX] = {0};

	for (size_t i = 0; i < t->ncols; i++) {
		if (legend)
			w[i] = strlen(t->headers[i]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t l = strlen(t->cells[r * t->ncols + i]);

			if (l > w[i])
				w[i] = l;
		}
	}
	if (legend)
		table_print_row(t, t->headers, w);
	for (size_t r = 0; r < t->nrows; r++)
		table_print_row(t, &t->cells[r * t->ncols], w);
}

struct nestctl_table *nestctl_table_free(struct nestctl_table *t)
{
	if (!t)
		return NULL;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	for (size_t i = 0; i < t->ncols; i++)
		free(t->headers[i]);
	free(t);
	return NULL;
}

void nestctl_footer(const struct nestctl *ctl, size_t n, const char *singular, const char *plural)
{
	if (!ctl->legend)
		return;
	printf("\n%zu %s listed.\n", n, n == 1 ? singular : plural);
}
