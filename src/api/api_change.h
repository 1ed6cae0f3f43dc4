/* A change made through control (a job put or deleted, many jobs put) for an HTTP request: tried again while the
 * engine's earlier commit is in flight (the command's -EBUSY, every API_CHANGE_RETRY_MS, for at most
 * API_CHANGE_TRIES tries, then 503), and answered once it is durable, which with PostgreSQL comes after the
 * command returned: the request's answer is deferred until then. */
#ifndef GNOMON_API_API_CHANGE_H
#define GNOMON_API_API_CHANGE_H

#include <jansson.h>
#include <stddef.h>

#include "api/api.h"

#define API_CHANGE_RETRY_MS 5
#define API_CHANGE_TRIES 2000 /* 10 s */

struct api_change;
struct http_request;

/* Make the change: call the control command with an answer callback that ends in api_change_answered(ch, ...).
 * Returns the command's result (-EBUSY: tried again later), with a message in err on an error. */
typedef int (*api_change_try_fn)(struct api_change *ch, void *ctx, const char *body, size_t len, char *err,
    size_t errlen);

/* Start the change for req (its body read): try(ch, ctx, ...) now, and again while it answers -EBUSY; free_ctx(ctx)
 * when it is over (NULL: nothing to free). */
void api_change_start(struct api_env *env, struct http_request *req, api_change_try_fn try, void *ctx,
    void (*free_ctx)(void *ctx));
/* The command's answer: status < 0, the change could not be stored (an error answer); else 204 without a body
 * (body NULL), or 200 with body (taken). Once per change, from inside the command or later. */
void api_change_answered(struct api_change *ch, int status, json_t *body);
/* The answer with a body is 201 Created rather than 200. */
void api_change_created(struct api_change *ch);

#endif
