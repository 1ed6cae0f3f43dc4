/* Helper threads that run the calls of one batch in parallel with the calling thread. exec uses them to spawn
 * several tasks at once: a posix_spawn holds its thread until the child has exec'd (0.2-1 ms here), so the
 * seventh child of a fan-out would otherwise wait for six spawns in a row. The calls must not touch anything the
 * calling thread owns except what their batch hands them; the calling thread is inside spawn_pool_run() until
 * all of them have returned, so nothing else runs on it meanwhile. */
#ifndef GNOMON_EXEC_SPAWN_POOL_H
#define GNOMON_EXEC_SPAWN_POOL_H

#include <stddef.h>

struct spawn_pool;

typedef void (*spawn_pool_fn)(void *ctx, size_t i);

/* A pool of `helpers` threads (0: every call runs on the calling thread). Returns 0, or a negative errno when
 * a thread could not be created (nothing to free then). */
int spawn_pool_new(unsigned helpers, struct spawn_pool **out) __attribute__((warn_unused_result));
/* Stop and join the threads; NULL is allowed. Not during spawn_pool_run(). */
void spawn_pool_free(struct spawn_pool *pool);
/* Call fn(ctx, i) once for every i < n, spread over the helpers and the calling thread, and return when every
 * call has returned. pool NULL: the calls run one after the other on the calling thread. One batch at a time:
 * only one thread may use a pool. */
void spawn_pool_run(struct spawn_pool *pool, size_t n, spawn_pool_fn fn, void *ctx);

#endif
