/* A hash map from NUL-terminated string keys to pointers. Keys are borrowed: the caller keeps each key alive
 * (normally it lives inside the value) until it is removed. Open addressing, linear probing. */
#ifndef GNOMON_UTIL_STRMAP_H
#define GNOMON_UTIL_STRMAP_H

#include <stddef.h>

struct strmap;

struct strmap *strmap_new(void);
/* Frees the map itself, not the values. */
void strmap_free(struct strmap *m);
size_t strmap_count(const struct strmap *m);
void *strmap_get(const struct strmap *m, const char *key);
/* Insert or replace; returns the previous value or NULL. */
void *strmap_put(struct strmap *m, const char *key, void *value);
/* Remove; returns the removed value or NULL. */
void *strmap_remove(struct strmap *m, const char *key);

#endif
