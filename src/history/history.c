#include "history/history.h"

#include <errno.h>

int history_record(struct history *h, const struct run_record *r, history_done_fn done, void *ctx)
{
	if (!run_status_is_final(r->status))
		return -EINVAL;
	return h->ops->record(h, r, done, ctx);
}

int history_get(struct history *h, const char *task_id, struct run_record *out)
{
	return h->ops->get(h, task_id, out);
}

int history_list(struct history *h, const char *job, const char *cursor, int limit, history_run_fn fn, void *ctx,
    char next[HISTORY_CURSOR_MAX])
{
	return h->ops->list(h, job, cursor, limit, fn, ctx, next);
}

int history_recent(struct history *h, enum history_recent kind, int limit, history_run_fn fn, void *ctx)
{
	return h->ops->recent(h, kind, limit, fn, ctx);
}

int history_window(struct history *h, int64_t from_ms, int64_t to_ms, int limit, history_run_fn fn, void *ctx)
{
	return h->ops->window(h, from_ms, to_ms, limit, fn, ctx);
}

int history_durations(struct history *h, const char *job, int max,
    void (*fn)(void *ctx, const char *job, const int64_t *ms, int n), void *ctx)
{
	return h->ops->durations(h, job, max, fn, ctx);
}

int history_prune(struct history *h, const struct history_retention *keep, history_removed_fn removed,
    history_done_fn done, void *ctx)
{
	return h->ops->prune(h, keep, removed, done, ctx);
}

int history_delete_job(struct history *h, const char *job, history_removed_fn removed, history_done_fn done,
    void *ctx)
{
	return h->ops->delete_job(h, job, removed, done, ctx);
}

const char *history_errmsg(const struct history *h)
{
	return h->ops->errmsg(h);
}

void history_free(struct history *h)
{
	if (h)
		h->ops->free(h);
}
