/* What a follower gathers of the changes the leader announces (store/pg_store.h's pg_changes) before it reads
 * them again (pg_store_refresh), and how it brings its registry up to date with the jobs read again, one by one
 * instead of all of them (server_pg.c).
 *
 * Threads: the loop thread only. */
#ifndef GNOMON_SERVER_SERVER_FOLLOW_H
#define GNOMON_SERVER_SERVER_FOLLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "store/pg_store.h"

struct follow_keys;
struct job_defaults;
struct registry;

#define FOLLOW_KEYS_MAX 10000 /* more keys gathered: everything is loaded again instead */

struct follow_keys *follow_keys_new(void);
void follow_keys_free(struct follow_keys *k);
/* Add the keys of a payload ("j NAME", "r TASKID", "d CHILD", "e" lines), each once. Returns false when they
 * ask for everything ("*", an unknown line, more than FOLLOW_KEYS_MAX keys): load everything then. */
bool follow_keys_add(struct follow_keys *k, const char *payload);
bool follow_keys_empty(const struct follow_keys *k);
/* The keys, as pg_store_refresh takes them (pointing into k: keep it until the refresh's done). */
void follow_keys_view(const struct follow_keys *k, struct pg_refresh_keys *out);
/* Put the jobs of k as the copy (mirror) now holds them into reg, remove those it no longer holds, and relink
 * every edge when one was added or removed (a replaced job keeps its edges). Returns how many were put or
 * removed. */
size_t follow_apply_jobs(const struct follow_keys *k, struct state *mirror, struct registry *reg,
    const struct job_defaults *defaults, int64_t now_ms);

#endif
