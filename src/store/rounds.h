/* Dependency rounds in the store: for each dependent job, which parents have succeeded since it last ran, and
 * with which run. Written in the same transaction as the parent's outcome, so a restart loses no round. */
#ifndef GNOMON_STORE_ROUNDS_H
#define GNOMON_STORE_ROUNDS_H

struct store;

/* Record that parent's run task_id counts for child's current round (replacing an earlier one of parent). */
int store_round_put(struct store *s, const char *child, const char *parent, const char *task_id)
    __attribute__((warn_unused_result));
/* Forget one parent's entry (the edge is gone) or, with parent NULL, the child's whole round. */
int store_round_clear(struct store *s, const char *child, const char *parent) __attribute__((warn_unused_result));
/* Call fn for every entry; stops at fn's first non-zero value and returns it. */
int store_load_rounds(struct store *s, int (*fn)(void *ctx, const char *child, const char *parent,
    const char *task_id), void *ctx) __attribute__((warn_unused_result));

#endif
