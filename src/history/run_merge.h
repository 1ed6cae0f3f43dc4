/* Both streams of a run as one text in the order their lines came (GET /api/v1/runs/{id}/log?stream=both): the
 * order record (src/exec/exec_order.h) places the bytes of the two capture files. Pure: no I/O. */
#ifndef GNOMON_HISTORY_RUN_MERGE_H
#define GNOMON_HISTORY_RUN_MERGE_H

#include <stddef.h>

struct buf;

/* Append the lines of stdout (data[0], len[0] bytes) and stderr (data[1]) to out, each as "1 " (stdout) or "2 "
 * (stderr), the line, "\n". A line takes its place when its newline arrives; the runs of the order record (order,
 * order_len bytes; a trailing part entry is ignored) place the bytes; what they do not place yet (a running task's
 * last bytes, or all of them without a record) follows, stdout's then stderr's, and each stream's last line without
 * a newline ends it all. 0, or -E2BIG (out's limit). */
int run_merge(const char *order, size_t order_len, const char *const data[2], const size_t len[2], struct buf *out)
    __attribute__((warn_unused_result));

#endif
