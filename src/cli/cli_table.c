#include "cli/cli_table.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

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

/* Copy a cell, turning control characters (C0, DEL and the C1 controls U+0080 to U+009F, which terminals also
 * obey) into spaces so a cell never breaks a line or moves the cursor; trailing blanks go. */
static char *clean_copy(const char *s)
{
	const unsigned char *in = (const unsigned char *)(s ? s : "");
	char *copy = xmalloc(strlen((const char *)in) + 1);
	size_t len = 0;

	while (*in) {
		if (*in < 0x20 || *in == 0x7f) {
			copy[len++] = ' ';
			in++;
		} else if (in[0] == 0xc2 && in[1] >= 0x80 && in[1] <= 0x9f) {
			copy[len++] = ' ';
			in += 2;
		} else {
			copy[len++] = (char)*in++;
		}
	}
	while (len > 0 && copy[len - 1] == ' ')
		len--;
	copy[len] = '\0';
	return copy;
}

/* The columns the first character of s takes on a terminal (0 for a combining mark or a zero-width character,
 * 2 for a wide one), its length in bytes in *len. Bytes the locale cannot decode (any non-ASCII byte in a locale
 * that is not UTF-8) count one column per UTF-8 sequence; a character the locale deems non-printable, one. */
static int char_width(const char *s, size_t *len)
{
	mbstate_t state;
	wchar_t wc;
	size_t n;
	int w;

	memset(&state, 0, sizeof(state));
	n = mbrtowc(&wc, s, strnlen(s, MB_LEN_MAX), &state);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		n = 1;
		while (((unsigned char)s[n] & 0xc0) == 0x80)
			n++;
		*len = n;
		return 1;
	}
	*len = n;
	w = wcwidth(wc);
	return w < 0 ? 1 : w;
}

/* The columns s takes on a terminal. */
static size_t display_width(const char *s)
{
	size_t width = 0, len;

	for (; *s; s += len)
		width += (size_t)char_width(s, &len);
	return width;
}

/* The longest prefix of s that fits in max columns, with the zero-width characters that follow its last
 * character (combining marks stay with their base). Returns its length in bytes; its width goes to *width. */
static size_t fitting_prefix(const char *s, size_t max, size_t *width)
{
	size_t i = 0, w = 0, len;

	while (s[i]) {
		size_t cw = (size_t)char_width(s + i, &len);
		if (w + cw > max)
			break;
		w += cw;
		i += len;
	}
	*width = w;
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

/* Append one cell, cut to the column limit, padded to width columns unless it is the last on its line. */
static int render_cell(const struct cli_table *t, size_t col, const char *cell, size_t width, bool last,
    struct buf *out)
{
	size_t w = display_width(cell), max = t->max_width[col];
	int rc;

	if (max && w > max) {
		size_t n = fitting_prefix(cell, max - ELLIPSIS_LEN, &w);
		rc = buf_append(out, cell, n);
		if (rc == 0)
			rc = buf_puts(out, ELLIPSIS);
		w += ELLIPSIS_LEN; /* max, or one less when a wide character did not fit */
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
