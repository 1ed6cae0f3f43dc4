#include "cli/cli_table.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/xmalloc.h"

#define COLUMN_GAP 2
#define ELLIPSIS "..."
#define ELLIPSIS_LEN 3

struct cli_table {
	size_t ncols;
	size_t *max_width; /* per column, 0 for no limit */
	char **cells;      /* row-major, (nrows + 1) * ncols; row 0 is the header */
	size_t nrows;      /* data rows, header excluded */
	size_t cap;        /* rows allocated, header included */
};

/* Resize the cell storage to rows * ncols cells (at least one, so it is never NULL). */
static char **xreallocarray_cells(char **cells, size_t rows, size_t ncols)
{
	size_t n = rows * (ncols ? ncols : 1);

	return xrealloc(cells, n * sizeof(*cells));
}

/* Copy a cell, turning control characters into spaces so a cell never breaks a line; trailing blanks go. */
static char *clean_copy(const char *s)
{
	char *copy = xstrdup(s ? s : "");
	size_t len = strlen(copy);

	for (char *p = copy; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	while (len > 0 && copy[len - 1] == ' ')
		copy[--len] = '\0';
	return copy;
}

/* Number of UTF-8 code points in s. */
static size_t display_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Byte length of the first k code points of s. */
static size_t prefix_bytes(const char *s, size_t k)
{
	size_t i = 0;

	while (s[i] && k > 0) {
		i++;
		while (((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		k--;
	}
	return i;
}

/* Store a copy of cells as row number row (0 is the header), growing the storage as needed. */
static void store_row(struct cli_table *t, size_t row, const char *const *cells)
{
	if (row >= t->cap) {
		t->cap = t->cap ? t->cap * 2 : 8;
		t->cells = xreallocarray_cells(t->cells, t->cap, t->ncols);
	}
	for (size_t c = 0; c < t->ncols; c++)
		t->cells[row * t->ncols + c] = clean_copy(cells[c]);
}

struct cli_table *cli_table_new(size_t ncols, const char *const *headers)
{
	struct cli_table *t = xcalloc(1, sizeof(*t));

	t->ncols = ncols;
	t->max_width = xcalloc(ncols ? ncols : 1, sizeof(*t->max_width));
	store_row(t, 0, headers);
	return t;
}

void cli_table_free(struct cli_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < (t->nrows + 1) * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->max_width);
	free(t);
}

void cli_table_set_max_width(struct cli_table *t, size_t col, size_t max)
{
	if (col < t->ncols)
		t->max_width[col] = max && max < ELLIPSIS_LEN + 1 ? ELLIPSIS_LEN + 1 : max;
}

void cli_table_add_row(struct cli_table *t, const char *const *cells)
{
	store_row(t, t->nrows + 1, cells);
	t->nrows++;
}

size_t cli_table_rows(const struct cli_table *t)
{
	return t->nrows;
}

/* Width a cell takes in column col once cut. */
static size_t cell_width(const struct cli_table *t, size_t col, const char *cell)
{
	size_t w = display_width(cell);

	return t->max_width[col] && w > t->max_width[col] ? t->max_width[col] : w;
}

/* Append one cell, cut to the column limit, padded to width unless it is the last on its line. */
static int render_cell(const struct cli_table *t, size_t col, const char *cell, size_t width, bool last,
    struct buf *out)
{
	size_t w = display_width(cell), max = t->max_width[col];
	int rc;

	if (max && w > max) {
		rc = buf_append(out, cell, prefix_bytes(cell, max - ELLIPSIS_LEN));
		if (rc == 0)
			rc = buf_puts(out, ELLIPSIS);
		w = max;
	} else {
		rc = buf_puts(out, cell);
	}
	if (rc == 0 && !last)
		rc = buf_printf(out, "%*s", (int)(width - w + COLUMN_GAP), "");
	return rc;
}

int cli_table_render(const struct cli_table *t, struct buf *out)
{
	size_t *widths = xcalloc(t->ncols ? t->ncols : 1, sizeof(*widths));
	int rc = 0;

	for (size_t r = 0; r <= t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t w = cell_width(t, c, t->cells[r * t->ncols + c]);
			if (w > widths[c])
				widths[c] = w;
		}
	for (size_t r = 0; r <= t->nrows && rc == 0; r++) {
		char *const *row = t->cells + r * t->ncols;
		size_t last = t->ncols;

		/* Stop at the last non-empty cell so no line ends in padding. */
		while (last > 1 && row[last - 1][0] == '\0')
			last--;
		for (size_t c = 0; c < last && rc == 0; c++)
			rc = render_cell(t, c, row[c], widths[c], c + 1 == last, out);
		if (rc == 0)
			rc = buf_puts(out, "\n");
	}
	free(widths);
	return rc;
}
