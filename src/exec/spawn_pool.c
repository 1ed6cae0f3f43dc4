#include "exec/spawn_pool.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <uv.h>

#include "util/xmalloc.h"

struct spawn_pool {
	uv_mutex_t lock;      /* guards everything below */
	uv_cond_t work;       /* a batch was posted, or stop */
	uv_cond_t done;       /* a call of the batch returned */
	uv_thread_t *threads;
	unsigned nthreads;
	uint64_t batch;       /* number of the current batch, so a helper joins each batch once */
	spawn_pool_fn fn;
	void *ctx;
	size_t n, next;       /* calls in the batch, and the next one to hand out */
	size_t running;       /* calls handed out that have not returned */
	bool stop;
};

/* Take the batch's calls one by one until none is left; lock held on entry and on return. */
static void drain(struct spawn_pool *p)
{
	while (p->next < p->n) {
		size_t i = p->next++;
		spawn_pool_fn fn = p->fn;
		void *ctx = p->ctx;
		p->running++;
		uv_mutex_unlock(&p->lock);
		fn(ctx, i);
		uv_mutex_lock(&p->lock);
		if (--p->running == 0 && p->next == p->n)
			uv_cond_signal(&p->done);
	}
}

static void helper(void *arg)
{
	struct spawn_pool *p = arg;
	uint64_t seen = 0;

	uv_mutex_lock(&p->lock);
	for (;;) {
		while (!p->stop && (p->batch == seen || p->next == p->n))
			uv_cond_wait(&p->work, &p->lock);
		if (p->stop)
			break;
		seen = p->batch;
		drain(p);
	}
	uv_mutex_unlock(&p->lock);
}

int spawn_pool_new(unsigned helpers, struct spawn_pool **out)
{
	struct spawn_pool *p = xcalloc(1, sizeof(*p));
	int rc;

	*out = NULL;
	if ((rc = uv_mutex_init(&p->lock)) < 0)
		goto fail_lock;
	if ((rc = uv_cond_init(&p->work)) < 0)
		goto fail_work;
	if ((rc = uv_cond_init(&p->done)) < 0)
		goto fail_done;
	p->threads = helpers ? xcalloc(helpers, sizeof(*p->threads)) : NULL;
	for (; p->nthreads < helpers; p->nthreads++) {
		if ((rc = uv_thread_create(&p->threads[p->nthreads], helper, p)) < 0) {
			spawn_pool_free(p);
			return rc;
		}
	}
	*out = p;
	return 0;

fail_done:
	uv_cond_destroy(&p->work);
fail_work:
	uv_mutex_destroy(&p->lock);
fail_lock:
	free(p);
	return rc;
}

void spawn_pool_free(struct spawn_pool *p)
{
	if (!p)
		return;
	uv_mutex_lock(&p->lock);
	p->stop = true;
	uv_cond_broadcast(&p->work);
	uv_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		uv_thread_join(&p->threads[i]);
	free(p->threads);
	uv_cond_destroy(&p->done);
	uv_cond_destroy(&p->work);
	uv_mutex_destroy(&p->lock);
	free(p);
}

void spawn_pool_run(struct spawn_pool *p, size_t n, spawn_pool_fn fn, void *ctx)
{
	if (!p || p->nthreads == 0 || n < 2) {
		for (size_t i = 0; i < n; i++)
			fn(ctx, i);
		return;
	}
	uv_mutex_lock(&p->lock);
	p->fn = fn;
	p->ctx = ctx;
	p->n = n;
	p->next = 0;
	p->running = 0;
	p->batch++;
	uv_cond_broadcast(&p->work);
	drain(p);
	while (p->running > 0)
		uv_cond_wait(&p->done, &p->lock);
	uv_mutex_unlock(&p->lock);
}
