#include "history/run_merge.h"

#include <string.h>

#include "exec/exec_order.h"
#include "util/buf.h"

struct merge {
	const char *const *data;
	const size_t *len;
	size_t pos[2];   /* bytes of each stream placed */
	size_t start[2]; /* where each stream's current line starts */
	struct buf *out;
	int rc;
};

static void put_line(struct merge *m, int s, size_t end)
{
	static const char *const tag[] = {"1 ", "2 "};

	if (m->rc == 0)
		m->rc = buf_puts(m->out, tag[s]);
	if (m->rc == 0)
		m->rc = buf_append(m->out, m->data[s] + m->start[s], end - m->start[s]);
	if (m->rc == 0)
		m->rc = buf_append(m->out, "\n", 1);
}

/* Place the next n bytes of stream s (fewer when the file holds fewer). */
static void place(struct merge *m, int s, size_t n)
{
	size_t end = m->len[s] - m->pos[s] < n ? m->len[s] : m->pos[s] + n;

	for (const char *p = m->data[s] + m->pos[s], *e = m->data[s] + end; p < e;) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		if (!nl)
			break;
		put_line(m, s, (size_t)(nl - m->data[s]));
		m->start[s] = (size_t)(nl - m->data[s]) + 1;
		p = nl + 1;
	}
	m->pos[s] = end;
}

int run_merge(const char *order, size_t order_len, const char *const data[2], const size_t len[2], struct buf *out)
{
	struct merge m = {.data = data, .len = len, .out = out};

	for (size_t i = 0; i + ORDER_ENTRY_SIZE <= order_len && m.rc == 0; i += ORDER_ENTRY_SIZE) {
		uint32_t e = order_entry_get((const uint8_t *)order + i);
		place(&m, (e & ORDER_STREAM_BIT) ? 1 : 0, e & ~ORDER_STREAM_BIT);
	}
	for (int s = 0; s < 2; s++)
		place(&m, s, len[s] - m.pos[s]);
	for (int s = 0; s < 2; s++)
		if (m.start[s] < len[s])
			put_line(&m, s, len[s]);
	return m.rc;
}
