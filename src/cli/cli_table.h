/* Aligned plain-text tables for the CLI: a header row, left-aligned columns two spaces apart, cells longer than
 * their column's limit cut with "...". Widths are terminal columns (mbrtowc and wcwidth: a CJK character takes two,
 * a combining mark none), so LC_CTYPE must be a UTF-8 locale (cli_main sets one); in another, each UTF-8 sequence
 * counts one. Pure: rendering goes to a buffer. */
#ifndef GNOMON_CLI_CLI_TABLE_H
#define GNOMON_CLI_CLI_TABLE_H

#include <stddef.h>

#include "util/buf.h"

struct cli_table;

/* A table with ncols columns and these header cells (copied). Free with cli_table_free(). */
struct cli_table *cli_table_new(size_t ncols, const char *const *headers);
void cli_table_free(struct cli_table *t);
/* Cut cells of column col to at most max columns (0: no limit, the default; values under 4 count as 4). */
void cli_table_set_max_width(struct cli_table *t, size_t col, size_t max);
/* Append a row of ncols cells (copied; NULL is an empty cell); control characters become spaces. */
void cli_table_add_row(struct cli_table *t, const char *const *cells);
size_t cli_table_rows(const struct cli_table *t);
/* Append the rendered table, header first, one '\n'-terminated line per row, no trailing blanks. Returns 0 or
 * -E2BIG when out's limit is reached. */
int cli_table_render(const struct cli_table *t, struct buf *out) __attribute__((warn_unused_result));

#endif
